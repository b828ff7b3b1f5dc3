"""Reissue rules (RULES.md §6) through the CLI.

A reissue *in progress* is shown by stopping one at a pause point of the
test build (build/quill-test, src/base/testhook.h) while the test runs the
other commands. Not shown: the free-DV-once rule (reissue_limit_reached), which
needs DV certificates.
"""

import signal
import socket
import subprocess
import time

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from conftest import (QUILL, ThirdParty, apply, ca_files, download, list_state, load_cert,
                      make_csr, ok, openssl_verify, parse_one_json, pick_port, quill_env, refused,
                      run, show)


def reissue(data, cert_id, *how, reason="key rotation"):
    return ok(data, "cert", "reissue", cert_id, *how, "--reason", reason)


def pem(data, cert_id, out):
    return {p.name: p for p in download(data, cert_id, out)}


def spki(cert):
    return cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def test_reissue_same_csr_keeps_not_after_and_links_parent(ca_dir, workdir):
    orig = apply(ca_dir, "same.example.com", "www.same.example.com")
    out = reissue(ca_dir, orig["id"], "--same-csr")
    new = out["certificate"]
    assert new["id"] != orig["id"] and new["serial"] != orig["serial"]
    assert new["parent_id"] == orig["id"] == out["parent_id"]
    assert new["not_after"] == orig["not_after"]
    assert new["names"] == orig["names"] and new["status"] == "issued"
    a = load_cert(pem(ca_dir, orig["id"], workdir / "a")["cert.pem"])
    files = pem(ca_dir, new["id"], workdir / "b")
    b = load_cert(files["cert.pem"])
    assert b.not_valid_after == a.not_valid_after
    assert spki(a) == spki(b)  # the same CSR, so the same key
    key_pub = run("openssl", "pkey", "-in", files["key.pem"], "-pubout").stdout
    assert key_pub == run("openssl", "x509", "-in", files["cert.pem"], "-noout",
                          "-pubkey").stdout
    root, issuing = ca_files(ca_dir, new["ca_id"], workdir / "cas")
    assert openssl_verify(root, issuing, files["cert.pem"]).returncode == 0

    events = [(e["from"], e["to"]) for e in show(ca_dir, orig["id"])["events"]]
    assert events == [(None, "issued"), ("issued", "reissuing"), ("reissuing", "issued")]
    assert show(ca_dir, orig["id"])["status"] == "issued"


def test_reissue_with_a_new_key(ca_dir, workdir):
    orig = apply(ca_dir, "newkey.example.com")
    new = reissue(ca_dir, orig["id"], "--key", "ec384")["certificate"]
    assert new["key_algorithm"] == "ec384" and new["parent_id"] == orig["id"]
    assert new["not_after"] == orig["not_after"] and new["key_held"] is True
    files = pem(ca_dir, new["id"], workdir / "n")
    cert = load_cert(files["cert.pem"])
    assert isinstance(cert.public_key().curve, ec.SECP384R1)
    old = load_cert(pem(ca_dir, orig["id"], workdir / "o")["cert.pem"])
    assert spki(cert) != spki(old)
    key_pub = run("openssl", "pkey", "-in", files["key.pem"], "-pubout").stdout
    cert_pub = run("openssl", "x509", "-in", files["cert.pem"], "-noout", "-pubkey").stdout
    assert key_pub == cert_pub


def test_reissue_with_a_pasted_csr(ca_dir, workdir):
    first = workdir / "first.csr"
    make_csr(first, ["pasted.example.com", "alt.pasted.example.com"])
    orig = ok(ca_dir, "cert", "sign", "--csr", first)["certificate"]
    second = workdir / "second.csr"
    key = make_csr(second, ["pasted.example.com", "alt.pasted.example.com"])
    new = reissue(ca_dir, orig["id"], "--csr", second)["certificate"]
    assert new["parent_id"] == orig["id"] and new["not_after"] == orig["not_after"]
    cert = load_cert(pem(ca_dir, new["id"], workdir / "n")["cert.pem"])
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()

    other = workdir / "other.csr"
    make_csr(other, ["pasted.example.com", "evil.example.com"])
    before = list_state(ca_dir)
    refused(ca_dir, "cert", "reissue", orig["id"], "--csr", other, "--reason", "x",
            code="policy_denied")
    assert list_state(ca_dir) == before


def test_reissue_usage_errors(ca_dir, workdir):
    c = apply(ca_dir, "usage.example.com")
    csr = workdir / "u.csr"
    make_csr(csr, ["usage.example.com"])
    before = list_state(ca_dir)
    refused(ca_dir, "cert", "reissue", c["id"], "--same-csr", code="usage", exit=2)
    refused(ca_dir, "cert", "reissue", c["id"], "--same-csr", "--csr", csr, "--reason", "x",
            code="usage", exit=2)
    refused(ca_dir, "cert", "reissue", c["id"], "--reason", "x", code="usage", exit=2)
    refused(ca_dir, "cert", "reissue", c["id"], "--same-csr", "--key", "ec256",
            "--reason", "x", code="usage", exit=2)
    assert list_state(ca_dir) == before


def test_uploaded_certificate_cannot_be_reissued(ca_dir, tmp_path):
    up = ThirdParty(tmp_path / "tp", days=90).upload(ca_dir)["certificate"]
    before = list_state(ca_dir)
    refused(ca_dir, "cert", "reissue", up["id"], "--same-csr", "--reason", "x",
            code="reissue_uploaded")
    assert list_state(ca_dir) == before


