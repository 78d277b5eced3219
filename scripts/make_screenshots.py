"""Regenerate the README screenshots from the real app.

Runs the TUI headless with Textual's ``run_test``, drives it the way a user would, and saves
one SVG (plus a PNG, with the ``cairosvg`` package of the ``screenshots`` extra or the
``rsvg-convert`` command) per screen state into ``screenshots/``:

* ``main``: a repository of the shared corpus (numpy/numpy-tutorials; the corpus itself is
  never modified, a copy is used) with an ignored file explained under the tree;
* ``diagnostics``: the same repository with a finding selected in the Problems tab;
* ``narrow``: the same at 80x24;
* ``build``: a build in progress, on the real engine;
* ``build-failed``: a failing ``postBuild`` and the explanation of the failure;
* ``diff``: the Dockerfile diff (F10) of an edit against the last build.

The build scenes need a Docker engine with buildx and only the local images
``r2d-tui-test/busybox:latest`` and ``r2d-tui-test/r2d-shim-base:latest`` (nothing is
pulled); their images are tagged ``r2d-tui-shots/…`` and removed afterwards.

Usage::

    pip install -e '.[screenshots]'
    python scripts/make_screenshots.py [--repo numpy__numpy-tutorials] [--corpus PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
sys.path.insert(0, str(PROJECT))

from textual.pilot import Pilot  # noqa: E402
from textual.widgets import Log  # noqa: E402

from r2d_tui.app.app import R2DApp, Session  # noqa: E402
from r2d_tui.app.screens.main import MainScreen  # noqa: E402
from r2d_tui.app.widgets.diagnostics import DiagnosticsTable  # noqa: E402
from r2d_tui.core.render import RenderOptions  # noqa: E402
from r2d_tui.core.workspace import Workspace  # noqa: E402

SIZE = (120, 40)
DEFAULT_REPO = "numpy__numpy-tutorials"
BUSYBOX = "r2d-tui-test/busybox:latest"
SHIM = "r2d-tui-test/r2d-shim-base:latest"
OPTIONS = RenderOptions(user_id=1000, user_name="jovyan")
TAG_PREFIX = "r2d-tui-shots/"

# the ENV value changes every run so that BuildKit reruns the steps (a cached build would
# be over before the "in progress" screenshot)
SLOW_DOCKERFILE = f"""FROM {BUSYBOX}
ENV DATA_RELEASE={uuid.uuid4().hex[:8]}
RUN echo "preparing the data" && sleep 1
RUN for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo "downloading part $i of 12"; sleep 1; done
RUN echo "done"
"""

FAILING_POSTBUILD = """#!/bin/bash
set -e
echo "Fetching the tutorial data"
test -f data/tutorial.csv || { echo "data/tutorial.csv is missing" >&2; exit 1; }
"""


def find_corpus(given: str | None) -> Path:
    candidates = [Path(given)] if given else []
    if os.environ.get("R2D_TUI_CORPUS"):
        candidates.append(Path(os.environ["R2D_TUI_CORPUS"]))
    candidates += [PROJECT.parent / "shared" / "corpus", Path("/work/shared/corpus")]
    for candidate in candidates:
        if (candidate / "repos").is_dir():
            return candidate
    raise SystemExit("make_screenshots: corpus not found (use --corpus PATH)")


def copy_repo(corpus: Path, name: str, dest: Path) -> Path:
    source = corpus / "repos" / name
    if not source.is_dir():
        raise SystemExit(f"make_screenshots: no corpus repository {name!r}")
    repo = dest / name.split("__", 1)[-1]
    shutil.copytree(source, repo, symlinks=True)
    for path in [repo, *repo.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o200)  # the corpus is read-only
    return repo


def write_repo(root: Path, files: dict[str, str], executable: tuple[str, ...] = ()) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o755 if rel in executable else 0o644)
    return root


async def wait_idle(app: R2DApp) -> None:
    """Let the workers finish (the file watcher is off) and their messages land."""
    from textual.worker import WorkerState

    for _ in range(2400):
        await asyncio.sleep(0)
        running = [w for w in app.workers
                   if w.state in (WorkerState.PENDING, WorkerState.RUNNING)]
        if not running:
            return
        await asyncio.sleep(0.05)
    raise SystemExit("make_screenshots: the app did not settle in 2 minutes")


async def wait_until(pilot: Pilot[int], condition: Callable[[], bool], what: str) -> None:
    for _ in range(1200):
        if condition():
            return
        await asyncio.sleep(0.05)
        await pilot.pause()
    raise SystemExit(f"make_screenshots: timed out waiting for {what}")


@asynccontextmanager
async def running_app(
    repo: Path, *, options: RenderOptions = OPTIONS, size: tuple[int, int] = SIZE,
    tag: str | None = None,
) -> AsyncIterator[tuple[Pilot[int], MainScreen]]:
    session = Session(
        Workspace(repo, display_path=str(repo)), options, debounce=0.0, probe_engine=True,
        watch_files=False, repo_name=repo.name, tag=tag,
    )
    app = R2DApp(session)
    async with app.run_test(size=size) as pilot:
        await wait_idle(app)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MainScreen)
        screen.editor.cursor_blink = False
        yield pilot, screen


def save(pilot: Pilot[int], out: Path, name: str) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    pilot.app.save_screenshot(filename=f"{name}.svg", path=str(out))
    return out / f"{name}.svg"


async def shoot_corpus(repo: Path, out: Path) -> list[Path]:
    """main, diagnostics and narrow, on the corpus repository."""
    shots: list[Path] = []
    async with running_app(repo) as (pilot, screen):
        # show an ignored file's reason under the tree, if the repository has one
        detection = screen.detection
        if detection is not None and detection.ignored:
            screen.file_tree.focus()
            screen.file_tree.select_path(detection.ignored[0].path)
        await wait_idle(pilot.app)
        await pilot.pause()
        shots.append(save(pilot, out, "main"))
        table = screen.query_one(DiagnosticsTable)
        table.focus()
        await pilot.press("home")
        await wait_idle(pilot.app)
        await pilot.pause(0.3)
        shots.append(save(pilot, out, "diagnostics"))
    async with running_app(repo, size=(80, 24)) as (pilot, _screen):
        shots.append(save(pilot, out, "narrow"))
    return shots


async def shoot_builds(scratch: Path, out: Path) -> list[Path]:
    """build (in progress), diff (after a build) and build-failed, on the real engine."""
    shots: list[Path] = []
    slow = write_repo(scratch / "tutorial-data", {"Dockerfile": SLOW_DOCKERFILE})
    async with running_app(slow, tag=f"{TAG_PREFIX}tutorial-data:latest") as (pilot, screen):
        await pilot.press("ctrl+b")
        log = screen.build_panel.query_one("#build-log", Log)
        await wait_until(pilot, lambda: any("part 3 of 12" in line for line in log.lines),
                         f"the build log ({screen.build_panel.summary}: {log.lines[-5:]})")
        shots.append(save(pilot, out, "build"))
        await wait_idle(pilot.app)
        panel = screen.build_panel
        if panel.result is None or not panel.result.success:
            raise SystemExit(f"make_screenshots: the build failed: {panel.summary}")
        screen.file_tree.focus()
        screen.editor.apply_text(
            SLOW_DOCKERFILE.replace("7 8 9 10 11 12;", "").replace("of 12", "of 6")
            .replace('RUN echo "done"', 'RUN echo "done" > /tmp/ready')
        )
        await wait_idle(pilot.app)
        await pilot.press("f10")
        await wait_idle(pilot.app)
        await pilot.pause(0.3)
        shots.append(save(pilot, out, "diff"))

    failing = write_repo(
        scratch / "tutorials", {"postBuild": FAILING_POSTBUILD},
        executable=("postBuild",),
    )
    options = RenderOptions(base_image=SHIM, user_id=1000, user_name="jovyan")
    async with running_app(failing, options=options,
                           tag=f"{TAG_PREFIX}tutorials:latest") as (pilot, screen):
        await pilot.press("ctrl+b")
        await wait_idle(pilot.app)
        panel = screen.build_panel
        if panel.result is None or panel.result.success:
            raise SystemExit("make_screenshots: the failing build did not fail")
        await pilot.pause(1.0)
        shots.append(save(pilot, out, "build-failed"))
    return shots


def remove_images() -> None:
    for name in ("tutorial-data", "tutorials"):
        subprocess.run(["docker", "rmi", "-f", f"{TAG_PREFIX}{name}:latest"],
                       capture_output=True, check=False, timeout=120)


def to_png(svg: Path) -> Path | None:
    png = svg.with_suffix(".png")
    try:
        import cairosvg  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError:
        converter = shutil.which("rsvg-convert")
        if converter is None:
            print("make_screenshots: no SVG converter (pip install cairosvg); PNG skipped")
            return None
        subprocess.run([converter, "-o", str(png), str(svg)], check=True)
        return png
    cairosvg.svg2png(url=str(svg), write_to=str(png), output_width=1800)
    return png


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default=DEFAULT_REPO, help="corpus repository folder name")
    parser.add_argument("--corpus", help="path of the corpus (default: ../shared/corpus)")
    parser.add_argument("--out", default=str(PROJECT / "screenshots"), help="output folder")
    parser.add_argument("--no-build", action="store_true",
                        help="skip the scenes that need a Docker engine")
    args = parser.parse_args()
    corpus = find_corpus(args.corpus)
    out = Path(args.out)
    with tempfile.TemporaryDirectory(prefix="r2d-tui-shots-") as scratch:
        repo = copy_repo(corpus, args.repo, Path(scratch))
        shots = asyncio.run(shoot_corpus(repo, out))
        if not args.no_build:
            try:
                shots += asyncio.run(shoot_builds(Path(scratch), out))
            finally:
                remove_images()
    for svg in shots:
        print(f"wrote {svg}")
        png = to_png(svg)
        if png is not None:
            print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
