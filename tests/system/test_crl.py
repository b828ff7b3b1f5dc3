"""Sharded CRLs (docs/internals/crl.md): each issuing CA publishes [crl] shards
CRLs plus one unsharded CRL for certificates from before sharding; a
certificate's shard is in its distribution point and each CRL's critical
issuingDistributionPoint names exactly that URL, so `openssl verify
-crl_check` accepts the right CRL and refuses the others' scope. CRLs are
made by jobs after the revocation commits, of any size."""

import datetime as dt
import hashlib
import random
import sqlite3
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conftest import (DEFAULT_BASE_URL, PASSPHRASE, apply, ca_files, crl_for, crl_number,
                      crl_shard_of, crls_of, idp_url, load_cert, ok, openssl_verify, quill,
                      quill_env, refused, reserve_serials, run, shard_crl, show, split_crl_pems,
                      write_conf)


def revoke(data, cert_id, reason="keyCompromise", **kw):
    return ok(data, "cert", "revoke", cert_id, "--reason", reason, **kw)


def leaf_file(data, cert, dest):
    ok(data, "cert", "download", cert["id"], "--format", "pem", "--out", dest)
    return Path(dest) / "cert.pem"


def db(data):
    con = sqlite3.connect(Path(data) / "quill.db", timeout=10)
    con.execute("PRAGMA busy_timeout = 10000")
    return con


def crl_jobs(data, state):
    with db(data) as con:
        return con.execute("SELECT ca_id, shard FROM jobs WHERE kind = 'crl' AND state = ?",
                           (state,)).fetchall()


def test_revocation_in_a_non_first_shard(ca_dir, workdir, issuing_ids):
    ca_id = issuing_ids["ec256"]
    root, issuing = ca_files(ca_dir, ca_id, workdir / "cas")
    certs = [apply(ca_dir, f"shard{i}.example.com") for i in range(6)]
    target = next(c for c in certs if c["crl_shard"] not in (None, 0))
    bystander = next(c for c in certs if c["crl_shard"] != target["crl_shard"])
    leaf = leaf_file(ca_dir, target, workdir / "t")
    other_leaf = leaf_file(ca_dir, bystander, workdir / "b")
    cdp = load_cert(leaf).extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    want_url = f"{DEFAULT_BASE_URL}/crl/{ca_id}/{target['crl_shard']}.crl"
    assert [n.value for dp in cdp for n in dp.full_name] == [want_url]

    revoke(ca_dir, target["id"])
    mine = crl_for(ca_dir, show(ca_dir, target["id"]), workdir / "mine.pem")
    assert idp_url(mine) == want_url
    assert mine.get_revoked_certificate_by_serial_number(int(target["serial"], 16)) is not None
    r = run("openssl", "crl", "-in", workdir / "mine.pem", "-noout", "-verify", "-CAfile", issuing)
    assert "verify OK" in r.stdout + r.stderr
    # the right shard: in scope, and it says revoked
    r = openssl_verify(root, issuing, leaf, "-crl_check", "-CRLfile", workdir / "mine.pem")
    assert r.returncode != 0 and "certificate revoked" in r.stdout + r.stderr
    # another shard's CRL, or the unsharded one, is not this certificate's
    # scope: openssl refuses to use it (never "OK")
    shard_crl(ca_dir, ca_id, bystander["crl_shard"], workdir / "other.pem")
    shard_crl(ca_dir, ca_id, "legacy", workdir / "legacy.pem")
    for wrong in ("other.pem", "legacy.pem"):
        r = openssl_verify(root, issuing, leaf, "-crl_check", "-CRLfile", workdir / wrong)
        assert r.returncode != 0
        assert "different CRL scope" in r.stdout + r.stderr, r.stdout + r.stderr
    # the bystander's own CRL: in scope and not revoked
    r = openssl_verify(root, issuing, other_leaf, "-crl_check", "-CRLfile", workdir / "other.pem")
    assert r.returncode == 0, r.stdout + r.stderr


