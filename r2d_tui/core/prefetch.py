"""Detect a repository in a second process while the TUI starts (issue #9).

The first preview of a repository the TUI has not seen needs repo2docker: importing it and
rendering take 0.2–0.4 s of interpreter time, which in the TUI's own process comes on top of
importing Textual and composing the first screen, all under one interpreter lock. A child
process started before Textual is imported does that work on another core and leaves its
answer in the detection cache (:mod:`r2d_tui.core.detect_cache`), where the first preview
finds it: the same bytes, since the cache stores repo2docker's render. When the repository
was seen before, the child finds the cache warm and exits after ~0.1 s.

The child is only a head start. Whatever it does, the TUI renders for itself when the cache
has no answer (the child failed, was too slow, or the files changed meanwhile), so a child
that crashes costs nothing but its time. The options travel on the child's stdin, not on
its command line, so build arguments do not show in ``ps``. It runs with ``-P``: nothing in
the working folder (often the repository) is importable by it. On a one-core machine no child
is started: the two processes would only take turns.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import subprocess
import sys
from typing import IO, Any

from r2d_tui.core.render import RenderOptions

#: How long the first preview waits for the child before rendering in-process.
WAIT_SECONDS = 15.0


class Prefetch:
    """A running (or finished) child; :meth:`wait` before reading the detection cache."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self._process = process

    @property
    def pid(self) -> int:
        return self._process.pid

    def wait(self, timeout: float = WAIT_SECONDS) -> bool:
        """Wait for the child to end; stop it after ``timeout``. Whether it ended well."""
        try:
            return self._process.wait(timeout) == 0
        except subprocess.TimeoutExpired:
            self.cancel()
            return False

    def cancel(self) -> None:
        """Stop the child if it still runs (the TUI quit first, or gave up waiting)."""
        if self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(5)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def start(path: str, options: RenderOptions | None = None) -> Prefetch | None:
    """Start detecting ``path`` in a child process; ``None`` when it would not help (one
    core) or could not start."""
    if _cores() < 2:
        return None
    payload = json.dumps(dataclasses.asdict(options or RenderOptions())).encode()
    try:
        # -P: ``-m`` would put the working folder (often the repository itself) first on
        # sys.path, and a json.py or r2d_tui/ there would run on the host
        process = subprocess.Popen(
            [sys.executable, "-P", "-m", "r2d_tui.core.prefetch", os.path.abspath(path)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    except OSError:
        return None
    stdin: IO[bytes] | None = process.stdin
    try:
        if stdin is not None:
            stdin.write(payload)
            stdin.close()
    except OSError:  # the child is gone already: the TUI renders for itself
        pass
    return Prefetch(process)


def options_from_json(data: dict[str, Any]) -> RenderOptions:
    """The :class:`RenderOptions` that :func:`start` wrote as JSON."""
    fields = {field.name for field in dataclasses.fields(RenderOptions)}
    values = {key: value for key, value in data.items() if key in fields}
    for key in ("labels", "build_args"):
        values[key] = tuple((str(k), str(v)) for k, v in values.get(key, ()))
    return RenderOptions(**values)


def main(argv: list[str]) -> int:
    """The child: detect ``argv[0]`` with the options read from stdin, filling the cache."""
    from r2d_tui.core.detection import detect
    from r2d_tui.core.stack import call_with_headroom
    from r2d_tui.core.workspace import Workspace, WorkspaceError

    try:
        options = options_from_json(json.loads(sys.stdin.buffer.read() or b"{}"))
        workspace = Workspace(argv[0])
    except (ValueError, TypeError, IndexError, WorkspaceError):
        return 2
    try:
        call_with_headroom(detect, workspace, options)
    finally:
        workspace.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
