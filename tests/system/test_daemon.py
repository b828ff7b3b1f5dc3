"""`quill serve` as a daemon (issue 6): the HTTPS listener with a certificate
from quill's own CA (whole chain sent: curl and openssl s_client trusting only
the root), its files reused across restarts and renewed when a third of the
validity is left, operator-given certificate files swapped on SIGHUP while a
keep-alive connection goes on, SIGTERM finishing a request in flight, the
Prometheus /metrics page, the thread pool, and silent or slow clients that do
not hold up others. Everything on 127.0.0.1 with ports picked per test."""

import concurrent.futures
import datetime as dt
import http.client
import ipaddress
import json
import os
import re
import signal
import socket
import ssl
import stat
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conftest import PASSPHRASE, QUILL, ca_list, ok, pick_port, quill, quill_env, run


def get(url, timeout=5, context=None):
    """(status, headers, body bytes) of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


class Daemon:
    """`quill serve` with both listeners on picked ports, its log in a file."""

    def __init__(self, data, log_path, conf=""):
        self.data = Path(data)
        self.data.mkdir(mode=0o700, exist_ok=True)
        if conf:
            (self.data / "quill.conf").write_text(conf)
        self.port, self.api_port = pick_port(), pick_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.api = f"https://127.0.0.1:{self.api_port}"
        self.log_path = Path(log_path)
        self.proc = None

    def start(self, wait_api=True):
        self.log = open(self.log_path, "a+")
        self.proc = subprocess.Popen([QUILL, "serve", "--data", str(self.data),
                                      "--listen", f"127.0.0.1:{self.port}",
                                      "--api-listen", f"127.0.0.1:{self.api_port}"],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=quill_env())
        deadline = time.monotonic() + 20
        while True:
            self.check_alive()
            try:
                if get(self.base + "/healthz", timeout=1)[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            assert time.monotonic() < deadline, f"serve not healthy: {self.logs()}"
            time.sleep(0.05)
        while wait_api:  # the HTTPS listener opens just after the HTTP one
            self.check_alive()
            try:
                with socket.create_connection(("127.0.0.1", self.api_port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, f"no HTTPS listener: {self.logs()}"
                time.sleep(0.05)
        return self

    def check_alive(self):
        assert self.proc.poll() is None, f"serve exited {self.proc.returncode}: {self.logs()}"

    def logs(self, tail=6000):
        return self.log_path.read_text(errors="replace")[-tail:]

    def wait_log(self, pattern, count=1, timeout=15):
        deadline = time.monotonic() + timeout
        while len(re.findall(pattern, self.logs(10 ** 7))) < count:
            self.check_alive()
            assert time.monotonic() < deadline, f"no {pattern!r} in the log: {self.logs()}"
            time.sleep(0.05)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=20):
        """SIGTERM; the exit status."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"quill serve did not stop after SIGTERM: {self.logs()}")
        finally:
            self.log.close()


@pytest.fixture
def daemon(tmp_path):
    """daemon(conf="", data=None) starts one; all are stopped at teardown
    and must exit 0."""
    started = []

    def start(conf="", data=None):
        d = Daemon(data or tmp_path / "data", tmp_path / f"serve-{len(started)}.log", conf)
        started.append(d)
        return d.start()
    yield start
    for d in started:
        if d.proc.poll() is None:
            assert d.stop() == 0, d.logs()


def root_pem(data, path):
    roots = [c for c in ca_list(data) if c["is_root"]]
    assert len(roots) == 1, roots
    Path(path).write_text(roots[0]["certificate"])
    return Path(path)


def issuing(data):
    cas = [c for c in ca_list(data) if not c["is_root"]]
    assert len(cas) == 1, cas
    return cas[0]


def served_chain(port, cafile):
    """The chain the listener sends, as openssl s_client shows it."""
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}",
                        "-CAfile", str(cafile), "-verify_return_error", "-showcerts",
                        "-servername", "localhost"],
                       input="", capture_output=True, text=True, timeout=30)
    return r


def served_serial(port, cafile):
    ctx = ssl.create_default_context(cafile=str(cafile))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
            der = t.getpeercert(binary_form=True)
    return x509.load_der_x509_certificate(der).serial_number


