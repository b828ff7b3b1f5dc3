"""The linter (issue 7, "Lint before signing"; docs/internals/lint.md).

1. `quill lint` on a table of defective certificates made with the openssl
   command line (`openssl req` + `openssl x509 -req` with crafted extension
   files), one per check that the command line can make: each is caught by
   its own check id (the rest, such as non-DER encodings, a version 1
   certificate, an extension twice (openssl replaces the first), a signature
   algorithm that differs inside and out, or a subscriber certificate the
   signer is told is one, are built with OpenSSL's APIs in
   tests/unit/test_lint.c, which has a case for every certificate check).
2. The command's contract: one line per finding, --json, exit status, PEM
   and DER, the profile guess, bad input.
3. The signer lints before it signs: a CA certificate with an https CRL
   distribution point is never signed (lint_failed).
4. Public profiles refuse internal names and IP literals before any
   validation starts; the private profile keeps them.
5. Uploads are linted and only warned about.

Every certificate quill issues in the other tests is linted by conftest's
autouse fixture.
"""

import json
import re
import sqlite3
from pathlib import Path

import pytest

from conftest import (REPO, ThirdParty, apply, lint, make_csr, ok, quill, refused, run,
                      write_conf)

LEAF_KEY = "ec256"


# ================================================================ a PKI made with openssl


class OpensslPKI:
    """A root (P-384) and an issuing CA (P-256) made with the openssl command
    line, and a way to sign leaf (or CA) certificates with any extensions."""

    def __init__(self, d):
        self.d = Path(d)
        self.n = 0
        self.keys = {}
        for name, args in {
            "ec256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
            "ec384": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
            "rsa2048": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            "rsa1024": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
            "rsa_e3": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                       "-pkeyopt", "rsa_keygen_pubexp:3"],
            "k1": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp256k1"],
            "ed25519": ["-algorithm", "ED25519"],
            "sm2": ["-algorithm", "SM2"],
        }.items():
            key = self.d / f"{name}.key"
            run("openssl", "genpkey", *args, "-out", key)
            pub = self.d / f"{name}.pub"
            run("openssl", "pkey", "-in", key, "-pubout", "-out", pub)
            self.keys[name] = (key, pub)
        self.root_key = self.keys["ec384"][0]
        self.root = self.d / "root.pem"
        self._sign(self.root, "/CN=Lint Root", ["basicConstraints=critical,CA:TRUE",
                                                "keyUsage=critical,keyCertSign,cRLSign",
                                                "subjectKeyIdentifier=hash",
                                                "authorityKeyIdentifier=none"],
                   key="ec384", issuer=None, days=3650, serial="0x6a5b6c7d8e9f0a1b2c3d")
        self.ca_key = self.d / "issuing.key"
        run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-out", self.ca_key)
        self.ca = self.d / "issuing.pem"
        self._sign(self.ca, "/CN=Lint Issuing", CA_EXT, key=None, issuer="root",
                   days=3000, serial="0x5a5b6c7d8e9f0a1b2c3d4e5f60718293", own_key=self.ca_key)

    def _sign(self, out, subject, ext, key, issuer, days, serial, md=None, own_key=None):
        """`openssl req -new` then `openssl x509 -req` with `ext` lines in an
        extension file; the subject key is `key` (forced when the CSR is
        signed with another one)."""
        self.n += 1
        csr = self.d / f"c{self.n}.csr"
        signing_csr_key = own_key or (self.keys[key][0] if key in ("ec256", "ec384", "rsa2048")
                                      else self.keys["ec256"][0])
        run("openssl", "req", "-new", "-key", signing_csr_key, "-subj", subject, "-out", csr,
            "-multivalue-rdn" if "+" in subject else "-utf8")
        if md is None:  # BR 7.1.3.2.2: a P-384 key signs with SHA-384
            p384 = issuer == "root" or (issuer is None and key == "ec384")
            md = "sha384" if p384 else "sha256"
        extfile = self.d / f"e{self.n}.cnf"
        extfile.write_text("[ext]\n" + "\n".join(ext) + "\n")
        args = ["openssl", "x509", "-req", "-in", csr, "-days", str(days), "-set_serial", serial,
                f"-{md}", "-extfile", extfile, "-extensions", "ext", "-out", out]
        if issuer is None:
            args += ["-signkey", self.keys[key][0]]
        elif issuer == "root":
            args += ["-CA", self.root, "-CAkey", self.root_key]
        else:
            args += ["-CA", self.ca, "-CAkey", self.ca_key]
        if key and not own_key and signing_csr_key != self.keys[key][0]:
            args += ["-force_pubkey", self.keys[key][1]]
        run(*args)
        return out

    def leaf(self, ext=None, subject="/CN=www.example.com", key=LEAF_KEY, md=None,
             serial="0x4a5b6c7d8e9f0a1b2c3d4e5f60718293", days=90, drop=(), kind="leaf"):
        """A certificate from the base extensions of `kind` ("leaf" under the
        issuing CA, "ca" under the root, "root" self-signed), minus `drop`,
        with `ext` lines replacing or adding."""
        base = {"leaf": LEAF_EXT, "ca": CA_EXT, "root": ROOT_EXT}[kind]
        lines = {ln.split("=", 1)[0]: ln for ln in base}
        for k in drop:
            lines.pop(k, None)
        extra = []
        for ln in ext or ():
            k = ln.split("=", 1)[0]
            if k in lines:
                lines[k] = ln
            else:
                extra.append(ln)
        self.n += 1
        out = self.d / f"cert{self.n}.pem"
        issuer = {"leaf": "ca", "ca": "root", "root": None}[kind]
        return self._sign(out, subject, list(lines.values()) + extra, key=key, issuer=issuer,
                          days=days, serial=serial, md=md)


