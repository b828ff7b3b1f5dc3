"""The pause points of the test build (src/base/testhook.h): only
build/quill-test has them, the normal build/quill holds no trace of them,
and a pause that is never released ends the process instead of hanging it.
"""

import re
import resource
import signal
import subprocess
from pathlib import Path

from conftest import QUILL, QUILL_TEST, REPO, apply, ok, parse_one_json, show

POINT_CALL = re.compile(r'QUILL_TEST_PAUSE\("([a-z_]+)"\)')


def pause_points():
    """Every pause point named in the sources."""
    points = set()
    for f in (REPO / "src").rglob("*.c"):
        points.update(POINT_CALL.findall(f.read_text()))
    return points


def test_the_normal_build_has_no_pause_points(pauses):
    points = pause_points()
    assert {"reissue_signed", "validate_checked", "issue_begin"} <= points, points
    traces = [b"QUILL_TEST", b"testhook", *(p.encode() for p in points)]
    normal = Path(QUILL).read_bytes()
    test_build = Path(QUILL_TEST).read_bytes()
    assert [t for t in traces if t in normal] == []
    # control: the search finds them where they are
    assert [t for t in traces if t not in test_build] == []


def test_every_pause_point_is_documented():
    doc = (REPO / "docs" / "internals" / "testing.md").read_text()
    assert [p for p in sorted(pause_points()) if f"`{p}`" not in doc] == []


def test_the_normal_build_ignores_the_pause_variable(ca_dir, pauses):
    c = apply(ca_dir, "ignore.example.com")
    p = subprocess.run([QUILL, "--data", str(ca_dir), "--json", "cert", "reissue", str(c["id"]),
                        "--same-csr", "--reason", "x"], capture_output=True, text=True,
                       env=pauses.env("reissue_signed"), timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert parse_one_json(p.stdout)["certificate"]["parent_id"] == c["id"]
    assert pauses.markers() == []


def no_core_file():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def test_a_pause_never_released_aborts_loudly(ca_dir, pauses):
    c = apply(ca_dir, "forgotten.example.com")
    env = pauses.env("reissue_signed", QUILL_TEST_PAUSE_SECONDS="1")
    p = pauses.start(ca_dir, "cert", "reissue", c["id"], "--same-csr", "--reason", "x", env=env,
                     preexec_fn=no_core_file)
    marker = pauses.wait("reissue_signed", p)
    assert marker.read_text() == f"reissue_signed {p.pid} {marker.name.split('.')[-1]}\n"
    out, err = p.communicate(timeout=30)
    assert p.returncode == -signal.SIGABRT, (p.returncode, out, err)
    assert "pause point reissue_signed" in err and "not released in time" in err, err
    # the reissue died in the middle; the next reissue cleans up after it
    assert show(ca_dir, c["id"])["status"] == "reissuing"
    new = ok(ca_dir, "cert", "reissue", c["id"], "--same-csr", "--reason", "y")["certificate"]
    assert new["parent_id"] == c["id"]
