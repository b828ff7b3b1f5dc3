"""Certificates through the REST API (RULES.md §5-§7 over HTTPS): private
orders issued at once, keyset pages and filters, every download format read
back by real relying-party tools (openssl, Python's zipfile), revocation
onto the served CRL, reissue, delete, upload, the event history, and a
revocation racing a reissue (made deterministic with a pause point of the
test build). Every JSON answer is validated against docs/openapi.yaml."""

import io
import subprocess
import zipfile
from pathlib import Path

import pytest
from cryptography import x509

from api_client import Api, private_order
from conftest import ThirdParty, load_cert, make_csr, ok, run, split_pems


@pytest.fixture
def api(ca_dir, tmp_path):
    a = Api(ca_dir, tmp_path / "api")
    yield a
    a.close()


def get_cert(api, token, cid):
    r = api.get(f"/api/v1/certificates/{cid}", token, check="/api/v1/certificates/{id}")
    assert r.status == 200, r
    return r.json["certificate"]


def test_private_order_is_issued_at_once(api):
    t = api.key("user", label="alice")
    o = private_order(api, t, "web.example.com", "api.example.com", key="ec384")
    assert o["profile"] == "private" and o["created_by"] == f"key:{t.split('_')[1]}:alice", o
    assert [n["validation_status"] for n in o["names"]] == ["not_required"] * 2, o
    again = api.get(f"/api/v1/orders/{o['id']}", t, check="/api/v1/orders/{id}").json["order"]
    assert again == o
    c = get_cert(api, t, o["certificate_id"])
    assert c["names"] == ["web.example.com", "api.example.com"] and c["key_algorithm"] == "ec384"
    assert [e["to"] for e in c["events"]] == ["issued"], c["events"]
    assert c["events"][0]["actor"] == o["created_by"]


def test_order_refusals(api):
    t = api.key("user")
    for body, code in (({"profile": "private", "names": ["a.example.com"]}, "malformed_request"),
                       ({"profile": "gold", "names": ["a.example.com"], "key": "ec256"},
                        "malformed_request"),
                       ({"profile": "private", "names": ["a..example.com"], "key": "ec256"},
                        "name_invalid"),
                       ({"profile": "private", "names": ["a.example.com"], "key": "dsa"},
                        "key_unsupported"),
                       ({"profile": "private", "names": ["a.example.com"], "key": "ec256",
                         "method": "dns"}, "malformed_request"),
                       ({"profile": "dv", "names": ["a.example.com"], "key": "ec256",
                         "method": "dns"}, "base_url_private"),
                       ({"profile": "private", "names": ["a.example.com"], "key": "ec256",
                         "days": 4000}, "malformed_request")):
        r = api.post("/api/v1/orders", t, body, check="/api/v1/orders")
        assert r.status in (400, 403, 409) and r.error()["code"] == code, (body, r)
    r = api.get("/api/v1/orders", t, check="/api/v1/orders")
    assert r.json == {"orders": [], "next_cursor": None}


def test_keyset_pages_and_filters(api):
    t = api.key("user")
    ids = [private_order(api, t, f"n{i}.example.com", check=False)["certificate_id"]
           for i in range(23)]
    seen, cursor, pages = [], None, 0
    while True:
        q = "limit=5" + (f"&cursor={cursor}" if cursor else "")
        r = api.get(f"/api/v1/certificates?{q}", t, check="/api/v1/certificates")
        assert r.status == 200, r
        page = r.json["certificates"]
        assert len(page) <= 5
        seen += [c["id"] for c in page]
        pages += 1
        cursor = r.json["next_cursor"]
        if cursor is None:
            break
    # newest first, each once
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == len(seen)
    assert set(ids) <= set(seen) and pages == 5
    by_name = api.get("/api/v1/certificates?name=n7.example.com", t,
                      check="/api/v1/certificates").json["certificates"]
    assert [c["id"] for c in by_name] == [ids[7]]
    assert api.get("/api/v1/certificates?name=nope.example.com", t).json["certificates"] == []
    revoked = api.post(f"/api/v1/certificates/{ids[3]}/revoke", t, {"reason": "superseded"},
                       check="/api/v1/certificates/{id}/revoke")
    assert revoked.status == 200 and revoked.json["revocation"]["status"] == "done", revoked
    st = api.get("/api/v1/certificates?status=revoked", t, check="/api/v1/certificates")
    assert [c["id"] for c in st.json["certificates"]] == [ids[3]]
    assert ids[3] not in [c["id"] for c in api.get("/api/v1/certificates?status=issued&limit=500",
                                                   t).json["certificates"]]
    soon = api.get("/api/v1/certificates?expires_before=2000-01-01T00:00:00Z", t)
    assert soon.json["certificates"] == []
    up = api.get("/api/v1/certificates?origin=uploaded", t, check="/api/v1/certificates")
    assert up.json["certificates"] == []