LEAF_EXT = [
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature",
    "extendedKeyUsage=serverAuth",
    "subjectKeyIdentifier=hash",
    "authorityKeyIdentifier=keyid:always",
    "subjectAltName=DNS:www.example.com",
    "crlDistributionPoints=URI:http://ca.example.com/crl/1.crl",
    "authorityInfoAccess=OCSP;URI:http://ca.example.com/ocsp,caIssuers;URI:http://ca.example.com/ca/1.der",
    "certificatePolicies=2.23.140.1.2.1",
]
CA_EXT = [
    "basicConstraints=critical,CA:TRUE,pathlen:0",
    "keyUsage=critical,digitalSignature,keyCertSign,cRLSign",
    "extendedKeyUsage=serverAuth",
    "subjectKeyIdentifier=hash",
    "authorityKeyIdentifier=keyid:always",
    "crlDistributionPoints=URI:http://ca.example.com/crl/0.crl",
    "authorityInfoAccess=caIssuers;URI:http://ca.example.com/ca/0.der",
    "certificatePolicies=2.5.29.32.0",
]
ROOT_EXT = [
    "basicConstraints=critical,CA:TRUE",
    "keyUsage=critical,keyCertSign,cRLSign",
    "subjectKeyIdentifier=hash",
    "authorityKeyIdentifier=none",
]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return OpensslPKI(tmp_path_factory.mktemp("lint-pki"))


@pytest.fixture(scope="module")
def nodata(tmp_path_factory):
    """A --data directory that does not exist: `quill lint` needs none, and
    the configuration is then the defaults (never a ./var of the caller's)."""
    return tmp_path_factory.mktemp("lint-nodata") / "none"


def order_ids_of(data):
    return sorted(o["id"] for o in ok(data, "order", "list")["orders"])


L63 = "b" * 63
OV = "/C=DE/ST=Berlin/L=Berlin/O=Acme Ltd/CN=www.example.com"
OV_POL = "certificatePolicies=2.23.140.1.2.2"
SAN = "subjectAltName=DNS:www.example.com,"

