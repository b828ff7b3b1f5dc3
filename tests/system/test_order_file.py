"""File validation of DV orders (BR 3.2.2.4.18) end to end: `quill cert
apply --method file` -> `quill order validate`, against a real nginx
(tests/system/nginx.py) serving http://<name>:<port>/.well-known/
pki-validation/<token>.txt and real DNS (Knot + the Unbound recursor,
tests/system/knot.py) that maps the names to loopback addresses.

[validation] http_port is the nginx port (tests only; production is 80),
timeout_ms 5000 (1000 for the slow server), and the source addresses below
must appear in every file_unreachable sentence (RULES.md §2).
"""

import time

import pytest

from conftest import QUILL_TEST, cert_list, load_cert, ok, parse_one_json, show
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


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    n = Nginx(workdir=tmp_path_factory.mktemp("order-file-nginx"))
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
    assert failure_code(n) == "validation_mismatch", n
    # described by size and type, never repeated (issue 7)
    assert "answered 24 bytes of text/plain" in n["failure"]["message"], n
    assert "something else" not in n["failure"]["message"], n
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
# The validating processes run in the test build (build/quill-test) and stop
# at pause points (src/base/testhook.h): `validate_checked` after the file
# was fetched and matched, before anything is written; `issue_begin` before
# the issue step takes the write lock to sign. The test does the other side
# of the race while one side stands there, then lets it go on: the race is
# set up every time. (Holding the database lock from the test would stop
# both sides alike; a pause point stops one.)


def ready_file_order(lab, data, web, name, extra=""):
    configure_file(data, lab, web, extra=extra)
    o, token, content = file_order(lab, data, name)
    web.put_validation_file(token, content)
    return o


def certs_for(data, name):
    return sorted(c["id"] for c in cert_list(data) if name in c["names"])


def test_cancel_during_a_running_validation_stays_cancelled(lab, data, web, pauses):
    """`order validate` stops at `validate_checked` with the right file
    fetched; the applicant cancels the order there. The validation's result
    must not undo the cancel, and nothing of it is written."""
    name = "racecancel.files.quill-test.org"
    o = ready_file_order(lab, data, web, name)
    p = pauses.start(data, "order", "validate", o["id"], points=["validate_checked"])
    marker = pauses.wait("validate_checked", p)
    assert [r for r in web.requests() if name == r["host"]], "the file was not fetched"
    c = ok(data, "order", "cancel", o["id"])["order"]
    assert c["status"] == "cancelled", c
    pauses.release(marker)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, out + err[-1500:]
    assert parse_one_json(out)["order"]["status"] == "cancelled", out
    o = order_show(data, o["id"])
    assert o["status"] == "cancelled", o
    assert o["certificate_id"] is None, o
    n = name_of(o, name)
    assert (n["validation_status"], n["caa_status"]) == ("pending", "pending"), n
    assert certs_for(data, name) == []


def test_validate_next_to_a_worker_issues_one_certificate(lab, data, web, serve, pauses):
    """`order validate` and a `quill serve` worker work on one order at once:
    1. both stop at `validate_checked`, each with the file fetched;
    2. the command goes on first: it moves the order to issuing (queuing the
       issue job) and stops at `issue_begin`; the worker's result is then
       dropped (the order moved on), and a worker takes the issue job and
       stops at `issue_begin` too;
    3. the worker goes on first and signs; the command then finds the order
       issued and signs nothing. One order, one certificate."""
    name = "racedouble.files.quill-test.org"
    o = ready_file_order(lab, data, web, name, extra="[jobs]\nworkers = 2\n")
    env = pauses.env("validate_checked", "issue_begin")
    p = pauses.start(data, "order", "validate", o["id"], env=env)
    cli_validated = pauses.wait("validate_checked", p)
    s = serve(data, QUILL_TEST, env)  # its worker picks up the order's queued job
    srv_validated = pauses.wait("validate_checked", s.proc, logs=s.logs)
    assert order_show(data, o["id"])["status"] == "pending_validation"

    pauses.release(cli_validated)
    cli_issuing = pauses.wait("issue_begin", p)
    assert order_show(data, o["id"])["status"] == "issuing"
    pauses.release(srv_validated)
    srv_issuing = pauses.wait("issue_begin", s.proc, logs=s.logs)
    assert certs_for(data, name) == []

    pauses.release(srv_issuing)
    o = wait_order(data, o["id"], lambda x: x["status"] != "issuing", "issued",
                   proc_check=s.check_alive)
    assert o["status"] == "issued", o
    pauses.release(cli_issuing)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, out + err[-1500:]
    assert parse_one_json(out)["order"]["certificate_id"] == o["certificate_id"], out
    assert s.stop() == 0, s.logs()
    assert order_show(data, o["id"]) == o
    assert certs_for(data, name) == [o["certificate_id"]]
    # the worker signed it
    (issued,) = [e for e in show(data, o["certificate_id"])["events"] if e["to"] == "issued"]
    assert issued["actor"].startswith("worker:"), issued
