"""Tenants and API keys through the CLI (issue 6, "Tenants, keys, roles"):
`quill tenant create|list`, `quill key create|list|revoke`, `--tenant` on
the other commands, and isolation: another tenant's object looks exactly
like a missing one, and the refusal is written to the owner's audit log.
The REST API's own isolation tests are in test_api_*.py.
"""

import re
import sqlite3
from pathlib import Path

from conftest import apply, ok, refused

TOKEN = re.compile(r"^quill_[1-9][0-9]*_[A-Za-z0-9_-]{43}$")


def test_every_database_has_the_default_tenant(ca_dir):
    tenants = ok(ca_dir, "tenant", "list")["tenants"]
    assert [t["name"] for t in tenants] == ["default", "system"], tenants
    c = apply(ca_dir, "t1.example.com")
    assert c["tenant"] == "default", c


def test_tenant_create_and_list(ca_dir):
    t = ok(ca_dir, "tenant", "create", "team-a")["tenant"]
    assert t["name"] == "team-a" and isinstance(t["id"], int), t
    refused(ca_dir, "tenant", "create", "team-a", code="tenant_exists")
    for bad in ("", "Team-A", "-lead", "a b", "x" * 64, "évé", "a/b"):
        refused(ca_dir, "tenant", "create", bad, code="tenant_name_invalid", exit=2)
    names = [t["name"] for t in ok(ca_dir, "tenant", "list")["tenants"]]
    assert names == ["default", "system", "team-a"], names


def test_unknown_tenant_is_refused(ca_dir):
    err = refused(ca_dir, "--tenant", "nobody", "cert", "list", code="tenant_unknown")
    assert "nobody" in err["message"], err


def test_key_is_shown_once_and_stored_as_a_hash(ca_dir):
    ok(ca_dir, "tenant", "create", "team-k")
    k = ok(ca_dir, "key", "create", "--tenant", "team-k", "--role", "user", "--label", "ci bot")
    k = k["key"]
    assert k["tenant"] == "team-k" and k["role"] == "user" and k["label"] == "ci bot", k
    assert TOKEN.match(k["token"]), k
    secret = k["token"].split("_", 2)[2]  # the secret may itself hold "_"
    assert len(secret) == 43
    # the list never shows it again
    listed = ok(ca_dir, "key", "list")["keys"]
    assert [x["id"] for x in listed] == [k["id"]]
    assert "token" not in listed[0] and k["token"] not in str(listed), listed
    # and the database holds only its SHA-256
    db = sqlite3.connect(Path(ca_dir) / "quill.db")
    raw = db.execute("SELECT secret_hash FROM api_keys").fetchone()[0]
    db.close()
    assert len(raw) == 32 and secret.encode() not in raw
    assert secret.encode() not in (Path(ca_dir) / "quill.db").read_bytes()
    # revoked: listed as such, and cannot be revoked twice
    r = ok(ca_dir, "key", "revoke", k["id"])["key"]
    assert r["revoked_at"] is not None, r
    refused(ca_dir, "key", "revoke", k["id"], code="not_found")
    assert ok(ca_dir, "key", "list")["keys"][0]["revoked_at"] is not None


def test_key_create_needs_a_valid_role_and_tenant(ca_dir):
    refused(ca_dir, "key", "create", "--role", "root", code="usage", exit=2)
    refused(ca_dir, "key", "create", code="usage", exit=2)
    refused(ca_dir, "key", "create", "--tenant", "ghost", "--role", "user",
            code="tenant_unknown")
    assert ok(ca_dir, "key", "list")["keys"] == []


def test_keys_of_one_tenant(ca_dir):
    for t in ("one", "two"):
        ok(ca_dir, "tenant", "create", t)
        ok(ca_dir, "key", "create", "--tenant", t, "--role", "reviewer")
    only = ok(ca_dir, "--tenant", "two", "key", "list")["keys"]
    assert [k["tenant"] for k in only] == ["two"], only
    assert len(ok(ca_dir, "key", "list")["keys"]) == 2


def test_another_tenants_certificate_looks_missing(ca_dir, tmp_path):
    ok(ca_dir, "tenant", "create", "blue")
    ok(ca_dir, "tenant", "create", "green")
    mine = apply(ca_dir, "blue.example.com", extra=("--tenant", "blue"))
    assert mine["tenant"] == "blue", mine
    missing = 987654
    # every command that names the id answers as for an id that does not exist
    checks = [
        ("cert", "show", "{id}"),
        ("cert", "delete", "{id}"),
        ("cert", "revoke", "{id}", "--reason", "superseded"),
        ("cert", "reissue", "{id}", "--key", "ec256", "--reason", "x"),
        ("cert", "download", "{id}", "--format", "pem", "--out", str(tmp_path / "dl")),
    ]
    for args in checks:
        theirs = refused(ca_dir, "--tenant", "green",
                         *[a.format(id=mine["id"]) for a in args], code="not_found")
        nothing = refused(ca_dir, "--tenant", "green",
                          *[a.format(id=missing) for a in args], code="not_found")
        assert theirs["message"] == nothing["message"].replace(str(missing), str(mine["id"])), \
            (theirs, nothing)
    assert ok(ca_dir, "--tenant", "green", "cert", "list")["certificates"] == []
    assert not (tmp_path / "dl").exists()
    # nothing changed for the owner; its log holds the refusals
    again = ok(ca_dir, "--tenant", "blue", "cert", "show", mine["id"])["certificate"]
    assert again["status"] == "issued", again
    denied = [e for e in again["events"] if e["to"] == "access_denied"]
    assert len(denied) == len(checks), again["events"]
    assert all("green" in e["reason"] for e in denied), denied
    # the default tenant does not see blue's certificate either
    refused(ca_dir, "cert", "show", mine["id"], code="not_found")


def test_reissue_domain_lock_names_no_other_tenant(ca_dir):
    """The registered-domain lock is global (RULES.md §6) but the refusal
    does not reveal the other tenant's certificate. The lock is held by a
    reissue row the test writes itself (owned by the job queue, as a
    revalidating reissue is), so the race is not a race."""
    ok(ca_dir, "tenant", "create", "crimson")
    ok(ca_dir, "tenant", "create", "pink")
    a = apply(ca_dir, "a.shared-domain.com", extra=("--tenant", "crimson"))
    b = apply(ca_dir, "b.shared-domain.com", extra=("--tenant", "pink"))
    db = sqlite3.connect(Path(ca_dir) / "quill.db", timeout=30)
    db.execute("INSERT INTO reissues (certificate_id, status, csr_source, reason, "
               "registered_domains, created_at, tenant_id) "
               "SELECT id, 'in_progress', 'generated', 'held by the test', "
               "'[\"shared-domain.com\"]', strftime('%s','now'), tenant_id "
               "FROM certificates WHERE id = ?", (a["id"],))
    db.commit()
    db.close()
    err = refused(ca_dir, "--tenant", "pink", "cert", "reissue", b["id"], "--key", "ec256",
                  "--reason", "rotate", code="reissue_domain_locked")
    assert "shared-domain.com" in err["message"], err
    assert f"{a['id']} " not in err["message"].replace(f"certificate {b['id']}", ""), err
    assert "crimson" not in err["message"], err
    # its own tenant is told which certificate holds the lock
    c = apply(ca_dir, "c.shared-domain.com", extra=("--tenant", "crimson"))
    own = refused(ca_dir, "--tenant", "crimson", "cert", "reissue", c["id"], "--key", "ec256",
                  "--reason", "rotate", code="reissue_domain_locked")
    assert f"Certificate {a['id']}" in own["message"], own
