"""`quill caa check` end to end against real DNS: Knot DNS serving the zones
below, an Unbound recursive resolver in front of it as quill's forwarder
(see knot.py). Every rule of RULES.md §3 is checked with both outcomes,
through the real lookups: tree climb, CNAME to another zone, NXDOMAIN,
SERVFAIL from a dead delegation, DNSSEC bogus, timeouts; plus the command's
exit codes (0 allowed, 1 denied, 2 lookup error, 3 usage) and JSON shape.

The CA's identity is ca.test; "other-ca.test" is another CA.
"""

import pytest

from conftest import quill
from knot import BlackHole, Knot, Recursor, caa, caa_raw, dead_address, quill_conf

US = "ca.test"
OTHER = "other-ca.test"
ACCOUNT = "https://acme.test/acct/1"


def rec(owner, flags, tag, value):
    return f"{owner} CAA {caa(flags, tag, value)}"


CAA_ZONE = [
    rec("ours", 0, "issue", US),
    rec("deny", 0, "issue", OTHER),
    # step 3: the climb, issue for another CA at the parent
    rec("parent", 0, "issue", OTHER),
    rec("okparent", 0, "issue", US),
    # step 3: issuewild-only sets and the switch
    rec("climb", 0, "issue", OTHER),
    rec("wo.climb", 0, "issuewild", OTHER),
    rec("wo2.climb", 0, "issuewild", US),
    # step 5: critical unknown tag; unknown non-critical tags do not count
    rec("crit", 128, "tbs", "x"),
    rec("crit", 0, "issue", US),
    rec("noncrit", 0, "tbs", "x"),
    rec("noncrit", 0, "issue", US),
    rec("noncrit", 0, "iodef", "mailto:caa@ca.test"),
    # step 7: tags and parameter keys compare case-insensitively
    rec("upper", 0, "ISSUE", US),
    rec("upperother", 0, "IsSuE", OTHER),
    rec("acct", 0, "issue", f"{US}; AccountURI={ACCOUNT}"),
    # step 6: parameters
    rec("vm", 0, "issue", f"{US}; validationmethods=dns-01"),
    rec("empty", 0, "issue", ""),
    rec("semi", 0, "issue", ";"),
    rec("semimix", 0, "issue", ";"),
    rec("semimix", 0, "issue", US),
    # step 8: records that do not parse
    rec("badval", 0, "issue", f"{US}; key=a b"),
    f"badrdata CAA {caa_raw('0000')}",
    rec("badmix", 0, "issue", f"{US}; a=1; A=2"),
    rec("badmix", 0, "issue", US),
    # step 2: CNAME to another zone; the climb stays in this tree
    "cn CNAME t.cdn.test.",
    "cn2 CNAME t2.cdn.test.",
    rec("sub", 0, "issue", US),
    "cn3.sub CNAME empty.cdn.test.",
    # step 9: NXDOMAIN below the TLD is an empty set
    rec("nxparent", 0, "issue", US),
    # step 9: SERVFAIL from a delegation to a dead server
    "dead NS ns.dead",
]

CDN_ZONE = [
    rec("@", 0, "issue", OTHER),  # the CNAME target's parent: must never be reached
    rec("t", 0, "issue", US),
    rec("t2", 0, "issue", OTHER),
    'empty TXT "no CAA here"',
]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    d = tmp_path_factory.mktemp("caa-dns")
    knot = Knot(d / "knot")
    knot.add_zone("caa.test", CAA_ZONE + [f"ns.dead A {dead_address()}"])
    knot.add_zone("cdn.test", CDN_ZONE)
    knot.add_zone("corp.internal", [rec("deny", 0, "issue", OTHER), rec("@", 0, "issue", US)])
    knot.add_zone("secure.test", [rec("@", 0, "issue", US)], signed=True)
    knot.add_zone("bogus.test", [rec("@", 0, "issue", US)], signed=True)
    knot.start()
    rec_ = Recursor(d / "unbound", knot)
    try:
        rec_.start()
        anchors = d / "anchors.txt"
        anchors.write_text(knot.trust_anchor("secure.test") +
                           knot.bad_trust_anchor("bogus.test"))
        lab = type("Lab", (), {})()
        lab.knot, lab.recursor, lab.dir, lab.anchors = knot, rec_, d, anchors
        # a generous timeout: the recursor's SERVFAIL for the dead delegation
        # takes about two seconds and must not turn into quill's timeout
        lab.conf = quill_conf(d / "quill.conf", rec_.addr, trust_anchor_file=anchors,
                              timeout_ms=8000)
        lab.conf_rfc = quill_conf(d / "quill-rfc.conf", rec_.addr, trust_anchor_file=anchors,
                                  timeout_ms=8000, climb_past_inapplicable=False)
        yield lab
    finally:
        rec_.stop()
        knot.stop()


