"""ACME (issue 8) and risk review: an order whose name matches the risk
word list stays `processing` (with Retry-After) after finalize until a
reviewer decides through the REST API; an approval issues the certificate,
a rejection makes the order `invalid` with a rejectedIdentifier problem
carrying the reviewer's reason. A name without risk words is issued at
finalize without any review (finalize queues the issue job itself)."""

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from acme_mini import Http01Server, Mini, csr_der
from api_client import Api
from conftest import pick_port
from test_orders import ZONE, configure, dns_lab


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with dns_lab(tmp_path_factory.mktemp("acme-review-dns")) as lab_:
        yield lab_


@pytest.fixture
def acme(ca_dir, lab, tmp_path):
    words = tmp_path / "risk-words.txt"
    words.write_text("paypal\nbank\n")
    http_port = pick_port()
    configure(ca_dir, lab.recursor.addr,
              extra=f"http_port = {http_port}\ntimeout_ms = 5000\n"
                    f"[risk]\nwords_file = {words}\n")
    api = Api(ca_dir, tmp_path / "serve")
    srv = Http01Server(http_port)
    api.mini = Mini(api)
    api.http01 = srv
    try:
        yield api
    finally:
        srv.close()
        api.close()


def finalized(acme, lab, a, name):
    m = acme.mini
    lab.set(name, "A", "127.0.0.1")
    r = m.order(a, [("dns", name)])
    assert r.status == 201, r
    url = r.headers["Location"]
    m.http01_solve(a, r.json, acme.http01)
    key = ec.generate_private_key(ec.SECP256R1())
    r = m.finalize(a, url, csr_der(key, [name]))
    assert r.status == 200, r.body
    return url, r


def pending_review(acme, reviewer, name):
    r = acme.get("/api/v1/reviews", reviewer)
    assert r.status == 200, r
    mine = [v for v in r.json["reviews"] if name in (v.get("detail") or "")]
    assert len(mine) == 1, r.json
    return mine[0]


def test_risky_acme_order_waits_for_a_reviewer(acme, lab):
    m = acme.mini
    reviewer = acme.key("reviewer")
    a = m.account()
    name = f"paypal-login.{ZONE}"
    url, r = finalized(acme, lab, a, name)
    assert r.json["status"] == "processing", r.json
    assert r.headers.get("Retry-After"), r.headers
    rv = pending_review(acme, reviewer, name)
    assert rv["kind"] == "risk"
    # still processing while nobody decided
    o = m.get(a, url)
    assert o.json["status"] == "processing" and o.headers.get("Retry-After"), o.json
    r = acme.post(f"/api/v1/reviews/{rv['id']}/approve", reviewer, {})
    assert r.status == 200, r
    o = m.poll(a, url, ("valid", "invalid"), 60).json
    assert o["status"] == "valid", o
    pem = m.get(a, o["certificate"]).body.decode()
    assert "BEGIN CERTIFICATE" in pem


def test_rejected_acme_order_is_invalid_with_rejected_identifier(acme, lab):
    m = acme.mini
    reviewer = acme.key("reviewer")
    a = m.account()
    name = f"mybank-secure.{ZONE}"
    url, r = finalized(acme, lab, a, name)
    assert r.json["status"] == "processing", r.json
    rv = pending_review(acme, reviewer, name)
    r = acme.post(f"/api/v1/reviews/{rv['id']}/reject", reviewer,
                  {"reason": "looks like phishing"})
    assert r.status == 200, r
    o = m.poll(a, url, ("valid", "invalid"), 30).json
    assert o["status"] == "invalid", o
    assert o["error"]["type"] == "urn:ietf:params:acme:error:rejectedIdentifier", o
    assert "looks like phishing" in o["error"]["detail"], o
    assert "certificate" not in o


def test_plain_acme_order_needs_no_review(acme, lab):
    m = acme.mini
    reviewer = acme.key("reviewer")
    a = m.account()
    name = f"plain.{ZONE}"
    url, r = finalized(acme, lab, a, name)
    o = m.poll(a, url, ("valid", "invalid"), 60).json
    assert o["status"] == "valid", o
    r = acme.get("/api/v1/reviews", reviewer)
    assert not [v for v in r.json["reviews"] if name in (v.get("detail") or "")], r.json
