"""Shared helpers for quill's system tests: the real binary, real relying
parties (openssl, certtool, keytool, curl), no mocks.

Every test gets its own data directory (a copy of one session-wide CA made
once with `quill ca init`) and the environment QUILL_CA_PASSPHRASE.

Every certificate the test suite makes quill issue lints clean (issue 7):
after each test, the autouse fixture `issued_certificates_lint_clean` reads
every quill database under the test's tmp_path and runs `quill lint` on each
certificate quill issued (apply, sign, reissue, orders, CA certificates;
not uploads, which are third parties'): an error-level finding fails the
test.
"""

import datetime as dt
import hashlib
import json as jsonlib
import os
import re
import shutil
import socket
import sqlite3
import ssl
import subprocess
import time
import tempfile
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

REPO = Path(__file__).resolve().parents[2]
QUILL = os.environ.get("QUILL_BIN") or str(REPO / "build" / "quill")
# the test build: the same code plus the pause points of src/base/testhook.h
QUILL_TEST = os.environ.get("QUILL_TEST_BIN") or str(REPO / "build" / "quill-test")
PASSPHRASE = "some-test-passphrase"
DEFAULT_BASE_URL = "http://127.0.0.1:8080"
RFC3339_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
SM2_WITH_SM3 = "1.2.156.10197.1.501"
SM2_DISTID = "distid:1234567812345678"


def pytest_configure(config):
    if not os.access(QUILL, os.X_OK):
        raise pytest.UsageError(f"quill binary not found at {QUILL}; run 'make build' "
                                "or set QUILL_BIN")


# ---------------------------------------------------------------- running


