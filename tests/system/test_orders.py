"""Public (DV) orders end to end, RULES.md §2-§3 and issue 3: `quill cert
apply --profile dv` -> `quill order validate` (or `quill serve`'s workers)
-> an issued certificate that verifies with openssl, against real DNS: Knot
DNS serving the zones, an Unbound recursor in front of it as quill's
[dns] resolver (tests/system/knot.py).

The CA's CAA identity is quill.test. One Knot + recursor per module; every
test uses its own names under quill-test.org (and its own data directory, a
copy of the session CA). The zone sits under a real top-level domain because
the public profiles refuse internal names such as .test (issue 7); our Knot
serves it (and an empty .org) and the recursor asks only Knot, so no query
leaves loopback.

The helpers in the first part (the DNS lab, the quill configuration, order
helpers, a `quill serve` runner) are also used by test_order_file.py,
test_reviews.py and test_order_rules.py.
"""

import base64
import contextlib
import os
import re
from datetime import datetime, timedelta
import signal
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from conftest import (QUILL, QUILL_TEST, download, load_cert, make_csr, ok, quill_env, refused,
                      run, show, split_pems)
from knot import Knot, Recursor, caa, dead_address, free_port, quill_conf, txt

US = "quill.test"
ZONE = "quill-test.org"
OID_DV = "2.23.140.1.2.1"
OID_OV = "2.23.140.1.2.2"
MAX_DAYS_2026 = 200  # BR validity limit from 2026-03-15 (RULES.md §8)
B64URL = re.compile(r"^[A-Za-z0-9_-]+$")


# ================================================================ the DNS lab


class Lab:
    """Knot (authoritative for quill-test.org and anything added) and the
    Unbound recursor quill uses as its [dns] resolver."""

    def __init__(self, knot, recursor, d, dead_ip):
        self.knot, self.recursor, self.dir, self.dead_ip = knot, recursor, d, dead_ip

    def set_txt(self, owner, *values):
        """TXT at `owner` (absolute) inside quill-test.org; none: removed."""
        self.knot.set_records(ZONE, owner.rstrip(".") + ".", "TXT", *[txt(v) for v in values])

    def set(self, owner, rtype, *rdata):
        self.knot.set_records(ZONE, owner.rstrip(".") + ".", rtype, *rdata)

    def publish(self, order):
        """Publishes the DNS challenge of every name of `order`."""
        for n in order["names"]:
            ch = n["challenge"]
            assert ch["type"] == "dns", n
            self.set_txt(ch["record_name"], ch["record_value"])


@contextlib.contextmanager
def dns_lab(d, records=()):
    """Starts Knot with quill-test.org (`records` added to it; a delegation of
    dead.quill-test.org to a server that does not exist is always there) and
    the recursor; stops both at the end."""
    d = Path(d)
    dead_ip = dead_address()
    knot = Knot(d / "knot")
    knot.add_zone(ZONE, ["dead NS ns.dead", f"ns.dead A {dead_ip}", *records])
    knot.start()
    rec = Recursor(d / "unbound", knot)
    try:
        rec.start()
        yield Lab(knot, rec, d, dead_ip)
    finally:
        rec.stop()
        knot.stop()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with dns_lab(tmp_path_factory.mktemp("orders-dns")) as lab_:
        yield lab_


def configure(data, resolver, extra="", **kw):
    """Writes <data>/quill.conf: the resolver, no DNSSEC trust anchor, our
    CAA identity, [validation] allow_private_addresses = true, plus `extra`
    INI text (more sections)."""
    kw.setdefault("identities", US)
    # everything runs on loopback here (the test switch; test_ssrf.py turns it off)
    extra = "[validation]\nallow_private_addresses = true\n" + extra
    return quill_conf(Path(data) / "quill.conf", resolver, extra=extra, **kw)


@pytest.fixture
def data(ca_dir, lab):
    """A CA data dir configured for the lab's recursor."""
    configure(ca_dir, lab.recursor.addr)
    return ca_dir


# ================================================================ orders


def order_apply(data, *names, method="dns", key="ec256", profile="dv", extra=()):
    """`cert apply --profile ...` that must succeed; returns the order."""
    args = ["cert", "apply", "--profile", profile]
    for n in names:
        args += ["--name", n]
    if key:
        args += ["--key", key]
    args += ["--method", method, *extra]
    out = ok(data, *args)
    assert set(out) == {"order"}, out
    return out["order"]


