"""Fuzz run: random well-shaped expressions; the simplified gradient against finite differences,
simplification against the original value, lambdify against evaluate.

    python benchmarks/fuzz.py --n 10000 [--seed 0]

Prints `N expressions, K wrong` and the first few wrong ones.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import matcalc as mc  # noqa: E402
from matcalc.numeric.evaluate import symbols_of  # noqa: E402
from tests.strategies import build, random_values, rng_chooser, scalar_loss  # noqa: E402
from tests.test_fuzz import gradient_disagreement  # noqa: E402


def one(seed: int) -> tuple[str, str | None]:
    """('used' | 'skipped', a description when something is wrong)."""
    rng = np.random.default_rng(seed)
    loss = scalar_loss(rng_chooser(rng), depth=int(rng.integers(2, 5)))
    worst = gradient_disagreement(loss, seed)
    if worst is None:
        return "skipped", None
    if worst >= 1e-4:
        # Finite differences fail on steep losses; the exact elementwise oracle decides.
        variables = [s for s in symbols_of([loss]) if s.label not in ("C", "c")][:2]
        exact = mc.check(loss, variables, values=random_values([loss], seed), oracles=("elementwise",))
        if not exact.ok:
            return "used", f"gradient off by {exact.max_rel_error:.2e} (elementwise oracle): ℓ = {loss}"
    expr = build(rng_chooser(rng), (3, 4), depth=3)
    values = random_values([expr], seed)
    before = np.asarray(mc.evaluate(expr, values), dtype=float)
    if np.all(np.isfinite(before)) and np.max(np.abs(before)) < 1e8:
        after = np.asarray(mc.evaluate(mc.simplify(expr), values), dtype=float)
        if not np.allclose(after, before, rtol=1e-9, atol=1e-9 * max(1.0, float(np.max(np.abs(before))))):
            return "used", f"simplification changed the value of {expr}"
        symbols = symbols_of([expr])
        compiled = mc.lambdify(symbols, expr)(*[values[s] for s in symbols])
        if not np.allclose(compiled, before, rtol=1e-12, atol=1e-12):
            return "used", f"lambdify differs from evaluate for {expr}"
    return "used", None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    wrong, skipped = [], 0
    for k in range(args.n):
        status, problem = one(args.seed + k)
        skipped += status == "skipped"
        if problem:
            wrong.append((args.seed + k, problem))
    print(f"{args.n} expressions, {len(wrong)} wrong ({skipped} skipped: values too large at the random point)"
          f" in {time.perf_counter() - start:.0f} s")
    for seed, problem in wrong[:10]:
        print(f"  seed {seed}: {problem[:300]}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
