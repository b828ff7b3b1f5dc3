"""Issue 7, "Validation reuse and blocked keys", end to end with the real
binary, against real DNS (Knot + the Unbound recursor of test_orders.py's
DNS lab):

- a DV order applied again for names the tenant validated skips domain
  validation (the records may be gone) but still checks CAA; another
  tenant's validation never counts; after the reuse period (the clock moved
  on with libfaketime, or the row aged in SQLite, or [validation]
  reuse_days lowered) the names are validated again, and so is a reissue
  with the original CSR;
- a revocation with reason keyCompromise blocks the key for every tenant:
  the tenant's other certificates with it are revoked with it (and on the
  CRL), another tenant's owner is told, and a new CSR, an upload and a
  reissue with the original CSR are refused with key_blocked;
- `quill blocked-keys add` with each input form, and its bad inputs;
  `quill blocked-keys list`;
- the REST API: POST /api/v1/orders with a CSR of a blocked key is 409
  key_blocked, and an order that reuses a validation says so, both
  validated against docs/openapi.yaml.
"""

import hashlib
import sqlite3
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from api_client import Api
from conftest import (ThirdParty, crl_of, make_csr, ok, quill, refused, rfc3339, show)
from knot import caa
from test_orders import configure, dns_lab, issue_dv, order_apply, spki, validate
from test_time_rules import later

DAY = 86400


# Each test has its own subtree (reuse-a, reuse-caa, ...): the recursor
# caches a name that did not exist (NXDOMAIN) and, below it, answers
# NXDOMAIN for names published later (harden-below-nxdomain).
@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with dns_lab(tmp_path_factory.mktemp("reuse-dns")) as lab_:
        yield lab_


@pytest.fixture
def data(ca_dir, lab):
    configure(ca_dir, lab.recursor.addr)
    return ca_dir


def db_exec(data, sql, *args):
    con = sqlite3.connect(Path(data) / "quill.db", timeout=10)
    try:
        with con:
            return con.execute(sql, args).fetchall()
    finally:
        con.close()


def age_validations(data, days):
    """Moves every recorded validation `days` into the past."""
    db_exec(data, "UPDATE validations SET validated_at = validated_at - ?", days * DAY)


def unpublish(lab, order):
    for n in order["names"]:
        lab.set_txt(n["challenge"]["record_name"])


def spki_sha256(key_or_cert):
    return hashlib.sha256(spki(key_or_cert)).hexdigest()


# ================================================================ reuse


def test_reapplied_order_skips_validation(lab, data):
    names = ["www.reuse-a.quill-test.org", "api.reuse-a.quill-test.org"]
    first, _ = issue_dv(lab, data, *names)
    unpublish(lab, first)  # the records are gone: the next order must not need them
    before = time.time()
    o = order_apply(data, *names)
    assert o["status"] == "pending_validation", o
    for n in o["names"]:
        assert n["validation_status"] == "valid", n
        reused = n["validation_reused_from"]
        assert reused["order_id"] == first["id"] and reused["method"] == "dns", n
        assert rfc3339(reused["validated_at"]).timestamp() <= before + 1, n
        assert n["caa_status"] == "pending", n  # CAA is checked all the same
    o = validate(data, o["id"])
    assert o["status"] == "issued", o
    assert all(n["caa_status"] == "allowed" for n in o["names"]), o
    c = show(data, o["certificate_id"])
    assert sorted(c["names"]) == sorted(names) and c["profile"] == "dv", c
    # the first order's names say nothing of reuse
    assert all(n["validation_reused_from"] is None for n in first["names"]), first
    # text output names the order it reuses
    _, text, _ = quill(data, "order", "show", o["id"], json=False, check=0)
    assert f"validation reused from order {first['id']}" in text, text


