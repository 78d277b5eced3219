"""How the main screen looks, as an SVG snapshot (pytest-textual-snapshot).

The repository, render options and session are fixed (no engine probe, no watcher, no
debounce, a fixed repository name) so the picture depends only on r2d-tui, Textual and
repo2docker versions. Update deliberately with ``pytest --snapshot-update`` after a
Textual or repo2docker bump, and look at the new SVG before committing it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from app_support import SIZE, main_screen, make_app, python_repo, settle
from textual.pilot import Pilot

from r2d_tui.app.widgets.diagnostics import DiagnosticsTable


@pytest.fixture
def install_path_independent(monkeypatch: pytest.MonkeyPatch) -> None:
    """repo2docker names its helper files after their absolute install path (so the
    generated Dockerfile's longest lines, and the preview's scrollbar, depend on where the
    venv lives). For a looks test, name them as if installed at one fixed path."""
    from repo2docker.buildpacks.base import BuildPack

    original = BuildPack.generate_build_context_filename
    site = str(Path(original.__code__.co_filename).parents[2])

    def fixed(src_path: str, hash_length: int = 6) -> tuple[str, str]:
        name, path = original(src_path, hash_length)
        return original(path.replace(site, "/site-packages"), hash_length)[0], path

    monkeypatch.setattr(BuildPack, "generate_build_context_filename", staticmethod(fixed))


@pytest.mark.usefixtures("install_path_independent")
def test_main_screen(snap_compare: Callable[..., bool], tmp_path: Path) -> None:
    app = make_app(python_repo(tmp_path))

    async def run_before(pilot: Pilot[int]) -> None:
        await settle(pilot)
        screen = main_screen(pilot)
        screen.editor.cursor_blink = False
        screen.query_one(DiagnosticsTable).focus()
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