def quill_env(**overrides):
    """The environment of a quill run: no inherited QUILL_* settings, the test
    passphrase, plus `overrides` (a value of None removes the variable)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUILL_")}
    env["QUILL_CA_PASSPHRASE"] = PASSPHRASE
    for k, v in overrides.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def reviewer_env(name="reviewer-rita"):
    """The environment of a local reviewer other than the applicant: the
    CLI's principal is "cli:$USER", and whoever applied (or asked for a
    revocation) may not decide its review (the four-eyes rule)."""
    return quill_env(USER=name)


def parse_one_json(stdout):
    """Asserts `stdout` is exactly one JSON object and returns it."""
    text = stdout.strip()
    assert text, "expected one JSON object on stdout, got nothing"
    obj, end = jsonlib.JSONDecoder().raw_decode(text)
    assert text[end:].strip() == "", f"more than one JSON value on stdout: {stdout!r}"
    assert isinstance(obj, dict), f"stdout is JSON but not an object: {stdout!r}"
    return obj


def quill(data_dir, *args, json=True, env=None, check=None, timeout=60, **popen_kw):
    """Runs `quill --data DIR [--json] ARGS...`; returns (exit code, parsed
    JSON object (or stdout text without --json), stderr)."""
    cmd = [QUILL]
    if data_dir is not None:
        cmd += ["--data", str(data_dir)]
    if json:
        cmd.append("--json")
    cmd += [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       env=env if env is not None else quill_env(), **popen_kw)
    out = parse_one_json(p.stdout) if json else p.stdout
    if check is not None:
        assert p.returncode == check, (f"{' '.join(cmd[1:])}: exit {p.returncode}, "
                                       f"expected {check}\nstdout: {p.stdout}\n"
                                       f"stderr: {p.stderr[-2000:]}")
    return p.returncode, out, p.stderr


def ok(data_dir, *args, **kw):
    """Runs quill, asserts exit 0, returns the JSON object."""
    return quill(data_dir, *args, check=0, **kw)[1]


def refused(data_dir, *args, code, exit=1, **kw):
    """Runs quill, asserts the exit status and the stable error code and a
    non-empty message; returns the error object."""
    _, out, _ = quill(data_dir, *args, check=exit, **kw)
    assert "error" in out, out
    err = out["error"]
    assert err["code"] == code, f"expected {code}, got {err}"
    assert isinstance(err.get("message"), str) and err["message"].strip(), err
    return err


def run(*cmd, check=True, input=None, timeout=60):
    """Runs an external tool (openssl, certtool, keytool...) with text I/O."""
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                       input=input, timeout=timeout)
    if check:
        assert p.returncode == 0, (f"{' '.join(map(str, cmd))}: exit {p.returncode}\n"
                                   f"stdout: {p.stdout}\nstderr: {p.stderr}")
    return p


# ---------------------------------------------------------------- domain


def apply(data_dir, *names, key="ec256", extra=()):
    """`cert apply` that must succeed; returns the certificate object."""
    args = ["cert", "apply"]
    for n in names:
        args += ["--name", n]
    args += ["--key", key, *extra]
    return ok(data_dir, *args)["certificate"]


def cert_list(data_dir):
    return ok(data_dir, "cert", "list")["certificates"]


def list_state(data_dir):
    """What `cert list` says, without the clock-dependent fields: used to show
    that a refused command changed nothing."""
    return sorted((c["id"], c["serial"], c["status"], c["not_after"], c["origin"])
                  for c in cert_list(data_dir))


def show(data_dir, cert_id):
    return ok(data_dir, "cert", "show", cert_id)["certificate"]


def ca_list(data_dir):
    return ok(data_dir, "ca", "list")["cas"]


def ca_files(data_dir, ca_id, dest):
    """Writes the issuing CA `ca_id` and its root as PEM files under `dest`;
    returns (root_path, issuing_path)."""
    cas = {c["id"]: c for c in ca_list(data_dir)}
    issuing = cas[ca_id]
    root = cas[issuing["parent_id"]]
    assert root["is_root"] and not issuing["is_root"]
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    rp, ip = dest / f"root-{root['id']}.pem", dest / f"issuing-{ca_id}.pem"
    rp.write_text(root["certificate"])
    ip.write_text(issuing["certificate"])
    return rp, ip


def download(data_dir, cert_id, out_dir, fmt="pem", *extra):
    """`cert download` that must succeed; returns the reported file paths."""
    files = ok(data_dir, "cert", "download", cert_id, "--format", fmt,
               "--out", out_dir, *extra)["files"]
    return [Path(f) for f in files]


def load_cert(pem):
    if isinstance(pem, Path):
        pem = pem.read_text()
    return x509.load_pem_x509_certificate(pem.encode() if isinstance(pem, str) else pem)


def split_pems(text):
    return re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n?",
                      text, re.S)


def rfc3339(s):
    assert RFC3339_Z.match(s), f"not RFC 3339 UTC with Z: {s!r}"
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")


def split_crl_pems(data):
    """The PEM blocks of a CRL bundle, as bytes."""
    if isinstance(data, str):
        data = data.encode()
    return re.findall(rb"-----BEGIN X509 CRL-----.*?-----END X509 CRL-----\n?", data, re.S)


def crls_of(data_dir, ca_id, path):
    """Writes every stored CRL of CA `ca_id` (the unsharded one, then each
    shard) as one PEM bundle to `path` with `quill crl --ca ID --out`;
    returns them parsed, in that order."""
    ok(data_dir, "crl", "--ca", ca_id, "--out", path)
    crls = [x509.load_pem_x509_crl(b) for b in split_crl_pems(Path(path).read_bytes())]
    assert crls, f"no CRL in {path}"
    return crls


def reserve_serials(con, items):
    """Reservation rows (migration 008: two-phase issuance) for certificates
    a test writes straight into the database as if quill had issued them:
    items are (serial, ca_id, tenant_id, profile, key_algorithm)."""
    now = int(time.time())
    con.executemany(
        "INSERT INTO serials (serial, ca_id, tenant_id, purpose, profile, key_algorithm, state, "
        "reserved_at) VALUES (?, ?, ?, 'certificate', ?, ?, 'reserved', ?)",
        [tuple(i) + (now,) for i in items])


class CrlSet:
    """The CRLs of one CA read as one list of entries (an issuing CA's CRL
    is sharded: docs/internals/crl.md)."""

    def __init__(self, crls):
        self.crls = crls

    def __iter__(self):
        for c in self.crls:
            yield from c

    def __len__(self):
        return sum(len(c) for c in self.crls)

    def get_revoked_certificate_by_serial_number(self, serial):
        for c in self.crls:
            r = c.get_revoked_certificate_by_serial_number(serial)
            if r is not None:
                return r
        return None


def crl_of(data_dir, ca_id, path):
    """Every CRL of CA `ca_id` (written to `path` as a PEM bundle) as one
    CrlSet."""
    return CrlSet(crls_of(data_dir, ca_id, path))


def crl_number(crl):
    """A CRL's number; of a CrlSet, the highest (one sequence per CA)."""
    if isinstance(crl, CrlSet):
        return max(crl_number(c) for c in crl.crls)
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


