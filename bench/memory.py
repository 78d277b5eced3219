"""Bench: the TUI's resident memory with a long build log vs the same app with none.

Issue #9's goal: TUI resident memory ≤ 150 MB with a 5 000-line build log; the log is
capped in memory and kept in full on disk (:mod:`r2d_tui.core.buildlog`).

Each measurement runs the real app (Textual's ``run_test``, 160×50) in a fresh
interpreter on a Dockerfile repository ``FROM r2d-tui-test/busybox:latest`` whose ``RUN``
prints N lines of 80 characters. The anchor is the same app on the same repository with an
empty log (no build), measured in the same run. With a log, the app builds through its own
build action (ctrl+b: the real engine, the real progress stream), waits for the build to
finish with the Build tab shown, and then reads ``VmRSS`` (and the peak, ``VmHWM``) from
``/proc/self/status``. It also checks that the full log on disk has every line while the
log widget holds only its cap. ``--three-steps`` adds a log three times as long.

Images are tagged ``r2d-tui-bench-mem-<nonce>/…`` and removed at the end, with the build
cache records whose step text carries the nonce (nobody else's).

    python bench/memory.py [--rounds 3] [--lines 5000] [--three-steps] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import goal, parse_args  # noqa: E402

BUSYBOX = "r2d-tui-test/busybox:latest"
NONCE = uuid.uuid4().hex[:8]
PREFIX = f"r2d-tui-bench-mem-{NONCE}"

CHILD = r"""
import asyncio, gc, json, sys
from pathlib import Path
from r2d_tui.app.app import R2DApp, Session
from r2d_tui.app.widgets.build_panel import BuildPanel
from r2d_tui.app.widgets.preview import DockerfilePreview
from r2d_tui.core.render import RenderOptions
from r2d_tui.core.workspace import Workspace
from textual.widgets import Log

def status():
    fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return {k: int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM")}

async def main(repo, tag, build):
    app = R2DApp(Session(Workspace(repo), RenderOptions(), probe_engine=False,
                         watch_files=False, tag=tag))
    out = {}
    async with app.run_test(size=(160, 50)) as pilot:
        screen = app.screen
        while not screen.query_one(DockerfilePreview).text:
            await pilot.pause(0.05)
        panel = screen.query_one(BuildPanel)
        if build:
            screen.action_build()
            for _ in range(1200):
                await pilot.pause(0.1)
                if panel.result is not None:
                    break
            result = panel.result
            assert result is not None and result.success, result and result.error
            out["log_path"] = str(result.log_path)
            out["log_lines"] = sum(1 for _ in open(result.log_path, encoding="utf-8"))
            out["widget_lines"] = panel.query_one("#build-log", Log).line_count
        else:
            screen.query_one("#bottom").active = "build-tab"
        await pilot.pause(1.0)
        gc.collect()
        await pilot.pause(0.2)
        out.update(status())
    print(json.dumps(out))

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3] == "1"))
"""


def make_repo(root: Path, lines: int, steps: int = 1) -> Path:
    """A Dockerfile repository whose ``steps`` RUN steps print ``lines`` lines in all."""
    root.mkdir(parents=True)
    text = "x" * 60
    per_step = lines // steps
    # 250 lines (21 kB) per quarter second: under BuildKit's log rate limit (100 KiB/s per
    # step), which would otherwise clip the output; and at most 2 MiB per step (its cap)
    runs = "".join(
        f"RUN i=1; while [ $i -le {per_step} ]; do echo \"{NONCE} step {step} line $i "
        f"{text}\"; if [ $((i % 250)) -eq 0 ]; then sleep 0.25; fi; i=$((i+1)); done\n"
        for step in range(1, steps + 1)
    )
    (root / "Dockerfile").write_text(f"FROM {BUSYBOX}\n{runs}")
    return root


def measure(repo: Path, tag: str, build: bool, env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", CHILD, str(repo), tag, "1" if build else "0"],
                          capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the app failed ({done.returncode}): {done.stderr[-3000:]}")
    data: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return data


def cleanup(tags: list[str]) -> None:
    subprocess.run(["docker", "image", "rm", "--force", *tags], capture_output=True,
                   check=False)
    out = subprocess.run(["docker", "buildx", "du", "--verbose"], capture_output=True,
                         text=True, check=False).stdout
    for block in out.split("\n\n"):
        fields = dict(line.split(":", 1) for line in block.splitlines() if ":" in line)
        record = fields.get("ID", "").strip()
        if record and NONCE in fields.get("Description", ""):
            subprocess.run(["docker", "buildx", "prune", "--force", "--filter", f"id={record}"],
                           capture_output=True, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=5000, help="lines per RUN step")
    parser.add_argument("--three-steps", action="store_true",
                        help="also a log of three such steps (not yet reliable: BuildKit "
                        "delivered only two steps' lines in some runs)")
    args = parse_args(parser, rounds=3)
    work = Path(tempfile.mkdtemp(prefix="r2d-bench-mem-"))
    env = {**os.environ, "R2D_TUI_CACHE_DIR": str(work / "cache")}
    # the extra case: three steps of that many lines (the in-memory cap is per step)
    sizes = [args.lines, args.lines * 3] if args.three_steps else [args.lines]
    repos = {n: make_repo(work / f"log{n}", n, steps=n // args.lines) for n in sizes}
    tags: list[str] = []
    results: dict[str, list[dict[str, float]]] = {"empty": []}
    try:
        for round_index in range(args.rounds):
            results["empty"].append(measure(repos[args.lines], f"{PREFIX}/empty:latest",
                                            False, env))
            for n in sizes:
                # a fresh tag and step text each round, so the RUN really runs
                repo = repos[n]
                dockerfile = repo / "Dockerfile"
                dockerfile.write_text(dockerfile.read_text().replace(
                    "line $i", f"line $i r{round_index}") if round_index else
                    dockerfile.read_text())
                tag = f"{PREFIX}/log{n}:{round_index}"
                tags.append(tag)
                results.setdefault(str(n), []).append(measure(repo, tag, True, env))
        print(f"TUI resident memory, {args.rounds} rounds (MB; VmRSS after the build, "
              "peak VmHWM in brackets)")
        medians: dict[str, float] = {}
        for name, runs in results.items():
            rss = [r["VmRSS"] for r in runs]
            medians[name] = statistics.median(rss)
            peak = statistics.median(r["VmHWM"] for r in runs)
            label = "empty log (anchor)" if name == "empty" else f"{int(name):,}-line build log"
            extra = ""
            if name != "empty":
                last = runs[-1]
                extra = (f"; full log on disk {int(last['log_lines']):,} lines, log widget "
                         f"{int(last['widget_lines']):,} lines")
                if last["log_lines"] < int(name):
                    raise SystemExit(f"the log on disk lacks lines: {last}")
            print(f"  {label:<28} median {medians[name]:6.1f} [{peak:6.1f}]   "
                  f"[{' '.join(f'{v:.1f}' for v in rss)}]{extra}")
        print()
        anchor = medians["empty"]
        goal(f"TUI RSS with a {args.lines}-line build log", medians[str(args.lines)], anchor,
             unit="MB", target=150.0)
        if args.three_steps:
            goal(f"TUI RSS with a {args.lines * 3}-line build log in 3 steps",
                 medians[str(args.lines * 3)], anchor, unit="MB", target=150.0)
    finally:
        cleanup(tags)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
