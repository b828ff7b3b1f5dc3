"""Real DNS servers for the system tests: Knot DNS (authoritative) and, in
front of it, an Unbound recursive resolver, both on loopback ports picked
free, both stopped at teardown.

How quill reaches them. quill sends every query to one forwarder
([dns] resolver = HOST:PORT, libunbound in forward mode). Two choices:

- `knot.addr`: Knot itself. Knot answers authoritatively and libunbound in
  forward mode accepts that; it asks again for a CNAME target in another
  zone, so plain zones, CNAME chains and DNSSEC (quill validates itself)
  all work. But a forwarder is taken to recurse: a referral from it is
  treated as the final answer (NODATA), so a delegation to a dead server
  cannot be seen this way.
- `Recursor(...).addr`: the `unbound` daemon, a real recursive resolver. Its
  root is `forward-zone: "."` to Knot (so every name stays on loopback and
  unknown TLDs get the NXDOMAIN of Knot's own root zone), and each TLD that
  Knot serves is a `stub-zone` pointing at Knot, so it iterates from Knot's
  answers and follows delegations; a delegation to an address where nothing
  listens then ends in SERVFAIL (infra-cache-max-rtt keeps that to about
  two seconds). It does no DNSSEC validation and caches nothing
  (cache-max-ttl 0), so quill sees what Knot serves, and changes made with
  knotc, at once. This is the default in the tests: it is what production
  looks like (quill -> recursive resolver -> authoritative servers).

Zones: `Knot.add_zone(name, records, signed=False)` before or after start()
(after: through `knotc conf-begin/conf-set/conf-commit`). The root zone and
the zone of every TLD used are created automatically (empty but for SOA and
NS) so the CAA climb meets real answers all the way up. Apex NS records name
`ns.invalid.`, so no resolver ever learns a port-53 address for them. TTLs
default to 0. A zone with signed=True is signed by Knot (dnssec-signing:
on, default policy, ECDSA P-256); `trust_anchor(zone)` gives the DS lines a
resolver must trust, `bad_trust_anchor(zone)` the same with a wrong digest,
so validation fails with "DS hash mismatches key" (bogus).

Records at run time (the validation flow uses these):
`set_records(zone, owner, rtype, *rdata)`, `add_record`, `remove_records`,
each one knotc zone transaction (zone-begin / zone-set|zone-unset /
zone-commit). `caa(flags, tag, value)` and `caa_raw(hex)` give CAA rdata in
the generic RFC 3597 form, so tests control the exact bytes (upper-case
tags, malformed records).

Other helpers: `BlackHole()` is a UDP+TCP address that never answers (for
timeouts); `dead_address()` a loopback address where nothing listens on
port 53 (for dead delegations); `query(addr, name, qtype)` a minimal DNS
client for readiness checks and assertions.

Needs knotd, knotc, keymgr (Debian: knot) and unbound (Debian: unbound).
"""

import os
import random
import shutil
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest

KNOTD = shutil.which("knotd") or "/usr/sbin/knotd"
KNOTC = shutil.which("knotc") or "/usr/sbin/knotc"
KEYMGR = shutil.which("keymgr") or "/usr/sbin/keymgr"
UNBOUND = shutil.which("unbound") or "/usr/sbin/unbound"

START_TIMEOUT = 20.0


def _need(path, package):
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} not found: install the Debian package '{package}' "
                    "(scripts/deps.sh test)", pytrace=False)


