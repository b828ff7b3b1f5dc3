"""Issuance (`cert apply`, `cert sign --csr`): chains that real relying parties
accept, and the server-certificate profile (RFC 5280, CA/B Forum BR)."""

import datetime as dt
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import AuthorityInformationAccessOID as AIA
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conftest import (DEFAULT_BASE_URL, SM2_DISTID, SM2_WITH_SM3, apply, ca_files, crl_shard_of,
                      download, list_state, load_cert, ok, openssl_verify, quill, refused,
                      rfc3339, run, split_pems, write_conf)

ONE_SECOND = dt.timedelta(seconds=1)


def validity(cert):
    """RFC 5280 validity counts both ends: notAfter - notBefore + 1 s."""
    return cert.not_valid_after - cert.not_valid_before + ONE_SECOND


def check_profile(cert, info, names, base_url, workdir):
    """Everything the issue asks of an issued server certificate."""
    want = [n.lower() for n in names]
    ext = cert.extensions
    san = ext.get_extension_for_class(x509.SubjectAlternativeName)
    assert san.value.get_values_for_type(x509.DNSName) == want
    assert info["names"] == want
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert [a.value for a in cn] == [want[0]]

    ku = ext.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature
    assert not ku.value.key_cert_sign and not ku.value.crl_sign
    eku = ext.get_extension_for_class(x509.ExtendedKeyUsage)
    assert list(eku.value) == [ExtendedKeyUsageOID.SERVER_AUTH]
    bc = ext.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca is False

    ski = ext.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    aki = ext.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    assert ski and aki and ski != aki

    ca_id = info["ca_id"]
    dps = ext.get_extension_for_class(x509.CRLDistributionPoints).value
    # the certificate's CRL shard, fixed now from its serial (FNV-1a mod the
    # configured [crl] shards, 16 by default), is in its distribution point
    shard = info["crl_shard"]
    assert shard == crl_shard_of(info["serial"], 16)
    assert [n.value for dp in dps for n in dp.full_name] == [
        f"{base_url}/crl/{ca_id}/{shard}.crl"]
    aia = ext.get_extension_for_class(x509.AuthorityInformationAccess).value
    got = sorted((d.access_method.dotted_string, d.access_location.value) for d in aia)
    assert got == sorted([(AIA.OCSP.dotted_string, f"{base_url}/ocsp"),
                          (AIA.CA_ISSUERS.dotted_string, f"{base_url}/ca/{ca_id}.der")])

    assert cert.serial_number > 0 and cert.serial_number.bit_length() >= 64
    assert re.fullmatch(r"[0-9a-f]+", info["serial"]), info["serial"]
    assert int(info["serial"], 16) == cert.serial_number
    pem = workdir / f"serial-{info['id']}.pem"
    pem.write_bytes(cert.public_bytes(Encoding.PEM))
    ossl = run("openssl", "x509", "-in", pem, "-noout", "-serial").stdout.strip()
    assert ossl.lower() == "serial=" + info["serial"]

    assert rfc3339(info["not_before"]) == cert.not_valid_before
    assert rfc3339(info["not_after"]) == cert.not_valid_after
    assert validity(cert) <= dt.timedelta(days=365)
    assert abs(cert.not_valid_before - dt.datetime.utcnow()) < dt.timedelta(minutes=10)
    assert info["status"] == "issued" and info["origin"] == "issued"
    assert info["parent_id"] is None and info["profile"] == "private"


def verify_chain(data, info, files, workdir, sm2=False):
    """openssl verify -x509_strict and (non-SM2) GnuTLS certtool."""
    root, issuing = ca_files(data, info["ca_id"], workdir / "cas")
    leaf = files["cert.pem"]
    if sm2:
        # OpenSSL 3.0 applies -vfyopt only to the certificate being verified,
        # not to the intermediate (openssl/openssl#23471), so each link of the
        # SM2 chain is verified on its own, with the standard SM2 ID.
        r = run("openssl", "verify", "-x509_strict", "-vfyopt", SM2_DISTID, "-CAfile", root,
                issuing)
        assert r.stdout.strip().endswith(": OK")
        r = run("openssl", "verify", "-x509_strict", "-vfyopt", SM2_DISTID, "-partial_chain",
                "-CAfile", issuing, leaf)
        assert r.stdout.strip().endswith(": OK")
        return
    r = openssl_verify(root, issuing, leaf)
    assert r.returncode == 0 and r.stdout.strip() == f"{leaf}: OK", r.stdout + r.stderr
    bundle = workdir / f"bundle-{info['id']}.pem"
    bundle.write_text(leaf.read_text() + issuing.read_text() + root.read_text())
    r = run("certtool", "--verify-chain", "--infile", bundle, check=False)
    assert r.returncode == 0 and "Verified" in r.stdout, r.stdout + r.stderr
    r = run("certtool", "--verify", "--load-ca-certificate", root, "--infile",
            files["fullchain.pem"], check=False)
    assert r.returncode == 0 and "Verified" in r.stdout, r.stdout + r.stderr


