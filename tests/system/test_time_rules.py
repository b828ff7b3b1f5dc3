"""Rules that need time to pass, shown with the clock moved ahead by
Debian's libfaketime (LD_PRELOAD; the signer process inherits it, so the
whole of quill sees the same time). Against real DNS (Knot + the Unbound
recursor):

- RULES.md §6: a reissue of a public certificate with a new CSR more than 3
  days after issue validates every name again; with the original CSR it
  does not.
- RULES.md §5: a DV revocation whose proof of control does not arrive
  within 3 days fails, and the certificate stays valid (and downloadable).
"""

import glob

import pytest

from conftest import ok, quill_env, refused, show
from test_orders import configure, dns_lab, issue_dv

LIBFAKETIME = (glob.glob("/usr/lib/*/faketime/libfaketime.so.1") or [None])[0]


def later(days):
    """The environment of a quill run `days` days from now."""
    if LIBFAKETIME is None:
        pytest.fail("libfaketime is missing: install the faketime package (make deps)")
    return quill_env(LD_PRELOAD=LIBFAKETIME, FAKETIME=f"+{days}d", FAKETIME_DONT_RESET="1")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with dns_lab(tmp_path_factory.mktemp("time-rules-dns")) as lab_:
        yield lab_


@pytest.fixture
def data(ca_dir, lab):
    configure(ca_dir, lab.recursor.addr)
    return ca_dir


def test_the_clock_really_moves(data):
    c = ok(data, "cert", "apply", "--name", "clock.quill-test.org", "--key", "ec256")["certificate"]
    assert ok(data, "cert", "show", c["id"], env=later(4))["certificate"]["days_left"] == \
        c["days_left"] - 4


def test_reissue_with_a_new_key_after_3_days_validates_again(lab, data):
    _, c = issue_dv(lab, data, "old.quill-test.org", extra=("--paid",))
    env = later(4)
    out = ok(data, "cert", "reissue", c["id"], "--key", "ec384", "--reason", "rotation",
             env=env)
    assert out["certificate"] is None and out["parent_id"] == c["id"], out
    proof = out["order"]
    assert proof["purpose"] == "reissue" and proof["status"] == "pending_validation", proof
    assert show(data, c["id"])["status"] == "reissuing"
    # a second reissue meanwhile is refused
    refused(data, "cert", "reissue", c["id"], "--same-csr", "--reason", "again",
            code="reissue_in_progress", env=env)
    lab.publish(proof)
    o = ok(data, "order", "validate", proof["id"], env=env)["order"]
    assert o["status"] == "issued" and o["certificate_id"], o
    new = ok(data, "cert", "show", o["certificate_id"], env=env)["certificate"]
    assert new["parent_id"] == c["id"] and new["key_algorithm"] == "ec384", new
    assert new["not_after"] == c["not_after"], (new, c)  # never extends validity
    assert show(data, c["id"])["status"] == "issued"


def test_reissue_with_the_original_csr_after_3_days_needs_no_validation(lab, data):
    _, c = issue_dv(lab, data, "same.quill-test.org", extra=("--paid",))
    new = ok(data, "cert", "reissue", c["id"], "--same-csr", "--reason", "lost file",
             env=later(4))["certificate"]
    assert new["parent_id"] == c["id"] and new["not_after"] == c["not_after"], new


def test_dv_revocation_without_proof_fails_after_3_days(lab, data, tmp_path):
    _, c = issue_dv(lab, data, "proofless.quill-test.org")
    proof = ok(data, "cert", "revoke", c["id"], "--reason", "superseded")["order"]
    lab.set_txt(proof["names"][0]["challenge"]["record_name"])  # the old record goes
    # two days on: still pending
    o = ok(data, "order", "validate", proof["id"], env=later(2))["order"]
    assert o["status"] == "validating", o
    assert show(data, c["id"])["status"] == "revocation_pending"
    # four days on: the revocation failed, the certificate stays valid
    o = ok(data, "order", "validate", proof["id"], env=later(4))["order"]
    assert o["status"] == "failed" and o["failure"]["code"] == "validation_timeout", o
    assert show(data, c["id"])["status"] == "issued"
    files = ok(data, "cert", "download", c["id"], "--format", "pem", "--out",
               tmp_path / "dl")["files"]
    assert any(f.endswith("cert.pem") for f in files), files
    # and a new revocation may be submitted
    again = ok(data, "cert", "revoke", c["id"], "--reason", "superseded")
    assert again["order"]["id"] != proof["id"]
