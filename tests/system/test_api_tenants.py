"""Tenants over the REST API (issue 6): another tenant's object is a 404
exactly like a missing one on every route, leaves it unchanged and is
written to the owner's audit log; lists show only the tenant's own (an
admin's, every tenant's); reviewers work every tenant's queue under their
own identity and never decide their own request; the per-tenant rate limit.
Public orders run against the test suite's real DNS (Knot + Unbound)."""

import re

import pytest

from api_client import Api, private_order
from conftest import ok
from test_orders import ZONE, configure, dns_lab


@pytest.fixture
def api(ca_dir, tmp_path):
    ok(ca_dir, "tenant", "create", "blue")
    ok(ca_dir, "tenant", "create", "green")
    a = Api(ca_dir, tmp_path / "api")
    yield a
    a.close()


def same_but_id(a, b, ida, idb):
    return a.replace(str(ida), "#") == b.replace(str(idb), "#")


def test_another_tenants_objects_look_missing_on_every_route(api):
    blue, green = api.key("user", "blue"), api.key("user", "green")
    o = private_order(api, blue, "blue.example.com")
    cid, oid = o["certificate_id"], o["id"]
    missing = 987654
    routes = [
        ("GET", "/api/v1/certificates/{id}", None, cid),
        ("GET", "/api/v1/certificates/{id}/download", None, cid),
        ("POST", "/api/v1/certificates/{id}/download", {"format": "pem"}, cid),
        ("POST", "/api/v1/certificates/{id}/revoke", {"reason": "superseded"}, cid),
        ("POST", "/api/v1/certificates/{id}/reissue",
         {"csr_source": "generated", "key": "ec256", "reason": "x"}, cid),
        ("DELETE", "/api/v1/certificates/{id}", None, cid),
        ("GET", "/api/v1/orders/{id}", None, oid),
        ("POST", "/api/v1/orders/{id}/validate", {}, oid),
        ("POST", "/api/v1/orders/{id}/cancel", {}, oid),
    ]
    for method, pattern, body, real in routes:
        theirs = api.call(method, pattern.replace("{id}", str(real)), green, body=body,
                          check=pattern)
        nothing = api.call(method, pattern.replace("{id}", str(missing)), green, body=body,
                           check=pattern)
        assert theirs.status == nothing.status == 404, (pattern, theirs, nothing)
        assert theirs.error()["code"] == nothing.error()["code"] == "not_found"
        assert same_but_id(theirs.error()["message"], nothing.error()["message"], real,
                           missing), (theirs, nothing)
    # lists hold only the tenant's own
    for path in ("/api/v1/certificates", "/api/v1/orders", "/api/v1/events"):
        r = api.get(path, green, check=path)
        key = path.rsplit("/", 1)[1]
        assert r.json[key] == [] or all(x["tenant"] == "green" for x in r.json[key]), r.json
    # nothing changed for blue, whose log holds every refusal
    c = api.get(f"/api/v1/certificates/{cid}", blue, check="/api/v1/certificates/{id}")
    assert c.json["certificate"]["status"] == "issued"
    denied = [e for e in c.json["certificate"]["events"] if e["to"] == "access_denied"]
    assert len(denied) == 6, c.json["certificate"]["events"]
    assert all("green" in e["reason"] and e["tenant"] == "blue" for e in denied), denied
    ev = api.get("/api/v1/events?object=order", blue, check="/api/v1/events").json["events"]
    assert sum(e["to"] == "access_denied" for e in ev) == 3, ev
    # and green's log does not reveal that anything exists
    assert all(e["to"] != "access_denied" for e in
               api.get("/api/v1/events?limit=500", green).json["events"])