def test_revoked_certificate_cannot_be_reissued(ca_dir):
    c = apply(ca_dir, "revoked.example.com")
    ok(ca_dir, "cert", "revoke", c["id"], "--reason", "superseded")
    before = list_state(ca_dir)
    refused(ca_dir, "cert", "reissue", c["id"], "--same-csr", "--reason", "x",
            code="reissue_not_allowed")
    assert list_state(ca_dir) == before


def test_reissue_needs_more_than_30_days_left(ca_dir):
    short = apply(ca_dir, "short.example.com", extra=["--days", "30"])
    before = list_state(ca_dir)
    for how in (["--same-csr"], ["--key", "ec256"]):
        refused(ca_dir, "cert", "reissue", short["id"], *how, "--reason", "x",
                code="reissue_validity_too_short")
    assert list_state(ca_dir) == before
    longer = apply(ca_dir, "longer.example.com", extra=["--days", "32"])
    new = reissue(ca_dir, longer["id"], "--same-csr")["certificate"]
    assert new["not_after"] == longer["not_after"]


def test_reissue_of_a_password_protected_key(ca_dir, workdir):
    orig = apply(ca_dir, "pw.example.com", extra=["--key-password", "old-secret"])
    same = reissue(ca_dir, orig["id"], "--same-csr")["certificate"]
    fresh = reissue(ca_dir, orig["id"], "--key", "ec256", "--key-password", "new-secret")[
        "certificate"]
    for c, pw in ((same, "old-secret"), (fresh, "new-secret")):
        assert c["key_protection"] == "password"
        files = pem(ca_dir, c["id"], workdir / str(c["id"]))
        key_pub = run("openssl", "pkey", "-in", files["key.pem"], "-passin", f"pass:{pw}",
                      "-pubout").stdout
        assert key_pub == run("openssl", "x509", "-in", files["cert.pem"], "-noout",
                              "-pubkey").stdout
    refused(ca_dir, "cert", "reissue", orig["id"], "--same-csr", "--key-password", "x",
            "--reason", "x", code="usage", exit=2)


def test_one_reissue_at_a_time_per_registered_domain(ca_dir, pauses):
    """The first reissue runs in the test build and stops at the pause point
    `reissue_signed` (in progress: its mark committed, its certificate
    signed, not stored), so the other reissues always meet it in progress."""
    first = apply(ca_dir, "a.lock.example.com")
    sibling = apply(ca_dir, "b.lock.example.com")
    elsewhere = apply(ca_dir, "c.elsewhere.example.net")
    running = pauses.start(ca_dir, "cert", "reissue", first["id"], "--same-csr", "--reason",
                           "x", points=["reissue_signed"])
    marker = pauses.wait("reissue_signed", running)
    assert show(ca_dir, first["id"])["status"] == "reissuing"
    before = list_state(ca_dir)
    refused(ca_dir, "cert", "reissue", first["id"], "--same-csr", "--reason", "y",
            code="reissue_in_progress")
    err = refused(ca_dir, "cert", "reissue", sibling["id"], "--same-csr", "--reason", "y",
                  code="reissue_domain_locked")
    assert "(example.com)" in err["message"], err
    assert f"Certificate {first['id']} " in err["message"], err
    assert list_state(ca_dir) == before
    # another registered domain is not locked, even now
    assert reissue(ca_dir, elsewhere["id"], "--same-csr")["certificate"]["parent_id"] == \
        elsewhere["id"]
    pauses.release(marker)
    out, err = running.communicate(timeout=60)
    assert running.returncode == 0, out + err[-1500:]
    assert parse_one_json(out)["certificate"]["parent_id"] == first["id"]
    # the lock ends with the reissue
    assert reissue(ca_dir, sibling["id"], "--same-csr")["certificate"]["parent_id"] == \
        sibling["id"]
    assert show(ca_dir, first["id"])["status"] == "issued"


def test_interrupted_reissue_does_not_lock_for_ever(ca_dir, free_port, pauses):
    """The reissue runs in the test build, stops at the pause point
    `reissue_signed` and is killed there (SIGKILL): its in-progress mark
    stays behind, every time."""
    victim = apply(ca_dir, "a.crash.example.com")
    sibling = apply(ca_dir, "b.crash.example.com")
    running = pauses.start(ca_dir, "cert", "reissue", victim["id"], "--same-csr", "--reason",
                           "x", points=["reissue_signed"])
    pauses.wait("reissue_signed", running)
    running.kill()  # the process dies in the middle of the reissue
    running.communicate()
    assert running.returncode == -signal.SIGKILL
    assert show(ca_dir, victim["id"])["status"] == "reissuing"
    # a restart of the service is allowed to be what cleans up
    srv = subprocess.Popen([QUILL, "serve", "--data", str(ca_dir), "--listen",
                            f"127.0.0.1:{free_port}", "--api-listen",
                            f"127.0.0.1:{pick_port()}"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, env=quill_env())
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", free_port), timeout=1):
                    break
            except OSError:
                assert srv.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
    finally:
        srv.terminate()
        assert srv.wait(timeout=10) == 0
    assert show(ca_dir, victim["id"])["status"] == "issued"
    assert reissue(ca_dir, sibling["id"], "--same-csr")["certificate"]["parent_id"] == \
        sibling["id"]
    assert reissue(ca_dir, victim["id"], "--same-csr")["certificate"]["parent_id"] == \
        victim["id"]
