"""The README's Python snippets run as written.

Each ```python block of README.md runs in a fresh interpreter (the one running the tests) from
the repository root, with a bounded time; a failure names the block by its line and first line.
Blocks in other languages (```bash and the like) are shell commands or pictures and are not run.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
TIMEOUT_S = 120

_FENCE = re.compile(r"^```(\S*)\s*$")


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(line number of the opening fence, code) of each ```python block of a Markdown text."""
    blocks = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        start, lang = i, m.group(1).lower()
        i += 1
        body = []
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        i += 1  # the closing fence
        if lang in ("python", "py", "python3"):
            blocks.append((start + 1, "\n".join(body) + "\n"))
    return blocks


BLOCKS = python_blocks(README.read_text(encoding="utf-8"))


def _first_line(code: str) -> str:
    return next((line for line in code.splitlines() if line.strip()), "")


def test_readme_has_python_blocks():
    assert BLOCKS, "README.md has no ```python block"


@pytest.mark.parametrize("lineno,code", BLOCKS, ids=[f"README.md:{n}" for n, _ in BLOCKS])
def test_readme_block_runs(lineno, code, tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.setdefault("MPLBACKEND", "Agg")
    try:
        proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"README.md:{lineno} block {_first_line(code)!r} ran past {TIMEOUT_S} s")
    if proc.returncode != 0:
        pytest.fail(f"README.md:{lineno} block {_first_line(code)!r} failed "
                    f"(exit {proc.returncode}):\n{proc.stderr[-4000:]}")
