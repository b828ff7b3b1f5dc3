"""quill's resolver (src/dns) against real servers, seen through
`quill caa check --json`: forwarding straight to an authoritative Knot
(special-use names such as .test and .internal are asked of the forwarder,
not answered by libunbound's built-in local zones), records changed at run
time with knotc, DNSSEC with test trust anchors (secure, bogus, unusable
anchor files, the system root anchor), timeouts and unreachable forwarders,
and the [dns] settings.
"""

import os
import socket
import time

import pytest

from conftest import quill
from knot import BlackHole, Knot, caa, free_port, quill_conf

US = "ca.test"
OTHER = "other-ca.test"
ROOT_KEY = "/usr/share/dns/root.key"


def rec(owner, flags, tag, value):
    return f"{owner} CAA {caa(flags, tag, value)}"


@pytest.fixture(scope="module")
def knot(tmp_path_factory):
    d = tmp_path_factory.mktemp("dns-knot")
    k = Knot(d / "knot")
    k.add_zone("zone.test", [rec("deny", 0, "issue", OTHER), rec("ours", 0, "issue", US),
                             "cn CNAME t.far.example.", "live TXT \"x\""])
    k.add_zone("far.example", [rec("t", 0, "issue", OTHER)])
    k.add_zone("corp.internal", [rec("deny", 0, "issue", OTHER)])
    k.add_zone("lab.localhost", [rec("deny", 0, "issue", OTHER)])
    k.add_zone("10.in-addr.arpa", [rec("1.2.3", 0, "issue", OTHER)])
    k.add_zone("signed.test", [rec("@", 0, "issue", US), rec("deny", 0, "issue", OTHER)],
               signed=True)
    k.start()
    yield k
    k.stop()


def run(conf, *names, identity=US, extra=()):
    return quill(None, "--config", conf, "caa", "check", "--identity", identity, *extra, *names)


def outcome(conf, name, **kw):
    rc, out, err = run(conf, name, **kw)
    assert "results" in out, (out, err)
    r = out["results"][0]
    return rc, r


# ------------------------------------------------------------ forwarding


def test_forwarding_straight_to_knot(knot, tmp_path):
    conf = quill_conf(tmp_path / "q.conf", knot.addr)
    rc, r = outcome(conf, "ours.zone.test")
    assert (rc, r["outcome"], r["where"]) == (0, "allowed", "ours.zone.test")
    rc, r = outcome(conf, "deny.zone.test")
    assert (rc, r["outcome"], r["where"]) == (1, "denied", "deny.zone.test")


@pytest.mark.parametrize("name", ["deny.zone.test", "deny.corp.internal", "deny.lab.localhost"])
def test_special_use_names_are_asked_of_the_forwarder(knot, tmp_path, name):
    # libunbound would answer .test / .localhost itself (NXDOMAIN, or
    # 127.0.0.1) and the check would pass: a denial proves the forwarder's
    # records were read
    conf = quill_conf(tmp_path / "q.conf", knot.addr)
    rc, r = outcome(conf, name)
    assert (rc, r["outcome"], r["where"]) == (1, "denied", name), r


def test_private_reverse_zone_is_asked_of_the_forwarder(knot, tmp_path):
    # 10.in-addr.arpa is one of libunbound's default (RFC 1918) local zones;
    # policy refuses IP literals, but the names of the reverse tree are
    # ordinary DNS names
    conf = quill_conf(tmp_path / "q.conf", knot.addr)
    rc, r = outcome(conf, "4.1.2.3.10.in-addr.arpa")
    assert (rc, r["outcome"], r["where"]) == (1, "denied", "1.2.3.10.in-addr.arpa"), r


def test_cname_to_another_zone_through_forwarder(knot, tmp_path):
    conf = quill_conf(tmp_path / "q.conf", knot.addr)
    rc, r = outcome(conf, "cn.zone.test")
    assert (rc, r["outcome"], r["where"]) == (1, "denied", "cn.zone.test")
    assert "t.far.example" in r["reason"]


def test_records_changed_at_run_time_with_knotc(knot, tmp_path):
    conf = quill_conf(tmp_path / "q.conf", knot.addr)
    assert outcome(conf, "live.zone.test")[1]["outcome"] == "allowed"
    knot.set_records("zone.test", "live", "CAA", caa(0, "issue", OTHER))
    try:
        rc, r = outcome(conf, "live.zone.test")
        assert (rc, r["outcome"], r["where"]) == (1, "denied", "live.zone.test")
        knot.set_records("zone.test", "live", "CAA", caa(0, "issue", OTHER),
                         caa(0, "issue", US))
        assert outcome(conf, "live.zone.test")[1]["outcome"] == "allowed"
    finally:
        knot.remove_records("zone.test", "live", "CAA")
    assert outcome(conf, "live.zone.test")[1]["outcome"] == "allowed"
    assert outcome(conf, "live.zone.test")[1]["where"] is None


# ------------------------------------------------------------ DNSSEC


def test_dnssec_secure_with_good_anchor(knot, tmp_path):
    ta = tmp_path / "ta"
    ta.write_text(knot.trust_anchor("signed.test"))
    conf = quill_conf(tmp_path / "q.conf", knot.addr, trust_anchor_file=ta)
    rc, r = outcome(conf, "www.signed.test")
    assert (rc, r["outcome"], r["where"]) == (0, "allowed", "signed.test"), r
    rc, r = outcome(conf, "deny.signed.test")
    assert (rc, r["outcome"]) == (1, "denied"), r
    # unsigned zones under the same TLD stay insecure, not bogus
    rc, r = outcome(conf, "ours.zone.test")
    assert (rc, r["outcome"]) == (0, "allowed"), r


