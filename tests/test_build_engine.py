"""Builds on the real Docker engine (no mocks): success, caching, failure, cancellation.

Every image gets a tag under a per-test unique prefix and is removed afterwards. Only the
local images ``r2d-tui-test/busybox`` and ``r2d-tui-test/r2d-shim-base`` are used as bases
(no registry is reachable). The shim base makes repo2docker's generated steps run without
installing anything, which is what caching and progress tests need.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from r2d_tui.core.build import (
    BuildCancelled,
    BuildEvent,
    BuildFinished,
    BuildResult,
    BuildSpec,
    BuildStarted,
    ContextSynced,
    EngineStatus,
    run_build,
    run_build_sync,
)
from r2d_tui.core.progress import StepFinished, StepLog
from r2d_tui.core.render import RenderOptions
from r2d_tui.core.watch import WatchBuilder

pytestmark = pytest.mark.engine

BUSYBOX = "r2d-tui-test/busybox:latest"
SHIM = "r2d-tui-test/r2d-shim-base:latest"
OPTIONS = RenderOptions(base_image=SHIM, user_id=1000, user_name="jovyan")


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture(scope="module", autouse=True)
def _base_images(engine: EngineStatus) -> None:
    for image in (BUSYBOX, SHIM):
        if docker("image", "inspect", image).returncode != 0:
            pytest.fail(f"{image} is missing; run shared/tools/docker-engine-up")


class Images:
    """Unique tags for one test; every image tagged or listed here is removed afterwards."""

    def __init__(self) -> None:
        self.prefix = f"r2d-tui-test-build/{uuid.uuid4().hex[:12]}"
        self.names: list[str] = []

    def tag(self, name: str = "img") -> str:
        self.names.append(f"{self.prefix}-{name}:latest")
        return self.names[-1]

    def remove_later(self, image_id: str | None) -> None:
        """An image that lost its tag to a rebuild."""
        if image_id:
            self.names.append(image_id)

    def remove(self) -> None:
        if self.names:
            docker("image", "rm", "--force", *self.names)


@pytest.fixture
def images() -> Iterator[Images]:
    janitor = Images()
    yield janitor
    janitor.remove()


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def processes_mentioning(text: str) -> list[tuple[int, str]]:
    """Processes whose command line contains ``text`` (read from /proc, no psutil)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            raw = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        cmdline = raw.replace(b"\0", b" ").decode("utf-8", "replace")
        if text in cmdline:
            found.append((int(entry), cmdline))
    return found


async def wait_until_gone(text: str, timeout: float) -> list[tuple[int, str]]:
    deadline = time.monotonic() + timeout
    left = processes_mentioning(text)
    while left and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        left = processes_mentioning(text)
    return left


# --- Dockerfile repositories -----------------------------------------------------------------


def test_dockerfile_repo_builds_and_loads_the_image(tmp_path: Path, images: Images) -> None:
    nonce = uuid.uuid4().hex
    root = write(
        tmp_path / "dock",
        {
            "binder/Dockerfile": f"FROM {BUSYBOX}\nARG NB_USER\nCOPY hello.txt /hello.txt\n"
            f"RUN echo built-for-$NB_USER-{nonce}\n",
            "hello.txt": f"hello {nonce}\n",
        },
    )
    tag = images.tag()
    events: list[BuildEvent] = []
    result = run_build_sync(BuildSpec.from_disk(root, OPTIONS, tag=tag), events.append)

    assert result.success, result.error
    assert result.error is None and result.returncode == 0
    assert result.sync is not None and result.sync.files_written == 0  # no copy for Dockerfiles
    inspect = docker("image", "inspect", "--format", "{{.Id}} {{json .Config.Labels}}", tag)
    assert inspect.returncode == 0
    image_id, labels = inspect.stdout.split(" ", 1)
    assert result.image_id == image_id
    assert '"repo2docker.repo":"local"' in labels  # labels passed as --label, like repo2docker
    assert (result.steps_run, result.steps_cached) == (2, 0)
    run_step = next(s for s in result.steps if s.instruction == "RUN")
    assert run_step.logs == [f"built-for-jovyan-{nonce}"]
    assert isinstance(events[0], ContextSynced) and isinstance(events[1], BuildStarted)
    assert isinstance(events[-1], BuildFinished) and events[-1].result is result


