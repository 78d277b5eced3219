"""Helpers for the TUI tests: fixture repositories, a deterministic app, waiting for workers.

The app is made deterministic by its :class:`~r2d_tui.app.app.Session`: no debounce, no
engine probe (the status bar says "not checked"), no file watcher, fixed render options
and a fixed repository name, so temp-folder names never reach the screen.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from textual.pilot import Pilot
from textual.worker import Worker, WorkerCancelled, WorkerState

from r2d_tui.app.app import R2DApp, Session
from r2d_tui.app.screens.main import MainScreen
from r2d_tui.core.render import RenderOptions
from r2d_tui.core.workspace import Workspace

SIZE = (120, 40)
OPTIONS = RenderOptions(user_id=1000, user_name="jovyan", platform="linux/amd64")

POSTBUILD = """#!/bin/bash
if [ -f /.dockerenv ]; then
  echo "inside docker"
fi
"""


def make_repo(root: Path, files: dict[str, str], *, executable: tuple[str, ...] = ()) -> Path:
    """Write ``files`` under ``root``; paths in ``executable`` get mode 0o755."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o755 if rel in executable else 0o644)
    return root


def python_repo(tmp_path: Path) -> Path:
    """requirements.txt + runtime.txt + an executable postBuild with a /.dockerenv test."""
    return make_repo(
        tmp_path / "demo",
        {
            "requirements.txt": "numpy\npandas\n",
            "runtime.txt": "python-3.10\n",
            "postBuild": POSTBUILD,
        },
        executable=("postBuild",),
    )


def make_app(root: Path, **session: object) -> R2DApp:
    """An app over ``root`` with everything non-deterministic switched off."""
    settings: dict[str, object] = {
        "debounce": 0.0,
        "probe_engine": False,
        "watch_files": False,
        "freeze_after_start_up": False,
        "repo_name": "demo",
    }
    settings.update(session)
    options = settings.pop("options", OPTIONS)
    workspace = Workspace(root, display_path=str(root))
    return R2DApp(Session(workspace, options, **settings))  # type: ignore[arg-type]


#: Workers that run for the whole session (the file watcher): settle does not wait for them.
LONG_LIVED_GROUPS = frozenset({"watcher"})


def _busy(workers: object) -> list[Worker[object]]:
    return [w for w in workers  # type: ignore[attr-defined]
            if w.state in (WorkerState.PENDING, WorkerState.RUNNING)
            and w.group not in LONG_LIVED_GROUPS]


async def settle(pilot: Pilot[int]) -> None:
    """Wait until no worker runs (but the file watcher) and every message they posted was
    handled."""
    app = pilot.app
    busy: list[Worker[object]] = []
    for _ in range(200):
        await pilot.pause()
        busy = _busy(app.workers)
        if not busy:
            await pilot.pause()
            if not _busy(app.workers):
                return
            continue
        running = [w for w in busy if w.state == WorkerState.RUNNING]
        # a cancelled worker (a superseded render, a cancelled build) is an outcome too
        with contextlib.suppress(WorkerCancelled):
            await app.workers.wait_for_complete(running)
    raise AssertionError(f"workers still running: {busy}")


def main_screen(pilot: Pilot[int]) -> MainScreen:
    screen = pilot.app.screen
    assert isinstance(screen, MainScreen), screen
    return screen


def mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o777
