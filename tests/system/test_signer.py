"""The signer process (issue 7, "Keys stay in the signer"): a fork and exec
of quill itself with an empty environment, its socket and nothing else, a
seccomp filter, user separation when started as root, restarts after a
kill -9, the passphrase gone from the main process's environment, keys at
rest under PBKDF2-HMAC-SHA256 with 600,000 iterations (and old files
re-encrypted), and what the signer refuses whatever it is asked.

Orders issued through `quill serve` and `quill order validate` use the DNS
lab of test_orders.py (Knot + Unbound on loopback).
"""

import hashlib
import os
import pwd
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import (Encoding, PublicFormat,
                                                          load_pem_private_key)

from conftest import (PASSPHRASE, QUILL, apply, ca_list, crl_number, crl_of, ok, quill,
                      quill_env, refused, run, show)
from knot import free_port
from test_orders import (Serve, configure, dns_lab, order_apply, pid_alive, validate,
                         wait_order)

# ---------------------------------------------------------------- helpers


def children(pid):
    kids = []
    for f in Path(f"/proc/{pid}/task").glob("*/children"):
        kids += [int(x) for x in f.read_text().split()]
    return kids


def the_signer(main_pid, timeout=10):
    """The one live child of `main_pid` (its signer), waiting for it."""
    deadline = time.monotonic() + timeout
    while True:
        kids = [k for k in children(main_pid) if pid_alive(k)]
        if len(kids) == 1:
            return kids[0]
        assert time.monotonic() < deadline, f"children of {main_pid}: {kids}"
        time.sleep(0.05)


def status_field(pid, name):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].split()
    raise AssertionError(f"no {name} in /proc/{pid}/status")


