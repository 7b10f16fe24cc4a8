"""The code is ruff-clean and type-checks with mypy (both are among the test extras)."""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_ruff_check_is_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "matcalc", "tests", "benchmarks", "notebooks", "docs",
                             "conftest.py"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean():
    """The annotations are part of the API (matcalc/py.typed): mypy checks them, with the
    settings and the per-module baseline in pyproject.toml's [tool.mypy]."""
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
