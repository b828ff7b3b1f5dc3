"""Revocation rules (RULES.md §5) through the CLI, and the CRL."""

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from conftest import (ThirdParty, apply, ca_files, crl_for, crl_number, crl_of, crls_of,
                      list_state, ok, openssl_verify, refused, run, show, write_conf)


def revoke(data, cert_id, reason="keyCompromise"):
    return ok(data, "cert", "revoke", cert_id, "--reason", reason)


def reissue(data, cert_id):
    return ok(data, "cert", "reissue", cert_id, "--same-csr", "--reason", "test")["certificate"]


def test_revoke_issued_certificate_is_irreversible(ca_dir):
    c = apply(ca_dir, "rev.example.com")
    other = apply(ca_dir, "other.example.com")
    out = revoke(ca_dir, c["id"])
    assert out["revoked"] == [c["id"]]
    assert out["certificate"]["status"] == "revoked"
    assert out["certificate"]["revocation_reason"] == "keyCompromise"
    s = show(ca_dir, c["id"])
    assert s["status"] == "revoked" and s["revoked_at"] is not None
    assert show(ca_dir, other["id"])["status"] == "issued"
    # a submitted revocation can be neither repeated nor changed
    refused(ca_dir, "cert", "revoke", c["id"], "--reason", "keyCompromise",
            code="revoke_already_requested")
    refused(ca_dir, "cert", "revoke", c["id"], "--reason", "superseded",
            code="revoke_already_requested")
    s2 = show(ca_dir, c["id"])
    assert (s2["status"], s2["revocation_reason"], s2["revoked_at"]) == \
        ("revoked", "keyCompromise", s["revoked_at"])
    assert [e["to"] for e in s2["events"]].count("revoked") == 1


def test_uploaded_certificate_cannot_be_revoked(ca_dir, tmp_path):
    up = ThirdParty(tmp_path / "tp").upload(ca_dir)["certificate"]
    refused(ca_dir, "cert", "revoke", up["id"], "--reason", "keyCompromise",
            code="revoke_uploaded")
    assert show(ca_dir, up["id"])["status"] == "issued"


def test_reissued_certificate_cannot_be_revoked_alone(ca_dir):
    orig = apply(ca_dir, "orig.example.com")
    re_ = reissue(ca_dir, orig["id"])
    refused(ca_dir, "cert", "revoke", re_["id"], "--reason", "keyCompromise",
            code="revoke_reissued_certificate")
    assert show(ca_dir, re_["id"])["status"] == "issued"
    assert show(ca_dir, orig["id"])["status"] == "issued"


def test_revoking_the_original_revokes_its_reissues(ca_dir, workdir, issuing_ids):
    orig = apply(ca_dir, "family.example.com")
    re1 = reissue(ca_dir, orig["id"])
    re2 = reissue(ca_dir, re1["id"])  # a reissue of the reissue
    bystander = apply(ca_dir, "bystander.example.com")
    out = revoke(ca_dir, orig["id"])
    assert sorted(out["revoked"]) == sorted([orig["id"], re1["id"], re2["id"]])
    for c in (orig, re1, re2):
        assert show(ca_dir, c["id"])["status"] == "revoked"
    assert show(ca_dir, bystander["id"])["status"] == "issued"
    crl = crl_of(ca_dir, issuing_ids["ec256"], workdir / "crl.pem")
    listed = {r.serial_number for r in crl}
    for c in (orig, re1, re2):
        assert int(c["serial"], 16) in listed
    assert int(bystander["serial"], 16) not in listed


def test_unknown_reason_is_a_usage_error(ca_dir):
    c = apply(ca_dir, "reason.example.com")
    before = list_state(ca_dir)
    refused(ca_dir, "cert", "revoke", c["id"], "--reason", "becauseISaidSo",
            code="revoke_reason_invalid", exit=2)
    refused(ca_dir, "cert", "revoke", c["id"], code="usage", exit=2)  # --reason missing
    assert list_state(ca_dir) == before


def test_no_download_after_revocation(ca_dir, workdir):
    c = apply(ca_dir, "dl.example.com")
    revoke(ca_dir, c["id"])
    for fmt, extra in (("pem", []), ("nginx", []), ("iis", ["--password", "pfx-pass"])):
        out = workdir / fmt
        refused(ca_dir, "cert", "download", c["id"], "--format", fmt, "--out", out, *extra,
                code="download_revoked")
        assert not out.exists() or list(out.iterdir()) == []


