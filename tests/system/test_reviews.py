"""Manual review of orders (RULES.md §4): risk words ([risk] words_file)
send an order to manual_review once its names are validated; a reviewer
approves (the order goes on to issuance) or rejects with a reason (the
order fails with review_rejected). OV orders always wait for organisation
review, except when the same organisation details were approved before.

Real DNS validation (Knot + the Unbound recursor); reviews through `quill
review list|approve|reject`; the next step after an approval runs with
`quill order validate`.
"""

import json

import pytest
from cryptography.x509.oid import NameOID

from conftest import reviewer_env, load_cert, ok, quill, refused
from test_orders import (OID_OV, configure, dns_lab, failure_code, order_apply, order_ids,
                         order_show, pem_files, policy_oids, validate, verify_download)

ORG = {"organization": "Acme Ltd", "country": "DE", "locality": "Berlin"}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with dns_lab(tmp_path_factory.mktemp("reviews-dns")) as lab_:
        yield lab_


@pytest.fixture
def data(ca_dir, lab, tmp_path):
    words = tmp_path / "risk-words.txt"
    words.write_text("# brands and sensitive words\npaypal\nBank\n")
    configure(ca_dir, lab.recursor.addr, extra=f"[risk]\nwords_file = {words}\n")
    return ca_dir


def reviews(data, all_=False):
    return ok(data, "review", "list", *(["--all"] if all_ else []))["reviews"]


def reviews_of(data, oid, all_=True):
    return [r for r in reviews(data, all_) if r["order_id"] == oid]


def validated(lab, data, *names, profile="dv", extra=()):
    """Applies, publishes, validates once; returns the order."""
    o = order_apply(data, *names, profile=profile, extra=extra)
    lab.publish(o)
    return validate(data, o["id"])


def org_file(path, **changes):
    path.write_text(json.dumps({**ORG, **changes}))
    return path


# ================================================================ risk words


def test_risk_word_rejected(lab, data):
    name = "pay-pal1.quill-test.org"
    o = validated(lab, data, name)
    assert o["status"] == "manual_review", o
    assert o["failure"] is None and o["certificate_id"] is None, o
    n = o["names"][0]
    assert (n["validation_status"], n["caa_status"]) == ("valid", "allowed"), n

    (r,) = reviews_of(data, o["id"], all_=False)
    assert r["kind"] == "risk" and r["status"] == "pending", r
    assert "paypal" in r["detail"] and name in r["detail"], r
    assert r["decided_at"] is None

    # a rejection needs a reason
    rc, out, _ = quill(data, "review", "reject", r["id"], env=reviewer_env())
    assert rc == 2 and out["error"]["code"] == "usage", out
    assert reviews_of(data, o["id"])[0]["status"] == "pending"
    assert order_show(data, o["id"])["status"] == "manual_review"

    done = ok(data, "review", "reject", r["id"], "--reason", "phishing", env=reviewer_env())["review"]
    assert done["status"] == "rejected" and done["reason"] == "phishing", done
    o = order_show(data, o["id"])
    assert o["status"] == "failed", o
    assert failure_code(o) == "review_rejected", o
    assert "phishing" in o["failure"]["message"], o
    assert reviews_of(data, o["id"], all_=False) == []
    (r2,) = reviews_of(data, o["id"], all_=True)
    assert r2["status"] == "rejected" and r2["reason"] == "phishing", r2

    # decided once only; the failed order stays failed
    refused(data, "review", "approve", r["id"], code="order_not_allowed", env=reviewer_env())
    o2 = validate(data, o["id"])
    assert o2["status"] == "failed" and o2["certificate_id"] is None, o2


def test_risk_word_approved_then_issued(lab, data):
    o = validated(lab, data, "my-bank.quill-test.org")  # "Bank" in the file: any case
    assert o["status"] == "manual_review", o
    (r,) = reviews_of(data, o["id"], all_=False)
    assert r["kind"] == "risk" and "bank" in r["detail"], r
    done = ok(data, "review", "approve", r["id"], "--reason", "known customer", env=reviewer_env())["review"]
    assert done["status"] == "approved", done
    o = validate(data, o["id"])
    assert o["status"] == "issued", o
    assert isinstance(o["certificate_id"], int)
    refused(data, "review", "approve", r["id"], code="order_not_allowed", env=reviewer_env())
    # the approval is kept
    assert reviews_of(data, o["id"])[0]["status"] == "approved"


def test_risk_word_after_removing_digits_and_hyphens_only(lab, data):
    # p-a-y-p-a-l-2 matches only once digits and hyphens are gone
    o = validated(lab, data, "p-a-y-p-a-l-2.quill-test.org")
    assert o["status"] == "manual_review", o
    # a clean name goes straight through
    o = validated(lab, data, "clean.quill-test.org")
    assert o["status"] == "issued", o
    assert reviews_of(data, o["id"]) == []


def test_reject_needs_a_reason_and_an_id(lab, data):
    rc, out, _ = quill(data, "review", "reject", "1", env=reviewer_env())
    assert rc == 2 and out["error"]["code"] == "usage", out
    rc, out, _ = quill(data, "review", "reject", "--reason", "x", env=reviewer_env())
    assert rc == 2 and out["error"]["code"] == "usage", out
    refused(data, "review", "approve", 424242, code="not_found", env=reviewer_env())


# ================================================================ OV


