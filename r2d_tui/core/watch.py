"""Rebuild when the repository changes: a file watcher and a build loop that supersedes.

Why a module of its own: ``r2d-tui build --watch`` and the TUI both rebuild on save, and
both need the same two guarantees.

* **Only changes that can affect the image count.** Git's internals (``.git/``), editor
  swap and backup files (``*.swp``, ``*~``, ``.#*``, vim's ``4913`` probe) and r2d-tui's own
  atomic-save temp files (``.*.r2d-tui.tmp``) change on every save or commit without
  changing what the user means to build; paths excluded by the repository's ignore file
  never reach the image at all.
* **A burst of saves builds once, with the last state.** ``watchfiles`` groups changes that
  arrive within ``debounce_ms``; a change that arrives while a build runs cancels that build
  (its processes are stopped, see :func:`r2d_tui.core.build.run_build`) and starts a new
  one from a fresh render of the disk.
* **The first save builds at once; a burst waits for quiet.** A change after a quiet spell
  starts a build immediately (save → build start is what the author waits for). Changes
  that follow each other within ``coalesce_ms`` (a formatter rewriting files, a script
  saving fifty times) cancel the running build and start *one* build when they stop, so
  fifty saves in five seconds make at most two builds: the first save's, cancelled, and the
  last state's.
"""

from __future__ import annotations

import asyncio
import fnmatch
import os
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path

from r2d_tui.core import lazy
from r2d_tui.core.build import (
    BuildEvent,
    BuildResult,
    BuildSpec,
    run_build,
)
from r2d_tui.core.envfiles import BINDER_DIRS

#: Changes closer together than this (ms) are a burst: one build when it ends.
COALESCE_MS = 300

#: File-name patterns of editor temp files and r2d-tui's own atomic-save temp files.
TEMP_FILE_PATTERNS: tuple[str, ...] = (
    "*.swp",
    "*.swo",
    "*.swx",
    "*~",
    ".#*",
    "#*#",
    "4913",
    ".*.r2d-tui.tmp",
    "*.r2d-tui.tmp",
    ".DS_Store",
    "*___jb_tmp___",
    "*___jb_old___",
)


def is_temp_file(rel: str) -> bool:
    """True for an editor or atomic-save temp file (judged by its name)."""
    name = rel.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in TEMP_FILE_PATTERNS)


def is_git_internal(rel: str) -> bool:
    """True for paths inside a ``.git`` folder (or a ``.git`` file of a worktree)."""
    return ".git" in rel.split("/")


def repo_ignore_patterns(root: Path) -> list[str]:
    """The ignore patterns that keep files of ``root`` out of its image, read from disk.

    For a repository built from its own Dockerfile, BuildKit reads
    ``<Dockerfile>.dockerignore`` next to the Dockerfile, else the root ``.dockerignore``.
    Otherwise repo2docker reads ``.dockerignore`` and ``.containerignore`` from the binder
    folder (or the root when there is none); this matches ``ContextPlan.ignore_patterns``.
    """
    binder = next((d for d in BINDER_DIRS if (root / d).is_dir()), "")
    folder = root / binder if binder else root
    if (folder / "Dockerfile").is_file():
        candidates = [folder / "Dockerfile.dockerignore", root / ".dockerignore"]
        files = [next((c for c in candidates if c.is_file()), None)]
    else:
        files = [folder / ".dockerignore", folder / ".containerignore"]
    patterns: list[str] = []
    for path in files:
        if path is None:
            continue
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        patterns.extend(s for s in (line.strip() for line in lines) if s and s[0] != "#")
    return patterns


class ChangeFilter:
    """Decides which repository-relative paths can affect the image."""

    def __init__(
        self,
        patterns: Iterable[str] = (),
        path_filter: Callable[[str], bool] | None = None,
    ) -> None:

        # The same matcher (and the same "!Dockerfile" exception) as exclude_paths.
        self._matcher = lazy.load("docker.utils.build").PatternMatcher(
            [*patterns, "!Dockerfile"]
        )
        self._path_filter = path_filter

    def __call__(self, rel: str) -> bool:
        if not rel or rel.startswith("../") or is_git_internal(rel) or is_temp_file(rel):
            return False
        if self._matcher.matches(rel):
            return False
        return self._path_filter is None or self._path_filter(rel)


async def watch_changes(
    root: str | Path,
    *,
    debounce_ms: int = 150,
    stop_event: asyncio.Event | None = None,
    path_filter: Callable[[str], bool] | None = None,
    ignore_patterns: Callable[[], Iterable[str]] | None = None,
) -> AsyncIterator[set[str]]:
    """Yield sets of repository-relative paths that changed and can affect the image.

    Changes within ``debounce_ms`` of each other (``watchfiles`` ``debounce``; ``step`` is
    the quiet time that ends a group early) come as one set. ``path_filter`` can reject
    more paths (return ``False``). ``ignore_patterns`` returns the current ignore patterns;
    by default they are re-read from the repository (:func:`repo_ignore_patterns`) for
    every batch, so editing ``.dockerignore`` takes effect at once. Stops when
    ``stop_event`` is set.

    The set says *that* something relevant changed and roughly what; it is not a complete
    list. inotify cannot report files created in a new folder before the folder is watched
    (the folder itself is reported). A build syncs the whole tree, so nothing is missed.
    """
    import watchfiles

    base = Path(root).resolve()
    patterns_of = ignore_patterns or (lambda: repo_ignore_patterns(base))
    async for changes in watchfiles.awatch(
        base,
        watch_filter=None,
        debounce=debounce_ms,
        step=min(50, debounce_ms),
        stop_event=stop_event,
    ):
        keep = ChangeFilter(patterns_of(), path_filter)
        batch: set[str] = set()
        for _change, path in changes:
            rel = os.path.relpath(path, base).replace(os.sep, "/")
            if keep(rel):
                batch.add(rel)
        if batch:
            yield batch