def test_dnssec_bogus_with_wrong_anchor(knot, tmp_path):
    ta = tmp_path / "ta"
    ta.write_text(knot.bad_trust_anchor("signed.test"))
    conf = quill_conf(tmp_path / "q.conf", knot.addr, trust_anchor_file=ta)
    rc, r = outcome(conf, "www.signed.test")
    assert (rc, r["outcome"], r["where"]) == (2, "error", "www.signed.test"), r
    assert "DNSSEC bogus" in r["reason"] and "DS hash mismatches key" in r["reason"], r
    assert "(EDE 9)" in r["reason"], r
    rc, r = outcome(conf, "ours.zone.test")
    assert (rc, r["outcome"]) == (0, "allowed"), r


def test_root_anchor_leaves_special_use_names_usable(knot, tmp_path):
    if not os.path.exists(ROOT_KEY):
        pytest.fail(f"{ROOT_KEY} is missing: install the dns-root-data package (make deps)")
    # the signed root proves .test does not exist; with a forwarder the
    # special-use names are insecure rather than bogus
    conf = quill_conf(tmp_path / "q.conf", knot.addr, trust_anchor_file=ROOT_KEY)
    rc, r = outcome(conf, "deny.zone.test")
    assert (rc, r["outcome"]) == (1, "denied"), r
    rc, r = outcome(conf, "deny.corp.internal")
    assert (rc, r["outcome"]) == (1, "denied"), r


@pytest.mark.parametrize("content", [None, "this is not a trust anchor\n"],
                         ids=["missing", "garbage"])
def test_unusable_trust_anchor_file_is_a_config_error(knot, tmp_path, content):
    ta = tmp_path / "ta"
    if content is not None:
        ta.write_text(content)
    conf = quill_conf(tmp_path / "q.conf", knot.addr, trust_anchor_file=ta)
    rc, out, _ = run(conf, "ours.zone.test")
    assert rc == 3 and out["error"]["code"] == "config_invalid", out
    assert "trust_anchor_file" in out["error"]["message"], out


# ------------------------------------------------------------ failures


def test_timeout_names_the_timeout_and_attempts(tmp_path):
    with BlackHole() as hole:
        conf = quill_conf(tmp_path / "q.conf", hole.addr, timeout_ms=200, retries=1)
        t0 = time.monotonic()
        rc, r = outcome(conf, "ours.zone.test")
        took = time.monotonic() - t0
    assert (rc, r["outcome"]) == (2, "error"), r
    assert "timeout after 200 ms per attempt, 2 attempts" in r["reason"], r
    assert took < 5, took


def test_closed_port_forwarder_is_an_error(tmp_path):
    port = free_port()  # nothing listens there
    conf = quill_conf(tmp_path / "q.conf", f"127.0.0.1:{port}", timeout_ms=300, retries=0)
    t0 = time.monotonic()
    rc, r = outcome(conf, "ours.zone.test")
    assert (rc, r["outcome"]) == (2, "error"), r
    assert time.monotonic() - t0 < 5


def test_refused_by_forwarder_is_an_error(knot, tmp_path):
    # REFUSED (like any failure rcode) is reported as SERVFAIL, never as data
    refuser = _Refuser()
    try:
        conf = quill_conf(tmp_path / "q.conf", refuser.addr, timeout_ms=2000, retries=0)
        rc, r = outcome(conf, "ours.zone.test")
    finally:
        refuser.close()
    assert (rc, r["outcome"]) == (2, "error"), r
    assert "SERVFAIL" in r["reason"], r


class _Refuser:
    """A UDP DNS 'server' in a thread that answers REFUSED to every query."""

    def __init__(self):
        import threading
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.addr = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.stop = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stop:
            try:
                data, peer = self.sock.recvfrom(4096)
            except (socket.timeout, OSError):
                continue
            if len(data) < 12:
                continue
            # same id and question, QR=1, RCODE=5, no EDNS
            qd_end = 12
            while qd_end < len(data) and data[qd_end] != 0:
                qd_end += 1 + data[qd_end]
            q = data[12:qd_end + 5]
            hdr = data[:2] + bytes([0x81, 0x85]) + b"\x00\x01\x00\x00\x00\x00\x00\x00"
            try:
                self.sock.sendto(hdr + q, peer)
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.thread.join(timeout=2)
        self.sock.close()


def test_ipv6_forwarder_syntax(knot, tmp_path):
    # "[::1]:PORT" is accepted (the lookup may fail when ::1 has no server)
    conf = quill_conf(tmp_path / "q.conf", f"[::1]:{free_port()}", timeout_ms=200)
    rc, out, _ = run(conf, "ours.zone.test")
    assert rc == 2 and out["results"][0]["outcome"] == "error", out


@pytest.mark.parametrize("resolver", ["dns.example:53", "127.0.0.1:0", "127.0.0.1:x",
                                      "[::1", "1.2.3.4:53:53x"])
def test_bad_resolver_is_a_usage_error(tmp_path, resolver):
    conf = quill_conf(tmp_path / "q.conf", resolver)
    rc, out, _ = run(conf, "ours.zone.test")
    assert rc == 3 and out["error"]["code"] == "config_invalid", out
    assert "resolver" in out["error"]["message"]
