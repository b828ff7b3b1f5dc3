-- 001: CAs, certificates, reissue and revocation requests, events, CRLs.
-- Times are Unix seconds (UTC). Events are append-only (triggers).
CREATE TABLE cas (
  id            INTEGER PRIMARY KEY,
  parent_id     INTEGER REFERENCES cas(id),
  is_root       INTEGER NOT NULL CHECK (is_root IN (0, 1)),
  key_algorithm TEXT    NOT NULL,
  subject       TEXT    NOT NULL,
  cert_pem      TEXT    NOT NULL,
  key_file      TEXT    NOT NULL UNIQUE,
  not_before    INTEGER NOT NULL,
  not_after     INTEGER NOT NULL,
  crl_number    INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL,
  CHECK ((is_root = 1) = (parent_id IS NULL))
);
-- one root and one issuing CA per key algorithm
CREATE UNIQUE INDEX cas_root_alg    ON cas(key_algorithm) WHERE is_root = 1;
CREATE UNIQUE INDEX cas_issuing_alg ON cas(key_algorithm) WHERE is_root = 0;

CREATE TABLE certificates (
  id             INTEGER PRIMARY KEY,
  ca_id          INTEGER REFERENCES cas(id),
  parent_id      INTEGER REFERENCES certificates(id),
  serial         TEXT    NOT NULL,
  names          TEXT    NOT NULL,            -- JSON array of strings
  not_before     INTEGER NOT NULL,
  not_after      INTEGER NOT NULL,
  key_algorithm  TEXT    NOT NULL,
  profile        TEXT    NOT NULL CHECK (profile IN ('private', 'dv', 'ov', 'ev')),
  origin         TEXT    NOT NULL CHECK (origin IN ('issued', 'uploaded')),
  status         TEXT    NOT NULL CHECK (status IN ('issued', 'reissuing', 'revocation_pending',
                                                    'revoked', 'deleted')),
  free_cert      INTEGER NOT NULL DEFAULT 0,
  issuer         TEXT    NOT NULL,
  cert_pem       TEXT    NOT NULL,
  chain_pem      TEXT    NOT NULL,
  csr_pem        TEXT,
  key_blob       BLOB,
  key_protection TEXT    NOT NULL DEFAULT 'none'
                         CHECK (key_protection IN ('none', 'data_key', 'password')),
  revoked_at     INTEGER,
  revoke_reason  INTEGER,
  created_at     INTEGER NOT NULL,
  CHECK ((origin = 'issued') = (ca_id IS NOT NULL))
);
-- serials of certificates issued here are unique (BR 7.1)
CREATE UNIQUE INDEX certificates_serial ON certificates(serial) WHERE origin = 'issued';
CREATE UNIQUE INDEX certificates_upload ON certificates(issuer, serial)
  WHERE origin = 'uploaded' AND status <> 'deleted';
CREATE INDEX certificates_parent ON certificates(parent_id);
CREATE INDEX certificates_ca_status ON certificates(ca_id, status);

CREATE TABLE reissues (
  id                 INTEGER PRIMARY KEY,
  certificate_id     INTEGER NOT NULL REFERENCES certificates(id),
  new_certificate_id INTEGER REFERENCES certificates(id),
  status             TEXT    NOT NULL CHECK (status IN ('in_progress', 'done', 'failed')),
  csr_source         TEXT    NOT NULL CHECK (csr_source IN ('original', 'pasted', 'generated')),
  reason             TEXT    NOT NULL,
  registered_domains TEXT    NOT NULL,        -- JSON array
  failure            TEXT,
  created_at         INTEGER NOT NULL,
  finished_at        INTEGER
);
CREATE UNIQUE INDEX reissues_active ON reissues(certificate_id) WHERE status = 'in_progress';

CREATE TABLE revocations (
  id             INTEGER PRIMARY KEY,
  certificate_id INTEGER NOT NULL REFERENCES certificates(id),
  status         TEXT    NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
  reason_code    INTEGER NOT NULL,
  cascade_from   INTEGER REFERENCES revocations(id),
  requested_at   INTEGER NOT NULL,
  finished_at    INTEGER
);
-- a submitted revocation cannot be repeated or cancelled
CREATE UNIQUE INDEX revocations_once ON revocations(certificate_id) WHERE status <> 'failed';

CREATE TABLE events (
  id          INTEGER PRIMARY KEY,
  object_type TEXT    NOT NULL,
  object_id   INTEGER NOT NULL,
  actor       TEXT    NOT NULL,
  at          INTEGER NOT NULL,
  from_status TEXT,
  to_status   TEXT    NOT NULL,
  reason      TEXT
);
CREATE INDEX events_object ON events(object_type, object_id);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

CREATE TABLE crls (
  ca_id       INTEGER NOT NULL REFERENCES cas(id),
  crl_number  INTEGER NOT NULL,
  this_update INTEGER NOT NULL,
  next_update INTEGER NOT NULL,
  der         BLOB    NOT NULL,
  PRIMARY KEY (ca_id, crl_number)
);
