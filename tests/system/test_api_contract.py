"""The REST API against its contract (docs/openapi.yaml, docs/api.md):
every route served is in the file and every route in the file is served;
authentication, roles and bad input on every route, each answered with the
right status and stable code and changing nothing; the examples of
docs/api.md run as they are. A real `quill serve` on loopback."""

import os
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest

from api_client import Api, Contract, private_order
from conftest import REPO, ok

ID_ROUTES_SAMPLE_ID = "424242"


@pytest.fixture
def api(ca_dir, tmp_path):
    # the contract tests walk every route quickly; the rate limit has its
    # own test (test_api_tenants.py)
    a = Api(ca_dir, tmp_path / "api", conf="[api]\nrate_per_second = 100000\nburst = 100000\n")
    yield a
    a.close()


def concrete(pattern, ident=ID_ROUTES_SAMPLE_ID):
    return pattern.replace("{id}", ident)


def db_rows(data):
    """What the database holds, for 'changed nothing' assertions."""
    db = sqlite3.connect(Path(data) / "quill.db")
    try:
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("certificates", "orders", "events", "reviews", "revocations",
                          "reissues", "tenants", "api_keys", "webhooks", "contacts",
                          "deliveries")}
    finally:
        db.close()


def test_routes_served_are_the_routes_in_the_file(ca_dir):
    served = {(r["method"], r["pattern"]) for r in ok(ca_dir, "routes")["routes"]
              if r["listener"] == "https" and r["pattern"].startswith("/api/")}
    documented = Contract().routes()
    assert served - documented == set(), f"served but not in docs/openapi.yaml: {served - documented}"
    assert documented - served == set(), f"in docs/openapi.yaml but not served: {documented - served}"


def test_every_documented_route_wants_a_key(api):
    for method, pattern in sorted(Contract().routes()):
        r = api.call(method, concrete(pattern), check=pattern,
                     body={} if method in ("POST", "PUT") else None)
        assert r.status == 401, (method, pattern, r)
        assert r.error()["code"] == "unauthorized"
        assert r.headers.get("WWW-Authenticate", "").startswith("Bearer"), r.headers


def test_bad_tokens_all_look_the_same(api):
    good = api.key("user")
    key_id = good.split("_")[1]
    revoked = api.key("user")
    ok(api.data, "key", "revoke", revoked.split("_")[1])
    bad = [
        "", "quill_", "quill_1", f"quill_{key_id}_" + "A" * 43, f"quill_999_{good.split('_', 2)[2]}",
        revoked, good[:-1], good + "A", "Basic " + good, good.replace("quill_", "QUILL_"),
    ]
    messages = set()
    for t in bad:
        r = api.get("/api/v1/certificates", None, headers={"Authorization": f"Bearer {t}"},
                    check="/api/v1/certificates")
        assert r.status == 401, (t, r)
        messages.add(r.error()["message"])
    assert len(messages) == 1, messages
    assert api.get("/api/v1/certificates", good).status == 200


def test_roles(api):
    user, reviewer, admin = api.key("user"), api.key("reviewer"), api.key("admin")
    admin_only = [("POST", "/api/v1/tenants"), ("GET", "/api/v1/tenants"), ("POST", "/api/v1/keys"),
                  ("GET", "/api/v1/keys"), ("DELETE", "/api/v1/keys/{id}"), ("GET", "/api/v1/cas")]
    review_routes = [("GET", "/api/v1/reviews"), ("POST", "/api/v1/reviews/{id}/approve"),
                     ("POST", "/api/v1/reviews/{id}/reject")]
    events = ("GET", "/api/v1/events")
    def allowed(role, route):
        if route in admin_only:
            return False
        if route == events:
            return True
        return (route in review_routes) == (role == "reviewer")

    for method, pattern in sorted(Contract().routes()):
        for token, role in ((user, "user"), (reviewer, "reviewer")):
            r = api.call(method, concrete(pattern), token, check=pattern,
                         body={} if method in ("POST", "PUT") else None)
            if allowed(role, (method, pattern)):
                assert not (r.status == 403 and r.error()["code"] == "forbidden"), \
                    (role, method, pattern, r)
            else:
                assert r.status == 403, (role, method, pattern, r)
                assert r.error()["code"] == "forbidden", r
                assert role in r.error()["message"], r
    # admin may call everything
    for method, pattern in sorted(Contract().routes()):
        r = api.call(method, concrete(pattern), admin, check=pattern,
                     body={} if method in ("POST", "PUT") else None)
        assert r.status != 403 or r.error()["code"] != "forbidden", (method, pattern, r)


POST_BODIES = {
    "/api/v1/orders": {"profile": "private", "names": ["x.example.com"], "key": "ec256"},
    "/api/v1/orders/{id}/validate": {},
    "/api/v1/orders/{id}/cancel": {},
    "/api/v1/certificates/upload": {"certificate": "x", "key": "y"},
    "/api/v1/certificates/{id}/download": {"format": "pem"},
    "/api/v1/certificates/{id}/revoke": {"reason": "superseded"},
    "/api/v1/certificates/{id}/reissue": {"csr_source": "original", "reason": "r"},
    "/api/v1/reviews/{id}/approve": {},
    "/api/v1/reviews/{id}/reject": {"reason": "no"},
    "/api/v1/tenants": {"name": "t"},
    "/api/v1/keys": {"role": "user"},
    "/api/v1/webhooks": {"url": "https://hooks.example.com/quill", "secret": "s" * 20},
}
PUT_BODIES = {
    "/api/v1/contacts": {"emails": ["ops@example.com"]},
}
CAPS = {"/api/v1/orders": 1 << 20, "/api/v1/certificates/upload": 1 << 20,
        "/api/v1/certificates/{id}/reissue": 1 << 20, "/api/v1/certificates/{id}/revoke": 2 << 20}


