"""Bench: one Dockerfile render (the preview's work) vs repo2docker's own render.

Issue #9's goal: a render (conda and python buildpacks) takes at most 5 ms. The anchor is
repo2docker's own detect + render, measured in the same run in a fresh interpreter: it
recompiles its Jinja template on every call. r2d-tui drives the same buildpacks with the
compiled template cached. Both loops run in their own subprocess, warm, N renders each;
medians are printed with the ratio.

    python bench/render_vs_repo2docker.py [--renders 60]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

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
    parser.add_argument("--renders", type=int, default=60)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="r2d-bench-render-"))
    print(f"{args.renders} warm renders each; median ms (p90)")
    for name, kind in (("binder-examples__conda", "conda"),
                       ("binder-examples__requirements", "python"),
                       ("numpy__numpy-tutorials", "conda")):
        repo = corpus.materialise(name, tmp)
        anchor = measure(ANCHOR, repo, args.renders)
        ours = measure(OURS, repo, args.renders)
        a, o = statistics.median(anchor), statistics.median(ours)
        a90 = sorted(anchor)[int(len(anchor) * 0.9)]
        o90 = sorted(ours)[int(len(ours) * 0.9)]
        print(f"  {name:<34} {kind:<7} repo2docker {a * 1000:6.2f} ({a90 * 1000:6.2f})   "
              f"r2d-tui {o * 1000:6.2f} ({o90 * 1000:6.2f})   ratio r2d-tui/repo2docker "
              f"{o / a:.2f}   goal <= 5 ms: {'met' if o <= 0.005 else 'NOT met'}")


if __name__ == "__main__":
    main()