def test_admin_sees_every_tenant(api):
    admin = api.key("admin", "green")
    blue = api.key("user", "blue")
    cid = private_order(api, blue, "seen.example.com")["certificate_id"]
    listed = api.get("/api/v1/certificates?limit=500", admin,
                     check="/api/v1/certificates").json["certificates"]
    assert cid in [c["id"] for c in listed]
    assert {c["tenant"] for c in listed} >= {"blue"}
    r = api.get(f"/api/v1/certificates/{cid}", admin, check="/api/v1/certificates/{id}")
    assert r.status == 200 and r.json["certificate"]["tenant"] == "blue"
    ev = api.get("/api/v1/events?limit=500", admin, check="/api/v1/events").json["events"]
    assert {"blue", "default"} <= {e["tenant"] for e in ev}
    # tenants and keys
    r = api.post("/api/v1/tenants", admin, {"name": "red"}, check="/api/v1/tenants")
    assert r.status == 201 and r.json["tenant"]["name"] == "red", r
    r = api.post("/api/v1/tenants", admin, {"name": "red"}, check="/api/v1/tenants")
    assert r.status == 409 and r.error()["code"] == "tenant_exists", r
    r = api.post("/api/v1/tenants", admin, {"name": "Red Team"}, check="/api/v1/tenants")
    assert r.status == 400 and r.error()["code"] == "tenant_name_invalid", r
    r = api.post("/api/v1/keys", admin, {"tenant": "red", "role": "user", "label": "bot"},
                 check="/api/v1/keys")
    assert r.status == 201 and r.headers["Cache-Control"] == "no-store", r
    k = r.json["key"]
    assert private_order(api, k["token"], "red.example.com")["tenant"] == "red"
    keys = api.get("/api/v1/keys?tenant=red", admin, check="/api/v1/keys").json["keys"]
    assert [x["id"] for x in keys] == [k["id"]] and "token" not in keys[0]
    r = api.call("DELETE", f"/api/v1/keys/{k['id']}", admin, check="/api/v1/keys/{id}")
    assert r.status == 200 and r.json["key"]["revoked_at"], r
    r = api.get("/api/v1/certificates", k["token"], check="/api/v1/certificates")
    assert r.status == 401, r
    r = api.post("/api/v1/keys", admin, {"tenant": "nowhere", "role": "user"},
                 check="/api/v1/keys")
    assert r.status == 404 and r.error()["code"] == "tenant_unknown", r


def test_rate_limit_per_tenant(ca_dir, tmp_path):
    ok(ca_dir, "tenant", "create", "blue")
    api = Api(ca_dir, tmp_path / "api", conf="[api]\nrate_per_second = 1\nburst = 3\n")
    try:
        default, blue = api.key("user"), api.key("user", "blue")
        codes = [api.get("/api/v1/certificates", default).status for _ in range(4)]
        assert codes[:3] == [200, 200, 200] and codes[3] == 429, codes
        r = api.get("/api/v1/certificates", default, check="/api/v1/certificates")
        assert r.status == 429 and r.error()["code"] == "rate_limited", r
        assert int(r.headers["Retry-After"]) >= 1
        # another tenant has its own bucket
        assert api.get("/api/v1/certificates", blue).status == 200
    finally:
        api.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with dns_lab(tmp_path_factory.mktemp("api-dns")) as lab_:
        yield lab_


def test_reviews_across_tenants_with_four_eyes(ca_dir, tmp_path, lab):
    """A risky DV order of tenant blue waits for a reviewer; reviewers of any
    tenant see it, the applicant may not decide it, a reviewer does, under
    its own identity, and the order then issues."""
    words = tmp_path / "words.txt"
    words.write_text("bank\n")
    configure(ca_dir, lab.recursor.addr, extra=f"[risk]\nwords_file = {words}\n")
    ok(ca_dir, "tenant", "create", "blue")
    ok(ca_dir, "tenant", "create", "audit")
    api = Api(ca_dir, tmp_path / "api")
    try:
        user = api.key("user", "blue")
        admin = api.key("admin", "blue", label="boss")
        reviewer = api.key("reviewer", "audit", label="rita")
        name = f"my-bank.{ZONE}"
        r = api.post("/api/v1/orders", admin, {"profile": "dv", "names": [name], "key": "ec256",
                                               "method": "dns"}, check="/api/v1/orders")
        assert r.status == 201, r
        o = r.json["order"]
        assert o["status"] == "pending_validation" and r.headers["Retry-After"], r
        assert r.headers["Location"] == f"/api/v1/orders/{o['id']}"
        lab.publish(o)
        v = api.post(f"/api/v1/orders/{o['id']}/validate", admin, {},
                     check="/api/v1/orders/{id}/validate")
        assert v.json["order"]["status"] == "manual_review", v
        # a user key may not read the queue; a reviewer of another tenant sees it
        assert api.get("/api/v1/reviews", user, check="/api/v1/reviews").status == 403
        q = api.get("/api/v1/reviews", reviewer, check="/api/v1/reviews").json["reviews"]
        (rv,) = [x for x in q if x["order_id"] == o["id"]]
        assert rv["tenant"] == "blue" and rv["kind"] == "risk" and "bank" in rv["detail"], rv
        # the applicant (an admin key may decide reviews) cannot decide its own
        r = api.post(f"/api/v1/reviews/{rv['id']}/approve", admin, {},
                     check="/api/v1/reviews/{id}/approve")
        assert r.status == 403 and r.error()["code"] == "review_own_order", r
        r = api.post(f"/api/v1/reviews/{rv['id']}/reject", reviewer, {},
                     check="/api/v1/reviews/{id}/reject")
        assert r.status == 400, r  # a rejection needs a reason
        r = api.post(f"/api/v1/reviews/{rv['id']}/approve", reviewer, {"reason": "known"},
                     check="/api/v1/reviews/{id}/approve")
        assert r.status == 200 and r.json["review"]["status"] == "approved", r
        assert re.match(r"^key:\d+:rita$", r.json["review"]["reviewer"]), r.json
        done = api.post(f"/api/v1/orders/{o['id']}/validate", admin, {},
                        check="/api/v1/orders/{id}/validate").json["order"]
        assert done["status"] == "issued" and done["certificate_id"], done
        r = api.post(f"/api/v1/reviews/{rv['id']}/reject", reviewer, {"reason": "late"},
                     check="/api/v1/reviews/{id}/reject")
        assert r.status == 409, r
        ev = api.get(f"/api/v1/events?object=review&id={rv['id']}", user,
                     check="/api/v1/events").json["events"]
        assert [e["to"] for e in ev] == ["approved"] and "rita" in ev[0]["actor"], ev
    finally:
        api.close()


