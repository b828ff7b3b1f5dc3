"""Delete rules (RULES.md §7): only after revocation unless expired; the CRL
and the audit trail outlive the row."""

import sqlite3

from conftest import ThirdParty, apply, cert_list, crl_of, ok, refused, show


def test_unexpired_unrevoked_certificate_cannot_be_deleted(ca_dir):
    c = apply(ca_dir, "keep.example.com")
    refused(ca_dir, "cert", "delete", c["id"], code="delete_requires_revocation")
    assert [x["id"] for x in cert_list(ca_dir)] == [c["id"]]
    assert show(ca_dir, c["id"])["status"] == "issued"


def test_delete_after_revoke_keeps_the_serial_on_the_crl(ca_dir, workdir, issuing_ids):
    c = apply(ca_dir, "gone.example.com")
    other = apply(ca_dir, "stays.example.com")
    ok(ca_dir, "cert", "revoke", c["id"], "--reason", "cessationOfOperation")
    out = ok(ca_dir, "cert", "delete", c["id"])
    assert out["deleted"] == c["id"]
    assert [x["id"] for x in cert_list(ca_dir)] == [other["id"]]
    refused(ca_dir, "cert", "show", c["id"], code="not_found")
    refused(ca_dir, "cert", "delete", c["id"], code="not_found")
    crl = crl_of(ca_dir, issuing_ids["ec256"], workdir / "crl.pem")
    assert crl.get_revoked_certificate_by_serial_number(int(c["serial"], 16)) is not None
    # the audit trail stays (read straight from the store: no CLI shows it now),
    # and the private key is gone
    db = sqlite3.connect(f"file:{ca_dir / 'quill.db'}?mode=ro", uri=True)
    try:
        trail = [r[0] for r in db.execute(
            "SELECT to_status FROM events WHERE object_type = 'certificate' AND object_id = ? "
            "ORDER BY id", (c["id"],))]
        key = db.execute("SELECT key_blob FROM certificates WHERE id = ?",
                         (c["id"],)).fetchall()
    finally:
        db.close()
    assert trail == ["issued", "revoked", "deleted"]
    assert key in ([], [(None,)])


def test_uploaded_certificate_can_be_deleted(ca_dir, tmp_path):
    up = ThirdParty(tmp_path / "tp").upload(ca_dir)["certificate"]
    assert ok(ca_dir, "cert", "delete", up["id"])["deleted"] == up["id"]
    assert cert_list(ca_dir) == []
    refused(ca_dir, "cert", "show", up["id"], code="not_found")


def test_delete_unknown_id(ca_dir):
    refused(ca_dir, "cert", "delete", 4242, code="not_found")
