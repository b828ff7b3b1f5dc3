"""Helpers of the OCSP system tests (test_ocsp.py, test_ocsp_stapling.py):
a real `quill serve` whose base_url is its own plain HTTP listener (so the
certificates it issues name its /ocsp), the CA files a relying party
needs, and `openssl ocsp` as the relying party.

    from ocsp_util import OcspServer, openssl_ocsp

    srv = OcspServer(data_dir, tmp_path)       # started, healthy
    c = apply(srv.data, "www.example.com")
    r = srv.check(c)                           # openssl ocsp -issuer ... -cert ... -url ...
    assert r.status == "good" and r.verified
"""

import json
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from conftest import QUILL, ca_files, download, ok, pick_port, quill_env, run

FRESH_BOUND_S = 3.0  # design target 1 s (docs/internals/ocsp.md); generous for a loaded machine


def http(method, url, body=None, headers=None, timeout=5):
    """(status, headers, body bytes)."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


class OcspResult:
    def __init__(self, proc):
        self.out = proc.stdout + proc.stderr
        self.rc = proc.returncode
        m = re.search(r": (good|revoked|unknown)\n", self.out)
        self.status = m.group(1) if m else None
        self.verified = "Response verify OK" in self.out
        m = re.search(r"Reason: (\w+)", self.out)
        self.reason = m.group(1) if m else None
        m = re.search(r"Revocation Time: (.+)", self.out)
        self.revocation_time = m.group(1).strip() if m else None
        m = re.search(r"Responder Error: (\w+)", self.out)
        self.error = m.group(1) if m else None

    def __repr__(self):
        return f"OcspResult(rc={self.rc}, status={self.status}, out={self.out[-1500:]!r})"


def openssl_ocsp(url, issuer, root, cert=None, serial=None, extra=()):
    # options first: a digest (-sha256) must come before -cert and -serial
    args = ["openssl", "ocsp", *extra, "-issuer", issuer, "-url", url, "-CAfile", root,
            "-no_nonce"]
    if cert:
        args += ["-cert", cert]
    if serial:
        args += ["-serial", serial]
    return OcspResult(run(*args, check=False, timeout=30))


class OcspServer:
    """`quill serve` on a data dir whose [server] base_url is this server's
    plain HTTP listener (written into quill.conf with `conf` appended)."""

    def __init__(self, data, tmp, conf="", port=None):
        self.data = Path(data)
        self.tmp = Path(tmp)
        self.port = port or pick_port()
        self.api_port = pick_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.base}/ocsp"
        (self.data / "quill.conf").write_text(
            f"[server]\nbase_url = {self.base}\n{conf}")
        self.nlog = 0
        self.proc = None
        self.start()

    def start(self):
        self.nlog += 1
        self.log_path = self.tmp / f"serve-{self.port}-{self.nlog}.log"
        self.log = open(self.log_path, "w+")
        self.proc = subprocess.Popen(
            [QUILL, "serve", "--data", str(self.data), "--listen", f"127.0.0.1:{self.port}",
             "--api-listen", f"127.0.0.1:{self.api_port}"],
            stdout=self.log, stderr=subprocess.STDOUT, env=quill_env())
        deadline = time.monotonic() + 30
        while True:
            assert self.proc.poll() is None, f"serve exited {self.proc.returncode}: {self.logs()}"
            try:
                if http("GET", self.base + "/healthz", timeout=1)[0] == 200:
                    return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            assert time.monotonic() < deadline, f"serve not healthy: {self.logs()}"
            time.sleep(0.05)

    def logs(self):
        """The end of the log (for assertion messages)."""
        return self.all_logs()[-4000:]

    def all_logs(self):
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"serve did not stop on SIGTERM: {self.logs()}")
            assert code == 0, f"serve exited {code}: {self.logs()}"
        if self.proc:
            self.log.close()
        self.proc = None

    # ------------------------------------------------ relying-party side

    def ca_files(self, ca_id):
        """(root.pem, issuing.pem) of issuing CA `ca_id`."""
        return ca_files(self.data, ca_id, self.tmp / "cas")

    def cert_file(self, cert):
        """The PEM file of certificate object `cert` (from cert apply)."""
        d = self.tmp / f"cert-{cert['id']}"
        if not (d / "cert.pem").exists():
            download(self.data, cert["id"], d)
        return d / "cert.pem"

    def check(self, cert, extra=()):
        root, issuing = self.ca_files(cert["ca_id"])
        return openssl_ocsp(self.url, issuing, root, cert=self.cert_file(cert), extra=extra)

    def request_der(self, cert, extra=()):
        """The DER OCSPRequest openssl sends for `cert` (no nonce)."""
        root, issuing = self.ca_files(cert["ca_id"])
        out = self.tmp / f"req-{cert['id']}-{len(extra)}.der"
        run("openssl", "ocsp", "-issuer", issuing, "-cert", self.cert_file(cert), "-no_nonce",
            "-reqout", out, *extra)
        return out.read_bytes()

    def wait_status(self, cert, want, bound=FRESH_BOUND_S):
        """Polls until openssl ocsp says `want` (verified); returns the
        seconds it took. Fails after `bound` seconds."""
        t0 = time.monotonic()
        last = None
        while time.monotonic() - t0 < bound:
            last = self.check(cert)
            if last.status == want and last.verified:
                return time.monotonic() - t0
            time.sleep(0.05)
        raise AssertionError(f"not {want} within {bound} s: {last}\n{self.logs()}")

    def metrics(self):
        status, _, body = http("GET", self.base + "/metrics")
        assert status == 200
        return body.decode()

    def db_rows(self, sql):
        import sqlite3
        con = sqlite3.connect(f"file:{self.data / 'quill.db'}?mode=ro", uri=True, timeout=10)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()


def cert_json(data, cert_id):
    return ok(data, "cert", "show", cert_id)["certificate"]


def dump(obj):
    return json.dumps(obj, indent=1)
