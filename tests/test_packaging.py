"""Packaging: the metadata, an sdist whose tests run, and the command's --version, jacobian
and hessian."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import tarfile

import pytest

import matcalc
from matcalc import cli

ROOT = pathlib.Path(__file__).resolve().parent.parent
tomllib = pytest.importorskip("tomllib")  # Python 3.11+; on 3.10 these tests are skipped
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_metadata_uses_an_spdx_license_and_names_its_pythons_and_urls():
    project = PYPROJECT["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert not any(c.startswith("License ::") for c in project["classifiers"])  # the SPDX expression replaces them
    versions = [c for c in project["classifiers"] if c.startswith("Programming Language :: Python :: 3.")]
    assert versions and all(c.split()[-1] >= "3.10" for c in versions)
    assert {"Homepage", "Repository", "Documentation", "Issues"} <= set(project["urls"])
    assert project["version"] == matcalc.__version__


def test_the_test_extra_holds_the_docs_build_and_mypy():
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert "matcalc-frobenius[docs]" in extras["test"] and any(r.startswith("mypy") for r in extras["test"])
    assert "torch==2.13.0" in extras["test"]


@pytest.fixture(scope="module")
def sdist(tmp_path_factory) -> pathlib.Path:
    """The sdist, built by setuptools' PEP 517 hook (what `python -m build --sdist` calls)."""
    out = tmp_path_factory.mktemp("sdist")
    result = subprocess.run(
        [sys.executable, "-c", f"from setuptools import build_meta; print(build_meta.build_sdist({str(out)!r}))"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out / result.stdout.strip().splitlines()[-1]


def _members(sdist: pathlib.Path) -> set[str]:
    with tarfile.open(sdist) as archive:
        return {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}


def test_the_sdist_holds_what_its_tests_need(sdist):
    members = _members(sdist)
    needed = {"conftest.py", "pyproject.toml", "README.md", "LICENSE", "matcalc/py.typed", "docs/conf.py"}
    for folder in ("tests", "notebooks", "benchmarks", "docs"):
        needed |= {str(p.relative_to(ROOT)) for p in (ROOT / folder).rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts and "_build" not in p.parts
                   and not (folder == "docs" and p.parent.name == "notebooks") and not p.name.startswith(".")
                   and p.suffix not in (".pyc",)}
    missing = sorted(needed - members)
    assert not missing, f"the sdist lacks {missing[:10]}"
    with tarfile.open(sdist) as archive:
        info = archive.extractfile(next(m for m in archive.getmembers() if m.name.endswith("/PKG-INFO"))).read().decode()
    assert "License-Expression: MIT" in info and "Classifier: Typing :: Typed" in info


def test_pytest_runs_from_the_unpacked_sdist(sdist, tmp_path):
    """A part of the suite, from the unpacked sdist, importing the sdist's own matcalc."""
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path, filter="data")
    unpacked = next(tmp_path.iterdir())
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    probe = "import matcalc, sys; print(matcalc.__file__)"
    result = subprocess.run([sys.executable, "-c", probe], cwd=unpacked, capture_output=True, text=True, env=env, timeout=120)
    assert result.stdout.strip().startswith(str(unpacked)), result.stdout + result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_parse.py", "tests/test_interop.py",
         "matcalc/expr.py", "-x"],
        cwd=unpacked, capture_output=True, text=True, env=env, timeout=600,
    )
    assert result.returncode == 0 and "[100%]" in result.stdout, result.stdout[-3000:] + result.stderr[-2000:]


# --- the command: --version, jacobian, hessian ------------------------------------------------


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"matcalc {matcalc.__version__} (matcalc-frobenius)"


def test_jacobian_prints_the_closed_form(capsys):
    code, out, _ = run(capsys, "jacobian", "softmax(z)", "--wrt", "z")
    assert code == 0 and out.strip() == "∂/∂z = diag(softmax(z)) − softmax(z)softmax(z)ᵀ"


def test_hessian_with_check_latex_and_json(capsys):
    code, out, _ = run(capsys, "hessian", "x'*A*x + sum(tanh(B*x))", "--wrt", "x", "--check")
    assert code == 0 and "∂²/∂x² = A + Aᵀ" in out and "OK" in out
    code, out, _ = run(capsys, "hessian", "x'*A*x", "--wrt", "x", "--latex")
    assert code == 0 and "{A}^\\top" in out
    code, out, _ = run(capsys, "jacobian", "tanh(W*x)", "--wrt", "x", "--json", "--check")
    result = json.loads(out)
    assert code == 0 and result["jacobians"]["x"] == "diag(𝟏 − tanh(Wx)²)W" and result["check"]["x"]["ok"]
    assert result["latex"]["x"].startswith("\\operatorname{diag}")


def test_jacobian_of_a_matrix_variable(capsys):
    code, out, _ = run(capsys, "jacobian", "A*X", "--wrt", "X", "--check")
    assert code == 0 and "OK" in out


@pytest.mark.parametrize(
    "argv",
    [
        ("jacobian", "softmax(z)"),  # no --wrt
        ("hessian", "x'*A*x", "--wrt", "q"),  # no such variable
        ("hessian", "x'*A*x +", "--wrt", "x"),  # a parse error
        ("hessian", "A*x", "--wrt", "x"),  # not a scalar
        ("jacobian", "softmax(z)", "--wrt", "z", "--var", "z"),  # --var without =
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err


def test_a_failed_check_is_exit_code_1(capsys, monkeypatch):
    from matcalc import cli as cli_module

    class Failed:
        ok, max_abs_error, max_rel_error = False, 1.0, 1.0

        def __str__(self):
            return "FAILED"

    monkeypatch.setattr(cli_module, "check_jacobian", lambda *a, **k: Failed())
    code, out, _ = run(capsys, "jacobian", "softmax(z)", "--wrt", "z", "--check")
    assert code == 1 and "FAILED" in out


def test_the_installed_command_answers_version():
    result = subprocess.run([sys.executable, "-m", "matcalc", "--version"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.startswith("matcalc ")
