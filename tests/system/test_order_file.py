"""File validation of DV orders (BR 3.2.2.4.18) end to end: `quill cert
apply --method file` -> `quill order validate`, against a real nginx
(tests/system/nginx.py) serving http://<name>:<port>/.well-known/
pki-validation/<token>.txt and real DNS (Knot + the Unbound recursor,
tests/system/knot.py) that maps the names to loopback addresses.

[validation] http_port is the nginx port (tests only; production is 80),
timeout_ms 5000 (1000 for the slow server), and the source addresses below
must appear in every file_unreachable sentence (RULES.md §2).
"""

import subprocess
import time
from pathlib import Path

import pytest

from conftest import QUILL, cert_list, load_cert, ok, quill_env
from knot import caa
from nginx import Nginx
from test_orders import (OID_DV, configure, dns_lab, failure_code, name_of, order_apply,
                         order_show, pem_files, policy_oids, san_names, validate,
                         verify_download, wait_order)
from test_orders import serve  # noqa: F401  (a fixture)

SOURCES = "192.0.2.10, 2001:db8::10"
NOWHERE = "127.0.0.3"  # a loopback address where nothing listens on the nginx port


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with dns_lab(tmp_path_factory.mktemp("order-file-dns")) as lab_:
        yield lab_


class ThrottledNginx(Nginx):
    """nginx.py's server plus a path served slowly (but completely)."""

    def throttle(self, path, bytes_per_second):
        self._set_location(path, f"limit_rate {int(bytes_per_second)};")


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    n = ThrottledNginx(workdir=tmp_path_factory.mktemp("order-file-nginx"))
    n.start()
    try:
        yield n
    finally:
        n.stop()


def configure_file(data, lab, web, timeout_ms=5000, extra=""):
    configure(data, lab.recursor.addr,
              extra=("[validation]\n"
                     f"http_port = {web.port}\n"
                     f"timeout_ms = {timeout_ms}\n"
                     f"source_addresses = {SOURCES}\n" + extra))


@pytest.fixture
def data(ca_dir, lab, web):
    configure_file(ca_dir, lab, web)
    return ca_dir


def file_order(lab, data, name, address="127.0.0.1"):
    """A DNS A record for `name`, then a file-method order for it; returns
    (order, token, content)."""
    lab.set(name, "A", address)
    o = order_apply(data, name, method="file")
    assert o["status"] == "pending_validation", o
    ch = o["names"][0]["challenge"]
    assert ch["type"] == "file", ch
    prefix = f"http://{name}/.well-known/pki-validation/"
    assert ch["url"].startswith(prefix) and ch["url"].endswith(".txt"), ch
    token = ch["url"][len(prefix):-len(".txt")]
    assert token and "/" not in token, ch
    assert len(ch["content"]) >= 43, ch
    return o, token, ch["content"]


def assert_unreachable(o, name):
    n = name_of(o, name)
    assert failure_code(n) == "file_unreachable", n
    msg = n["failure"]["message"]
    assert msg.strip() and "192.0.2.10" in msg and "2001:db8::10" in msg, msg
    assert o["certificate_id"] is None, o
    return n


def test_file_success(lab, data, web, workdir):
    name = "ok.files.quill-test.org"
    o, token, content = file_order(lab, data, name)
    web.put_validation_file(token, content)
    o = validate(data, o["id"])
    assert o["status"] == "issued", o
    n = name_of(o, name)
    assert (n["validation_status"], n["caa_status"], n["failure"]) == ("valid", "allowed", None)
    # quill asked nginx for the file under the name itself
    hits = [r for r in web.requests() if token in r["request"]]
    assert hits and all(r["host"] == name for r in hits), web.requests()
    files = pem_files(data, o["certificate_id"], workdir / "pem")
    verify_download(files, workdir)
    cert = load_cert(files["cert.pem"])
    assert san_names(cert) == [name] and OID_DV in policy_oids(cert)


def test_file_404_is_not_final(lab, data, web):
    name = "nf.files.quill-test.org"
    o, token, content = file_order(lab, data, name)
    o = validate(data, o["id"])  # nothing written: nginx answers 404
    assert o["status"] == "validating", o
    assert o["failure"] is None, o
    n = assert_unreachable(o, name)
    assert n["validation_status"] == "pending", n
    assert "404" in n["failure"]["message"], n
    # not final: once the file is there, the next attempt succeeds
    web.put_validation_file(token, content)
    o = validate(data, o["id"])
    assert o["status"] == "issued", o


def test_file_wrong_content_is_shown_then_fixed(lab, data, web):
    name = "wc.files.quill-test.org"
    o, token, content = file_order(lab, data, name)
    web.put_validation_file(token, "something else entirely\n")
    o = validate(data, o["id"])
    assert o["status"] == "validating", o
    n = name_of(o, name)
    assert failure_code(n) == "validation_mismatch" and "something else" in n["failure"]["message"]
    assert n["validation_status"] == "pending", n
    web.put_validation_file(token, content)
    assert validate(data, o["id"])["status"] == "issued"


def test_file_redirect_to_another_port_is_final(lab, data, web):
    name = "rp.files.quill-test.org"
    o, token, content = file_order(lab, data, name)
    # the other port serves the same docroot: following the redirect would
    # find the right content, so a failure is the policy (80/443 only)
    web.put_validation_file(token, content)
    web.redirect_to_port(web.validation_path(token), web.other_port)
    o = validate(data, o["id"])
    assert o["status"] == "failed", o
    assert failure_code(o) == "file_unreachable", o
    assert "192.0.2.10" in o["failure"]["message"], o
    assert_unreachable(o, name)
    assert not [r for r in web.requests() if r["port"] == web.other_port and token in r["request"]]