def check(conf, *names, identity=(US,), account=None, method=None, json=True, extra=()):
    args = ["--config", conf, "caa", "check"]
    for i in identity:
        args += ["--identity", i]
    if account:
        args += ["--account-uri", account]
    if method:
        args += ["--method", method]
    args += [*extra, *names]
    return quill(None, *args, json=json)


def one(conf, name, want, where=None, **kw):
    """Checks one name; asserts the outcome (and `where`); returns the
    result object."""
    rc, out, err = check(conf, name, **kw)
    assert "results" in out, (out, err)
    (r,) = out["results"]
    assert r["name"] == name
    assert r["outcome"] == want, r
    assert rc == {"allowed": 0, "denied": 1, "error": 2}[want], (rc, r)
    if where is not None:
        assert r["where"] == where, r
    assert isinstance(r["reason"], str) and r["reason"], r
    return r


# ------------------------------------------------------------ the rules

CASES = [
    # (id, name, expected, where, kwargs)
    ("issue-ours", "ours.caa.test", "allowed", "ours.caa.test", {}),
    ("issue-other-identity", "ours.caa.test", "denied", "ours.caa.test",
     {"identity": (OTHER + ".example",)}),
    ("issue-another-ca", "deny.caa.test", "denied", "deny.caa.test", {}),
    ("second-identity-matches", "deny.caa.test", "allowed", "deny.caa.test",
     {"identity": (US, OTHER)}),
    ("identity-case-insensitive", "ours.caa.test", "allowed", "ours.caa.test",
     {"identity": ("CA.Test",)}),
    ("wildcard-uses-issue-without-issuewild", "*.ours.caa.test", "allowed", "ours.caa.test",
     {}),
    ("parent-other-ca", "child.parent.caa.test", "denied", "parent.caa.test", {}),
    ("parent-ours", "deep.child.okparent.caa.test", "allowed", "okparent.caa.test", {}),
    ("no-caa-anywhere", "nothing.caa.test", "allowed", None, {}),
    # issuewild-only at the name, non-wildcard request: climbs past it
    ("issuewild-only-climbs-deny", "wo.climb.caa.test", "denied", "climb.caa.test", {}),
    ("issuewild-only-climbs-2", "wo2.climb.caa.test", "denied", "climb.caa.test", {}),
    # ... and decides a wildcard request
    ("issuewild-wildcard-other", "*.wo.climb.caa.test", "denied", "wo.climb.caa.test", {}),
    ("issuewild-wildcard-ours", "*.wo2.climb.caa.test", "allowed", "wo2.climb.caa.test", {}),
    ("critical-unknown-tag", "crit.caa.test", "denied", "crit.caa.test", {}),
    ("noncritical-unknown-and-iodef", "noncrit.caa.test", "allowed", "noncrit.caa.test", {}),
    ("ISSUE-upper-case-ours", "upper.caa.test", "allowed", "upper.caa.test", {}),
    ("ISSUE-upper-case-other", "upperother.caa.test", "denied", "upperother.caa.test", {}),
    ("AccountURI-match", "acct.caa.test", "allowed", "acct.caa.test", {"account": ACCOUNT}),
    ("AccountURI-other", "acct.caa.test", "denied", "acct.caa.test",
     {"account": ACCOUNT + "9"}),
    ("AccountURI-no-account", "acct.caa.test", "denied", "acct.caa.test", {}),
    ("validationmethods-listed", "vm.caa.test", "allowed", "vm.caa.test", {"method": "dns-01"}),
    ("validationmethods-dns-word", "vm.caa.test", "allowed", "vm.caa.test", {"method": "dns"}),
    ("validationmethods-not-listed", "vm.caa.test", "denied", "vm.caa.test",
     {"method": "http-01"}),
    ("validationmethods-file-word", "vm.caa.test", "denied", "vm.caa.test", {"method": "file"}),
    ("empty-value-denies", "empty.caa.test", "denied", "empty.caa.test", {}),
    ("semicolon-denies", "semi.caa.test", "denied", "semi.caa.test", {}),
    ("semicolon-plus-ours", "semimix.caa.test", "allowed", "semimix.caa.test", {}),
    ("malformed-value-only", "badval.caa.test", "denied", "badval.caa.test", {}),
    ("malformed-rdata-only", "badrdata.caa.test", "denied", "badrdata.caa.test", {}),
    ("malformed-plus-good", "badmix.caa.test", "allowed", "badmix.caa.test", {}),
    ("cname-target-ours", "cn.caa.test", "allowed", "cn.caa.test", {}),
    ("cname-target-other", "cn2.caa.test", "denied", "cn2.caa.test", {}),
    # cn3.sub -> empty.cdn.test (no CAA); cdn.test (the target's parent) says
    # other-ca, sub.caa.test (the original parent) says us: the original wins
    ("cname-climb-stays-in-original-tree", "cn3.sub.caa.test", "allowed", "sub.caa.test", {}),
    ("nxdomain-below-tld-is-empty", "nx.nxparent.caa.test", "allowed", "nxparent.caa.test",
     {}),
    ("nxdomain-below-tld-climbs-on", "a.b.nx.nxparent.caa.test", "denied", "nxparent.caa.test",
     {"identity": (OTHER,)}),
    ("nxdomain-at-tld-is-empty", "a.b.nosuchtld", "allowed", None, {}),
    ("special-use-internal-denied", "deny.corp.internal", "denied", "deny.corp.internal", {}),
    ("special-use-internal-allowed", "www.corp.internal", "allowed", "corp.internal", {}),
    ("dnssec-secure-zone", "www.secure.test", "allowed", "secure.test", {}),
]


