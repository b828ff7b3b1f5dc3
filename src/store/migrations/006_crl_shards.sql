-- 006: sharded CRLs (docs/internals/crl.md) and CRL jobs.
--
-- A certificate's CRL shard is fixed at issuance and written into its CRL
-- distribution point; NULL for uploads and for certificates issued before
-- this migration (they keep their distribution point /crl/<ca>.crl and are
-- listed on the CA's unsharded CRL, shard -1 below).
ALTER TABLE certificates ADD COLUMN crl_shard INTEGER
  CHECK (crl_shard IS NULL OR (crl_shard >= 0 AND crl_shard < 256));
-- the shard CRLs a CA publishes: 0 .. crl_shards-1 (only ever grows, so a
-- smaller [crl] shards never drops a shard that lists certificates)
ALTER TABLE cas ADD COLUMN crl_shards INTEGER NOT NULL DEFAULT 0
  CHECK (crl_shards >= 0 AND crl_shards <= 256);
-- a CRL is read straight from this index (no table row is touched): one
-- range per CA and shard, in serial order
CREATE INDEX certificates_crl
  ON certificates (ca_id, crl_shard, serial, not_after, revoked_at, revoke_reason)
  WHERE revoked_at IS NOT NULL;

-- CRLs per partition: shard -1 is the CA's unsharded CRL (/crl/<ca>.crl).
-- Numbers stay one sequence per CA (cas.crl_number), so they increase
-- within every partition too. Only the latest CRL of a partition is kept.
-- Rebuilt so that der is the last column: a large CRL is then written into
-- a zero blob piece by piece without SQLite holding it in memory (it can
-- leave only a record's last field unmaterialised).
CREATE TABLE crls_new (
  ca_id       INTEGER NOT NULL REFERENCES cas(id),
  crl_number  INTEGER NOT NULL,
  this_update INTEGER NOT NULL,
  next_update INTEGER NOT NULL,
  shard       INTEGER NOT NULL DEFAULT -1 CHECK (shard >= -1 AND shard < 256),
  entries     INTEGER,               -- NULL: stored before this migration
  der         BLOB    NOT NULL,
  PRIMARY KEY (ca_id, crl_number)
);
INSERT INTO crls_new (ca_id, crl_number, this_update, next_update, der)
  SELECT ca_id, crl_number, this_update, next_update, der FROM crls;
DROP TABLE crls;
ALTER TABLE crls_new RENAME TO crls;
CREATE INDEX crls_partition ON crls (ca_id, shard, crl_number);

-- Jobs that belong to a CA's CRL rather than to an order. SQLite cannot
-- change a CHECK constraint or drop NOT NULL in place: the table is rebuilt
-- (sqlite.org/lang_altertable.html, "other kinds of table schema changes");
-- nothing references jobs. The kind is checked for its shape only, so that
-- later kinds (OCSP, notifications) need no second rebuild: they add their
-- columns with ALTER TABLE ADD COLUMN. Jobs have no tenant: a CRL job works
-- for a CA, whoever's revocation queued it.
CREATE TABLE jobs_new (
  id         INTEGER PRIMARY KEY,
  kind       TEXT    NOT NULL CHECK (length(kind) BETWEEN 1 AND 15 AND kind NOT GLOB '*[^a-z_]*'),
  order_id   INTEGER REFERENCES orders(id),
  ca_id      INTEGER REFERENCES cas(id),
  shard      INTEGER,
  state      TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done')),
  run_at     INTEGER NOT NULL,
  attempts   INTEGER NOT NULL DEFAULT 0,
  owner      TEXT,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  CHECK (kind NOT IN ('validate', 'issue') OR (order_id IS NOT NULL AND ca_id IS NULL)),
  CHECK (kind <> 'crl' OR (order_id IS NULL AND ca_id IS NOT NULL AND shard IS NOT NULL)),
  CHECK (shard IS NULL OR (shard >= -1 AND shard < 256))
);
INSERT INTO jobs_new (id, kind, order_id, state, run_at, attempts, owner, last_error,
                      created_at, updated_at)
  SELECT id, kind, order_id, state, run_at, attempts, owner, last_error, created_at, updated_at
  FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE INDEX jobs_due ON jobs(state, run_at);
-- one unfinished job of a kind per order
CREATE UNIQUE INDEX jobs_one_open ON jobs(order_id, kind)
  WHERE state <> 'done' AND order_id IS NOT NULL;
-- revocations coalesce: at most one queued CRL job per CA partition (a
-- running one does not absorb new work: it may have read its entries)
CREATE UNIQUE INDEX jobs_crl_queued ON jobs(ca_id, shard) WHERE kind = 'crl' AND state = 'queued';
