"""The full log of every build, on disk, while front ends keep only its last lines.

A build can print far more than a UI should hold: a ``pip install`` of a large environment
prints tens of thousands of lines. The progress tracker keeps a bounded number of lines per
step (:data:`r2d_tui.core.progress.MAX_LOG_LINES_PER_STEP`) and the TUI's log widget fewer
still, so memory stays flat; nothing is lost, because :func:`r2d_tui.core.build.run_build`
writes every event here as it arrives, in the shape of buildx's plain progress
(``#3 [2/4] RUN …``, ``#3 <line>``, ``#3 DONE 1.2s``).

Logs live in ``$R2D_TUI_CACHE_DIR/logs/<sha256(repository path)[:16]>/``, one file per
build, named by start time; the newest :data:`LOGS_KEPT` are kept. Writing the log never
fails a build: if the folder cannot be written, the build runs without one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from pathlib import Path
from typing import IO

from r2d_tui.core.paths import cache_dir
from r2d_tui.core.progress import (
    BuildWarning,
    OutputLine,
    ProgressEvent,
    StepFinished,
    StepLog,
    StepStarted,
)

#: Build logs kept per repository; older ones are deleted when a build starts.
LOGS_KEPT = 10


def log_dir_for(root: Path) -> Path:
    """The folder of the build logs of the repository at ``root``."""
    digest = hashlib.sha256(str(Path(root).resolve()).encode("utf-8")).hexdigest()[:16]
    return cache_dir() / "logs" / digest


class BuildLog:
    """One build's log file, written event by event."""

    def __init__(self, path: Path, handle: IO[str]) -> None:
        self.path = path
        self._handle: IO[str] | None = handle
        self._numbers: dict[str, int] = {}

    @classmethod
    def create(cls, root: Path) -> BuildLog | None:
        """A new log for a build of ``root`` (``None`` when it cannot be written)."""
        folder = log_dir_for(root)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _prune(folder, LOGS_KEPT - 1)
            path = folder / f"build-{stamp}-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}.log"
            handle = open(path, "w", encoding="utf-8", errors="replace")  # noqa: SIM115
        except OSError:
            return None
        return cls(path, handle)

    def write_text(self, *lines: str) -> None:
        if self._handle is None:
            return
        try:
            self._handle.write("".join(f"{line}\n" for line in lines))
        except (OSError, ValueError):
            self.close()

    def event(self, event: ProgressEvent) -> None:
        """Append what ``event`` adds to the log."""
        if isinstance(event, StepStarted):
            self.write_text(f"#{self._number(event.step.digest)} {event.step.name}")
        elif isinstance(event, StepLog):
            number = self._number(event.step.digest)
            self.write_text(*(f"#{number} {line}" for line in event.lines))
        elif isinstance(event, StepFinished):
            step = event.step
            number = self._number(step.digest)
            if step.error:
                self.write_text(f"#{number} ERROR: {step.error}")
            elif step.cached:
                self.write_text(f"#{number} CACHED")
            else:
                self.write_text(f"#{number} DONE")
        elif isinstance(event, BuildWarning):
            self.write_text(f"WARNING: {event.message}", *event.detail)
        elif isinstance(event, OutputLine):
            self.write_text(event.text)

    def _number(self, digest: str) -> int:
        return self._numbers.setdefault(digest, len(self._numbers) + 1)

    def close(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.close()


def _prune(folder: Path, keep: int) -> None:
    logs = sorted(folder.glob("build-*.log"), key=lambda p: p.name)
    for old in logs[: max(0, len(logs) - keep)]:
        with contextlib.suppress(OSError):
            old.unlink()
