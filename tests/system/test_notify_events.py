"""Notifications of the events that need real DNS validation, reviewers or
the clock (issue 6), each produced by the action that causes it and
delivered by a real `quill serve` to a real webhook receiver and a real
SMTP sink (notify_lab.py):

- order.validation_needed, with the exact record to publish (webhook body
  and email text);
- order.validation_failed, with the reason and how to fix it (a CAA record
  that forbids the CA);
- review.decided (a risk-word order approved by a reviewer key), then
  certificate.issued;
- certificate.revocation_requested, then certificate.revoked (a DV
  revocation proved again), and certificate.revocation_failed (no proof
  within 3 days: the clock moved on with libfaketime, as
  test_time_rules.py does);
- certificate.expiring at 30, 7 and 1 days, each sent once (`quill serve`
  itself run with the clock moved on).

DNS: Knot + the Unbound recursor of test_orders.py, one per module. The
orders are made with the CLI (the local operator, tenant default): a
notification is written by whichever process makes the change and sent
by the daemon's notifier.
"""

import json
import time

import pytest

from conftest import ok
from knot import caa
from notify_lab import (Receiver, SmtpSink, check_notification, notify_conf, register,
                        signature_ok, start)
from test_orders import configure, dns_lab, order_apply, validate
from test_time_rules import later


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with dns_lab(tmp_path_factory.mktemp("notify-dns")) as lab_:
        yield lab_


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def smtp(tmp_path):
    s = SmtpSink(tmp_path)
    yield s
    s.close()


@pytest.fixture
def api(ca_dir, lab, tmp_path, smtp, receiver):
    words = tmp_path / "risk-words.txt"
    words.write_text("paypal\n")
    configure(ca_dir, lab.recursor.addr, extra=f"[risk]\nwords_file = {words}\n")
    a = start(ca_dir, tmp_path / "api", notify_conf(smtp=smtp.url))
    a.user = a.key("user")
    register(a, a.user, receiver.url("/hook"))
    r = a.call("PUT", "/api/v1/contacts", a.user, body={"emails": ["ops@example.com"]})
    assert r.status == 200, r
    yield a
    a.close()


def events_of(receiver, type_, n=1, timeout=30):
    """Waits for `n` events of `type_`; returns them (signature and schema
    checked)."""
    got = receiver.wait(lambda rs: sum(1 for r in rs if r["headers"].get("X-Quill-Event") ==
                                       type_) >= n, f"{n} x {type_}", timeout=timeout)
    out = []
    for r in got:
        if r["headers"].get("X-Quill-Event") == type_:
            assert signature_ok(r), r["headers"]
            body = json.loads(r["body"])
            check_notification(body)
            assert body["type"] == type_ and body["tenant"] == "default", body
            out.append(body)
    return out