# ---------------------------------------------------------------- certificates made here


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_cert(subject_key, cn, issuer_cert, issuer_key, *, ca=False, days_before=1,
              days_after=30, serial=None, sans=("localhost", "127.0.0.1")):
    now = dt.datetime.now(dt.timezone.utc)
    b = (x509.CertificateBuilder()
         .subject_name(name(cn))
         .issuer_name(issuer_cert.subject if issuer_cert else name(cn))
         .public_key(subject_key.public_key())
         .serial_number(serial or x509.random_serial_number())
         .not_valid_before(now - dt.timedelta(days=days_before))
         .not_valid_after(now + dt.timedelta(days=days_after))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        alt = [x509.IPAddress(ipaddress.ip_address(n)) if n[0].isdigit() else x509.DNSName(n)
               for n in sans]
        b = (b.add_extension(x509.SubjectAlternativeName(alt), critical=False)
             .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                            critical=False))
    b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()),
                        critical=False)
    if issuer_cert:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer_key.public_key()), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


class SiteCA:
    """A root and an intermediate made in the test, for operator-given files."""

    def __init__(self, tmp):
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.root = make_cert(self.root_key, "Test Root", None, self.root_key, ca=True,
                              days_after=365)
        self.int_key = ec.generate_private_key(ec.SECP256R1())
        self.int = make_cert(self.int_key, "Test Intermediate", self.root, self.root_key,
                             ca=True, days_after=365)
        self.root_file = Path(tmp) / "test-root.pem"
        self.root_file.write_text(pem(self.root))

    def leaf_files(self, cert_file, key_file, serial):
        key = ec.generate_private_key(ec.SECP256R1())
        leaf = make_cert(key, "localhost", self.int, self.int_key, serial=serial)
        Path(cert_file).write_text(pem(leaf) + pem(self.int))
        Path(key_file).write_text(key_pem(key))
        os.chmod(key_file, 0o600)


def quill_issuing_key(data):
    """The issuing CA's private key, decrypted with the test passphrase (for
    making certificates that look like quill's own)."""
    ca = issuing(data)
    cert = x509.load_pem_x509_certificate(ca["certificate"].encode())
    want = cert.public_key().public_numbers()
    for f in Path(data, "ca").glob("*.key"):
        k = load_pem_private_key(f.read_bytes(), PASSPHRASE.encode())
        if isinstance(k, ec.EllipticCurvePrivateKey) and k.public_key().public_numbers() == want:
            return cert, k
    raise AssertionError("issuing CA key not found")


def plant_api_cert(data, days_before, days_after, serial, sans=("localhost", "127.0.0.1")):
    """Replaces <data>/tls/api.pem and api.key with a certificate signed by
    quill's issuing CA with the given validity."""
    ca_cert, ca_key = quill_issuing_key(data)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = make_cert(key, "localhost", ca_cert, ca_key, days_before=days_before,
                     days_after=days_after, serial=serial, sans=sans)
    tls = Path(data, "tls")
    (tls / "api.pem").write_text(pem(leaf) + pem(ca_cert))
    (tls / "api.key").write_text(key_pem(key))


# ---------------------------------------------------------------- tests