def validate(data, oid):
    return ok(data, "order", "validate", oid)["order"]


def order_show(data, oid):
    return ok(data, "order", "show", oid)["order"]


def order_ids(data):
    return sorted(o["id"] for o in ok(data, "order", "list")["orders"])


def name_of(order, name):
    (n,) = [x for x in order["names"] if x["name"] == name]
    return n


def wait_order(data, oid, pred, what, timeout=60, proc_check=None):
    """Polls `order show` until pred(order); returns the order."""
    deadline = time.monotonic() + timeout
    while True:
        o = order_show(data, oid)
        if pred(o):
            return o
        if proc_check:
            proc_check()
        assert time.monotonic() < deadline, f"order {oid} not {what} after {timeout} s: {o}"
        time.sleep(0.1)


def failure_code(obj):
    return (obj.get("failure") or {}).get("code")


def issue_dv(lab, data, *names, extra=()):
    """A DV order for `names`, published and validated: returns (order,
    certificate object)."""
    o = order_apply(data, *names, extra=extra)
    lab.publish(o)
    o = validate(data, o["id"])
    assert o["status"] == "issued", o
    return o, show(data, o["certificate_id"])


def pem_files(data, cert_id, out):
    """Downloads the PEM bundle; returns {file name: path}."""
    return {p.name: p for p in download(data, cert_id, out)}


def verify_download(files, workdir):
    """openssl verify -x509_strict of cert.pem against chain.pem (issuing
    CA(s) up to the root, the root last)."""
    pems = split_pems(files["chain.pem"].read_text())
    assert len(pems) >= 2, pems
    root, untrusted = workdir / "root.pem", workdir / "untrusted.pem"
    root.write_text(pems[-1])
    untrusted.write_text("".join(pems[:-1]))
    p = run("openssl", "verify", "-x509_strict", "-CAfile", root, "-untrusted", untrusted,
            files["cert.pem"], check=False)
    assert p.returncode == 0 and ": OK" in p.stdout, p.stdout + p.stderr
    # the full chain file holds the same certificates in order
    assert split_pems(files["fullchain.pem"].read_text()) == \
        split_pems(files["cert.pem"].read_text()) + pems


def policy_oids(cert):
    ext = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    return [p.policy_identifier.dotted_string for p in ext]


def san_names(cert):
    return cert.extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)


def spki(obj):
    return obj.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


# ================================================================ quill serve


