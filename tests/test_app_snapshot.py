"""How the main screen looks, as an SVG snapshot (pytest-textual-snapshot).

The repository, render options and session are fixed (no engine probe, no watcher, no
debounce, a fixed repository name) so the picture depends only on r2d-tui, Textual and
repo2docker versions. Update deliberately with ``pytest --snapshot-update`` after a
Textual or repo2docker bump, and look at the new SVG before committing it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app_support import SIZE, main_screen, make_app, python_repo, settle
from textual.pilot import Pilot

from r2d_tui.app.widgets.diagnostics import DiagnosticsTable


def test_main_screen(snap_compare: Callable[..., bool], tmp_path: Path) -> None:
    app = make_app(python_repo(tmp_path))

    async def run_before(pilot: Pilot[int]) -> None:
        await settle(pilot)
        screen = main_screen(pilot)
        screen.editor.cursor_blink = False
        screen.query_one(DiagnosticsTable).focus()
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
