"""How each screen state looks, as SVG snapshots (pytest-textual-snapshot).

The repository, render options and session are fixed (no engine probe, no watcher, no
debounce, a fixed repository name, no cursor blink, fixed terminal sizes) so the pictures
depend only on r2d-tui, Textual and repo2docker versions. States covered: the main screen,
a finding selected in the diagnostics, the Dockerfile diff, 80x24, the help screen and the
light theme. Build states are not snapshotted (durations and image ids change every run);
``scripts/make_screenshots.py`` shows them from a real build instead. Update deliberately
with ``pytest --snapshot-update`` after a Textual or repo2docker bump, and look at the new
SVGs before committing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from app_support import SIZE, main_screen, make_app, python_repo, settle
from textual.pilot import Pilot

from r2d_tui.app.app import R2DApp
from r2d_tui.app.widgets.diagnostics import DiagnosticsTable

Snap = Callable[..., bool]


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


async def _ready(pilot: Pilot[int]) -> None:
    await settle(pilot)
    main_screen(pilot).editor.cursor_blink = False


def _app(tmp_path: Path) -> R2DApp:
    return make_app(python_repo(tmp_path))


@pytest.mark.usefixtures("install_path_independent")
def test_finding_selected(snap_compare: Snap, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await _ready(pilot)
        table = main_screen(pilot).query_one(DiagnosticsTable)
        table.focus()
        await pilot.press("down")
        await settle(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=run_before)


@pytest.mark.usefixtures("install_path_independent")
def test_diff_view(snap_compare: Snap, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await _ready(pilot)
        screen = main_screen(pilot)
        screen.open_file("runtime.txt")
        screen.editor.apply_text("python-3.11\n")
        await settle(pilot)
        await pilot.press("f10")
        await settle(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=run_before)


@pytest.mark.usefixtures("install_path_independent")
def test_80x24(snap_compare: Snap, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path), terminal_size=(80, 24), run_before=_ready)


def _after_key(key: str) -> Callable[[Pilot[int]], Awaitable[None]]:
    async def run_before(pilot: Pilot[int]) -> None:
        await _ready(pilot)
        await pilot.press(key)
        await settle(pilot)

    return run_before


@pytest.mark.usefixtures("install_path_independent")
def test_help_screen(snap_compare: Snap, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=_after_key("f1"))


@pytest.mark.usefixtures("install_path_independent")
def test_light_theme(snap_compare: Snap, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=_after_key("ctrl+n"))