# --- generated Dockerfiles -------------------------------------------------------------------


def generated_repo(root: Path, nonce: str) -> Path:
    write(
        root,
        {
            "requirements.txt": "numpy\n",
            "postBuild": f"#!/bin/sh\necho postbuild-{nonce}\ncat data/values.csv\n",
            "data/values.csv": f"x,{nonce}\n",
        },
    )
    (root / "postBuild").chmod(0o755)
    return root


async def test_generated_dockerfile_build_and_incremental_rebuild(
    tmp_path: Path,
    images: Images,
) -> None:
    nonce = uuid.uuid4().hex
    root = generated_repo(tmp_path / "gen", nonce)
    tag = images.tag()

    first = await run_build(BuildSpec.from_disk(root, OPTIONS, tag=tag))
    assert first.success, (first.error, first.log_tail)
    assert first.image_id and docker("image", "inspect", tag).returncode == 0
    post = next(s for s in first.steps if s.title == "RUN ./postBuild")
    assert post.logs == [f"postbuild-{nonce}", f"x,{nonce}"] and not post.cached

    # Edit one repository file that is not an environment file.
    (root / "data/values.csv").write_text(f"x,{nonce}\ny,2\n")
    second = await run_build(BuildSpec.from_disk(root, OPTIONS, tag=tag))
    images.remove_later(first.image_id)
    assert second.success, second.error
    assert second.sync is not None
    assert (second.sync.files_written, second.sync.deleted) == (1, 0)

    steps = [s for s in second.steps if not s.internal]
    copy_src = next(s for s in steps if s.instruction == "COPY" and " src/ " in s.title)
    assert copy_src.index is not None and copy_src.total is not None
    before = [s for s in steps if s.index is not None and s.index < copy_src.index]
    after = [s for s in steps if s.index is not None and s.index >= copy_src.index]
    assert [s.cached for s in before if s.instruction != "FROM"] == [True] * (len(before) - 1)
    assert [s.cached for s in after] == [False] * len(after)
    assert len(after) == copy_src.total - copy_src.index + 1
    assert (second.steps_run, second.steps_cached) == (len(after), len(before) - 1)
    assert next(s for s in steps if s.title == "RUN ./postBuild").logs[-1] == "y,2"
    assert second.image_id != first.image_id


async def test_failing_run_reports_error_and_last_lines(tmp_path: Path, images: Images) -> None:
    nonce = uuid.uuid4().hex
    root = write(
        tmp_path / "fail",
        {
            "Dockerfile": f"FROM {BUSYBOX}\n"
            f"RUN for i in 1 2 3; do echo line-$i-{nonce}; done; echo oops >&2; exit 7\n"
        },
    )
    tag = images.tag()
    result = await run_build(BuildSpec.from_disk(root, OPTIONS, tag=tag))
    assert not result.success
    assert result.error_kind == "build" and result.returncode not in (0, None)
    assert result.error is not None and "exit code: 7" in result.error
    assert result.failed_step is not None and result.failed_step.index == 2
    assert f"line-3-{nonce}" in result.log_tail and "oops" in result.log_tail
    assert any(">>> RUN" in line for line in result.output)
    assert result.image_id is None
    assert docker("image", "inspect", tag).returncode != 0


async def test_cancel_stops_every_build_process(tmp_path: Path, images: Images) -> None:
    nonce = uuid.uuid4().hex
    root = write(
        tmp_path / "slow",
        {"Dockerfile": f"FROM {BUSYBOX}\nRUN echo go-{nonce} && sleep 30 && echo {nonce}-done\n"},
    )
    tag = images.tag()
    running = asyncio.Event()
    events: list[BuildEvent] = []

    def on_event(event: BuildEvent) -> None:
        events.append(event)
        if isinstance(event, StepLog) and f"go-{nonce}" in event.lines:
            running.set()

    task = asyncio.create_task(run_build(BuildSpec.from_disk(root, OPTIONS, tag=tag), on_event))
    await asyncio.wait_for(running.wait(), 30)
    assert processes_mentioning(tag), "buildx should be running"
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 5
    assert processes_mentioning(tag) == []  # neither docker nor docker-buildx is left
    assert isinstance(events[-1], BuildCancelled)
    # BuildKit cancels the solve when its client goes: the RUN's shell goes away too.
    assert await wait_until_gone(f"{nonce}-done", timeout=10) == []
    assert docker("image", "inspect", tag).returncode != 0


