"""Sphinx configuration of matcalc's documentation site.

Build it with ``python -m sphinx -W -b html docs docs/_build/html`` (tests/test_docs.py does, with
warnings as errors).  Nothing is fetched while building or reading: MathJax comes from the
sphinx-mathjax-offline package and is copied into the site, and the notebooks are rendered
with the outputs they are stored with (they are not executed again).
"""

from __future__ import annotations

import filecmp
import pathlib
import shutil
import sys

DOCS = pathlib.Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

import matcalc  # noqa: E402  (the checkout's, not another installed copy)

project = "matcalc"
author = "matcalc developers"
copyright = "matcalc developers, MIT licence"
release = version = matcalc.__version__

extensions = [
    "myst_nb",  # Markdown pages (MyST) and notebooks (.ipynb) with their stored outputs
    "sphinx.ext.autodoc",  # the API reference from the docstrings ...
    "numpydoc",  # ... written in numpydoc's format, validated below
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax 3 from a pip package, copied into _static: no CDN
]

# --- pages --------------------------------------------------------------------------------
exclude_patterns = ["_build", "**.ipynb_checkpoints", "README.md"]
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "off"  # the notebooks are stored executed; their outputs are what is shown
nb_merge_streams = True
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header"]  # the notebooks' own heading levels

# --- the API reference ---------------------------------------------------------------------
autodoc_typehints = "none"  # numpydoc's Parameters sections give the types in words
autodoc_member_order = "bysource"
autodoc_default_options = {"members": False}
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = False
# Every public name's docstring is validated while building: a summary line, Parameters for
# every argument, Returns, an example (docstrings with none of these fail the build, as
# warnings are errors).  The checks are numpydoc's codes (numpydoc.readthedocs.io, "validation").
numpydoc_validation_checks = {"GL08", "SS01", "PR01", "PR02", "RT01", "EX01"}
numpydoc_validation_exclude = {
    r"\.__init__$",
}

# --- HTML ----------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"matcalc {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_sidebars = {"**": ["sidebar-nav-bs"]}
html_show_sourcelink = False


# --- the notebooks: copied in from notebooks/ so there is one copy in the repository -----------
def _copy_notebooks() -> None:
    target = DOCS / "notebooks"
    target.mkdir(exist_ok=True)
    sources = {p.name: p for p in sorted((ROOT / "notebooks").glob("*.ipynb"))}
    for stale in target.glob("*.ipynb"):
        if stale.name not in sources:
            stale.unlink()
    for name, source in sources.items():
        copy = target / name
        if not copy.exists() or not filecmp.cmp(source, copy, shallow=False):
            shutil.copy2(source, copy)


_copy_notebooks()


# --- every public name in the reference -------------------------------------------------------
def _check_every_public_name_is_documented(app, env) -> None:
    documented = {name.rsplit(".", 1)[-1] for name in env.domaindata["py"]["objects"]}
    missing = sorted(set(matcalc.__all__) - documented)
    if missing:
        from sphinx.util import logging

        logging.getLogger(__name__).warning(
            "public names missing from docs/api.md (add them to a section there): %s", ", ".join(missing)
        )


def setup(app):
    app.connect("env-check-consistency", _check_every_public_name_is_documented)
