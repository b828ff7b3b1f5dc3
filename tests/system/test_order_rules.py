"""Life-cycle rules of issue 2 that need public (DV) certificates from
orders, through the CLI: a free DV certificate is reissued once at most (a
paid one more often) (RULES.md §6); a certificate that expires within 30
days cannot be revoked while an order for its names is in progress
(§5); a reissue less than 3 days after issue, or with the original CSR,
skips domain validation (§6).

The DV certificates come from real orders validated against real DNS
(Knot + the Unbound recursor).
"""

import pytest

from conftest import load_cert, ok, refused, show
from test_orders import (configure, dns_lab, issue_dv, order_apply, order_show, pem_files,
                         spki, verify_download)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with dns_lab(tmp_path_factory.mktemp("order-rules-dns")) as lab_:
        yield lab_


@pytest.fixture
def data(ca_dir, lab):
    configure(ca_dir, lab.recursor.addr)
    return ca_dir


def reissue(data, cert_id, *how, reason="key rotation"):
    return ok(data, "cert", "reissue", cert_id, *how, "--reason", reason)["certificate"]


# ================================================================ free DV: once


def test_free_dv_reissued_once(lab, data):
    o, c = issue_dv(lab, data, "free.quill-test.org")
    assert o["free"] is True and c["profile"] == "dv", (o, c)
    first = reissue(data, c["id"], "--same-csr")
    assert first["parent_id"] == c["id"] and first["status"] == "issued", first
    assert first["not_after"] == c["not_after"]
    err = refused(data, "cert", "reissue", c["id"], "--same-csr", "--reason", "again",
                  code="reissue_limit_reached")
    assert str(c["id"]) in err["message"], err
    # ... and not through the reissued certificate either
    refused(data, "cert", "reissue", first["id"], "--same-csr", "--reason", "again",
            code="reissue_limit_reached")
    refused(data, "cert", "reissue", c["id"], "--key", "ec384", "--reason", "again",
            code="reissue_limit_reached")
    assert show(data, c["id"])["status"] == "issued"


def test_paid_dv_reissued_twice(lab, data):
    o, c = issue_dv(lab, data, "paid.quill-test.org", extra=("--paid",))
    assert o["free"] is False, o
    first = reissue(data, c["id"], "--same-csr")
    second = reissue(data, c["id"], "--same-csr", reason="second time")
    assert first["id"] != second["id"]
    assert first["parent_id"] == second["parent_id"] == c["id"]
    assert second["not_after"] == c["not_after"]


# ================================================================ §5 renewal window


def test_revocation_refused_while_a_renewal_order_runs(lab, data):
    name = "r.quill-test.org"
    c = ok(data, "cert", "apply", "--name", name, "--key", "ec256", "--days", "20")["certificate"]
    assert c["profile"] == "private", c
    o = order_apply(data, name)  # the renewal, still waiting for its record
    assert o["status"] == "pending_validation", o
    err = refused(data, "cert", "revoke", c["id"], "--reason", "superseded",
                  code="revoke_renewal_in_progress")
    assert f"order {o['id']}" in err["message"], err
    assert show(data, c["id"])["status"] == "issued"

    ok(data, "order", "cancel", o["id"])
    out = ok(data, "cert", "revoke", c["id"], "--reason", "superseded")
    assert show(data, c["id"])["status"] == "revoked", out


def test_revocation_allowed_with_more_than_30_days_left_despite_an_order(lab, data):
    name = "r2.quill-test.org"
    c = ok(data, "cert", "apply", "--name", name, "--key", "ec256", "--days", "60")["certificate"]
    o = order_apply(data, name)
    ok(data, "cert", "revoke", c["id"], "--reason", "superseded")
    assert show(data, c["id"])["status"] == "revoked"
    assert order_show(data, o["id"])["status"] == "pending_validation"


# ================================================================ §6 no revalidation


def test_reissue_within_3_days_with_a_new_key_skips_validation(lab, data, workdir):
    o, c = issue_dv(lab, data, "fresh.quill-test.org")
    # the TXT record is gone: a reissue that validated again could not pass
    lab.set_txt(o["names"][0]["challenge"]["record_name"])
    new = reissue(data, c["id"], "--key", "ec384")
    assert new["status"] == "issued" and new["parent_id"] == c["id"], new
    assert new["key_algorithm"] == "ec384" and new["profile"] == "dv", new
    assert new["not_after"] == c["not_after"], new
    files = pem_files(data, new["id"], workdir / "pem")
    verify_download(files, workdir)
    cert = load_cert(files["cert.pem"])
    old = load_cert(pem_files(data, c["id"], workdir / "old")["cert.pem"])
    assert spki(cert) != spki(old)
    assert cert.public_key().curve.name == "secp384r1"


def test_reissue_with_the_same_csr_skips_validation(lab, data, workdir):
    o, c = issue_dv(lab, data, "samecsr.quill-test.org")
    lab.set_txt(o["names"][0]["challenge"]["record_name"])
    new = reissue(data, c["id"], "--same-csr")
    assert new["status"] == "issued" and new["parent_id"] == c["id"], new
    a = load_cert(pem_files(data, c["id"], workdir / "a")["cert.pem"])
    b = load_cert(pem_files(data, new["id"], workdir / "b")["cert.pem"])
    assert spki(a) == spki(b)