def test_downloads(api, tmp_path):
    t, admin = api.key("user"), api.key("admin")
    o = private_order(api, t, "dl.example.com")
    cid = o["certificate_id"]
    base = f"/api/v1/certificates/{cid}/download"
    r = api.get(f"{base}?format=pem", t, check="/api/v1/certificates/{id}/download")
    assert r.status == 200 and r.headers["Content-Type"] == "application/pem-certificate-chain"
    pems = split_pems(r.body.decode())
    assert len(pems) == 3 and "dl.example.com" in str(load_cert(pems[0]).subject)
    (tmp_path / "chain.pem").write_text(r.body.decode())
    (tmp_path / "leaf.pem").write_text(pems[0])
    (tmp_path / "root.pem").write_text(pems[2])
    v = run("openssl", "verify", "-CAfile", tmp_path / "root.pem", "-untrusted",
            tmp_path / "chain.pem", tmp_path / "leaf.pem")
    assert "OK" in v.stdout
    for fmt, files in (("nginx", {"dl.example.com.crt", "dl.example.com.key"}),
                       ("apache", {"dl.example.com.crt", "dl.example.com.chain.crt",
                                   "dl.example.com.key"})):
        r = api.get(f"{base}?format={fmt}", t, check="/api/v1/certificates/{id}/download")
        assert r.status == 200 and r.headers["Content-Type"] == "application/zip", r
        z = zipfile.ZipFile(io.BytesIO(r.body))
        assert z.testzip() is None and set(z.namelist()) == files, z.namelist()
        key = z.read("dl.example.com.key").decode()
        assert "PRIVATE KEY" in key
        assert (z.getinfo("dl.example.com.key").external_attr >> 16) & 0o777 == 0o600
        # an admin key never receives the private key
        r = api.get(f"{base}?format={fmt}", admin, check="/api/v1/certificates/{id}/download")
        assert r.status == 403 and r.error()["code"] == "forbidden", r
    r = api.post(base, t, {"format": "pem"}, check="/api/v1/certificates/{id}/download")
    z = zipfile.ZipFile(io.BytesIO(r.body))
    assert set(z.namelist()) == {"cert.pem", "chain.pem", "fullchain.pem", "key.pem"}
    for fmt, ext in (("iis", "pfx"), ("tomcat", "p12")):
        r = api.post(base, t, {"format": fmt}, check="/api/v1/certificates/{id}/download")
        assert r.status == 400 and r.error()["code"] == "password_required", r
        r = api.post(base, t, {"format": fmt, "password": "pfx secret"},
                     check="/api/v1/certificates/{id}/download")
        assert r.status == 200 and r.headers["Content-Type"] == "application/x-pkcs12", r
        assert f".{ext}" in r.headers["Content-Disposition"]
        p12 = tmp_path / f"b.{ext}"
        p12.write_bytes(r.body)
        info = subprocess.run(["openssl", "pkcs12", "-in", str(p12), "-nodes", "-passin",
                               "pass:pfx secret"], capture_output=True, text=True)
        assert info.returncode == 0 and "PRIVATE KEY" in info.stdout, info.stderr
    r = api.get(f"{base}?format=iis", t, check="/api/v1/certificates/{id}/download")
    assert r.status == 400 and "POST" in r.error()["message"], r
    r = api.post(base, t, {"format": "zip"}, check="/api/v1/certificates/{id}/download")
    assert r.status == 400 and r.error()["code"] == "format_invalid", r