def test_reuse_still_checks_caa(lab, data):
    name = "caa.reuse-caa.quill-test.org"
    first, _ = issue_dv(lab, data, name)
    unpublish(lab, first)
    lab.set(name, "CAA", caa(0, "issue", "other.example"))
    try:
        o = order_apply(data, name)
        assert o["names"][0]["validation_reused_from"]["order_id"] == first["id"], o
        o = validate(data, o["id"])
        assert o["status"] == "failed" and o["failure"]["code"] == "caa_forbidden", o
        # control stays proved; CAA is what stands in the way
        assert o["names"][0]["validation_status"] == "valid", o
    finally:
        lab.set(name, "CAA")


def test_another_tenants_validation_never_counts(lab, data):
    name = "tenant.reuse-tenant.quill-test.org"
    first, _ = issue_dv(lab, data, name)
    unpublish(lab, first)
    ok(data, "tenant", "create", "other")
    o = ok(data, "--tenant", "other", "cert", "apply", "--profile", "dv", "--name", name,
           "--key", "ec256", "--method", "dns")["order"]
    n = o["names"][0]
    assert n["validation_status"] == "pending" and n["validation_reused_from"] is None, o


def test_wildcard_reuses_only_dns(lab, data):
    # a DNS validation of the base name covers the wildcard (one record at
    # _acme-challenge.<base>); a file validation never would (refused anyway)
    base = "wild.reuse-wild.quill-test.org"
    first, _ = issue_dv(lab, data, base)
    unpublish(lab, first)
    o = order_apply(data, "*." + base)
    n = o["names"][0]
    assert n["validation_reused_from"]["order_id"] == first["id"], o
    assert validate(data, o["id"])["status"] == "issued"


def test_after_the_period_the_names_are_validated_again(lab, data):
    name = "period.reuse-period.quill-test.org"
    first, _ = issue_dv(lab, data, name)
    unpublish(lab, first)
    # ten days on: still reused
    o = ok(data, "cert", "apply", "--profile", "dv", "--name", name, "--key", "ec256",
           "--method", "dns", env=later(10))["order"]
    assert o["names"][0]["validation_reused_from"]["order_id"] == first["id"], o
    ok(data, "order", "cancel", o["id"], env=later(10))
    # 201 days on (the BR period is 200 days now, and 100 from 2027-03-15):
    # validated again, and without the record it is not
    env = later(201)
    o = ok(data, "cert", "apply", "--profile", "dv", "--name", name, "--key", "ec256",
           "--method", "dns", env=env)["order"]
    n = o["names"][0]
    assert n["validation_status"] == "pending" and n["validation_reused_from"] is None, o
    o = ok(data, "order", "validate", o["id"], env=env)["order"]
    assert o["status"] == "validating" and o["certificate_id"] is None, o
    assert o["names"][0]["validation_status"] != "valid", o


def test_aged_validation_and_the_reuse_days_setting(lab, data):
    configure(data, lab.recursor.addr, extra="reuse_days = 3\n")
    name = "days.reuse-days.quill-test.org"
    first, _ = issue_dv(lab, data, name)
    unpublish(lab, first)
    age_validations(data, 2)
    o = order_apply(data, name)
    assert o["names"][0]["validation_reused_from"]["order_id"] == first["id"], o
    ok(data, "order", "cancel", o["id"])
    age_validations(data, 2)  # four days old now: more than reuse_days
    o = order_apply(data, name)
    assert o["names"][0]["validation_reused_from"] is None, o
    assert o["names"][0]["validation_status"] == "pending", o


def test_reissue_with_the_original_csr_validates_again_after_the_period(lab, data):
    name = "reissue.reuse-reissue.quill-test.org"
    first, c = issue_dv(lab, data, name, extra=("--paid",))
    assert c["key_held"], c
    unpublish(lab, first)
    age_validations(data, 250)
    out = ok(data, "cert", "reissue", c["id"], "--same-csr", "--reason", "lost the file")
    assert out["certificate"] is None, out
    proof = out["order"]
    assert proof["purpose"] == "reissue" and proof["status"] == "pending_validation", proof
    assert proof["names"][0]["validation_reused_from"] is None, proof
    lab.publish(proof)
    o = validate(data, proof["id"])
    assert o["status"] == "issued", o
    new = show(data, o["certificate_id"])
    # the original CSR: the same key, still held by the service
    assert new["parent_id"] == c["id"] and new["key_held"], new
    pems = db_exec(data, "SELECT cert_pem FROM certificates WHERE id IN (?, ?) ORDER BY id",
                   c["id"], new["id"])
    old_cert, new_cert = (x509.load_pem_x509_certificate(p[0].encode()) for p in pems)
    assert spki(old_cert) == spki(new_cert)