def test_cli_output_and_options(ca_dir, workdir, issuing_ids):
    ca_id = issuing_ids["ec256"]
    c = apply(ca_dir, "json.example.com")
    revoke(ca_dir, c["id"], "superseded")
    out = ok(ca_dir, "crl")
    crls = out["crls"]
    # every CA: 3 roots (ec384 shared, sm2) ... each root one complete CRL,
    # each issuing CA the unsharded CRL and 16 shards
    roots = [x for x in crls if x["scope"] == "complete"]
    assert len(roots) == 2 and all(x["shard"] is None for x in roots)
    mine = [x for x in crls if x["ca"] == ca_id]
    assert [x["shard"] for x in mine] == [None] + list(range(16))
    assert mine[0]["scope"] == "legacy" and mine[0]["url"] == f"{DEFAULT_BASE_URL}/crl/{ca_id}.crl"
    for x in mine[1:]:
        assert x["scope"] == "shard"
        assert x["url"] == f"{DEFAULT_BASE_URL}/crl/{ca_id}/{x['shard']}.crl"
        assert x["entries"] == (1 if x["shard"] == c["crl_shard"] else 0)
    assert sum(x["entries"] for x in crls) == 1
    numbers = [x["number"] for x in mine]
    assert len(set(numbers)) == len(numbers)  # one sequence per CA
    for x in crls:
        nu = dt.datetime.strptime(x["next_update"], "%Y-%m-%dT%H:%M:%SZ")
        tu = dt.datetime.strptime(x["this_update"], "%Y-%m-%dT%H:%M:%SZ")
        assert nu - tu == dt.timedelta(hours=168)
        assert x["bytes"] > 0
    # text output: one line per CRL and a total
    _, text, _ = quill(ca_dir, "crl", "--ca", ca_id, json=False, check=0)
    lines = text.strip().splitlines()
    assert len(lines) == 18 and lines[-1] == "17 CRLs, 1 entries"
    assert f"ca {ca_id} shard {c['crl_shard']} " in text
    # --out - prints the PEM bundle; --shard picks one
    _, pem, _ = quill(ca_dir, "crl", "--ca", ca_id, "--out", "-", json=False, check=0)
    assert len(split_crl_pems(pem)) == 17
    _, pem, _ = quill(ca_dir, "crl", "--ca", ca_id, "--shard", "3", "--out", "-", json=False,
                      check=0)
    blocks = split_crl_pems(pem)
    assert len(blocks) == 1
    assert idp_url(x509.load_pem_x509_crl(blocks[0])).endswith(f"/crl/{ca_id}/3.crl")
    w = ok(ca_dir, "crl", "--ca", ca_id, "--shard", "legacy", "--out", workdir / "l.pem")
    assert w["file"] == str(workdir / "l.pem") and [x["shard"] for x in w["crls"]] == [None]
    # usage errors
    refused(ca_dir, "crl", "--shard", "3", code="usage", exit=2)
    refused(ca_dir, "crl", "--ca", ca_id, "--shard", "256", "--out", workdir / "x", code="usage",
            exit=2)
    refused(ca_dir, "crl", "--ca", ca_id, "--shard", "-1", "--out", workdir / "x", code="usage",
            exit=2)
    refused(ca_dir, "crl", "--out", workdir / "x", code="usage", exit=2)  # several issuing CAs
    refused(ca_dir, "crl", "--ca", 999, code="not_found")
    refused(ca_dir, "crl", "--ca", ca_id, "--shard", "16", "--out", workdir / "x",
            code="not_found")
    assert not (workdir / "x").exists()


def test_revocation_commits_without_signing(ca_dir, workdir, issuing_ids):
    """The revocation's transaction never signs: without a CA passphrase the
    revocation still commits, its CRL job stays queued, and the next process
    that can sign (here `quill crl`) makes the CRL and closes the job."""
    ca_id = issuing_ids["ec256"]
    c = apply(ca_dir, "nosigner.example.com")
    code, out, err = quill(ca_dir, "cert", "revoke", c["id"], "--reason", "keyCompromise",
                           env=quill_env(QUILL_CA_PASSPHRASE=None))
    assert code == 0, err
    assert out["certificate"]["status"] == "revoked"
    assert "warning" in err and "queued" in err
    assert crl_jobs(ca_dir, "queued") == [(ca_id, c["crl_shard"])]
    stale = crl_for(ca_dir, show(ca_dir, c["id"]), workdir / "stale.pem")
    assert stale.get_revoked_certificate_by_serial_number(int(c["serial"], 16)) is None
    ok(ca_dir, "crl")
    assert crl_jobs(ca_dir, "queued") == []
    fresh = crl_for(ca_dir, show(ca_dir, c["id"]), workdir / "fresh.pem")
    assert fresh.get_revoked_certificate_by_serial_number(int(c["serial"], 16)) is not None
    assert crl_number(fresh) > crl_number(stale)


def test_cli_revocation_leaves_no_job_behind(ca_dir, workdir):
    c = apply(ca_dir, "flush.example.com")
    revoke(ca_dir, c["id"])
    assert crl_jobs(ca_dir, "queued") == []
    crl = crl_for(ca_dir, show(ca_dir, c["id"]), workdir / "c.pem")
    assert crl.get_revoked_certificate_by_serial_number(int(c["serial"], 16)) is not None


# ------------------------------------------------------------ many entries


def template_row(con, cert_id):
    cols = [r[1] for r in con.execute("PRAGMA table_info(certificates)")]
    row = dict(zip(cols, con.execute("SELECT * FROM certificates WHERE id = ?",
                                     (cert_id,)).fetchone()))
    del row["id"]
    return row


