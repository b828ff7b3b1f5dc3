#!/usr/bin/python3
"""REST API benchmark (issue 6 targets): list pages at 100,000 certificates
in one tenant (p99 at most 10 ms) and the idle RSS of `quill serve` (at most
30 MB).

  /usr/bin/python3 bench/rest.py [--certs N] [--requests N] [--quill build/quill]

It makes a data directory with a CA, one tenant ('bench') and a user key,
fills the tenant with N certificate rows (inserted with SQLite, shaped like
the rows quill writes: real serials, names, times, a real certificate PEM;
signing N certificates one by one would only measure the signer), starts
`quill serve` on loopback ports, measures over HTTPS with keep-alive:

  - the first page (limit=50),
  - pages deep in the keyset (cursor walk through the whole tenant),
  - a name search and a status filter,

and prints one JSON line with the percentiles (ms) and the RSS (kB) of the
serve process (and of its signer) after it has sat idle for a few seconds.
Everything stays on 127.0.0.1; the data directory is removed at the end.
"""

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PASS = "benchmark-passphrase"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def q(quill, data, *args, env):
    p = subprocess.run([quill, "--data", str(data), "--json", *args], capture_output=True,
                       text=True, env=env, timeout=300)
    if p.returncode != 0:
        sys.exit(f"quill {' '.join(args)}: {p.stdout} {p.stderr}")
    return json.loads(p.stdout)


def fill(data, tenant_id, n, sample_pem, ca_id, issuer):
    db = sqlite3.connect(Path(data) / "quill.db")
    now = int(time.time())
    rows, names = [], []
    start = db.execute("SELECT coalesce(max(id), 0) FROM certificates").fetchone()[0] + 1
    for i in range(n):
        cid = start + i
        name = f"host{i}.bench.example.com"
        serial = "%032x" % (random.getrandbits(126) | (1 << 126))
        status = "revoked" if i % 50 == 0 else "issued"
        rows.append((cid, ca_id, serial, json.dumps([name]), now - 86400, now + 86400 * (30 + i % 300),
                     "ec256", "private", "issued", status, 0, issuer, sample_pem, sample_pem, None,
                     None, "none", now if status == "revoked" else None,
                     4 if status == "revoked" else None, now - i, tenant_id))
        names.append((cid, tenant_id, name))
    # two-phase issuance (migration 008): each serial is reserved first
    db.executemany(
        "INSERT INTO serials (serial, ca_id, tenant_id, purpose, profile, key_algorithm, state, "
        "reserved_at) VALUES (?, ?, ?, 'certificate', 'private', 'ec256', 'reserved', ?)",
        [(r[2], ca_id, tenant_id, now - 86400) for r in rows])
    db.executemany(
        "INSERT INTO certificates (id, ca_id, serial, names, not_before, not_after, key_algorithm, "
        "profile, origin, status, free_cert, issuer, cert_pem, chain_pem, csr_pem, key_blob, "
        "key_protection, revoked_at, revoke_reason, created_at, tenant_id) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    db.executemany("INSERT INTO certificate_names (certificate_id, tenant_id, name) VALUES (?,?,?)",
                   names)
    db.commit()
    db.close()


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def timed(conn, path, token):
    t0 = time.perf_counter()
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    r = conn.getresponse()
    body = r.read()
    dt = (time.perf_counter() - t0) * 1000
    if r.status != 200:
        sys.exit(f"{path}: {r.status} {body[:300]!r}")
    return dt, json.loads(body)


def rss_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--certs", type=int, default=100000)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--quill", default=str(Path(__file__).resolve().parents[1] / "build" / "quill"))
    a = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUILL_")}
    env["QUILL_CA_PASSPHRASE"] = PASS
    tmp = Path(tempfile.mkdtemp(prefix="quill-rest-bench-"))
    data = tmp / "data"
    proc = None
    try:
        q(a.quill, data, "ca", "init", env=env)
        q(a.quill, data, "tenant", "create", "bench", env=env)
        token = q(a.quill, data, "--tenant", "bench", "key", "create", "--role", "user",
                  env=env)["key"]["token"]
        sample = q(a.quill, data, "--tenant", "bench", "cert", "apply", "--name",
                   "sample.bench.example.com", "--key", "ec256", env=env)["certificate"]
        db = sqlite3.connect(data / "quill.db")
        tid, pem, issuer = db.execute(
            "SELECT tenant_id, cert_pem, issuer FROM certificates WHERE id = ?",
            (sample["id"],)).fetchone()
        db.close()
        t0 = time.time()
        fill(data, tid, a.certs - 1, pem, sample["ca_id"], issuer)
        fill_s = time.time() - t0
        port, api_port = free_port(), free_port()
        (data / "quill.conf").write_text("[api]\nrate_per_second = 0\n")
        log = open(tmp / "serve.log", "w")
        proc = subprocess.Popen([a.quill, "serve", "--data", str(data), "--listen",
                                 f"127.0.0.1:{port}", "--api-listen", f"127.0.0.1:{api_port}"],
                                stdout=log, stderr=subprocess.STDOUT, env=env)
        roots = "".join(c["certificate"] for c in q(a.quill, data, "ca", "list", env=env)["cas"]
                        if c["is_root"])
        (tmp / "roots.pem").write_text(roots)
        ctx = ssl.create_default_context(cafile=str(tmp / "roots.pem"))
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", api_port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        time.sleep(3)  # idle: nothing asked yet
        idle_rss = rss_kb(proc.pid)
        kids = [int(x) for x in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
        signer_rss = sum(rss_kb(k) for k in kids)
        conn = http.client.HTTPSConnection("127.0.0.1", api_port, context=ctx, timeout=30)
        for _ in range(50):  # warm-up
            timed(conn, "/api/v1/certificates?limit=50", token)
        first = [timed(conn, "/api/v1/certificates?limit=50", token)[0]
                 for _ in range(a.requests)]
        deep, cursor, pages = [], None, 0
        while True:
            path = "/api/v1/certificates?limit=50" + (f"&cursor={cursor}" if cursor else "")
            dt, body = timed(conn, path, token)
            deep.append(dt)
            pages += 1
            cursor = body["next_cursor"]
            if not cursor:
                break
        names = [timed(conn, f"/api/v1/certificates?name=host{random.randrange(a.certs - 1)}"
                             f".bench.example.com", token)[0] for _ in range(a.requests // 2)]
        status = [timed(conn, "/api/v1/certificates?status=revoked&limit=50", token)[0]
                  for _ in range(a.requests // 2)]
        busy_rss = rss_kb(proc.pid)
        out = {
            "certificates": a.certs, "fill_seconds": round(fill_s, 1),
            "first_page_ms": {"p50": round(pct(first, 50), 2), "p99": round(pct(first, 99), 2)},
            "cursor_walk_ms": {"pages": pages, "p50": round(pct(deep, 50), 2),
                               "p99": round(pct(deep, 99), 2), "max": round(max(deep), 2)},
            "name_search_ms": {"p50": round(pct(names, 50), 2), "p99": round(pct(names, 99), 2)},
            "status_filter_ms": {"p50": round(pct(status, 50), 2),
                                 "p99": round(pct(status, 99), 2)},
            "idle_rss_kb": idle_rss, "signer_rss_kb": signer_rss, "rss_after_kb": busy_rss,
        }
        print(json.dumps(out))
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
