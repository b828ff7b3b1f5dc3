"""Notifications (issue 6) end to end, without DNS: a real `quill serve`
delivering to a real webhook receiver (Python's http.server on 127.0.0.1)
and a real SMTP sink (aiosmtpd), with the REST API registering them.

- a delivery is signed (HMAC-SHA256 over the exact body bytes, checked
  here as a receiver would), its body is the Notification schema of
  docs/openapi.yaml with the certificate as the API returns it, and a 500
  is retried (two attempts in the delivery log, 500 then 200);
- certificate.issued, .reissued and .revoked come from the matching calls;
- tenant B's webhook never sees tenant A's events, and A cannot read or
  delete B's webhook (404, like a missing one);
- webhook URLs on loopback and private addresses are refused when
  [notify] allow_private_addresses is off, at registration and at every
  delivery;
- the secret is never in an answer, the log or the database as it is;
- email reaches the tenant's contacts (To, Subject, the certificate);
- a deleted webhook gets nothing more; pending deliveries survive a
  restart of quill.
Events that need DNS validation, reviews and the clock are in
test_notify_events.py.
"""

import time
from pathlib import Path

import pytest

from api_client import private_order
from conftest import ok, pick_port
from notify_lab import (SECRET, Receiver, SmtpSink, check_notification, deliveries,
                        notify_conf, register, signature_ok, start, wait_deliveries)


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
def api(ca_dir, tmp_path, smtp):
    a = start(ca_dir, tmp_path / "api", notify_conf(smtp=smtp.url))
    yield a
    a.close()


def test_signed_delivery_retried_after_a_500(api, receiver):
    token = api.key("user")
    receiver.answers["/hook"] = [500, 200]
    hook = register(api, token, receiver.url("/hook"))
    assert set(hook) == {"id", "tenant", "url", "created_at", "created_by"}, hook
    o = private_order(api, token, "signed.example.com")
    got = receiver.wait(lambda rs: len(rs) >= 2, "two attempts")
    first, second = got[0], got[1]
    # the same bytes, signed with the secret, each time
    assert first["body"] == second["body"]
    assert signature_ok(first) and signature_ok(second), first["headers"]
    assert not signature_ok(first, SECRET + "x")
    for r in (first, second):
        assert r["headers"]["X-Quill-Event"] == "certificate.issued"
        assert r["headers"]["Content-Type"] == "application/json"
    assert first["headers"]["X-Quill-Delivery"] == second["headers"]["X-Quill-Delivery"]
    body = receiver.events()[0]
    check_notification(body)
    assert body["type"] == "certificate.issued" and body["tenant"] == "default", body
    # the certificate as the API returns it
    cert = api.get(f"/api/v1/certificates/{o['certificate_id']}", token).json["certificate"]
    cert.pop("events")
    assert set(body["certificate"]) == set(cert)
    for k in ("id", "serial", "names", "not_after", "status", "profile"):
        assert body["certificate"][k] == cert[k], k
    # the delivery log: two attempts, 500 then 200
    log = wait_deliveries(api, token, hook["id"], lambda d: d and d[0]["state"] == "delivered",
                          "delivered")
    (d,) = log
    assert d["event"] == "certificate.issued" and d["attempts"] == 2, d
    assert d["object"] == {"type": "certificate", "id": o["certificate_id"]}, d
    assert [t["status_code"] for t in d["tries"]] == [500, 200], d
    assert "500" in d["tries"][0]["error"] and d["tries"][1]["error"] is None, d
    assert d["last_status_code"] == 200 and d["finished_at"] is not None, d
    assert str(d["id"]) == first["headers"]["X-Quill-Delivery"]
    # retried after the backoff (1 s here), not at once
    assert second["at"] - first["at"] >= 0.9


def test_certificate_events_from_their_calls(api, receiver):
    token = api.key("user")
    register(api, token, receiver.url("/hook"))
    o = private_order(api, token, "life.example.com")
    cid = o["certificate_id"]
    r = api.post(f"/api/v1/certificates/{cid}/reissue", token,
                 {"csr_source": "original", "reason": "lost"})
    assert r.status in (200, 201), r
    new_id = r.json["reissue"]["certificate"]["id"]
    r = api.post(f"/api/v1/certificates/{cid}/revoke", token, {"reason": "superseded"})
    assert r.status == 200, r
    got = receiver.wait(lambda rs: len(rs) >= 4, "four events")
    time.sleep(1.5)  # nothing more comes
    events = [(e["type"], e["certificate"]["id"]) for e in receiver.events()]
    assert len(events) == 4, events
    assert events[0] == ("certificate.issued", cid)
    assert events[1] == ("certificate.reissued", new_id)
    assert sorted(events[2:]) == sorted([("certificate.revoked", cid),
                                         ("certificate.revoked", new_id)]), events
    for r, e in zip(got, receiver.events()):
        assert signature_ok(r)
        check_notification(e)
    revoked = [e for e in receiver.events() if e["type"] == "certificate.revoked"]
    assert all(e["certificate"]["status"] == "revoked" for e in revoked), revoked
    reissued = receiver.events()[1]
    assert reissued["certificate"]["parent_id"] == cid
    assert f"certificate {cid} was reissued as certificate {new_id}" in reissued["detail"]