def free_port(host="127.0.0.1"):
    """A port free for both UDP and TCP on `host`."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind((host, 0))
            port = t.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                    u.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def fqdn(name):
    return name if name.endswith(".") else name + "."


# ------------------------------------------------------------ a DNS client


def _qname(name):
    out = b""
    for label in fqdn(name).rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


QTYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "TXT": 16, "AAAA": 28, "DNSKEY": 48,
          "CAA": 257}


def query(addr, name, qtype="A", timeout=1.0, dnssec=False):
    """One UDP query to "HOST:PORT"; returns (rcode, aa, ancount) or None
    when nothing answered in time."""
    host, port = addr.rsplit(":", 1)
    qid = random.randrange(65536)
    t = QTYPES.get(qtype, qtype) if isinstance(qtype, str) else qtype
    msg = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 1 if dnssec else 0)
    msg += _qname(name) + struct.pack(">HH", t, 1)
    if dnssec:
        msg += b"\0" + struct.pack(">HHIH", 41, 1232, 0x8000, 0)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.sendto(msg, (host, int(port)))
            while True:
                data, _ = s.recvfrom(65535)
                if len(data) >= 12 and struct.unpack(">H", data[:2])[0] == qid:
                    break
        except (socket.timeout, ConnectionRefusedError):
            return None
    flags, _, an = struct.unpack(">HHH", data[2:8])
    return flags & 0xF, bool(flags & 0x0400), an


def wait_until(what, pred, timeout=START_TIMEOUT, proc=None, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            text = Path(log).read_text(errors="replace")[-3000:] if log else ""
            raise RuntimeError(f"{what}: the server exited ({proc.returncode})\n{text}")
        if pred():
            return
        time.sleep(0.02)
    text = Path(log).read_text(errors="replace")[-3000:] if log else ""
    raise RuntimeError(f"{what}: not ready after {timeout} s\n{text}")


# ------------------------------------------------------------ record data


def caa(flags, tag, value):
    """CAA rdata in the generic form (RFC 3597), bytes exactly as given."""
    if isinstance(value, str):
        value = value.encode()
    tag = tag.encode() if isinstance(tag, str) else tag
    return caa_raw(bytes([flags, len(tag)]) + tag + value)


def caa_raw(data):
    """Generic-form rdata of any bytes (for malformed records)."""
    if isinstance(data, str):
        data = bytes.fromhex(data)
    return f"\\# {len(data)} {data.hex()}" if data else "\\# 0"


def txt(value):
    """TXT rdata for one string, quoted for a zone file or knotc."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ------------------------------------------------------------ Knot