# (check id, profile, leaf() arguments)
CASES = [
    ("e_ext_unknown_critical", "dv", dict(ext=["1.2.3.4=critical,DER:0500"])),
    ("e_ext_malformed", "dv", dict(drop=["keyUsage"], ext=["2.5.29.15=critical,DER:0500"])),
    ("w_ext_not_in_profile", "dv", dict(ext=["1.2.3.4=DER:0500"])),
    ("e_serial_positive", "dv", dict(serial="-1234567890123456789")),
    ("e_serial_too_long", "dv", dict(serial="0x7f0102030405060708090a0b0c0d0e0f1011121314")),
    ("e_serial_too_short", "dv", dict(serial="5")),
    ("e_sig_sha1", "dv", dict(md="sha1")),
    ("e_sig_alg_not_allowed", "dv", dict(md="sha512")),
    ("e_validity_too_long", "dv", dict(days=1000)),
    ("e_validity_too_long", "private", dict(days=400, drop=["certificatePolicies"])),
    ("e_spki_algorithm", "dv", dict(key="ed25519")),
    ("e_rsa_key_size", "dv", dict(key="rsa1024",
                                  ext=["keyUsage=critical,digitalSignature,keyEncipherment"])),
    ("e_rsa_exponent", "dv", dict(key="rsa_e3",
                                  ext=["keyUsage=critical,digitalSignature,keyEncipherment"])),
    ("e_ec_curve", "dv", dict(key="k1")),
    ("e_sm2_private_only", "dv", dict(key="sm2")),
    ("e_san_missing", "dv", dict(drop=["subjectAltName"])),
    ("e_san_empty", "dv", dict(ext=["subjectAltName=DER:3000"])),
    ("e_san_criticality", "dv", dict(ext=["subjectAltName=critical,DNS:www.example.com"])),
    ("e_san_type", "dv", dict(ext=[SAN + "email:a@example.com"])),
    ("e_dnsname_empty_label", "dv", dict(ext=[SAN + "DNS:a..example.com"])),
    ("e_dnsname_underscore", "dv", dict(ext=[SAN + "DNS:a_b.example.com"])),
    ("e_dnsname_bad_character", "dv", dict(ext=[SAN + "DNS:a!b.example.com"])),
    ("e_dnsname_hyphen", "dv", dict(ext=[SAN + "DNS:a-.example.com"])),
    ("e_dnsname_label_too_long", "dv", dict(ext=[SAN + "DNS:" + "a" * 64 + ".example.com"])),
    ("e_dnsname_too_long", "dv", dict(ext=[SAN + "DNS:" + ".".join([L63] * 4) + ".com"])),
    ("e_dnsname_wildcard", "dv", dict(ext=[SAN + "DNS:www.*.example.com"])),
    ("e_dnsname_alabel", "dv", dict(ext=[SAN + "DNS:ab--cd.example.com"])),
    ("e_dnsname_internal", "dv", dict(ext=[SAN + "DNS:www.example.test"])),
    ("e_dnsname_internal", "ev", dict(subject=OV, ext=[SAN + "DNS:printer.local",
                                                      "certificatePolicies=2.23.140.1.1"])),
    ("e_dnsname_public_suffix", "dv", dict(ext=[SAN + "DNS:*.co.uk"])),
    ("e_ip_length", "private", dict(drop=["certificatePolicies"], ext=[
        "subjectAltName=DER:3018820f7777772e6578616d706c652e636f6d87050a00000102"])),
    ("e_ip_reserved", "dv", dict(ext=[SAN + "IP:192.168.1.1"])),
    ("e_ip_reserved", "ov", dict(subject=OV, ext=[SAN + "IP:127.0.0.1", OV_POL])),
    ("e_cn_multiple", "dv", dict(subject="/CN=www.example.com/CN=www.example.com")),
    ("e_cn_not_in_san", "dv", dict(subject="/CN=other.example.com")),
    ("e_subject_dv", "dv", dict(subject="/O=Acme Ltd/CN=www.example.com")),
    ("e_subject_ov", "ov", dict(subject="/C=DE/O=Acme Ltd/CN=www.example.com", ext=[OV_POL])),
    ("e_subject_ou", "ov", dict(subject="/C=DE/L=Berlin/O=Acme Ltd/OU=IT/CN=www.example.com",
                                ext=[OV_POL])),
    ("w_subject_ev", "ev", dict(subject=OV, ext=["certificatePolicies=2.23.140.1.1"])),
    ("e_ca_basic_constraints", "dv", dict(kind="ca", subject="/CN=Other Issuing",
                                          ext=["basicConstraints=CA:TRUE"])),
    ("e_subscriber_key_usage", "dv", dict(ext=["keyUsage=critical,digitalSignature,cRLSign"])),
    ("w_subscriber_key_usage_missing", "dv", dict(drop=["keyUsage"])),
    ("e_ca_key_usage", "dv", dict(kind="ca", subject="/CN=Other Issuing",
                                  ext=["keyUsage=critical,keyCertSign"])),
    ("e_eku_missing", "dv", dict(drop=["extendedKeyUsage"])),
    ("e_eku_server_auth", "dv", dict(ext=["extendedKeyUsage=clientAuth"])),
    ("e_eku_any", "dv", dict(ext=["extendedKeyUsage=serverAuth,anyExtendedKeyUsage"])),
    ("e_eku_other", "dv", dict(ext=["extendedKeyUsage=serverAuth,emailProtection"])),
    ("w_eku_other", "private", dict(ext=["extendedKeyUsage=serverAuth,codeSigning"],
                                    drop=["certificatePolicies"])),
    ("e_ca_eku", "dv", dict(kind="ca", subject="/CN=Other Issuing", drop=["extendedKeyUsage"])),
    ("e_root_eku", "private", dict(kind="root", subject="/CN=Other Root", key="ec384",
                                   ext=["extendedKeyUsage=serverAuth"])),
    ("e_aki_missing", "dv", dict(ext=["authorityKeyIdentifier=none"])),
    ("e_ski_missing", "dv", dict(kind="ca", subject="/CN=Other Issuing",
                                 ext=["subjectKeyIdentifier=none"])),
    ("w_ski_missing", "dv", dict(ext=["subjectKeyIdentifier=none"])),
    ("e_crldp_http", "dv", dict(ext=["crlDistributionPoints=URI:https://ca.example.com/1.crl"])),
    ("w_crldp_http", "private", dict(ext=["crlDistributionPoints=URI:ldap://ca.example.com/c"],
                                     drop=["certificatePolicies"])),
    ("e_aia_http", "dv", dict(ext=["authorityInfoAccess=OCSP;URI:https://ca.example.com/ocsp"])),
    ("w_aia_http", "private", dict(ext=["authorityInfoAccess=caIssuers;URI:ftp://ca.example.com/c"],
                                   drop=["certificatePolicies"])),
    ("e_policies_missing", "dv", dict(drop=["certificatePolicies"])),
    ("e_policies_reserved", "dv", dict(ext=[OV_POL])),
    ("e_policies_any", "dv", dict(ext=["certificatePolicies=2.23.140.1.2.1,2.5.29.32.0"])),
    ("e_policies_private", "private", dict()),
    ("e_ca_policies", "dv", dict(kind="ca", subject="/CN=Other Issuing",
                                 drop=["certificatePolicies"])),
    ("w_root_policies", "private", dict(kind="root", subject="/CN=Other Root", key="ec384",
                                        ext=["certificatePolicies=2.5.29.32.0"])),
]


