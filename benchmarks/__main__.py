"""Run the benchmarks: ``python -m benchmarks [--only NAME] [--quick]``.

Each benchmark is a module of this package with a ``run(quick: bool) -> list[dict]`` function
that prints its own table of figures (and returns them). To add one, append it to
:data:`BENCHMARKS`; it then runs after the others and ``--only`` knows its name.
"""
from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
import traceback

# (name, module) in the order they run.
BENCHMARKS: list[tuple[str, str]] = [
    ("catalog", "benchmarks.catalog_bench"),
    ("rules", "benchmarks.rules_bench"),
    ("configurator", "benchmarks.configurator_bench"),
    ("rating", "benchmarks.rating_bench"),
    ("online-rating", "benchmarks.online_rating_bench"),
]


def machine_line(quick: bool) -> str:
    """Where the figures come from: Python, cores, platform and the mode."""
    return (f"bssrules benchmarks · Python {platform.python_version()} ({platform.python_implementation()}) · "
            f"{os.cpu_count()} cores (os.cpu_count) · {platform.system()} {platform.machine()} · "
            f"{'quick' if quick else 'full'} sizes")


def main(argv: list[str] | None = None) -> int:
    names = [name for name, _ in BENCHMARKS]
    parser = argparse.ArgumentParser(prog="python -m benchmarks",
                                     description="Run the bssrules benchmarks and print their figures.")
    parser.add_argument("--only", metavar="NAME", action="append", choices=names,
                        help=f"run only this benchmark (repeatable); one of: {', '.join(names)}")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and few requests (a smoke run of a few seconds)")
    args = parser.parse_args(argv)

    selected = [(n, m) for n, m in BENCHMARKS if not args.only or n in args.only]
    print(machine_line(args.quick), flush=True)
    started = time.perf_counter()
    failed = []
    for name, module_name in selected:
        print(f"\n== {name} ==", flush=True)
        begun = time.perf_counter()
        try:
            importlib.import_module(module_name).run(quick=args.quick)
        except Exception:  # noqa: BLE001 - report, then go on with the next benchmark
            traceback.print_exc()
            failed.append(name)
        print(f"{name}: {time.perf_counter() - begun:.1f} s", flush=True)
    print(f"\ntotal: {time.perf_counter() - started:.1f} s"
          + (f" · FAILED: {', '.join(failed)}" if failed else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