class Knot:
    """One knotd in the foreground, with its own rundir and storage under
    `workdir`, listening on host:port (UDP and TCP)."""

    def __init__(self, workdir, host="127.0.0.1", port=None):
        _need(KNOTD, "knot")
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.host = host
        self.port = port or free_port(host)
        self.addr = f"{host}:{self.port}"
        self.sock = str(self.dir / "knot.sock")
        self.conf = self.dir / "knot.conf"
        self.log = self.dir / "knotd.log"
        self.zones = {}  # fqdn -> signed
        self.proc = None
        self._ensure_zone(".")

    # -- zones

    def _zone_file(self, zone):
        return self.dir / ("root.zone" if zone == "." else zone.rstrip(".") + ".zone")

    def _write_zone(self, zone, records, ttl):
        origin = fqdn(zone)
        lines = [f"$ORIGIN {origin}", f"$TTL {ttl}",
                 f"@ SOA ns.invalid. hostmaster.invalid. 1 3600 600 86400 {ttl}",
                 "@ NS ns.invalid."]
        if isinstance(records, str):
            lines.append(records)
        else:
            for r in records or ():
                lines.append(" ".join(r) if isinstance(r, (tuple, list)) else r)
        self._zone_file(origin).write_text("\n".join(lines) + "\n")

    def _ensure_zone(self, zone):
        z = fqdn(zone) if zone != "." else "."
        if z not in self.zones:
            self._write_zone(z, (), 0)
            self.zones[z] = False
            if self.proc is not None:
                self._conf_add_zone(z, False)

    def add_zone(self, name, records=(), signed=False, ttl=0):
        """Serves zone `name` with `records`: zone-file lines relative to the
        zone ("www CAA 0 issue \\"ca.test\\"") or (owner, type, rdata)
        tuples. Its TLD gets an (empty) zone too."""
        z = fqdn(name)
        labels = z.rstrip(".").split(".")
        if len(labels) > 1:
            self._ensure_zone(labels[-1] + ".")
        self._write_zone(z, records, ttl)
        existed = z in self.zones
        self.zones[z] = signed
        if self.proc is not None:
            if existed:
                self.knotc("zone-reload", z)
            else:
                self._conf_add_zone(z, signed)
            self.wait_zone(z)
        return z

    def _conf_add_zone(self, z, signed):
        self.knotc("conf-begin")
        try:
            self.knotc("conf-set", f"zone[{z}]")
            self.knotc("conf-set", f"zone[{z}].file", str(self._zone_file(z)))
            if signed:
                self.knotc("conf-set", f"zone[{z}].dnssec-signing", "on")
            self.knotc("conf-commit")
        except Exception:
            self.knotc("conf-abort", check=False)
            raise

    def tlds(self):
        return sorted({z.rstrip(".").split(".")[-1] + "." for z in self.zones if z != "."})

    # -- life cycle

    def _write_conf(self):
        zones = []
        for z, signed in self.zones.items():
            zones.append(f"  - domain: \"{z}\"\n    file: \"{self._zone_file(z)}\"")
            if signed:
                zones.append("    dnssec-signing: on")
        self.conf.write_text(
            "server:\n"
            f"    rundir: \"{self.dir}\"\n"
            f"    listen: {self.host}@{self.port}\n"
            "    background-workers: 1\n"
            "log:\n"
            "  - target: stderr\n"
            "    any: info\n"
            "database:\n"
            f"    storage: \"{self.dir}\"\n"
            "control:\n"
            f"    listen: \"{self.sock}\"\n"
            "template:\n"
            "  - id: default\n"
            f"    storage: \"{self.dir}\"\n"
            "    zonefile-sync: -1\n"
            "    zonefile-load: whole\n"
            "    journal-content: none\n"
            "    semantic-checks: off\n"
            "zone:\n" + "\n".join(zones) + "\n")

    def start(self):
        self._write_conf()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([KNOTD, "-c", str(self.conf)], stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        for z in self.zones:
            self.wait_zone(z)
        return self

    def wait_zone(self, zone):
        z = fqdn(zone) if zone != "." else "."

        def ready():
            r = query(self.addr, z, "SOA", timeout=0.2)
            if not r or r[0] != 0 or not r[1] or r[2] < 1:
                return False
            if self.zones.get(z):
                k = query(self.addr, z, "DNSKEY", timeout=0.2, dnssec=True)
                return bool(k and k[0] == 0 and k[2] >= 2)
            return True

        wait_until(f"knotd zone {z}", ready, proc=self.proc, log=self.log)

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- control

    def knotc(self, *args, check=True):
        p = subprocess.run([KNOTC, "-s", self.sock, "-t", "10", *[str(a) for a in args]],
                           capture_output=True, text=True, timeout=30)
        if check and (p.returncode != 0 or "error" in p.stdout.lower()):
            raise RuntimeError(f"knotc {' '.join(map(str, args))}: exit {p.returncode}\n"
                               f"{p.stdout}{p.stderr}")
        return p

    def _txn(self, zone, ops):
        z = fqdn(zone)
        self.knotc("zone-begin", z)
        try:
            for op in ops:
                self.knotc(*op[:-1], check=op[-1])
            self.knotc("zone-commit", z)
        except Exception:
            self.knotc("zone-abort", z, check=False)
            raise

    @staticmethod
    def _owner(zone, owner):
        z = fqdn(zone)
        if owner in ("@", "", z):
            return z
        return owner if owner.endswith(".") else f"{owner}.{z}"

    def set_records(self, zone, owner, rtype, *rdata, ttl=0):
        """Replaces the `rtype` records at `owner` (relative to `zone`, or
        absolute with a trailing dot) with `rdata` (none: removes them)."""
        z, o = fqdn(zone), self._owner(zone, owner)
        ops = [("zone-unset", z, o, rtype, False)]
        ops += [("zone-set", z, o, ttl, rtype, r, True) for r in rdata]
        self._txn(z, ops)

    def add_record(self, zone, owner, rtype, rdata, ttl=0):
        z = fqdn(zone)
        self._txn(z, [("zone-set", z, self._owner(zone, owner), ttl, rtype, rdata, True)])

    def remove_records(self, zone, owner, rtype=None, rdata=None):
        z = fqdn(zone)
        op = ["zone-unset", z, self._owner(zone, owner)]
        if rtype:
            op.append(rtype)
            if rdata:
                op.append(rdata)
        self._txn(z, [(*op, False)])

    # -- DNSSEC

    def trust_anchor(self, zone):
        """The DS records of a signed zone, as trust-anchor lines."""
        p = subprocess.run([KEYMGR, "-c", str(self.conf), fqdn(zone), "ds"],
                           capture_output=True, text=True, timeout=30)
        lines = [ln for ln in p.stdout.splitlines() if " DS " in ln]
        if p.returncode != 0 or not lines:
            raise RuntimeError(f"keymgr {zone} ds: {p.stdout}{p.stderr}")
        return "\n".join(lines) + "\n"

    def bad_trust_anchor(self, zone):
        """DS records of `zone` whose digests no longer match its key."""
        out = []
        for ln in self.trust_anchor(zone).splitlines():
            head, digest = ln.rsplit(" ", 1)
            flipped = ("0" if digest[0] != "0" else "1") + digest[1:]
            out.append(f"{head} {flipped}")
        return "\n".join(out) + "\n"


# ------------------------------------------------------------ Unbound


class Recursor:
    """The unbound daemon as a recursive resolver over `knot` (see the
    module docstring). Call after the zones are added: each TLD then
    served by Knot becomes a stub zone (zones in new TLDs added later are
    still answered, through the root forward, but without delegations)."""

    def __init__(self, workdir, knot, host="127.0.0.1", port=None):
        _need(UNBOUND, "unbound")
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.knot = knot
        self.host = host
        self.port = port or free_port(host)
        self.addr = f"{host}:{self.port}"
        self.conf = self.dir / "unbound.conf"
        self.log = self.dir / "unbound.log"
        self.proc = None

    def _write_conf(self):
        k = f"{self.knot.host}@{self.knot.port}"
        stubs = "".join(f"stub-zone:\n    name: \"{t}\"\n    stub-addr: {k}\n"
                        for t in self.knot.tlds())
        nodefault = "".join(f"    local-zone: \"{z}\" nodefault\n"
                            for z in ("test.", "invalid.", "localhost.", "onion.",
                                      "home.arpa."))
        self.conf.write_text(
            "server:\n"
            f"    interface: {self.host}@{self.port}\n"
            f"    port: {self.port}\n"
            "    do-daemonize: no\n"
            "    use-syslog: no\n"
            "    logfile: \"\"\n"
            "    verbosity: 1\n"
            "    username: \"\"\n"
            "    chroot: \"\"\n"
            f"    directory: \"{self.dir}\"\n"
            f"    pidfile: \"{self.dir / 'unbound.pid'}\"\n"
            "    num-threads: 1\n"
            "    access-control: 127.0.0.0/8 allow\n"
            "    do-ip6: no\n"
            "    do-not-query-localhost: no\n"
            "    module-config: \"iterator\"\n"
            "    qname-minimisation: no\n"
            "    cache-max-ttl: 0\n"
            "    cache-max-negative-ttl: 0\n"
            "    infra-cache-max-rtt: 1000\n"
            "    infra-keep-probing: yes\n"
            "    outbound-msg-retry: 1\n"
            "    unblock-lan-zones: yes\n"
            + nodefault +
            "remote-control:\n"
            "    control-enable: no\n"
            "forward-zone:\n"
            "    name: \".\"\n"
            f"    forward-addr: {k}\n" + stubs)

    def start(self):
        self._write_conf()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([UNBOUND, "-d", "-c", str(self.conf)], stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

        def ready():
            r = query(self.addr, ".", "SOA", timeout=0.2)
            return bool(r and r[0] == 0)

        wait_until("unbound", ready, proc=self.proc, log=self.log)
        return self

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# ------------------------------------------------------------ dead ends


class BlackHole:
    """A loopback UDP + TCP address that takes queries and never answers:
    a forwarder that times out."""

    def __init__(self, host="127.0.0.1"):
        self.host = host
        self.port = free_port(host)
        self.addr = f"{host}:{self.port}"
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((host, self.port))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind((host, self.port))
        self.tcp.listen(16)

    def close(self):
        self.udp.close()
        self.tcp.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _listening_on_53(ip):
    """True when a UDP or TCP socket is bound to port 53 on `ip` or on every
    address (from /proc/net)."""
    want = {"00000000", "".join(f"{int(b):02X}" for b in reversed(ip.split(".")))}
    for f in ("/proc/net/udp", "/proc/net/tcp"):
        try:
            lines = Path(f).read_text().splitlines()[1:]
        except OSError:
            continue
        for ln in lines:
            local = ln.split()[1]
            addr, port = local.split(":")
            if port == "0035" and addr in want:
                return True
    return False


def dead_address():
    """A loopback address where nothing listens on port 53 (a delegation's
    glue pointing there is a dead server)."""
    for _ in range(50):
        ip = f"127.{random.randrange(1, 255)}.{random.randrange(1, 255)}.{random.randrange(2, 254)}"
        if not _listening_on_53(ip):
            return ip
    pytest.fail("every probed loopback address has a DNS server on port 53", pytrace=False)


# ------------------------------------------------------------ quill's config


def quill_conf(path, resolver, trust_anchor_file="", timeout_ms=3000, retries=0,
               identities="ca.test", climb_past_inapplicable=True, extra=""):
    """Writes a quill configuration for DNS tests; returns its path."""
    Path(path).write_text(
        "[dns]\n"
        f"resolver = {resolver}\n"
        f"timeout_ms = {timeout_ms}\n"
        f"retries = {retries}\n"
        f"trust_anchor_file = {trust_anchor_file}\n"
        "[caa]\n"
        f"identities = {identities}\n"
        f"climb_past_inapplicable = {'true' if climb_past_inapplicable else 'false'}\n"
        + extra)
    return Path(path)