def test_dv_and_ov_revocations_over_the_api(ca_dir, tmp_path, lab):
    """RULES.md §5 through the REST API: a DV revocation waits for proof of
    control (what to publish is in the answer); an OV revocation needs its
    signed letter (base64) and a reviewer's approval. Downloads stop at
    once; the certificate is revoked and on its CRL once done."""
    import base64
    from test_revoke_letter import PDF
    configure(ca_dir, lab.recursor.addr)
    api = Api(ca_dir, tmp_path / "api")
    try:
        user = api.key("user", label="ops")
        reviewer = api.key("reviewer", label="rita")

        def issued(profile, name, org=None):
            body = {"profile": profile, "names": [name], "key": "ec256", "method": "dns"}
            if org:
                body["organization"] = org
            o = api.post("/api/v1/orders", user, body, check="/api/v1/orders").json["order"]
            lab.publish(o)
            o = api.post(f"/api/v1/orders/{o['id']}/validate", user, {}).json["order"]
            for rv in api.get("/api/v1/reviews", reviewer).json["reviews"]:
                if rv["order_id"] == o["id"]:
                    assert api.post(f"/api/v1/reviews/{rv['id']}/approve", reviewer,
                                    {}).status == 200
                    o = api.post(f"/api/v1/orders/{o['id']}/validate", user, {}).json["order"]
            assert o["status"] == "issued", o
            return api.get(f"/api/v1/certificates/{o['certificate_id']}",
                           user).json["certificate"]

        # DV: pending with a proof order, downloads refused meanwhile
        dv = issued("dv", f"revoke-dv.{ZONE}")
        r = api.post(f"/api/v1/certificates/{dv['id']}/revoke", user,
                     {"reason": "keyCompromise", "method": "dns"},
                     check="/api/v1/certificates/{id}/revoke")
        assert r.status == 200 and r.json["revocation"]["status"] == "pending", r
        proof = r.json["revocation"]["proof_order"]
        assert proof["purpose"] == "revoke" and "3 days" in r.json["revocation"]["next"], r.json
        d = api.get(f"/api/v1/certificates/{dv['id']}/download?format=pem", user,
                    check="/api/v1/certificates/{id}/download")
        assert d.status == 409 and d.error()["code"] == "download_revoked", d
        lab.publish(proof)
        p = api.post(f"/api/v1/orders/{proof['id']}/validate", user, {},
                     check="/api/v1/orders/{id}/validate").json["order"]
        assert p["status"] == "issued", p  # the proof completed
        got = api.get(f"/api/v1/certificates/{dv['id']}", user).json["certificate"]
        assert got["status"] == "revoked" and got["revocation_reason"] == "keyCompromise", got

        # OV: the letter, then the review
        ov = issued("ov", f"revoke-ov.{ZONE}",
                    {"organization": "Acme Ltd", "country": "DE", "locality": "Berlin"})
        r = api.post(f"/api/v1/certificates/{ov['id']}/revoke", user, {"reason": "superseded"},
                     check="/api/v1/certificates/{id}/revoke")
        assert r.status == 400 and r.error()["code"] == "revocation_letter_invalid", r
        r = api.post(f"/api/v1/certificates/{ov['id']}/revoke", user,
                     {"reason": "superseded", "letter": "not base64!"},
                     check="/api/v1/certificates/{id}/revoke")
        assert r.status == 400 and r.error()["code"] == "revocation_letter_invalid", r
        r = api.post(f"/api/v1/certificates/{ov['id']}/revoke", user,
                     {"reason": "superseded", "letter": base64.b64encode(PDF).decode()},
                     check="/api/v1/certificates/{id}/revoke")
        assert r.status == 200 and r.json["revocation"]["status"] == "pending", r
        rid = r.json["revocation"]["review_id"]
        # the requester cannot approve it; a reviewer does
        r = api.post(f"/api/v1/reviews/{rid}/approve", reviewer, {"reason": "signed"},
                     check="/api/v1/reviews/{id}/approve")
        assert r.status == 200, r
        got = api.get(f"/api/v1/certificates/{ov['id']}", user).json["certificate"]
        assert got["status"] == "revoked", got
    finally:
        api.close()