def test_file_redirect_loop(lab, data, web):
    name = "loop.files.quill-test.org"
    o, token, content = file_order(lab, data, name)
    web.redirect_loop(web.validation_path(token))
    o = validate(data, o["id"])
    assert o["status"] in ("validating", "failed"), o
    n = assert_unreachable(o, name)
    assert "10" in n["failure"]["message"], n
    hits = [r for r in web.requests() if token in r["request"]]
    assert 1 <= len(hits) <= 11, len(hits)  # at most 10 redirects followed


def test_file_connection_refused(lab, data, web):
    name = "refused.files.quill-test.org"
    o, token, content = file_order(lab, data, name, address=NOWHERE)
    web.put_validation_file(token, content)  # on 127.0.0.1 only: never reached
    o = validate(data, o["id"])
    assert o["status"] in ("validating", "failed"), o
    n = assert_unreachable(o, name)
    assert "connect" in n["failure"]["message"].lower(), n


def test_file_slow_server_times_out(lab, data, web):
    configure_file(data, lab, web, timeout_ms=1000)
    name = "slow.files.quill-test.org"
    o, token, content = file_order(lab, data, name)
    web.slow(web.validation_path(token))
    t0 = time.monotonic()
    o = validate(data, o["id"])
    took = time.monotonic() - t0
    assert o["status"] in ("validating", "failed"), o
    n = assert_unreachable(o, name)
    assert "1000 ms" in n["failure"]["message"], n
    assert took < 8, f"order validate took {took:.1f} s with timeout_ms = 1000"


def test_caa_validationmethods_binds_the_file_method(lab, data, web):
    # CAA names this CA but only for dns-01: a file-validated order is
    # forbidden although its file is right (RULES.md §3 step 6)
    lab.set("vm.files.quill-test.org", "CAA", caa(0, "issue", "quill.test; validationmethods=dns-01"))
    name = "www.vm.files.quill-test.org"
    o, token, content = file_order(lab, data, name)
    web.put_validation_file(token, content)
    o = validate(data, o["id"])
    assert o["status"] == "failed", o
    assert failure_code(o) == "caa_forbidden", o
    assert "vm.files.quill-test.org" in o["failure"]["message"], o
    n = name_of(o, name)
    assert (n["validation_status"], n["caa_status"]) == ("valid", "forbidden"), n
    # the same name validated by DNS is allowed
    o = order_apply(data, name)
    lab.publish(o)
    assert validate(data, o["id"])["status"] == "issued"


# ---------------------------------------------------------------- races
#
# A slow (throttled, but complete) answer keeps a file fetch in flight for a
# few seconds; what else happens to the order meanwhile must not be undone
# by the fetch's result.


def connections_to(port):
    """Established client connections to 127.0.0.1:port (from /proc)."""
    n = 0
    for ln in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        f = ln.split()
        if f[3] == "01" and int(f[2].split(":")[1], 16) == port:
            n += 1
    return n


def wait_connections(port, count, proc, timeout=15):
    deadline = time.monotonic() + timeout
    while connections_to(port) < count:
        if proc is not None and proc.poll() is not None:
            return False
        assert time.monotonic() < deadline, f"no {count} fetches in flight to port {port}"
        time.sleep(0.01)
    return True


def slow_file_order(lab, data, web, name):
    configure_file(data, lab, web, timeout_ms=15000, extra="[jobs]\nworkers = 2\n")
    o, token, content = file_order(lab, data, name)
    web.put_validation_file(token, content)
    web.throttle(web.validation_path(token), 60)  # about 4 s for the answer
    assert connections_to(web.port) == 0
    return o


def start_validate(data, oid):
    return subprocess.Popen([QUILL, "--data", str(data), "--json", "order", "validate",
                             str(oid)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=quill_env())


def certs_for(data, name):
    return sorted(c["id"] for c in cert_list(data) if name in c["names"])


def test_cancel_during_a_running_validation_stays_cancelled(lab, data, web):
    name = "racecancel.files.quill-test.org"
    o = slow_file_order(lab, data, web, name)
    p = start_validate(data, o["id"])
    try:
        if not wait_connections(web.port, 1, p):
            pytest.skip("the validation finished before it could be caught")
        c = ok(data, "order", "cancel", o["id"])["order"]
        assert c["status"] == "cancelled", c
    finally:
        p.communicate(timeout=60)
    o = order_show(data, o["id"])
    assert o["status"] == "cancelled", o
    assert o["certificate_id"] is None, o
    assert certs_for(data, name) == []


def test_validate_next_to_a_worker_issues_one_certificate(lab, data, web, serve):
    name = "racedouble.files.quill-test.org"
    o = slow_file_order(lab, data, web, name)
    p = start_validate(data, o["id"])
    try:
        if not wait_connections(web.port, 1, p):
            pytest.skip("the validation finished before it could be caught")
        s = serve(data)  # its worker picks up the order's queued job
        if not wait_connections(web.port, 2, p):
            pytest.skip("the command's validation finished before the worker's started")
    finally:
        out, _ = p.communicate(timeout=60)
    o = wait_order(data, o["id"], lambda x: x["status"] in ("issued", "failed"), "finished",
                   proc_check=s.check_alive)
    assert s.stop() == 0, s.logs()  # lets a running job finish
    o = order_show(data, o["id"])
    assert o["status"] == "issued", o
    assert certs_for(data, name) == [o["certificate_id"]]