def findings(out):
    return [f["id"] for f in out["findings"]]


@pytest.mark.parametrize("check,profile,kw", CASES,
                         ids=[f"{c[0]}-{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_defective_certificate_is_caught_by_its_check(pki, nodata, check, profile, kw):
    cert = pki.leaf(**kw)
    rc, out, _ = quill(nodata, "lint", "--profile", profile, cert)
    assert check in findings(out), (check, out)
    f = [x for x in out["findings"] if x["id"] == check][0]
    assert f["severity"] == {"e": "error", "w": "warning"}[check[0]], f
    assert f["message"].strip() and f["source"].strip(), f
    # exit 1 exactly when something is error-level
    errors = [x for x in out["findings"] if x["severity"] == "error"]
    assert rc == (1 if errors else 0), (rc, out)


@pytest.mark.parametrize("profile,kw", [
    ("dv", dict()),
    ("ov", dict(subject=OV, ext=[OV_POL])),
    ("private", dict(drop=["certificatePolicies"], ext=[SAN + "DNS:printer.local,IP:10.0.0.1"])),
    ("dv", dict(key="rsa2048", ext=["keyUsage=critical,digitalSignature,keyEncipherment"])),
    ("private", dict(key="sm2", drop=["certificatePolicies"])),
    ("dv", dict(kind="ca", subject="/CN=Other Issuing")),
    ("private", dict(kind="root", subject="/CN=Other Root", key="ec384")),
])
def test_good_certificates_lint_clean(pki, nodata, profile, kw):
    cert = pki.leaf(**kw)
    rc, out, _ = quill(nodata, "lint", "--profile", profile, cert)
    assert rc == 0 and out["findings"] == [], out


# ================================================================ the command


def test_text_output_is_one_line_per_finding(pki, nodata):
    cert = pki.leaf(ext=[SAN + "DNS:a_b.example.com,DNS:www.example.test"], md="sha1")
    rc, text, _ = quill(nodata, "lint", "--profile", "dv", cert, json=False)
    _, out, _ = quill(nodata, "lint", "--profile", "dv", cert)
    lines = text.splitlines()
    assert rc == 1 and len(lines) == len(out["findings"]) >= 3, text
    for line, f in zip(lines, out["findings"]):
        assert line == f"{f['severity']} {f['id']}: {f['message']} ({f['source']})", line
    assert set(out) == {"profile", "findings"}, out
    for f in out["findings"]:
        assert set(f) == {"id", "severity", "message", "source"}, f


def test_der_and_pem_give_the_same_findings(pki, nodata, workdir):
    cert = pki.leaf(ext=[SAN + "DNS:a_b.example.com"])
    der = workdir / "c.der"
    run("openssl", "x509", "-in", cert, "-outform", "DER", "-out", der)
    a = quill(nodata, "lint", "--profile", "dv", cert)[1]
    b = quill(nodata, "lint", "--profile", "dv", der)[1]
    assert a == b and "e_dnsname_underscore" in findings(a), (a, b)


def test_clean_certificate_prints_nothing(pki, nodata):
    rc, text, err = quill(nodata, "lint", pki.leaf(), json=False)
    assert (rc, text) == (0, ""), (rc, text, err)


@pytest.mark.parametrize("policies,guess", [
    ("certificatePolicies=2.23.140.1.2.1", "dv"),
    ("certificatePolicies=2.23.140.1.2.2", "ov"),
    ("certificatePolicies=2.23.140.1.1", "ev"),
    (None, "private"),
])
def test_profile_is_guessed_from_the_policy(pki, nodata, policies, guess):
    kw = dict(subject=OV) if guess in ("ov", "ev") else {}
    cert = pki.leaf(ext=[policies] if policies else [],
                    drop=[] if policies else ["certificatePolicies"], **kw)
    assert quill(nodata, "lint", cert)[1]["profile"] == guess


def test_guessed_public_profile_applies_public_rules(pki, nodata):
    # the same certificate: an internal name is an error under DV rules only
    cert = pki.leaf(ext=[SAN + "DNS:printer.local"])
    rc, out, _ = quill(nodata, "lint", cert)
    assert (rc, out["profile"]) == (1, "dv") and "e_dnsname_internal" in findings(out), out
    rc, out, _ = quill(nodata, "lint", "--profile", "private", cert)
    assert "e_dnsname_internal" not in findings(out), out
    assert "e_policies_private" in findings(out), out


def test_bad_input(pki, nodata, workdir):
    text = Path(pki.leaf()).read_text()
    trunc = workdir / "trunc.pem"
    trunc.write_text(text[: len(text) // 2] + "\n-----END CERTIFICATE-----\n")
    der = workdir / "c.der"
    run("openssl", "x509", "-in", pki.leaf(), "-outform", "DER", "-out", der)
    short = workdir / "short.der"
    short.write_bytes(der.read_bytes()[:100])
    garbage = workdir / "garbage"
    garbage.write_bytes(b"\x00\x01not a certificate")
    empty = workdir / "empty"
    empty.write_bytes(b"")
    csr = workdir / "req.pem"
    make_csr(csr, ["www.example.com"])
    for f in (trunc, short, garbage, empty, csr):
        err = refused(nodata, "lint", f, code="pem_malformed")
        assert "certificate" in err["message"].lower() or "pem" in err["message"].lower(), err
    refused(nodata, "lint", workdir / "missing.pem", code="io_error", exit=3)
    refused(nodata, "lint", "--profile", "gold", garbage, code="usage", exit=2)
    refused(nodata, "lint", code="usage", exit=2)
    refused(nodata, "lint", garbage, garbage, code="usage", exit=2)


def test_checks_are_documented(nodata):
    checks = ok(nodata, "lint", "--checks")["checks"]
    assert len(checks) >= 60
    page = (REPO / "docs/internals/lint.md").read_text()
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `([ewn]_[a-z0-9_]+)` \|.*$",
                                                           page, re.M)}
    for c in checks:
        assert c["id"] in rows, f"{c['id']} is not in docs/internals/lint.md"
        assert f"| {c['severity']} |" in rows[c["id"]], rows[c["id"]]
        assert c["source"] in rows[c["id"]], rows[c["id"]]
    assert set(rows) == {c["id"] for c in checks}, "the page lists checks that do not exist"


# ================================================================ the signer's gate


def test_signer_never_signs_a_ca_with_an_https_crl_url(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    write_conf(data, "[server]\nbase_url = https://pki.example.com\n")
    err = refused(data, "ca", "init", code="lint_failed")
    assert "e_crldp_http" in err["message"] and "BR 7.1.2.11.2" in err["message"], err
    cas = ok(data, "ca", "list")["cas"]
    assert [c for c in cas if not c["is_root"]] == [], cas


def test_private_certificate_with_https_urls_is_issued_with_warnings(ca_dir, workdir):
    write_conf(ca_dir, "[server]\nbase_url = https://pki.example.com\n")
    c = apply(ca_dir, "https.example.com")
    pem = ok(ca_dir, "cert", "download", c["id"], "--format", "pem", "--out",
             workdir / "d")["files"]
    cert = [p for p in pem if p.endswith("cert.pem")][0]
    rc, out = lint(Path(cert).read_text(), "private", ca_dir)
    assert rc == 0 and {"w_crldp_http", "w_aia_http"} <= set(findings(out)), out


# ================================================================ internal names


INTERNAL = ["www.example.test", "printer.local", "db.corp.internal", "host.example",
            "x.invalid", "nas.home.arpa", "abc.onion"]


@pytest.mark.parametrize("name", INTERNAL)
@pytest.mark.parametrize("profile", ["dv", "ov", "ev"])
def test_public_profiles_refuse_internal_names_before_validation(ca_dir, profile, name):
    before = order_ids_of(ca_dir)
    org = []
    if profile != "dv":
        f = ca_dir / "org.json"
        f.write_text(json.dumps({"organization": "Acme Ltd", "country": "DE",
                                 "locality": "Berlin"}))
        org = ["--org-file", f]
    err = refused(ca_dir, "cert", "apply", "--profile", profile, "--name", "www.example.com",
                  "--name", name, "--key", "ec256", "--method", "dns", *org,
                  code="policy_denied")
    assert name in err["message"] and "internal name" in err["message"], err
    assert "private profile" in err["message"], err
    assert order_ids_of(ca_dir) == before, "no order (and no validation) for an internal name"


def test_public_profiles_refuse_ip_literals(ca_dir):
    for ip in ("192.0.2.1", "8.8.8.8", "2001:db8::1"):
        err = refused(ca_dir, "cert", "apply", "--profile", "dv", "--name", ip, "--key", "ec256",
                      "--method", "dns", code="policy_denied")
        assert ip in err["message"], err


def test_cert_sign_with_a_public_profile_names_the_internal_name(ca_dir, workdir):
    csr = workdir / "r.pem"
    make_csr(csr, ["www.example.test"])
    err = refused(ca_dir, "cert", "sign", "--csr", csr, "--profile", "dv", code="policy_denied")
    assert "internal name" in err["message"] and "www.example.test" in err["message"], err


def test_private_profile_keeps_internal_names_and_ips(ca_dir):
    c = apply(ca_dir, "www.example.test", "printer.local", "10.0.0.1")
    assert c["profile"] == "private" and "printer.local" in c["names"], c


def test_reissue_of_an_old_public_certificate_with_an_internal_name_is_refused(ca_dir):
    """A DV certificate made before the rule (here: a private one turned into
    one in the database) is not reissued, validated or not."""
    c = apply(ca_dir, "legacy.example.test")
    # a public base_url, or the base_url rule would refuse first
    (ca_dir / "quill.conf").write_text("[server]\nbase_url = http://pki.example.com\n")
    con = sqlite3.connect(ca_dir / "quill.db")
    with con:
        con.execute("UPDATE certificates SET profile = 'dv' WHERE id = ?", (c["id"],))
    con.close()
    for how in (["--same-csr"], ["--key", "ec256"]):
        err = refused(ca_dir, "cert", "reissue", c["id"], *how, "--reason", "rotation",
                      "--method", "dns", code="policy_denied")
        assert "internal name" in err["message"], err
    # put it back, so that the lint check after the test judges it by its own profile
    con = sqlite3.connect(ca_dir / "quill.db")
    with con:
        con.execute("UPDATE certificates SET profile = 'private' WHERE id = ?", (c["id"],))
    con.close()


# ================================================================ uploads


def test_upload_reports_lint_findings_as_warnings(ca_dir, tmp_path):
    tp = ThirdParty(tmp_path / "tp", name="bad_host.example.org")
    out = tp.upload(ca_dir)
    assert {"certificate", "expires_in_days", "expired", "lint"} <= set(out), out
    ids = [f["id"] for f in out["lint"]]
    assert "e_dnsname_underscore" in ids, out
    assert out["certificate"]["origin"] == "uploaded"
    assert ok(ca_dir, "cert", "show", out["certificate"]["id"])["certificate"]["status"] == \
        "issued", "a finding never refuses an upload"


def test_upload_text_shows_warnings(ca_dir, tmp_path):
    tp = ThirdParty(tmp_path / "tp", name="bad_host.example.org")
    rc, text, _ = quill(ca_dir, "cert", "upload", "--cert", tp.cert_path, "--key", tp.key_path,
                        "--chain", tp.chain_path, json=False)
    assert rc == 0, text
    assert re.search(r"^warning: lint error e_dnsname_underscore: .*bad_host", text, re.M), text


def test_clean_upload_has_an_empty_lint_list(ca_dir, tmp_path):
    out = ThirdParty(tmp_path / "tp").upload(ca_dir)
    assert out["lint"] == [], out