def test_https_listener_sends_the_whole_chain(daemon, tmp_path):
    d = daemon()
    root = root_pem(d.data, tmp_path / "root.pem")
    # curl trusting only the root, by IP and by name
    r = run("curl", "-sS", "--fail", "--cacert", root, f"{d.api}/healthz")
    assert json.loads(r.stdout) == {"status": "ok"}
    r = run("curl", "-sS", "--fail", "--cacert", root, "--resolve",
            f"localhost:{d.api_port}:127.0.0.1", f"https://localhost:{d.api_port}/healthz")
    assert json.loads(r.stdout) == {"status": "ok"}
    # openssl verifies, and sees leaf + issuing CA
    r = served_chain(d.api_port, root)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Verify return code: 0 (ok)" in r.stdout
    assert r.stdout.count("-----BEGIN CERTIFICATE-----") == 2
    # only TLS 1.2 and newer
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{d.api_port}",
                        "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"], input="",
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    # the HTTPS listener answers JSON 404 outside its routes; /metrics is not there
    ctx = ssl.create_default_context(cafile=str(root))
    for path in ("/api/v2/orders", "/metrics", "/ca/2.pem"):
        status, headers, body = get(d.api + path, context=ctx)
        assert status == 404, path
        assert json.loads(body)["error"]["code"] == "not_found"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert re.fullmatch(r"[0-9a-f]{16}", headers["X-Request-Id"])

    # the certificate is an ordinary private-profile certificate in the store
    pem_text = (d.data / "tls" / "api.pem").read_text()
    leaf = x509.load_pem_x509_certificate(pem_text.encode())
    serial = format(leaf.serial_number, "x")
    # it belongs to the tenant 'system', out of the default tenant's sight
    assert not [c for c in ok(d.data, "cert", "list")["certificates"]
                if c["serial"].lstrip("0") == serial]
    certs = ok(d.data, "--tenant", "system", "cert", "list")["certificates"]
    mine = [c for c in certs if c["serial"].lstrip("0") == serial]
    assert len(mine) == 1, certs
    assert mine[0]["profile"] == "private" and mine[0]["names"] == ["localhost", "127.0.0.1"]
    assert mine[0]["tenant"] == "system", mine[0]
    events = ok(d.data, "--tenant", "system", "cert", "show",
                mine[0]["id"])["certificate"]["events"]
    assert any(e["actor"] == "quill-serve:api-tls" for e in events), events
    assert stat.S_IMODE((d.data / "tls" / "api.key").stat().st_mode) == 0o600
    assert leaf.not_valid_after - leaf.not_valid_before >= dt.timedelta(days=89)


def test_certificate_reused_across_restarts(daemon, tmp_path):
    d = daemon()
    root = root_pem(d.data, tmp_path / "root.pem")
    first = (d.data / "tls" / "api.pem").read_text()
    s1 = served_serial(d.api_port, root)
    n_certs = len(ok(d.data, "--tenant", "system", "cert", "list")["certificates"])
    assert d.stop() == 0
    d.start()
    assert (d.data / "tls" / "api.pem").read_text() == first
    assert served_serial(d.api_port, root) == s1
    assert len(ok(d.data, "--tenant", "system", "cert", "list")["certificates"]) == n_certs
    assert d.logs(10 ** 7).count("API certificate issued") == 1


def test_renewal_when_a_third_of_the_validity_is_left(daemon, tmp_path):
    d = daemon()
    root = root_pem(d.data, tmp_path / "root.pem")
    assert d.stop() == 0
    # control: a fitting certificate with most of its validity left is kept
    plant_api_cert(d.data, days_before=1, days_after=60, serial=0x1111)
    d.start()
    assert served_serial(d.api_port, root) == 0x1111
    # nearly expired (5 of 85 days left): SIGHUP renews it
    plant_api_cert(d.data, days_before=80, days_after=5, serial=0x2222)
    d.signal(signal.SIGHUP)
    d.wait_log(r"API certificate issued")
    d.wait_log(r'TLS certificate loaded" why=reload')
    assert "less than a third of its validity is left" in d.logs()
    renewed = served_serial(d.api_port, root)
    assert renewed not in (0x1111, 0x2222)
    leaf = x509.load_pem_x509_certificate((d.data / "tls" / "api.pem").read_bytes())
    assert leaf.serial_number == renewed
    assert leaf.not_valid_after > dt.datetime.utcnow() + dt.timedelta(days=80)
    assert d.stop() == 0
    # and at start: nearly expired again -> renewed before the listener opens
    plant_api_cert(d.data, days_before=80, days_after=5, serial=0x3333)
    d.start()
    assert served_serial(d.api_port, root) not in (0x3333, renewed)
    assert d.logs(10 ** 7).count("API certificate issued") == 3
    # a certificate from another CA, or for other names, is replaced too
    assert d.stop() == 0
    SiteCA(tmp_path).leaf_files(d.data / "tls" / "api.pem", d.data / "tls" / "api.key", 0x4444)
    d.start()
    assert served_serial(d.api_port, root) != 0x4444
    assert "it was not issued by this CA" in d.logs()
    assert d.stop() == 0
    plant_api_cert(d.data, days_before=1, days_after=60, serial=0x5555, sans=("localhost",))
    d.start()
    assert served_serial(d.api_port, root) != 0x5555
    assert "its names differ from [server] api_names" in d.logs()


