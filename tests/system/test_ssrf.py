"""Validation cannot be turned against the network (issue 7), and public
certificates do not carry a base_url relying parties cannot reach (issue 6).

Real parts only: Knot + the Unbound recursor (tests/system/knot.py, through
test_orders.dns_lab) map the names, a real nginx (tests/system/nginx.py)
serves the files, and plain listening sockets stand where validation must
NOT connect: a connection attempt would complete in the kernel's backlog,
so `connections()` counting zero proves that nothing was tried (each
listener is checked to count a real connection first).

Private network namespace: this module names special-purpose addresses
that are not loopback (names resolve to 10.0.0.5 and 169.254.169.254,
redirects point to 10.0.0.1 and 169.254.169.254), so a broken address
check would send packets off this machine. Every test here therefore runs
inside one private network namespace (tests/system/netns.py,
scripts/netns-run.sh; needs root): its only device is its own `lo`,
holding those addresses, with no route, so a connection to any other
address fails at once and nothing leaves, while one to those addresses
reaches a counting listener of the test. Knot, Unbound, nginx, the
listeners and quill all run inside it. The first test shows the isolation.

Everything else runs on loopback, so the production rule (connect only to
public addresses) would refuse every test server. Two test-only settings
open it: `[validation] allow_private_addresses = true` (everything; what
the other test files use) and `[validation] allow_addresses = 127.0.0.1/32`
(only the nginx address counts as public, so a first request reaches it
while every other special-purpose address, after a redirect, is still
refused). The tests here set allow_private_addresses = false explicitly
(test_orders' configure() turns it on; the later line wins) and a
public-looking [server] base_url, which dv orders need when the switch is
off.
"""

import errno
import socket
import subprocess
import time

import pytest

from conftest import ok, quill, refused
from netns import UNBOUND, UNBOUND6, inside_private, isolation_problem, private_network, \
    require_private
from nginx import Nginx
from test_orders import (ZONE, configure, dns_lab, failure_code, issue_dv, name_of,
                         order_apply, order_ids, validate)

# every test and fixture of this module runs inside one private network
# namespace (module docstring)
netns = private_network()

SOURCES = "192.0.2.10, 2001:db8::10"
PUBLIC_BASE = "[server]\nbase_url = http://pki.example.com\n"


@pytest.fixture(scope="module")
def lab(netns, tmp_path_factory):
    """Knot and Unbound, inside the module's namespace."""
    with dns_lab(tmp_path_factory.mktemp("ssrf-dns")) as lab_:
        yield lab_


@pytest.fixture(scope="module")
def web(netns, tmp_path_factory):
    """nginx, inside the module's namespace."""
    n = Nginx(workdir=tmp_path_factory.mktemp("ssrf-nginx"))
    n.start()
    try:
        yield n
    finally:
        n.stop()


class Listener:
    """A TCP socket listening on host:port that never accepts on its own;
    connections() takes (and counts) what reached its backlog. A host that
    is not loopback (0.0.0.0, 10.0.0.5, ...) only inside the private
    namespace."""

    def __init__(self, host, port=0):
        require_private(host)
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.host = host
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        self.sock.bind((host, port))
        self.sock.listen(64)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def connections(self):
        n = 0
        while True:
            try:
                c, _ = self.sock.accept()
            except BlockingIOError:
                return n
            c.close()
            n += 1

    def check_counts(self):
        """The listener itself works: a real connection is counted."""
        with socket.create_connection((self.host, self.port), timeout=5):
            pass
        assert self.connections() == 1, f"the listener on {self.host} did not count"

    def close(self):
        self.sock.close()


class Everywhere:
    """Listeners on one port on every address of the namespace (0.0.0.0
    and ::): a connection to any address on that port is counted."""

    def __init__(self):
        self.v4 = Listener("0.0.0.0")
        self.v6 = Listener("::", self.v4.port)
        self.port = self.v4.port

    def connections(self):
        return self.v4.connections() + self.v6.connections()

    def check_counts(self, to):
        with socket.create_connection((to, self.port), timeout=5):
            pass
        assert self.connections() == 1, f"nothing counted a connection to {to}"

    def close(self):
        self.v4.close()
        self.v6.close()


