"""`quill serve` (first part): health, CA certificates and CRLs over HTTP, a
clean stop on SIGTERM, and the signer process that alone holds CA keys."""

import glob
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from conftest import (DEFAULT_BASE_URL, PASSPHRASE, QUILL, apply, ca_list, crl_number, idp_url, ok,
                      pick_port, quill, quill_env, run, split_pems)


def get(url, timeout=5):
    """(status, headers, body bytes) of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


class Server:
    def __init__(self, data, port, log):
        self.data, self.port = data, port
        self.api_port = pick_port()
        self.base = f"http://127.0.0.1:{port}"
        self.log = open(log, "w+")
        self.proc = subprocess.Popen([QUILL, "serve", "--data", str(data),
                                      "--listen", f"127.0.0.1:{port}",
                                      "--api-listen", f"127.0.0.1:{self.api_port}"],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     env=quill_env())
        try:
            self._wait_healthy()
        except BaseException:
            self.proc.kill()
            self.proc.wait()
            self.log.close()
            raise

    def _wait_healthy(self):
        deadline = time.monotonic() + 15
        while True:
            assert self.proc.poll() is None, f"serve exited {self.proc.returncode}: " \
                                             f"{self.logs()}"
            try:
                status, _, body = get(self.base + "/healthz", timeout=1)
                if status == 200:
                    self.health = json.loads(body)
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            assert time.monotonic() < deadline, f"serve not healthy: {self.logs()}"
            time.sleep(0.05)

    def logs(self):
        self.log.seek(0)
        return self.log.read()[-3000:]

    def stop(self):
        """SIGTERM; returns (exit code, seconds taken)."""
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("quill serve did not stop within 10 s of SIGTERM")
        return code, time.monotonic() - t0


@pytest.fixture
def make_server(tmp_path):
    """Starts `quill serve` on a data dir; every server is stopped (SIGTERM)
    in teardown and must exit 0."""
    started = []

    def start(data, port):
        s = Server(data, port, tmp_path / f"serve-{len(started)}.log")
        started.append(s)
        return s
    yield start
    for s in started:
        if s.proc.poll() is None:
            code, _ = s.stop()
            assert code == 0, f"serve exited {code}: {s.logs()}"
        s.log.close()


@pytest.fixture
def server(make_server, tmp_path, free_port):
    # a data dir that does not exist yet: serve creates the CA on first start
    return make_server(tmp_path / "data", free_port)


def issuing_ca(data):
    cas = [c for c in ca_list(data) if not c["is_root"]]
    assert len(cas) == 1, cas
    return cas[0]


def test_health_ca_and_crl_endpoints(server, tmp_path):
    assert server.health == {"status": "ok"}
    ca = issuing_ca(server.data)
    status, headers, body = get(f"{server.base}/ca/{ca['id']}.pem")
    assert status == 200 and body.decode() == ca["certificate"]

    status, headers, der = get(f"{server.base}/ca/{ca['id']}.der")
    assert status == 200 and headers["Content-Type"] == "application/pkix-cert"
    assert der == ssl.PEM_cert_to_DER_cert(ca["certificate"])
    (tmp_path / "ca.der").write_bytes(der)
    r = run("openssl", "x509", "-inform", "DER", "-in", tmp_path / "ca.der", "-noout",
            "-subject")
    assert ca["subject"].split("=", 1)[1] in r.stdout

    status, headers, crl = get(f"{server.base}/crl/{ca['id']}.crl")
    assert status == 200 and headers["Content-Type"] == "application/pkix-crl"
    (tmp_path / "crl.der").write_bytes(crl)
    (tmp_path / "ca.pem").write_text(ca["certificate"])
    r = run("openssl", "crl", "-inform", "DER", "-in", tmp_path / "crl.der", "-noout",
            "-verify", "-CAfile", tmp_path / "ca.pem")
    assert "verify OK" in r.stdout + r.stderr

    for path in ("/ca/999.pem", "/ca/999.der", "/crl/999.crl"):
        assert get(server.base + path)[0] == 404, path


def test_served_crl_follows_a_cli_revocation(server):
    ca = issuing_ca(server.data)
    c = apply(server.data, "served.example.com")
    serial = int(c["serial"], 16)
    # the URL in the certificate: its shard of the CA's CRLs
    url = f"{server.base}/crl/{ca['id']}/{c['crl_shard']}.crl"
    status, headers, der = get(url)
    assert status == 200 and headers["Content-Type"] == "application/pkix-crl"
    before = x509.load_der_x509_crl(der)
    assert idp_url(before) == f"{DEFAULT_BASE_URL}/crl/{ca['id']}/{c['crl_shard']}.crl"
    assert before.get_revoked_certificate_by_serial_number(serial) is None
    ok(server.data, "cert", "revoke", c["id"], "--reason", "keyCompromise")
    after = x509.load_der_x509_crl(get(url)[2])
    assert after.get_revoked_certificate_by_serial_number(serial) is not None
    assert crl_number(after) > crl_number(before)
    # the CA's unsharded CRL (certificates from before sharding) does not
    # list it
    legacy = x509.load_der_x509_crl(get(f"{server.base}/crl/{ca['id']}.crl")[2])
    assert legacy.get_revoked_certificate_by_serial_number(serial) is None
    assert idp_url(legacy) == f"{DEFAULT_BASE_URL}/crl/{ca['id']}.crl"


def test_crl_job_runs_in_the_workers_after_the_commit(server):
    """A revocation's transaction does not sign: here the CLI that revokes has
    no CA passphrase, so it cannot make the CRL itself; the revocation still
    commits, its CRL job waits in the database, and a worker of the running
    server makes the CRL within seconds."""
    ca = issuing_ca(server.data)
    c = apply(server.data, "job.example.com")
    serial = int(c["serial"], 16)
    url = f"{server.base}/crl/{ca['id']}/{c['crl_shard']}.crl"
    before = crl_number(x509.load_der_x509_crl(get(url)[2]))
    code, out, err = quill(server.data, "cert", "revoke", c["id"], "--reason", "superseded",
                           env=quill_env(QUILL_CA_PASSPHRASE=None))
    assert code == 0, err
    assert out["certificate"]["status"] == "revoked"
    assert "queued" in err  # the warning: the CRL is left to the server
    deadline = time.monotonic() + 15
    while True:
        crl = x509.load_der_x509_crl(get(url)[2])
        if crl.get_revoked_certificate_by_serial_number(serial) is not None:
            break
        assert time.monotonic() < deadline, f"not on the CRL after 15 s: {server.logs()}"
        time.sleep(0.1)
    assert crl_number(crl) > before
    assert "kind=crl" in server.logs()


def test_sigterm_stops_cleanly(server):
    children = child_pids(server.proc.pid)
    code, took = server.stop()
    assert code == 0, server.logs()
    assert took < 10
    assert children, "no signer process"
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in children):  # the signer goes too
        assert time.monotonic() < deadline, "the signer outlived quill serve"
        time.sleep(0.05)
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        get(server.base + "/healthz", timeout=1)


def alive(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def child_pids(pid):
    kids = []
    for f in glob.glob(f"/proc/{pid}/task/*/children"):
        kids += [int(x) for x in Path(f).read_text().split()]
    return kids


def key_patterns(data):
    """Big- and little-endian bytes of each CA private scalar (BIGNUMs sit
    in memory little-endian)."""
    pats = []
    for f in Path(data, "ca").glob("*.key"):
        key = load_pem_private_key(f.read_bytes(), PASSPHRASE.encode())
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            continue
        n = key.private_numbers().private_value
        be = n.to_bytes((key.curve.key_size + 7) // 8, "big")
        pats += [be, be[::-1]]
    return pats


def memory_holds(pid, patterns):
    with open(f"/proc/{pid}/maps") as m:
        regions = [line.split() for line in m]
    with open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for r in regions:
            if "r" not in r[1]:
                continue
            start, end = (int(x, 16) for x in r[0].split("-"))
            try:
                mem.seek(start)
                chunk = mem.read(end - start)
            except (OSError, ValueError, OverflowError):
                continue
            if any(p in chunk for p in patterns):
                return True
    return False


def test_signer_alone_holds_the_ca_keys(server):
    data = server.data.resolve()
    main = server.proc.pid
    keys = {str(p.resolve()) for p in (data / "ca").glob("*.key")}
    assert keys
    # let the server sign something first (a CRL after a revocation)
    c = apply(server.data, "signer.example.com")
    ok(server.data, "cert", "revoke", c["id"], "--reason", "superseded")
    assert get(f"{server.base}/healthz")[0] == 200

    opened = {os.readlink(f) for f in glob.glob(f"/proc/{main}/fd/*")
              if os.path.exists(f)}
    assert not (opened & keys), opened & keys
    assert not any(p.startswith(str(data / "ca")) for p in opened), opened
    maps = Path(f"/proc/{main}/maps").read_text()
    assert str(data / "ca") not in maps

    signers = child_pids(main)
    assert signers, "quill serve has no child process (the signer)"
    assert all(Path(f"/proc/{p}/exe").resolve() == Path(QUILL).resolve() for p in signers)

    # reading another process's memory needs ptrace rights over it (root,
    # or the same user with kernel.yama.ptrace_scope 0); without them this
    # test cannot show what it names
    assert os.access(f"/proc/{main}/mem", os.R_OK), \
        "cannot read /proc/PID/mem: run the system tests as root or allow ptrace"
    pats = [p for p in key_patterns(data) if len(p) >= 32]
    assert not memory_holds(main, pats), "CA private key material in the main process"
    # control: the method does find the keys where they are: in the signer
    assert any(memory_holds(p, pats) for p in signers)


def test_odd_paths_are_refused_without_harm(server):
    for path in ("/ca/../quill.db", "/ca/%2e%2e/quill.db", "/ca/02.pem", "/ca/-1.pem",
                 "/ca/2.pem.pem", "/ca/99999999999999999999999.pem", "/crl/2.pem", "/nope",
                 "/crl/2/01.crl", "/crl/2/256.crl", "/crl/2/-1.crl", "/crl/2/x.crl",
                 "/crl/2/.crl", "/crl//0.crl", "/crl/2/0.crl.crl", "/crl/2/0/0.crl",
                 "/crl/02/0.crl", "/crl/1/0.crl", "/crl/2/99999999999.crl"):
        assert get(server.base + path)[0] == 404, path
    assert get(server.base + "/crl/2/0.crl")[0] == 200
    assert get(server.base + "/ca/" + "a" * 6000 + ".pem")[0] in (404, 414)
    req = urllib.request.Request(server.base + "/healthz", method="POST", data=b"x")
    assert get(req)[0] == 405
    assert get(server.base + "/healthz")[0] == 200  # still serving


def test_second_server_on_a_taken_port_fails_cleanly(server, tmp_path):
    p = subprocess.run([QUILL, "--json", "serve", "--data", str(server.data),
                        "--listen", f"127.0.0.1:{server.port}",
                        "--api-listen", f"127.0.0.1:{pick_port()}"],
                       capture_output=True, text=True, env=quill_env(), timeout=30)
    assert p.returncode == 3
    err = json.loads(p.stdout)["error"]
    assert err["code"] == "io_error" and str(server.port) in err["message"]
    assert get(server.base + "/healthz")[0] == 200


def test_relying_party_follows_the_urls_in_the_certificates(make_server, tmp_path,
                                                            free_port):
    """With [server] base_url pointing at the running server, openssl fetches
    the CRLs named in the certificates and curl the caIssuers certificate."""
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "quill.conf").write_text(f"[server]\nbase_url = http://127.0.0.1:{free_port}\n")
    server = make_server(data, free_port)
    c = apply(data, "relying.example.com")
    out = tmp_path / "dl"
    ok(data, "cert", "download", c["id"], "--format", "pem", "--out", out)
    issuing_pem, root_pem = split_pems((out / "chain.pem").read_text())
    (tmp_path / "issuing.pem").write_text(issuing_pem)
    (tmp_path / "root.pem").write_text(root_pem)
    leaf = x509.load_pem_x509_certificate((out / "cert.pem").read_bytes())
    aia = leaf.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    ca_url = [d.access_location.value for d in aia
              if d.access_method == x509.oid.AuthorityInformationAccessOID.CA_ISSUERS][0]
    assert ca_url.startswith(server.base + "/")
    r = subprocess.run(["curl", "-sf", ca_url], capture_output=True, timeout=30)
    assert r.returncode == 0 and r.stdout == ssl.PEM_cert_to_DER_cert(issuing_pem)

    verify = ["openssl", "verify", "-x509_strict", "-crl_check", "-crl_download",
              "-CAfile", str(tmp_path / "root.pem")]
    r = run(*verify, tmp_path / "issuing.pem")  # the root's CRL, from the CA's CRL DP
    assert r.stdout.strip().endswith(": OK")
    r = run(*verify, "-untrusted", tmp_path / "issuing.pem", out / "cert.pem")
    assert r.stdout.strip().endswith(": OK")
    ok(data, "cert", "revoke", c["id"], "--reason", "keyCompromise")
    r = run(*verify, "-untrusted", tmp_path / "issuing.pem", out / "cert.pem", check=False)
    assert r.returncode != 0 and "certificate revoked" in r.stdout + r.stderr


def key_opens_by_process(trace_text, main_pid):
    """From `strace -f` output: the thread-group (process) of each open of a
    CA key file."""
    tgid = {main_pid: main_pid}
    opens = []
    for line in trace_text.splitlines():
        pid_s, call = line.split(None, 1)
        pid = int(pid_s)
        tgid.setdefault(pid, pid)
        m = re.match(r"(clone3?|fork|vfork)\(.*\)\s+=\s+(\d+)$", call)
        if m:
            child = int(m.group(2))
            tgid[child] = tgid[pid] if "CLONE_THREAD" in call else child
        elif call.startswith("openat(") and re.search(r'/ca/[^/"]+\.key(\.tmp\.\w+)?"', call):
            opens.append(tgid[pid])
    return opens


def test_cli_uses_a_signer_process_for_ca_keys(tmp_path):
    if shutil.which("strace") is None:
        pytest.fail("strace is missing: install the strace package (make deps)")
    data = tmp_path / "data"
    steps = [(["ca", "init"], True),
             (["cert", "apply", "--name", "t.example.com", "--key", "ec256"], True),
             (["cert", "revoke", "1", "--reason", "superseded"], True),  # signs a CRL
             (["crl", "--ca", "2", "--out", str(tmp_path / "crl.pem")], False),  # reads
             (["crl", "--ca", "2"], True)]  # signs every CRL of the CA again
    for args, signs in steps:
        trace = tmp_path / "trace"
        p = subprocess.run(["strace", "-f", "-qq", "-o", str(trace), "-e",
                            "trace=openat,clone,clone3,fork,vfork", QUILL, "--data", str(data),
                            "--json", *args], capture_output=True, text=True,
                           env=quill_env(), timeout=60)
        assert p.returncode == 0, p.stdout + p.stderr
        text = trace.read_text()
        main_pid = int(text.split(None, 1)[0])
        opens = key_opens_by_process(text, main_pid)
        if signs:
            assert opens, f"{args}: no CA key opened at all (tracing broken?)"
        assert main_pid not in opens, f"{args}: the main process opened a CA key"
