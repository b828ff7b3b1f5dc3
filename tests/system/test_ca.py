"""`quill ca init`: the CA hierarchy, key files at rest, the passphrase."""

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from cryptography.x509.oid import NameOID

from conftest import (PASSPHRASE, SM2_DISTID, SM2_WITH_SM3, apply, ca_list, list_state,
                      load_cert, ok, quill, quill_env, refused, run, write_conf)


def key_files(data):
    return sorted(Path(data, "ca").glob("*.key"))


def test_ca_init_default_chain_and_encrypted_keys(tmp_path):
    data = tmp_path / "data"
    out = ok(data, "ca", "init")
    cas = out["cas"]
    roots = [c for c in cas if c["is_root"]]
    issuing = [c for c in cas if not c["is_root"]]
    assert len(roots) == 1 and len(issuing) == 1, cas
    root, iss = roots[0], issuing[0]
    assert root["key_algorithm"] == "ec384" and root["parent_id"] is None
    assert iss["key_algorithm"] == "ec256" and iss["parent_id"] == root["id"]
    assert out["ca"]["id"] == iss["id"]

    root_cert, iss_cert = load_cert(root["certificate"]), load_cert(iss["certificate"])
    assert isinstance(root_cert.public_key().curve, ec.SECP384R1)
    assert isinstance(iss_cert.public_key().curve, ec.SECP256R1)
    (tmp_path / "root.pem").write_text(root["certificate"])
    (tmp_path / "iss.pem").write_text(iss["certificate"])
    run("openssl", "verify", "-x509_strict", "-check_ss_sig", "-CAfile", tmp_path / "root.pem",
        tmp_path / "iss.pem")

    files = key_files(data)
    assert len(files) == 2, files
    public_keys = set()
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
        text = f.read_text()
        assert text.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----"), f
        assert "BEGIN PRIVATE KEY" not in text and "BEGIN EC PRIVATE KEY" not in text
        key = load_pem_private_key(text.encode(), PASSPHRASE.encode())
        public_keys.add(key.public_key().public_numbers())
    # the two files hold exactly the keys of the two CA certificates
    assert public_keys == {root_cert.public_key().public_numbers(),
                           iss_cert.public_key().public_numbers()}


def test_ca_init_again_with_same_key_is_refused(ca_dir):
    before = ca_list(ca_dir)
    keys_before = key_files(ca_dir)
    refused(ca_dir, "ca", "init", code="ca_exists")
    refused(ca_dir, "ca", "init", "--key", "ec256", code="ca_exists")
    assert ca_list(ca_dir) == before
    assert key_files(ca_dir) == keys_before


def test_ca_init_rsa_issuing_ca_under_the_same_root(tmp_path):
    data = tmp_path / "data"
    first = ok(data, "ca", "init")
    root_id = [c for c in first["cas"] if c["is_root"]][0]["id"]
    out = ok(data, "ca", "init", "--key", "rsa2048")
    new = out["ca"]
    assert new["key_algorithm"] == "rsa2048" and not new["is_root"]
    assert new["parent_id"] == root_id
    cas = ca_list(data)
    assert len([c for c in cas if c["is_root"]]) == 1
    assert sorted(c["key_algorithm"] for c in cas if not c["is_root"]) == ["ec256", "rsa2048"]
    pub = load_cert(new["certificate"]).public_key()
    assert isinstance(pub, rsa.RSAPublicKey) and pub.key_size == 2048
    (tmp_path / "root.pem").write_text([c for c in cas if c["is_root"]][0]["certificate"])
    (tmp_path / "rsa.pem").write_text(new["certificate"])
    run("openssl", "verify", "-x509_strict", "-CAfile", tmp_path / "root.pem",
        tmp_path / "rsa.pem")
    assert len(key_files(data)) == 3


def test_ca_init_sm2_chain_beside_the_ecdsa_chain(tmp_path):
    data = tmp_path / "data"
    ok(data, "ca", "init")
    out = ok(data, "ca", "init", "--root-key", "sm2", "--key", "sm2")
    new = out["ca"]
    assert new["key_algorithm"] == "sm2"
    cas = {c["id"]: c for c in ca_list(data)}
    sm2_root = cas[new["parent_id"]]
    assert sm2_root["is_root"] and sm2_root["key_algorithm"] == "sm2"
    assert len([c for c in cas.values() if c["is_root"]]) == 2
    for c in (new, sm2_root):
        assert load_cert(c["certificate"]).signature_algorithm_oid.dotted_string == SM2_WITH_SM3
    (tmp_path / "root.pem").write_text(sm2_root["certificate"])
    (tmp_path / "iss.pem").write_text(new["certificate"])
    run("openssl", "verify", "-x509_strict", "-vfyopt", SM2_DISTID,
        "-CAfile", tmp_path / "root.pem", tmp_path / "iss.pem")
    # an SM2 key is certified by the SM2 chain, an ECDSA key by the ECDSA one
    assert apply(data, "sm2.example.com", key="sm2")["ca_id"] == new["id"]
    assert apply(data, "ec.example.com", key="ec256")["ca_id"] != new["id"]


