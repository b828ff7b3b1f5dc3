-- 010: notifications (issue 6): webhooks and email contacts per tenant, an
-- outbox of deliveries written in the same transaction as the change that
-- causes them, the log of every delivery attempt, and the expiry warnings
-- already sent (each certificate and threshold once).

-- A webhook's secret is sealed under the data key (AES-256-GCM, bound to
-- the webhook's id), like subscriber keys: the service must sign with it,
-- so it cannot be a hash; it is never returned by the API.
CREATE TABLE webhooks (
  id          INTEGER PRIMARY KEY,
  tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
  url         TEXT    NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
  secret_blob BLOB    NOT NULL,
  created_at  INTEGER NOT NULL,
  created_by  TEXT    NOT NULL,
  deleted_at  INTEGER
);
CREATE INDEX webhooks_tenant ON webhooks(tenant_id, id) WHERE deleted_at IS NULL;

CREATE TABLE contacts (
  tenant_id INTEGER NOT NULL REFERENCES tenants(id),
  email     TEXT    NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
  position  INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, email)
);

-- The outbox: one row per event and recipient (a webhook, or the tenant's
-- contacts by email). `body` holds the exact bytes sent (the signed JSON of
-- a webhook, the text of an email), so every attempt sends the same.
CREATE TABLE deliveries (
  id              INTEGER PRIMARY KEY,
  tenant_id       INTEGER NOT NULL REFERENCES tenants(id),
  event           TEXT    NOT NULL,
  object_type     TEXT    NOT NULL,
  object_id       INTEGER NOT NULL,
  channel         TEXT    NOT NULL CHECK (channel IN ('webhook', 'email')),
  webhook_id      INTEGER REFERENCES webhooks(id),
  recipients      TEXT,
  subject         TEXT,
  body            BLOB    NOT NULL,
  state           TEXT    NOT NULL CHECK (state IN ('pending', 'sending', 'delivered',
                                                    'failed', 'cancelled')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_until     INTEGER,
  owner           TEXT,
  last_status     INTEGER,
  last_error      TEXT,
  created_at      INTEGER NOT NULL,
  finished_at     INTEGER,
  CHECK ((channel = 'webhook') = (webhook_id IS NOT NULL)),
  CHECK ((channel = 'email') = (recipients IS NOT NULL))
);
-- what the notifier claims next, and what it takes back from a dead owner
CREATE INDEX deliveries_due     ON deliveries(next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX deliveries_sending ON deliveries(lease_until) WHERE state = 'sending';
CREATE INDEX deliveries_webhook ON deliveries(webhook_id, id);

CREATE TABLE delivery_attempts (
  delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
  attempt     INTEGER NOT NULL,
  at          INTEGER NOT NULL,
  status      INTEGER,            -- HTTP status or SMTP reply code; NULL: no answer
  error       TEXT,
  duration_ms INTEGER NOT NULL,
  PRIMARY KEY (delivery_id, attempt)
);

-- Expiry warnings: sent once per certificate and threshold (days).
CREATE TABLE expiry_warnings (
  certificate_id INTEGER NOT NULL REFERENCES certificates(id),
  days           INTEGER NOT NULL,
  sent_at        INTEGER NOT NULL,
  PRIMARY KEY (certificate_id, days)
);
-- How far the scan of each threshold got, as a keyset position in
-- (not_after, id) order: each scan reads only the certificates that entered
-- the window since the last one (an index range on not_after, never a full
-- scan).
CREATE TABLE expiry_scan (
  days      INTEGER PRIMARY KEY,
  not_after INTEGER NOT NULL,
  cert_id   INTEGER NOT NULL
);
CREATE INDEX certificates_not_after ON certificates(not_after);