def test_sighup_swaps_certificate_files_keeping_connections(daemon, tmp_path):
    test_ca = SiteCA(tmp_path)
    cert_file, key_file = tmp_path / "site.pem", tmp_path / "site.key"
    test_ca.leaf_files(cert_file, key_file, 0xA1)
    d = daemon(conf=f"[server]\ntls_cert_file = {cert_file}\ntls_key_file = {key_file}\n")
    assert not (d.data / "tls" / "api.pem").exists()  # nothing issued by quill
    ctx = ssl.create_default_context(cafile=str(test_ca.root_file))
    conn = http.client.HTTPSConnection("127.0.0.1", d.api_port, context=ctx, timeout=10)
    conn.request("GET", "/healthz")
    r = conn.getresponse()
    assert r.status == 200 and json.loads(r.read()) == {"status": "ok"}
    sock = conn.sock
    serial = lambda s: x509.load_der_x509_certificate(
        s.getpeercert(binary_form=True)).serial_number
    assert serial(sock) == 0xA1

    test_ca.leaf_files(cert_file, key_file, 0xB2)
    # the log level and a setting that needs a restart change in the same file
    conf = d.data / "quill.conf"
    conf.write_text(conf.read_text() + "threads = 3\n[log]\nlevel = debug\n")
    d.signal(signal.SIGHUP)
    d.wait_log(r'TLS certificate loaded" why=reload source=files')
    assert re.search(r"setting reloaded.*setting=log\.level", d.logs())
    assert re.search(r"restart to apply.*setting=server\.threads", d.logs())
    # the connection opened before goes on, with its certificate
    conn.request("GET", "/healthz")
    r = conn.getresponse()
    assert r.status == 200 and r.read()
    assert conn.sock is sock and serial(sock) == 0xA1
    # new connections get the new one
    assert served_serial(d.api_port, test_ca.root_file) == 0xB2
    # debug logging now shows each request
    get(d.base + "/healthz")
    d.wait_log(r"level=debug .*msg=\"http request\" listener=http method=GET route=/healthz")

    # a broken pair changes nothing
    key_file.write_text("not a key\n")
    d.signal(signal.SIGHUP)
    d.wait_log(r'TLS certificate not changed" why=reload')
    assert served_serial(d.api_port, test_ca.root_file) == 0xB2
    conn.request("GET", "/healthz")
    assert conn.getresponse().status == 200
    conn.close()


def test_sigterm_finishes_the_request_in_flight(daemon):
    d = daemon(conf="[server]\nstop_grace_seconds = 20\n")
    # a slow upload: the headers are in, the body comes after the signal
    s = socket.create_connection(("127.0.0.1", d.port), timeout=20)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabcde")
    time.sleep(0.5)
    t0 = time.monotonic()
    d.signal(signal.SIGTERM)
    d.wait_log(r'msg="stopping"')
    time.sleep(1.0)
    assert d.proc.poll() is None, "quill serve stopped with a request in flight"
    # no new connection is answered while it drains
    try:
        with socket.create_connection(("127.0.0.1", d.port), timeout=1) as n:
            n.settimeout(1)
            n.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            assert n.recv(100) == b""
    except (ConnectionError, socket.timeout, OSError):
        pass
    s.sendall(b"fghij")
    answer = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        answer += chunk
    s.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer
    assert b"Connection: close" in answer and answer.endswith(b'{"status":"ok"}')
    assert d.proc.wait(timeout=20) == 0, d.logs()
    assert time.monotonic() - t0 >= 1.0
    d.log.close()


