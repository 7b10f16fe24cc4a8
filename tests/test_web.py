"""The web page (``matcalc serve``): its JSON API, its safety limits, and the page itself in a
real browser (Debian's headless Chromium driven by playwright-core through node).

One server, started with the real command on a free loopback port, serves the whole module.
The browser tests need node, Chromium and the playwright-core npm package: .ci/run installs
them, and so does the first browser test where apt-get and npm can run; without them the tests
fail and say what is missing (they do not skip).
"""

from __future__ import annotations

import fnmatch
import json
import os
import pathlib
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from matcalc.web.server import POLICY, STATIC
from matcalc.web.workers import TimeLimitExceeded, WorkerPool
from tests.system_packages import debian_program

ROOT = pathlib.Path(__file__).resolve().parent.parent
TIME_LIMIT = 8  # seconds; ordinary derivations here take well under one
# The elementwise oracle of this takes minutes (with 14 factors: 60 s on the machine the test was written on)
SLOW = "sum(tanh(" + "*".join(["X"] * 20) + "))"
REQUEST_TIMEOUT = 300  # seconds for one HTTP request; the first waits for the workers to import jax and torch
SCREENSHOTS = pathlib.Path("/tmp")


# --- the server ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    """``matcalc serve --port 0`` in a subprocess: yields its URL, stops it with Ctrl-C at the end."""
    command = [sys.executable, "-m", "matcalc.cli", "serve", "--port", "0", "--workers", "2",
               "--time-limit", str(TIME_LIMIT)]
    log = open(SCREENSHOTS / "matcalc-web-server.log", "w")  # closed below
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
    try:
        first = lines.get(timeout=120)
    except queue.Empty:
        first = ""
    match = re.search(r"(http://\S+/)", first)
    if not match:
        process.kill()
        pytest.fail(f"matcalc serve printed no URL: {first!r} (log in {log.name})")
    url = match.group(1)
    assert url.startswith("http://127.0.0.1:")
    yield url
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)
    log.close()


