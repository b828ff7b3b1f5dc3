"""Helpers of the ACME system tests (test_acme_certbot.py, test_acme_lego.py,
test_acme_bad.py): the CA files a relying party needs, the chain and SAN
checks of an issued certificate, and revocation seen on the CRL and through
OCSP (`openssl ocsp` against quill's /ocsp), both polled with a deadline:
CRLs are made by the job workers after the revocation commits, OCSP answers
are signed by the refresher within about a second.
"""

import ipaddress
import time

from cryptography import x509

from conftest import ca_list, crl_of, openssl_verify
from ocsp_util import openssl_ocsp

REVOKED_DEADLINE_S = 20.0


def issuing_and_root(api, tmp):
    cas = ca_list(api.data)
    root = next(c for c in cas if c["is_root"])
    issuing = next(c for c in cas if not c["is_root"])
    (tmp / "root.pem").write_text(root["certificate"])
    (tmp / "issuing.pem").write_text(issuing["certificate"])
    return issuing["id"], tmp / "root.pem", tmp / "issuing.pem"


def check_cert(api, tmp, cert_pem, chain_pem, names, ips=()):
    """The chain verifies with openssl up to quill's root; the SAN is exactly
    `names` (DNS) and `ips`. Returns the certificate."""
    _, root, _ = issuing_and_root(api, tmp)
    r = openssl_verify(str(root), str(chain_pem), str(cert_pem))
    assert r.returncode == 0, r.stdout + r.stderr
    cert = x509.load_pem_x509_certificate(cert_pem.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sorted(san.get_values_for_type(x509.DNSName)) == sorted(names)
    assert sorted(str(a) for a in san.get_values_for_type(x509.IPAddress)) == sorted(
        str(ipaddress.ip_address(a)) for a in ips)
    return cert


def ocsp_status(api, tmp, cert_pem):
    _, root, issuing = issuing_and_root(api, tmp)
    return openssl_ocsp(api.base + "/ocsp", str(issuing), str(root), cert=str(cert_pem))


def assert_good(api, tmp, cert_pem):
    """OCSP says good (polled: the answer is signed shortly after issuance)."""
    deadline = time.monotonic() + REVOKED_DEADLINE_S
    while True:
        r = ocsp_status(api, tmp, cert_pem)
        if r.status == "good" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert r.status == "good" and r.verified, r


def assert_revoked(api, tmp, cert, cert_pem, reason=None):
    """The certificate is on its CA's CRL and OCSP answers revoked (signed by
    a responder that verifies), each within the deadline."""
    ca_id, _, _ = issuing_and_root(api, tmp)
    deadline = time.monotonic() + REVOKED_DEADLINE_S
    while True:
        crl = crl_of(api.data, ca_id, tmp / "now.crl")
        entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
        if entry is not None or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert entry is not None, "the revoked certificate is not on the CRL"
    deadline = time.monotonic() + REVOKED_DEADLINE_S
    while True:
        r = ocsp_status(api, tmp, cert_pem)
        if r.status == "revoked" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert r.status == "revoked" and r.verified, r
    if reason:
        assert r.reason == reason, r