def parse_metrics(text):
    """{(name, frozenset(labels)): value}; asserts every line is well formed."""
    samples, typed = {}, set()
    sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
    label = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, n, t = line.split(" ")
            assert t in ("counter", "gauge", "histogram"), line
            typed.add(n)
            continue
        m = sample.match(line)
        assert m, f"not a sample line: {line!r}"
        labels, rest = [], m.group(3) or ""
        while rest:
            lm = label.match(rest)
            assert lm, f"bad labels in {line!r}"
            labels.append((lm.group(1), lm.group(2)))
            rest = rest[lm.end():]
        base = re.sub(r"_(bucket|sum|count)$", "", m.group(1))
        assert m.group(1) in typed or base in typed, f"sample without TYPE: {line!r}"
        samples[(m.group(1), frozenset(labels))] = float(m.group(4))
    return samples


def test_metrics_in_prometheus_format(daemon, tmp_path):
    d = daemon()
    root = root_pem(d.data, tmp_path / "root.pem")
    ca = issuing(d.data)
    for _ in range(3):
        assert get(f"{d.base}/ca/{ca['id']}.pem")[0] == 200
    assert get(d.base + "/nope")[0] == 404
    ctx = ssl.create_default_context(cafile=str(root))
    assert get(d.api + "/healthz", context=ctx)[0] == 200
    time.sleep(0.2)  # completions are recorded just after the answer
    status, headers, body = get(d.base + "/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    m = parse_metrics(body.decode())
    key = lambda n, **l: (n, frozenset(l.items()))
    assert m[key("quill_http_requests_total", listener="http", route="/ca/{file}",
                 method="GET", status="200")] == 3
    assert m[key("quill_http_requests_total", listener="http", route="none", method="GET",
                 status="404")] == 1
    assert m[key("quill_http_requests_total", listener="https", route="/healthz",
                 method="GET", status="200")] >= 1
    count = m[key("quill_http_request_duration_seconds_count", listener="http",
                  route="/ca/{file}")]
    inf = m[key("quill_http_request_duration_seconds_bucket", listener="http",
                route="/ca/{file}", le="+Inf")]
    assert count == inf == 3
    assert m[key("quill_http_request_duration_seconds_sum", listener="http",
                 route="/ca/{file}")] > 0


def db_fds(pid, db):
    n = 0
    for f in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if os.readlink(f) == str(db):
                n += 1
        except OSError:
            pass
    return n


def test_thread_pool_serves_concurrent_requests(daemon):
    d = daemon(conf="[server]\nthreads = 4\n")
    ca = issuing(d.data)
    db = (d.data / "quill.db").resolve()
    before = db_fds(d.proc.pid, db)
    url = f"{d.base}/ca/{ca['id']}.pem"
    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(lambda _: get(url, timeout=10), range(64)))
    assert all(r[0] == 200 and r[2].decode() == ca["certificate"] for r in results)
    # request threads opened their own service handles (database connections)
    assert db_fds(d.proc.pid, db) >= before + 2
    tasks = len(list(Path(f"/proc/{d.proc.pid}/task").iterdir()))
    assert tasks >= 8  # 4 + 4 request threads, plus main and job workers


def test_silent_and_slow_clients_do_not_block_others(daemon):
    d = daemon(conf="[server]\nthreads = 2\n")
    silent = [socket.create_connection(("127.0.0.1", d.port), timeout=10) for _ in range(12)]
    slow = [socket.create_connection(("127.0.0.1", d.port), timeout=10) for _ in range(2)]
    for s in slow:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ")
    try:
        for i in range(20):
            for s in slow:
                s.sendall(b"a")  # a slowloris, one byte at a time
            status, _, body = get(d.base + "/healthz", timeout=5)
            assert status == 200 and json.loads(body) == {"status": "ok"}
    finally:
        for s in silent + slow:
            s.close()


def test_bad_tls_settings_refuse_to_start(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    cases = [("[server]\ntls_cert_file = /nonexistent.pem\n", "tls_key_file"),
             (f"[server]\ntls_cert_file = {tmp_path}/x.pem\ntls_key_file = {tmp_path}/x.key\n",
              "tls_cert_file"),
             ("[server]\napi_names = com\n", "api_names")]
    for conf, word in cases:
        (data / "quill.conf").write_text(conf)
        code, out, _ = quill(data, "serve", "--listen", f"127.0.0.1:{pick_port()}",
                             "--api-listen", f"127.0.0.1:{pick_port()}", timeout=60)
        assert code == 2, out
        assert out["error"]["code"] == "config_invalid" and word in out["error"]["message"], out