def test_tenant_isolation(api, receiver):
    ok(api.data, "tenant", "create", "team-b")
    a, b = api.key("user"), api.key("user", tenant="team-b")
    admin = api.key("admin")
    ha = register(api, a, receiver.url("/a"))
    hb = register(api, b, receiver.url("/b"))
    assert hb["tenant"] == "team-b"
    # each lists its own; the admin every tenant's
    assert [h["id"] for h in api.get("/api/v1/webhooks", a).json["webhooks"]] == [ha["id"]]
    assert [h["id"] for h in api.get("/api/v1/webhooks", b).json["webhooks"]] == [hb["id"]]
    assert {h["id"] for h in api.get("/api/v1/webhooks", admin).json["webhooks"]} == \
        {ha["id"], hb["id"]}
    # another tenant's webhook looks missing
    for method, path in (("GET", f"/api/v1/webhooks/{hb['id']}/deliveries"),
                         ("DELETE", f"/api/v1/webhooks/{hb['id']}")):
        r = api.call(method, path, a)
        missing = api.call(method, path.replace(str(hb["id"]), "424242"), a)
        assert r.status == 404 and r.error()["code"] == "not_found", r
        assert r.error()["message"].replace(str(hb["id"]), "N") == \
            missing.error()["message"].replace("424242", "N")
    # A's events go to A only
    oa = private_order(api, a, "a.example.com")
    ob = private_order(api, b, "b.example.com")
    receiver.wait(lambda rs: len(rs) >= 2, "both events")
    time.sleep(1.5)
    (ea,) = receiver.events("/a")
    (eb,) = receiver.events("/b")
    assert ea["tenant"] == "default" and ea["certificate"]["id"] == oa["certificate_id"], ea
    assert eb["tenant"] == "team-b" and eb["certificate"]["id"] == ob["certificate_id"], eb
    # B's webhook is still there, with its log
    assert len(deliveries(api, b, hb["id"])) == 1


def test_private_addresses_refused_when_off(ca_dir, tmp_path, receiver):
    api = start(ca_dir, tmp_path / "api", notify_conf(allow_private=True))
    try:
        token = api.key("user")
        # registered while the organisation allowed it ...
        hook = register(api, token, receiver.url("/inside"))
    finally:
        api.close()
    api = start(ca_dir, tmp_path / "api2", notify_conf(allow_private=False))
    try:
        for url in (receiver.url("/x"), "http://localhost/x", "http://10.0.0.5/x",
                    "http://[::1]:8080/x", "http://169.254.169.254/latest/meta-data",
                    "http://[::ffff:192.168.1.1]/x", "http://0x7f000001/x"):
            err = register(api, token, url, status=400)
            assert err["code"] == "webhook_url_invalid", (url, err)
            assert "public address" in err["message"], err
        assert [h["id"] for h in api.get("/api/v1/webhooks", token).json["webhooks"]] == \
            [hook["id"]]
        # ... and refused at delivery now that it is off: nothing connects
        private_order(api, token, "inside.example.com")
        log = wait_deliveries(api, token, hook["id"], lambda d: d and d[0]["tries"],
                              "an attempt")
        t = log[0]["tries"][0]
        assert t["status_code"] is None and "127.0.0.1 (loopback" in t["error"], t
        assert "public addresses" in t["error"], t
        time.sleep(1.5)
        assert receiver.received() == []
    finally:
        api.close()


