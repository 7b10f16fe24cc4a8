"""Every notebook executes from top to bottom, quickly, and says nothing its outputs contradict.

Prose and outputs cannot drift apart (the conventions are in notebooks/build.py):

- every formula written in backticks in a markdown cell appears in the notebook's outputs, as
  matcalc prints it (printed text, or the text of a picture); one in a code comment appears in
  that cell's own output;
- outside backticks and $…$ LaTeX, markdown and comments contain no mathematical symbols, so no
  formula escapes the first rule;
- every LaTeX string, in the prose and in the outputs, renders in KaTeX (tests/test_katex.py renders
  the strings collected here at the end of the run);
- the stored notebooks are the ones notebooks/build.py writes, with their outputs and pictures.
"""

from __future__ import annotations

import importlib.util
import io
import pathlib
import re
import tokenize
import xml.etree.ElementTree as ET

import nbformat
import pytest
from nbclient import NotebookClient

import conftest
from tests.system_packages import debian_program

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

# Characters that make a formula; prose and comments may hold them only in backticks or $…$.
MATH = set("ᵀ⊙⊗‖∂⁻²³∘𝟏δσ∇ℓ×Σ⇒⟵")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
LATEX = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$", re.S)


def _build_module():
    spec = importlib.util.spec_from_file_location("notebook_build", ROOT / "notebooks" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BUILD = _build_module()


def _is_formula(span: str) -> bool:
    return any(not ch.isascii() for ch in span)


def _output_texts(cell) -> list[str]:
    """What a reader sees of a cell's outputs, as text: printed text, plain reprs, and the words of a picture."""
    texts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            texts.append(output.get("text", ""))
        data = output.get("data", {})
        if "text/plain" in data:
            texts.append(data["text/plain"])
        if "image/svg+xml" in data:
            root = ET.fromstring(data["image/svg+xml"])
            texts += ["".join(t.itertext()).replace("\u2060", "") for t in root.iter("{http://www.w3.org/2000/svg}text")]
    return texts


def _comments(source: str) -> list[str]:
    return [tok.string for tok in tokenize.generate_tokens(io.StringIO(source).readline) if tok.type == tokenize.COMMENT]


def _latex_outputs(cell) -> list[str]:
    found = []
    for output in cell.get("outputs", []):
        latex = output.get("data", {}).get("text/latex")
        if latex:
            found.append(latex.strip().strip("$"))
    return found


def _outside(text: str) -> str:
    """The text with its code spans, LaTeX and link targets removed."""
    text = re.sub(r"\]\([^)]*\)", "]", CODE_SPAN.sub("", text))
    return LATEX.sub("", text)


def drift(notebook) -> list[str]:
    """Every way the notebook's prose or comments disagree with its outputs (empty when they agree)."""
    problems = []
    everything = "\n".join(text for cell in notebook.cells for text in _output_texts(cell))
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            for span in CODE_SPAN.findall(cell.source):
                if _is_formula(span) and span not in everything:
                    problems.append(f"cell {index}: the prose says `{span}`, which no output shows")
            stray = sorted(set(_outside(cell.source)) & MATH)
            if stray:
                problems.append(f"cell {index}: mathematical symbols {''.join(stray)} outside backticks and $…$")
        elif cell.cell_type == "code":
            own = "\n".join(_output_texts(cell))
            for comment in _comments(cell.source):
                for span in CODE_SPAN.findall(comment):
                    if _is_formula(span) and span not in own:
                        problems.append(f"cell {index}: the comment says `{span}`, which its output does not show")
                stray = sorted(set(CODE_SPAN.sub("", comment)) & MATH)
                if stray:
                    problems.append(f"cell {index}: a comment has {''.join(stray)} outside backticks: {comment}")
    return problems


def test_there_is_a_notebook_per_seed_a_tour_and_the_examples():
    names = [p.name for p in NOTEBOOKS]
    assert len([n for n in names if n.startswith("seed_")]) == 5
    assert {"tour.ipynb", "worked_examples.ipynb", "minibatch_training.ipynb"} <= set(names)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_the_stored_notebook_is_the_built_one_with_its_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    cells = BUILD.NOTEBOOKS[path.name]
    assert [(c.cell_type[:2] if c.cell_type == "markdown" else "code", c.source) for c in notebook.cells] == [
        ("ma" if kind == "md" else "code", source) for kind, source in cells
    ], "notebooks/build.py changed: run python notebooks/build.py"
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.get("outputs") for c in code[1:]), "stored without outputs"
    assert drift(notebook) == []
    if path.name.startswith(("seed_", "worked_", "minibatch_", "tour")):  # each explains with a picture
        assert any("image/svg+xml" in o.get("data", {}) for c in code for o in c.get("outputs", [])), "no picture"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes_and_agrees_with_its_prose(path):
    assert debian_program("dot", "graphviz") is not None, "the notebooks' pictures need graphviz's dot: apt-get install graphviz"
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for cell in notebook.cells for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    assert drift(notebook) == []
    # LaTeX from the prose and from the outputs, for tests/test_katex.py
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            conftest.RECORDED_LATEX.extend(a or b for a, b in LATEX.findall(cell.source))
        conftest.RECORDED_LATEX.extend(_latex_outputs(cell))


def test_the_drift_check_catches_a_formula_its_output_contradicts():
    """seed_003 once said `2YXᵀ` in a comment while its output was 2WXXᵀ."""
    notebook = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("print(g)   # W as a free variable: `2YXᵀ`")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="2WXXᵀ\n")]
    notebook.cells = [nbformat.v4.new_markdown_cell("The gradient is `2WXXᵀ`, and not Wᵀ."), code]
    assert drift(notebook) == [
        "cell 0: mathematical symbols ᵀ outside backticks and $…$",
        "cell 1: the comment says `2YXᵀ`, which its output does not show",
    ]