class Serve:
    """`quill serve --data D --listen 127.0.0.1:PORT`, its log in a file;
    start() waits for /healthz."""

    def __init__(self, data, log, binary=QUILL, env=None):
        self.data = data
        self.binary, self.env = binary, env
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log)
        self.proc = None
        self.children = []

    def start(self):
        self.log = open(self.log_path, "a+")
        self.proc = subprocess.Popen([self.binary, "serve", "--data", str(self.data), "--listen",
                                      f"127.0.0.1:{self.port}", "--api-listen",
                                      f"127.0.0.1:{free_port()}"], stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=self.env if self.env is not None else quill_env())
        deadline = time.monotonic() + 15
        while True:
            self.check_alive()
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            assert time.monotonic() < deadline, f"serve not healthy: {self.logs()}"
            time.sleep(0.05)
        self.children = child_pids(self.proc.pid)
        return self

    def check_alive(self):
        assert self.proc.poll() is None, f"serve exited {self.proc.returncode}: {self.logs()}"

    def logs(self, tail=4000):
        return self.log_path.read_text(errors="replace")[-tail:]

    def stop(self):
        """SIGTERM; returns the exit status (after at most 10 s)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"quill serve did not stop within 10 s of SIGTERM: "
                                 f"{self.logs()}")
        finally:
            self.log.close()
        return code

    def kill9(self):
        self.proc.kill()
        self.proc.wait(timeout=10)
        self.log.close()


def child_pids(pid):
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def pid_alive(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def serve(tmp_path):
    """Starts `quill serve` on a data dir: serve(data), or with another binary
    and environment: serve(data, QUILL_TEST, pauses.env(...)). Whatever is
    still running at teardown is stopped with SIGTERM and must exit 0."""
    started = []

    def start(data, binary=QUILL, env=None):
        s = Serve(data, tmp_path / f"serve-{len(started)}.log", binary, env)
        started.append(s)
        return s.start()
    yield start
    for s in started:
        if s.proc.poll() is None:
            assert s.stop() == 0, s.logs()
        for c in s.children:  # never leave a signer behind, even after a failure
            if pid_alive(c):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(c, signal.SIGKILL)


# ================================================================ 1. the DNS flow


def test_dns_flow_through_order_validate(lab, data, workdir):
    names = ["www.flow.quill-test.org", "api.flow.quill-test.org"]
    o = order_apply(data, *names)
    assert o["status"] == "pending_validation", o
    assert o["profile"] == "dv" and o["certificate_id"] is None and o["failure"] is None, o
    assert o["free"] is True, o
    assert [n["name"] for n in o["names"]] == names
    values = set()
    for n in o["names"]:
        assert n["method"] == "dns", n
        assert n["validation_status"] == "pending" and n["failure"] is None, n
        ch = n["challenge"]
        assert ch["type"] == "dns", ch
        assert ch["record_name"] == "_acme-challenge." + n["name"], ch
        v = ch["record_value"]
        # at least 256 bits, base64url without padding
        assert len(v) >= 43 and B64URL.match(v), v
        assert len(base64.urlsafe_b64decode(v + "=" * (-len(v) % 4))) >= 32, v
        values.add(v)
    assert len(values) == 2, "every name gets its own random value"

    # before the records exist: validating, not seen yet, not failed
    o = validate(data, o["id"])
    assert o["status"] == "validating", o
    assert o["failure"] is None and o["certificate_id"] is None, o
    for n in o["names"]:
        assert n["validation_status"] == "pending", n
        assert failure_code(n) == "validation_timeout", n
        assert n["challenge"]["record_name"] in n["failure"]["message"], n
    assert order_show(data, o["id"]) == o

    lab.publish(o)
    o = validate(data, o["id"])
    assert o["status"] == "issued", o
    assert o["failure"] is None, o
    cid = o["certificate_id"]
    assert isinstance(cid, int) and cid > 0, o
    for n in o["names"]:
        assert (n["validation_status"], n["caa_status"], n["failure"]) == \
            ("valid", "allowed", None), n
    assert order_show(data, o["id"]) == o
    assert [x for x in ok(data, "order", "list")["orders"] if x["id"] == o["id"]] == [o]

    c = show(data, cid)
    assert c["status"] == "issued" and c["origin"] == "issued", c
    assert c["profile"] == "dv" and sorted(c["names"]) == sorted(names), c
    files = pem_files(data, cid, workdir / "pem")
    verify_download(files, workdir)
    cert = load_cert(files["cert.pem"])
    assert OID_DV in policy_oids(cert)
    assert sorted(san_names(cert)) == sorted(names)
    life = cert.not_valid_after - cert.not_valid_before
    assert life.total_seconds() <= MAX_DAYS_2026 * 86400, life
    # the key the service generated is the certificate's
    key_pub = run("openssl", "pkey", "-in", files["key.pem"], "-pubout").stdout
    assert key_pub == run("openssl", "x509", "-in", files["cert.pem"], "-noout",
                          "-pubkey").stdout

    # validating an issued order again changes nothing
    assert validate(data, o["id"]) == o


# ================================================================ 2. wrong value


def test_wrong_txt_value_is_shown_then_fixed(lab, data):
    """A wrong value is reported on the name at once (code, the record, what
    was seen) but is not final: an earlier order's record is often still
    there, and caches hold an old value for its TTL. Publishing the right
    value lets the order complete."""
    name = "wrong.quill-test.org"
    o = order_apply(data, name)
    rname = o["names"][0]["challenge"]["record_name"]
    lab.set_txt(rname, "not-the-value-" + "x" * 40)
    o = validate(data, o["id"])
    assert o["status"] == "validating" and o["failure"] is None, o
    n = name_of(o, name)
    assert n["validation_status"] == "pending", n
    assert failure_code(n) == "validation_mismatch", n
    # what the record holds is described, never repeated (issue 7)
    assert rname in n["failure"]["message"] and "holds 54 characters" in n["failure"]["message"], n
    assert "not-the-value" not in n["failure"]["message"], n
    assert o["certificate_id"] is None
    lab.set_txt(rname, n["challenge"]["record_value"])
    o = validate(data, o["id"])
    assert o["status"] == "issued" and o["certificate_id"], o


def short_deadline(data, lab, seconds=5):
    configure(data, lab.recursor.addr, extra=f"[validation]\ndeadline_seconds = {seconds}\n")


def wait_past(order):
    deadline = datetime.strptime(order["deadline"], "%Y-%m-%dT%H:%M:%SZ")
    while datetime.utcnow() <= deadline + timedelta(seconds=1):
        time.sleep(0.2)


def test_deadline_without_a_record_fails_with_validation_timeout(lab, data):
    short_deadline(data, lab)
    o = order_apply(data, "late.quill-test.org")
    assert validate(data, o["id"])["status"] == "validating"
    wait_past(o)
    o = validate(data, o["id"])
    assert o["status"] == "failed" and failure_code(o) == "validation_timeout", o
    assert "late.quill-test.org" in o["failure"]["message"], o
    # failed is final: publishing now does not revive it
    lab.publish(o)
    o = validate(data, o["id"])
    assert o["status"] == "failed" and o["certificate_id"] is None, o


def test_one_wrong_name_fails_the_whole_order_at_the_deadline(lab, data):
    short_deadline(data, lab)
    good, bad = "good.multi.quill-test.org", "bad.multi.quill-test.org"
    o = order_apply(data, good, bad)
    lab.publish(o)
    lab.set_txt(name_of(o, bad)["challenge"]["record_name"], "x" * 43)
    o2 = validate(data, o["id"])
    assert o2["status"] == "validating", o2
    assert name_of(o2, good)["validation_status"] == "valid", o2
    assert failure_code(name_of(o2, bad)) == "validation_mismatch", o2
    wait_past(o)
    o = validate(data, o["id"])
    assert o["status"] == "failed" and failure_code(o) == "validation_mismatch", o
    assert bad in o["failure"]["message"], o
    assert o["certificate_id"] is None


def test_txt_through_a_cname_to_another_zone(lab, data):
    # delegated validation: _acme-challenge.<name> is a CNAME to a record
    # in another zone, where the value is published
    name = "cn.quill-test.org"
    o = order_apply(data, name)
    ch = o["names"][0]["challenge"]
    lab.knot.add_zone("acme-delegate.test", [f"cn-example TXT {txt(ch['record_value'])}"])
    lab.set(ch["record_name"], "CNAME", "cn-example.acme-delegate.test.")
    o = validate(data, o["id"])
    assert o["status"] == "issued", o


# ================================================================ 3. CAA forbids


def test_caa_forbidden_at_the_parent_with_valid_control(lab, data):
    lab.set("caaf.quill-test.org", "CAA", caa(0, "issue", "other.example"))
    name = "www.caaf.quill-test.org"
    o = order_apply(data, name)
    lab.publish(o)
    o = validate(data, o["id"])
    assert o["status"] == "failed", o
    assert failure_code(o) == "caa_forbidden", o
    msg = o["failure"]["message"]
    assert "caaf.quill-test.org" in msg and '0 issue "other.example"' in msg, msg
    assert US in msg, msg  # how to fix it: name this CA
    n = name_of(o, name)
    # two separate statuses: control proven, CAA forbids
    assert n["validation_status"] == "valid", n
    assert n["caa_status"] == "forbidden", n
    assert "caaf.quill-test.org" in n["caa_detail"], n
    assert o["certificate_id"] is None


# ================================================================ 4. CAA SERVFAIL


def test_caa_servfail_is_never_permission(lab, data):
    # dead.quill-test.org is delegated to an address where no server listens:
    # the recursor answers SERVFAIL for CAA (and for the TXT below it)
    name = "www.dead.quill-test.org"
    o = order_apply(data, name)
    for _ in range(2):
        o = validate(data, o["id"])
        assert o["status"] == "validating", o
        assert o["failure"] is None and o["certificate_id"] is None, o
        n = name_of(o, name)
        assert n["caa_status"] == "error", n
        assert "SERVFAIL" in n["caa_detail"], n
        assert failure_code(n) == "dns_error", n
        assert n["failure"]["message"].strip(), n


def test_caa_servfail_with_valid_txt_reports_dns_error(lab, data):
    # the name's CAA lookup follows a CNAME into the dead delegation, while
    # its TXT record lives in the healthy zone: control is proven, CAA fails
    lab.set("cnd.quill-test.org", "CNAME", "x.dead.quill-test.org.")
    name = "cnd.quill-test.org"
    o = order_apply(data, name)
    lab.publish(o)
    o = validate(data, o["id"])
    assert o["status"] == "validating", o
    assert o["failure"] is None and o["certificate_id"] is None, o
    n = name_of(o, name)
    assert n["validation_status"] == "valid", n
    assert n["caa_status"] == "error", n
    assert failure_code(n) == "dns_error", n


# ================================================================ 5. wildcard


def test_wildcard_file_method_refused(lab, data):
    before = order_ids(data)
    err = refused(data, "cert", "apply", "--profile", "dv", "--name", "*.wild.quill-test.org",
                  "--key", "ec256", "--method", "file", code="policy_denied")
    assert "*.wild.quill-test.org" in err["message"], err
    assert order_ids(data) == before


def test_wildcard_dns_method_end_to_end(lab, data, workdir):
    name = "*.wild.quill-test.org"
    o = order_apply(data, name)
    ch = o["names"][0]["challenge"]
    assert ch["record_name"] == "_acme-challenge.wild.quill-test.org", ch
    lab.publish(o)
    o = validate(data, o["id"])
    assert o["status"] == "issued", o
    files = pem_files(data, o["certificate_id"], workdir / "pem")
    verify_download(files, workdir)
    cert = load_cert(files["cert.pem"])
    assert san_names(cert) == [name]
    assert OID_DV in policy_oids(cert)


def test_wildcard_obeys_issuewild(lab, data):
    # issue names us, issuewild another CA: the plain name may be issued,
    # the wildcard may not (RULES.md §3 step 3)
    lab.set("wc.quill-test.org", "CAA", caa(0, "issue", US), caa(0, "issuewild", "other.example"))
    plain = order_apply(data, "wc.quill-test.org")
    lab.publish(plain)
    assert validate(data, plain["id"])["status"] == "issued"
    wild = order_apply(data, "*.wc.quill-test.org")
    lab.publish(wild)
    o = validate(data, wild["id"])
    assert o["status"] == "failed" and failure_code(o) == "caa_forbidden", o
    assert "issuewild" in o["failure"]["message"], o
    n = o["names"][0]
    assert (n["validation_status"], n["caa_status"]) == ("valid", "forbidden"), n


# ================================================================ 6-7. workers


def test_serve_workers_issue(lab, data, serve):
    configure(data, lab.recursor.addr, extra="[jobs]\nworkers = 2\n")
    name = "serve.quill-test.org"
    o = order_apply(data, name)
    s = serve(data)
    lab.publish(o)
    o = wait_order(data, o["id"], lambda x: x["status"] in ("issued", "failed"), "finished",
                   proc_check=s.check_alive)
    assert o["status"] == "issued", o
    assert show(data, o["certificate_id"])["names"] == [name]
    assert s.stop() == 0, s.logs()


def test_restart_in_the_middle_of_validation(lab, data, serve):
    configure(data, lab.recursor.addr, extra="[jobs]\nworkers = 2\n")
    name = "restart.quill-test.org"
    o = order_apply(data, name)
    s = serve(data)
    # the first attempt runs and finds no record yet
    o = wait_order(data, o["id"], lambda x: x["status"] != "pending_validation", "started",
                   timeout=30, proc_check=s.check_alive)
    assert o["status"] == "validating", o
    assert failure_code(name_of(o, name)) == "validation_timeout", o
    assert s.stop() == 0, s.logs()
    lab.publish(o)
    assert order_show(data, o["id"])["status"] == "validating"  # nothing runs now
    s2 = serve(data)
    o = wait_order(data, o["id"], lambda x: x["status"] in ("issued", "failed"), "finished",
                   proc_check=s2.check_alive)
    assert o["status"] == "issued", o
    assert s2.stop() == 0, s2.logs()


def test_kill9_while_a_job_runs_then_resume(lab, data, serve, pauses):
    """`quill serve` runs in the test build; its worker claims the order's
    validate job, checks DNS, and stops at the pause point
    `validate_checked` (the job running, nothing written yet). The server is
    killed there (SIGKILL), every time; a restart resumes the job."""
    name = "kill.quill-test.org"
    configure(data, lab.recursor.addr, extra="[jobs]\nworkers = 1\n")
    o = order_apply(data, name)
    s = serve(data, QUILL_TEST, pauses.env("validate_checked"))
    signer = list(s.children)
    assert signer, "quill serve has no child process (the signer)"
    pauses.wait("validate_checked", s.proc, logs=s.logs)
    assert re.search(rf"job started.*order={o['id']}\b", s.logs(100000)), s.logs()
    s.kill9()
    assert order_show(data, o["id"])["status"] == "pending_validation"
    assert job_states(data, o["id"]) == [("validate", "running")]
    # the signer does not outlive its server
    deadline = time.monotonic() + 10
    while any(pid_alive(p) for p in signer):
        assert time.monotonic() < deadline, f"signer {signer} outlived a killed quill serve"
        time.sleep(0.05)
    lab.publish(o)
    s2 = serve(data)
    o = wait_order(data, o["id"], lambda x: x["status"] in ("issued", "failed"), "finished",
                   timeout=30, proc_check=s2.check_alive)
    assert o["status"] == "issued", o
    assert "job resumed" in s2.logs(100000), s2.logs()
    assert s2.stop() == 0, s2.logs()
    assert job_states(data, o["id"]) == [("issue", "done"), ("validate", "done")]


def job_states(data, order_id):
    """(kind, state) of an order's jobs, read from the database."""
    db = sqlite3.connect(Path(data) / "quill.db")
    try:
        return sorted(db.execute("SELECT kind, state FROM jobs WHERE order_id = ?",
                                 (order_id,)).fetchall())
    finally:
        db.close()


