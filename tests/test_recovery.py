"""Unsaved edits survive a crash: the recovery journal, in the core and in the TUI."""

from __future__ import annotations

import json
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

from app_support import SIZE, main_screen, make_app, python_repo, settle
from textual.pilot import Pilot

from r2d_tui.app.screens.confirm import ConfirmScreen
from r2d_tui.core.recovery import journal_path, read_journal, restore_journal, write_journal
from r2d_tui.core.workspace import Workspace


def test_journal_holds_the_dirty_buffers_and_goes_when_they_are_saved(tmp_path: Path) -> None:
    root = python_repo(tmp_path)
    workspace = Workspace(root)
    assert write_journal(workspace) is None
    workspace.set_text("requirements.txt", "numpy\nscipy\n")
    path = write_journal(workspace)
    assert path == journal_path(root)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # the user's text, for the user only
    assert read_journal(root) == {"requirements.txt": "numpy\nscipy\n"}
    workspace.save("requirements.txt")
    assert write_journal(workspace) is None
    assert not path.exists()


def test_restore_puts_texts_back_unsaved(tmp_path: Path) -> None:
    root = python_repo(tmp_path)
    before = (root / "requirements.txt").read_bytes()
    workspace = Workspace(root)
    restored = restore_journal(workspace, {"requirements.txt": "pandas\n",
                                           "runtime.txt": "python-3.10\n"})
    assert restored == ["requirements.txt"]  # runtime.txt already says that
    assert workspace.dirty_paths() == ["requirements.txt"]
    assert (root / "requirements.txt").read_bytes() == before


def test_a_damaged_or_hostile_journal_is_ignored(tmp_path: Path) -> None:
    root = python_repo(tmp_path)
    path = journal_path(root)
    path.parent.mkdir(parents=True)
    for content in (b"{not json", b"[1, 2]", json.dumps({"version": 99}).encode(),
                    b"\xff\xfe\x00"):
        path.write_bytes(content)
        assert read_journal(root) == {}
        assert not path.exists()
    path.write_text(json.dumps({"version": 1, "buffers": {
        "../outside.txt": "x", "/etc/passwd": "x", "apt.txt": 3, "requirements.txt": "ok\n"}}))
    assert read_journal(root) == {"requirements.txt": "ok\n"}


KILLED_SESSION = """
import sys
from r2d_tui.core.recovery import write_journal
from r2d_tui.core.workspace import Workspace
workspace = Workspace(sys.argv[1])
workspace.set_text("requirements.txt", "numpy\\nfrom-the-killed-session\\n")
write_journal(workspace)
print("journaled", flush=True)
import time
time.sleep(60)
"""


async def _answer(pilot: Pilot[int], button: str) -> None:
    for _ in range(100):
        if isinstance(pilot.app.screen, ConfirmScreen):
            break
        await pilot.pause(0.05)
    assert isinstance(pilot.app.screen, ConfirmScreen)
    await settle(pilot)
    await pilot.click(button)
    await settle(pilot)


async def test_tui_offers_the_edits_of_a_killed_session(tmp_path: Path) -> None:
    root = python_repo(tmp_path)
    before = (root / "requirements.txt").read_text()
    child = subprocess.Popen([sys.executable, "-c", KILLED_SESSION, str(root)],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline() == "journaled\n"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)

    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await _answer(pilot, "#confirm-yes")
        screen = main_screen(pilot)
        assert screen.dirty == frozenset({"requirements.txt"})
        assert screen.current_path == "requirements.txt"
        assert screen.editor.text == "numpy\nfrom-the-killed-session\n"
        assert (root / "requirements.txt").read_text() == before  # nothing written
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert (root / "requirements.txt").read_text() == "numpy\nfrom-the-killed-session\n"


async def test_tui_journals_edits_and_a_deliberate_quit_discards_them(tmp_path: Path) -> None:
    root = python_repo(tmp_path)
    app = make_app(root, journal_delay=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        screen.open_file("requirements.txt")
        await settle(pilot)
        screen.editor.focus()
        await pilot.press("end", *"-typed")
        deadline = time.monotonic() + 10
        while not read_journal(root) and time.monotonic() < deadline:
            await pilot.pause(0.05)
        assert read_journal(root) == {"requirements.txt": "numpy-typed\npandas\n"}
        await pilot.press("ctrl+q")
        await _answer(pilot, "#confirm-yes")  # discard and quit
    assert not journal_path(root).exists()


async def test_tui_discarding_the_offer_removes_the_journal(tmp_path: Path) -> None:
    root = python_repo(tmp_path)
    workspace = Workspace(root)
    workspace.set_text("runtime.txt", "python-3.12\n")
    write_journal(workspace)
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await _answer(pilot, "#confirm-no")
        screen = main_screen(pilot)
        assert screen.dirty == frozenset()
    assert read_journal(root) == {}
