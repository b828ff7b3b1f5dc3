"""A real nginx for system tests of file validation (BR 3.2.2.4.18).

`Nginx` starts /usr/sbin/nginx in the foreground (daemon off, no master
process) with its own prefix, configuration, pid, logs and temp paths in a
temporary directory, listening on 127.0.0.1 on free ports:

- `port`: the site under test; its docroot (`docroot`) is where tests write
  validation files, and its behaviour per path is configured with the
  helpers below (404, redirects, a redirect loop, a slow answer);
- `other_port`: a second plain-http server on the same docroot, so a
  redirect there would succeed if it were followed (a refusal proves policy,
  not a dead port);
- `https_port` (with https=True): https with a throw-away self-signed
  certificate on the same docroot.

Configuration changes made while nginx runs restart it on the same ports.
The slow location is proxied to a small socket server started here that
accepts connections and never answers, so a client's timeout always
expires first.

    from nginx import Nginx, nginx_server   # nginx_server: a pytest fixture

    def test_x(nginx_server):
        nginx_server.put_validation_file(token, value + "\\n")
        nginx_server.redirect_to_port(nginx_server.validation_path("t2"),
                                      nginx_server.other_port)
"""

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

NGINX = os.environ.get("QUILL_TEST_NGINX", "/usr/sbin/nginx")
PKI_DIR = "/.well-known/pki-validation/"


def unused_port(host="127.0.0.1"):
    """A TCP port nothing listens on right now (bound, then closed)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_port(port, host="127.0.0.1", timeout=10.0, proc=None):
    """Waits until `host:port` accepts a connection; False on timeout or if
    `proc` exits first."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.02)
    return False


class Blackhole:
    """A TCP server on 127.0.0.1 that accepts connections and never answers
    (it does not even read), until stop()."""

    def __init__(self):
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self._held = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="blackhole", daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (socket.timeout, OSError):
                continue
            self._held.append(conn)

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)
        for c in self._held:
            c.close()
        self._held.clear()
        self._sock.close()