def mail_with(smtp, subject_part, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        for m in smtp.messages():
            if subject_part in m["Subject"]:
                assert m["To"] == "ops@example.com", m["To"]
                return m, m.get_payload(decode=True).decode()
        assert time.monotonic() < deadline, \
            f"no mail with {subject_part!r}: {[m['Subject'] for m in smtp.messages()]}"
        time.sleep(0.2)


def test_validation_needed_then_failed(lab, api, receiver, smtp):
    name = "needed.quill-test.org"
    o = order_apply(api.data, name)
    (e,) = events_of(receiver, "order.validation_needed")
    assert e["order"]["id"] == o["id"], e
    ch = e["order"]["names"][0]["challenge"]
    assert ch == o["names"][0]["challenge"], (ch, o)
    m, text = mail_with(smtp, f"(order {o['id']})")
    assert "Publish the validation records" in m["Subject"], m["Subject"]
    assert ch["record_name"] in text and ch["record_value"] in text, text

    # a CAA record that forbids this CA: the order fails, and says how to fix it
    bad = "forbidden.quill-test.org"
    lab.set(bad, "CAA", caa(0, "issue", "other.example"))
    f = order_apply(api.data, bad)
    lab.publish(f)
    v = validate(api.data, f["id"])
    assert v["status"] == "failed" and v["failure"]["code"] == "caa_forbidden", v
    (e,) = events_of(receiver, "order.validation_failed")
    assert e["order"]["id"] == f["id"] and e["order"]["status"] == "failed", e
    assert e["order"]["failure"]["code"] == "caa_forbidden", e
    assert "other.example" in e["order"]["failure"]["message"], e
    m, text = mail_with(smtp, "Order failed")
    assert "caa_forbidden" in m["Subject"] and bad in m["Subject"], m["Subject"]
    assert "other.example" in text and "How to fix it:" in text, text


def test_review_decided_then_issued(lab, api, receiver):
    name = "paypal-login.quill-test.org"
    o = order_apply(api.data, name)
    lab.publish(o)
    v = validate(api.data, o["id"])
    assert v["status"] == "manual_review", v
    reviewer = api.key("reviewer")
    (rv,) = [r for r in api.get("/api/v1/reviews", reviewer).json["reviews"]
             if r["order_id"] == o["id"]]
    r = api.post(f"/api/v1/reviews/{rv['id']}/approve", reviewer, {"reason": "known customer"})
    assert r.status == 200, r
    (e,) = events_of(receiver, "review.decided")
    assert e["review"]["id"] == rv["id"] and e["review"]["status"] == "approved", e
    assert e["review"]["reason"] == "known customer", e
    assert e["order"]["id"] == o["id"], e
    # the workers issue it, or this does now
    assert validate(api.data, o["id"])["status"] == "issued"
    issued = events_of(receiver, "certificate.issued")
    assert any(name in e["certificate"]["names"] for e in issued), issued


def test_dv_revocation_requested_revoked_and_failed(lab, api, receiver, smtp):
    o = order_apply(api.data, "revokeme.quill-test.org")
    lab.publish(o)
    o = validate(api.data, o["id"])
    assert o["status"] == "issued", o
    cid = o["certificate_id"]
    r = api.post(f"/api/v1/certificates/{cid}/revoke", api.user, {"reason": "keyCompromise"})
    assert r.status == 200 and r.json["revocation"]["status"] == "pending", r
    proof = r.json["revocation"]["proof_order"]
    (e,) = events_of(receiver, "certificate.revocation_requested")
    assert e["certificate"]["id"] == cid, e
    assert e["certificate"]["status"] == "revocation_pending", e
    assert e["order"]["id"] == proof["id"] and e["order"]["purpose"] == "revoke", e
    assert "proof of control" in e["detail"], e
    needed = events_of(receiver, "order.validation_needed", n=2)
    assert needed[-1]["order"]["id"] == proof["id"], needed
    lab.publish(proof)
    assert validate(api.data, proof["id"])["status"] == "issued"
    (e,) = events_of(receiver, "certificate.revoked")
    assert e["certificate"]["id"] == cid and e["certificate"]["status"] == "revoked", e
    assert e["certificate"]["revocation_reason"] == "keyCompromise", e
    m, text = mail_with(smtp, "Certificate revoked")
    assert "keyCompromise" in text, text

    # another one: no proof within 3 days, the revocation fails
    o = order_apply(api.data, "keepme.quill-test.org")
    lab.publish(o)
    o = validate(api.data, o["id"])
    cid = o["certificate_id"]
    r = api.post(f"/api/v1/certificates/{cid}/revoke", api.user, {"reason": "superseded"})
    proof = r.json["revocation"]["proof_order"]
    lab.set_txt(proof["names"][0]["challenge"]["record_name"])  # nothing published
    out = ok(api.data, "order", "validate", proof["id"], env=later(4))["order"]
    assert out["status"] == "failed", out
    (e,) = events_of(receiver, "certificate.revocation_failed")
    assert e["certificate"]["id"] == cid and e["certificate"]["status"] == "issued", e
    assert e["order"]["id"] == proof["id"] and e["order"]["status"] == "failed", e
    assert "stays valid" in e["detail"], e
    failed = events_of(receiver, "order.validation_failed")
    assert failed[-1]["order"]["id"] == proof["id"], failed


def expiring(receiver):
    return sorted((e["certificate"]["id"], e["threshold_days"]) for e in receiver.events()
                  if e["type"] == "certificate.expiring")


def test_expiry_warnings_once_each(ca_dir, tmp_path, receiver):
    """Each warning goes out when its threshold is crossed: the daemon runs
    now, then with its clock 6 and 11 days on."""
    api = start(ca_dir, tmp_path / "api", notify_conf())
    try:
        token = api.key("user")
        register(api, token, receiver.url("/exp"))
        ids = {}
        for name, days in (("twelve.example.com", 12), ("thirtyfive.example.com", 35),
                           ("year.example.com", None)):
            body = {"profile": "private", "names": [name], "key": "ec256"}
            if days:
                body["days"] = days
            r = api.post("/api/v1/orders", token, body, check="/api/v1/orders")
            assert r.status == 201, r
            ids[name] = r.json["order"]["certificate_id"]
        receiver.wait(lambda rs: len(rs) >= 3, "the three issuances")
        time.sleep(3)  # three scans: a certificate issued inside a window is not warned
        assert expiring(receiver) == [], receiver.events()
    finally:
        api.close()
    twelve, thirtyfive = ids["twelve.example.com"], ids["thirtyfive.example.com"]
    # six days on: 12 -> 6 days left (the 7-day warning), 35 -> 29 (the 30-day one)
    api = start(ca_dir, tmp_path / "api2", notify_conf(), env=later(6))
    try:
        receiver.wait(lambda rs: len(expiring(receiver)) >= 2, "two expiry warnings")
        time.sleep(3)  # more scans: each once
        assert expiring(receiver) == sorted([(twelve, 7), (thirtyfive, 30)]), receiver.events()
    finally:
        api.close()
    # eleven days on: 12 -> less than a day (the 1-day warning); nothing else
    api = start(ca_dir, tmp_path / "api3", notify_conf(), env=later(11))
    try:
        receiver.wait(lambda rs: len(expiring(receiver)) >= 3, "the 1-day warning")
        time.sleep(3)
        assert expiring(receiver) == sorted([(twelve, 7), (thirtyfive, 30), (twelve, 1)])
    finally:
        api.close()
    exp = [e for e in receiver.events() if e["type"] == "certificate.expiring"]
    for e in exp:
        check_notification(e)
        assert e["certificate"]["days_left"] < e["threshold_days"], e
        assert f"within {e['threshold_days']} day" in e["detail"], e
    assert all(signature_ok(r) for r in receiver.received())
