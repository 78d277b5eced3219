"""Shared helpers for the benchmarks: timing with medians, and printing ratios.

Times on shared machines drift, so every benchmark measures its anchor (grep, repo2docker,
raw buildx) in the same run, alternating rounds, and reports medians and ratios.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable, Sequence


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


def rounds(measures: dict[str, Callable[[], float]], count: int) -> dict[str, list[float]]:
    """Run each measure ``count`` times, interleaved (a, b, a, b…) so drift hits all alike."""
    results: dict[str, list[float]] = {name: [] for name in measures}
    for _ in range(count):
        for name, measure in measures.items():
            results[name].append(measure())
    return results


def report(results: dict[str, list[float]]) -> dict[str, float]:
    medians = {name: statistics.median(values) for name, values in results.items()}
    for name, values in results.items():
        shown = " ".join(f"{v:.3f}" for v in values)
        print(f"  {name:<34} median {medians[name]:8.3f} s   [{shown}]")
    return medians