def test_ov_organisation_review_once_per_org(lab, data, workdir):
    org = org_file(workdir / "org.json")
    o = validated(lab, data, "ov1.quill-test.org", profile="ov", extra=("--org-file", org))
    assert o["profile"] == "ov" and o["free"] is False, o
    assert o["status"] == "manual_review", o
    assert "Acme Ltd" in o["organization"], o
    (r,) = reviews_of(data, o["id"], all_=False)
    assert r["kind"] == "organization" and r["status"] == "pending", r
    assert "Acme Ltd" in r["detail"] and "DE" in r["detail"] and "Berlin" in r["detail"], r
    ok(data, "review", "approve", r["id"], env=reviewer_env())
    o = validate(data, o["id"])
    assert o["status"] == "issued", o
    files = pem_files(data, o["certificate_id"], workdir / "pem1")
    verify_download(files, workdir)
    assert OID_OV in policy_oids(load_cert(files["cert.pem"]))

    # the same organisation details: no second review
    o2 = validated(lab, data, "ov2.quill-test.org", profile="ov", extra=("--org-file", org))
    assert o2["status"] == "issued", o2
    assert reviews_of(data, o2["id"]) == []

    # changed details: reviewed again
    moved = org_file(workdir / "org-moved.json", locality="Hamburg")
    o3 = validated(lab, data, "ov3.quill-test.org", profile="ov", extra=("--org-file", moved))
    assert o3["status"] == "manual_review", o3
    (r3,) = reviews_of(data, o3["id"], all_=False)
    assert r3["kind"] == "organization" and "Hamburg" in r3["detail"], r3


def test_ov_certificate_names_the_organisation(lab, data, workdir):
    org = org_file(workdir / "org.json")
    o = validated(lab, data, "ovsubj.quill-test.org", profile="ov", extra=("--org-file", org))
    if o["status"] == "manual_review":
        (r,) = reviews_of(data, o["id"], all_=False)
        ok(data, "review", "approve", r["id"], env=reviewer_env())
        o = validate(data, o["id"])
    assert o["status"] == "issued", o
    cert = load_cert(pem_files(data, o["certificate_id"], workdir / "pem")["cert.pem"])
    subj = cert.subject
    assert [a.value for a in subj.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == \
        ["Acme Ltd"], subj
    assert [a.value for a in subj.get_attributes_for_oid(NameOID.COUNTRY_NAME)] == ["DE"], subj
    assert [a.value for a in subj.get_attributes_for_oid(NameOID.LOCALITY_NAME)] == \
        ["Berlin"], subj


@pytest.mark.parametrize("profile", ["ov", "ev"])
def test_ov_ev_without_org_file_is_a_usage_error(lab, data, profile):
    before = order_ids(data)
    rc, out, _ = quill(data, "cert", "apply", "--profile", profile, "--name",
                       f"noorg-{profile}.quill-test.org", "--key", "ec256", "--method", "dns")
    assert rc == 2 and out["error"]["code"] == "usage", out
    assert "--org-file" in out["error"]["message"], out
    assert order_ids(data) == before


def test_applicant_cannot_decide_its_own_review(lab, data):
    """Four eyes: the principal that applied never decides the order's
    review; another one does, and the events name that one."""
    o = validated(lab, data, "own-bank.quill-test.org")
    assert o["status"] == "manual_review", o
    (r,) = reviews_of(data, o["id"], all_=False)
    assert r["requested_by"] == o["created_by"], (r, o)
    for verb, extra in (("approve", ()), ("reject", ("--reason", "mine"))):
        err = refused(data, "review", verb, r["id"], *extra, code="review_own_order")
        assert o["created_by"] in err["message"], err
    assert reviews_of(data, o["id"], all_=False)[0]["status"] == "pending"
    assert order_show(data, o["id"])["status"] == "manual_review"
    done = ok(data, "review", "approve", r["id"], env=reviewer_env("reviewer-rob"))["review"]
    assert done["reviewer"] == "cli:reviewer-rob", done


def test_organisation_approvals_are_per_tenant_and_expire(lab, data, workdir):
    """An approval belongs to the tenant that was reviewed: another tenant
    typing the same details is reviewed again. And it lasts 398 days (the
    Baseline Requirements' reuse period for organisation data, 4.2.1): the
    approval row is aged in the database (no clock to wait for)."""
    import sqlite3
    org = org_file(workdir / "org.json")
    ok(data, "tenant", "create", "blue")
    o = validated(lab, data, "orga.quill-test.org", profile="ov", extra=("--org-file", org))
    (r,) = reviews_of(data, o["id"], all_=False)
    ok(data, "review", "approve", r["id"], env=reviewer_env())
    assert validate(data, o["id"])["status"] == "issued"
    # the same details in tenant blue: reviewed again
    b = order_apply(data, "orgb.quill-test.org", profile="ov",
                    extra=("--org-file", org, "--tenant", "blue"))
    lab.publish(b)
    b = ok(data, "--tenant", "blue", "order", "validate", b["id"])["order"]
    assert b["status"] == "manual_review", b
    (rb,) = [x for x in ok(data, "--tenant", "blue", "review", "list")["reviews"]
             if x["order_id"] == b["id"]]
    assert rb["kind"] == "organization" and rb["tenant"] == "blue", rb
    # in the default tenant an approval 397 days old still counts, 399 days old does not
    db = sqlite3.connect(data / "quill.db")
    with db:
        db.execute("UPDATE organizations SET approved_at = strftime('%s','now') - 397 * 86400 "
                   "WHERE tenant_id = 1")
    c = validated(lab, data, "orgc.quill-test.org", profile="ov", extra=("--org-file", org))
    assert c["status"] == "issued", c
    with db:
        db.execute("UPDATE organizations SET approved_at = strftime('%s','now') - 399 * 86400 "
                   "WHERE tenant_id = 1")
    db.close()
    d = validated(lab, data, "orgd.quill-test.org", profile="ov", extra=("--org-file", org))
    assert d["status"] == "manual_review", d
    assert [x["kind"] for x in reviews_of(data, d["id"], all_=False)] == ["organization"]
