"""File validation of DV orders (BR 3.2.2.4.18) end to end: `quill cert
apply --method file` -> `quill order validate`, against a real nginx
(tests/system/nginx.py) serving http://<name>:<port>/.well-known/
pki-validation/<token>.txt and real DNS (Knot + the Unbound recursor,
tests/system/knot.py) that maps the names to loopback addresses.

[validation] http_port is the nginx port (tests only; production is 80),
timeout_ms 1000, and the source addresses below must appear in every
file_unreachable sentence (RULES.md §2).
"""

import time

import pytest

from conftest import load_cert
from nginx import Nginx
from test_orders import (ZONE, configure, dns_lab, failure_code, name_of, order_apply,
                         order_show, pem_files, policy_oids, san_names, validate,
                         verify_download, OID_DV)

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


@pytest.fixture
def data(ca_dir, lab, web):
    configure(ca_dir, lab.recursor.addr,
              extra=("[validation]\n"
                     f"http_port = {web.port}\n"
                     "timeout_ms = 1000\n"
                     f"source_addresses = {SOURCES}\n"))
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
    name = "ok.files.example.test"
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
    name = "nf.files.example.test"
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


def test_file_wrong_content_is_final(lab, data, web):
    name = "wc.files.example.test"
    o, token, content = file_order(lab, data, name)
    web.put_validation_file(token, "something else entirely\n")
    o = validate(data, o["id"])
    assert o["status"] == "failed", o
    assert failure_code(o) == "validation_mismatch", o
    n = name_of(o, name)
    assert failure_code(n) == "validation_mismatch" and n["failure"]["message"].strip(), n
    assert n["validation_status"] == "invalid", n
    web.put_validation_file(token, content)
    assert validate(data, o["id"])["status"] == "failed"  # never silently retried


def test_file_redirect_to_another_port_is_final(lab, data, web):
    name = "rp.files.example.test"
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
    name = "loop.files.example.test"
    o, token, content = file_order(lab, data, name)
    web.redirect_loop(web.validation_path(token))
    o = validate(data, o["id"])
    assert o["status"] in ("validating", "failed"), o
    n = assert_unreachable(o, name)
    assert "10" in n["failure"]["message"], n
    hits = [r for r in web.requests() if token in r["request"]]
    assert 1 <= len(hits) <= 11, len(hits)  # at most 10 redirects followed


def test_file_connection_refused(lab, data, web):
    name = "refused.files.example.test"
    o, token, content = file_order(lab, data, name, address=NOWHERE)
    web.put_validation_file(token, content)  # on 127.0.0.1 only: never reached
    o = validate(data, o["id"])
    assert o["status"] in ("validating", "failed"), o
    n = assert_unreachable(o, name)
    assert "connect" in n["failure"]["message"].lower(), n


def test_file_slow_server_times_out(lab, data, web):
    name = "slow.files.example.test"
    o, token, content = file_order(lab, data, name)
    web.slow(web.validation_path(token))
    t0 = time.monotonic()
    o = validate(data, o["id"])
    took = time.monotonic() - t0
    assert o["status"] in ("validating", "failed"), o
    n = assert_unreachable(o, name)
    assert "1000 ms" in n["failure"]["message"], n
    assert took < 8, f"order validate took {took:.1f} s with timeout_ms = 1000"