# ================================================================ blocked keys


def write_key(path, key):
    Path(path).write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                             serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))


def test_key_compromise_blocks_the_key(ca_dir, tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    make_csr(tmp_path / "a.csr", ["a.blocked.example.com"], key)
    make_csr(tmp_path / "b.csr", ["b.blocked.example.com"], key)
    make_csr(tmp_path / "d.csr", ["d.blocked.example.net"], key)
    make_csr(tmp_path / "new.csr", ["new.blocked.example.com"], key)
    write_key(tmp_path / "key.pem", key)
    a = ok(ca_dir, "cert", "sign", "--csr", tmp_path / "a.csr")["certificate"]
    b = ok(ca_dir, "cert", "sign", "--csr", tmp_path / "b.csr")["certificate"]
    ok(ca_dir, "tenant", "create", "other")
    d = ok(ca_dir, "--tenant", "other", "cert", "sign", "--csr", tmp_path / "d.csr")["certificate"]

    out = ok(ca_dir, "cert", "revoke", a["id"], "--reason", "keyCompromise")
    assert sorted(out["revoked"]) == [a["id"], b["id"]], out
    assert show(ca_dir, b["id"])["revocation_reason"] == "keyCompromise"
    # both on the CRL, with the reason
    crl = crl_of(ca_dir, a["ca_id"], tmp_path / "crl.pem")
    for c in (a, b):
        entry = crl.get_revoked_certificate_by_serial_number(int(c["serial"], 16))
        assert entry is not None, c
        reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
        assert reason == x509.ReasonFlags.key_compromise
    # the other tenant's certificate stays, and its owner is told
    other = ok(ca_dir, "--tenant", "other", "cert", "show", d["id"])["certificate"]
    assert other["status"] == "issued", other
    told = [e for e in other["events"] if e["to"] == "key_compromised_elsewhere"]
    assert len(told) == 1 and "another account" in told[0]["reason"], other["events"]
    assert told[0]["tenant"] == "other"
    # listed, from that revocation
    (row,) = ok(ca_dir, "blocked-keys", "list")["blocked_keys"]
    assert row["spki_sha256"] == spki_sha256(key) and row["source"].startswith("revocation:")

    # refused on every path, in every tenant
    err = refused(ca_dir, "cert", "sign", "--csr", tmp_path / "new.csr", code="key_blocked")
    assert spki_sha256(key) in err["message"]
    refused(ca_dir, "--tenant", "other", "cert", "sign", "--csr", tmp_path / "new.csr",
            code="key_blocked")
    files = ok(ca_dir, "--tenant", "other", "cert", "download", d["id"], "--format", "pem",
               "--out", tmp_path / "dl")["files"]
    cert_pem = next(f for f in files if f.endswith("/cert.pem"))
    chain_pem = next(f for f in files if f.endswith("/chain.pem"))
    refused(ca_dir, "cert", "upload", "--cert", cert_pem, "--key", tmp_path / "key.pem",
            "--chain", chain_pem, code="key_blocked")
    refused(ca_dir, "--tenant", "other", "cert", "reissue", d["id"], "--same-csr", "--reason",
            "after the leak", code="key_blocked")
    assert ok(ca_dir, "--tenant", "other", "cert", "show", d["id"])["certificate"]["status"] == \
        "issued"
    # the other tenant revokes its own for key compromise: the key was
    # blocked already, the row stays the first one
    ok(ca_dir, "--tenant", "other", "cert", "revoke", d["id"], "--reason", "keyCompromise")
    assert len(ok(ca_dir, "blocked-keys", "list")["blocked_keys"]) == 1


def test_blocked_keys_add_and_list(ca_dir, tmp_path):
    k1 = ec.generate_private_key(ec.SECP256R1())
    k2 = ec.generate_private_key(ec.SECP384R1())
    k3 = ec.generate_private_key(ec.SECP256R1())
    tp = ThirdParty(tmp_path / "tp", name="tp.blocked.example.org")
    write_key(tmp_path / "k2.pem", k2)
    (tmp_path / "k3.pub").write_bytes(k3.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))

    # each input form; upper-case hex is taken as the same hash
    out = ok(ca_dir, "blocked-keys", "add", "--spki-sha256", spki_sha256(k1).upper(),
             "--reason", "reported by mail")
    assert out["added"] is True and out["certificates_told"] == 0, out
    assert out["blocked_key"]["spki_sha256"] == spki_sha256(k1)
    ok(ca_dir, "blocked-keys", "add", "--cert", tp.cert_path)
    ok(ca_dir, "blocked-keys", "add", "--key", tmp_path / "k2.pem")
    ok(ca_dir, "blocked-keys", "add", "--key", tmp_path / "k3.pub")
    again = ok(ca_dir, "blocked-keys", "add", "--key", tmp_path / "k2.pem", "--reason", "x")
    assert again["added"] is False and again["blocked_key"]["reason"] is None, again

    rows = ok(ca_dir, "blocked-keys", "list")["blocked_keys"]
    assert [r["spki_sha256"] for r in rows] == [spki_sha256(k) for k in
                                                (k3, k2, tp.leaf_key, k1)], rows
    for r in rows:
        assert set(r) == {"spki_sha256", "blocked_at", "source", "reason"}, r
        assert r["source"] == "manual"
        rfc3339(r["blocked_at"])
    assert rows[-1]["reason"] == "reported by mail" and rows[0]["reason"] is None
    _, text, _ = quill(ca_dir, "blocked-keys", "list", json=False, check=0)
    assert spki_sha256(k1) in text and "reported by mail" in text, text

    # what they block
    make_csr(tmp_path / "k1.csr", ["k1.blocked.example.com"], k1)
    refused(ca_dir, "cert", "sign", "--csr", tmp_path / "k1.csr", code="key_blocked")
    refused(ca_dir, "cert", "upload", "--cert", tp.cert_path, "--key", tp.key_path, "--chain",
            tp.chain_path, code="key_blocked")
    make_csr(tmp_path / "k3.csr", ["k3.blocked.example.com"], k3)
    refused(ca_dir, "cert", "sign", "--csr", tmp_path / "k3.csr", code="key_blocked")


