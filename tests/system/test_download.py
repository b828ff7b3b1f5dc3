"""Download bundles (RULES.md §7): PEM, nginx, apache, IIS and Tomcat PKCS#12,
read back by openssl and Java's keytool."""

import stat
from pathlib import Path

import pytest

from conftest import (apply, ca_files, download, load_cert, make_csr, ok, openssl_verify,
                      quill_env, refused, run, split_pems)

P12_PASSWORD = "p12-test-password"


def mode(p):
    return stat.S_IMODE(Path(p).stat().st_mode)


def pubkey_of_key(path, password=None):
    args = ["openssl", "pkey", "-in", path, "-pubout"]
    if password is not None:
        args += ["-passin", f"pass:{password}"]
    return run(*args).stdout


def pubkey_of_cert(path):
    return run("openssl", "x509", "-in", path, "-noout", "-pubkey").stdout


def test_pem_bundle(ca_dir, workdir):
    c = apply(ca_dir, "pem.example.com")
    out = workdir / "pem"
    files = download(ca_dir, c["id"], out)
    assert sorted(f.name for f in files) == ["cert.pem", "chain.pem", "fullchain.pem", "key.pem"]
    assert all(f.parent == out for f in files)
    assert mode(out / "key.pem") == 0o600
    cert, chain, full = ((out / n).read_text() for n in ("cert.pem", "chain.pem",
                                                         "fullchain.pem"))
    assert full == cert + chain
    assert len(split_pems(cert)) == 1
    # chain: the issuing CA up to the root, leaf-most first
    root, issuing = ca_files(ca_dir, c["ca_id"], workdir / "cas")
    assert split_pems(chain) == [issuing.read_text(), root.read_text()]
    assert pubkey_of_key(out / "key.pem") == pubkey_of_cert(out / "cert.pem")
    assert "ENCRYPTED" not in (out / "key.pem").read_text()


@pytest.mark.parametrize("fmt", ["nginx", "apache"])
def test_web_server_layouts(ca_dir, workdir, fmt):
    c = apply(ca_dir, "web.example.com", key="rsa2048")
    out = workdir / fmt
    files = download(ca_dir, c["id"], out, fmt)
    assert files and all(f.exists() and f.parent == out for f in files)
    keys = [f for f in files if f.suffix == ".key"]
    crts = [f for f in files if f.suffix == ".crt"]
    assert len(keys) == 1 and mode(keys[0]) == 0o600
    assert pubkey_of_key(keys[0]) == pubkey_of_cert(crts[0])
    certs = [p for f in crts for p in split_pems(f.read_text())]
    leaf = load_cert(certs[0])
    assert leaf.serial_number == int(c["serial"], 16)
    # what the server sends lets a client build the chain to the root
    root, _ = ca_files(ca_dir, c["ca_id"], workdir / "cas")
    untrusted = workdir / "sent.pem"
    untrusted.write_text("".join(certs[1:]))
    leaf_file = workdir / "leaf.pem"
    leaf_file.write_text(certs[0])
    r = openssl_verify(root, untrusted, leaf_file)
    assert r.returncode == 0, r.stdout + r.stderr
    if fmt == "apache":
        assert len(crts) == 2 and any(".chain" in f.name for f in crts)


@pytest.mark.parametrize("fmt,suffix", [("iis", ".pfx"), ("tomcat", ".p12")])
def test_pkcs12_bundles(ca_dir, workdir, fmt, suffix):
    c = apply(ca_dir, "p12.example.com", key="rsa2048")
    out = workdir / fmt
    files = download(ca_dir, c["id"], out, fmt, "--password", P12_PASSWORD)
    assert len(files) == 1 and files[0].suffix == suffix and files[0].exists()
    p12 = files[0]
    assert mode(p12) == 0o600  # it holds the private key
    r = run("openssl", "pkcs12", "-info", "-nokeys", "-in", p12,
            "-passin", f"pass:{P12_PASSWORD}")
    assert len(split_pems(r.stdout)) >= 2  # the certificate and its chain
    assert "p12.example.com" in r.stdout
    bad = run("openssl", "pkcs12", "-info", "-nokeys", "-in", p12,
              "-passin", "pass:wrong-password", check=False)
    assert bad.returncode != 0
    r = run("keytool", "-list", "-storetype", "PKCS12", "-keystore", p12,
            "-storepass", P12_PASSWORD, timeout=120)
    assert "PrivateKeyEntry" in r.stdout


