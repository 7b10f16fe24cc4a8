"""Load on the web page's API: many requests from concurrent clients over loopback.

    python benchmarks/web_load.py                       500 requests, 20 clients (issue 18)
    python benchmarks/web_load.py --requests 40 --clients 5

It starts ``matcalc serve --port 0`` in a subprocess and sends ``POST /api/derive`` requests
that mix valid expressions, invalid ones (a parse error, an unknown variable) and slow ones (past
the time limit).  Each answer is checked against what its kind must give: 200 with a closed form
for a valid expression, 400 naming the problem for an invalid one, 503 "TimeLimit" for a slow
one.  Anything else is a failure.  It prints the counts, the throughput and the latencies
(p50, p95), and exits 1 if any request failed.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import queue
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent

VALID = [
    ("x'*A*x", ["x"], "(A + Aᵀ)x"),
    ("log(det(X))", ["X"], "X⁻ᵀ"),
    ("0.5*norm2(A*x - y)^2", ["x"], "Aᵀ(Ax − y)"),
    ("tr(A*X'*B*X*C)", ["X"], None),
    ("sum(log(exp(-y.*(X*w)) + vector(1)))", ["w"], None),
    ("x'*S*x", ["x"], None),
]
INVALID = [
    ("x'*A*", ["x"], "expression"),  # a parse error, shown under the input
    ("tanhh(x)", ["x"], "did you mean tanh"),
    ("x'*x", ["y"], "no variable"),
]
SLOW = ("sum(tanh(" + "*".join(["X"] * 20) + "))", ["X"])  # its elementwise oracle takes minutes


def post(url: str, expression: str, wrt: list) -> tuple[int, dict]:
    body = json.dumps({"expression": expression, "wrt": wrt}).encode()
    request = urllib.request.Request(url + "api/derive", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def verdict(kind: str, status: int, data: dict, expected) -> str | None:
    """None when the answer is what a request of this kind must get, else what is wrong."""
    if kind == "valid":
        if status != 200:
            return f"status {status}: {data.get('error', {}).get('message', '')[:80]}"
        if expected is not None and data["gradients"][0]["text"] != expected:
            return f"closed form {data['gradients'][0]['text']!r}, not {expected!r}"
        return None
    if kind == "invalid":
        message = json.dumps(data, ensure_ascii=False)
        return None if status == 400 and expected in message else f"status {status}: {message[:80]}"
    return None if status == 503 and data.get("error", {}).get("kind") == "TimeLimit" else f"status {status}: {data}"


def requests_to_send(total: int, slow: int) -> list[tuple]:
    """Valid and invalid requests in turn (three valid to one invalid), ``slow`` of them slow, spread out."""
    plan = []
    for k in range(total):
        if slow and k % max(total // slow, 1) == total // (2 * slow) and sum(p[0] == "slow" for p in plan) < slow:
            plan.append(("slow", *SLOW, None))
        elif k % 4 == 3:
            plan.append(("invalid", *INVALID[k % len(INVALID)]))
        else:
            plan.append(("valid", *VALID[k % len(VALID)]))
    return plan


def start_server(time_limit: float, workers: int) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, "-m", "matcalc.cli", "serve", "--port", "0", "--workers", str(workers),
               "--time-limit", str(time_limit)]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    match = re.search(r"(http://\S+/)", server.stdout.readline())
    if not match:
        server.kill()
        raise SystemExit("matcalc serve printed no URL")
    return server, match.group(1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--slow", type=int, default=5, help="how many of the requests run past the time limit")
    parser.add_argument("--time-limit", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    server, url = start_server(args.time_limit, args.workers)
    try:
        status, data = post(url, "x'*x", ["x"])  # the first request waits for the workers to start
        assert status == 200, data
        work: queue.Queue = queue.Queue()
        for item in requests_to_send(args.requests, args.slow):
            work.put(item)
        results: list = []
        lock = threading.Lock()

        def client():
            while True:
                try:
                    kind, expression, wrt, expected = work.get_nowait()
                except queue.Empty:
                    return
                started = time.perf_counter()
                status, data = post(url, expression, wrt)
                seconds = time.perf_counter() - started
                with lock:
                    results.append((kind, seconds, verdict(kind, status, data, expected)))

        started = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=60)
    failures = [(kind, problem) for kind, _, problem in results if problem is not None]
    print(f"{len(results)} requests from {args.clients} concurrent clients in {elapsed:.1f} s "
          f"({len(results) / elapsed:.1f} requests/s), {args.workers} workers, time limit {args.time_limit:g} s")
    print("| kind | requests | p50 | p95 | max |")
    print("|---|---|---|---|---|")
    for kind in ("valid", "invalid", "slow", "all"):
        times = sorted(seconds for k, seconds, _ in results if kind in (k, "all"))
        if times:
            p50, p95 = statistics.median(times), times[min(len(times) - 1, int(0.95 * len(times)))]
            print(f"| {kind} | {len(times)} | {p50 * 1e3:.0f} ms | {p95 * 1e3:.0f} ms | {times[-1] * 1e3:.0f} ms |")
    print(f"failed: {len(failures)}" + "".join(f"\n  {kind}: {problem}" for kind, problem in failures[:10]))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
