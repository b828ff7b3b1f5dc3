"""OCSP (issue 6; docs/internals/ocsp.md): a real `quill serve` answers
`openssl ocsp` (RFC 6960, the RFC 5019 profile) from pre-signed responses:
good, revoked with time and reason, unauthorized for what this CA never
issued (never good); the GET form with its caching headers; malformed
requests answered in OCSP; new certificates and revocations answered within
the freshness bound; the delegated responder certificate, its rotation; a
restart that serves what the database holds; the metrics."""

import datetime as dt
import email.utils
import hashlib
import os
import re
import signal
import time
import urllib.parse
from base64 import b64encode

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from conftest import apply, lint, ok, rfc3339, run, show
from ocsp_util import FRESH_BOUND_S, OcspServer, http, openssl_ocsp

MALFORMED = bytes([0x30, 0x03, 0x0a, 0x01, 0x01])
UNAUTHORIZED = bytes([0x30, 0x03, 0x0a, 0x01, 0x06])


@pytest.fixture
def srv(ca_dir, tmp_path):
    s = OcspServer(ca_dir, tmp_path)
    yield s
    s.stop()


def post(srv, body, path="/ocsp"):
    return http("POST", srv.base + path, body=body,
                headers={"Content-Type": "application/ocsp-request"})


def test_good_revoked_and_never_issued(srv):
    ec_cert = apply(srv.data, "ocsp-ec.example.com")
    rsa_cert = apply(srv.data, "ocsp-rsa.example.com", key="rsa2048")
    assert ec_cert["ca_id"] != rsa_cert["ca_id"]  # one responder per issuing CA
    for c in (ec_cert, rsa_cert):
        srv.wait_status(c, "good")
        r = srv.check(c)
        assert r.status == "good" and r.verified, r

    # a revocation made by another process is answered within the bound
    t0 = time.monotonic()
    ok(srv.data, "cert", "revoke", ec_cert["id"], "--reason", "keyCompromise")
    waited = srv.wait_status(ec_cert, "revoked")
    print(f"revocation answered {time.monotonic() - t0:.3f} s after the command started, "
          f"{waited:.3f} s after it returned")
    r = srv.check(ec_cert)
    assert r.reason == "keyCompromise", r
    revoked_at = rfc3339(show(srv.data, ec_cert["id"])["revoked_at"])
    assert dt.datetime.strptime(r.revocation_time, "%b %d %H:%M:%S %Y GMT") == revoked_at, r
    assert srv.check(rsa_cert).status == "good"

    # the SM2 chain (private profile) is answered too; `openssl ocsp` cannot
    # set the SM2 ID a verification needs, so the status is read unverified
    sm2_cert = apply(srv.data, "ocsp-sm2.example.com", key="sm2")
    deadline = time.monotonic() + FRESH_BOUND_S
    while (r := srv.check(sm2_cert, extra=["-noverify"])).status != "good":
        assert time.monotonic() < deadline, r
        time.sleep(0.05)

    # serials this CA never issued: unauthorized, never good
    root, issuing = srv.ca_files(ec_cert["ca_id"])
    for serial in ("0x4142434445464748", "0x01", hex(int(ec_cert["serial"], 16) + 1)):
        r = openssl_ocsp(srv.url, issuing, root, serial=serial)
        assert r.error == "unauthorized" and r.status is None, r
        assert "good" not in r.out
    # an issuer that is not one of our issuing CAs (the root)
    r = openssl_ocsp(srv.url, root, root, cert=srv.cert_file(rsa_cert))
    assert r.error == "unauthorized" and r.status is None, r


def test_new_certificate_good_within_bound(srv):
    c = apply(srv.data, "fresh.example.com")
    waited = srv.wait_status(c, "good")
    print(f"new certificate answered good {waited:.3f} s after `cert apply` returned")
    assert waited < FRESH_BOUND_S


