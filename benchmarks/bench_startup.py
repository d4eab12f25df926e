"""Start-up: ``fba-jp gate one.json`` and ``fba-jp --help`` against a bare ``python -c pass``.

    python benchmarks/bench_startup.py --runs 15
    python benchmarks/bench_startup.py --runs 15 --compare /path/to/an/older/checkout

Each command is a fresh process (what a CI job or a shell pays); they run in turn, round after round,
so a machine that slows down mid-run slows every command alike. The figure for each is the median wall
time over ``--runs`` rounds (after one warm-up round that fills the OS file cache and writes
``__pycache__``, as ``pip install`` would: ``PYTHONDONTWRITEBYTECODE`` is ignored here),
with the spread (min, max), and the median CPU time (user + system), steadier on a loaded machine. The floor is ``python -c pass``: the interpreter's own start, which no
command can beat; ``over_floor_s`` is what fba-jp adds to it.

``--compare PATH`` also runs the same commands from another source tree (``PYTHONPATH=PATH python -m
fba_jp``) with the same interpreter and packages, and prints the ratio this/that round by round (median,
min, max): how much faster (or slower) this tree starts than that one, in the same run. One JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fba_jp.testing import declaration_data


NAMES = ("help", "gate", "gate_new_db")


def timed(argv: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run of ``argv``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    # cwd: `python -m` puts it first on sys.path, before PYTHONPATH: it must not hold a source tree
    subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def figures(samples: list[tuple[float, float]]) -> dict:
    wall, cpu = [w for w, _ in samples], [c for _, c in samples]
    return {"median_s": round(statistics.median(wall), 4), "min_s": round(min(wall), 4),
            "max_s": round(max(wall), 4), "cpu_median_s": round(statistics.median(cpu), 4)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="rounds to time (default 11)")
    parser.add_argument("--compare", type=Path, default=None, help="another source tree to time alike")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="fba-jp-bench-startup-") as tmp:
        declaration = Path(tmp) / "one.json"
        declaration.write_text(json.dumps(declaration_data()))
        # as installed: `pip install` compiles the package to bytecode, so let the warm-up round write it
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}
        trees = {"this": env}
        if args.compare:
            trees["compare"] = {**env, "PYTHONPATH": str(args.compare.resolve())}

        def commands(tree: str) -> dict[str, list[str]]:
            gate = [sys.executable, "-m", "fba_jp", "gate", str(declaration), "-o", "json", "--db"]
            return {"help": [sys.executable, "-m", "fba_jp", "--help"],
                    "gate": gate + [str(Path(tmp) / f"{tree}.db")],  # the database exists (after round 0)
                    "gate_new_db": gate + [":memory:"]}  # a CI job's first gate: the schema is created

        plan = [("floor", "python -c pass", [sys.executable, "-c", "pass"], env)]
        for tree, tree_env in trees.items():
            plan += [(tree, name, command, tree_env) for name, command in commands(tree).items()]
        samples: dict[tuple[str, str], list[tuple[float, float]]] = {(tree, name): [] for tree, name, _, _ in plan}
        for round_ in range(args.runs + 1):
            for tree, name, command, tree_env in plan:
                seconds = timed(command, tree_env, tmp)
                if round_:  # round 0 warms the file cache and __pycache__
                    samples[(tree, name)].append(seconds)

    floor = statistics.median(w for w, _ in samples[("floor", "python -c pass")])
    result = {"bench": "startup", "runs": args.runs, "floor": figures(samples[("floor", "python -c pass")])}
    for tree in trees:
        for name in NAMES:
            median = statistics.median(w for w, _ in samples[(tree, name)])
            key = name if tree == "this" else f"{name}_compare"
            result[key] = {**figures(samples[(tree, name)]), "over_floor_s": round(median - floor, 4),
                           "ratio_to_floor": round(median / floor, 2)}
    if args.compare:
        result["compare_tree"] = str(args.compare)
        for name in NAMES:
            # round by round, then the median: a ratio of two runs made seconds apart survives a drifting machine
            ratios = [a[0] / b[0] for a, b in zip(samples[("this", name)], samples[("compare", name)])]
            cpu_ratios = [a[1] / b[1] for a, b in zip(samples[("this", name)], samples[("compare", name)])]
            result[f"{name}_ratio_to_compare"] = {"median": round(statistics.median(ratios), 2),
                                                  "min": round(min(ratios), 2), "max": round(max(ratios), 2),
                                                  "cpu_median": round(statistics.median(cpu_ratios), 2)}
    result["python"] = sys.version.split()[0]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
