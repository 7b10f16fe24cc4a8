"""The ``matcalc`` command."""

from __future__ import annotations

import argparse
import sys

from . import demo as demo_module


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="matcalc",
        description="Symbolic matrix calculus: gradients by Frobenius differentials, derived, explained and checked.",
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("demo", help="derive, explain and check the seed examples")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo_module.run(sys.stdout)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