def test_get_form_headers_and_post_agree(srv):
    c = apply(srv.data, "get.example.com")
    srv.wait_status(c, "good")
    der = srv.request_der(c)
    status, headers, posted = post(srv, der)
    assert status == 200 and headers["Content-Type"] == "application/ocsp-response"
    b64 = b64encode(der).decode()
    forms = {urllib.parse.quote(b64, safe=""), b64,  # percent-encoded, and raw ('/' inside)
             b64.rstrip("=").replace("+", "-").replace("/", "_")}  # URL-safe, unpadded
    for form in forms:
        status, h, body = http("GET", f"{srv.url}/{form}")
        assert status == 200, (form, status, body)
        assert body == posted, form
    resp = ocsp.load_der_ocsp_response(posted)
    assert resp.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert resp.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert resp.serial_number == int(c["serial"], 16)
    assert resp.hash_algorithm.name == "sha1"
    # RFC 5019 6.2: caching headers that follow the response
    now = dt.datetime.utcnow()
    m = re.fullmatch(r"max-age=(\d+), public, no-transform, must-revalidate",
                     headers["Cache-Control"])
    assert m, headers["Cache-Control"]
    max_age = int(m.group(1))
    assert 0 < max_age <= 3600  # [ocsp] max_age_seconds
    assert max_age <= (resp.next_update - now).total_seconds() + 1
    assert headers["ETag"] == '"' + hashlib.sha256(posted).hexdigest() + '"'
    assert email.utils.parsedate_to_datetime(headers["Last-Modified"]).replace(tzinfo=None) \
        == resp.this_update
    assert email.utils.parsedate_to_datetime(headers["Expires"]).replace(tzinfo=None) \
        == resp.next_update
    assert (resp.next_update - resp.this_update) == dt.timedelta(hours=96)
    # a cache that holds it asks again with its ETag
    status, h, body = http("GET", f"{srv.url}/{urllib.parse.quote(b64, safe='')}",
                           headers={"If-None-Match": headers["ETag"]})
    assert status == 304 and body == b"", (status, body)
    # HEAD answers the headers
    status, h, body = http("HEAD", f"{srv.url}/{urllib.parse.quote(b64, safe='')}")
    assert status == 200 and body == b"" and h["ETag"] == headers["ETag"]


def test_malformed_requests_are_answered_in_ocsp(srv):
    c = apply(srv.data, "bad.example.com")
    srv.wait_status(c, "good")
    der = srv.request_der(c)
    two = srv.request_der(c, extra=["-serial", "0x4142434445"])  # two CertIDs
    cases = {
        "garbage": b"garbage",
        "empty": b"",
        "truncated": der[:-1],
        "trailing byte": der + b"\x00",
        "indefinite length": b"\x30\x80" + der[2:] + b"\x00\x00",
        "two CertIDs": two,
    }
    for name, body in cases.items():
        status, h, got = post(srv, body)
        assert status == 200 and h["Content-Type"] == "application/ocsp-response", name
        assert got == MALFORMED, (name, got)
        assert h["Cache-Control"] == "no-store"
    for path in ("/ocsp/", "/ocsp/%25%25", "/ocsp/not-base64!", "/ocsp/TWFu",
                 "/ocsp/" + "A" * 1500):
        status, h, got = http("GET", srv.base + path)
        assert status == 200 and got == MALFORMED, (path, status, got)
    # openssl itself reports it
    r = openssl_ocsp(srv.url, *reversed(srv.ca_files(c["ca_id"])), cert=srv.cert_file(c),
                     serial="0x4142434445")
    assert r.error == "malformedrequest", r
    # a CertID hashed with SHA-256: RFC 5019 clients use SHA-1; not answered (never good)
    r = srv.check(c, extra=["-sha256"])
    assert r.error == "unauthorized" and r.status is None, r
    # the same request by POST to a longer path is answered like /ocsp
    status, _, got = post(srv, der, path="/ocsp/anything")
    assert status == 200 and ocsp.load_der_ocsp_response(got).certificate_status \
        == ocsp.OCSPCertStatus.GOOD


def responder_of(srv, cert):
    der = post(srv, srv.request_der(cert))[2]
    resp = ocsp.load_der_ocsp_response(der)
    assert len(resp.certificates) == 1
    return resp, resp.certificates[0]


def test_responder_certificate(srv):
    c = apply(srv.data, "responder.example.com")
    srv.wait_status(c, "good")
    resp, rc = responder_of(srv, c)
    issuing = x509.load_pem_x509_certificate(srv.ca_files(c["ca_id"])[1].read_bytes())
    # issued by the issuing CA (its signature verifies with the CA's key)
    assert rc.issuer == issuing.subject
    issuing.public_key().verify(rc.signature, rc.tbs_certificate_bytes,
                                ec.ECDSA(rc.signature_hash_algorithm))
    assert rc.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value \
        == x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING])
    nocheck = rc.extensions.get_extension_for_class(x509.OCSPNoCheck)
    assert not nocheck.critical
    ku = rc.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and not ku.value.key_cert_sign
    assert not rc.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    life = rc.not_valid_after - rc.not_valid_before
    assert dt.timedelta(days=7) <= life <= dt.timedelta(days=7, hours=1)  # [ocsp] responder_days
    assert rc.not_valid_after >= resp.next_update  # no answer outlives its signer
    assert "OCSP Responder" in rc.subject.rfc4514_string()
    # responderID byKey names it
    assert resp.responder_key_hash == x509.SubjectKeyIdentifier.from_public_key(
        rc.public_key()).digest
    # recorded with its event, and quill's own linter accepts it
    rows = srv.db_rows("SELECT serial, ca_id FROM ocsp_responders")
    assert (format(rc.serial_number, "x"), c["ca_id"]) in [(s.lstrip("0"), i) for s, i in rows]
    events = srv.db_rows("SELECT to_status, actor FROM events WHERE object_type = "
                         "'ocsp_responder'")
    assert ("issued", "ocsp") in events
    from cryptography.hazmat.primitives import serialization
    code, out = lint(rc.public_bytes(serialization.Encoding.PEM).decode())
    assert code == 0 and not [f for f in out["findings"] if f["severity"] == "error"], out


