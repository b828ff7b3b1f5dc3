-- 007: OCSP (issue 6). Delegated responder certificates of each issuing CA
-- (their keys live only in the signer process that made them), and the
-- pre-signed responses `quill serve` answers from memory: one row per
-- (issuing CA, serial), replaced when it is signed again. `seq` grows with
-- every write (AUTOINCREMENT: a replaced row gets a new one), so a node
-- loads what changed since the last `seq` it saw.
CREATE TABLE ocsp_responders (
  id         INTEGER PRIMARY KEY,
  ca_id      INTEGER NOT NULL REFERENCES cas(id),
  serial     TEXT    NOT NULL UNIQUE,
  cert_der   BLOB    NOT NULL,
  not_before INTEGER NOT NULL,
  not_after  INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  CHECK (not_after > not_before)
);
CREATE INDEX ocsp_responders_ca ON ocsp_responders(ca_id, id);

CREATE TABLE ocsp_responses (
  seq            INTEGER PRIMARY KEY AUTOINCREMENT,
  ca_id          INTEGER NOT NULL REFERENCES cas(id),
  serial         TEXT    NOT NULL,
  certificate_id INTEGER NOT NULL REFERENCES certificates(id),
  status         TEXT    NOT NULL CHECK (status IN ('good', 'revoked')),
  responder_id   INTEGER NOT NULL REFERENCES ocsp_responders(id),
  this_update    INTEGER NOT NULL,
  next_update    INTEGER NOT NULL,
  refresh_at     INTEGER NOT NULL,
  der            BLOB    NOT NULL,
  UNIQUE (ca_id, serial),
  CHECK (next_update > this_update AND refresh_at <= next_update)
);
-- the refresher takes the responses due for re-signing in this order
CREATE INDEX ocsp_responses_refresh ON ocsp_responses(refresh_at);
