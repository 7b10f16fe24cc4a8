"""``matcalc serve``: the web page and its JSON API, on the standard library's HTTP server.

GET ``/`` is the page; GET ``/static/...`` its files (KaTeX included: nothing comes from the
network); POST ``/api/derive`` takes ``{"expression", "types", "wrt"}`` and answers with
what :func:`matcalc.web.api.derive_request` computes, or ``{"ok": false, "error": {...}}``.

Safety: it binds to 127.0.0.1 unless told otherwise; on a loopback address it answers only
requests whose Host is that address (no DNS rebinding); a POST must be JSON from the page's
own origin; bodies, expressions and waits are bounded; each derivation runs in a worker
process that is killed past the time limit; only the files shipped in ``static/`` are served.
"""

from __future__ import annotations

import ipaddress
import json
import pathlib
import signal
import socket
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from .api import RequestError, derive_request, validate, warm_up
from .workers import Busy, TimeLimitExceeded, WorkerFailed, WorkerPool

STATIC = pathlib.Path(__file__).resolve().parent / "static"
MAX_BODY = 16 * 1024  # bytes of a POST body
MAX_PENDING = 64  # API requests being worked on or waiting for a worker (20 clients at once are served)
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
    ".woff2": "font/woff2", ".txt": "text/plain; charset=utf-8", ".md": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
}
# KaTeX sets inline styles (style attributes); everything else comes from this server only.
POLICY = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; font-src 'self'; "
          "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def static_files() -> dict:
    """URL path → file, for every file shipped in ``static/`` (read once; nothing else is served)."""
    files = {"/": STATIC / "index.html"}
    for path in STATIC.rglob("*"):
        if path.is_file() and path.suffix in CONTENT_TYPES:
            files["/static/" + path.relative_to(STATIC).as_posix()] = path
    return files


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Handler(BaseHTTPRequestHandler):
    server_version = "matcalc"
    timeout = 60  # seconds a client may take to send its request
    server: MatcalcServer

    # --- answers ---------------------------------------------------------------------------------
    def send_bytes(self, status: int, body: bytes, content_type: str, cache: str = "no-store") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", cache)
        self.send_header("Content-Security-Policy", POLICY)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status: int, data: dict) -> None:
        self.send_bytes(status, json.dumps(data, ensure_ascii=False).encode(), "application/json; charset=utf-8")

    def send_error_json(self, status: int, message: str, kind: str = "RequestError", field: str = "expression") -> None:
        self.send_json(status, {"ok": False, "error": {"kind": kind, "message": message, "caret": "", "field": field}})

    def host_allowed(self) -> bool:
        """On a loopback address only Host headers naming it (a DNS-rebound name is refused)."""
        host, port = self.server.server_address[:2]
        if not is_loopback(host):
            return True
        names = {"127.0.0.1", "localhost", "[::1]", host if ":" not in host else f"[{host}]"}
        return self.headers.get("Host", "") in {f"{name}:{port}" for name in names}

    # --- GET ---------------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        if not self.host_allowed():
            self.send_error_json(HTTPStatus.MISDIRECTED_REQUEST, "this server answers only on its loopback address")
            return
        path = urlsplit(self.path).path
        file = self.server.files.get(path)
        if file is None:
            self.send_bytes(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")
            return
        cache = "no-store" if path == "/" else "max-age=3600"
        self.send_bytes(HTTPStatus.OK, file.read_bytes(), CONTENT_TYPES[file.suffix], cache)

    do_HEAD = do_GET

    # --- POST --------------------------------------------------------------------------------
    def do_POST(self) -> None:  # noqa: N802 - the standard library's name
        self.close_connection = True  # an unread body must not be taken for the next request
        if not self.host_allowed():
            self.send_error_json(HTTPStatus.MISDIRECTED_REQUEST, "this server answers only on its loopback address")
            return
        if urlsplit(self.path).path != "/api/derive":
            self.send_error_json(HTTPStatus.NOT_FOUND, "no such API: POST /api/derive")
            return
        origin = self.headers.get("Origin")
        if origin is not None and origin != f"http://{self.headers.get('Host', '')}":
            self.send_error_json(HTTPStatus.FORBIDDEN, "requests from other sites are refused")
            return
        if self.headers.get_content_type() != "application/json":
            self.send_error_json(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send JSON (Content-Type: application/json)")
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self.send_error_json(HTTPStatus.LENGTH_REQUIRED, "a Content-Length is required")
            return
        if length < 0 or length > MAX_BODY:
            self.send_error_json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                                 f"the request is {length:,} bytes; the limit is {MAX_BODY:,}: shorten the expression")
            return
        try:
            request = validate(json.loads(self.rfile.read(length).decode("utf-8")))
        except (ValueError, UnicodeDecodeError):
            self.send_error_json(HTTPStatus.BAD_REQUEST, "the request is not JSON")
            return
        except RequestError as error:
            self.send_error_json(error.status, str(error), field=error.field)
            return
        self.answer(request)

    def answer(self, request: dict) -> None:
        if not self.server.pending.acquire(blocking=False):
            self.send_error_json(HTTPStatus.SERVICE_UNAVAILABLE,
                                 f"the server is busy ({MAX_PENDING} requests at once); try again in a moment", "Busy")
            return
        try:
            result = self.server.pool.run(derive_request, request)
        except TimeLimitExceeded:
            limit = self.server.pool.time_limit
            self.send_error_json(HTTPStatus.SERVICE_UNAVAILABLE,
                                 f"the derivation took longer than the time limit of {limit:g} s and was stopped; "
                                 "try a smaller expression (matcalc serve --time-limit raises the limit)", "TimeLimit")
            return
        except Busy as error:
            self.send_error_json(HTTPStatus.SERVICE_UNAVAILABLE, f"the server is busy: {error}; try again", "Busy")
            return
        except WorkerFailed as error:
            self.send_error_json(HTTPStatus.INTERNAL_SERVER_ERROR,
                                 f"internal error (a bug in matcalc; please report it): {error}", "InternalError")
            return
        finally:
            self.server.pending.release()
        status = result.pop("status", HTTPStatus.OK)
        self.send_json(status, result)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the standard library's signature
        if self.server.verbose:
            super().log_message(format, *args)


class MatcalcServer(ThreadingHTTPServer):
    """The HTTP server with its worker pool and its table of files."""

    daemon_threads = True

    def __init__(self, address, pool: WorkerPool, verbose: bool = False):
        self.pool = pool
        self.verbose = verbose
        self.files = static_files()
        self.pending = threading.BoundedSemaphore(MAX_PENDING)
        super().__init__(address, Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"

    def server_close(self) -> None:
        super().server_close()
        self.pool.close()


class _IPv6Server(MatcalcServer):
    address_family = socket.AF_INET6


def make_server(host: str = "127.0.0.1", port: int = 8000, time_limit: float = 10.0, workers: int = 2,
                verbose: bool = False) -> MatcalcServer:
    """A server bound to ``host:port`` (port 0: a free one), its workers starting; call serve_forever()."""
    server_class = _IPv6Server if ":" in host else MatcalcServer
    pool = WorkerPool(size=workers, time_limit=time_limit, warm_up=warm_up)
    try:
        return server_class((host, port), pool, verbose)
    except BaseException:
        pool.close()
        raise


def serve(host: str = "127.0.0.1", port: int = 8000, time_limit: float = 10.0, workers: int = 2,
          verbose: bool = False, out=None) -> None:
    """Serve the page until interrupted, printing its URL first."""
    out = out or sys.stdout
    server = make_server(host, port, time_limit, workers, verbose)
    if not is_loopback(host):
        print(f"matcalc: warning: listening on {host}, reachable from other machines", file=sys.stderr)
    print(f"matcalc: serving the web page at {server.url} (Ctrl-C to stop)", file=out, flush=True)
    if threading.current_thread() is threading.main_thread():
        # Ctrl-C and `kill` stop it, workers too, even where a shell started it with SIGINT ignored
        signal.signal(signal.SIGINT, _interrupt)
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt
