"""The benchmark suite runs end to end (tiny sizes): every function it times is checked
against an independent computation inside the suite before it is timed."""

from __future__ import annotations

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_the_benchmark_suite_runs_and_prints_one_table():
    result = subprocess.run([sys.executable, "-m", "benchmarks", "--quick"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert "one thread for BLAS" in lines[0]
    table = [line for line in lines if line.startswith("| ")]
    assert table[0].startswith("| benchmark | matcalc | compared with")
    benchmarks = "\n".join(table)
    for expected in ("`mc.grad`", "`mc.derive`", "backprop view", "`mc.lambdify` with `out=`", "Hessian", "`mc.hvp`", "`mc.check`"):
        assert expected in benchmarks


def test_the_scaling_benchmark_runs_and_prints_its_table():
    """benchmarks/scaling.py at tiny sizes: every case runs and is checked; no timing is asserted."""
    result = subprocess.run([sys.executable, "benchmarks/scaling.py", "--quick"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    table = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| case | size 10 | size 30 |")
    cases = "\n".join(table[1:])
    for expected in ("tanh chain", "product chain", "power chain", "`mc.simplify`", "transposes", "random losses"):
        assert expected in cases
    assert "Error" not in cases and "> 60 s" not in cases


def test_the_web_load_benchmark_gets_every_answer_right():
    """benchmarks/web_load.py at a small size: valid, invalid and slow requests from concurrent
    clients each get the answer their kind must get (the closed form, a 400, a time-limit 503).
    The time limit is generous, as the test asserts answers, not speed: on a loaded 2-core machine
    a valid request took 6.7 s; the slow one runs for minutes (its check's oracle alone 15 s)."""
    result = subprocess.run([sys.executable, "benchmarks/web_load.py", "--requests", "24", "--clients", "4", "--slow", "1",
                             "--time-limit", "10"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "failed: 0" in result.stdout and "| slow | 1 |" in result.stdout