# ---------------------------------------------------------------- the namespace


def test_the_private_namespace_holds_everything(netns, lab, web):
    """The isolation the tests below rely on (they name 10.0.0.5, 10.0.0.1
    and 169.254.169.254): this thread, the servers and the processes it
    starts (quill is started so, by conftest.quill) are inside the private
    namespace; an address that is not set up there cannot be reached at
    all, at once; the special-purpose addresses the tests use reach a
    counting listener."""
    assert inside_private()
    for proc in (lab.knot.proc, lab.recursor.proc, web.proc):
        assert netns.holds(proc.pid), proc.args
    child = subprocess.run(["readlink", "/proc/self/ns/net"], capture_output=True, text=True,
                           check=True)
    assert child.stdout.strip() == f"net:[{netns.inode}]", child.stdout
    assert isolation_problem() is None, isolation_problem()
    assert sorted(n for _, n in socket.if_nameindex()) == ["lo"]
    # an address that is not set up: no route, refused at once, no packet
    for host in (UNBOUND, UNBOUND6):
        t0 = time.monotonic()
        with pytest.raises(OSError) as e:
            socket.create_connection((host, 80), timeout=5).close()
        assert e.value.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH), e.value
        assert time.monotonic() - t0 < 1, f"connecting to {host} took time: something was sent"
    # the special-purpose addresses of the tests are on lo here
    for addr in ("10.0.0.5", "10.0.0.1", "169.254.169.254"):
        probe = Listener(addr)
        try:
            probe.check_counts()
        finally:
            probe.close()


def conf(data, lab, http_port, allow_private=False, allow="", base=PUBLIC_BASE, extra=""):
    configure(data, lab.recursor.addr,
              extra=("[validation]\n"
                     f"http_port = {http_port}\n"
                     "timeout_ms = 3000\n"
                     f"source_addresses = {SOURCES}\n"
                     f"allow_private_addresses = {'true' if allow_private else 'false'}\n"
                     f"allow_addresses = {allow}\n" + base + extra))


def file_order(lab, data, name, *records):
    """DNS records for `name` ((type, rdata) pairs), then a file-method order;
    returns (order, token, content)."""
    for rtype in ("A", "AAAA"):
        rdata = [r for t, r in records if t == rtype]
        if rdata:
            lab.set(name, rtype, *rdata)
    o = order_apply(data, name, method="file")
    ch = o["names"][0]["challenge"]
    prefix = f"http://{name}/.well-known/pki-validation/"
    assert ch["url"].startswith(prefix), ch
    return o, ch["url"][len(prefix):-len(".txt")], ch["content"]


def assert_refused(o, name, says, hint):
    """The order failed at once (final) with file_unreachable naming the
    refused address and why."""
    assert o["status"] == "failed", o
    assert failure_code(o) == "file_unreachable", o
    n = name_of(o, name)
    msg = n["failure"]["message"]
    assert n["validation_status"] == "invalid", n
    assert f"Refused to connect to {says}" in msg, msg
    assert "validation only connects to public addresses" in msg, msg
    assert hint in msg, msg
    assert "192.0.2.10" in msg and "2001:db8::10" in msg, msg  # RULES.md §2
    assert o["certificate_id"] is None, o
    return msg


# ---------------------------------------------------------------- the name itself


FIRST_HOP = [
    ("loopback", [("A", "127.0.0.1")], "127.0.0.1 (loopback, 127.0.0.0/8, RFC 1122)"),
    ("loopback6", [("AAAA", "::1")], "::1 (loopback, ::1/128, RFC 4291)"),
    ("rfc1918", [("A", "10.0.0.5")], "10.0.0.5 (private-use, 10.0.0.0/8, RFC 1918)"),
    ("metadata", [("A", "169.254.169.254")],
     "169.254.169.254 (link-local, the cloud instance metadata service, 169.254.169.254/32, "
     "RFC 3927)"),
    ("mapped", [("AAAA", "::ffff:127.0.0.1")],
     "::ffff:127.0.0.1 (IPv4-mapped, ::ffff:0:0/96, RFC 4291, carrying 127.0.0.1: loopback"),
    ("both", [("A", "127.0.0.1"), ("AAAA", "::1")], "127.0.0.1 (loopback"),
]


