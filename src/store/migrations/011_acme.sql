-- 011: ACME (RFC 8555, issue 8): accounts, external account binding keys,
-- orders and authorizations. A certificate is issued through an ordinary
-- order (table orders) that the ACME order links to once it is finalized,
-- so review, issuance, events and notifications are the service's own.

-- External account binding keys: the HMAC key is stored sealed under the
-- data key (pki_seal, bound to "quill-eab:<kid>"), never in clear.
CREATE TABLE acme_eab_keys (
  kid          TEXT    PRIMARY KEY,
  tenant_id    INTEGER NOT NULL REFERENCES tenants(id),
  hmac_blob    BLOB    NOT NULL,
  label        TEXT    NOT NULL DEFAULT '',
  max_accounts INTEGER NOT NULL DEFAULT 1 CHECK (max_accounts >= 1),
  accounts     INTEGER NOT NULL DEFAULT 0,
  expires_at   INTEGER,
  created_at   INTEGER NOT NULL,
  created_by   TEXT    NOT NULL,
  revoked_at   INTEGER
);

-- Accounts: the key as its canonical RFC 7638 JWK, found by thumbprint.
CREATE TABLE acme_accounts (
  id          INTEGER PRIMARY KEY,
  tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
  jwk         TEXT    NOT NULL,
  thumbprint  TEXT    NOT NULL UNIQUE,
  status      TEXT    NOT NULL CHECK (status IN ('valid', 'deactivated', 'revoked')),
  contact     TEXT    NOT NULL DEFAULT '',   -- one URI per line
  eab_kid     TEXT    REFERENCES acme_eab_keys(kid),
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);

-- Authorizations: one name for one account; the challenge the client chose
-- (http-01, dns-01) is validated by the job workers (claimed with a lease).
CREATE TABLE acme_authzs (
  id           INTEGER PRIMARY KEY,
  account_id   INTEGER NOT NULL REFERENCES acme_accounts(id),
  tenant_id    INTEGER NOT NULL REFERENCES tenants(id),
  name         TEXT    NOT NULL,               -- without "*." for a wildcard
  wildcard     INTEGER NOT NULL DEFAULT 0,
  status       TEXT    NOT NULL CHECK (status IN ('pending', 'valid', 'invalid',
                       'deactivated', 'expired', 'revoked')),
  token        TEXT    NOT NULL,
  challenge    TEXT    NOT NULL DEFAULT '',    -- the type chosen, '' until then
  chall_status TEXT    NOT NULL DEFAULT 'pending'
                       CHECK (chall_status IN ('pending', 'processing', 'valid', 'invalid')),
  expires_at   INTEGER NOT NULL,
  validated_at INTEGER,
  caa_checked_at INTEGER,
  account_uri  TEXT    NOT NULL DEFAULT '',  -- for CAA accounturi (RFC 8657)
  error_code   TEXT,
  error_detail TEXT,
  next_try_at  INTEGER,
  tries        INTEGER NOT NULL DEFAULT 0,
  owner        TEXT,
  lease_until  INTEGER,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
);
CREATE INDEX acme_authzs_due ON acme_authzs(chall_status, next_try_at);
CREATE INDEX acme_authzs_reuse ON acme_authzs(account_id, name, wildcard, status);
CREATE INDEX acme_authzs_failed ON acme_authzs(account_id, chall_status, updated_at);

-- Orders: the names (one per line, "*.x" for wildcards), their
-- authorizations, and the service order made at finalize.
CREATE TABLE acme_orders (
  id          INTEGER PRIMARY KEY,
  account_id  INTEGER NOT NULL REFERENCES acme_accounts(id),
  tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
  status      TEXT    NOT NULL CHECK (status IN ('pending', 'processing', 'invalid')),
  names       TEXT    NOT NULL,
  authzs      TEXT    NOT NULL,                -- authorization ids, comma-separated
  profile     TEXT    NOT NULL DEFAULT '',
  replaces    TEXT    NOT NULL DEFAULT '',
  expires_at  INTEGER NOT NULL,
  order_id    INTEGER REFERENCES orders(id),
  error_code  TEXT,
  error_detail TEXT,
  created_at  INTEGER NOT NULL
);
CREATE INDEX acme_orders_account ON acme_orders(account_id, created_at);
CREATE INDEX acme_orders_order ON acme_orders(order_id);
