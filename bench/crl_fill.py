#!/usr/bin/python3
"""Fills a quill data directory with N revoked certificates under one issuing
CA, straight into SQLite with the real schema, and writes an OpenSSL
`index.txt` with the same entries (for `openssl ca -gencrl`).

Usage: crl_fill.py DATA_DIR CA_ID TEMPLATE_CERT_ID N SHARDS INDEX_TXT

Each row copies the stored columns of a real certificate issued by quill
(TEMPLATE_CERT_ID: its PEM, chain, CSR and sealed key, so rows have the size
and shape of real ones) with its own serial drawn as quill draws them (16
random bytes, top bit clear, next bit set), a revocation time in the last 30
days, a reason from those users may give, a not-after in the next year and
the CRL shard quill assigns (FNV-1a of the serial bytes mod SHARDS). Only the
certificates' signatures are not real. Debian's python3, standard library.
"""

import itertools
import os
import random
import sqlite3
import sys
import time


def fnv1a32(b):
    h = 2166136261
    for x in b:
        h ^= x
        h = (h * 16777619) & 0xFFFFFFFF
    return h


def utc(t):
    return time.strftime("%y%m%d%H%M%SZ", time.gmtime(t))


def main():
    data, ca_id, tmpl_id, n, shards, index_txt = sys.argv[1:7]
    ca_id, tmpl_id, n, shards = int(ca_id), int(tmpl_id), int(n), int(shards)
    db = sqlite3.connect(os.path.join(data, "quill.db"), isolation_level=None)
    # a bulk load: no journal, no fsync, the certificate indexes built once
    # at the end (the same definitions, from the schema) instead of row by row
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -262144")
    indexes = [r[0] for r in db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'certificates' "
        "AND sql IS NOT NULL")]
    for name, in db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND "
                            "tbl_name = 'certificates' AND sql IS NOT NULL").fetchall():
        db.execute("DROP INDEX %s" % name)
    cols = [r[1] for r in db.execute("PRAGMA table_info(certificates)")]
    row = dict(zip(cols, db.execute("SELECT * FROM certificates WHERE id = ?",
                                    (tmpl_id,)).fetchone()))
    now = int(time.time())
    reasons = [0, 1, 3, 4, 5, 9]
    rng = random.Random(5280)
    ins = [c for c in cols if c != "id"]
    sql = "INSERT INTO certificates (%s) VALUES (%s)" % (", ".join(ins),
                                                          ", ".join("?" * len(ins)))
    base = [row[c] for c in ins]
    pos = {c: i for i, c in enumerate(ins)}
    # openssl ca knows no privilegeWithdrawn: the same size as superseded;
    # unspecified is left out, as quill does (BR 7.2.2)
    why = {0: "", 1: ",keyCompromise", 3: ",affiliationChanged", 4: ",superseded",
           5: ",cessationOfOperation", 9: ",superseded"}
    started = time.monotonic()
    with open(index_txt, "w") as idx:
        def rows():
            lines = []
            for i in range(n):
                b = bytearray(rng.getrandbits(128).to_bytes(16, "big"))
                b[0] = (b[0] & 0x7F) | 0x40
                serial = b.hex()
                revoked = now - rng.randrange(30 * 86400)
                reason = reasons[rng.randrange(6)]
                not_after = now + 86400 + rng.randrange(365 * 86400)
                r = list(base)
                r[pos["ca_id"]] = ca_id
                r[pos["parent_id"]] = None
                r[pos["serial"]] = serial
                r[pos["names"]] = '["r%d.bench.example.com"]' % i
                r[pos["not_before"]] = not_after - 90 * 86400
                r[pos["not_after"]] = not_after
                r[pos["status"]] = "revoked"
                r[pos["revoked_at"]] = revoked
                r[pos["revoke_reason"]] = reason
                r[pos["created_at"]] = revoked - 3600
                r[pos["crl_shard"]] = fnv1a32(b) % shards
                lines.append("R\t%s\t%s%s\t%s\tunknown\t/CN=r%d.bench.example.com\n" % (
                    utc(not_after), utc(revoked), why[reason], serial.upper(), i))
                if len(lines) == 10000:
                    idx.write("".join(lines))
                    lines.clear()
                yield r
            idx.write("".join(lines))
        db.execute("BEGIN")
        # two-phase issuance (migration 008): each serial is reserved first
        reserve = ("INSERT INTO serials (serial, ca_id, tenant_id, purpose, profile, "
                   "key_algorithm, state, reserved_at) VALUES (?, ?, ?, 'certificate', ?, ?, "
                   "'reserved', ?)")
        gen = rows()
        while True:
            batch = list(itertools.islice(gen, 10000))
            if not batch:
                break
            db.executemany(reserve, [(r[pos["serial"]], ca_id, r[pos["tenant_id"]],
                                      r[pos["profile"]], r[pos["key_algorithm"]],
                                      r[pos["created_at"]]) for r in batch])
            db.executemany(sql, batch)
        db.execute("COMMIT")
    for ddl in indexes:
        db.execute(ddl)
    db.execute("PRAGMA journal_mode = WAL")
    db.close()
    print("filled %d revoked certificates in %.1f s" % (n, time.monotonic() - started))


if __name__ == "__main__":
    main()