@pytest.mark.parametrize("label,records,says", FIRST_HOP, ids=[c[0] for c in FIRST_HOP])
def test_name_on_a_special_address_is_refused_without_a_connection(ca_dir, lab, label, records,
                                                                    says):
    """Needs the private namespace (10.0.0.5, 169.254.169.254 are on its lo):
    listeners on every address of the namespace, on the port validation
    would use, each shown to count the address the name points to, see
    nothing."""
    probe = Everywhere()
    try:
        for _, addr in records:
            probe.check_counts(addr)
        conf(ca_dir, lab, probe.port)
        name = f"{label}.first.ssrf.{ZONE}"
        o, token, content = file_order(lab, ca_dir, name, *records)
        o = validate(ca_dir, o["id"])
        n = probe.connections()
        assert n == 0, f"validation connected {n} times to a refused address"
        msg = assert_refused(o, name, says, "give the name public A or AAAA records")
        if label == "both":
            assert "(and 1 more)" in msg, msg
    finally:
        probe.close()


def test_same_name_is_fetched_when_the_switch_is_on(ca_dir, lab, web):
    # the control: the same kind of name, allowed, is fetched from nginx
    conf(ca_dir, lab, web.port, allow_private=True)
    name = f"allowed.first.ssrf.{ZONE}"
    o, token, content = file_order(lab, ca_dir, name, ("A", "127.0.0.1"))
    web.put_validation_file(token, content)
    o = validate(ca_dir, o["id"])
    assert name_of(o, name)["validation_status"] == "valid", o
    assert [r for r in web.requests() if token in r["request"]]


# ---------------------------------------------------------------- redirects


REDIRECTS = [
    ("loopback2", "127.0.0.2", "127.0.0.2 (loopback, 127.0.0.0/8, RFC 1122)", "127.0.0.2"),
    ("loopback6", "[::1]", "::1 (loopback, ::1/128, RFC 4291)", "::1"),
    ("mapped", "[::ffff:127.0.0.2]", "::ffff:127.0.0.2 (IPv4-mapped", "127.0.0.2"),
    ("numeric", "2130706434", "127.0.0.2 (loopback", "127.0.0.2"),
    ("metadata", "169.254.169.254", "169.254.169.254 (link-local, the cloud instance metadata",
     "169.254.169.254"),
    ("rfc1918", "10.0.0.1", "10.0.0.1 (private-use, 10.0.0.0/8, RFC 1918)", "10.0.0.1"),
    ("byname", "inner.redirect.ssrf." + ZONE, "127.0.0.2 (loopback", "127.0.0.2"),
]


@pytest.mark.parametrize("label,host,says,listen", REDIRECTS, ids=[c[0] for c in REDIRECTS])
def test_redirect_to_a_special_address_is_refused(ca_dir, lab, web, label, host, says, listen):
    """The first request is allowed (127.0.0.1/32 listed as public, tests
    only) and answered by nginx with a redirect to a special-purpose
    address, as an IP literal or through DNS: refused before connecting.
    Needs the private namespace (10.0.0.1, 169.254.169.254 are on its lo): a
    listener on the redirect's address and port, shown to count, sees
    nothing."""
    lab.set("inner.redirect.ssrf." + ZONE, "A", "127.0.0.2")
    probe = Listener(listen, web.port)
    try:
        probe.check_counts()
        conf(ca_dir, lab, web.port, allow="127.0.0.1/32")
        name = f"{label}.redirect.ssrf.{ZONE}"
        o, token, content = file_order(lab, ca_dir, name, ("A", "127.0.0.1"))
        path = web.validation_path(token)
        web.put_file(path + ".real", content)  # following the redirect would succeed
        web.redirect(path, f"http://{host}:{web.port}{path}.real")
        o = validate(ca_dir, o["id"])
        assert probe.connections() == 0, "validation followed the redirect"
        assert_refused(o, name, says, "redirect only to hosts on public addresses")
        # nginx answered the first request (the redirect), and nothing else
        hits = [r for r in web.requests() if token in r["request"]]
        assert [r["status"] for r in hits] == [302], hits
    finally:
        probe.close()


