"""Regenerate the README screenshots from the real app.

Copies a repository of the shared corpus (real Binder configurations; the corpus itself is
never modified) into a temporary folder, runs the TUI on it headless at 120x40 with
Textual's ``run_test``, drives it like a user would, and saves ``screenshots/main.svg``
(plus ``main.png`` when an SVG converter is available: the ``cairosvg`` package, or the
``rsvg-convert`` command).

Usage::

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
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
sys.path.insert(0, str(PROJECT))

from r2d_tui.app.app import R2DApp, Session  # noqa: E402
from r2d_tui.app.screens.main import MainScreen  # noqa: E402
from r2d_tui.core.render import RenderOptions  # noqa: E402
from r2d_tui.core.workspace import Workspace  # noqa: E402

SIZE = (120, 40)
DEFAULT_REPO = "numpy__numpy-tutorials"


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


async def wait_idle(app: R2DApp) -> None:
    """Let the workers finish (the file watcher is off) and their messages land."""
    from textual.worker import WorkerState

    for _ in range(200):
        await asyncio.sleep(0)
        running = [w for w in app.workers
                   if w.state in (WorkerState.PENDING, WorkerState.RUNNING)]
        if not running:
            return
        await asyncio.sleep(0.05)


async def shoot(repo: Path, out: Path) -> Path:
    workspace = Workspace(repo, display_path=str(repo))
    session = Session(
        workspace,
        RenderOptions(user_id=1000, user_name="jovyan"),
        debounce=0.0,
        probe_engine=True,
        watch_files=False,
        repo_name=repo.name,
    )
    app = R2DApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_idle(app)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MainScreen)
        screen.editor.cursor_blink = False
        # Show an ignored file's reason under the tree, if the repository has one.
        detection = screen.detection
        if detection is not None and detection.ignored:
            screen.file_tree.focus()
            screen.file_tree.select_path(detection.ignored[0].path)
        await wait_idle(app)
        await pilot.pause()
        out.parent.mkdir(parents=True, exist_ok=True)
        app.save_screenshot(filename=out.name, path=str(out.parent))
    return out


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
    args = parser.parse_args()
    corpus = find_corpus(args.corpus)
    with tempfile.TemporaryDirectory(prefix="r2d-tui-shots-") as scratch:
        repo = copy_repo(corpus, args.repo, Path(scratch))
        svg = asyncio.run(shoot(repo, Path(args.out) / "main.svg"))
    print(f"wrote {svg}")
    png = to_png(svg)
    if png is not None:
        print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