def test_blocked_keys_bad_input(ca_dir, tmp_path):
    tp = ThirdParty(tmp_path / "tp")
    make_csr(tmp_path / "x.csr", ["x.example.com"])
    (tmp_path / "empty").write_bytes(b"")
    h = "ab" * 32
    usage = [
        ("--spki-sha256", "abc"),
        ("--spki-sha256", h[:-1]),
        ("--spki-sha256", h + "a"),
        ("--spki-sha256", "g" + h[1:]),
        ("--spki-sha256", ":".join(h[i:i + 2] for i in range(0, 64, 2))),
        ("--spki-sha256", " " + h[1:]),
        ("--spki-sha256", h, "--cert", tp.cert_path),
        ("--reason", "nothing to block"),
        ("--spki-sha256", h, "--reason", "bell\a"),
        ("--spki-sha256", h, "--reason", "r" * 201),
        ("--spki-sha256",),
        ("--spki-sha256", h, "--spki-sha256", h),
        ("--key-password", "password1", "--spki-sha256", h),
        ("--bogus", "1"),
    ]
    for args in usage:
        refused(ca_dir, "blocked-keys", "add", *args, code="usage", exit=2)
    refused(ca_dir, "blocked-keys", "remove", h, code="usage", exit=2)
    refused(ca_dir, "blocked-keys", "list", "--all", code="usage", exit=2)
    refused(ca_dir, "blocked-keys", "add", "--cert", tmp_path / "x.csr", code="pem_malformed")
    refused(ca_dir, "blocked-keys", "add", "--cert", tmp_path / "empty", code="pem_malformed")
    refused(ca_dir, "blocked-keys", "add", "--cert", tp.key_path, code="pem_malformed")
    refused(ca_dir, "blocked-keys", "add", "--key", tp.cert_path, code="key_malformed")
    refused(ca_dir, "blocked-keys", "add", "--key", tmp_path / "x.csr", code="key_malformed")
    refused(ca_dir, "blocked-keys", "add", "--key", tmp_path / "empty", code="key_malformed")
    refused(ca_dir, "blocked-keys", "add", "--cert", tmp_path / "missing.pem", code="io_error",
            exit=3)
    # an encrypted key needs its password
    enc = tmp_path / "enc.pem"
    enc.write_bytes(tp.leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"right password")))
    refused(ca_dir, "blocked-keys", "add", "--key", enc, code="key_password_wrong")
    refused(ca_dir, "blocked-keys", "add", "--key", enc, "--key-password", "wrong one",
            code="key_password_wrong")
    assert ok(ca_dir, "blocked-keys", "list") == {"blocked_keys": []}
    ok(ca_dir, "blocked-keys", "add", "--key", enc, "--key-password", "right password")
    (row,) = ok(ca_dir, "blocked-keys", "list")["blocked_keys"]
    assert row["spki_sha256"] == spki_sha256(tp.leaf_key)