def test_redirect_to_an_allowed_address_is_followed(ca_dir, lab, web):
    # the control for the test above: same settings, a redirect to a name on
    # the listed address is followed and validates
    lab.set("back.redirect.ssrf." + ZONE, "A", "127.0.0.1")
    conf(ca_dir, lab, web.port, allow="127.0.0.1/32")
    name = f"ok.redirect.ssrf.{ZONE}"
    o, token, content = file_order(lab, ca_dir, name, ("A", "127.0.0.1"))
    path = web.validation_path(token)
    web.put_file(path + ".real", content)
    web.redirect(path, f"http://back.redirect.ssrf.{ZONE}:{web.port}{path}.real")
    o = validate(ca_dir, o["id"])
    assert name_of(o, name)["validation_status"] == "valid", o
    hits = [r for r in web.requests() if token in r["request"]]
    assert [r["status"] for r in hits] == [302, 200], hits


# ---------------------------------------------------------------- redirect codes


@pytest.mark.parametrize("code", [301, 302, 307, 308])
def test_redirect_codes_that_are_followed(ca_dir, lab, web, code):
    conf(ca_dir, lab, web.port, allow_private=True)
    name = f"c{code}.codes.ssrf.{ZONE}"
    o, token, content = file_order(lab, ca_dir, name, ("A", "127.0.0.1"))
    path = web.validation_path(token)
    web.put_file(path + ".real", content)
    web.redirect(path, path + ".real", code=code)
    o = validate(ca_dir, o["id"])
    assert name_of(o, name)["validation_status"] == "valid", o


@pytest.mark.parametrize("code", [303, 300])
def test_other_redirect_codes_fail(ca_dir, lab, web, code):
    conf(ca_dir, lab, web.port, allow_private=True)
    name = f"c{code}.codes.ssrf.{ZONE}"
    o, token, content = file_order(lab, ca_dir, name, ("A", "127.0.0.1"))
    path = web.validation_path(token)
    web.put_file(path + ".real", content)  # following it would succeed
    web.redirect(path, path + ".real", code=code)
    o = validate(ca_dir, o["id"])
    assert o["status"] == "failed" and failure_code(o) == "file_unreachable", o
    msg = name_of(o, name)["failure"]["message"]
    assert f"answered HTTP {code}, a redirect validation does not follow" in msg, msg
    assert "only 301, 302, 307 and 308 are followed" in msg, msg
    assert not [r for r in web.requests() if r["request"].startswith(f"GET {path}.real ")]


# ---------------------------------------------------------------- what is said


def test_wrong_file_is_described_not_repeated(ca_dir, lab, web):
    conf(ca_dir, lab, web.port, allow_private=True)
    name = f"body.said.ssrf.{ZONE}"
    o, token, content = file_order(lab, ca_dir, name, ("A", "127.0.0.1"))
    web.put_file(web.validation_path(token), "<html>internal secret page</html>\n")
    o = validate(ca_dir, o["id"])
    msg = name_of(o, name)["failure"]["message"]
    assert failure_code(name_of(o, name)) == "validation_mismatch", o
    assert "answered 34 bytes of text/plain, not the 43-character value" in msg, msg
    assert "secret" not in msg and "<html>" not in msg, msg
    # a value of another order (the same form) is told apart
    web.put_file(web.validation_path(token), "A" * 43 + "\n")
    msg = name_of(validate(ca_dir, o["id"]), name)["failure"]["message"]
    assert "a value of the same form: perhaps an earlier order's" in msg, msg
    assert "A" * 43 not in msg, msg


def test_wrong_txt_records_are_described_not_repeated(ca_dir, lab):
    conf(ca_dir, lab, 80, allow_private=True)
    name = f"txt.said.ssrf.{ZONE}"
    o = order_apply(ca_dir, name)
    rname = o["names"][0]["challenge"]["record_name"]
    lab.set_txt(rname, "secret-internal-token", "B" * 43)
    o = validate(ca_dir, o["id"])
    n = name_of(o, name)
    msg = n["failure"]["message"]
    assert failure_code(n) == "validation_mismatch", n
    assert "None of the 2 TXT records" in msg, msg
    assert "21 characters" in msg and "43 characters" in msg, msg
    assert "form of a validation value" in msg, msg
    assert "secret" not in msg and "B" * 43 not in msg, msg