def test_crl_signed_numbered_with_reasons(ca_dir, workdir, issuing_ids):
    ca_id = issuing_ids["ec256"]
    root, issuing = ca_files(ca_dir, ca_id, workdir / "cas")
    bad = apply(ca_dir, "bad.example.com")
    good = apply(ca_dir, "good.example.com")
    other = apply(ca_dir, "other.example.com")
    leaf = workdir / "bad.pem"
    ok(ca_dir, "cert", "download", bad["id"], "--format", "pem", "--out", workdir / "b")
    leaf.write_text((workdir / "b" / "cert.pem").read_text())
    ok(ca_dir, "cert", "download", good["id"], "--format", "pem", "--out", workdir / "g")

    crl0 = crl_of(ca_dir, ca_id, workdir / "crl0.pem")
    assert len(crl0) == 0
    revoke(ca_dir, bad["id"], "keyCompromise")
    crl1 = crl_of(ca_dir, ca_id, workdir / "crl1.pem")
    revoke(ca_dir, other["id"], "superseded")
    crl2 = crl_of(ca_dir, ca_id, workdir / "crl2.pem")
    assert crl_number(crl0) < crl_number(crl1) < crl_number(crl2)
    assert len(crl1) == 1 and len(crl2) == 2

    # every CRL of the CA (the unsharded one and 16 shards) is signed by it
    bundle = workdir / "crl2.pem"
    assert len(crl2.crls) == 17
    for i, c in enumerate(crl2.crls):
        one = workdir / f"one-{i}.pem"
        one.write_bytes(c.public_bytes(serialization.Encoding.PEM))
        r = run("openssl", "crl", "-in", one, "-noout", "-verify", "-CAfile", issuing)
        assert "verify OK" in r.stdout + r.stderr
        assert c.next_update > c.last_update

    entry = crl2.get_revoked_certificate_by_serial_number(int(bad["serial"], 16))
    assert entry is not None
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason == x509.ReasonFlags.key_compromise
    mine = crl_for(ca_dir, show(ca_dir, bad["id"]), workdir / "bad-crl.pem")
    assert mine.get_revoked_certificate_by_serial_number(int(bad["serial"], 16)) is not None
    text = run("openssl", "crl", "-in", workdir / "bad-crl.pem", "-noout", "-text").stdout
    assert "Key Compromise" in text
    assert "Issuing Distribution Point: critical" in text

    # the bundle: openssl picks the CRL whose scope (IDP) matches the
    # certificate's distribution point
    r = openssl_verify(root, issuing, leaf, "-crl_check", "-CRLfile", bundle)
    assert r.returncode != 0
    assert "error 23" in r.stdout + r.stderr and "certificate revoked" in r.stdout + r.stderr
    r = openssl_verify(root, issuing, leaf, "-crl_check", "-CRLfile", workdir / "bad-crl.pem")
    assert "certificate revoked" in r.stdout + r.stderr
    # control: the same check passes for a certificate that is not revoked
    r = openssl_verify(root, issuing, workdir / "g" / "cert.pem", "-crl_check",
                       "-CRLfile", bundle)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("name,flag", [
    ("keyCompromise", x509.ReasonFlags.key_compromise),
    ("affiliationChanged", x509.ReasonFlags.affiliation_changed),
    ("superseded", x509.ReasonFlags.superseded),
    ("cessationOfOperation", x509.ReasonFlags.cessation_of_operation),
    ("privilegeWithdrawn", x509.ReasonFlags.privilege_withdrawn),
    ("unspecified", None),
])
def test_every_rfc5280_reason_reaches_the_crl(ca_dir, workdir, issuing_ids, name, flag):
    c = apply(ca_dir, f"{name.lower()}.example.com")
    assert revoke(ca_dir, c["id"], name)["certificate"]["revocation_reason"] == name
    crl = crl_of(ca_dir, issuing_ids["ec256"], workdir / "crl.pem")
    entry = crl.get_revoked_certificate_by_serial_number(int(c["serial"], 16))
    assert entry is not None
    try:
        got = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    except x509.ExtensionNotFound:
        got = None
    if flag is None:  # RFC 5280 5.3.1: unspecified SHOULD be left out
        assert got in (None, x509.ReasonFlags.unspecified)
    else:
        assert got == flag


def test_crl_next_update_follows_the_config(ca_dir, workdir, issuing_ids):
    ca_id = issuing_ids["ec256"]
    for crl in crls_of(ca_dir, ca_id, workdir / "default.pem"):
        assert crl.next_update - crl.last_update == dt.timedelta(hours=168)
    write_conf(ca_dir, "[ca]\ncrl_hours = 24\n")
    c = apply(ca_dir, "hours.example.com")
    revoke(ca_dir, c["id"], "superseded")  # regenerates the certificate's CRL
    crl = crl_for(ca_dir, show(ca_dir, c["id"]), workdir / "short.pem")
    assert crl.next_update - crl.last_update == dt.timedelta(hours=24)
    assert crl.get_revoked_certificate_by_serial_number(int(c["serial"], 16)) is not None
    # `quill crl` makes every CRL again, with the configuration now in force
    ok(ca_dir, "crl")
    for crl in crls_of(ca_dir, ca_id, workdir / "all.pem"):
        assert crl.next_update - crl.last_update == dt.timedelta(hours=24)