def key_id(cert_pem):
    spki = x509.load_pem_x509_certificate(cert_pem.encode()).public_key().public_bytes(
        Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def issuing_key_file(data, alg="ec256"):
    (ca,) = [c for c in ca_list(data) if not c["is_root"] and c["key_algorithm"] == alg]
    return ca, Path(data, "ca", key_id(ca["certificate"]) + ".key")


def pbkdf2_iterations(pem_path):
    """The PBKDF2 iteration count of an encrypted PKCS#8 file, read with
    `openssl asn1parse`; also checks the PRF and the cipher."""
    out = run("openssl", "asn1parse", "-in", pem_path).stdout
    assert ":PBES2" in out and ":PBKDF2" in out, out
    assert ":hmacWithSHA256" in out and ":aes-256-cbc" in out, out
    lines = out.splitlines()
    at = next(i for i, l in enumerate(lines) if ":PBKDF2" in l)
    ints = [l for l in lines[at:] if "prim: INTEGER" in l]
    return int(ints[0].rsplit(":", 1)[1], 16)


def make_old_style(path, password):
    """Rewrites an encrypted key file the way an old install wrote it:
    PBKDF2 with 2,048 iterations."""
    plain = Path(str(path) + ".plain")
    run("openssl", "pkey", "-in", path, "-passin", f"pass:{password}", "-out", plain)
    run("openssl", "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-iter", "2048", "-in", plain,
        "-passout", f"pass:{password}", "-out", path)
    plain.unlink()
    assert pbkdf2_iterations(path) == 2048


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with dns_lab(tmp_path_factory.mktemp("signer-dns")) as lab_:
        yield lab_


@pytest.fixture
def data(ca_dir, lab):
    configure(ca_dir, lab.recursor.addr, extra="[jobs]\nworkers = 1\n")
    return ca_dir


@pytest.fixture
def serve(tmp_path):
    started = []

    def start(d, binary=QUILL, env=None):
        s = Serve(d, tmp_path / f"serve-{len(started)}.log", binary, env)
        started.append(s)
        return s.start()
    yield start
    for s in started:
        if s.proc.poll() is None:
            assert s.stop() == 0, s.logs()


# ------------------------------------------------- the process, from /proc


def test_signer_is_quill_exec_with_nothing_inherited(data, serve):
    s = serve(data)
    main = s.proc.pid
    signer = the_signer(main)
    # the quill binary itself, run again as `quill signer`
    assert Path(f"/proc/{signer}/exe").resolve() == Path(QUILL).resolve()
    assert Path(f"/proc/{signer}/cmdline").read_bytes() == b"quill\0signer\0"
    # an empty environment
    assert Path(f"/proc/{signer}/environ").read_bytes() == b""
    # stdin and stdout on /dev/null, stderr shared with quill serve (the log),
    # the socket on 3, and nothing else
    fds = {int(f.name): os.readlink(f) for f in Path(f"/proc/{signer}/fd").iterdir()}
    # the signer's own journal (opened by the signer after exec, once it has
    # signed something) is not inherited; nothing else may be there
    own = {k for k, v in fds.items()
           if k > 3 and "/ca/journal/" in v and f"-{signer}-" in v and v.endswith(".jnl")}
    assert sorted(set(fds) - own) == [0, 1, 2, 3], fds
    assert fds[0] == fds[1] == "/dev/null", fds
    assert fds[2] == os.readlink(f"/proc/{main}/fd/2"), fds
    assert fds[3].startswith("socket:"), fds
    # the system call filter is on, and no privilege can be gained
    assert status_field(signer, "Seccomp") == ["2"]
    assert status_field(signer, "NoNewPrivs") == ["1"]


def test_passphrase_gone_from_the_main_process_environment(data, serve):
    s = serve(data)
    environ = Path(f"/proc/{s.proc.pid}/environ").read_bytes()
    assert PASSPHRASE.encode() not in environ
    assert b"PATH=" in environ  # the block is there, only the secret is gone


def test_data_key_gone_from_the_main_process_environment(data, serve, tmp_path):
    """QUILL_DATA_KEY (the key that seals stored private keys) leaves the
    environment of `quill serve` like the passphrase, and still works."""
    data_key = "7e" * 32
    env = quill_env(QUILL_DATA_KEY=data_key)
    s = serve(data, QUILL, env)
    environ = Path(f"/proc/{s.proc.pid}/environ").read_bytes()
    assert data_key.encode() not in environ and PASSPHRASE.encode() not in environ
    assert b"PATH=" in environ
    # what one process sealed with it, another opens with it
    c = ok(data, "cert", "apply", "--name", "sealed.example.com", "--key", "ec256",
           env=env)["certificate"]
    assert c["key_held"] and c["key_protection"] == "data_key", c
    ok(data, "cert", "download", c["id"], "--format", "pem", "--out", tmp_path / "dl", env=env)
    assert "PRIVATE KEY" in (tmp_path / "dl" / "key.pem").read_text()
    err = refused(data, "cert", "download", c["id"], "--format", "pem", "--out",
                  tmp_path / "dl2", env=quill_env(QUILL_DATA_KEY="00" * 32),
                  code="data_key_wrong", exit=3)
    assert "data key" in err["message"], err


def test_every_request_type_under_the_filter(tmp_path):
    """CA creation (root and issuing, each key type), certificate signing and
    CRL signing all run in a filtered signer (the CLI's own): the filter is
    installed before the signer answers its first message."""
    d = tmp_path / "data"
    trace = tmp_path / "trace"
    p = subprocess.run(["strace", "-f", "-qq", "-o", str(trace), "-e",
                        "trace=seccomp,execveat,execve,write", "-e", "signal=none", QUILL,
                        "--data", str(d), "--json", "ca", "init"],
                       capture_output=True, text=True, env=quill_env(), timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    lines = trace.read_text().splitlines()
    signer = next(int(l.split()[0]) for l in lines if "execve" in l and '"signer"' in l)
    mine = [l.split(None, 1)[1] for l in lines if int(l.split()[0]) == signer]
    filt = next(i for i, c in enumerate(mine)
                if c.startswith("seccomp(SECCOMP_SET_MODE_FILTER") and c.endswith("= 0"))
    first_answer = next(i for i, c in enumerate(mine) if c.startswith("write(3,"))
    assert filt < first_answer, mine[:30]
    ok(d, "ca", "init", "--key", "rsa2048")
    ok(d, "ca", "init", "--root-key", "sm2", "--key", "sm2")
    for alg in ("ec256", "rsa2048", "sm2"):
        c = apply(d, f"{alg}.example.com", key=alg)
        ok(d, "cert", "revoke", c["id"], "--reason", "superseded")  # signs a CRL
        assert show(d, c["id"])["status"] == "revoked"


def test_restart_after_kill9(lab, data, serve):
    s = serve(data)
    deadline = time.monotonic() + 20
    while 'msg="listening"' not in s.logs(100000):  # both listeners up: start-up is over
        s.check_alive()
        assert time.monotonic() < deadline, s.logs()
        time.sleep(0.05)
    old = the_signer(s.proc.pid)
    os.kill(old, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while old in children(s.proc.pid):  # reaped by quill serve
        assert time.monotonic() < deadline, s.logs()
        time.sleep(0.05)
    name = "after-kill.signer.quill-test.org"
    o = order_apply(data, name)
    lab.publish(o)
    o = wait_order(data, o["id"], lambda x: x["status"] in ("issued", "failed"), "finished",
                   proc_check=s.check_alive)
    assert o["status"] == "issued", (o, s.logs())
    assert show(data, o["certificate_id"])["names"] == [name]
    new = the_signer(s.proc.pid)
    assert new != old
    assert Path(f"/proc/{new}/environ").read_bytes() == b""
    assert status_field(new, "Seccomp") == ["2"]
    logs = s.logs(100000)
    assert re.search(rf"signer died.*pid={old}.*signal 9", logs), logs
    assert re.search(rf"signer started.*pid={new}", logs), logs


def test_order_validate_starts_the_signer_before_any_thread(lab, data, tmp_path):
    o = order_apply(data, "threads.signer.quill-test.org")
    lab.publish(o)
    trace = tmp_path / "trace"
    p = subprocess.run(["strace", "-f", "-qq", "-o", str(trace), "-e",
                        "trace=clone,clone3,fork,vfork,execve,execveat", QUILL, "--data",
                        str(data), "--json", "order", "validate", str(o["id"])],
                       capture_output=True, text=True, env=quill_env(), timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert '"status":"issued"' in p.stdout, p.stdout
    lines = trace.read_text().splitlines()
    main = int(lines[0].split()[0])
    signer = None
    for line in lines:
        pid, call = line.split(None, 1)
        if call.startswith("execve") and '"signer"' in call:
            signer = int(pid)
    assert signer, "no process executed `quill signer`"
    made_signer = next(i for i, l in enumerate(lines)
                       if re.search(r"(clone3?|fork|vfork)\(.*\)\s+=\s+%d$" % signer, l))
    threads = [i for i, l in enumerate(lines) if "CLONE_THREAD" in l]
    assert threads, "no thread at all (libunbound's were expected): tracing broken?"
    assert made_signer < threads[0], "\n".join(lines[:40])
    assert int(lines[made_signer].split()[0]) == main


# --------------------------------------------------------- keys at rest


def test_ca_key_files_use_600000_pbkdf2_iterations(ca_dir):
    files = sorted(Path(ca_dir, "ca").glob("*.key"))
    assert len(files) >= 4
    for f in files:
        assert pbkdf2_iterations(f) >= 600000, f
        assert (f.stat().st_mode & 0o777) == 0o600


def test_old_ca_key_file_is_reencrypted_at_first_load(ca_dir):
    ca, f = issuing_key_file(ca_dir)
    make_old_style(f, PASSPHRASE)
    c = apply(ca_dir, "reencrypt.example.com")
    assert c["ca_id"] == ca["id"]
    assert pbkdf2_iterations(f) == 600000
    assert (f.stat().st_mode & 0o777) == 0o600
    load_pem_private_key(f.read_bytes(), PASSPHRASE.encode())  # still the passphrase's
    apply(ca_dir, "again.example.com")  # and still the CA's key


def test_subscriber_key_reencrypted_when_opened_with_its_password(ca_dir, workdir):
    pw = "subscriber-pass-1"
    c = apply(ca_dir, "subscriber.example.com", extra=["--key-password", pw])
    db = sqlite3.connect(Path(ca_dir, "quill.db"))
    (blob,) = db.execute("SELECT key_blob FROM certificates WHERE id = ?",
                         (c["id"],)).fetchone()
    new_style = workdir / "new.pem"
    new_style.write_bytes(blob)
    assert pbkdf2_iterations(new_style) == 600000
    make_old_style(new_style, pw)
    db.execute("UPDATE certificates SET key_blob = ? WHERE id = ?",
               (new_style.read_bytes(), c["id"]))
    db.commit()
    ok(ca_dir, "cert", "download", c["id"], "--format", "pem", "--out", workdir / "dl",
       "--key-password", pw)
    (blob,) = db.execute("SELECT key_blob FROM certificates WHERE id = ?",
                         (c["id"],)).fetchone()
    db.close()
    after = workdir / "after.pem"
    after.write_bytes(blob)
    assert pbkdf2_iterations(after) == 600000
    load_pem_private_key(blob, pw.encode())
    events = ok(ca_dir, "cert", "show", c["id"])["certificate"]["events"]
    assert any("re-encrypted" in (e["reason"] or "") for e in events), events


def test_short_ca_passphrase_is_refused(tmp_path):
    d = tmp_path / "data"
    err = refused(d, "ca", "init", code="ca_passphrase_weak", exit=2,
                  env=quill_env(QUILL_CA_PASSPHRASE="eleven-char"))
    assert "12" in err["message"]
    assert not list(Path(d).glob("ca/*.key"))
    ok(d, "ca", "init", env=quill_env(QUILL_CA_PASSPHRASE="twelve-chars"))


def test_short_key_password_is_refused(ca_dir):
    refused(ca_dir, "cert", "apply", "--name", "pw.example.com", "--key", "ec256",
            "--key-password", "seven77", code="key_password_weak", exit=2)
    c = apply(ca_dir, "pw.example.com", extra=["--key-password", "eight888"])
    refused(ca_dir, "cert", "reissue", c["id"], "--key", "ec256", "--key-password", "short",
            "--reason", "rotate", code="key_password_weak", exit=2)


# ------------------------------------------------------- BR refusals


def test_crl_number_behind_the_signers_mark_moves_past_it(ca_dir, issuing_ids):
    ca_id = issuing_ids["ec256"]
    ca, _ = issuing_key_file(ca_dir)
    mark = Path(ca_dir, "ca", key_id(ca["certificate"]) + ".crlnumber")
    assert mark.exists()  # written by the CRL signed at `ca init`
    mark.write_text("100\n")  # as if a signed CRL's transaction rolled back
    c = apply(ca_dir, "mark.example.com")
    ok(ca_dir, "cert", "revoke", c["id"], "--reason", "keyCompromise")
    crl = crl_of(ca_dir, ca_id, ca_dir / "crl.pem")
    assert crl_number(crl) > 100
    assert int(mark.read_text()) == crl_number(crl)
    assert crl.get_revoked_certificate_by_serial_number(int(c["serial"], 16)) is not None


# ------------------------------------------------------ user separation


class Users:
    """Two system users made for one test and removed after it."""

    def __init__(self):
        tag = secrets.token_hex(3)
        self.server, self.signer = f"qsrv{tag}", f"qsig{tag}"
        for u in (self.server, self.signer):
            run("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", u)

    def uid(self, name):
        return pwd.getpwnam(name).pw_uid

    def remove(self):
        for u in (self.server, self.signer):
            subprocess.run(["userdel", u], capture_output=True)


def get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.read()


def as_user(user, *cmd):
    return subprocess.run(["runuser", "-u", user, "--", *map(str, cmd)], capture_output=True,
                          text=True, timeout=30)


def test_user_separation_as_root(tmp_path):
    assert os.geteuid() == 0, "this test creates users: it runs as root (as in CI)"
    users = Users()
    base = Path(tempfile.mkdtemp(prefix="quill-users-", dir="/tmp"))
    proc = None
    try:
        os.chmod(base, 0o755)
        binary = base / "quill"
        shutil.copy2(QUILL, binary)
        data = base / "data"
        data.mkdir(mode=0o700)  # root's: quill hands it to the server user
        port = free_port()
        (data / "quill.conf").write_text(
            f"[server]\nuser = {users.server}\nlisten = 127.0.0.1:{port}\n"
            f"base_url = http://127.0.0.1:{port}\n[signer]\nuser = {users.signer}\n")
        log = open(tmp_path / "serve.log", "w+")
        proc = subprocess.Popen([binary, "serve", "--data", data], stdout=log,
                                stderr=subprocess.STDOUT, env=quill_env())
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, Path(tmp_path / "serve.log").read_text()
            try:
                if get(f"http://127.0.0.1:{port}/healthz")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            assert time.monotonic() < deadline, Path(tmp_path / "serve.log").read_text()
            time.sleep(0.05)
        srv_uid, sig_uid = users.uid(users.server), users.uid(users.signer)
        main = proc.pid
        signer = the_signer(main)
        # every uid and gid of each process (real, effective, saved, fs)
        assert status_field(main, "Uid") == [str(srv_uid)] * 4
        assert status_field(signer, "Uid") == [str(sig_uid)] * 4
        assert status_field(main, "Gid") == [str(pwd.getpwnam(users.server).pw_gid)] * 4
        assert status_field(signer, "Seccomp") == ["2"]
        assert PASSPHRASE.encode() not in Path(f"/proc/{main}/environ").read_bytes()
        # the key directory and the keys: the signer user's alone
        keydir = data / "ca"
        st = keydir.stat()
        assert (st.st_uid, st.st_mode & 0o777) == (sig_uid, 0o700)
        keys = list(keydir.glob("*.key"))
        assert len(keys) == 2  # root and issuing, made at the first start
        for k in keys:
            st = k.stat()
            assert (st.st_uid, st.st_mode & 0o777) == (sig_uid, 0o600), k
            assert as_user(users.server, "cat", k).returncode != 0
            assert as_user(users.signer, "cat", k).returncode == 0  # control
        assert (data.stat().st_uid, data.stat().st_mode & 0o777) == (srv_uid, 0o711)
        assert Path(data, "quill.db").stat().st_uid == srv_uid
        # issuance and revocation work (a root CLI: it separates the same way)
        c = apply(data, "separated.example.com")
        assert show(data, c["id"])["status"] == "issued"
        ok(data, "cert", "revoke", c["id"], "--reason", "superseded")
        _, der = get(f"http://127.0.0.1:{port}/crl/{c['ca_id']}/{c['crl_shard']}.crl")
        crl = x509.load_der_x509_crl(der)
        assert crl.get_revoked_certificate_by_serial_number(int(c["serial"], 16)) is not None
        for f in data.iterdir():
            if f.name != "ca" and f.name != "quill.conf":
                assert f.stat().st_uid == srv_uid, f
        # a dead signer cannot be started again by a process that is no longer
        # root: quill serve stops (exit 3) for the service manager to restart
        os.kill(signer, signal.SIGKILL)
        assert proc.wait(timeout=15) == 3
        assert "signer lost" in Path(tmp_path / "serve.log").read_text()
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        users.remove()
        shutil.rmtree(base, ignore_errors=True)
