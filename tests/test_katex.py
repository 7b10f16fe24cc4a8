"""Every LaTeX string the suite produced renders in KaTeX with throwOnError: true.

This test runs last (see conftest.py).  Without node or KaTeX it fails and says how to
install them; nothing is skipped silently.
"""

from __future__ import annotations

import conftest
from tests.katex import missing_reason, render_failures


def test_all_latex_renders_in_katex():
    reason = missing_reason()
    assert reason is None, f"cannot render LaTeX: {reason}"
    strings = sorted(set(conftest.RECORDED_LATEX))
    assert len(strings) > 20, "the suite produced suspiciously little LaTeX"
    failures = render_failures(strings)
    assert failures == [], "\n".join(f"{f['error']}\n    {f['latex']}" for f in failures[:10])
