"""Rendering LaTeX with KaTeX (node + the npm package), as a reader's browser would."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent


def katex_dir() -> pathlib.Path | None:
    candidates = [os.environ.get("MATCALC_KATEX_DIR"), ROOT / ".ci" / "node" / "node_modules" / "katex"]
    for candidate in candidates:
        if candidate and (pathlib.Path(candidate) / "package.json").exists():
            return pathlib.Path(candidate)
    return None


def missing_reason() -> str | None:
    """Why KaTeX cannot run, or None; the first run installs the npm package when npm exists."""
    if shutil.which("node") is None:
        return "node is not installed"
    if katex_dir() is None and shutil.which("npm") is not None:
        subprocess.run(
            ["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(ROOT / ".ci" / "node"), "katex@0.16"],
            capture_output=True, timeout=300, check=False,
        )
    if katex_dir() is None:
        return "the katex npm package is not installed, and npm could not install it (npm install --prefix .ci/node katex@0.16)"
    return None


def render_failures(latex_strings: list[str]) -> list[dict]:
    """The strings KaTeX refuses, each with its error."""
    result = subprocess.run(
        ["node", str(ROOT / "tests" / "render_katex.js"), str(katex_dir())],
        input=json.dumps(latex_strings),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(result.stdout)
