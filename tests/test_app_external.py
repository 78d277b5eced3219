"""Files changed, deleted and re-created on disk while the TUI has them open (issue #7).

The real file watcher runs (``watch_files=True``); the tests change files from outside the
app and wait for the app to notice. A clean buffer follows the disk; a dirty one is never
overwritten either way: the conflict dialog asks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from app_support import SIZE, main_screen, make_app, python_repo, settle
from textual.pilot import Pilot

from r2d_tui.app.screens.conflict import ConflictScreen
from r2d_tui.app.screens.main import MainScreen


async def until(pilot: Pilot[int], condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if condition():
            await settle(pilot)  # a dialog that just opened takes clicks once it is laid out
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def edit_requirements(pilot: Pilot[int]) -> MainScreen:
    """Open requirements.txt and type into it (an unsaved edit: ``numpy-mine``)."""
    await settle(pilot)
    screen = main_screen(pilot)
    screen.open_file("requirements.txt")
    await settle(pilot)
    screen.editor.focus()
    await pilot.press("end", *"-mine")
    await settle(pilot)
    return screen


async def test_clean_file_changed_on_disk_is_reloaded(tmp_path: Path) -> None:
    root = python_repo(tmp_path)
    app = make_app(root, watch_files=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        screen.open_file("requirements.txt")
        await settle(pilot)
        (root / "requirements.txt").write_text("scipy\n")
        await until(pilot, lambda: screen.editor.text == "scipy\n", "the reload")
        assert screen.dirty == frozenset()
        assert screen.workspace.text("requirements.txt") == "scipy\n"


async def test_clean_file_rewritten_unreadable_closes_and_typing_cannot_crash(
    tmp_path: Path,
) -> None:
    """The open, clean file is rewritten in latin-1 (or replaced by a folder) from outside:
    the editor closes it and says why, instead of showing stale text; the app keeps going."""
    root = python_repo(tmp_path)
    app = make_app(root, watch_files=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        screen.open_file("requirements.txt")
        await settle(pilot)
        (root / "requirements.txt").write_bytes(b"numpy # caf\xe9\n")
        await until(pilot, lambda: screen.current_path is None, "the close")
        assert screen.editor.path is None and screen.editor.read_only
        await pilot.press("x", "ctrl+s")  # nothing open: no crash, nothing written
        await settle(pilot)
        assert app.return_code is None  # still running
        assert (root / "requirements.txt").read_bytes() == b"numpy # caf\xe9\n"


async def test_clean_file_deleted_closes_and_a_recreated_one_comes_back(tmp_path: Path) -> None:
    root = python_repo(tmp_path)
    app = make_app(root, watch_files=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        screen.open_file("runtime.txt")
        await settle(pilot)
        (root / "runtime.txt").unlink()
        await until(pilot, lambda: "runtime.txt" not in screen.files, "the deletion")
        assert screen.current_path is None
        assert screen.editor.path is None and screen.editor.text == ""
        # a deleted clean file is not an unsaved edit: nothing to ask about on quit
        assert screen.dirty == frozenset()
        assert screen.workspace.dirty_paths() == []

        (root / "runtime.txt").write_text("python-3.12\n")
        await until(pilot, lambda: "runtime.txt" in screen.files, "the re-creation")
        screen.open_file("runtime.txt")
        await settle(pilot)
        assert screen.editor.text == "python-3.12\n"
        assert screen.dirty == frozenset()


async def test_dirty_file_changed_on_disk_asks_and_take_theirs_reloads(tmp_path: Path) -> None:
    root = python_repo(tmp_path)
    app = make_app(root, watch_files=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await edit_requirements(pilot)
        assert screen.dirty == frozenset({"requirements.txt"})
        (root / "requirements.txt").write_text("theirs\n")
        await until(pilot, lambda: isinstance(app.screen, ConflictScreen), "the dialog")
        assert (root / "requirements.txt").read_text() == "theirs\n"  # nothing written
        await pilot.click("#conflict-theirs")
        await until(pilot, lambda: screen.editor.text == "theirs\n", "the reload")
        assert screen.dirty == frozenset()
        assert (root / "requirements.txt").read_text() == "theirs\n"


async def test_dirty_file_deleted_on_disk_asks_and_keep_mine_writes_it_back(
    tmp_path: Path,
) -> None:
    root = python_repo(tmp_path)
    app = make_app(root, watch_files=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await edit_requirements(pilot)
        (root / "requirements.txt").unlink()
        await until(pilot, lambda: isinstance(app.screen, ConflictScreen), "the dialog")
        await pilot.click("#conflict-cancel")  # decide later: nothing written, still dirty
        await pilot.pause()
        assert not (root / "requirements.txt").exists()
        assert screen.dirty == frozenset({"requirements.txt"})
        await pilot.press("ctrl+s")  # the save asks again
        await until(pilot, lambda: isinstance(app.screen, ConflictScreen), "the second dialog")
        await pilot.click("#conflict-mine")
        await until(pilot, lambda: (root / "requirements.txt").exists(), "the save")
        assert (root / "requirements.txt").read_text() == "numpy-mine\npandas\n"
        await until(pilot, lambda: screen.dirty == frozenset(), "a clean buffer")
