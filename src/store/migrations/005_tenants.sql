-- 005: tenants, API keys, and a tenant on every object a user owns.
-- Existing rows belong to the tenant 'default' (id 1), which every database
-- has. Organisation approvals become per tenant (and expire after 398 days,
-- computed from approved_at). Certificate names get a row each, so that a
-- search by name uses an index instead of scanning JSON text.
CREATE TABLE tenants (
  id         INTEGER PRIMARY KEY,
  name       TEXT    NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 63),
  created_at INTEGER NOT NULL
);
INSERT INTO tenants (id, name, created_at) VALUES (1, 'default', strftime('%s','now'));
-- the service's own certificates (its HTTPS listener's): no user's business
INSERT INTO tenants (id, name, created_at) VALUES (2, 'system', strftime('%s','now'));

-- API keys: the secret is stored only as its SHA-256 (it has 256 random
-- bits, so a fast hash is enough); shown once when created.
CREATE TABLE api_keys (
  id           INTEGER PRIMARY KEY,
  tenant_id    INTEGER NOT NULL REFERENCES tenants(id),
  role         TEXT    NOT NULL CHECK (role IN ('user', 'reviewer', 'admin')),
  label        TEXT    NOT NULL DEFAULT '',
  secret_hash  BLOB    NOT NULL CHECK (length(secret_hash) = 32),
  created_at   INTEGER NOT NULL,
  created_by   TEXT    NOT NULL,
  revoked_at   INTEGER
);
CREATE INDEX api_keys_tenant ON api_keys(tenant_id, id);

ALTER TABLE certificates ADD COLUMN tenant_id INTEGER NOT NULL DEFAULT 1 REFERENCES tenants(id);
ALTER TABLE orders       ADD COLUMN tenant_id INTEGER NOT NULL DEFAULT 1 REFERENCES tenants(id);
ALTER TABLE orders       ADD COLUMN created_by TEXT NOT NULL DEFAULT '';
ALTER TABLE reviews      ADD COLUMN tenant_id INTEGER NOT NULL DEFAULT 1 REFERENCES tenants(id);
ALTER TABLE reviews      ADD COLUMN reviewer_key INTEGER;
-- who asked for what is reviewed (the four-eyes rule: never its reviewer)
ALTER TABLE reviews      ADD COLUMN requested_by TEXT NOT NULL DEFAULT '';
ALTER TABLE reissues     ADD COLUMN tenant_id INTEGER NOT NULL DEFAULT 1 REFERENCES tenants(id);
ALTER TABLE revocations  ADD COLUMN tenant_id INTEGER NOT NULL DEFAULT 1 REFERENCES tenants(id);
ALTER TABLE events       ADD COLUMN tenant_id INTEGER NOT NULL DEFAULT 1 REFERENCES tenants(id);

-- keyset pagination per tenant, newest first
CREATE INDEX certificates_tenant     ON certificates(tenant_id, id);
CREATE INDEX certificates_tenant_st  ON certificates(tenant_id, status, id);
CREATE INDEX certificates_tenant_exp ON certificates(tenant_id, not_after);
CREATE INDEX orders_tenant           ON orders(tenant_id, id);
CREATE INDEX events_tenant           ON events(tenant_id, id);
CREATE INDEX reviews_tenant          ON reviews(tenant_id, status, id);

CREATE TABLE certificate_names (
  certificate_id INTEGER NOT NULL REFERENCES certificates(id),
  tenant_id      INTEGER NOT NULL REFERENCES tenants(id),
  name           TEXT    NOT NULL,
  PRIMARY KEY (certificate_id, name)
);
CREATE INDEX certificate_names_name ON certificate_names(tenant_id, name, certificate_id);
INSERT INTO certificate_names (certificate_id, tenant_id, name)
  SELECT DISTINCT c.id, c.tenant_id, j.value FROM certificates c, json_each(c.names) j;

-- organisation approvals belong to the tenant that was reviewed
CREATE TABLE organizations_new (
  tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
  org_hash    TEXT    NOT NULL,
  info        TEXT    NOT NULL,
  review_id   INTEGER REFERENCES reviews(id),
  approved_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, org_hash)
);
INSERT INTO organizations_new (tenant_id, org_hash, info, review_id, approved_at)
  SELECT 1, org_hash, info, review_id, approved_at FROM organizations;
DROP TABLE organizations;
ALTER TABLE organizations_new RENAME TO organizations;

-- the same third-party certificate may be uploaded by two tenants
DROP INDEX certificates_upload;
CREATE UNIQUE INDEX certificates_upload ON certificates(tenant_id, issuer, serial)
  WHERE origin = 'uploaded' AND status <> 'deleted';

-- private-profile orders (the REST API's POST /orders with profile
-- "private") are issued at once: their names need no validation and no
-- CAA check, which order_names must be able to say
CREATE TABLE order_names_new (
  id                INTEGER PRIMARY KEY,
  order_id          INTEGER NOT NULL REFERENCES orders(id),
  name              TEXT    NOT NULL,
  method            TEXT    NOT NULL CHECK (method IN ('dns', 'file', 'none')),
  token             TEXT    NOT NULL,
  value             TEXT    NOT NULL,
  value_expires     INTEGER NOT NULL,
  validation_status TEXT    NOT NULL DEFAULT 'pending'
                            CHECK (validation_status IN ('pending', 'valid', 'invalid',
                                                         'not_required')),
  caa_status        TEXT    NOT NULL DEFAULT 'pending'
                            CHECK (caa_status IN ('pending', 'allowed', 'forbidden', 'error',
                                                  'not_checked')),
  caa_checked_at    INTEGER,
  caa_detail        TEXT,
  failure_code      TEXT,
  failure_message   TEXT,
  validated_at      INTEGER,
  UNIQUE (order_id, name)
);
INSERT INTO order_names_new SELECT id, order_id, name, method, token, value, value_expires,
  validation_status, caa_status, caa_checked_at, caa_detail, failure_code, failure_message,
  validated_at FROM order_names;
DROP TABLE order_names;
ALTER TABLE order_names_new RENAME TO order_names;
