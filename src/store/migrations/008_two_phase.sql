-- 008: two-phase issuance (issue 7). A serial is reserved, in a committed
-- row, before the signer is asked to sign with it; the row says what the
-- certificate is for (tenant, CA, order or reissue, and what the stored
-- certificate needs: names, profile, CSR, the sealed key), so that a
-- certificate the signer journaled but the store never got can be stored
-- later exactly where it belongs (svc_reconcile.c). Every serial ever used
-- has a row here: reserved (the signer may be signing it), issued (its
-- certificate is stored), void (it was never signed: its process died
-- before the signer had it, or the signer refused).
CREATE TABLE serials (
  id             INTEGER PRIMARY KEY,
  serial         TEXT    NOT NULL UNIQUE,      -- lower-case hex, as certificates.serial
  ca_id          INTEGER NOT NULL REFERENCES cas(id),
  tenant_id      INTEGER NOT NULL REFERENCES tenants(id),
  purpose        TEXT    NOT NULL
                         CHECK (purpose IN ('certificate', 'private_order', 'order', 'reissue')),
  order_id       INTEGER REFERENCES orders(id),    -- purpose order
  reissue_id     INTEGER REFERENCES reissues(id),  -- purpose reissue
  parent_id      INTEGER REFERENCES certificates(id), -- reissues: the original
  profile        TEXT    NOT NULL CHECK (profile IN ('private', 'dv', 'ov', 'ev')),
  key_algorithm  TEXT    NOT NULL,
  names          TEXT    NOT NULL DEFAULT '[]',  -- JSON array, as certificates.names
  free_cert      INTEGER NOT NULL DEFAULT 0,
  csr_pem        TEXT,
  key_blob       BLOB,                         -- sealed like certificates.key_blob
  key_protection TEXT    NOT NULL DEFAULT 'none'
                         CHECK (key_protection IN ('none', 'data_key', 'password')),
  state          TEXT    NOT NULL CHECK (state IN ('reserved', 'issued', 'void')),
  owner          TEXT,                         -- "<boot id>/<pid>/<start>"; NULL: orphaned
  certificate_id INTEGER REFERENCES certificates(id),
  reserved_at    INTEGER NOT NULL,
  finished_at    INTEGER,
  CHECK ((purpose = 'order') = (order_id IS NOT NULL)),
  CHECK ((purpose = 'reissue') = (reissue_id IS NOT NULL)),
  CHECK ((state = 'issued') = (certificate_id IS NOT NULL))
);
-- at most one signature in flight per order and per reissue: an order gets
-- one certificate even when two processes run its issue step
CREATE UNIQUE INDEX serials_one_per_order ON serials(order_id) WHERE state = 'reserved';
CREATE UNIQUE INDEX serials_one_per_reissue ON serials(reissue_id) WHERE state = 'reserved';
CREATE INDEX serials_reserved ON serials(state) WHERE state = 'reserved';

-- serials used before this migration: issued
INSERT INTO serials (serial, ca_id, tenant_id, purpose, parent_id, profile, key_algorithm,
                     names, state, certificate_id, reserved_at, finished_at)
  SELECT serial, ca_id, tenant_id, 'certificate', parent_id, profile, key_algorithm, names,
         'issued', id, created_at, created_at
  FROM certificates WHERE origin = 'issued';

-- an issued certificate's serial was reserved first; storing it marks the
-- reservation issued (the key and CSR then live on the certificate)
CREATE TRIGGER certificates_serial_reserved BEFORE INSERT ON certificates
  WHEN NEW.origin = 'issued' AND NOT EXISTS
    (SELECT 1 FROM serials WHERE serial = NEW.serial AND state IN ('reserved', 'void'))
  BEGIN SELECT RAISE(ABORT, 'the serial of an issued certificate must be reserved first'); END;
CREATE TRIGGER certificates_serial_issued AFTER INSERT ON certificates
  WHEN NEW.origin = 'issued'
  BEGIN
    UPDATE serials SET state = 'issued', certificate_id = NEW.id, finished_at = NEW.created_at,
                       key_blob = NULL, csr_pem = NULL
      WHERE serial = NEW.serial;
  END;
-- a serial's row is never removed, and an issued one never changes state
CREATE TRIGGER serials_no_delete BEFORE DELETE ON serials
  BEGIN SELECT RAISE(ABORT, 'serials are never deleted'); END;
CREATE TRIGGER serials_issued_final BEFORE UPDATE OF state ON serials
  WHEN OLD.state = 'issued' AND NEW.state <> 'issued'
  BEGIN SELECT RAISE(ABORT, 'an issued serial stays issued'); END;