@pytest.mark.parametrize("name,want,where,kw", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_rule(lab, name, want, where, kw):
    r = one(lab.conf, name, want, where, **kw)
    if want == "denied":
        assert r["records"], r
        assert r["where"] in r["reason"], r
    if where is None:
        assert r["where"] is None and r["records"] is None, r


def test_denied_reason_names_records_and_fix(lab):
    r = one(lab.conf, "child.parent.caa.test", "denied", "parent.caa.test")
    assert r["records"] == f'0 issue "{OTHER}"'
    assert f'0 issue "{OTHER}"' in r["reason"]
    assert f'issue "{US}"' in r["reason"]  # how to fix it


def test_cname_is_reported(lab):
    r = one(lab.conf, "cn2.caa.test", "denied", "cn2.caa.test")
    assert "t2.cdn.test" in r["reason"], r


def test_critical_reason(lab):
    r = one(lab.conf, "crit.caa.test", "denied", "crit.caa.test")
    assert "128 tbs" in r["records"] and "critical" in r["reason"], r


def test_switch_false_stops_at_issuewild_only_set(lab):
    # RFC 8659 reading: the first non-empty set is the relevant one; it holds
    # nothing that applies to a non-wildcard request, so issuance is allowed
    r = one(lab.conf_rfc, "wo.climb.caa.test", "allowed")
    assert "wo.climb.caa.test" in r["reason"], r
    # the same name with the default switch climbs and is denied (CASES)
    one(lab.conf, "wo.climb.caa.test", "denied", "climb.caa.test")
    # a set with applicable records decides either way
    one(lab.conf_rfc, "deny.caa.test", "denied", "deny.caa.test")
    one(lab.conf_rfc, "child.okparent.caa.test", "allowed", "okparent.caa.test")


# ------------------------------------------------------------ lookup errors


def test_servfail_from_dead_delegation_is_an_error(lab):
    r = one(lab.conf, "www.dead.caa.test", "error", "www.dead.caa.test")
    assert "SERVFAIL" in r["reason"], r
    assert "never counts as permission" in r["reason"], r


def test_dnssec_bogus_is_an_error(lab):
    r = one(lab.conf, "www.bogus.test", "error", "www.bogus.test")
    assert "DNSSEC bogus" in r["reason"] and "EDE 9" in r["reason"], r


def test_timeout_is_an_error(lab, tmp_path):
    with BlackHole() as hole:
        conf = quill_conf(tmp_path / "q.conf", hole.addr, timeout_ms=300, retries=0)
        r = one(conf, "ours.caa.test", "error", "ours.caa.test")
    assert "timeout after 300 ms" in r["reason"], r


def test_error_text_line(lab):
    rc, out, _ = check(lab.conf, "www.dead.caa.test", json=False)
    assert rc == 2
    assert out.startswith("www.dead.caa.test error: "), out
    assert "SERVFAIL" in out


# ------------------------------------------------------------ exit codes, output


def test_exit_0_all_allowed_text(lab):
    rc, out, _ = check(lab.conf, "ours.caa.test", "*.ours.caa.test", "nothing.caa.test",
                       json=False)
    assert rc == 0
    assert out.splitlines() == ["ours.caa.test allowed", "*.ours.caa.test allowed",
                                "nothing.caa.test allowed"]


def test_exit_1_any_denied_wins_over_errors(lab):
    rc, out, _ = check(lab.conf, "ours.caa.test", "deny.caa.test", "www.dead.caa.test",
                       json=False)
    assert rc == 1
    lines = out.splitlines()
    assert len(lines) == 3
    assert lines[0] == "ours.caa.test allowed"
    assert lines[1].startswith("deny.caa.test denied: CAA at deny.caa.test")
    assert f'0 issue \\"{OTHER}\\"' in lines[1] or f'0 issue "{OTHER}"' in lines[1]
    assert lines[2].startswith("www.dead.caa.test error: ")


def test_exit_2_error_and_allowed(lab):
    rc, out, _ = check(lab.conf, "ours.caa.test", "www.dead.caa.test")
    assert rc == 2
    assert [r["outcome"] for r in out["results"]] == ["allowed", "error"]


def test_json_shape(lab):
    rc, out, _ = check(lab.conf, "ours.caa.test", "deny.caa.test", "nothing.caa.test")
    assert rc == 1
    assert set(out) == {"results"}
    assert len(out["results"]) == 3
    for r in out["results"]:
        assert set(r) == {"name", "outcome", "where", "records", "reason"}
        assert r["outcome"] in ("allowed", "denied", "error")
    a, d, n = out["results"]
    assert (a["where"], a["records"]) == ("ours.caa.test", f'0 issue "{US}"')
    assert (d["where"], d["records"]) == ("deny.caa.test", f'0 issue "{OTHER}"')
    assert n["where"] is None and n["records"] is None


def test_identities_default_to_config(lab, tmp_path):
    conf = quill_conf(tmp_path / "q.conf", lab.recursor.addr, identities=f"x.example, {OTHER}")
    one(conf, "deny.caa.test", "allowed", "deny.caa.test", identity=())
    one(conf, "ours.caa.test", "denied", "ours.caa.test", identity=())


def test_resolver_option_overrides_config(lab, tmp_path):
    with BlackHole() as hole:
        conf = quill_conf(tmp_path / "q.conf", hole.addr, timeout_ms=300)
        one(conf, "ours.caa.test", "allowed", "ours.caa.test",
            extra=("--resolver", lab.recursor.addr))


USAGE = [
    ("no-name", []),
    ("bad-method", ["--method", "smtp", "ours.caa.test"]),
    ("bad-option", ["--frobnicate", "ours.caa.test"]),
    ("bad-name", ["bad..name.test"]),
    ("ip-literal", ["127.0.0.1"]),
    ("single-label", ["localhost"]),
    ("bad-identity", ["--identity", "not a domain", "ours.caa.test"]),
    ("bad-resolver", ["--resolver", "dns.example:53", "ours.caa.test"]),
    ("bad-resolver-port", ["--resolver", "127.0.0.1:99999", "ours.caa.test"]),
    ("missing-value", ["ours.caa.test", "--identity"]),
]


@pytest.mark.parametrize("args", [u[1] for u in USAGE], ids=[u[0] for u in USAGE])
def test_exit_3_usage(lab, args):
    rc, out, _ = quill(None, "--config", lab.conf, "caa", "check", "--identity", US, *args)
    assert rc == 3, out
    assert out["error"]["code"] in ("usage", "config_invalid"), out
    assert out["error"]["message"]


def test_exit_3_no_subcommand_and_bad_config(lab, tmp_path):
    rc, out, _ = quill(None, "--config", lab.conf, "caa")
    assert rc == 3
    bad = tmp_path / "bad.conf"
    bad.write_text("[dns]\nresolverr = 1.2.3.4:53\n")
    rc, out, _ = quill(None, "--config", bad, "caa", "check", "--identity", US, "ours.caa.test")
    assert rc == 3 and out["error"]["code"] == "config_invalid", out
