"""RULES.md §5 for DV certificates, through the CLI against real DNS (Knot +
the Unbound recursor): a revocation of a DV certificate waits until control
of every name is proved again (3 days at most); meanwhile it is pending,
cannot be cancelled or repeated, and the certificate cannot be downloaded;
once the proof arrives the certificate and its reissues are revoked and on
the CRL. Private certificates are revoked at once.
"""

from datetime import datetime, timedelta

import pytest

from conftest import crl_of, ok, refused, show
from test_orders import configure, dns_lab, issue_dv, order_show, validate


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with dns_lab(tmp_path_factory.mktemp("revoke-proof-dns")) as lab_:
        yield lab_


@pytest.fixture
def data(ca_dir, lab):
    configure(ca_dir, lab.recursor.addr)
    return ca_dir


def issuing_ca(data, cert):
    """The CA that issued `cert` (its ca_id), from `ca list`."""
    (ca,) = [c for c in ok(data, "ca", "list")["cas"] if c["id"] == cert["ca_id"]]
    return ca


def revoke(data, cert_id, *extra, reason="keyCompromise"):
    return ok(data, "cert", "revoke", cert_id, "--reason", reason, *extra)


def serials_on_crl(data, ca_id, path):
    return {r.serial_number for r in crl_of(data, ca_id, path)}


def test_dv_revocation_waits_for_proof(lab, data, tmp_path):
    _, c = issue_dv(lab, data, "rp1.quill-test.org")
    out = revoke(data, c["id"])
    assert out["revoked"] == [], out
    assert out["certificate"]["status"] == "revocation_pending", out
    proof = out["order"]
    assert proof["purpose"] == "revoke" and proof["subject_id"] == c["id"], proof
    assert proof["status"] == "pending_validation", proof
    # the proof must arrive within 3 days
    deadline = datetime.strptime(proof["deadline"], "%Y-%m-%dT%H:%M:%SZ")
    created = datetime.strptime(proof["created_at"], "%Y-%m-%dT%H:%M:%SZ")
    assert deadline - created == timedelta(days=3), proof
    # pending: no download, no second revocation, not on the CRL yet
    refused(data, "cert", "download", c["id"], "--format", "pem", "--out", tmp_path / "dl",
            code="download_revoked")
    refused(data, "cert", "revoke", c["id"], "--reason", "superseded",
            code="revoke_already_requested")
    ca = issuing_ca(data, c)
    assert int(c["serial"], 16) not in serials_on_crl(data, ca["id"], tmp_path / "a.pem")
    # only the issuing order's old value is published: still pending, the
    # certificate is not revoked
    o = validate(data, proof["id"])
    assert o["status"] == "validating", o
    assert show(data, c["id"])["status"] == "revocation_pending"
    # the proof arrives: revoked, and on the CRL with its reason
    lab.publish(proof)
    o = validate(data, proof["id"])
    assert o["status"] == "issued", o  # for a proof order: completed
    after = show(data, c["id"])
    assert after["status"] == "revoked" and after["revocation_reason"] == "keyCompromise"
    crl = crl_of(data, ca["id"], tmp_path / "b.pem")
    entry = crl.get_revoked_certificate_by_serial_number(int(c["serial"], 16))
    assert entry is not None


def test_wrong_proof_value_is_shown_and_the_revocation_stays_pending(lab, data):
    _, c = issue_dv(lab, data, "rp2.quill-test.org")
    proof = revoke(data, c["id"])["order"]
    name = proof["names"][0]["challenge"]["record_name"]
    lab.set_txt(name, "not-the-value")
    o = validate(data, proof["id"])
    assert o["status"] == "validating", o
    assert o["names"][0]["failure"]["code"] == "validation_mismatch", o
    assert show(data, c["id"])["status"] == "revocation_pending"
    lab.publish(proof)
    assert validate(data, proof["id"])["status"] == "issued"
    assert show(data, c["id"])["status"] == "revoked"


def test_dv_proof_revokes_the_reissues_too(lab, data, tmp_path):
    _, c = issue_dv(lab, data, "rp3.quill-test.org", extra=("--paid",))
    child = ok(data, "cert", "reissue", c["id"], "--same-csr", "--reason", "r")["certificate"]
    proof = revoke(data, c["id"])["order"]
    lab.publish(proof)
    assert validate(data, proof["id"])["status"] == "issued"
    assert show(data, c["id"])["status"] == "revoked"
    assert show(data, child["id"])["status"] == "revoked"
    ca = issuing_ca(data, c)
    on = serials_on_crl(data, ca["id"], tmp_path / "c.pem")
    assert {int(c["serial"], 16), int(child["serial"], 16)} <= on


def test_proof_by_file_method_is_offered(lab, data):
    _, c = issue_dv(lab, data, "rp4.quill-test.org")
    proof = revoke(data, c["id"], "--method", "file")["order"]
    ch = proof["names"][0]["challenge"]
    assert ch["type"] == "file" and "/.well-known/pki-validation/" in ch["url"], ch
    refused(data, "cert", "revoke", c["id"], "--reason", "superseded",
            code="revoke_already_requested")


def test_private_certificates_are_revoked_at_once(data):
    c = ok(data, "cert", "apply", "--name", "rp5.quill-test.org", "--key", "ec256")["certificate"]
    out = revoke(data, c["id"])
    assert out["revoked"] == [c["id"]] and "order" not in out, out
    assert show(data, c["id"])["status"] == "revoked"
