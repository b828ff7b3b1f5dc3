-- 004: OV/EV revocations (RULES.md §5): the signed letter, and reviews that
-- belong to a revocation instead of an order. SQLite cannot change a CHECK
-- constraint in place: reviews is rebuilt (sqlite.org/lang_altertable.html,
-- "other kinds of table schema changes"), with foreign keys checked at
-- commit so organizations.review_id stays valid throughout.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE reviews_new (
  id            INTEGER PRIMARY KEY,
  order_id      INTEGER REFERENCES orders(id),
  revocation_id INTEGER REFERENCES revocations(id),
  kind          TEXT    NOT NULL CHECK (kind IN ('risk', 'organization', 'revocation')),
  status        TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
  detail        TEXT    NOT NULL,
  reviewer      TEXT,
  reason        TEXT,
  created_at    INTEGER NOT NULL,
  decided_at    INTEGER,
  CHECK ((order_id IS NULL) <> (revocation_id IS NULL))
);
INSERT INTO reviews_new (id, order_id, kind, status, detail, reviewer, reason, created_at,
                         decided_at)
  SELECT id, order_id, kind, status, detail, reviewer, reason, created_at, decided_at
  FROM reviews;
DROP TABLE reviews;
ALTER TABLE reviews_new RENAME TO reviews;
CREATE INDEX reviews_pending ON reviews(status);

CREATE TABLE revocation_letters (
  revocation_id INTEGER PRIMARY KEY REFERENCES revocations(id),
  content_type  TEXT    NOT NULL CHECK (content_type IN ('jpg', 'png', 'pdf')),
  sha256        TEXT    NOT NULL,
  data          BLOB    NOT NULL,
  created_at    INTEGER NOT NULL
);