class WatchBuilder:
    """Run one build at a time, always of the latest state; newer requests supersede.

    ``make_spec`` produces a fresh :class:`BuildSpec` (normally
    ``lambda: BuildSpec.from_disk(root, options)``); it runs in a worker thread at the start
    of every build, so each build renders the disk as it is then. :meth:`request` cancels a
    running build and starts a new one; :meth:`run` does that for every batch of changes.
    """

    def __init__(
        self,
        make_spec: Callable[[], BuildSpec],
        *,
        on_event: Callable[[BuildEvent], None] | None = None,
        on_result: Callable[[BuildResult], None] | None = None,
    ) -> None:
        self._make_spec = make_spec
        self._on_event = on_event
        self._on_result = on_result
        self._task: asyncio.Task[BuildResult | None] | None = None
        self._live: set[asyncio.Task[BuildResult | None]] = set()
        self.builds_started = 0
        self.builds_finished = 0
        self.builds_cancelled = 0
        self.last_result: BuildResult | None = None
        self.last_changes: frozenset[str] = frozenset()
        self._deferred: asyncio.Task[None] | None = None
        self._deferred_changes: set[str] = set()
        self._quiet_until = 0.0

    @property
    def building(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def waiting(self) -> bool:
        """A burst of changes is in progress: a build starts when it ends."""
        return self._deferred is not None and not self._deferred.done()

    def cancel(self) -> None:
        """Cancel the running build (if any) without starting another."""
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def request_after_quiet(self, changes: Iterable[str], quiet_s: float) -> None:
        """Cancel the running build; build once no request came for ``quiet_s`` seconds."""
        self.cancel()
        self._deferred_changes.update(changes)
        self._quiet_until = asyncio.get_running_loop().time() + quiet_s
        if not self.waiting:
            self._deferred = asyncio.create_task(self._after_quiet(), name="r2d-tui burst")

    async def _after_quiet(self) -> None:
        loop = asyncio.get_running_loop()
        while (delay := self._quiet_until - loop.time()) > 0:
            await asyncio.sleep(delay)
        changes, self._deferred_changes = self._deferred_changes, set()
        self._deferred = None
        self.request(changes)

    def request(self, changes: Iterable[str] = ()) -> asyncio.Task[BuildResult | None]:
        """Cancel the running build (if any) and build the current state."""
        previous = self._task
        if previous is not None and not previous.done():
            previous.cancel()
        self.last_changes = frozenset(changes)
        task = asyncio.create_task(self._build(previous), name="r2d-tui build")
        self._task = task
        self._live.add(task)
        task.add_done_callback(self._live.discard)
        return task

    async def _build(self, previous: asyncio.Task[BuildResult | None] | None) -> BuildResult | None:
        if previous is not None:
            # Let the superseded build stop its processes before this one starts its own
            # (run_build's per-repository lock would also make it wait).
            await asyncio.wait([previous])
        try:
            spec = await asyncio.to_thread(self._make_spec)
        except Exception as error:  # a vanished folder, an unreadable file: report it
            result = BuildResult(
                False, "", error=f"cannot prepare the build: {error}", error_kind="render"
            )
        else:
            self.builds_started += 1
            try:
                result = await run_build(spec, self._on_event)
            except asyncio.CancelledError:
                self.builds_cancelled += 1
                raise
        self.builds_finished += 1
        self.last_result = result
        if self._on_result is not None:
            self._on_result(result)
        return result

    async def wait(self) -> BuildResult | None:
        """Wait for the current build (and any build that supersedes it, or that a burst of
        changes has scheduled) to end."""
        while True:
            deferred = self._deferred
            if deferred is not None and not deferred.done():
                await asyncio.wait([deferred])
                continue
            task = self._task
            if task is None:
                return None
            await asyncio.wait([task])
            if task is self._task and not self.waiting:
                return None if task.cancelled() else task.result()

    async def stop(self) -> None:
        """Cancel every build still running and wait until their processes are gone."""
        if self._deferred is not None:
            self._deferred.cancel()
            self._deferred = None
        live = set(self._live)
        for task in live:
            task.cancel()
        if live:
            await asyncio.wait(live)

    async def run(
        self,
        root: str | Path,
        *,
        build_first: bool = True,
        debounce_ms: int = 150,
        stop_event: asyncio.Event | None = None,
        path_filter: Callable[[str], bool] | None = None,
        coalesce_ms: int = COALESCE_MS,
    ) -> None:
        """Build (unless ``build_first`` is false), then rebuild on every batch of changes.

        A batch after ``coalesce_ms`` of quiet builds at once; batches closer together
        than that are a burst, built once when it ends (:meth:`request_after_quiet`).
        Returns when ``stop_event`` is set; the running build is cancelled on the way out.
        """
        loop = asyncio.get_running_loop()
        quiet = coalesce_ms / 1000
        last_change = float("-inf")
        try:
            if build_first:
                self.request()
            async for changes in watch_changes(
                root, debounce_ms=debounce_ms, stop_event=stop_event, path_filter=path_filter
            ):
                now = loop.time()
                burst = now - last_change < quiet
                last_change = now
                if burst or self.waiting:
                    self.request_after_quiet(changes, quiet)
                else:
                    self.request(changes)
        finally:
            await self.stop()