def test_secret_never_shown_or_logged(api, receiver):
    token, admin = api.key("user"), api.key("admin")
    secret = "do-not-show-me-0123456789-abcdef"
    r = api.post("/api/v1/webhooks", token, {"url": receiver.url("/s"), "secret": secret},
                 check="/api/v1/webhooks")
    assert r.status == 201 and secret.encode() not in r.body, r
    private_order(api, token, "quiet.example.com")
    receiver.wait(lambda rs: len(rs) >= 1, "the event")
    assert signature_ok(receiver.received()[0], secret)
    answers = [api.get("/api/v1/webhooks", t).body for t in (token, admin)]
    answers.append(api.get(f"/api/v1/webhooks/{r.json['webhook']['id']}/deliveries", token).body)
    answers.append(api.get("/api/v1/events?object=webhook", admin).body)
    for a in answers:
        assert secret.encode() not in a, a
    api.close()  # everything written
    assert secret not in Path(api.log_path).read_text()
    raw = (Path(api.data) / "quill.db").read_bytes()
    wal = Path(api.data) / "quill.db-wal"
    raw += wal.read_bytes() if wal.exists() else b""
    assert secret.encode() not in raw


def test_email_to_contacts(api, smtp):
    token = api.key("user")
    r = api.call("PUT", "/api/v1/contacts", token,
                 body={"emails": ["ops@example.com", "pki@example.org"]},
                 check="/api/v1/contacts")
    assert r.status == 200, r
    assert r.json["contacts"] == {"tenant": "default",
                                  "emails": ["ops@example.com", "pki@example.org"]}
    r = api.call("PUT", "/api/v1/contacts", token, body={"emails": ["Ops <ops@example.com>"]},
                 check="/api/v1/contacts")
    assert r.status == 400 and r.error()["code"] == "contact_email_invalid", r
    assert api.get("/api/v1/contacts", token, check="/api/v1/contacts").json["contacts"][
        "emails"] == ["ops@example.com", "pki@example.org"]
    o = private_order(api, token, "mailed.example.com")
    cert = api.get(f"/api/v1/certificates/{o['certificate_id']}", token).json["certificate"]
    (m,) = smtp.wait(1)
    assert m["To"] == "ops@example.com, pki@example.org", m["To"]
    assert set(m["X-RcptTo"].replace(" ", "").split(",")) == {"ops@example.com",
                                                              "pki@example.org"}, m["X-RcptTo"]
    assert m["From"] == "quill@example.com"
    assert m["Subject"] == (f"[quill] Certificate issued: mailed.example.com "
                            f"(certificate {cert['id']})"), m["Subject"]
    text = m.get_payload(decode=True).decode()
    assert cert["serial"] in text and "mailed.example.com" in text, text
    # another tenant's certificate does not mail these contacts
    ok(api.data, "tenant", "create", "team-b")
    private_order(api, api.key("user", tenant="team-b"), "b.example.com")
    time.sleep(2)
    assert len(smtp.messages()) == 1


def test_deleted_webhook_gets_nothing_more(api, receiver):
    token = api.key("user")
    hook = register(api, token, receiver.url("/gone"))
    private_order(api, token, "one.example.com")
    receiver.wait(lambda rs: len(rs) >= 1, "the first event")
    r = api.call("DELETE", f"/api/v1/webhooks/{hook['id']}", token,
                 check="/api/v1/webhooks/{id}")
    assert r.status == 204, r
    assert api.call("DELETE", f"/api/v1/webhooks/{hook['id']}", token).status == 404
    private_order(api, token, "two.example.com")
    time.sleep(2)
    assert len(receiver.received()) == 1
    events = api.get(f"/api/v1/events?object=webhook&id={hook['id']}", token).json["events"]
    assert [e["to"] for e in events] == ["deleted", "created"], events


def test_pending_deliveries_survive_a_restart(ca_dir, tmp_path):
    port = pick_port()  # the receiver is not there yet
    api = start(ca_dir, tmp_path / "api", notify_conf())
    token = api.key("user")
    try:
        hook = register(api, token, f"http://127.0.0.1:{port}/later")
        private_order(api, token, "later.example.com")
        log = wait_deliveries(api, token, hook["id"], lambda d: d and d[0]["tries"],
                              "a failed attempt")
        assert log[0]["state"] in ("pending", "sending"), log
        assert log[0]["tries"][0]["status_code"] is None, log
    finally:
        api.close()
    receiver = Receiver(port)
    try:
        api = start(ca_dir, tmp_path / "api2", notify_conf())
        try:
            got = receiver.wait(lambda rs: len(rs) >= 1, "the delivery after the restart")
            assert signature_ok(got[0])
            log = wait_deliveries(api, token, hook["id"],
                                  lambda d: d[0]["state"] == "delivered", "delivered")
            assert log[0]["attempts"] >= 2 and log[0]["tries"][-1]["status_code"] == 200, log
            assert log[0]["tries"][0]["status_code"] is None, log
        finally:
            api.close()
    finally:
        receiver.close()
