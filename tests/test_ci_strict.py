"""In CI (``CI=true``) a reference that cannot be imported fails the tests that need it;
elsewhere they skip, saying why (tests/conftest.py, scripts/setup.sh)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
PROBE = '''
import pytest

def test_needs_a_reference():
    pytest.importorskip("nest.no_such_module_for_the_ci_probe")

def test_needs_something_else():
    pytest.importorskip("no_such_module_for_the_ci_probe")
'''


def _run(tmp_path: Path, ci: str) -> str:
    (tmp_path / "test_probe.py").write_text(PROBE)
    env = {**os.environ, "CI": ci, "PYTHONPATH": str(TESTS)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "-p", "conftest",
                           "-p", "no:cacheprovider", str(tmp_path / "test_probe.py")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    return done.stdout


@pytest.mark.parametrize(("ci", "outcome"), [("true", "1 failed, 1 skipped"),
                                             ("", "2 skipped")])
def test_missing_reference_fails_only_in_ci(tmp_path: Path, ci: str, outcome: str) -> None:
    out = _run(tmp_path, ci)
    assert outcome in out, out
    if ci:
        assert "CI=true: reference 'nest.no_such_module_for_the_ci_probe'" in out


def test_setup_fails_in_ci_when_a_reference_does_not_install() -> None:
    script = (TESTS.parent / "scripts" / "setup.sh").read_text()
    start = script.index("case \"${CI:-}\"")
    end = script.index("\n}\n", start) + 3
    body = script[start:end] + "false || missing 'nest-simulator failed'\necho carried-on\n"
    for ci, rc in (("true", 1), ("", 0)):
        done = subprocess.run(["bash", "-c", "set -euo pipefail\n" + body], capture_output=True,
                              text=True, env={**os.environ, "CI": ci}, timeout=30)
        assert done.returncode == rc, done.stderr
        assert "nest-simulator failed" in done.stderr
        assert ("carried-on" in done.stdout) == (rc == 0)
