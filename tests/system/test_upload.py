"""Upload of a third-party certificate (RULES.md §7): key match, chain, expiry."""

import datetime as dt

import pytest
from cryptography.hazmat.primitives.serialization import (BestAvailableEncryption, Encoding,
                                                          PrivateFormat)

from conftest import ThirdParty, cert_list, list_state, ok, refused, rfc3339


@pytest.fixture
def tp(tmp_path):
    return ThirdParty(tmp_path / "tp", name="Upload.Example.org", days=20)


def upload_args(tp, cert=None, key=None, chain="default"):
    args = ["cert", "upload", "--cert", cert or tp.cert_path, "--key", key or tp.key_path]
    chain = tp.chain_path if chain == "default" else chain
    return args + (["--chain", chain] if chain else [])


def test_upload_is_stored_and_listed(ca_dir, tp):
    out = ok(ca_dir, *upload_args(tp))
    c = out["certificate"]
    assert c["origin"] == "uploaded" and c["parent_id"] is None
    # The upload keeps the certificate's own spelling (issued certificates are
    # lower-cased); DNS names compare case-insensitively, so either is correct.
    assert [n.lower() for n in c["names"]] == ["upload.example.org"]
    assert int(c["serial"], 16) == tp.leaf.serial_number
    assert rfc3339(c["not_after"]) == tp.leaf.not_valid_after
    expected = (tp.leaf.not_valid_after - dt.datetime.utcnow()).days
    assert isinstance(out["expires_in_days"], int)
    assert expected - 1 <= out["expires_in_days"] <= expected + 1
    assert out["expired"] is False
    listed = {x["id"]: x for x in cert_list(ca_dir)}
    assert listed[c["id"]]["origin"] == "uploaded"
    assert listed[c["id"]]["serial"] == c["serial"]


def test_wrong_key_is_refused(ca_dir, tp):
    refused(ca_dir, *upload_args(tp, key=tp.other_key_path), code="upload_key_mismatch")
    assert cert_list(ca_dir) == []


def test_chain_without_the_intermediate_is_refused(ca_dir, tp):
    refused(ca_dir, *upload_args(tp, chain=tp.root_only_path), code="upload_chain_invalid")
    refused(ca_dir, *upload_args(tp, chain=None), code="upload_chain_invalid")
    assert cert_list(ca_dir) == []


@pytest.mark.parametrize("kind", ["garbage", "truncated"])
def test_unreadable_certificate_is_refused(ca_dir, tp, tmp_path, kind):
    bad = tmp_path / "bad.pem"
    if kind == "garbage":
        bad.write_bytes(b"\x00\x01 definitely not a certificate \xff" * 10)
    else:
        text = tp.cert_path.read_text()
        bad.write_text(text[: len(text) // 2])
    refused(ca_dir, *upload_args(tp, cert=bad), code="upload_cert_invalid")
    assert cert_list(ca_dir) == []


def test_same_upload_twice_is_refused(ca_dir, tp):
    ok(ca_dir, *upload_args(tp))
    before = list_state(ca_dir)
    refused(ca_dir, *upload_args(tp), code="upload_duplicate")
    assert list_state(ca_dir) == before


def test_expired_upload_is_reported_and_can_be_deleted(ca_dir, tp):
    now = dt.datetime.utcnow().replace(microsecond=0)
    old = ThirdParty._cert("old.example.org", tp.leaf_key, "Test Third-Party Intermediate",
                           tp.int_key, now - dt.timedelta(days=60), 10, ca=False,
                           san=["old.example.org"])
    old_path = tp.cert_path.with_name("old.pem")
    old_path.write_bytes(old.public_bytes(Encoding.PEM))
    out = ok(ca_dir, *upload_args(tp, cert=old_path))
    assert out["expired"] is True and out["expires_in_days"] < 0
    assert out["certificate"]["status"] == "expired"
    assert ok(ca_dir, "cert", "delete", out["certificate"]["id"])["deleted"] == \
        out["certificate"]["id"]
    assert cert_list(ca_dir) == []


def test_upload_with_an_encrypted_key(ca_dir, tp):
    enc = tp.key_path.with_name("enc.key")
    enc.write_bytes(tp.leaf_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8,
                                              BestAvailableEncryption(b"upload-pass")))
    refused(ca_dir, *upload_args(tp, key=enc), code="key_password_wrong")
    refused(ca_dir, *upload_args(tp, key=enc), "--key-password", "wrong-pass",
            code="key_password_wrong")
    assert cert_list(ca_dir) == []
    c = ok(ca_dir, *upload_args(tp, key=enc), "--key-password", "upload-pass")["certificate"]
    assert c["origin"] == "uploaded" and c["key_held"] is True
