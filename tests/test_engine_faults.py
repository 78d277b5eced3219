"""The Docker daemon stops in the middle of a build, on a real engine (issue #7).

The shared engine must not be disturbed (other tests use it at the same time), so each
test starts a **private dockerd** as root, with its own socket, data root, exec root and
pid file under a short temporary folder, and with ``--bridge=none --iptables=false`` (the
shared daemon's flags are the defaults; a second daemon must not touch the host's network,
so its builds run ``RUN --network=none``). The local busybox image is copied into it
(``docker save | docker load``); nothing is pulled. The code under test reaches it through
``DOCKER_HOST``, as any docker CLI does, and buildx keeps its state in a private
``DOCKER_CONFIG``.

Then the daemon is killed (SIGKILL) while a ``RUN`` sleeps, and the tests check that the
build ends as a clear engine failure with no docker/buildx process left behind, that the
daemon coming back is noticed without restarting r2d-tui, and that the next build works.
The private daemon, the processes of its build containers and its folders are always
removed, in ``finally``.

Also here: a daemon that stops answering (SIGSTOP) under a running build, a full disk in a
build step and in the daemon's own storage (a private daemon on a small tmpfs), and the
docker CLI without its buildx plugin (hidden in a private mount namespace).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from app_support import SIZE, main_screen, make_app, make_repo
from test_build_engine import processes_mentioning

from r2d_tui.core.build import BuildResult, BuildSpec, engine_status, run_build
from r2d_tui.core.explain_failure import FailureExplanation, explain_saved
from r2d_tui.core.render import RenderOptions
from r2d_tui.core.sources import attribute_saved
from r2d_tui.core.workspace import Workspace

pytestmark = pytest.mark.engine

BUSYBOX = "r2d-tui-test/busybox:latest"
DOCKERD = shutil.which("dockerd", path="/usr/local/sbin:/usr/sbin:/usr/bin") or "dockerd"
OPTIONS = RenderOptions(user_id=1000, user_name="jovyan")


class PrivateEngine:
    """A second dockerd for one test, on its own socket and folders."""

    def __init__(self, data_size: str | None = None) -> None:
        # short: the socket path (and containerd's, below it) must fit in 108 bytes
        self.base = Path(tempfile.mkdtemp(prefix="r2d-pd-", dir="/tmp"))
        self.socket = self.base / "docker.sock"
        self.host = f"unix://{self.socket}"
        self.process: subprocess.Popen[bytes] | None = None
        if data_size is not None:  # the daemon's storage on a tmpfs of this size
            (self.base / "data").mkdir()
            subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={data_size}", "tmpfs",
                            str(self.base / "data")], check=True, capture_output=True)

    def start(self) -> None:
        (self.base / "data").mkdir(exist_ok=True)
        (self.base / "exec").mkdir(exist_ok=True)
        log = open(self.base / "dockerd.log", "ab")  # noqa: SIM115 - handed to the daemon
        # Its own network namespace: a dockerd with --bridge=none deletes the *host's*
        # docker0 bridge on start (moby's removeDefaultBridgeInterface), which would break
        # every container of the shared engine. unshare execs dockerd (same pid, signals).
        self.process = subprocess.Popen(
            ["unshare", "--net", "--",
             DOCKERD, "--host", self.host, "--data-root", str(self.base / "data"),
             "--exec-root", str(self.base / "exec"), "--pidfile", str(self.base / "pid"),
             "--bridge=none", "--iptables=false", "--ip6tables=false"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.docker("version", "--format", "{{.Server.Version}}").returncode == 0:
                return
            time.sleep(0.2)
        raise AssertionError("the private dockerd did not start: "
                             + (self.base / "dockerd.log").read_text()[-2000:])

    def kill(self) -> None:
        """SIGKILL the daemon (a crash, not a clean stop)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def docker(self, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(["docker", "--host", self.host, *args], input=stdin,
                              capture_output=True, timeout=60, check=False)

    def load(self, image: str) -> None:
        saved = subprocess.run(["docker", "save", image], capture_output=True, timeout=60,
                               check=True, env={**os.environ, "DOCKER_HOST": ""})
        loaded = self.docker("load", stdin=saved.stdout)
        assert loaded.returncode == 0, loaded.stderr

    def remove(self) -> None:
        """Kill the daemon and everything started under its folders, then remove them."""
        self.kill()
        for pid, _cmd in processes_mentioning(str(self.base)):  # its containerd and shims
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for mount in reversed(Path("/proc/self/mounts").read_text().splitlines()):
            point = mount.split()[1]
            if point.startswith(str(self.base)):
                subprocess.run(["umount", "-l", point], check=False)
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture
def private_engine(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[PrivateEngine]:
    """A private dockerd (``@pytest.mark.parametrize("private_engine", ["32m"],
    indirect=True)`` puts its storage on a tmpfs of that size)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("a private dockerd needs root and unshare")
    engine = PrivateEngine(getattr(request, "param", None))
    try:
        engine.start()
        engine.load(BUSYBOX)
        monkeypatch.setenv("DOCKER_HOST", engine.host)
        monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
        monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
        monkeypatch.delenv("BUILDX_BUILDER", raising=False)
        yield engine
    finally:
        engine.remove()


class SlowRun:
    """A Dockerfile whose RUN sleeps for a unique time, so its process can be found."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.sleep = f"sleep 29.{uuid.uuid4().int % 10**8:08d}"
        self.tag = f"r2d-tui-test-pd/{uuid.uuid4().hex[:12]}:latest"
        make_repo(root, {"Dockerfile": f"FROM {BUSYBOX}\nRUN --network=none {self.sleep}\n"})

    def running(self) -> bool:
        return bool(processes_mentioning(self.sleep))

    def make_quick(self) -> None:
        (self.root / "Dockerfile").write_text(
            f"FROM {BUSYBOX}\nRUN --network=none echo quick-{uuid.uuid4().hex}\n")

    def kill_leftovers(self) -> None:
        """The build container's process outlives a killed daemon: that is the daemon's
        leftover, not r2d-tui's, but the test must not leave it either."""
        for pid, _cmd in processes_mentioning(self.sleep):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


async def _wait_for(
    condition: Callable[[], bool], timeout: float, what: str,
    pause: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> None:
    """Poll ``condition`` every 0.1 s (``pause``: a Pilot's, in an app) until it holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        await pause(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def test_daemon_killed_mid_build_is_an_engine_failure_and_recovers(
    tmp_path: Path, private_engine: PrivateEngine
) -> None:
    slow = SlowRun(tmp_path / "repo")
    try:
        task = asyncio.create_task(run_build(BuildSpec.from_disk(slow.root, OPTIONS,
                                                                 tag=slow.tag)))
        await _wait_for(slow.running, 60, "the RUN step to start")
        private_engine.kill()
        started = time.monotonic()
        result = await asyncio.wait_for(task, 30)
        assert time.monotonic() - started < 15
        assert not result.success
        assert result.error_kind == "engine"
        assert result.error is not None
        assert result.error.startswith("The Docker daemon is not reachable")
        assert "Traceback" not in result.error
        assert processes_mentioning(slow.tag) == []  # no docker, no docker-buildx left
        assert not engine_status().ok

        # the engine comes back: the same process builds again, no restart needed
        slow.kill_leftovers()
        private_engine.start()
        assert engine_status().ok
        slow.make_quick()
        again = await run_build(BuildSpec.from_disk(slow.root, OPTIONS, tag=slow.tag))
        assert again.success, again.error
        assert private_engine.docker("image", "inspect", slow.tag).returncode == 0
    finally:
        slow.kill_leftovers()


async def test_a_build_hung_on_a_frozen_daemon_cancels_cleanly(
    tmp_path: Path, private_engine: PrivateEngine
) -> None:
    """The daemon stops answering (SIGSTOP) in the middle of a build: the build hangs, and
    cancelling it (what ctrl+x, a newer build or quitting do) stops every docker/buildx
    process at once; the daemon, resumed, builds again."""
    slow = SlowRun(tmp_path / "repo")
    assert private_engine.process is not None
    try:
        task = asyncio.create_task(run_build(BuildSpec.from_disk(slow.root, OPTIONS,
                                                                 tag=slow.tag)))
        await _wait_for(slow.running, 60, "the RUN step to start")
        os.kill(private_engine.process.pid, signal.SIGSTOP)
        await asyncio.sleep(1)
        assert not task.done() and processes_mentioning(slow.tag)  # hung, still running
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - started < 6
        assert processes_mentioning(slow.tag) == []
    finally:
        os.kill(private_engine.process.pid, signal.SIGCONT)
        slow.kill_leftovers()
    slow.make_quick()
    again = await run_build(BuildSpec.from_disk(slow.root, OPTIONS, tag=slow.tag))
    assert again.success, again.error


async def test_tui_shows_the_engine_going_away_and_coming_back(
    tmp_path: Path, private_engine: PrivateEngine
) -> None:
    slow = SlowRun(tmp_path / "repo")
    app = make_app(slow.root, probe_engine=True, engine_retry=0.3)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = main_screen(pilot)

            async def until(condition: Callable[[], bool], what: str) -> None:
                await _wait_for(condition, 60, what, pilot.pause)

            await until(lambda: screen.engine_ready is True, "the first engine probe")
            assert screen.engine_text.startswith("docker 26")
            await pilot.press("ctrl+b")
            await until(slow.running, "the RUN step to start")
            private_engine.kill()
            await until(lambda: not screen.building, "the build to end")
            # the failed build makes the app probe the engine: the state follows that probe
            await until(lambda: screen.engine_ready is False, "the engine to be seen gone")
            assert screen.engine_text == "no engine"
            assert screen.last_build.startswith("✗")
            assert processes_mentioning(slow.tag) == []

            # editing and the preview keep working while the engine is gone
            screen.editor.focus()
            await pilot.press("end", *" # edited")
            await until(lambda: screen.render_result is not None
                        and "# edited" in (screen.render_result.dockerfile or ""), "the preview")

            slow.kill_leftovers()
            private_engine.start()
            await until(lambda: screen.engine_ready is True, "the engine to be seen again")
            assert screen.engine_text.startswith("docker 26")

            screen.action_revert()
            slow.make_quick()
            await pilot.press("ctrl+b")
            await until(lambda: screen.last_build.startswith("✓"), "the second build")
    finally:
        slow.kill_leftovers()


# --- disk full ---------------------------------------------------------------------------


async def _build_and_explain(root: Path, tag: str) -> tuple[BuildResult, FailureExplanation]:
    workspace = Workspace(root)
    spec = BuildSpec.from_workspace(workspace, OPTIONS, tag=tag)
    result = await run_build(spec)
    assert not result.success
    explanation = explain_saved(result, attribute_saved(workspace, spec.render), workspace)
    assert explanation is not None
    return result, explanation


def _disk_full_finding(explanation: FailureExplanation) -> tuple[str, str, int]:
    found = [f for f in explanation.findings if f.name == "build-disk-full"]
    assert found, explanation.findings
    return found[0].code, found[0].path, found[0].line


async def test_a_step_writing_into_a_full_mount_is_explained_as_disk_full(
    tmp_path: Path,
) -> None:
    """A genuine ENOSPC in a step (a 64 KiB tmpfs mount), on the shared engine."""
    root = make_repo(tmp_path / "repo", {"Dockerfile": (
        f"FROM {BUSYBOX}\n"
        "RUN --network=none --mount=type=tmpfs,target=/scratch,size=65536 "
        f"dd if=/dev/zero of=/scratch/fill-{uuid.uuid4().hex[:8]} bs=1024 count=200\n")})
    result, explanation = await _build_and_explain(root, "r2d-tui-test-pd/never:latest")
    assert result.error_kind == "build"
    assert any("No space left on device" in line for line in explanation.last_lines)
    assert _disk_full_finding(explanation) == ("R2D509", "Dockerfile", 2)


@pytest.mark.parametrize("private_engine", ["40m"], indirect=True)
async def test_a_full_daemon_storage_is_explained_and_the_engine_stays_usable(
    tmp_path: Path, private_engine: PrivateEngine
) -> None:
    """The private daemon's data root is a 40 MB tmpfs; a step writes 64 MB into its layer."""
    tag = f"r2d-tui-test-pd/{uuid.uuid4().hex[:12]}:latest"
    root = make_repo(tmp_path / "repo", {"Dockerfile": (
        f"FROM {BUSYBOX}\nRUN --network=none dd if=/dev/zero of=/big bs=1048576 count=64\n")})
    result, explanation = await _build_and_explain(root, tag)
    assert result.error_kind == "build"
    assert _disk_full_finding(explanation) == ("R2D509", "Dockerfile", 2)
    # the space is given back when the step fails: a small build works right after
    (root / "Dockerfile").write_text(f"FROM {BUSYBOX}\nRUN --network=none echo small\n")
    again = await run_build(BuildSpec.from_disk(root, OPTIONS, tag=tag))
    assert again.success, again.error


# --- no buildx plugin ----------------------------------------------------------------------

PLUGIN_DIRS = ("/usr/local/lib/docker/cli-plugins", "/usr/local/libexec/docker/cli-plugins",
               "/usr/lib/docker/cli-plugins", "/usr/libexec/docker/cli-plugins")


def test_missing_buildx_plugin_is_explained_and_the_rest_works(tmp_path: Path) -> None:
    """The real docker CLI without its buildx plugin: in a private mount namespace (root),
    an empty folder is mounted over each plugin folder; nothing outside the namespace sees
    it."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("hiding the plugin needs root and unshare")
    empty = tmp_path / "empty"
    empty.mkdir()
    root = make_repo(tmp_path / "repo", {"Dockerfile": f"FROM {BUSYBOX}\n"})
    r2d = str(Path(sys.executable).parent / "r2d-tui")
    hide = " && ".join(f"mount --bind {empty} {d}" for d in PLUGIN_DIRS if os.path.isdir(d))
    script = (f"{hide} && {r2d} build --tag r2d-tui-test-pd/never:latest {root}; "
              f"echo build-exit=$?; {r2d} dockerfile {root}; echo dockerfile-exit=$?")
    done = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True,
                          text=True, timeout=120, check=False,
                          env={**os.environ, "DOCKER_CONFIG": str(tmp_path / "cfg")})
    output = done.stdout + done.stderr
    assert "Traceback" not in output
    assert "build-exit=1" in done.stdout
    assert "R2D505 [buildx-missing]" in done.stderr
    assert "The docker buildx plugin is missing" in done.stderr
    assert "dockerfile-exit=0" in done.stdout and f"FROM {BUSYBOX}" in done.stdout
    # outside the namespace the plugin is still there
    assert subprocess.run(["docker", "buildx", "version"], capture_output=True,
                          check=False).returncode == 0
