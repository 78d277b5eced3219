"""Bench: ``r2d-tui dockerfile`` vs ``repo2docker --no-build``, wall time, same repos.

Issue #9's goal: ``r2d-tui dockerfile`` is faster than ``repo2docker --no-build`` on the
same repository (anchor measured here at 0.44-0.61 s). Both print the same bytes (the
test suite checks that). r2d-tui's second and later runs are served from its detection
cache, keyed by every file repo2docker reads, so they skip importing repo2docker; the
first ("cold") run is measured separately with an empty cache.

    python bench/dockerfile_cli.py [--rounds 7] [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
from _common import goal, parse_args, report, rounds, time_command  # noqa: E402


def main() -> None:
    import corpus

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    args = parse_args(parser, rounds=7)
    bindir = Path(sys.executable).parent
    tmp = Path(tempfile.mkdtemp(prefix="r2d-bench-cli-"))
    cache = tmp / "cache"
    env = {**os.environ, "R2D_TUI_CACHE_DIR": str(cache)}
    verdicts: list[tuple[str, float, float]] = []
    try:
        for name in ("binder-examples__conda", "binder-examples__requirements"):
            repo = corpus.materialise(name, tmp)
            r2d = [str(bindir / "r2d-tui"), "dockerfile", str(repo)]
            anchor = [str(bindir / "repo2docker"), "--no-build", str(repo)]

            def cold(r2d: list[str] = r2d) -> float:
                shutil.rmtree(cache, ignore_errors=True)
                return time_command(r2d, env=env)

            print(f"{name}:")
            medians = report(rounds({
                "repo2docker --no-build": lambda anchor=anchor: time_command(anchor, env=env),
                "r2d-tui dockerfile (cold cache)": cold,
                "r2d-tui dockerfile": lambda r2d=r2d: time_command(r2d, env=env),
            }, args.rounds))
            base = medians["repo2docker --no-build"]
            for key in ("r2d-tui dockerfile (cold cache)", "r2d-tui dockerfile"):
                print(f"  ratio {key} / repo2docker: {medians[key] / base:.2f}")
            verdicts += [(f"{key} ({name})", medians[key], base)
                         for key in ("r2d-tui dockerfile (cold cache)", "r2d-tui dockerfile")]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    for label, measured, anchor in verdicts:
        # faster than repo2docker --no-build: below 1.00 x the anchor
        goal(label, measured, anchor, max_ratio=0.999)


if __name__ == "__main__":
    main()