def post(url: str, payload, headers: dict | None = None, raw: bytes | None = None) -> tuple[int, dict]:
    body = raw if raw is not None else json.dumps(payload).encode()
    request = urllib.request.Request(url + "api/derive", data=body, method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


# --- the API -------------------------------------------------------------------------------------


def test_derive_answers_with_the_closed_form_views_check_and_code(server):
    status, data = post(server, {"expression": "x'*S*x", "types": "S=symmetric", "wrt": ["x"]})
    assert status == 200 and data["ok"]
    assert data["gradients"][0]["text"] == "2Sx"  # d(xᵀSx) = 2Sx for symmetric S
    assert [v["name"] for v in data["views"]] == ["differential", "backprop", "index", "jacobian"]
    assert all(v["latex"].startswith("\\begin{align*}") for v in data["views"])
    assert data["check"]["ok"] and len(data["check"]["reports"]) == 2
    assert all(r["worst"].startswith("x[") for r in data["check"]["reports"])
    assert [c["backend"] for c in data["code"]] == ["numpy", "jax", "torch"]
    for code in data["code"]:
        assert "def value_and_grad(" in code["source"] if code["ok"] else code["error"]
    assert {v["name"]: v["kind"] for v in data["variables"]} == {"x": "vector", "S": "symmetric"}


def test_a_parse_error_comes_with_its_caret_and_a_fix(server):
    text = "sum(sigmod(W*x))"
    status, data = post(server, {"expression": text})
    assert status == 400 and not data["ok"]
    error = data["error"]
    assert "did you mean sigmoid?" in error["message"] and error["position"] == text.index("sigmod")
    source, caret = error["caret"].splitlines()
    assert source.strip() == text and caret.index("^") == source.index("sigmod")
    assert error["fix"] == "sum(sigmoid(W*x))"


def test_hostile_names_come_back_as_plain_text(server):
    _, data = post(server, {"expression": "x'*x", "wrt": ['"onerror=alert(1)']})
    assert '"onerror=alert(1)' in data["error"]["message"]
    _, data = post(server, {"expression": "x'*x", "types": "<script>=matrix"})
    assert data["error"]["message"] == "types: '<script>' is not a variable name"


def test_input_size_is_limited_and_the_server_keeps_serving(server):
    status, data = post(server, {"expression": "x'*x" + " + x'*x" * 1000})
    assert status == 413 and "at most 2,000" in data["error"]["message"]
    status, data = post(server, None, raw=b'{"expression": "' + b"x" * 20_000 + b'"}')
    assert status == 413 and "the limit is 16,384" in data["error"]["message"]
    status, data = post(server, None, raw=b"not json")
    assert status == 400 and data["error"]["message"] == "the request is not JSON"
    assert post(server, {"expression": "x'*x", "wrt": ["x"]})[1]["ok"]


def test_a_derivation_past_the_time_limit_is_stopped_and_the_server_keeps_serving(server):
    status, data = post(server, {"expression": SLOW, "wrt": ["X"]})
    assert status == 503 and data["error"]["kind"] == "TimeLimit", data
    assert f"longer than the time limit of {TIME_LIMIT} s" in data["error"]["message"]
    status, data = post(server, {"expression": "log(det(X))", "wrt": ["X"]})
    assert status == 200 and data["gradients"][0]["text"] == "X⁻ᵀ"


def test_requests_for_other_hosts_and_from_other_sites_are_refused(server):
    port = urllib.parse.urlsplit(server).port
    status, _, body = get(server, {"Host": f"rebound.example:{port}"})  # DNS rebinding
    assert status == 421 and b"loopback" in body
    status, data = post(server, {"expression": "x'*x"}, {"Origin": "http://evil.example"})
    assert status == 403
    status, data = post(server, {"expression": "x'*x"}, {"Content-Type": "text/plain"})
    assert status == 415


def test_only_the_shipped_files_are_served_with_a_strict_policy(server):
    status, headers, body = get(server)
    assert status == 200 and headers["Content-Security-Policy"] == POLICY and b"<title>matcalc" in body
    assert "script-src 'self';" in POLICY and "unsafe-eval" not in POLICY
    assert get(server + "static/katex/katex.min.js")[0] == 200
    for path in ["static/../server.py", "static/%2e%2e/server.py", "api.py", "static/katex/README.md/x", "etc/passwd"]:
        assert get(server + path)[0] == 404, path


# --- offline: every asset ships in the package ----------------------------------------------------


def test_every_asset_the_page_names_ships_with_the_package():
    html = (STATIC / "index.html").read_text()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    local = [a for a in assets if a.startswith("/static/")]
    assert all(a.startswith(("/static/", "/?")) for a in assets), assets  # no CDN, no other host
    for asset in local:
        assert (STATIC / asset.removeprefix("/static/")).is_file(), asset
    css = (STATIC / "katex" / "katex.min.css").read_text()
    fonts = re.findall(r"url\(([^)]+)\)", css)
    assert len(fonts) == 20
    for font in fonts:
        assert (STATIC / "katex" / font).is_file(), font
    assert "MIT" in (STATIC / "katex" / "LICENSE.txt").read_text()


def test_package_data_includes_every_static_file():
    pyproject = (ROOT / "pyproject.toml").read_text()
    line = re.search(r'^"matcalc\.web" = \[(.*)\]$', pyproject, re.MULTILINE)
    assert line, "pyproject.toml: [tool.setuptools.package-data] has no matcalc.web entry"
    patterns = re.findall(r'"([^"]+)"', line.group(1))
    shipped = [p.relative_to(STATIC.parent).as_posix() for p in STATIC.rglob("*") if p.is_file()]
    served = [p for p in shipped if not p.endswith("README.md")]
    missing = [p for p in served if not any(fnmatch.fnmatch(p, pattern) and p.count("/") == pattern.count("/")
                                           for pattern in patterns)]
    assert missing == []


def test_the_page_script_builds_no_markup_and_evaluates_nothing():
    script = re.sub(r"(?m)^\s*//.*$", "", (STATIC / "app.js").read_text())  # the code, not its comments
    for forbidden in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                      "trust: true", "http://", "https://"]:
        assert forbidden not in script, forbidden
    assert "trust: false" in script


# --- the worker pool -------------------------------------------------------------------------------


def test_the_pool_kills_a_job_past_its_time_limit_and_replaces_the_worker():
    pool = WorkerPool(size=1, time_limit=1)
    try:
        assert pool.run(abs, -3) == 3
        (first,) = pool._workers
        with pytest.raises(TimeLimitExceeded):
            pool.run(time.sleep, 600)
        assert not first.process.is_alive()
        assert pool.run(abs, -4) == 4
    finally:
        pool.close()