# ================================================================ REST API


def test_api_blocked_key_and_reused_validation(ca_dir, lab, tmp_path):
    configure(ca_dir, lab.recursor.addr)
    key = ec.generate_private_key(ec.SECP256R1())
    ok(ca_dir, "blocked-keys", "add", "--spki-sha256", spki_sha256(key))
    make_csr(tmp_path / "k.csr", ["api.blocked.example.com"], key)
    csr = (tmp_path / "k.csr").read_text()
    api = Api(ca_dir, tmp_path / "api")
    try:
        t = api.key("user")
        r = api.post("/api/v1/orders", t, {"profile": "private", "csr": csr},
                     check="/api/v1/orders")
        assert r.status == 409 and r.error()["code"] == "key_blocked", r
        make_csr(tmp_path / "dv.csr", ["api.reuse-api.quill-test.org"], key)
        r = api.post("/api/v1/orders", t, {"profile": "dv", "csr":
                                           (tmp_path / "dv.csr").read_text(), "method": "dns"},
                     check="/api/v1/orders")
        assert r.status == 409 and r.error()["code"] == "key_blocked", r
        assert api.get("/api/v1/orders", t).json["orders"] == []

        # a validation of the tenant, made by an earlier order, is reused
        name = "api.reuse-api.quill-test.org"
        r = api.post("/api/v1/orders", t, {"profile": "dv", "names": [name], "key": "ec256",
                                           "method": "dns"}, check="/api/v1/orders")
        assert r.status == 201, r
        first = r.json["order"]
        assert first["names"][0]["validation_reused_from"] is None, first
        db_exec(ca_dir, "INSERT INTO validations (tenant_id, name, method, validated_at, "
                "order_id) VALUES (1, ?, 'dns', strftime('%s','now') - 3600, ?)", name,
                first["id"])
        r = api.post("/api/v1/orders", t, {"profile": "dv", "names": [name], "key": "ec256",
                                           "method": "dns"}, check="/api/v1/orders")
        assert r.status == 201, r
        o = r.json["order"]
        n = o["names"][0]
        assert n["validation_status"] == "valid", o
        assert n["validation_reused_from"]["order_id"] == first["id"], o
        assert n["validation_reused_from"]["method"] == "dns", o
        got = api.get(f"/api/v1/orders/{o['id']}", t, check="/api/v1/orders/{id}")
        assert got.json["order"]["names"][0]["validation_reused_from"] == \
            n["validation_reused_from"]
    finally:
        api.close()
