"""Doctest namespace, and the recording of every LaTeX string the suite produces.

The final test (tests/test_katex.py, moved to the end of the run) renders everything
recorded here with KaTeX.
"""

import pytest

import matcalc
from matcalc import derivation as derivation_module
from matcalc.printing import latex as latex_module

RECORDED_LATEX: list[str] = []

_render = latex_module.LatexPrinter.render


def _recording_render(self, root):
    text = _render(self, root)
    RECORDED_LATEX.append(text)
    return text


latex_module.LatexPrinter.render = _recording_render

_view_latex = derivation_module.View.latex


def _recording_view_latex(self):
    text = _view_latex(self)
    RECORDED_LATEX.append(text)
    return text


derivation_module.View.latex = _recording_view_latex


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace):
    doctest_namespace["mc"] = matcalc


def pytest_collection_modifyitems(items):
    last = [item for item in items if item.nodeid.startswith("tests/test_katex.py")]
    items[:] = [item for item in items if item not in last] + last