@pytest.mark.parametrize("fmt", ["iis", "tomcat"])
def test_pkcs12_needs_a_password(ca_dir, workdir, fmt):
    c = apply(ca_dir, "nopw.example.com")
    out = workdir / fmt
    refused(ca_dir, "cert", "download", c["id"], "--format", fmt, "--out", out,
            code="password_required", exit=2)
    assert not out.exists() or list(out.iterdir()) == []


def test_formats_needing_the_key_refuse_a_csr_certificate(ca_dir, workdir):
    csr = workdir / "own.csr"
    make_csr(csr, ["own.example.com"])
    c = ok(ca_dir, "cert", "sign", "--csr", csr)["certificate"]
    for fmt, extra in (("nginx", []), ("apache", []), ("iis", ["--password", P12_PASSWORD]),
                       ("tomcat", ["--password", P12_PASSWORD])):
        out = workdir / fmt
        refused(ca_dir, "cert", "download", c["id"], "--format", fmt, "--out", out, *extra,
                code="key_not_held")
        assert not out.exists() or list(out.iterdir()) == []
    files = download(ca_dir, c["id"], workdir / "pem")
    assert sorted(f.name for f in files) == ["cert.pem", "chain.pem", "fullchain.pem"]


def test_key_password_protects_the_downloaded_key(ca_dir, workdir):
    pw = "subscriber-secret"
    c = apply(ca_dir, "locked.example.com", extra=["--key-password", pw])
    assert c["key_held"] is True
    out = workdir / "pem"
    download(ca_dir, c["id"], out)
    key = out / "key.pem"
    assert key.read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert mode(key) == 0o600
    assert pubkey_of_key(key, pw) == pubkey_of_cert(out / "cert.pem")
    assert run("openssl", "pkey", "-in", key, "-passin", "pass:not-it", "-noout",
               check=False).returncode != 0

    refused(ca_dir, "cert", "download", c["id"], "--format", "iis", "--out", workdir / "a",
            "--password", P12_PASSWORD, code="key_password_wrong")
    refused(ca_dir, "cert", "download", c["id"], "--format", "iis", "--out", workdir / "b",
            "--password", P12_PASSWORD, "--key-password", "not-it", code="key_password_wrong")
    files = download(ca_dir, c["id"], workdir / "c", "iis", "--password", P12_PASSWORD,
                     "--key-password", pw)
    r = run("openssl", "pkcs12", "-in", files[0], "-nocerts", "-nodes",
            "-passin", f"pass:{P12_PASSWORD}")
    (workdir / "p12key.pem").write_text(r.stdout)
    assert pubkey_of_key(workdir / "p12key.pem") == pubkey_of_cert(out / "cert.pem")


def test_key_password_is_never_stored(ca_dir, workdir):
    pw = "never-stored-secret-42"
    c = apply(ca_dir, "secret.example.com", extra=["--key-password", pw])
    ok(ca_dir, "cert", "reissue", c["id"], "--key", "ec256", "--key-password", pw + "-2",
       "--reason", "rotate")
    for f in Path(ca_dir).rglob("*"):
        if f.is_file():
            blob = f.read_bytes()
            assert pw.encode() not in blob, f
            assert "some-test-passphrase".encode() not in blob, f


def test_key_password_from_the_environment(ca_dir, workdir):
    env = quill_env(QUILL_KEY_PASSWORD="from-the-environment")
    c = ok(ca_dir, "cert", "apply", "--name", "env.example.com", "--key", "ec256",
           "--key-password", "-", env=env)["certificate"]
    assert c["key_protection"] == "password"
    out = workdir / "pem"
    download(ca_dir, c["id"], out)
    assert pubkey_of_key(out / "key.pem", "from-the-environment") == \
        pubkey_of_cert(out / "cert.pem")
