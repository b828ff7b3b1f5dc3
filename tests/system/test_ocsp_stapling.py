"""OCSP stapling by a real nginx (issue 6): a quill certificate whose AIA
names the test's `quill serve` (base_url http://127.0.0.1:PORT), served by
nginx with `ssl_stapling on`; nginx fetches quill's answer (by GET, the
form RFC 6960 A.1 describes) and staples it, and `openssl s_client -status`
sees "Cert Status: good", verified from quill's root. Debian's nginx
(nginx-light is the same package in Debian 12) has the SSL module, and the
URL is an IP address, so no `resolver` is needed."""

import re
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import apply, download, ok, run
from nginx import NGINX, unused_port, wait_port
from ocsp_util import OcspServer


class StaplingNginx:
    def __init__(self, workdir, fullchain, key, trusted):
        self.dir = Path(workdir)
        (self.dir / "tmp").mkdir(parents=True, exist_ok=True)
        self.port = unused_port()
        self.conf = self.dir / "nginx.conf"
        self.error_log = self.dir / "error.log"
        d = self.dir
        self.conf.write_text(f"""# written by tests/system/test_ocsp_stapling.py
daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {self.error_log} info;
events {{ worker_connections 64; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    server {{
        listen 127.0.0.1:{self.port} ssl;
        server_name stapled.example.com;
        ssl_certificate {fullchain};
        ssl_certificate_key {key};
        ssl_stapling on;
        ssl_stapling_verify on;
        ssl_trusted_certificate {trusted};
        location / {{ return 200 "stapled\\n"; }}
    }}
}}
""")
        base = [NGINX, "-p", str(d) + "/", "-c", str(self.conf), "-e", str(self.error_log)]
        t = subprocess.run(base + ["-t", "-q"], capture_output=True, text=True, timeout=30)
        assert t.returncode == 0, f"nginx -t failed (is the SSL module there?):\n{t.stderr}"
        self.out = open(d / "nginx.out", "ab")
        self.proc = subprocess.Popen(base, stdout=self.out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        assert wait_port(self.port, proc=self.proc), self.log()

    def log(self):
        try:
            return self.error_log.read_text(errors="replace")[-3000:]
        except FileNotFoundError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()


def s_client_status(port, root):
    p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername",
                        "stapled.example.com", "-status", "-CAfile", str(root),
                        "-verify_return_error"],
                       input="", capture_output=True, text=True, timeout=30)
    return p.stdout + p.stderr


def test_nginx_staples_quills_answer(ca_dir, tmp_path):
    srv = OcspServer(ca_dir, tmp_path)
    ngx = None
    try:
        c = apply(srv.data, "stapled.example.com")
        srv.wait_status(c, "good")
        files = download(srv.data, c["id"], tmp_path / "site")
        by_name = {f.name: f for f in files}
        root, issuing = srv.ca_files(c["ca_id"])
        # the certificate names quill's responder
        text = run("openssl", "x509", "-in", by_name["cert.pem"], "-noout", "-text").stdout
        assert f"OCSP - URI:{srv.url}" in text, text
        trusted = tmp_path / "trusted.pem"
        trusted.write_text(root.read_text() + issuing.read_text())
        ngx = StaplingNginx(tmp_path / "nginx", by_name["fullchain.pem"], by_name["key.pem"],
                            trusted)
        # nginx fetches the answer when a handshake asks for it, and staples
        # it to the handshakes after the fetch completes
        deadline = time.monotonic() + 30
        out = ""
        while time.monotonic() < deadline:
            out = s_client_status(ngx.port, root)
            if "Cert Status: good" in out:
                break
            time.sleep(0.3)
        assert "OCSP Response Status: successful" in out, f"{out}\nnginx: {ngx.log()}"
        assert "Cert Status: good" in out, f"{out}\nnginx: {ngx.log()}"
        assert "Verify return code: 0 (ok)" in out, out
        m = re.search(r"Serial Number: ([0-9A-F]+)\n\s+Cert Status", out)
        assert m and int(m.group(1), 16) == int(c["serial"], 16), out
        # nginx asked quill (the GET form), and quill counted a good answer
        metrics = srv.metrics()
        good = re.search(r'^quill_ocsp_requests_total\{status="good"\} (\d+)', metrics, re.M)
        assert good and int(good.group(1)) >= 1, metrics[-2000:]
        errors = [line for line in ngx.log().splitlines()
                  if "[error]" in line or "[crit]" in line or "[alert]" in line]
        assert not [e for e in errors if "OCSP" in e or "ocsp" in e], errors
    finally:
        if ngx:
            ngx.stop()
        srv.stop()