class Nginx:
    """One nginx instance; see the module docstring. Use as a context manager
    or call start()/stop()."""

    def __init__(self, https=False, ipv6=False, workdir=None):
        if workdir is None:
            self.dir = Path(tempfile.mkdtemp(prefix="quill-nginx-"))
            self._own_dir = True
        else:
            self.dir = Path(workdir)
            self.dir.mkdir(parents=True, exist_ok=True)
            self._own_dir = False
        self.docroot = self.dir / "www"
        (self.docroot / PKI_DIR.strip("/")).mkdir(parents=True, exist_ok=True)
        (self.dir / "tmp").mkdir(exist_ok=True)
        self.conf = self.dir / "nginx.conf"
        self.error_log_path = self.dir / "error.log"
        self.access_log_path = self.dir / "access.log"
        self.ipv6 = ipv6
        self.port = unused_port()
        self.other_port = unused_port()
        self.https_port = unused_port() if https else None
        self._locations = {}  # exact path -> body of its `location = path { }` block
        self._blackhole = None
        self.proc = None
        if https:
            self._make_cert()

    # ------------------------------------------------------------ lifecycle

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        """Writes the configuration, checks it (nginx -t), starts nginx and
        returns once every port accepts connections."""
        if self.proc is not None:
            return
        self._write_conf()
        base = [NGINX, "-p", str(self.dir) + "/", "-c", str(self.conf), "-e",
                str(self.error_log_path)]
        t = subprocess.run(base + ["-t", "-q"], capture_output=True, text=True, timeout=30)
        if t.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{t.stderr}\n{self.conf.read_text()}")
        self._out = open(self.dir / "nginx.out", "ab")
        self.proc = subprocess.Popen(base, stdout=self._out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        ports = [self.port, self.other_port] + ([self.https_port] if self.https_port else [])
        for p in ports:
            if not wait_port(p, proc=self.proc):
                self.stop()
                raise RuntimeError(f"nginx did not start listening on {p}:\n"
                                   f"{self.error_log()}")

    def stop(self):
        """Stops nginx and the slow server; removes the directory if it made
        it. Safe to call twice."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=5)
            self.proc = None
            self._out.close()
        if self._blackhole is not None:
            self._blackhole.stop()
            self._blackhole = None
        if self._own_dir and os.environ.get("QUILL_KEEP_TMP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)

    def restart(self):
        """Stops and starts nginx on the same ports (after a config change)."""
        if self.proc is None:
            return
        self.proc.terminate()
        self.proc.wait(timeout=5)
        self.proc = None
        self._out.close()
        self.start()

    # ------------------------------------------------------------ content

    @staticmethod
    def validation_path(token):
        """/.well-known/pki-validation/<token>.txt"""
        return f"{PKI_DIR}{token}.txt"

    def url(self, path, host="127.0.0.1", port=None, scheme="http"):
        port = port or (self.https_port if scheme == "https" else self.port)
        return f"{scheme}://{host}:{port}{path}"

    def put_file(self, path, content):
        """Writes docroot/<path> (str or bytes); served at once, no restart."""
        p = self.docroot / path.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content.encode() if isinstance(content, str) else content)
        return p

    def put_validation_file(self, token, content):
        return self.put_file(self.validation_path(token), content)

    def remove_file(self, path):
        (self.docroot / path.lstrip("/")).unlink(missing_ok=True)

    # ------------------------------------------------------------ behaviours

    def set_status(self, path, code, body=None):
        """`path` answers `code` (e.g. 404, 500) whatever the docroot holds."""
        self._set_location(path, f"return {int(code)}" + (f" {_quote(body)}" if body else "")
                           + ";")

    def not_found(self, path):
        self.set_status(path, 404)

    def redirect(self, path, target, code=302):
        """`path` answers `code` with Location: target (absolute, or relative
        and left so: absolute_redirect is off)."""
        self._set_location(path, f"return {int(code)} {_quote(target)};")

    def redirect_to_port(self, path, port, scheme="http", target_path=None, code=302):
        """`path` redirects to scheme://<the Host asked for>:port/target_path
        (default: the same path)."""
        target = f"{scheme}://$host:{int(port)}{target_path or path}"
        self._set_location(path, f"return {int(code)} {_quote(target)};")

    def redirect_loop(self, path, code=302):
        """`path` redirects to itself, forever."""
        self.redirect(path, path, code)

    def slow(self, path):
        """`path` is proxied to a server that accepts and never answers."""
        if self._blackhole is None:
            self._blackhole = Blackhole()
        self._set_location(path, f"proxy_pass http://127.0.0.1:{self._blackhole.port};\n"
                                 "            proxy_connect_timeout 5s;\n"
                                 "            proxy_read_timeout 600s;")

    def clear(self, path=None):
        """Forgets the behaviour of `path` (or of every path)."""
        if path is None:
            self._locations.clear()
        else:
            self._locations.pop(path, None)
        self.restart()

    # ------------------------------------------------------------ logs

    def error_log(self):
        try:
            return self.error_log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def requests(self):
        """The access log as dicts: port, host, request, status, agent."""
        out = []
        try:
            lines = self.access_log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return out
        for line in lines:
            parts = line.split("\t")
            if len(parts) == 6:
                out.append(dict(addr=parts[0], port=int(parts[1]), host=parts[2],
                                request=parts[3], status=int(parts[4]), agent=parts[5]))
        return out

    # ------------------------------------------------------------ internals

    def _set_location(self, path, body):
        if not path.startswith("/") or any(c in path for c in " ;{}\"'\n"):
            raise ValueError(f"unsupported path {path!r}")
        self._locations[path] = body
        self.restart()

    def _make_cert(self):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                        "/CN=quill-test-nginx", "-keyout", str(self.dir / "tls.key"),
                        "-out", str(self.dir / "tls.crt")],
                       check=True, capture_output=True, timeout=30)

    def _listen(self, port, extra=""):
        lines = [f"listen 127.0.0.1:{port}{extra};"]
        if self.ipv6:
            lines.append(f"listen [::1]:{port}{extra};")
        return "\n        ".join(lines)

    def _write_conf(self):
        d = self.dir
        locs = "\n".join(f"        location = {p} {{\n            {b}\n        }}"
                         for p, b in sorted(self._locations.items()))
        https = ""
        if self.https_port:
            https = f"""
    server {{
        {self._listen(self.https_port, " ssl")}
        server_name _;
        ssl_certificate {d}/tls.crt;
        ssl_certificate_key {d}/tls.key;
        root {self.docroot};
    }}"""
        self.conf.write_text(f"""# written by tests/system/nginx.py
daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {self.error_log_path} info;
events {{ worker_connections 256; }}
http {{
    log_format quill "$remote_addr\\t$server_port\\t$host\\t$request\\t$status\\t$http_user_agent";
    access_log {self.access_log_path} quill;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    types {{ text/plain txt; text/html html; }}
    default_type application/octet-stream;
    absolute_redirect off;
    server_tokens off;
    keepalive_timeout 5s;

    server {{
        {self._listen(self.port, " default_server")}
        server_name _;
        root {self.docroot};
{locs}
    }}

    server {{
        {self._listen(self.other_port)}
        server_name _;
        root {self.docroot};
    }}
{https}
}}
""")


def _quote(s):
    """An nginx string argument in double quotes (variables still expand)."""
    s = str(s)
    if any(c in s for c in "\"\\\n;{}"):
        raise ValueError(f"unsupported nginx argument {s!r}")
    return f'"{s}"'


@pytest.fixture
def nginx_server():
    """A started Nginx (plain http on .port and .other_port), stopped after
    the test."""
    n = Nginx()
    n.start()
    try:
        yield n
    finally:
        n.stop()


@pytest.fixture
def nginx_https_server():
    """Like nginx_server, with https on .https_port (self-signed)."""
    n = Nginx(https=True)
    n.start()
    try:
        yield n
    finally:
        n.stop()
