"""Bench: the TUI's preview latency and start-up, and ``r2d-tui --help``.

Issue #9's goals:
* last keystroke → preview updated ≤ 150 ms, debounce included, through the real app;
* ``r2d-tui REPO`` → first screen with the preview ≤ 1.0 s;
* ``r2d-tui --help`` ≤ 0.3 s.

Preview latency is measured with Textual's Pilot on the real app with its real debounce
(80 ms): a key is pressed in runtime.txt (switching python-3.11 / python-3.12), and the
clock stops when the preview shows the new Dockerfile. Start-up is measured from process
spawn to the moment the app has painted a preview, in a fresh interpreter each round.
Anchor for start-up: ``repo2docker --no-build`` on the same repository in the same run
(what one otherwise waits for to see the Dockerfile).

    python bench/tui_latency.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import report, rounds, time_command  # noqa: E402

STARTUP = r"""
import asyncio, sys, time
start = float(sys.argv[2])
from r2d_tui.app.app import R2DApp, Session
from r2d_tui.app.widgets.preview import DockerfilePreview
from r2d_tui.core.render import RenderOptions
from r2d_tui.core.workspace import Workspace

async def main():
    app = R2DApp(Session(Workspace(sys.argv[1]), RenderOptions(), probe_engine=False,
                         watch_files=False))
    async with app.run_test(size=(120, 40)) as pilot:
        while True:
            previews = app.screen.query(DockerfilePreview)
            if previews and previews.first().text:
                break
            await pilot.pause(0.005)
        print(time.time() - start)

asyncio.run(main())
"""


def repo(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "requirements.txt").write_text("numpy\npandas\n")
    (root / "runtime.txt").write_text("python-3.11\n")
    (root / "postBuild").write_text("#!/bin/bash\nset -e\npip install -e .\n")
    return root


async def preview_latency(root: Path, count: int) -> list[float]:
    from r2d_tui.app.app import R2DApp, Session
    from r2d_tui.app.widgets.preview import DockerfilePreview
    from r2d_tui.core.render import RenderOptions
    from r2d_tui.core.workspace import Workspace

    app = R2DApp(Session(Workspace(root), RenderOptions(), probe_engine=False,
                         watch_files=False))
    times: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        preview = screen.query_one(DockerfilePreview)
        while not preview.text:
            await pilot.pause(0.01)
        screen.open_file("runtime.txt")  # type: ignore[attr-defined]
        await pilot.pause(0.2)
        await pilot.press("end", "left")  # before the newline? the text is one line
        await pilot.press("end")
        for index in range(count):
            version = "2" if index % 2 == 0 else "1"
            want = f"3-2e1{version}"
            await pilot.press("backspace")
            start = time.perf_counter()
            await pilot.press(version)
            while want not in (preview.text or ""):
                await asyncio.sleep(0.002)
            times.append(time.perf_counter() - start)
            await pilot.pause(0.05)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    root = repo(Path(tempfile.mkdtemp(prefix="r2d-bench-tui-")) / "demo")
    bindir = Path(sys.executable).parent

    latencies = asyncio.run(preview_latency(root, args.rounds * 3))
    median = statistics.median(latencies)
    print(f"preview latency (keystroke -> new Dockerfile shown, 80 ms debounce included): "
          f"median {median * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms over "
          f"{len(latencies)} keystrokes; goal <= 150 ms: {'met' if median <= 0.15 else 'NOT met'}")

    def startup() -> float:
        out = subprocess.run([sys.executable, "-c", STARTUP, str(root), repr(time.time())],
                             capture_output=True, text=True, check=True)
        return float(out.stdout.strip().splitlines()[-1])

    medians = report(rounds({
        "repo2docker --no-build (anchor)": lambda: time_command(
            [str(bindir / "repo2docker"), "--no-build", str(root)]),
        "r2d-tui REPO -> preview painted": startup,
        "r2d-tui --help": lambda: time_command([str(bindir / "r2d-tui"), "--help"]),
    }, args.rounds))
    start_up = medians["r2d-tui REPO -> preview painted"]
    print(f"ratio start-up / repo2docker --no-build: "
          f"{start_up / medians['repo2docker --no-build (anchor)']:.2f}; "
          f"start-up goal <= 1.0 s: {'met' if start_up <= 1.0 else 'NOT met'}; "
          f"--help goal <= 0.3 s: {'met' if medians['r2d-tui --help'] <= 0.3 else 'NOT met'}")


if __name__ == "__main__":
    main()
