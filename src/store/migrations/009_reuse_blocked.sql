-- 009: validation reuse (BR 4.2.1, BR 3.2.2.4) and blocked keys (issue 7).
--
-- validations: every successful domain validation, one row per name, so
-- that a later order of the same tenant can reuse it within the period the
-- Baseline Requirements allow on the day of issuance. `name` is the name as
-- validated ("*.example.com" for a wildcard, which only DNS validates).
-- Existing orders' validated names are copied in, so that what was
-- validated before the upgrade counts too.
CREATE TABLE validations (
  id           INTEGER PRIMARY KEY,
  tenant_id    INTEGER NOT NULL REFERENCES tenants(id),
  name         TEXT    NOT NULL,
  method       TEXT    NOT NULL CHECK (method IN ('dns', 'file')),
  validated_at INTEGER NOT NULL,
  order_id     INTEGER NOT NULL REFERENCES orders(id)
);
CREATE INDEX validations_lookup ON validations(tenant_id, name, validated_at);
INSERT INTO validations (tenant_id, name, method, validated_at, order_id)
  SELECT o.tenant_id, n.name, n.method, n.validated_at, o.id
  FROM order_names n JOIN orders o ON o.id = n.order_id
  WHERE n.validation_status = 'valid' AND n.validated_at IS NOT NULL
    AND n.method IN ('dns', 'file');

-- an order's name that reuses an earlier validation instead of proving
-- control again says which one
ALTER TABLE order_names ADD COLUMN reused_from INTEGER REFERENCES validations(id);

-- blocked_keys: public keys (SHA-256 of the DER SubjectPublicKeyInfo, lower
-- case hex) that no certificate may carry any more, for every tenant. The
-- hash is unique; the integer id is what events name (events.object_id).
CREATE TABLE blocked_keys (
  id            INTEGER PRIMARY KEY,
  spki_sha256   TEXT    NOT NULL UNIQUE
                        CHECK (length(spki_sha256) = 64 AND spki_sha256 NOT GLOB '*[^0-9a-f]*'),
  blocked_at    INTEGER NOT NULL,
  source        TEXT    NOT NULL CHECK (source IN ('revocation', 'manual', 'key_proof')),
  revocation_id INTEGER REFERENCES revocations(id),
  tenant_id     INTEGER REFERENCES tenants(id),
  blocked_by    TEXT    NOT NULL,
  reason        TEXT,
  CHECK ((source = 'revocation') = (revocation_id IS NOT NULL))
);

-- every certificate's key hash, to find the certificates of a key at once.
-- SQLite cannot hash a PEM: rows made before this migration hold NULL and
-- the service fills them (svc_keys.c, on open and before any lookup by
-- key); '-' marks a stored certificate whose key could not be read.
ALTER TABLE certificates ADD COLUMN spki_sha256 TEXT;
CREATE INDEX certificates_spki ON certificates(spki_sha256);