def insert_revoked(data, ca_id, template_id, n, shards, seed=4077):
    """n revoked certificates of CA ca_id straight into the database (rows
    shaped like real ones: the template's columns, their own serials and CRL
    shards as quill assigns them). Returns {serial: (shard, reason)}."""
    rng = random.Random(seed)
    now = int(time.time())
    out = {}
    with db(data) as con:
        row = template_row(con, template_id)
        cols = list(row)
        rows = []
        for i in range(n):
            b = bytearray(rng.getrandbits(128).to_bytes(16, "big"))
            b[0] = (b[0] & 0x7F) | 0x40
            serial = b.hex()
            reason = rng.choice([0, 1, 3, 4, 5, 9])
            shard = crl_shard_of(serial, shards)
            r = dict(row, ca_id=ca_id, parent_id=None, serial=serial,
                     names=f'["bulk{i}.example.com"]', status="revoked",
                     revoked_at=now - rng.randrange(86400), revoke_reason=reason,
                     crl_shard=shard, key_blob=None, key_protection="none")
            rows.append(tuple(r[c] for c in cols))
            out[serial] = (shard, reason)
        reserve_serials(con, [(r[cols.index("serial")], ca_id, r[cols.index("tenant_id")],
                               r[cols.index("profile")], r[cols.index("key_algorithm")])
                              for r in rows])
        con.executemany("INSERT INTO certificates (%s) VALUES (%s)" % (
            ", ".join(cols), ", ".join("?" * len(cols))), rows)
    return out


@pytest.mark.parametrize("shards", [1, 16])
def test_more_revocations_than_one_message_held(ca_dir, workdir, issuing_ids, shards):
    """5,000 revoked certificates under one CA (the old one-message CRL
    failed at the 4,077th): every CRL is made, counts match, openssl parses
    and verifies each one, and a real certificate among them is revoked."""
    ca_id = issuing_ids["ec256"]
    root, issuing = ca_files(ca_dir, ca_id, workdir / "cas")
    write_conf(ca_dir, f"[crl]\nshards = {shards}\n")
    real = apply(ca_dir, "real.example.com")
    assert real["crl_shard"] == crl_shard_of(real["serial"], shards)
    leaf = leaf_file(ca_dir, real, workdir / "real")
    bulk = insert_revoked(ca_dir, ca_id, real["id"], 5000, shards)
    revoke(ca_dir, real["id"], "keyCompromise")

    out = ok(ca_dir, "crl", "--ca", ca_id)["crls"]
    # the CA keeps publishing the 16 shards it had; new certificates use the
    # count in force
    assert [x["shard"] for x in out] == [None] + list(range(16))
    want = {}
    for shard, _ in bulk.values():
        want[shard] = want.get(shard, 0) + 1
    want[real["crl_shard"]] = want.get(real["crl_shard"], 0) + 1
    got = {x["shard"]: x["entries"] for x in out if x["shard"] is not None}
    assert {k: v for k, v in got.items() if v} == want
    assert sum(got.values()) == 5001
    if shards == 1:
        assert got[0] == 5001  # one CRL, beyond what one signer message held

    crls = crls_of(ca_dir, ca_id, workdir / "all.pem")
    assert sum(len(c) for c in crls) == 5001
    for i, c in enumerate(crls):
        one = workdir / f"crl-{i}.pem"
        one.write_bytes(c.public_bytes(serialization.Encoding.PEM))
        r = run("openssl", "crl", "-in", one, "-noout", "-verify", "-CAfile", issuing)
        assert "verify OK" in r.stdout + r.stderr
    # entries carry their reasons (0 left out)
    by_serial = {format(e.serial_number, "x"): e for c in crls for e in c}
    for serial, (_, reason) in list(bulk.items())[:200]:
        e = by_serial[serial]
        try:
            got_reason = e.extensions.get_extension_for_class(x509.CRLReason).value.reason
        except x509.ExtensionNotFound:
            got_reason = None
        assert (got_reason is None) == (reason == 0)
    r = openssl_verify(root, issuing, leaf, "-crl_check", "-CRLfile", workdir / "all.pem")
    assert r.returncode != 0 and "certificate revoked" in r.stdout + r.stderr


# ------------------------------------------------------ certificates before sharding


def issuing_key(data, issuing_pem):
    """The issuing CA's key, read the way only a test may: the encrypted
    PKCS#8 file named by the SHA-256 of its public key."""
    cert = x509.load_pem_x509_certificate(Path(issuing_pem).read_bytes())
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    path = Path(data) / "ca" / (hashlib.sha256(spki).hexdigest() + ".key")
    return cert, serialization.load_pem_private_key(path.read_bytes(), PASSPHRASE.encode())