def test_serve_refuses_a_bad_port():
    result = subprocess.run([sys.executable, "-m", "matcalc.cli", "serve", "--port", "70000"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "--port must be 0 to 65535" in result.stderr


# --- the page in a browser -----------------------------------------------------------------------

BRIDGE = r"""
// Drives headless Chromium for tests/test_web.py: one JSON command a line on stdin, one answer a line on stdout.
const [, , playwrightDir, executablePath, origin] = process.argv;
const { chromium } = require(playwrightDir);
const readline = require("readline");
const send = (message) => process.stdout.write(JSON.stringify(message) + "\n");
(async () => {
  const browser = await chromium.launch({
    executablePath, headless: true, timeout: 180000,
    args: ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync"],
  });
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, colorScheme: "light" });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin });
  const outside = [], dialogs = [], pageErrors = [], consoleErrors = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(origin)) return route.continue();
    outside.push(url);  // the page must need nothing from the network
    return route.abort();
  });
  const page = await context.newPage();
  page.setDefaultTimeout(180000);
  page.on("dialog", (dialog) => { dialogs.push(dialog.message()); dialog.dismiss(); });
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  page.on("console", (message) => { if (message.type() === "error") consoleErrors.push(message.text()); });
  const ops = {
    goto: (a) => page.goto(a.url, { waitUntil: "load" }).then(() => null),
    fill: (a) => page.fill(a.selector, a.value),
    press: (a) => page.press(a.selector, a.key),
    click: (a) => page.click(a.selector),
    wait: (a) => page.waitForSelector(a.selector, { state: a.state || "visible" }).then(() => null),
    waitFor: async (a) => {  // polls with evaluate: the page's CSP forbids waitForFunction's string eval
      for (const end = Date.now() + 180000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
        if (await page.evaluate(a.expression)) return null;
      }
      throw new Error("timed out waiting for " + a.expression);
    },
    eval: (a) => page.evaluate(a.expression),
    url: () => page.url(),
    scheme: (a) => page.emulateMedia({ colorScheme: a.scheme }),
    screenshot: (a) => page.screenshot({ path: a.path, fullPage: true }).then(() => a.path),
    log: () => ({ outside, dialogs, pageErrors, consoleErrors }),
  };
  send({ ready: true });
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const command = JSON.parse(line);
    if (command.op === "close") break;
    try {
      const value = await ops[command.op](command);
      send({ ok: true, value: value === undefined ? null : value });
    } catch (error) {
      send({ ok: false, error: String((error && error.message) || error) });
    }
  }
  await browser.close();
  process.exit(0);  // stdin's reader would otherwise keep node alive
})().catch((error) => { send({ ok: false, fatal: true, error: String((error && error.stack) || error) }); process.exit(1); });
"""


def _chromium() -> str | None:
    for candidate in [os.environ.get("MATCALC_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")]:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return debian_program("chromium", "chromium")


def _playwright_dir() -> pathlib.Path | None:
    for candidate in [os.environ.get("MATCALC_PLAYWRIGHT_DIR"), ROOT / ".ci" / "node" / "node_modules" / "playwright-core"]:
        if candidate and (pathlib.Path(candidate) / "package.json").exists():
            return pathlib.Path(candidate)
    return None


def _browser_missing() -> str | None:
    """Why the browser tests cannot run, or None; installs playwright-core with npm when it can."""
    if shutil.which("node") is None:
        return "node is not installed (Debian: apt-get install nodejs npm)"
    if _chromium() is None:
        return ("Chromium is not installed: apt-get install chromium (.ci/run does this), "
                "or set MATCALC_CHROMIUM to a Chromium or Chrome executable")
    if _playwright_dir() is None and shutil.which("npm") is not None:
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(ROOT / ".ci" / "node"),
                        "playwright-core@1"], capture_output=True, timeout=600, check=False)
    if _playwright_dir() is None:
        return ("the playwright-core npm package is not installed, and npm could not install it "
                "(npm install --prefix .ci/node playwright-core@1)")
    return None