def test_bad_bodies_on_every_route(api):
    admin = api.key("admin")
    private_order(api, admin, "keep.example.com")
    before = db_rows(api.data)
    routes = []
    for method, table in (("POST", POST_BODIES), ("PUT", PUT_BODIES)):
        served = sorted(p for m, p in Contract().routes() if m == method)
        assert set(served) == set(table), (method, set(served) ^ set(table))
        routes += [(method, p, table[p]) for p in served]
    for method, pattern, good in routes:
        path = concrete(pattern, "1")
        for raw, what in (("{", "not valid JSON"), ("[1]", "JSON object"), ("nul\x00", "JSON"),
                          ('{"a":1,"a":2}', "not valid JSON")):
            r = api.call(method, path, admin, raw=raw, check=pattern)
            assert r.status == 400 and r.error()["code"] == "malformed_request", (pattern, raw, r)
            assert what in r.error()["message"], (pattern, raw, r)
        r = api.call(method, path, admin, body={**good, "surprise": 1}, check=pattern)
        assert r.status == 400 and "'surprise' is not known" in r.error()["message"], (pattern, r)
        for field, value in good.items():
            r = api.call(method, path, admin, body={**good, field: [value]}, check=pattern)
            assert r.status == 400 and r.error()["code"] == "malformed_request", (pattern, field, r)
            assert f"'{field}'" in r.error()["message"], r
        cap = CAPS.get(pattern, 64 << 10)
        r = api.oversized(method, path, admin, cap + 1, check=pattern)
        assert r.status == 413 and r.error()["code"] == "body_too_large", (pattern, r)
        # just under the cap is read (and then refused for what it says)
        r = api.call(method, path, admin, raw=b"{" + b" " * (cap - 2) + b"}", check=pattern)
        assert r.status != 413, (pattern, r)
    assert db_rows(api.data) == before


def test_bad_ids_and_queries(api):
    admin = api.key("admin")
    for method, pattern in sorted(Contract().routes()):
        if "{id}" not in pattern:
            continue
        body = POST_BODIES.get(pattern) if method == "POST" else None
        body = PUT_BODIES.get(pattern, body) if method == "PUT" else body
        for bad in ("0", "abc", "-1", "01", "1.5", "99999999999999999999", "1%20"):
            r = api.call(method, concrete(pattern, bad), admin, body=body, check=pattern)
            assert r.status == 400, (method, pattern, bad, r)
            assert "positive integer" in r.error()["message"], r
        r = api.call(method, concrete(pattern), admin, body=body, check=pattern)
        assert r.status == 404 and r.error()["code"] in ("not_found",), (method, pattern, r)
    for path, bad in (("/api/v1/certificates", "status=gone"), ("/api/v1/certificates", "limit=0"),
                      ("/api/v1/certificates", "limit=501"), ("/api/v1/certificates", "cursor=zz"),
                      ("/api/v1/certificates", "expires_before=tomorrow"),
                      ("/api/v1/certificates", "colour=red"),
                      ("/api/v1/certificates", "limit=1&limit=2"),
                      ("/api/v1/orders", "status=done"), ("/api/v1/events", "object=planet"),
                      ("/api/v1/events", "id=5"), ("/api/v1/reviews", "status=maybe"),
                      ("/api/v1/events", "object=webhooks"), ("/api/v1/webhooks", "colour=red"),
                      ("/api/v1/contacts", "tenant=a&tenant=b"),
                      ("/api/v1/contacts", "who=me")):
        r = api.get(f"{path}?{bad}", admin, check=path)
        assert r.status == 400 and r.error()["code"] == "malformed_request", (path, bad, r)
    pattern = "/api/v1/webhooks/{id}/deliveries"
    for bad in ("limit=0", "limit=501", "cursor=zz", "colour=red", "limit=1&limit=2"):
        r = api.get(f"{concrete(pattern, '1')}?{bad}", admin, check=pattern)
        assert r.status == 400 and r.error()["code"] == "malformed_request", (pattern, bad, r)


def test_docs_examples_run(ca_dir, tmp_path):
    """Every sh block of docs/api.md, as written, against this server (with
    a public base_url, as a real installation has: public orders refuse a
    loopback one)."""
    api = Api(ca_dir, tmp_path / "api", conf="[server]\nbase_url = http://pki.example.com\n")
    try:
        run_examples(api, tmp_path)
    finally:
        api.close()


def run_examples(api, tmp_path):
    text = (REPO / "docs" / "api.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    assert len(blocks) >= 3, "docs/api.md lost its examples"
    # the first block only shows the CLI: the operator's part is done here
    env = {**os.environ, "QUILL": api.url, "CA": str(api.root_pem), "TOKEN": api.key("user"),
           "ADMIN": api.key("admin")}
    env.pop("PYTHONPATH", None)
    work = tmp_path / "examples"
    work.mkdir()
    for block in blocks[1:]:
        p = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=work, env=env,
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, f"example failed:\n{block}\nstdout: {p.stdout}\nstderr: {p.stderr}"
    # leaf, issuing CA, root: the fullchain.pem of `quill cert download`
    assert (work / "chain.pem").read_text().count("BEGIN CERTIFICATE") == 3
    assert (work / "nginx.zip").read_bytes()[:2] == b"PK"
    assert (work / "site.pfx").stat().st_size > 100
