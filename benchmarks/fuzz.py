"""Fuzz run: random well-shaped expressions over every operation, each property checked against
oracles that share no code with matcalc's code generator (tests/numpy_oracle.py, finite
differences of it, sympy's elementwise chain rule).

    python benchmarks/fuzz.py --n 100000 [--seed 0] [--jobs 2] [--log fuzz.jsonl [--resume]]

Seed k draws three expressions (a scalar loss, an expression of a random shape, and one the
string syntax can write) and runs every check of tests/test_fuzz.py on them.  A MatcalcError
while building is a refusal and fine; an AssertionError is a wrong result; a MatcalcError
while checking a valid expression at a finite point is listed for review; any other exception
is a crash, reported with its seed and the last frames of its traceback.  Prints expressions
tried, wrong results by property (wrong gradients first), crashes, and the slowest seed.

Each seed is reproducible alone (``--seed K --n 1``).  With ``--log`` every finished chunk
is appended as one JSON line; ``--resume`` skips the chunks the log already holds, so a long
run that stops can go on where it stopped.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import pathlib
import signal
import sys
import time
import traceback

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # one thread per worker
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402

import matcalc as mc  # noqa: E402
from tests import test_fuzz as checks  # noqa: E402
from tests.strategies import SHAPES, build, random_values, rng_chooser, scalar_loss  # noqa: E402

CHUNK = 50
SEED_TIMEOUT = 120  # seconds; a seed that takes longer is reported as a timeout


def _printing(expr, values):
    """Printing never crashes: text and LaTeX of the expression, and, for a loss, its derivation."""
    mc.text(expr)
    mc.latex(expr)
    if expr.is_scalar:
        variables = checks.differentiable_variables(expr, limit=2)
        if variables:
            derivation = mc.derive(expr, variables)
            str(derivation)
            derivation.latex()


# (property, which expression it runs on, the check); wrong gradients come first
PROPERTIES = [
    ("gradient", "loss", checks.check_gradient),
    ("evaluated gradient", "loss", checks.check_gradient_evaluation),
    ("hvp/hessian/jacobian", "loss", checks.check_second_order),
    ("simplify", "expr", checks.check_simplify),
    ("evaluate/lambdify", "expr", checks.check_evaluate),
    ("to_numpy_source", "expr", checks.check_exported_source),
    ("pickle/deepcopy", "expr", checks.check_copies),
    ("simplify(p − e) = 0", "expr", checks.check_copy_difference),
    ("parse(to_syntax) (syntax profile)", "syntax", checks.check_syntax_round_trip),
    ("parse(to_syntax) (any expression)", "expr", checks.check_syntax_round_trip),
    ("to_sympy/from_sympy", "expr", checks.check_sympy_round_trip),
    ("draw", "loss", checks.check_drawing),
    ("printing", "loss", _printing),
    ("printing", "expr", _printing),
]


class SeedTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise SeedTimeout()


def _summary(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)[-3:]
    where = " <- ".join(f"{pathlib.Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))
    message = str(error).strip().splitlines()
    return f"{type(error).__name__}: {message[0][:300] if message else ''} [{where}]"


def one(seed: int) -> dict:
    """Every check on the three expressions of one seed."""
    result = {"seed": seed, "tried": 0, "refused": 0, "ok": collections.Counter(), "unusable": collections.Counter(),
              "wrong": [], "errors": [], "crashes": [], "slowest": ("", 0.0)}
    rng = np.random.default_rng(seed)
    exprs = {}
    for kind, make in (
        ("loss", lambda: scalar_loss(rng_chooser(rng), depth=int(rng.integers(2, 5)), avoid_defects=False)),
        ("expr", lambda: build(rng_chooser(rng), SHAPES[int(rng.integers(len(SHAPES)))], depth=int(rng.integers(2, 5)),
                               avoid_defects=False)),
        ("syntax", lambda: build(rng_chooser(rng), SHAPES[int(rng.integers(len(SHAPES)))], depth=3, syntax=True)),
    ):
        try:
            exprs[kind] = make()
            result["tried"] += 1
        except mc.MatcalcError:
            result["refused"] += 1
        except Exception as error:  # noqa: BLE001 - a crash is what we look for
            result["crashes"].append((seed, f"building the {kind}", _summary(error)))
    for name, kind, check in PROPERTIES:
        if kind not in exprs:
            continue
        expr = exprs[kind]
        start = time.perf_counter()
        try:
            check(expr, random_values([expr], seed))
            result["ok"][name] += 1
        except checks.Unusable:
            result["unusable"][name] += 1
        except AssertionError as error:
            result["wrong"].append((seed, name, str(error)[:600]))
        except SeedTimeout:
            raise
        except mc.MatcalcError as error:
            result["errors"].append((seed, name, _summary(error), str(expr)[:200]))
        except Exception as error:  # noqa: BLE001
            result["crashes"].append((seed, name, _summary(error)))
        elapsed = time.perf_counter() - start
        if elapsed > result["slowest"][1]:
            result["slowest"] = (name, elapsed)
    return result


def run_chunk(bounds: tuple[int, int]) -> dict:
    start, stop = bounds
    total = {"start": start, "stop": stop, "tried": 0, "refused": 0, "ok": collections.Counter(),
             "unusable": collections.Counter(), "wrong": [], "errors": [], "crashes": [], "timeouts": [],
             "slowest": (None, "", 0.0)}
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        for seed in range(start, stop):
            began = time.perf_counter()
            signal.alarm(SEED_TIMEOUT)
            try:
                result = one(seed)
            except SeedTimeout:
                total["timeouts"].append(seed)
                continue
            finally:
                signal.alarm(0)
            seconds = time.perf_counter() - began
            for key in ("tried", "refused"):
                total[key] += result[key]
            for key in ("ok", "unusable"):
                total[key].update(result[key])
            for key in ("wrong", "errors", "crashes"):
                total[key] += result[key]
            if seconds > total["slowest"][2]:
                total["slowest"] = (seed, result["slowest"][0], seconds)
    finally:
        signal.signal(signal.SIGALRM, previous)
    return total


def _merge(into: dict, chunk: dict) -> None:
    for key in ("tried", "refused"):
        into[key] += chunk[key]
    for key in ("ok", "unusable"):
        into[key].update(chunk[key])
    for key in ("wrong", "errors", "crashes", "timeouts"):
        into[key] += [tuple(item) if isinstance(item, list) else item for item in chunk[key]]
    if chunk["slowest"][2] > into["slowest"][2]:
        into["slowest"] = tuple(chunk["slowest"])


def _report(total: dict, seeds: int, seconds: float) -> None:
    wrong = collections.Counter(name for _, name, _ in total["wrong"])
    print(f"{seeds} seeds, {total['tried']} expressions tried ({total['refused']} refused while building, "
          f"a MatcalcError) in {seconds:.0f} s")
    print(f"wrong gradients: {wrong.get('gradient', 0)}")
    print(f"crashes (exceptions that are not MatcalcError): {len(total['crashes'])}")
    print(f"timeouts (a seed over {SEED_TIMEOUT} s): {len(total['timeouts'])}" + (f": seeds {total['timeouts'][:10]}" if total["timeouts"] else ""))
    seed, name, slow = total["slowest"]
    print(f"slowest: seed {seed}, {slow:.2f} s (its slowest check: {name})")
    print("by property: checked / unusable point / wrong")
    names = list(dict.fromkeys(name for name, _, _ in PROPERTIES))
    for name in names:
        print(f"  {name:<36} {total['ok'][name] + wrong.get(name, 0):>7} / {total['unusable'][name]:>6} / {wrong.get(name, 0)}")
    for title, items in (("wrong", total["wrong"]), ("MatcalcErrors while checking valid expressions (for review)", total["errors"]),
                         ("crashes", total["crashes"])):
        if not items:
            continue
        print(f"{title}: {len(items)}; by property, with the first seeds:")
        by_property = collections.defaultdict(list)
        for item in items:
            by_property[item[1]].append(item)
        for name, group in by_property.items():
            kinds = collections.Counter(item[2].splitlines()[0][:90] for item in group)
            print(f"  [{name}] {len(group)}: seeds {[item[0] for item in group[:8]]}")
            for kind, count in kinds.most_common(4):
                print(f"      {count:>5} × {kind}")
            example = group[0][2].replace("\n", "\n        ")
            print(f"      e.g. seed {group[0][0]}: {example[:600]}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="number of seeds (three expressions each)")
    parser.add_argument("--seed", type=int, default=0, help="the first seed")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (2 uses both cores)")
    parser.add_argument("--log", type=pathlib.Path, help="append each finished chunk to this JSON-lines file")
    parser.add_argument("--resume", action="store_true", help="skip the chunks --log already holds")
    args = parser.parse_args(argv)

    bounds = [(s, min(s + CHUNK, args.seed + args.n)) for s in range(args.seed, args.seed + args.n, CHUNK)]
    total = {"tried": 0, "refused": 0, "ok": collections.Counter(), "unusable": collections.Counter(),
             "wrong": [], "errors": [], "crashes": [], "timeouts": [], "slowest": (None, "", 0.0)}
    if args.resume and args.log and args.log.exists():
        done = set()
        for line in args.log.read_text().splitlines():
            chunk = json.loads(line)
            if (chunk["start"], chunk["stop"]) in bounds and (chunk["start"], chunk["stop"]) not in done:
                done.add((chunk["start"], chunk["stop"]))
                chunk["ok"], chunk["unusable"] = collections.Counter(chunk["ok"]), collections.Counter(chunk["unusable"])
                _merge(total, chunk)
        bounds = [b for b in bounds if b not in done]
        print(f"resuming: {len(done)} chunks from {args.log}, {len(bounds)} to run", flush=True)

    start = time.perf_counter()
    if args.jobs > 1:
        import multiprocessing

        pool = multiprocessing.get_context("fork").Pool(args.jobs)
        results = pool.imap_unordered(run_chunk, bounds)
    else:
        pool = None
        results = map(run_chunk, bounds)
    log = args.log.open("a") if args.log else None
    try:
        for finished, chunk in enumerate(results, 1):
            _merge(total, chunk)
            if log:
                log.write(json.dumps(chunk, default=list) + "\n")
                log.flush()
            if finished % 20 == 0:
                print(f"  … {finished}/{len(bounds)} chunks, {total['tried']} expressions, {len(total['wrong'])} wrong, "
                      f"{len(total['crashes'])} crashes, {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    finally:
        if pool:
            pool.terminate()
        if log:
            log.close()
    _report(total, args.n, time.perf_counter() - start)
    return 1 if total["wrong"] or total["crashes"] else 0


if __name__ == "__main__":
    sys.exit(main())
