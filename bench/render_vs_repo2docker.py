"""Bench: one Dockerfile render (the preview's work) vs repo2docker's own render.

Issue #9's goal: a render (conda and python buildpacks) takes at most 5 ms. The anchor is
repo2docker's own detect + render, measured in the same run in a fresh interpreter: it
recompiles its Jinja template on every call. r2d-tui drives the same buildpacks with the
compiled template cached. Both loops run in their own subprocess, warm, N renders each;
medians are printed with the ratio.

    python bench/render_vs_repo2docker.py [--rounds 3] [--renders 60] [--quick]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
from _common import goal, parse_args  # noqa: E402

ANCHOR = r"""
import json, os, statistics, sys, time
from repo2docker.app import Repo2Docker
from repo2docker.utils import chdir
app = Repo2Docker()
def once(repo):
    with chdir(repo):
        for BP in app.buildpacks:
            bp = BP(base_image=app.base_image)
            if bp.detect():
                break
        else:
            bp = app.default_buildpack(base_image=app.base_image)
        bp.platform = "linux/amd64"
        bp.labels.update({"repo2docker.version": "x", "repo2docker.repo": "local",
                          "repo2docker.ref": None})
        return bp.render({"NB_USER": "jovyan", "NB_UID": "1000"})
repo, n = sys.argv[1], int(sys.argv[2])
once(repo)
times = []
for _ in range(n):
    t = time.perf_counter(); once(repo); times.append(time.perf_counter() - t)
print(json.dumps(times))
"""

OURS = r"""
import json, sys, time
from r2d_tui.core.render import RenderOptions, render
from r2d_tui.core.workspace import Workspace
ws = Workspace(sys.argv[1])
options = RenderOptions(user_id=1000, user_name="jovyan", platform="linux/amd64")
assert render(ws, options).dockerfile
n = int(sys.argv[2])
times = []
for _ in range(n):
    t = time.perf_counter(); render(ws, options); times.append(time.perf_counter() - t)
print(json.dumps(times))
"""


def measure(code: str, repo: Path, renders: int) -> list[float]:
    out = subprocess.run([sys.executable, "-c", code, str(repo), str(renders)],
                         capture_output=True, text=True, check=True)
    return [float(t) for t in json.loads(out.stdout.strip().splitlines()[-1])]


def main() -> None:
    import statistics

    import corpus

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=60, help="warm renders per process")
    args = parse_args(parser, rounds=3)
    renders = 10 if args.quick else args.renders
    tmp = Path(tempfile.mkdtemp(prefix="r2d-bench-render-"))
    print(f"{args.rounds} rounds of one fresh process each, {renders} warm renders per process; "
          "median ms (p90) over all renders")
    verdicts = []
    try:
        for name, kind in (("binder-examples__conda", "conda"),
                           ("binder-examples__requirements", "python"),
                           ("numpy__numpy-tutorials", "conda")):
            repo = corpus.materialise(name, tmp)
            anchor: list[float] = []
            ours: list[float] = []
            for _ in range(args.rounds):  # interleaved, so drift hits both alike
                anchor += measure(ANCHOR, repo, renders)
                ours += measure(OURS, repo, renders)
            a, o = statistics.median(anchor), statistics.median(ours)
            a90 = sorted(anchor)[int(len(anchor) * 0.9)]
            o90 = sorted(ours)[int(len(ours) * 0.9)]
            print(f"  {name:<34} {kind:<7} repo2docker {a * 1000:6.2f} ({a90 * 1000:6.2f})   "
                  f"r2d-tui {o * 1000:6.2f} ({o90 * 1000:6.2f})   ratio r2d-tui/repo2docker "
                  f"{o / a:.2f}")
            verdicts.append((f"render {kind} ({name})", o, a))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    for label, o, a in verdicts:
        goal(label, o, a, unit="ms", target=0.005)


if __name__ == "__main__":
    main()
