"""RULES.md §5 for OV/EV certificates, through the CLI: a revocation needs
the signed letter (JPG, PNG or PDF, at most 1.4 MB, checked by content, not
by name) and a reviewer's approval; until then it is pending and downloads
stop; approved, the certificate is revoked and on the CRL; rejected, it is
valid again. The OV certificates come from real orders (Knot + Unbound)."""

import json
import struct
import zlib

import pytest

from conftest import reviewer_env, crl_of, ok, refused, show
from test_orders import configure, dns_lab, order_apply, validate

ORG = {"organization": "Acme Ltd", "country": "DE", "locality": "Berlin"}


def png_bytes():
    """A real 1x1 PNG (signature, IHDR, IDAT, IEND)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
            chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
       b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
       b"trailer << /Root 1 0 R >>\n%%EOF\n")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with dns_lab(tmp_path_factory.mktemp("letter-dns")) as lab_:
        yield lab_


@pytest.fixture
def data(ca_dir, lab):
    configure(ca_dir, lab.recursor.addr)
    return ca_dir


def issue_ov(lab, data, workdir, name):
    org = workdir / "org.json"
    org.write_text(json.dumps(ORG))
    o = order_apply(data, name, profile="ov", extra=("--org-file", org))
    lab.publish(o)
    o = validate(data, o["id"])
    for r in ok(data, "review", "list")["reviews"]:
        if r["order_id"] == o["id"]:
            ok(data, "review", "approve", r["id"], env=reviewer_env())
    o = validate(data, o["id"])
    assert o["status"] == "issued", o
    return show(data, o["certificate_id"])


@pytest.mark.parametrize("content,why", [
    (b"", "JPG, PNG or PDF"),
    (b"this is a letter, honest\n", "JPG, PNG or PDF"),
    (b"%PDF-1.4\ntruncated, no end marker", "JPG, PNG or PDF"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "JPG, PNG or PDF"),  # JPEG without its end
    (b"%PDF-1.4\n" + b"x" * 1400000 + b"\n%%EOF\n", "1.4 MB"),
], ids=["empty", "text", "pdf-without-end", "jpeg-without-end", "too-large"])
def test_letters_checked_by_content(lab, data, workdir, content, why):
    c = issue_ov(lab, data, workdir, f"bad{len(content)}.letters.quill-test.org")
    letter = workdir / "letter.pdf"  # the name says PDF; only content counts
    letter.write_bytes(content)
    err = refused(data, "cert", "revoke", c["id"], "--reason", "superseded", "--letter", letter,
                  code="revocation_letter_invalid")
    assert why in err["message"], err
    assert show(data, c["id"])["status"] == "issued"


def test_ov_revocation_without_a_letter_is_refused(lab, data, workdir):
    c = issue_ov(lab, data, workdir, "noletter.quill-test.org")
    refused(data, "cert", "revoke", c["id"], "--reason", "superseded",
            code="revocation_letter_invalid")
    assert show(data, c["id"])["status"] == "issued"


def test_ov_revocation_approved(lab, data, workdir, tmp_path):
    c = issue_ov(lab, data, workdir, "approved.letters.quill-test.org")
    letter = workdir / "scan.bin"  # no telling extension: the content decides
    letter.write_bytes(png_bytes())
    out = ok(data, "cert", "revoke", c["id"], "--reason", "keyCompromise", "--letter", letter)
    assert out["revoked"] == [] and out["certificate"]["status"] == "revocation_pending", out
    rid = out["review_id"]
    (r,) = [r for r in ok(data, "review", "list")["reviews"] if r["id"] == rid]
    assert r["kind"] == "revocation" and r["order_id"] is None and r["revocation_id"], r
    assert "png" in r["detail"] and "sha256" in r["detail"], r
    # pending: no downloads, no second revocation
    refused(data, "cert", "download", c["id"], "--format", "pem", "--out", tmp_path / "dl",
            code="download_revoked")
    refused(data, "cert", "revoke", c["id"], "--reason", "superseded", "--letter", letter,
            code="revoke_already_requested")
    ok(data, "review", "approve", rid, "--reason", "letter signed by the registrant", env=reviewer_env())
    after = show(data, c["id"])
    assert after["status"] == "revoked" and after["revocation_reason"] == "keyCompromise"
    crl = crl_of(data, c["ca_id"], tmp_path / "crl.pem")
    assert crl.get_revoked_certificate_by_serial_number(int(c["serial"], 16)) is not None


def test_ov_revocation_rejected(lab, data, workdir, tmp_path):
    c = issue_ov(lab, data, workdir, "rejected.letters.quill-test.org")
    letter = workdir / "letter.pdf"
    letter.write_bytes(PDF)
    rid = ok(data, "cert", "revoke", c["id"], "--reason", "superseded",
             "--letter", letter)["review_id"]
    refused(data, "review", "reject", rid, code="usage", exit=2, env=reviewer_env())  # needs a reason
    ok(data, "review", "reject", rid, "--reason", "not signed by the registrant", env=reviewer_env())
    assert show(data, c["id"])["status"] == "issued"
    files = ok(data, "cert", "download", c["id"], "--format", "pem",
               "--out", tmp_path / "dl")["files"]
    assert files