def test_revoke_reissue_delete_rules(api, tmp_path):
    t = api.key("user")
    o = private_order(api, t, "life.example.com")
    cid = o["certificate_id"]
    # delete needs a revocation first
    r = api.call("DELETE", f"/api/v1/certificates/{cid}", t, check="/api/v1/certificates/{id}")
    assert r.status == 409 and r.error()["code"] == "delete_requires_revocation", r
    # reissue: a new key, the original's expiry kept
    r = api.post(f"/api/v1/certificates/{cid}/reissue", t,
                 {"csr_source": "generated", "key": "rsa2048", "reason": "rotation"},
                 check="/api/v1/certificates/{id}/reissue")
    assert r.status == 201 and r.json["reissue"]["status"] == "done", r
    child = r.json["reissue"]["certificate"]
    assert child["parent_id"] == cid and child["key_algorithm"] == "rsa2048"
    assert child["not_after"] == get_cert(api, t, cid)["not_after"]
    assert r.headers["Location"] == f"/api/v1/certificates/{child['id']}"
    # a pasted CSR must name the same names
    make_csr(tmp_path / "other.csr", ["other.example.com"])
    r = api.post(f"/api/v1/certificates/{cid}/reissue", t,
                 {"csr_source": "pasted", "csr": (tmp_path / "other.csr").read_text(),
                  "reason": "x"}, check="/api/v1/certificates/{id}/reissue")
    assert r.status == 403 and r.error()["code"] == "policy_denied", r
    r = api.post(f"/api/v1/certificates/{cid}/reissue", t,
                 {"csr_source": "pasted", "reason": "x"},
                 check="/api/v1/certificates/{id}/reissue")
    assert r.status == 400, r
    # a reissued certificate cannot be revoked on its own
    r = api.post(f"/api/v1/certificates/{child['id']}/revoke", t, {"reason": "superseded"},
                 check="/api/v1/certificates/{id}/revoke")
    assert r.status == 409 and r.error()["code"] == "revoke_reissued_certificate", r
    r = api.post(f"/api/v1/certificates/{cid}/revoke", t, {"reason": "retired"},
                 check="/api/v1/certificates/{id}/revoke")
    assert r.status == 400 and r.error()["code"] == "revoke_reason_invalid", r
    # revoking the original revokes its reissue, on the CRL served by the HTTP listener
    r = api.post(f"/api/v1/certificates/{cid}/revoke", t, {"reason": "keyCompromise"},
                 check="/api/v1/certificates/{id}/revoke")
    assert r.status == 200, r
    assert sorted(r.json["revocation"]["revoked"]) == sorted([cid, child["id"]]), r
    r = api.post(f"/api/v1/certificates/{cid}/revoke", t, {"reason": "keyCompromise"},
                 check="/api/v1/certificates/{id}/revoke")
    assert r.status == 409, r
    r = api.get(f"/api/v1/certificates/{cid}/download?format=pem", t,
                check="/api/v1/certificates/{id}/download")
    assert r.status == 409 and r.error()["code"] == "download_revoked", r
    orig = get_cert(api, t, cid)
    import time
    import urllib.request
    for c in (orig, child):  # an RSA reissue comes from the RSA issuing CA
        # the CRL of its shard (its distribution point), made by the job
        # workers once the revocation committed: within seconds
        deadline = time.monotonic() + 15
        while True:
            with urllib.request.urlopen(f"{api.base}/crl/{c['ca_id']}/{c['crl_shard']}.crl",
                                        timeout=10) as resp:
                crl = x509.load_der_x509_crl(resp.read())
            e = crl.get_revoked_certificate_by_serial_number(int(c["serial"], 16))
            if e is not None:
                break
            assert time.monotonic() < deadline, (c, api.logs())
            time.sleep(0.05)
    # now it can be deleted; its events stay for the audit log
    r = api.call("DELETE", f"/api/v1/certificates/{cid}", t, check="/api/v1/certificates/{id}")
    assert r.status == 204 and r.body == b"", r
    r = api.get(f"/api/v1/certificates/{cid}", t, check="/api/v1/certificates/{id}")
    assert r.status == 404, r
    ev = api.get(f"/api/v1/events?object=certificate&id={cid}", t, check="/api/v1/events")
    assert [e["to"] for e in ev.json["events"]][:2] == ["deleted", "revoked"], ev.json