def shard_crl(data_dir, ca_id, shard, path):
    """One stored CRL partition (`shard` a number or "legacy") written to
    `path` as PEM with `quill crl --ca ID --shard N --out`; returns it."""
    ok(data_dir, "crl", "--ca", ca_id, "--shard", shard, "--out", path)
    blocks = split_crl_pems(Path(path).read_bytes())
    assert len(blocks) == 1, blocks
    return x509.load_pem_x509_crl(blocks[0])


def crl_for(data_dir, cert, path):
    """The CRL that lists certificate `cert` (a `cert show` object) when it is
    revoked: its shard's, or the CA's unsharded one."""
    shard = cert["crl_shard"] if cert.get("crl_shard") is not None else "legacy"
    return shard_crl(data_dir, cert["ca_id"], shard, path)


def crl_shard_of(serial_hex, shards):
    """The CRL shard quill gives a serial (docs/internals/crl.md): FNV-1a
    (32 bits) of its big-endian magnitude bytes, modulo the shard count."""
    v = int(serial_hex, 16)
    h = 2166136261
    for b in v.to_bytes((v.bit_length() + 7) // 8, "big"):
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h % shards


def idp_url(crl):
    """The fullName URI of a CRL's issuingDistributionPoint (asserted
    critical), or None without one."""
    try:
        ext = crl.extensions.get_extension_for_class(x509.IssuingDistributionPoint)
    except x509.ExtensionNotFound:
        return None
    assert ext.critical
    names = ext.value.full_name
    assert names is not None and len(names) == 1, names
    return names[0].value


def openssl_verify(root, issuing, leaf, *opts):
    return run("openssl", "verify", "-x509_strict", *opts, "-CAfile", root,
               "-untrusted", issuing, leaf, check=False)


def write_conf(data_dir, text):
    Path(data_dir, "quill.conf").write_text(text)


def make_csr(path, names, key=None, cn=None, der=False):
    """A CSR (made with the cryptography library) for `names`; returns key."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    b = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn or names[0])]))
    b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                        critical=False)
    csr = b.sign(key, hashes.SHA256())
    enc = serialization.Encoding.DER if der else serialization.Encoding.PEM
    Path(path).write_bytes(csr.public_bytes(enc))
    return key


# ------------------------------------------------ pause points (race tests)


class Pauses:
    """Pause points of the test build (src/base/testhook.h,
    docs/internals/testing.md): a process run with env(points...) stops at
    each named point, creating the marker DIR/POINT.PID.TID, and goes on when
    the marker is removed. A race test stops one side where it wants it,
    runs the other side, then releases: the race happens every time."""

    def __init__(self, d):
        self.dir = Path(d)
        self.procs = []

    def env(self, *points, **overrides):
        """quill_env() plus QUILL_TEST_PAUSE naming `points`."""
        assert points and all(p and "," not in p and ":" not in p for p in points)
        return quill_env(QUILL_TEST_PAUSE=f"{','.join(points)}:{self.dir}", **overrides)

    def start(self, data_dir, *args, points=(), env=None, **popen_kw):
        """Starts `quill-test --data DIR --json ARGS` (stopping at `points`,
        or as `env` says) and returns its Popen (text pipes)."""
        cmd = [QUILL_TEST, "--data", str(data_dir), "--json", *map(str, args)]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env if env is not None else self.env(*points), **popen_kw)
        self.procs.append(p)
        return p

    def markers(self, point="*", pid="*"):
        return sorted(self.dir.glob(f"{point}.{pid}.*"))

    def wait(self, point, proc, logs=None, timeout=60):
        """Waits until process `proc` (a Popen) stands at `point`; returns
        its marker. Fails, with what the process said, when it ends first:
        a race that cannot be set up is a failure, never a skip."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.markers(point, proc.pid)
            if found:
                return found[0]
            if proc.poll() is not None:
                said = logs() if logs else "".join(x or "" for x in proc.communicate())
                pytest.fail(f"process {proc.pid} exited {proc.returncode} before pause point "
                            f"{point}: {said[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"process {proc.pid} did not reach pause point {point} within "
                            f"{timeout} s")
            time.sleep(0.01)

    def release(self, marker):
        Path(marker).unlink()

    def release_all(self):
        for m in self.markers():
            m.unlink(missing_ok=True)


@pytest.fixture
def pauses(tmp_path):
    """Pause points for race tests (needs build/quill-test: `make build-test`;
    `make system` builds it). At teardown every paused process is released
    and every process started through it is stopped."""
    if not os.access(QUILL_TEST, os.X_OK):
        pytest.fail(f"the test build {QUILL_TEST} is missing: run 'make build-test' "
                    "(make system and make test build it) or set QUILL_TEST_BIN")
    d = tmp_path / "pauses"
    d.mkdir()
    p = Pauses(d)
    yield p
    p.release_all()
    for proc in p.procs:
        if proc.poll() is None:
            try:
                proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()


# ------------------------------------------------ a third-party PKI (uploads)


class ThirdParty:
    """A little CA of the test's own (root -> intermediate -> leaf), made with
    the cryptography library, written as PEM files for `cert upload`."""

    def __init__(self, dest, name="upload.example.org", days=20):
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        now = dt.datetime.utcnow().replace(microsecond=0)
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.int_key = ec.generate_private_key(ec.SECP256R1())
        self.leaf_key = ec.generate_private_key(ec.SECP256R1())
        self.root = self._cert("Test Third-Party Root", self.root_key, "Test Third-Party Root",
                               self.root_key, now, 3650, ca=True)
        self.inter = self._cert("Test Third-Party Intermediate", self.int_key,
                                "Test Third-Party Root", self.root_key, now, 1000, ca=True)
        self.leaf = self._cert(name, self.leaf_key, "Test Third-Party Intermediate",
                               self.int_key, now, days, ca=False, san=[name])
        pem = lambda c: c.public_bytes(serialization.Encoding.PEM)
        self.cert_path = dest / "leaf.pem"
        self.cert_path.write_bytes(pem(self.leaf))
        self.key_path = dest / "leaf.key"
        self.key_path.write_bytes(self.leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        self.other_key_path = dest / "other.key"
        self.other_key_path.write_bytes(self.int_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        self.chain_path = dest / "chain.pem"
        self.chain_path.write_bytes(pem(self.inter) + pem(self.root))
        self.root_only_path = dest / "root-only.pem"
        self.root_only_path.write_bytes(pem(self.root))
        self.name = name

    @staticmethod
    def _cert(subject, key, issuer, issuer_key, now, days, ca, san=None):
        b = (x509.CertificateBuilder()
             .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
             .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
             .public_key(key.public_key())
             .serial_number(x509.random_serial_number())
             .not_valid_before(now - dt.timedelta(minutes=5))
             .not_valid_after(now + dt.timedelta(days=days))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                            critical=False)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                 issuer_key.public_key()), critical=False))
        if ca:
            b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
                                              False, False), critical=True)
        else:
            b = b.add_extension(x509.KeyUsage(True, False, False, False, False, False, False,
                                              False, False), critical=True)
            b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                                critical=False)
            b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in san]),
                                critical=False)
        return b.sign(issuer_key, hashes.SHA256())

    def upload(self, data_dir):
        return ok(data_dir, "cert", "upload", "--cert", self.cert_path, "--key", self.key_path,
                  "--chain", self.chain_path)


