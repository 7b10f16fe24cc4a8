"""The web page: ``matcalc serve`` starts it on http://127.0.0.1:8000/.

The server is the standard library's (``http.server``), the page plain HTML, CSS and
JavaScript in ``static/``, with KaTeX shipped beside it: it works with no network.
"""

from .server import make_server, serve

__all__ = ["make_server", "serve"]
