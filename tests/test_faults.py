"""Fault injection on saves, with real faults instead of mocks (issue #7).

* ``kill -9`` during a save: a child process saves a large buffer in a loop through
  :meth:`Workspace.save` and is SIGKILLed at random moments; after every kill the file is,
  byte for byte, either the old or the new content, with its mode, and a killed writer's
  temporary file is removed the next time the file is opened or saved.
* A full disk: a 64 KiB tmpfs (needs root and permission to mount; skipped otherwise,
  with the reason) holds the repository; a save bigger than the free space fails with the
  system's message, the file keeps its old content, the buffer stays dirty, and no
  temporary file is left. The same through the TUI (Pilot).
"""

from __future__ import annotations

import contextlib
import errno
import os
import random
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_support import SIZE, main_screen, make_app, settle

from r2d_tui.core.workspace import TEMP_SUFFIX, Workspace, WorkspaceError, stale_temp_files

#: A child that alternates two large texts in postBuild, saving each, forever.
SAVER = """
import sys
from r2d_tui.core.workspace import Workspace
root, a, b = sys.argv[1], sys.argv[2], sys.argv[3]
texts = [open(a, encoding="utf-8").read(), open(b, encoding="utf-8").read()]
workspace = Workspace(root)
workspace.open("postBuild")
print("ready", flush=True)
n = 0
while True:
    workspace.set_text("postBuild", texts[n % 2])
    workspace.save("postBuild")
    n += 1
"""


def _texts(folder: Path) -> tuple[str, str]:
    """Two 4 MB scripts that differ everywhere, so a torn write cannot equal either."""
    line_a = "echo " + "a" * 70 + "\n"
    line_b = "echo " + "b" * 70 + "\n"
    a = "#!/bin/sh\n" + line_a * 55_000
    b = "#!/bin/sh\n" + line_b * 55_000
    (folder / "a.txt").write_text(a)
    (folder / "b.txt").write_text(b)
    return a, b


def test_kill_9_during_saves_leaves_the_old_or_the_new_file(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    a, b = _texts(tmp_path)
    post_build = repo / "postBuild"
    post_build.write_text(a)
    post_build.chmod(0o751)
    allowed = {a.encode(), b.encode()}
    rounds, killed_mid_write = 15, 0
    rng = random.Random(7)
    for _ in range(rounds):
        child = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(repo), str(tmp_path / "a.txt"),
             str(tmp_path / "b.txt")],
            stdout=subprocess.PIPE, text=True,
        )
        try:
            assert child.stdout is not None and child.stdout.readline() == "ready\n"
            time.sleep(rng.uniform(0.02, 0.4))
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
        assert post_build.read_bytes() in allowed
        assert stat.S_IMODE(post_build.stat().st_mode) == 0o751
        leftovers = stale_temp_files(post_build)
        killed_mid_write += bool(leftovers)
        # the next open (a new session) removes what the killed writer left
        Workspace(repo).open("postBuild")
        assert stale_temp_files(post_build) == []
        assert sorted(os.listdir(repo)) == ["postBuild"]
    # the kills really landed inside saves, not only between them
    print(f"{killed_mid_write} of {rounds} kills landed inside a save")
    assert killed_mid_write >= 1, f"no kill hit a save in {rounds} rounds"


# --- a real full disk ------------------------------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A mounted 64 KiB tmpfs, unmounted afterwards."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", str(mount_point)],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _repo_on(disk: Path) -> Path:
    repo = disk / "repo"
    repo.mkdir()
    (repo / "requirements.txt").write_text("numpy\n")
    (repo / "postBuild").write_text("#!/bin/sh\necho hi\n")
    (repo / "postBuild").chmod(0o755)
    return repo


def _no_temp_files(repo: Path) -> list[str]:
    return [name for name in os.listdir(repo) if name.endswith(TEMP_SUFFIX)]


def test_save_on_a_full_disk_fails_and_keeps_the_file(tiny_disk: Path) -> None:
    repo = _repo_on(tiny_disk)
    workspace = Workspace(repo)
    big = "#!/bin/sh\n" + "echo filling the disk\n" * 10_000  # ~220 kB > 64 kB
    workspace.set_text("postBuild", big)
    with pytest.raises(WorkspaceError) as info:
        workspace.save("postBuild")
    message = str(info.value)
    assert message.startswith("postBuild: not saved: ")
    assert os.strerror(errno.ENOSPC) in message
    assert (repo / "postBuild").read_text() == "#!/bin/sh\necho hi\n"
    assert stat.S_IMODE((repo / "postBuild").stat().st_mode) == 0o755
    assert workspace.is_dirty("postBuild") and workspace.text("postBuild") == big
    assert _no_temp_files(repo) == []
    # a small edit still fits: the disk being full once does not wedge the workspace
    workspace.set_text("postBuild", "#!/bin/sh\necho small\n")
    workspace.save("postBuild")
    assert (repo / "postBuild").read_text() == "#!/bin/sh\necho small\n"
    assert not workspace.is_dirty("postBuild")


async def test_tui_save_on_a_full_disk_says_why_and_stays_dirty(tiny_disk: Path) -> None:
    repo = _repo_on(tiny_disk)
    app = make_app(repo)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        screen.open_file("requirements.txt")
        await settle(pilot)
        big = "numpy\n" + "# padding the file past the free space\n" * 3000
        screen.editor.apply_text(big)
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.dirty == frozenset({"requirements.txt"})
        assert (repo / "requirements.txt").read_text() == "numpy\n"
        errors = [n for n in app._notifications if n.title == "Not saved"]
        assert errors and os.strerror(errno.ENOSPC) in errors[-1].message
        assert _no_temp_files(repo) == []
        with contextlib.suppress(Exception):
            screen.workspace.revert("requirements.txt")  # quit without the unsaved prompt
