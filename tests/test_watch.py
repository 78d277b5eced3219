"""The change watcher: bursts coalesce, and changes that cannot affect the image are dropped."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from r2d_tui.core.build import BuildResult, BuildSpec
from r2d_tui.core.watch import (
    ChangeFilter,
    WatchBuilder,
    is_temp_file,
    repo_ignore_patterns,
    watch_changes,
)


class Watcher:
    """Runs :func:`watch_changes` in the background and queues its batches."""

    def __init__(
        self, root: Path, debounce_ms: int, path_filter: Callable[[str], bool] | None
    ) -> None:
        self.batches: asyncio.Queue[set[str]] = asyncio.Queue()
        self.stop = asyncio.Event()
        self._task = asyncio.create_task(self._run(root, debounce_ms, path_filter))

    async def _run(
        self, root: Path, debounce_ms: int, path_filter: Callable[[str], bool] | None
    ) -> None:
        changes = watch_changes(
            root, debounce_ms=debounce_ms, stop_event=self.stop, path_filter=path_filter
        )
        async for batch in changes:
            await self.batches.put(batch)

    async def next(self, timeout: float = 5.0) -> set[str]:
        return await asyncio.wait_for(self.batches.get(), timeout)

    async def close(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self._task, 10)


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[Path]:
    root = tmp_path / "repo"
    (root / ".git" / "objects").mkdir(parents=True)
    (root / "binder").mkdir()
    (root / "binder" / "requirements.txt").write_text("numpy\n")
    (root / "binder" / ".dockerignore").write_text("build/\n*.log\n")
    (root / "build").mkdir()
    (root / "notebooks").mkdir()
    yield root


async def start(
    root: Path, debounce_ms: int = 150, path_filter: Callable[[str], bool] | None = None
) -> Watcher:
    watcher = Watcher(root, debounce_ms, path_filter)
    await asyncio.sleep(0.4)  # the watcher subscribes to the folder when iteration starts
    return watcher


async def test_burst_of_writes_is_one_batch(repo: Path) -> None:
    watcher = await start(repo, debounce_ms=150)
    try:
        # (Into an existing folder: inotify cannot see files created in a brand-new folder
        # before its watch is added; the folder's own event still triggers the rebuild.)
        names = {f"notebooks/n{i}.ipynb" for i in range(20)}
        for name in sorted(names):
            (repo / name).write_text("{}")
        (repo / "binder" / "requirements.txt").write_text("numpy\npandas\n")
        batch = await watcher.next()
        assert batch == names | {"binder/requirements.txt"}
        with pytest.raises(TimeoutError):
            await watcher.next(timeout=0.6)
    finally:
        await watcher.close()


async def test_ignored_paths_yield_nothing(repo: Path) -> None:
    watcher = await start(repo, debounce_ms=100, path_filter=lambda rel: rel != "skip-me.txt")
    try:
        (repo / ".git" / "objects" / "ab").write_text("blob")
        (repo / ".git" / "index.lock").write_text("")
        (repo / ".analysis.py.swp").write_text("swap")
        (repo / "analysis.py~").write_text("backup")
        (repo / ".#analysis.py").write_text("lock")
        (repo / ".postBuild.k3j2.r2d-tui.tmp").write_text("atomic save")
        (repo / "build" / "out.bin").write_text("ignored by binder/.dockerignore")
        (repo / "run.log").write_text("ignored by binder/.dockerignore")
        (repo / "skip-me.txt").write_text("rejected by path_filter")
        with pytest.raises(TimeoutError):
            await watcher.next(timeout=0.8)
        # The watcher is alive: a real change still comes through, alone.
        (repo / "analysis.py").write_text("print(1)\n")
        assert await watcher.next() == {"analysis.py"}
    finally:
        await watcher.close()


async def test_editing_the_ignore_file_takes_effect(repo: Path) -> None:
    watcher = await start(repo, debounce_ms=100)
    try:
        (repo / "binder" / ".dockerignore").write_text("*.log\n")  # build/ no longer ignored
        assert await watcher.next() == {"binder/.dockerignore"}
        (repo / "build" / "out.bin").write_text("now part of the image")
        assert await watcher.next() == {"build/out.bin"}
    finally:
        await watcher.close()


def test_repo_ignore_patterns_follow_repo2docker_and_buildkit(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("# comment\nroot-only\n\n")
    assert repo_ignore_patterns(tmp_path) == ["root-only"]
    (tmp_path / "binder").mkdir()
    (tmp_path / "binder" / ".containerignore").write_text("from-binder\n")
    assert repo_ignore_patterns(tmp_path) == ["from-binder"]  # root file ignored with binder/
    (tmp_path / "binder" / "Dockerfile").write_text("FROM scratch\n")
    assert repo_ignore_patterns(tmp_path) == ["root-only"]  # BuildKit reads the context's
    (tmp_path / "binder" / "Dockerfile.dockerignore").write_text("per-dockerfile\n")
    assert repo_ignore_patterns(tmp_path) == ["per-dockerfile"]


def test_change_filter_rules() -> None:
    keep = ChangeFilter(["data/*.bin", "!data/keep.bin"])
    assert keep("data/x.csv") and keep("data/keep.bin") and keep("Dockerfile")
    assert not keep("data/big.bin")
    assert not keep(".git/HEAD") and not keep("sub/.git/config")
    assert keep(".gitignore") and keep(".github/workflows/ci.yml")
    assert is_temp_file("a/.b.swp") and is_temp_file("4913") and not is_temp_file("b.swift")


async def test_watch_builder_burst_of_requests_builds_once(tmp_path: Path) -> None:
    root = tmp_path / "broken"
    root.mkdir()
    (root / "environment.yml").write_text("name: [unclosed\n")  # renders with a problem
    specs: list[int] = []
    results: list[BuildResult] = []

    def make_spec() -> BuildSpec:
        specs.append(len(specs))
        return BuildSpec.from_disk(root)

    builder = WatchBuilder(make_spec, on_result=results.append)
    for i in range(5):
        builder.request({f"file{i}"})
    result = await builder.wait()
    assert specs == [0] and builder.builds_started == 1
    assert results == [result] and result is not None
    assert result.error_kind == "render" and builder.last_changes == {"file4"}
    await builder.stop()
    assert not builder.building


async def test_watch_builder_reports_a_spec_that_cannot_be_made() -> None:
    results: list[BuildResult] = []

    def make_spec() -> BuildSpec:
        raise FileNotFoundError("the repository folder is gone")

    builder = WatchBuilder(make_spec, on_result=results.append)
    await builder.request()
    assert len(results) == 1 and results[0].error_kind == "render"
    assert results[0].error == "cannot prepare the build: the repository folder is gone"
    assert builder.builds_started == 0