def test_missing_passphrase_is_refused_and_creates_no_ca(tmp_path):
    data = tmp_path / "data"
    env = quill_env(QUILL_CA_PASSPHRASE=None)
    refused(data, "ca", "init", code="ca_passphrase_missing", exit=2, env=env)
    assert key_files(data) == []
    assert ca_list(data) == []


def test_missing_passphrase_on_apply_stores_nothing(ca_dir):
    apply(ca_dir, "before.example.com")
    before = list_state(ca_dir)
    refused(ca_dir, "cert", "apply", "--name", "x.example.com", "--key", "ec256",
            code="ca_passphrase_missing", exit=2, env=quill_env(QUILL_CA_PASSPHRASE=None))
    assert list_state(ca_dir) == before


def test_passphrase_from_a_file_named_in_the_config(ca_dir, tmp_path):
    pf = tmp_path / "passphrase"
    pf.write_text(PASSPHRASE + "\n")
    write_conf(ca_dir, f"[ca]\npassphrase_file = {pf}\n")
    _, out, _ = quill(ca_dir, "cert", "apply", "--name", "file.example.com", "--key", "ec256",
                      env=quill_env(QUILL_CA_PASSPHRASE=None), check=0)
    assert out["certificate"]["names"] == ["file.example.com"]
    # a file with the wrong passphrase is as wrong as a wrong variable
    pf.write_text("not-the-passphrase\n")
    refused(ca_dir, "cert", "apply", "--name", "file2.example.com", "--key", "ec256",
            code="ca_passphrase_wrong", env=quill_env(QUILL_CA_PASSPHRASE=None))


def test_wrong_passphrase_is_refused_and_stores_nothing(ca_dir):
    apply(ca_dir, "before.example.com")
    before = list_state(ca_dir)
    refused(ca_dir, "cert", "apply", "--name", "x.example.com", "--key", "ec256",
            code="ca_passphrase_wrong", env=quill_env(QUILL_CA_PASSPHRASE="not-the-passphrase"))
    assert list_state(ca_dir) == before


def test_ca_init_subject_names_both_cas(tmp_path):
    data = tmp_path / "data"
    cas = ok(data, "ca", "init", "--subject", "CN=Acme Private CA")["cas"]
    cns = {c["is_root"]: load_cert(c["certificate"]).subject.get_attributes_for_oid(
        NameOID.COMMON_NAME)[0].value for c in cas}
    assert cns[True].startswith("Acme Private CA") and cns[False].startswith("Acme Private CA")
    assert cns[True] != cns[False]


def test_ca_init_subject_with_organisation_keeps_it(tmp_path):
    data = tmp_path / "data"
    cas = ok(data, "ca", "init", "--subject", "CN=Acme Private CA,O=Acme Ltd")["cas"]
    subjects = {c["is_root"]: load_cert(c["certificate"]).subject for c in cas}
    for s in subjects.values():
        assert [a.value for a in s.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == \
            ["Acme Ltd"]
    cn = {k: s.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
          for k, s in subjects.items()}
    assert cn[True] != cn[False]


def test_rsa4096_root_with_rsa3072_issuing(tmp_path):
    """The one RSA-4096 generation of the suite."""
    data = tmp_path / "data"
    out = ok(data, "ca", "init", "--root-key", "rsa4096", "--key", "rsa3072", timeout=300)
    by_root = {c["is_root"]: c for c in out["cas"]}
    assert load_cert(by_root[True]["certificate"]).public_key().key_size == 4096
    assert load_cert(by_root[False]["certificate"]).public_key().key_size == 3072
    c = apply(data, "rsa3072.example.com", key="rsa3072")
    assert c["key_algorithm"] == "rsa3072" and c["ca_id"] == by_root[False]["id"]
    out_dir = tmp_path / "dl"
    ok(data, "cert", "download", c["id"], "--format", "pem", "--out", out_dir)
    (tmp_path / "root.pem").write_text(by_root[True]["certificate"])
    (tmp_path / "bundle.pem").write_text((out_dir / "fullchain.pem").read_text())
    run("openssl", "verify", "-x509_strict", "-CAfile", tmp_path / "root.pem", "-untrusted",
        out_dir / "chain.pem", out_dir / "cert.pem")
    r = run("certtool", "--verify", "--load-ca-certificate", tmp_path / "root.pem",
            "--infile", tmp_path / "bundle.pem")
    assert "Verified" in r.stdout
    assert load_cert(out_dir / "cert.pem").public_key().key_size == 3072