class Browser:
    """One headless Chromium page, driven through the node bridge; every answer bounded in time."""

    def __init__(self, origin: str, directory: pathlib.Path):
        script = directory / "bridge.js"
        script.write_text(BRIDGE)
        self.process = subprocess.Popen(["node", str(script), str(_playwright_dir()), _chromium(), origin],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=open(directory / "bridge.log", "w"), text=True)
        self.answers: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        started = self._answer(240)
        if not started.get("ready"):
            self.close()
            pytest.fail(f"headless Chromium did not start: {started.get('error')}")

    def _read(self) -> None:
        for line in self.process.stdout:
            try:
                self.answers.put(json.loads(line))
            except ValueError:
                self.answers.put({"ok": False, "error": f"the bridge printed {line!r}"})

    def _answer(self, timeout: float) -> dict:
        try:
            return self.answers.get(timeout=timeout)
        except queue.Empty:
            return {"ok": False, "error": f"no answer from the browser in {timeout} s"}

    def __call__(self, op: str, **arguments):
        self.process.stdin.write(json.dumps({"op": op, **arguments}) + "\n")
        self.process.stdin.flush()
        answer = self._answer(240)
        if not answer.get("ok"):
            raise AssertionError(f"browser {op} {arguments}: {answer.get('error')}")
        return answer["value"]

    def text(self, selector: str) -> str:
        return self("eval", expression=f"document.querySelector({json.dumps(selector)}).textContent")

    def derive(self, expression: str, types: str = "") -> None:
        """Types the expression and presses Enter; waits until the page shows a result or an error."""
        self("eval", expression="document.body.dataset.state = 'waiting'")
        self("fill", selector="#expression", value=expression)
        self("fill", selector="#types", value=types)
        self("press", selector="#expression", key="Enter")
        self("waitFor", expression="document.body.dataset.state !== 'waiting'")

    def close(self) -> None:
        try:
            self.process.stdin.write(json.dumps({"op": "close"}) + "\n")
            self.process.stdin.close()
            self.process.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def browser(server, tmp_path_factory):
    reason = _browser_missing()
    if reason:
        pytest.fail(f"the browser tests cannot run: {reason}")
    origin = server.rstrip("/")
    page = Browser(origin, tmp_path_factory.mktemp("browser"))
    page("goto", url=server)
    yield page
    log = page("log")
    page.close()
    assert log["outside"] == [], "the page asked the network for something"
    assert log["dialogs"] == [] and log["pageErrors"] == []
    assert not [e for e in log["consoleErrors"] if "Content Security Policy" in e]


def test_the_page_derives_renders_and_checks(browser, server):
    browser.derive("x'*S*x", "S=symmetric")
    assert browser("eval", expression="document.body.dataset.state") == "result"
    assert browser.text("#closed-form .closed-form-text") == "2Sx"
    annotation = browser.text("#closed-form annotation")
    assert annotation.replace(" ", "").startswith("\\frac{\\partial\\ell}{\\partial") and "S" in annotation
    assert browser("eval", expression="document.querySelectorAll('#closed-form .katex-html').length") == 1
    # the four views, each rendered by KaTeX (no source text left unrendered)
    views = browser("eval", expression="Array.from(document.querySelectorAll('#views .panel')).map(p => "
                    "[p.dataset.name, p.querySelectorAll('.katex').length, p.querySelectorAll('.katex-failed').length])")
    assert [name for name, _, _ in views] == ["differential", "backprop", "index", "jacobian"]
    assert all(rendered == 1 and failed == 0 for _, rendered, failed in views)
    # the check's verdict and worst entry
    assert browser.text("#check .verdict").startswith("✓ OK")
    assert browser.text("#check td.worst").startswith("x[")
    # the code: every backend, with a copy button
    tabs = browser("eval", expression="Array.from(document.querySelectorAll('#code-tabs button')).map(b => b.textContent)")
    assert tabs == ["NumPy", "JAX", "PyTorch"]
    assert "def value_and_grad(" in browser.text("#codes .panel[data-name=numpy] pre.code")
    browser("click", selector="#codes .panel[data-name=numpy] button.copy")
    browser("waitFor", expression="document.querySelector('#codes button.copy').dataset.copied")
    copied = browser("eval", expression="document.querySelector('#codes button.copy').dataset.copied === 'copied' ? "
                     "navigator.clipboard.readText() : String(window.getSelection())")
    assert copied == browser.text("#codes .panel[data-name=numpy] pre.code")
    # the KaTeX fonts came from this server
    browser("waitFor", expression="document.fonts.status === 'loaded'")
    assert browser("eval", expression="Array.from(document.fonts).some(f => f.family.replace(/\"/g, '') === "
                   "'KaTeX_Main' && f.status === 'loaded')")
    browser("screenshot", path=str(SCREENSHOTS / "matcalc-web-light.png"))
    browser("scheme", scheme="dark")
    dark = browser("eval", expression="getComputedStyle(document.body).backgroundColor")
    browser("screenshot", path=str(SCREENSHOTS / "matcalc-web-dark.png"))
    browser("scheme", scheme="light")
    light = browser("eval", expression="getComputedStyle(document.body).backgroundColor")
    assert _brightness(dark) < 0.3 < 0.7 < _brightness(light)
    browser("click", selector="#view-tabs button[data-name=backprop]")
    assert browser("eval", expression="document.querySelector('#views .panel[data-name=backprop]').hidden") is False
    assert browser("eval", expression="document.querySelector('#views .panel[data-name=differential]').hidden") is True