def test_upload(api, tmp_path):
    t = api.key("user")
    tp = ThirdParty(tmp_path / "tp", name="up.example.org")
    body = {"certificate": tp.cert_path.read_text(), "key": tp.key_path.read_text(),
            "chain": tp.chain_path.read_text()}
    r = api.post("/api/v1/certificates/upload", t, body, check="/api/v1/certificates/upload")
    assert r.status == 201, r
    c = r.json["certificate"]
    assert c["origin"] == "uploaded" and c["names"] == ["up.example.org"], c
    r = api.post("/api/v1/certificates/upload", t, body, check="/api/v1/certificates/upload")
    assert r.status == 409 and r.error()["code"] == "upload_duplicate", r
    r = api.post(f"/api/v1/certificates/{c['id']}/revoke", t, {"reason": "superseded"},
                 check="/api/v1/certificates/{id}/revoke")
    assert r.status == 409 and r.error()["code"] == "revoke_uploaded", r
    other = ThirdParty(tmp_path / "tp2", name="up2.example.org")
    r = api.post("/api/v1/certificates/upload", t,
                 {**body, "key": other.key_path.read_text()}, check="/api/v1/certificates/upload")
    assert r.status == 400 and r.error()["code"] == "upload_key_mismatch", r


def test_revocation_racing_a_reissue_one_wins(ca_dir, tmp_path, pauses):
    """Two clients: one reissues, the other revokes the same certificate.
    The server runs the test build with the pause point `reissue_signed`:
    the reissue stops after its in-progress mark and its signature, every
    time; the revocation then runs (and wins, RULES.md §5); released, the
    reissue stores its certificate revoked (nothing signed is lost) and
    answers 409. A third client's reissue meanwhile meets reissue_in_progress."""
    from conftest import QUILL_TEST
    api = Api(ca_dir, tmp_path / "api", binary=QUILL_TEST, env=pauses.env("reissue_signed"))
    try:
        t = api.key("user")
        cid = private_order(api, t, "race.example.com")["certificate_id"]
        import concurrent.futures
        pool = concurrent.futures.ThreadPoolExecutor(1)
        fut = pool.submit(api.post, f"/api/v1/certificates/{cid}/reissue", t,
                          {"csr_source": "generated", "key": "ec256", "reason": "race"})
        marker = pauses.wait("reissue_signed", api.proc, logs=api.logs)
        assert get_cert(api, t, cid)["status"] == "reissuing"
        r = api.post(f"/api/v1/certificates/{cid}/reissue", t,
                     {"csr_source": "generated", "key": "ec256", "reason": "second"},
                     check="/api/v1/certificates/{id}/reissue")
        assert r.status == 409 and r.error()["code"] == "reissue_in_progress", r
        r = api.post(f"/api/v1/certificates/{cid}/revoke", t, {"reason": "keyCompromise"},
                     check="/api/v1/certificates/{id}/revoke")
        assert r.status == 200 and r.json["revocation"]["revoked"] == [cid], r
        pauses.release(marker)
        lost = fut.result(timeout=60)
        pool.shutdown()
        api.contract.check("POST", "/api/v1/certificates/{id}/reissue", lost)
        assert lost.status == 409 and lost.error()["code"] == "reissue_not_allowed", lost
        certs = api.get("/api/v1/certificates?limit=500", t).json["certificates"]
        children = [c for c in certs if c["parent_id"] == cid]
        assert len(children) == 1 and children[0]["status"] == "revoked", children
        assert get_cert(api, t, cid)["status"] == "revoked"
    finally:
        api.close()
