-- 003: orders (applications) with one row per name, asynchronous jobs,
-- reviews, and organisations that passed review.
CREATE TABLE orders (
  id              INTEGER PRIMARY KEY,
  purpose         TEXT    NOT NULL DEFAULT 'issue'
                          CHECK (purpose IN ('issue', 'revoke', 'reissue')),
  subject_id      INTEGER,                -- revoke/reissue: the certificate or reissue row
  status          TEXT    NOT NULL CHECK (status IN ('pending_validation', 'validating',
                          'manual_review', 'issuing', 'issued', 'failed', 'cancelled')),
  profile         TEXT    NOT NULL CHECK (profile IN ('private', 'dv', 'ov', 'ev')),
  key_algorithm   TEXT    NOT NULL,
  csr_pem         TEXT,
  key_blob        BLOB,
  key_protection  TEXT    NOT NULL DEFAULT 'none'
                          CHECK (key_protection IN ('none', 'data_key', 'password')),
  org_info        TEXT,                   -- JSON, OV/EV
  org_hash        TEXT,
  free_cert       INTEGER NOT NULL DEFAULT 1,
  days            INTEGER NOT NULL DEFAULT 0,
  certificate_id  INTEGER REFERENCES certificates(id),
  failure_code    TEXT,
  failure_message TEXT,
  deadline        INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
);
CREATE INDEX orders_status ON orders(status);

CREATE TABLE order_names (
  id                INTEGER PRIMARY KEY,
  order_id          INTEGER NOT NULL REFERENCES orders(id),
  name              TEXT    NOT NULL,
  method            TEXT    NOT NULL CHECK (method IN ('dns', 'file')),
  token             TEXT    NOT NULL,
  value             TEXT    NOT NULL,
  value_expires     INTEGER NOT NULL,
  validation_status TEXT    NOT NULL DEFAULT 'pending'
                            CHECK (validation_status IN ('pending', 'valid', 'invalid')),
  caa_status        TEXT    NOT NULL DEFAULT 'pending'
                            CHECK (caa_status IN ('pending', 'allowed', 'forbidden', 'error')),
  caa_checked_at    INTEGER,
  caa_detail        TEXT,
  failure_code      TEXT,
  failure_message   TEXT,
  validated_at      INTEGER,
  UNIQUE (order_id, name)
);

-- asynchronous work; a restart resumes it (running jobs whose owner died
-- are queued again)
CREATE TABLE jobs (
  id         INTEGER PRIMARY KEY,
  kind       TEXT    NOT NULL CHECK (kind IN ('validate', 'issue')),
  order_id   INTEGER NOT NULL REFERENCES orders(id),
  state      TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done')),
  run_at     INTEGER NOT NULL,
  attempts   INTEGER NOT NULL DEFAULT 0,
  owner      TEXT,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs(state, run_at);
-- one unfinished job of a kind per order
CREATE UNIQUE INDEX jobs_one_open ON jobs(order_id, kind) WHERE state <> 'done';

CREATE TABLE reviews (
  id         INTEGER PRIMARY KEY,
  order_id   INTEGER NOT NULL REFERENCES orders(id),
  kind       TEXT    NOT NULL CHECK (kind IN ('risk', 'organization')),
  status     TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
  detail     TEXT    NOT NULL,
  reviewer   TEXT,
  reason     TEXT,
  created_at INTEGER NOT NULL,
  decided_at INTEGER
);
CREATE INDEX reviews_pending ON reviews(status);

-- organisation details a reviewer approved: a later order with the same
-- details (same hash) skips organisation review
CREATE TABLE organizations (
  org_hash    TEXT    PRIMARY KEY,
  info        TEXT    NOT NULL,
  review_id   INTEGER REFERENCES reviews(id),
  approved_at INTEGER NOT NULL
);

ALTER TABLE revocations ADD COLUMN order_id INTEGER REFERENCES orders(id);