def _brightness(css_color: str) -> float:
    red, green, blue = (int(v) for v in re.findall(r"\d+", css_color)[:3])
    return (red + green + blue) / 765


def test_the_url_holds_the_request_and_reloads_it(browser, server):
    browser.derive("0.5*norm2(A*x - t)^2", "")
    browser("click", selector="#wrt input[value=A]")  # differentiate by A as well
    browser("waitFor", expression="document.querySelectorAll('#closed-form .gradient').length === 2")
    url = browser("url")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["expr"] == ["0.5*norm2(A*x - t)^2"] and sorted(query["wrt"][0].split(",")) == ["A", "x"]
    gradients = ("Object.fromEntries(Array.from(document.querySelectorAll('#closed-form .gradient'))"
                 ".map(g => [g.dataset.variable, g.querySelector('.closed-form-text').textContent]))")
    shown = browser("eval", expression=gradients)
    assert shown == {"x": "Aᵀ(Ax − t)", "A": "(Ax − t)xᵀ"}  # ∂/∂x and ∂/∂A of ½‖Ax − t‖²
    browser("goto", url=server)  # a fresh page, then the shared URL
    browser("goto", url=url)
    browser("wait", selector="#closed-form .katex")
    assert browser("eval", expression="document.getElementById('expression').value") == "0.5*norm2(A*x - t)^2"
    assert browser("eval", expression=gradients) == shown
    assert browser("eval", expression="Array.from(document.querySelectorAll('#wrt input:checked')).length") == 2


def test_a_parse_error_shows_its_caret_next_to_the_input(browser):
    text = "sum(sigmod(W*x))"
    browser.derive(text)
    assert browser("eval", expression="document.getElementById('error').hidden") is False
    assert "did you mean sigmoid?" in browser.text("#error-message")
    source, caret = browser.text("#error-caret").splitlines()
    assert caret.index("^") == source.index("sigmod")
    # the error sits right under the expression input
    assert browser("eval", expression="document.getElementById('expression').closest('.input-row')"
                   ".nextElementSibling.id") == "error"
    browser("screenshot", path=str(SCREENSHOTS / "matcalc-web-error.png"))
    browser("click", selector="#error-fix")
    browser("wait", selector="#error", state="hidden")
    assert browser("eval", expression="document.getElementById('expression').value") == "sum(sigmoid(W*x))"


HOSTILE = [
    # (expression, types, wrt in the URL, text the page must show)
    ("<script>window.__pwned=1</script>", "", "", "<script>window.__pwned=1</script>"),
    ("x'*x", "", '"onerror=window.__pwned=2 <img src=x onerror=window.__pwned=3>', '"onerror=window.__pwned=2'),
    ("x'*x", "<svg/onload=window.__pwned=4>=matrix", "", "<svg/onload"),
    ("<img src=x onerror=window.__pwned=5>*x", "", "", "<img src=x onerror=window.__pwned=5>*x"),
]


@pytest.mark.parametrize("expression, types, wrt, shown", HOSTILE)
def test_hostile_names_are_shown_as_text(browser, server, expression, types, wrt, shown):
    query = {"expr": expression, **({"types": types} if types else {}), **({"wrt": wrt} if wrt else {})}
    browser("goto", url=server + "?" + urllib.parse.urlencode(query))
    browser("waitFor", expression="document.body.dataset.state === 'error'")
    assert shown in browser.text("#error")
    injected = browser("eval", expression="document.querySelectorAll('main script, main img, main svg, [onerror], "
                       "[onload]').length")
    assert injected == 0
    assert browser("eval", expression="typeof window.__pwned") == "undefined"
    if wrt:
        browser("screenshot", path=str(SCREENSHOTS / "matcalc-web-hostile.png"))


def test_the_page_says_when_the_time_limit_stopped_a_derivation(browser):
    browser.derive(SLOW)
    assert f"time limit of {TIME_LIMIT} s" in browser.text("#error-message")
    browser.derive("log(det(X))")
    assert browser.text("#closed-form .closed-form-text") == "X⁻ᵀ"
