"""The generated reference pages match the binary (run `make docs` after
changing the configuration schema or the error table)."""
import subprocess
from pathlib import Path

from conftest import QUILL

ROOT = Path(__file__).resolve().parents[2]


def generated(*args):
    return subprocess.run([QUILL, *args], capture_output=True, text=True, check=True).stdout


def test_configuration_reference_is_current():
    assert generated("config", "doc") == (ROOT / "docs/configuration.md").read_text()


def test_error_reference_is_current():
    page = generated("errors")
    assert page == (ROOT / "docs/errors.md").read_text()
    for code in ("csr_malformed", "revoke_uploaded", "disk_full", "reissue_domain_locked"):
        assert f"`{code}`" in page
