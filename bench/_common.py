"""Shared helpers for the benchmarks: timing with medians, and printing ratios.

Times on shared machines drift, so every benchmark measures its anchor (grep, repo2docker,
raw buildx) in the same run, alternating rounds, and reports medians and ratios.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path


def time_command(argv: Sequence[str], *, cwd: str | None = None, ok: tuple[int, ...] = (0,),
                 env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=env, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode not in ok:
        raise SystemExit(f"{' '.join(argv)} failed ({result.returncode}): "
                         f"{result.stderr.decode(errors='replace')[-2000:]}")
    return elapsed


def rounds(measures: dict[str, Callable[[], float]], count: int, *,
           rotate: bool = False) -> dict[str, list[float]]:
    """Run each measure ``count`` times, interleaved (a, b, a, b…) so drift hits all alike.

    With ``rotate`` each round starts one measure later (a b c, b c a, c a b…), so no
    measure always runs right after the same other one (a build just after repo2docker's
    200 MB write-out pays for its disk flush)."""
    results: dict[str, list[float]] = {name: [] for name in measures}
    names = list(measures)
    for index in range(count):
        order = names[index % len(names):] + names[:index % len(names)] if rotate else names
        for name in order:
            results[name].append(measures[name]())
    return results


def report(results: dict[str, list[float]]) -> dict[str, float]:
    medians = {name: statistics.median(values) for name, values in results.items()}
    for name, values in results.items():
        shown = " ".join(f"{v:.3f}" for v in values)
        print(f"  {name:<34} median {medians[name]:8.3f} s   [{shown}]")
    return medians


def parse_args(parser: argparse.ArgumentParser, rounds: int) -> argparse.Namespace:
    """Add ``--rounds`` and ``--quick`` (one round) to ``parser`` and parse the command line;
    also compile r2d-tui's bytecode (:func:`ensure_bytecode`)."""
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--quick", action="store_true",
                        help="one round and the smallest inputs (a smoke test)")
    args = parser.parse_args()
    if args.quick:
        args.rounds = 1
    ensure_bytecode()
    return args


def ensure_bytecode() -> None:
    """Compile r2d-tui's modules to bytecode, as installing its wheel does.

    Dependencies installed from wheels (repo2docker, Textual) come with their ``.pyc``
    files; an editable checkout under ``PYTHONDONTWRITEBYTECODE=1`` (as on the shared
    machines) would otherwise recompile every r2d-tui module on every start, which is not
    what a user runs. ``compileall`` writes the cache files even under that setting.
    """
    import compileall

    package = Path(__file__).resolve().parent.parent / "r2d_tui"
    compileall.compile_dir(str(package), quiet=1)


def _shown(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.3f} s"
    if unit == "ms":
        return f"{value * 1000:.1f} ms"
    return f"{value:.1f} {unit}"


def goal(name: str, measured: float, anchor: float, *, unit: str = "s",
         target: float | None = None, max_ratio: float | None = None,
         passed: bool | None = None) -> bool:
    """Print the one-line verdict of a goal and return whether it passed.

    ``measured`` and ``anchor`` are medians from the same run (seconds when ``unit`` is
    ``s`` or ``ms``). The goal is an absolute ``target`` (at most), a ``max_ratio`` of
    the anchor (at most), or both; ``passed`` can add a condition of the caller's.
    """
    ratio = measured / anchor if anchor else float("inf")
    limits = []
    ok = True if passed is None else passed
    if target is not None:
        limits.append(_shown(target, unit))
        ok = ok and measured <= target
    if max_ratio is not None:
        limits.append(f"{max_ratio:.2f} x anchor")
        ok = ok and ratio <= max_ratio
    print(f"goal: {name} {_shown(measured, unit)} ({ratio:.2f} x anchor "
          f"{_shown(anchor, unit)}) <= {' and '.join(limits)}: {'PASS' if ok else 'FAIL'}")
    return ok
