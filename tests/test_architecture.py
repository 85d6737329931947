"""The shape of the package: imports go one way (pyproject's import-linter contract), and
every module stays readable in one sitting."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).parent / "lint-imports"
MAX_LINES = 400


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT), "--config", str(cwd / "pyproject.toml"), "--no-cache"],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd)},
        capture_output=True,
        text=True,
    )


def test_imports_go_one_way():
    out = _lint(ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def test_a_wrong_arrow_breaks_the_contract(tmp_path):
    """The contract can fail: the core importing a face is reported."""
    shutil.copytree(ROOT / "search", tmp_path / "search", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "search" / "library" / "wrong.py").write_text("from search.server import app  # noqa: F401\n")
    out = _lint(tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "search.library.wrong -> search.server.app" in out.stdout


def test_no_module_is_longer_than_a_sitting():
    long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / "search").rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"modules over {MAX_LINES} lines: {long}"