# ---------------------------------------------------------------- settings


def test_test_only_settings_are_logged_as_warnings(ca_dir, lab):
    conf(ca_dir, lab, 80, allow_private=True, allow="127.0.0.1/32, ::1/128")
    _, out, err = quill(ca_dir, "order", "list", check=0)
    assert "level=warn" in err and "setting=validation.allow_private_addresses" in err, err
    assert "setting=validation.allow_addresses" in err and "127.0.0.1/32" in err, err
    conf(ca_dir, lab, 80)
    _, out, err = quill(ca_dir, "order", "list", check=0)
    assert "test-only" not in err, err


def test_bad_allow_addresses_is_a_config_error(ca_dir, lab):
    conf(ca_dir, lab, 80, allow="127.0.0.1/33")
    err = refused(ca_dir, "order", "list", code="config_invalid", exit=2)
    assert "allow_addresses" in err["message"], err
    rc, out, _ = quill(ca_dir, "config", "check", ca_dir / "quill.conf")
    assert rc != 0, out


# ---------------------------------------------------------------- base_url (issue 6)


@pytest.mark.parametrize("base,says", [
    ("", "http://127.0.0.1:8080 is on 127.0.0.1 (loopback"),
    ("[server]\nbase_url = http://localhost:8080\n", "the local machine"),
    ("[server]\nbase_url = https://10.1.2.3/pki\n", "10.1.2.3 (private-use"),
    ("[server]\nbase_url = http://[::1]:8080\n", "::1 (loopback"),
], ids=["default", "localhost", "rfc1918", "ipv6-loopback"])
def test_public_order_refused_while_base_url_is_private(ca_dir, lab, base, says):
    conf(ca_dir, lab, 80, base=base)
    before = order_ids(ca_dir)
    for profile in ("dv", "ov"):
        extra = ()
        if profile == "ov":
            org = ca_dir / "org.json"
            org.write_text('{"organization": "Example Ltd", "country": "DE", '
                           '"locality": "Berlin"}')
            extra = ("--org-file", org)
        err = refused(ca_dir, "cert", "apply", "--profile", profile, "--name",
                      f"base.ssrf.{ZONE}", "--key", "ec256", "--method", "dns", *extra,
                      code="base_url_private")
        assert says in err["message"], err
        assert "Set [server] base_url in quill.conf" in err["message"], err
        assert f"{profile} certificates" in err["message"], err
    assert order_ids(ca_dir) == before
    # the private profile is not concerned
    ok(ca_dir, "cert", "apply", "--name", "private.example.com", "--key", "ec256")


def test_base_url_checked_again_before_signing(ca_dir, lab):
    # applied while allowed; the configuration changes before issuance
    conf(ca_dir, lab, 80, allow_private=True, base="")
    name = f"late.base.ssrf.{ZONE}"
    o = order_apply(ca_dir, name)
    lab.publish(o)
    conf(ca_dir, lab, 80, base="")
    o = validate(ca_dir, o["id"])
    assert o["status"] == "failed" and failure_code(o) == "base_url_private", o
    assert "127.0.0.1" in o["failure"]["message"], o
    assert o["certificate_id"] is None, o


def test_public_reissue_refused_while_base_url_is_private(ca_dir, lab):
    conf(ca_dir, lab, 80, allow_private=True, base="")
    _, c = issue_dv(lab, ca_dir, f"reissue.base.ssrf.{ZONE}")
    conf(ca_dir, lab, 80, base="")
    err = refused(ca_dir, "cert", "reissue", c["id"], "--same-csr", "--reason", "rotation",
                  code="base_url_private")
    assert "127.0.0.1" in err["message"], err
    assert ok(ca_dir, "cert", "show", c["id"])["certificate"]["status"] == "issued"
