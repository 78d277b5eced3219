"""The TUI in a real pseudo-terminal, as a person starts and quits it (the Pilot tests
wait for the screen to mount; a person does not)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from app_support import python_repo

R2D_TUI = Path(sys.executable).parent / "r2d-tui"


def _quit_as_soon_as_it_draws(root: Path, delay: float) -> tuple[int | None, bytes]:
    """Start ``r2d-tui root``, send ctrl+q ``delay`` s after its first output; the exit
    status (``None`` if it did not end) and what it printed."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color"}
    proc = subprocess.Popen([str(R2D_TUI), str(root)], stdin=slave, stdout=slave,
                            stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 20
        while not seen and time.monotonic() < deadline:
            if select.select([master], [], [], 0.05)[0]:
                seen += os.read(master, 65536)
        time.sleep(delay)
        os.write(master, b"\x11")  # ctrl+q
        end = time.monotonic() + 10
        while proc.poll() is None and time.monotonic() < end:
            if select.select([master], [], [], 0.05)[0]:
                with contextlib.suppress(OSError):
                    seen += os.read(master, 65536)
        return proc.poll(), seen
    finally:
        os.close(master)
        if proc.poll() is None:  # still running: the assertion on its status says so
            proc.kill()
            proc.wait()


def test_ctrl_q_while_the_screen_is_still_mounting_quits_cleanly(tmp_path: Path) -> None:
    """A ctrl+q in the first half second used to stop the app with a traceback from
    Textual's Tabs ("No Tab with id …") and exit status 1."""
    root = python_repo(tmp_path)
    for delay in (0.0, 0.05, 0.1, 0.2):
        status, seen = _quit_as_soon_as_it_draws(root, delay)
        assert status == 0, (delay, seen[-3000:].decode("utf-8", "replace"))
        assert b"Traceback" not in seen
