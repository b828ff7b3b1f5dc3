"""A private network namespace for the system tests that name special-purpose
addresses (10.0.0.5, 169.254.169.254, ...): whatever the code under test
does, no packet can leave this machine (docs/internals/testing.md, "Network
isolation").

The namespace is the one scripts/netns-run.sh describes and sets up: its own
loopback device `lo`, holding the special-purpose addresses the tests use,
no other device and no route. A connection to an address that is not on
`lo` fails at once (ENETUNREACH, nothing sent); one to an address on `lo`
can only reach a listener inside the namespace, where a test counts it.

How a test module uses it:

    from netns import private_network
    netns = private_network()      # module fixture, autouse

The fixture moves the test process's main thread (the one pytest runs tests
on) into a new namespace for the whole module and back at its end. Network
namespaces belong to threads, and a process or thread inherits the one of
the thread that starts it, so everything the module's tests and fixtures
start runs inside: quill, Knot, Unbound, nginx (tests/system/knot.py and
nginx.py need no change), and every socket the test opens (readiness probes,
counting listeners). No name is registered (no `ip netns add`): the
namespace lives while a process in it or a descriptor of it does, so a test
run killed midway leaves nothing behind.

Needs root (CAP_SYS_ADMIN) and iproute2; without them the module's tests
fail with a sentence saying so, never skip, and never run outside.
"""

import ctypes
import errno
import ipaddress
import os
import socket
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SETUP = REPO / "scripts" / "netns-run.sh"
CLONE_NEWNET = 0x40000000
# not set up in the namespace: unreachable there (scripts/netns-run.sh)
UNBOUND = "10.0.0.99"
UNBOUND6 = "2001:db8::99"

_libc = ctypes.CDLL(None, use_errno=True)
_private = set()  # inode numbers of the namespaces made here


def _this_thread():
    return os.stat("/proc/thread-self/ns/net").st_ino


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"setns(CLONE_NEWNET): {os.strerror(e)}")


def inside_private():
    """True when the calling thread is in a namespace made by NetNS."""
    return _this_thread() in _private


def require_private(host):
    """Fails unless the calling thread is in a private namespace or `host`
    is a loopback or unspecified address: a test helper calls it before it
    binds or connects to `host`."""
    if ipaddress.ip_address(host.split("%")[0]).is_loopback or inside_private():
        return
    pytest.fail(f"{host} is not a loopback address: only a test inside a private network "
                "namespace (tests/system/netns.py) may use it", pytrace=False)


def isolation_problem():
    """What makes the calling thread's namespace unfit (a sentence), or None.
    Sends nothing: it lists the devices and asks for a route with a UDP
    connect(), which only looks the route up."""
    names = sorted(n for _, n in socket.if_nameindex())
    if names != ["lo"]:
        return f"it holds the network devices {', '.join(names)}, not only lo"
    for host, fam in ((UNBOUND, socket.AF_INET), (UNBOUND6, socket.AF_INET6)):
        with socket.socket(fam, socket.SOCK_DGRAM) as s:
            try:
                s.connect((host, 9))
            except OSError as e:
                if e.errno == errno.ENETUNREACH:
                    continue
                return f"{host} is not unreachable ({e})"
            return f"there is a route to {host}"
    return None


class NetNS:
    """A new network namespace set up by scripts/netns-run.sh --setup. The
    calling thread stays where it was; enter() and leave() move it."""

    def __init__(self):
        self._host = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        self._fd = None
        if _libc.unshare(CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            os.close(self._host)
            pytest.fail(f"cannot create a private network namespace (unshare: {os.strerror(e)}):"
                        " the tests that name special-purpose addresses run only inside one; "
                        "run them as root (CAP_SYS_ADMIN)", pytrace=False)
        try:
            self._fd = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
            self.inode = os.fstat(self._fd).st_ino
            p = subprocess.run([str(SETUP), "--setup"], capture_output=True, text=True,
                               timeout=30)
            problem = (p.stderr.strip() or f"exit {p.returncode}") if p.returncode else None
            problem = problem or isolation_problem()
        finally:
            _setns(self._host)  # back, whatever happened
        if problem:
            self.close()
            pytest.fail(f"the private network namespace is not isolated: {problem}",
                        pytrace=False)
        _private.add(self.inode)

    def enter(self):
        _setns(self._fd)
        assert _this_thread() == self.inode

    def leave(self):
        _setns(self._host)
        assert _this_thread() != self.inode

    def holds(self, pid):
        """True when process `pid` runs in this namespace."""
        return os.stat(f"/proc/{pid}/ns/net").st_ino == self.inode

    def close(self):
        _private.discard(getattr(self, "inode", None))
        for fd in (self._fd, self._host):
            if fd is not None:
                os.close(fd)
        self._fd = self._host = None


def private_network():
    """A module-scoped autouse fixture: every test of the module (and every
    fixture it uses) runs inside one new private network namespace. Assign
    it to a module-level name: `netns = private_network()`."""

    @pytest.fixture(scope="module", autouse=True)
    def netns():
        ns = NetNS()
        ns.enter()
        try:
            yield ns
        finally:
            ns.leave()
            ns.close()

    return netns
