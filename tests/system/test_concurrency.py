"""Concurrent CLI runs on one data dir, and a full disk on write."""

import resource
import signal
import sqlite3
import subprocess

from cryptography import x509

from conftest import (QUILL, apply, ca_files, cert_list, crl_number, crl_of, download,
                      list_state, parse_one_json, quill, quill_env, refused, run, show)


def integrity(data):
    return run("sqlite3", data / "quill.db", "PRAGMA integrity_check").stdout.strip()


def pubkey(args):
    return run("openssl", *args, "-pubout" if args[0] == "pkey" else "-pubkey").stdout


def test_parallel_applies_all_succeed(ca_dir, workdir):
    # a fresh copy: the data key does not exist yet, so the 8 runs also race
    # to create it
    assert not (ca_dir / "secrets").exists()
    procs = [subprocess.Popen([QUILL, "--data", str(ca_dir), "--json", "cert", "apply",
                               "--name", f"p{i}.example.com", "--key", "ec256"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=quill_env())
             for i in range(8)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, f"exit {p.returncode}: {out} {err[-1500:]}"
        results.append(parse_one_json(out)["certificate"])
    assert len({c["id"] for c in results}) == 8
    assert len({c["serial"] for c in results}) == 8
    assert sorted(c["names"][0] for c in results) == sorted(f"p{i}.example.com"
                                                             for i in range(8))
    assert integrity(ca_dir) == "ok"
    assert sorted(c["id"] for c in cert_list(ca_dir)) == sorted(c["id"] for c in results)
    # every stored key opens and belongs to its certificate
    for c in results:
        out = workdir / str(c["id"])
        download(ca_dir, c["id"], out)
        assert pubkey(["pkey", "-in", out / "key.pem"]) == \
            pubkey(["x509", "-in", out / "cert.pem", "-noout"])


def test_parallel_revocations_all_reach_the_crl(ca_dir, workdir, issuing_ids):
    certs = [apply(ca_dir, f"r{i}.example.com") for i in range(8)]
    ca_id = issuing_ids["ec256"]
    first = crl_of(ca_dir, ca_id, workdir / "before.pem")
    procs = [subprocess.Popen([QUILL, "--data", str(ca_dir), "--json", "cert", "revoke",
                               str(c["id"]), "--reason", "keyCompromise"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=quill_env())
             for c in certs]
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, f"exit {p.returncode}: {out} {err[-1500:]}"
        assert parse_one_json(out)["certificate"]["status"] == "revoked"
    crl = crl_of(ca_dir, ca_id, workdir / "after.pem")
    assert {r.serial_number for r in crl} == {int(c["serial"], 16) for c in certs}
    assert crl_number(crl) > crl_number(first)
    _, issuing = ca_files(ca_dir, ca_id, workdir / "cas")
    r = run("openssl", "crl", "-in", workdir / "after.pem", "-noout", "-verify",
            "-CAfile", issuing)
    assert "verify OK" in r.stdout + r.stderr
    assert integrity(ca_dir) == "ok"


def test_revocation_during_a_reissue_is_not_lost(ca_dir, workdir, pauses):
    """The reissue runs in the test build and stops at the pause point
    `reissue_signed`: its in-progress mark is committed and the new
    certificate is signed, but not stored yet (the gap between the reissue's
    two transactions). The revocation runs in that gap, every time. (Holding
    the database lock instead would block the revocation too, so it could
    not run inside the gap.) The certificate has a year left, so the reissue
    in progress does not block the revocation (RULES.md §5 blocks it only
    within 30 days of expiry): the revocation is accepted and wins; the
    reissue, when it goes on, must store its certificate revoked and on the
    CRL (nothing signed is lost), and report that it lost."""
    c = apply(ca_dir, "race.example.com")
    reissue = pauses.start(ca_dir, "cert", "reissue", c["id"], "--key", "ec256", "--reason",
                           "race", points=["reissue_signed"])
    marker = pauses.wait("reissue_signed", reissue)
    assert show(ca_dir, c["id"])["status"] == "reissuing"
    code, out, err = quill(ca_dir, "cert", "revoke", c["id"], "--reason", "keyCompromise")
    assert code == 0, (out, err[-1500:])
    assert out["revoked"] == [c["id"]], out  # the reissue is not stored yet
    assert show(ca_dir, c["id"])["status"] == "revoked"
    pauses.release(marker)
    re_out, re_err = reissue.communicate(timeout=60)
    assert reissue.returncode == 1, re_out + re_err[-1500:]
    err = parse_one_json(re_out)["error"]
    assert err["code"] == "reissue_not_allowed", err
    assert "was revoked while this reissue ran" in err["message"], err

    # once `cert revoke` said so, the original and every reissue stay revoked
    children = [x for x in cert_list(ca_dir) if x["parent_id"] == c["id"]]
    assert len(children) == 1, children
    new = children[0]
    assert new["status"] == "revoked", new
    assert f"certificate {new['id']} was revoked with it" in err["message"], err
    assert show(ca_dir, c["id"])["status"] == "revoked"
    assert show(ca_dir, new["id"])["status"] == "revoked"
    crl = crl_of(ca_dir, c["ca_id"], workdir / "crl.pem")
    for x in (c, new):
        entry = crl.get_revoked_certificate_by_serial_number(int(x["serial"], 16))
        assert entry is not None, x
        assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == \
            x509.ReasonFlags.key_compromise
    for x in (c, new):
        refused(ca_dir, "cert", "download", x["id"], "--format", "pem", "--out",
                workdir / f"dl{x['id']}", code="download_revoked")
    assert integrity(ca_dir) == "ok"


def limited(nbytes):
    def preexec():
        # the default action of SIGXFSZ kills; a size limit must be an error
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))
    return preexec


def apply_under_limit(data, nbytes):
    p = subprocess.run([QUILL, "--data", str(data), "--json", "cert", "apply",
                        "--name", "full.example.com", "--key", "ec256"],
                       capture_output=True, text=True, env=quill_env(), timeout=60,
                       preexec_fn=limited(nbytes))
    return p.returncode, parse_one_json(p.stdout), p.stderr


def check_disk_full_outcome(data, before, code, out, err):
    assert code == 3, f"exit {code}: {out} {err[-1500:]}"
    assert out["error"]["code"] in ("disk_full", "io_error"), out
    assert out["error"]["message"].strip()
    assert list_state(data) == before
    assert integrity(data) == "ok"
    apply(data, "after.example.com")
    assert len(cert_list(data)) == len(before) + 1


def test_disk_full_while_the_database_grows(ca_dir):
    """The database is already open elsewhere (its -wal and -shm exist, as
    with a running `quill serve`); the transaction cannot grow the WAL."""
    apply(ca_dir, "before.example.com")  # also creates the data key
    before = list_state(ca_dir)
    reader = sqlite3.connect(ca_dir / "quill.db")
    try:
        reader.execute("SELECT count(*) FROM sqlite_master").fetchall()
        wal = ca_dir / "quill.db-wal"
        assert wal.exists()
        code, out, err = apply_under_limit(ca_dir, max(wal.stat().st_size, 1024))
    finally:
        reader.close()
    check_disk_full_outcome(ca_dir, before, code, out, err)


def test_disk_full_when_nothing_can_be_written(ca_dir):
    apply(ca_dir, "before.example.com")
    before = list_state(ca_dir)
    code, out, err = apply_under_limit(ca_dir, 4096)
    check_disk_full_outcome(ca_dir, before, code, out, err)