def pem_files(data, cert_id, out):
    return {p.name: p for p in download(data, cert_id, out)}


KEY_CHECKS = {
    "ec256": lambda k: isinstance(k, ec.EllipticCurvePublicKey) and k.curve.name == "secp256r1",
    "ec384": lambda k: isinstance(k, ec.EllipticCurvePublicKey) and k.curve.name == "secp384r1",
    "rsa2048": lambda k: isinstance(k, rsa.RSAPublicKey) and k.key_size == 2048,
}


@pytest.mark.parametrize("alg", ["ec256", "ec384", "rsa2048", "sm2"])
def test_apply_issues_a_valid_chain_with_the_server_profile(ca_dir, workdir, alg):
    names = [f"WWW.{alg.upper()}.Example.COM", f"api.{alg}.example.com"]
    info = apply(ca_dir, *names, key=alg)
    assert info["key_algorithm"] == alg
    files = pem_files(ca_dir, info["id"], workdir / "out")
    cert = load_cert(files["cert.pem"])
    check_profile(cert, info, names, DEFAULT_BASE_URL, workdir)
    if alg == "sm2":
        assert cert.signature_algorithm_oid.dotted_string == SM2_WITH_SM3
        text = run("openssl", "x509", "-in", files["cert.pem"], "-noout", "-text").stdout
        assert "Signature Algorithm: SM2-with-SM3" in text
    else:
        assert KEY_CHECKS[alg](cert.public_key())
    verify_chain(ca_dir, info, files, workdir, sm2=alg == "sm2")


def test_sign_csr_made_with_openssl_req(ca_dir, workdir):
    csr = workdir / "req.csr"
    run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", workdir / "req.key", "-subj", "/CN=Shop.Example.NET",
        "-addext", "subjectAltName=DNS:Shop.Example.NET,DNS:cdn.example.net", "-out", csr)
    info = ok(ca_dir, "cert", "sign", "--csr", csr)["certificate"]
    assert info["key_held"] is False
    files = pem_files(ca_dir, info["id"], workdir / "out")
    assert "key.pem" not in files
    cert = load_cert(files["cert.pem"])
    check_profile(cert, info, ["Shop.Example.NET", "cdn.example.net"], DEFAULT_BASE_URL,
                  workdir)
    # the certificate carries the CSR's own key
    key_pub = run("openssl", "pkey", "-in", workdir / "req.key", "-pubout").stdout
    cert_pub = run("openssl", "x509", "-in", files["cert.pem"], "-noout", "-pubkey").stdout
    assert key_pub == cert_pub
    verify_chain(ca_dir, info, files, workdir)


def test_urls_come_from_the_configured_base_url(ca_dir, workdir):
    write_conf(ca_dir, "[server]\nbase_url = https://pki.example.test/quill\n")
    info = apply(ca_dir, "urls.example.com")
    files = pem_files(ca_dir, info["id"], workdir / "out")
    check_profile(load_cert(files["cert.pem"]), info, ["urls.example.com"],
                  "https://pki.example.test/quill", workdir)


def test_validity_limit_of_the_private_profile(ca_dir, workdir):
    before = list_state(ca_dir)
    err = refused(ca_dir, "cert", "apply", "--name", "long.example.com", "--key", "ec256",
                  "--days", "400", code="policy_denied")
    assert "365" in err["message"]
    assert list_state(ca_dir) == before
    info = apply(ca_dir, "year.example.com", extra=["--days", "365"])
    cert = load_cert(pem_files(ca_dir, info["id"], workdir / "out")["cert.pem"])
    assert dt.timedelta(days=364) < validity(cert) <= dt.timedelta(days=365)


def test_validity_limit_from_the_config(ca_dir, workdir):
    write_conf(ca_dir, "[profile]\nprivate_max_days = 30\n")
    before = list_state(ca_dir)
    refused(ca_dir, "cert", "apply", "--name", "m.example.com", "--key", "ec256",
            "--days", "31", code="policy_denied")
    csr = workdir / "r.csr"
    run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", workdir / "r.key", "-subj", "/CN=s.example.com", "-out", csr)
    refused(ca_dir, "cert", "sign", "--csr", csr, "--days", "31", code="policy_denied")
    assert list_state(ca_dir) == before
    for i, extra in enumerate((["--days", "30"], [])):  # no --days: capped, not refused
        info = apply(ca_dir, f"m{i}.example.com", extra=extra)
        cert = load_cert(pem_files(ca_dir, info["id"], workdir / f"o{i}")["cert.pem"])
        assert dt.timedelta(days=29) < validity(cert) <= dt.timedelta(days=30)


