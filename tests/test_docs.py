"""The documentation: every public name documented (numpydoc, with an example that runs), and
the site in docs/ built by Sphinx with warnings as errors, offline."""

from __future__ import annotations

import doctest
import inspect
import pathlib
import re
import subprocess
import sys

import pytest

import matcalc

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
PUBLIC = sorted(matcalc.__all__)


def _object(name):
    return getattr(matcalc, name)


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_has_a_numpydoc_docstring(name):
    from numpydoc.docscrape import ClassDoc, FunctionDoc

    obj = _object(name)
    doc = ClassDoc(obj) if inspect.isclass(obj) else FunctionDoc(obj)
    assert doc["Summary"], f"mc.{name}: no summary line"
    assert doc["Examples"], f"mc.{name}: no Examples section"
    if inspect.isclass(obj):
        return
    documented = {n.strip() for p in doc["Parameters"] for n in p.name.split(",")}
    wanted = {p.lstrip("*") for p in inspect.signature(obj).parameters}
    assert wanted <= {d.lstrip("*") for d in documented}, f"mc.{name}: parameters not documented: {wanted - documented}"
    assert doc["Returns"], f"mc.{name}: no Returns section"


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_example_runs(name):
    """Each public name's examples, run as doctests with ``mc`` (the operations' functions,
    whose docstrings the registry builds, included)."""
    obj = _object(name)
    finder = doctest.DocTestFinder(recurse=False)
    tests = finder.find(obj, f"mc.{name}", globs={"mc": matcalc})
    assert any(t.examples for t in tests), f"mc.{name} has no example"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in tests:
        runner.run(test)
    assert runner.failures == 0, f"mc.{name}: {runner.failures} example(s) failed (run pytest with -s to see them)"


@pytest.mark.parametrize("name", [n for n in PUBLIC if callable(_object(n)) and not inspect.isclass(_object(n))])
def test_every_public_function_is_annotated(name):
    signature = inspect.signature(_object(name))
    missing = [p.name for p in signature.parameters.values() if p.annotation is inspect.Parameter.empty]
    assert not missing, f"mc.{name}: parameters without a type annotation: {missing}"
    assert signature.return_annotation is not inspect.Signature.empty, f"mc.{name}: no return annotation"


def test_the_package_is_typed():
    assert (ROOT / "matcalc" / "py.typed").exists()


_FENCE = re.compile(r"^```(?:pycon|python)\n(.*?)^```", re.S | re.M)


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_the_pages_examples_run(page):
    """The ``>>>`` examples on the site's pages are doctests, so the guide cannot go stale."""
    source = "\n".join(block for block in _FENCE.findall(page.read_text(encoding="utf-8")) if ">>>" in block)
    if not source:
        pytest.skip("no examples on this page")
    test = doctest.DocTestParser().get_doctest(source, {"mc": matcalc}, page.name, str(page), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0, f"{page.name}: {runner.failures} example(s) failed (run pytest with -s to see them)"


def test_the_site_builds_with_warnings_as_errors_offline(tmp_path):
    """``python -m sphinx -W -b html docs <out>``: the README's command. Warnings (a broken
    reference, a public name missing from the API page, a docstring without its numpydoc
    sections) fail the build; nothing is fetched; the notebooks keep their stored outputs."""
    out = tmp_path / "html"
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html", "-d", str(tmp_path / "doctrees"),
         str(DOCS), str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]

    for page in ("index", "getting-started", "conventions", "how-it-works", "sympy", "command-line", "api"):
        assert (out / f"{page}.html").exists(), page
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    for notebook in notebooks:
        html = (out / "notebooks" / f"{notebook.stem}.html").read_text(encoding="utf-8")
        assert "cell_output" in html, f"{notebook.name}: rendered without its outputs"

    api = (out / "api.html").read_text(encoding="utf-8")
    for name in PUBLIC:
        assert f'id="matcalc.{name}"' in api, f"mc.{name} is not in the API reference"

    # MathJax is served from the site itself, and no page asks the network for anything
    assert (out / "_static" / "mathjax" / "tex-chtml.js").exists()
    for page in out.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        loads = re.findall(r"""<(?:script|img|iframe)[^>]*\ssrc=["'](https?://[^"']*)|<link[^>]*\shref=["'](https?://[^"']*)""", text)
        assert not loads, f"{page.name} loads from the network: {loads[:3]}"
    assert "_static/mathjax/tex-chtml.js" in (out / "index.html").read_text(encoding="utf-8")