# ================================================================ 8. cancel


def test_cancel(lab, data):
    o = order_apply(data, "cancel.quill-test.org")
    lab.publish(o)
    c = ok(data, "order", "cancel", o["id"])["order"]
    assert c["status"] == "cancelled" and c["certificate_id"] is None, c
    # the records are there, but a cancelled order stays cancelled
    again = validate(data, o["id"])
    assert again["status"] == "cancelled" and again["certificate_id"] is None, again
    assert order_show(data, o["id"])["status"] == "cancelled"
    refused(data, "order", "cancel", o["id"], code="order_not_allowed")

    done, _ = issue_dv(lab, data, "cancel2.quill-test.org")
    err = refused(data, "order", "cancel", done["id"], code="order_not_allowed")
    assert "issued" in err["message"], err
    assert order_show(data, done["id"]) == done

    refused(data, "order", "cancel", 999999, code="not_found")


# ================================================================ 9. --csr


def test_csr_with_the_same_names(lab, data, workdir):
    names = ["csr.quill-test.org", "www.csr.quill-test.org"]
    key = make_csr(workdir / "req.pem", names)
    o = order_apply(data, *names, key=None, extra=("--csr", workdir / "req.pem"))
    assert o["key_algorithm"] == "ec256", o
    lab.publish(o)
    o = validate(data, o["id"])
    assert o["status"] == "issued", o
    files = pem_files(data, o["certificate_id"], workdir / "pem")
    assert "key.pem" not in files  # the applicant keeps the key
    verify_download(files, workdir)
    cert = load_cert(files["cert.pem"])
    assert spki(cert) == key.public_key().public_bytes(Encoding.DER,
                                                      PublicFormat.SubjectPublicKeyInfo)
    assert sorted(san_names(cert)) == sorted(names)


def test_csr_with_a_name_the_order_does_not_list(lab, data, workdir):
    make_csr(workdir / "req.pem", ["csr2.quill-test.org", "evil.quill-test.org"])
    before = order_ids(data)
    err = refused(data, "cert", "apply", "--profile", "dv", "--name", "csr2.quill-test.org",
                  "--csr", workdir / "req.pem", "--method", "dns", code="policy_denied")
    assert "evil.quill-test.org" in err["message"], err
    assert order_ids(data) == before