def test_responder_rotation(srv):
    """Planting an almost expired responder (its end moved near in the
    database) makes the refresher replace it; what it signs from then on
    carries the new responder, which verifies."""
    c = apply(srv.data, "rotate.example.com")
    srv.wait_status(c, "good")
    _, old = responder_of(srv, c)
    # every CA has its responder from the start: this CA's is the newest of its own
    mine = f"SELECT max(id) FROM ocsp_responders WHERE ca_id = {int(c['ca_id'])}"
    before = srv.db_rows(mine)[0][0]
    assert (format(old.serial_number, "x"),) in [
        (s.lstrip("0"),) for (s,) in srv.db_rows(f"SELECT serial FROM ocsp_responders WHERE id = {before}")]
    import sqlite3
    con = sqlite3.connect(srv.data / "quill.db", timeout=10)
    con.execute("UPDATE ocsp_responders SET not_after = strftime('%s','now') + 60 WHERE id = ?",
                (before,))
    con.commit()
    con.close()
    deadline = time.monotonic() + 15
    while srv.db_rows(mine)[0][0] == before:
        assert time.monotonic() < deadline, f"no new responder: {srv.logs()}"
        time.sleep(0.1)
    fresh = apply(srv.data, "rotated.example.com")
    srv.wait_status(fresh, "good")
    _, new = responder_of(srv, fresh)
    assert new.serial_number != old.serial_number
    assert new.public_key().public_numbers() != old.public_key().public_numbers()
    assert srv.check(fresh).verified
    # the first certificate's answer is still valid (signed by the old one)
    assert srv.check(c).status == "good"


def test_signer_restart_gets_a_new_responder(srv):
    """The responder key lives only in the signer process: when the signer
    dies, serve starts another, the refresher makes a new responder with it,
    and a revocation is still answered."""
    a = apply(srv.data, "signer-death-a.example.com")
    srv.wait_status(a, "good")
    _, old = responder_of(srv, a)
    pid = int(re.findall(r'msg="signer started" pid=(\d+)', srv.all_logs())[-1])
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while len(re.findall(r'msg="signer started" pid=(\d+)', srv.all_logs())) < 2:
        assert time.monotonic() < deadline, srv.logs()
        time.sleep(0.1)
    ok(srv.data, "cert", "revoke", a["id"], "--reason", "keyCompromise")
    srv.wait_status(a, "revoked", bound=15)
    _, new = responder_of(srv, a)
    assert new.serial_number != old.serial_number
    assert srv.check(a).verified


def test_restart_serves_from_the_database(srv):
    a = apply(srv.data, "restart-a.example.com")
    b = apply(srv.data, "restart-b.example.com")
    for c in (a, b):
        srv.wait_status(c, "good")
    der_a = post(srv, srv.request_der(a))[2]
    srv.stop()
    # revoked while no refresher runs: answered revoked as soon as serve is up
    ok(srv.data, "cert", "revoke", b["id"], "--reason", "superseded")
    srv.start()
    assert post(srv, srv.request_der(a))[2] == der_a  # the stored bytes, not signed again
    r = srv.check(b)
    assert r.status == "revoked" and r.reason == "superseded" and r.verified, r
    assert srv.check(a).status == "good"


def test_metrics(srv):
    c = apply(srv.data, "metrics.example.com")
    srv.wait_status(c, "good")
    for _ in range(3):
        post(srv, srv.request_der(c))
    post(srv, b"junk")
    m = srv.metrics()

    def value(name):
        found = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", m, re.M)
        assert found, (name, m[-3000:])
        return float(found.group(1))

    assert value('quill_ocsp_requests_total{status="good"}') >= 3
    assert value('quill_ocsp_requests_total{status="malformed"}') >= 1
    assert value("quill_ocsp_cache_responses") >= 1
    assert value("quill_ocsp_cache_oldest_age_seconds") >= 0
    assert value("quill_ocsp_responses_signed_total") >= 1
