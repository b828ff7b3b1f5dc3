"""Bad input is refused with a stable code, never crashes, never half-writes."""

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from conftest import apply, list_state, make_csr, ok, quill, quill_env, refused, write_conf


@pytest.fixture
def populated(ca_dir):
    """The session CA with one certificate, so "unchanged" means something."""
    apply(ca_dir, "existing.example.com")
    return ca_dir


def csr_garbage(p):
    p.write_bytes(b"this is not a certificate signing request\n" * 4)


def csr_truncated(p):
    make_csr(p, ["trunc.example.com"])
    text = p.read_text()
    p.write_text(text[: len(text) // 2])


def csr_bad_signature(p):
    make_csr(p, ["tamper.example.com"], der=True)
    der = bytearray(p.read_bytes())
    der[-1] ^= 0x01  # the last byte belongs to the signature value
    p.write_bytes(bytes(der))


def csr_rsa1024(p):
    make_csr(p, ["weak.example.com"], key=rsa.generate_private_key(65537, 1024))


def csr_secp256k1(p):
    make_csr(p, ["k1.example.com"], key=ec.generate_private_key(ec.SECP256K1()))


@pytest.mark.parametrize("maker,code", [
    (csr_garbage, "csr_malformed"),
    (csr_truncated, "csr_malformed"),
    (csr_bad_signature, "csr_bad_signature"),
    (csr_rsa1024, "key_weak"),
    (csr_secp256k1, "key_unsupported"),
], ids=lambda v: getattr(v, "__name__", v))
def test_bad_csr_is_refused(populated, workdir, maker, code):
    csr = workdir / "bad.csr"
    maker(csr)
    before = list_state(populated)
    refused(populated, "cert", "sign", "--csr", csr, code=code)
    assert list_state(populated) == before


def test_untampered_der_csr_is_accepted(populated, workdir):
    """Control for the tampered CSR: the same kind of DER CSR, not flipped."""
    csr = workdir / "good.der"
    make_csr(csr, ["tamper.example.com"], der=True)
    _, out, _ = quill(populated, "cert", "sign", "--csr", csr, check=0)
    assert out["certificate"]["names"] == ["tamper.example.com"]


@pytest.mark.parametrize("name", ["bad_name.example.com", "-a.example.com", "a..b"])
def test_invalid_name_is_refused(populated, name):
    before = list_state(populated)
    refused(populated, "cert", "apply", "--name", name, "--key", "ec256", code="name_invalid")
    refused(populated, "cert", "apply", "--name", "ok.example.com", "--name", name,
            "--key", "ec256", code="name_invalid")
    assert list_state(populated) == before


def test_public_profile_needs_validation(populated, workdir):
    write_conf(populated, "[server]\nbase_url = http://pki.example.com\n")  # a public one
    before = list_state(populated)
    # a public certificate comes only out of an order: without a validation
    # method there is nothing to apply for ...
    refused(populated, "cert", "apply", "--name", "dv.example.com", "--key", "ec256",
            "--profile", "dv", code="usage", exit=2)
    # ... and with one, the answer is an order waiting for validation, not a
    # certificate
    order = ok(populated, "cert", "apply", "--name", "dv.example.com", "--key", "ec256",
               "--profile", "dv", "--method", "dns")["order"]
    assert order["status"] == "pending_validation" and order["certificate_id"] is None
    csr = workdir / "dv.csr"
    make_csr(csr, ["dv.example.com"])
    refused(populated, "cert", "sign", "--csr", csr, "--profile", "dv", code="policy_denied")
    assert list_state(populated) == before


def test_missing_data_dir(tmp_path):
    missing = tmp_path / "no-such-dir"
    refused(missing, "cert", "list", code="data_dir_missing", exit=3)
    assert not missing.exists()


@pytest.mark.parametrize("args", [
    ["frobnicate"],
    ["cert", "frobnicate"],
    ["cert", "list", "--frobnicate"],
    ["cert", "apply", "--name", "x.example.com", "--key", "ec256", "--frobnicate"],
    ["cert", "apply", "--name", "x.example.com"],          # --key missing
    ["cert", "apply", "--name", "x.example.com", "--key", "ec256", "--days", "soon"],
])
def test_usage_errors_exit_2(populated, args):
    before = list_state(populated)
    refused(populated, *args, code="usage", exit=2)
    assert list_state(populated) == before


def test_bad_config_file_is_a_usage_error(populated):
    before = list_state(populated)
    write_conf(populated, "[server]\nlisten = 127.0.0.1:8080\nno_such_setting = 1\n")
    err = refused(populated, "cert", "list", code="config_invalid", exit=2)
    assert "no_such_setting" in err["message"]
    refused(populated, "cert", "apply", "--name", "c.example.com", "--key", "ec256",
            code="config_invalid", exit=2)
    Path(populated, "quill.conf").unlink()
    assert list_state(populated) == before


def test_text_mode_errors_go_to_stderr(populated):
    code, out, err = quill(populated, "cert", "apply", "--name", "a..b", "--key", "ec256",
                           json=False)
    assert code == 1 and out == ""
    assert err.splitlines()[-1].startswith("quill: name_invalid: ")


def test_data_dir_from_the_environment_and_the_default(populated, tmp_path):
    want = list_state(populated)
    code, out, _ = quill(None, "cert", "list", env=quill_env(QUILL_DATA=str(populated)),
                         check=0)
    assert sorted(c["id"] for c in out["certificates"]) == [w[0] for w in want]
    # without --data and $QUILL_DATA: ./var
    (tmp_path / "cwd").mkdir()
    (tmp_path / "cwd" / "var").symlink_to(populated)
    code, out, _ = quill(None, "cert", "list", cwd=tmp_path / "cwd", check=0)
    assert sorted(c["id"] for c in out["certificates"]) == [w[0] for w in want]


def test_oversized_csr_is_malformed_not_a_usage_error(populated, workdir):
    csr = workdir / "huge.csr"
    csr.write_bytes(b"\x30\x82" + bytes(200_000))
    before = list_state(populated)
    refused(populated, "cert", "sign", "--csr", csr, code="csr_malformed")
    assert list_state(populated) == before


@pytest.mark.parametrize("text,why", [
    ("not json at all", "not a JSON object"),
    ('["organization", "Acme"]', "not a JSON object"),
    ('{"organization": "Acme", "country": "DE", "ou": "IT"}', "unknown"),
    ('{"organization": 7, "country": "DE"}', "non-string"),
    ('{"organization": "Acme", "organization": "Other", "country": "DE"}', "JSON"),
    ('{"organization": "Acme"}', "country"),
    ('{"organization": "Acme", "country": "DEU", "locality": "Berlin"}', "two-letter"),
    ('{"organization": "Ac\\u0001me", "country": "DE", "locality": "Berlin"}', "control"),
])
def test_bad_organisation_files(populated, workdir, text, why):
    org = workdir / "org.json"
    org.write_text(text)
    before = list_state(populated)
    orders_before = ok(populated, "order", "list")["orders"]
    err = refused(populated, "cert", "apply", "--profile", "ov", "--name", "ov.example.com",
                  "--key", "ec256", "--method", "dns", "--org-file", org, code="usage", exit=2)
    assert why.lower() in err["message"].lower(), err
    assert list_state(populated) == before
    assert ok(populated, "order", "list")["orders"] == orders_before