def test_cert_show_text_prints_the_pem(ca_dir, workdir):
    info = apply(ca_dir, "show.example.com")
    code, text, _ = quill(ca_dir, "cert", "show", info["id"], json=False, check=0)
    pems = split_pems(text)
    assert len(pems) == 1
    files = pem_files(ca_dir, info["id"], workdir / "out")
    assert pems[0] == files["cert.pem"].read_text()
    assert info["serial"] in text and "show.example.com" in text


def test_csr_cannot_widen_the_profile(ca_dir, workdir):
    """A CSR asking for CA:TRUE, certificate signing, code signing and e-mail/URI
    names gets the server profile and DNS names only."""
    csr = workdir / "greedy.csr"
    run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", workdir / "k.pem", "-subj", "/CN=greedy.example.com",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
        "-addext", "extendedKeyUsage=codeSigning,OCSPSigning,serverAuth",
        "-addext", "subjectAltName=DNS:greedy.example.com,email:a@example.com,"
                   "URI:https://evil.example.com/", "-out", csr)
    info = ok(ca_dir, "cert", "sign", "--csr", csr)["certificate"]
    files = pem_files(ca_dir, info["id"], workdir / "out")
    check_profile(load_cert(files["cert.pem"]), info, ["greedy.example.com"],
                  DEFAULT_BASE_URL, workdir)
    san = load_cert(files["cert.pem"]).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    assert [type(n) for n in san] == [x509.DNSName]


def test_sign_sm2_csr(ca_dir, workdir, issuing_ids):
    key, csr = workdir / "sm2.key", workdir / "sm2.csr"
    run("openssl", "genpkey", "-algorithm", "SM2", "-out", key)
    run("openssl", "req", "-new", "-key", key, "-sm3", "-sigopt", SM2_DISTID,
        "-subj", "/CN=sm2csr.example.com", "-addext", "subjectAltName=DNS:sm2csr.example.com",
        "-out", csr)
    info = ok(ca_dir, "cert", "sign", "--csr", csr)["certificate"]
    assert info["key_algorithm"] == "sm2" and info["ca_id"] == issuing_ids["sm2"]
    files = pem_files(ca_dir, info["id"], workdir / "out")
    assert load_cert(files["cert.pem"]).signature_algorithm_oid.dotted_string == SM2_WITH_SM3
    verify_chain(ca_dir, info, files, workdir, sm2=True)


def test_wildcard_ip_and_name_normalisation(ca_dir, workdir):
    info = apply(ca_dir, "*.Wild.example.com", "WILD.example.com.", "wild.example.com",
                 "192.0.2.7", "2001:db8::7")
    assert info["names"] == ["*.wild.example.com", "wild.example.com", "192.0.2.7",
                             "2001:db8::7"]
    cert = load_cert(pem_files(ca_dir, info["id"], workdir / "out")["cert.pem"])
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["*.wild.example.com", "wild.example.com"]
    assert [str(a) for a in san.get_values_for_type(x509.IPAddress)] == ["192.0.2.7",
                                                                        "2001:db8::7"]


@pytest.mark.parametrize("name,code", [("com", "policy_denied"), ("co.uk", "policy_denied"),
                                       ("intranet", "name_invalid"),
                                       ("*.localhost", "name_invalid"),
                                       ("a.*.example.com", "name_invalid"),
                                       ("999.1.1.1", "name_invalid"),
                                       ("b\u00fccher.example", "name_invalid"),
                                       ("x" * 64 + ".example.com", "name_invalid")])
def test_names_outside_policy(ca_dir, name, code):
    before = list_state(ca_dir)
    refused(ca_dir, "cert", "apply", "--name", name, "--key", "ec256", code=code)
    assert list_state(ca_dir) == before


def test_localhost_is_a_private_name(ca_dir, workdir):
    """The private profile certifies the special name localhost (RFC 6761),
    as quill's own HTTPS listener needs; any other single label stays
    invalid (test_names_outside_policy)."""
    info = apply(ca_dir, "LOCALHOST", "127.0.0.1", "::1")
    assert info["names"] == ["localhost", "127.0.0.1", "::1"]
    cert = load_cert(pem_files(ca_dir, info["id"], workdir / "out")["cert.pem"])
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]


def test_validity_cannot_outlive_the_issuing_ca(ca_dir, workdir):
    write_conf(ca_dir, "[profile]\nprivate_max_days = 3650\n")
    before = list_state(ca_dir)
    refused(ca_dir, "cert", "apply", "--name", "long.example.com", "--key", "ec256",
            "--days", "3000", code="policy_denied")
    assert list_state(ca_dir) == before
    info = apply(ca_dir, "long.example.com", extra=["--days", "1000"])
    cert = load_cert(pem_files(ca_dir, info["id"], workdir / "out")["cert.pem"])
    assert validity(cert) == dt.timedelta(days=1000)