# ---------------------------------------------------------------- lint


def lint(pem, profile=None, data_dir=None, config=None):
    """`quill --json lint [--profile P] FILE` on a PEM text; returns (exit
    code, the parsed object)."""
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as f:
        f.write(pem)
        f.flush()
        args = [*(["--config", config] if config else []), "lint",
                *(["--profile", profile] if profile else []), f.name]
        rc, out, _ = quill(data_dir, *args)
    return rc, out


_LINTED = set()  # (data dir config, certificate) already linted clean


def _stored_certificates(db):
    """(profile or None, PEM) of every certificate quill issued in `db`:
    CA certificates (their rules follow from their policies) and issued
    ones, not uploads."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        cas = [(None, r[0]) for r in con.execute("SELECT cert_pem FROM cas")]
        certs = list(con.execute("SELECT profile, cert_pem FROM certificates "
                                 "WHERE origin = 'issued'"))
        # delegated OCSP responders (migration 007): the linter knows them by their EKU
        has = con.execute("SELECT 1 FROM sqlite_master WHERE name = 'ocsp_responders'").fetchone()
        responders = [(None, ssl.DER_cert_to_PEM_cert(r[0]))
                      for r in con.execute("SELECT cert_der FROM ocsp_responders")] if has else []
    finally:
        con.close()
    return cas + certs + responders


def assert_linted_clean(data_dir):
    """Every certificate quill issued in `data_dir` passes `quill lint` (with
    the data dir's configuration: its profile maxima) without an error."""
    db = Path(data_dir) / "quill.db"
    conf = Path(data_dir) / "quill.conf"
    conf_text = conf.read_text() if conf.exists() else ""
    bad = []
    for profile, pem in _stored_certificates(db):
        key = hashlib.sha256(f"{profile}\0{conf_text}\0{pem}".encode()).hexdigest()
        if key in _LINTED:
            continue
        rc, out = lint(pem, profile, data_dir)
        if rc == 2 and out.get("error", {}).get("code") == "config_invalid":
            # a test that broke its configuration on purpose: judge by the defaults
            with tempfile.NamedTemporaryFile("w", suffix=".conf") as empty:
                rc, out = lint(pem, profile, None, config=empty.name)
        errors = [f for f in out.get("findings", []) if f["severity"] == "error"]
        if rc != 0 or errors:
            bad.append(f"{profile or 'CA'} certificate: exit {rc}: {errors or out}")
        else:
            _LINTED.add(key)
    assert not bad, f"certificates issued in {data_dir} fail lint:\n" + "\n".join(bad)


@pytest.fixture(autouse=True)
def issued_certificates_lint_clean(tmp_path):
    """After the test: every certificate issued into a data directory under
    tmp_path lints clean (see the module docstring)."""
    yield
    for db in sorted(tmp_path.rglob("quill.db")):
        try:
            _stored_certificates(db)
        except sqlite3.DatabaseError:
            continue  # a test that damaged its database on purpose
        assert_linted_clean(db.parent)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def ca_template(tmp_path_factory):
    """One data dir with the default CA (root ec384 + issuing ec256), an RSA
    issuing CA under the same root and an SM2 chain. Tests copy it."""
    data = tmp_path_factory.mktemp("ca-template") / "data"
    ok(data, "ca", "init")
    ok(data, "ca", "init", "--key", "rsa2048")
    ok(data, "ca", "init", "--root-key", "sm2", "--key", "sm2")
    return data


@pytest.fixture
def ca_dir(ca_template, tmp_path):
    """A private copy of the session CA data dir."""
    data = tmp_path / "data"
    shutil.copytree(ca_template, data)
    return data


@pytest.fixture
def issuing_ids(ca_template):
    """key_algorithm -> id of the issuing CAs of the session CA."""
    return {c["key_algorithm"]: c["id"] for c in ca_list(ca_template) if not c["is_root"]}


@pytest.fixture
def workdir(tmp_path):
    w = tmp_path / "work"
    w.mkdir()
    return w


def pick_port():
    """A loopback TCP port free right now (bind to port 0, read it back)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def free_port():
    return pick_port()