def test_certificate_from_before_sharding_uses_the_unsharded_crl(ca_dir, workdir, issuing_ids):
    """A certificate issued before sharding names /crl/<ca>.crl and has no
    shard in its row: it is listed on that CRL (whose IDP names the old URL),
    and openssl accepts that CRL's scope for it."""
    ca_id = issuing_ids["ec256"]
    root, issuing = ca_files(ca_dir, ca_id, workdir / "cas")
    ca_cert, ca_key = issuing_key(ca_dir, issuing)
    template = apply(ca_dir, "template.example.com")
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.utcnow().replace(microsecond=0)
    serial = x509.random_serial_number()
    old_url = f"{DEFAULT_BASE_URL}/crl/{ca_id}.crl"
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "old.example.com")]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(serial)
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=60))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("old.example.com")]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_cert.public_key()), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                [x509.UniformResourceIdentifier(old_url)], None, None, None)]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    (workdir / "old.pem").write_bytes(pem)
    with db(ca_dir) as con:
        row = template_row(con, template["id"])
        row.update(serial=format(serial, "x"), cert_pem=pem.decode(), crl_shard=None,
                   names='["old.example.com"]', csr_pem=None, key_blob=None,
                   key_protection="none")
        cols = list(row)
        reserve_serials(con, [(row["serial"], row["ca_id"], row["tenant_id"], row["profile"],
                               row["key_algorithm"])])
        cur = con.execute("INSERT INTO certificates (%s) VALUES (%s)" % (
            ", ".join(cols), ", ".join("?" * len(cols))), tuple(row[c] for c in cols))
        old_id = cur.lastrowid
    assert show(ca_dir, old_id)["crl_shard"] is None
    r = openssl_verify(root, issuing, workdir / "old.pem")
    assert r.returncode == 0, r.stdout + r.stderr

    revoke(ca_dir, old_id, "keyCompromise")
    legacy = shard_crl(ca_dir, ca_id, "legacy", workdir / "legacy.pem")
    assert idp_url(legacy) == old_url
    assert legacy.get_revoked_certificate_by_serial_number(serial) is not None
    r = openssl_verify(root, issuing, workdir / "old.pem", "-crl_check", "-CRLfile",
                       workdir / "legacy.pem")
    assert r.returncode != 0 and "certificate revoked" in r.stdout + r.stderr
    # no shard CRL lists it, and none is in its scope
    for c in crls_of(ca_dir, ca_id, workdir / "all.pem")[1:]:
        assert c.get_revoked_certificate_by_serial_number(serial) is None
    shard_crl(ca_dir, ca_id, 0, workdir / "s0.pem")
    r = openssl_verify(root, issuing, workdir / "old.pem", "-crl_check", "-CRLfile",
                       workdir / "s0.pem")
    assert "different CRL scope" in r.stdout + r.stderr


def test_shard_count_change_never_moves_certificates(ca_dir, workdir, issuing_ids):
    ca_id = issuing_ids["ec256"]
    certs = [apply(ca_dir, f"before{i}.example.com") for i in range(8)]
    high = next(c for c in certs if c["crl_shard"] >= 4)
    write_conf(ca_dir, "[crl]\nshards = 4\n")
    after = [apply(ca_dir, f"after{i}.example.com") for i in range(8)]
    assert all(c["crl_shard"] == crl_shard_of(c["serial"], 4) < 4 for c in after)
    assert show(ca_dir, high["id"])["crl_shard"] == high["crl_shard"]
    revoke(ca_dir, high["id"])
    crl = crl_for(ca_dir, show(ca_dir, high["id"]), workdir / "high.pem")
    assert crl.get_revoked_certificate_by_serial_number(int(high["serial"], 16)) is not None
    # a smaller count never drops a shard that may list certificates
    assert len([x for x in ok(ca_dir, "crl", "--ca", ca_id)["crls"]]) == 17
    # a larger one adds shards at once (a new certificate may use them)
    write_conf(ca_dir, "[crl]\nshards = 32\n")
    apply(ca_dir, "more.example.com")
    stored = ok(ca_dir, "crl", "--ca", ca_id, "--out", workdir / "b.pem")["crls"]
    assert [x["shard"] for x in stored] == [None] + list(range(32))


def test_root_has_one_complete_crl(ca_dir, workdir, issuing_ids):
    cas = {c["id"]: c for c in ok(ca_dir, "ca", "list")["cas"]}
    root_id = cas[issuing_ids["ec256"]]["parent_id"]
    crls = crls_of(ca_dir, root_id, workdir / "root.pem")
    assert len(crls) == 1 and idp_url(crls[0]) is None and len(crls[0]) == 0
    refused(ca_dir, "crl", "--ca", root_id, "--shard", "0", "--out", workdir / "x",
            code="not_found")