async def test_unreachable_daemon_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write(tmp_path / "dock", {"Dockerfile": f"FROM {BUSYBOX}\n"})
    spec = BuildSpec.from_disk(root, OPTIONS, tag="r2d-tui-test-build/never:latest")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-daemon.sock")
    result = await run_build(spec)
    assert not result.success and result.error_kind == "engine"
    assert result.error is not None
    assert result.error.startswith("The Docker daemon is not reachable")


# --- rebuild on change -----------------------------------------------------------------------


async def test_watch_builder_supersedes_and_builds_the_last_state(
    tmp_path: Path,
    images: Images,
) -> None:
    nonce = uuid.uuid4().hex
    root = write(
        tmp_path / "watched",
        {
            "Dockerfile": f"FROM {BUSYBOX}\nCOPY data.txt /data.txt\n"
            f"RUN cat /data.txt && sleep 1 && echo slept-{nonce}\n",
            "data.txt": f"v0-{nonce}\n",
        },
    )
    tag = images.tag()
    results: list[BuildResult] = []
    first_running = asyncio.Event()
    finished_runs: list[str] = []

    def on_event(event: BuildEvent) -> None:
        if isinstance(event, StepLog) and f"v1-{nonce}" in event.lines:
            first_running.set()
        if isinstance(event, StepFinished) and event.step.instruction == "RUN":
            finished_runs.append(event.step.logs[0] if event.step.logs else "")

    builder = WatchBuilder(
        lambda: BuildSpec.from_disk(root, OPTIONS, tag=tag),
        on_event=on_event,
        on_result=results.append,
    )
    stop = asyncio.Event()
    watcher = asyncio.create_task(builder.run(root, build_first=False, stop_event=stop))
    await asyncio.sleep(0.5)  # let the watcher start

    (root / "data.txt").write_text(f"v1-{nonce}\n")
    await asyncio.wait_for(first_running.wait(), 30)
    for i in range(2, 6):  # a burst of saves while the first build runs
        (root / "data.txt").write_text(f"v{i}-{nonce}\n")
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.5)
    result = await asyncio.wait_for(builder.wait(), 30)
    stop.set()
    await asyncio.wait_for(watcher, 10)

    assert result is not None and result.success, result and result.error
    assert results == [result]  # the superseded build reported no result
    assert builder.builds_started == 2 and builder.builds_cancelled == 1
    run_step = next(s for s in result.steps if s.instruction == "RUN")
    assert run_step.logs == [f"v5-{nonce}", f"slept-{nonce}"]
    assert finished_runs == [f"v5-{nonce}"]  # the first build's RUN never finished
    assert processes_mentioning(tag) == []


async def test_builds_of_one_repository_take_turns(tmp_path: Path, images: Images) -> None:
    nonce = uuid.uuid4().hex
    root = write(
        tmp_path / "turns",
        {"Dockerfile": f"FROM {BUSYBOX}\nARG N\nRUN echo $N-{nonce} && sleep 0.5\n"},
    )
    log: list[tuple[str, str]] = []

    def recorder(name: str) -> Callable[[BuildEvent], None]:
        def on_event(event: BuildEvent) -> None:
            if isinstance(event, BuildStarted | BuildFinished):
                log.append((name, type(event).__name__))

        return on_event

    specs = [
        BuildSpec.from_disk(
            root, OPTIONS, tag=images.tag(name), extra_args=("--build-arg", f"N={name}")
        )
        for name in ("a", "b")
    ]
    results = await asyncio.gather(
        *(run_build(s, recorder(n)) for s, n in zip(specs, "ab", strict=True))
    )
    assert all(r.success for r in results)
    first = log[0][0]
    assert log[:2] == [(first, "BuildStarted"), (first, "BuildFinished")]
