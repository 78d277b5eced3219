"""Running and verifying images on the real Docker engine (local images only, no mocks).

The server is busybox's ``httpd`` in a Dockerfile repository ``FROM r2d-tui-test/busybox``;
image tests use a stand-in ``python3``/``py.test`` baked into the image, because the local
base images have no Python (the stand-in writes the JUnit report pytest would, and records
the arguments it was given). Every image and container is removed afterwards; each test
also checks that no container it started is left.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from app_support import make_repo as write

from r2d_tui.cli import main
from r2d_tui.core.build import EngineStatus
from r2d_tui.core.run import (
    LABEL_HOST,
    LABEL_OWNER,
    LABEL_OWNER_START,
    LABEL_ROLE,
    RunOptions,
    ServerExit,
    cleanup_orphans,
    docker_client,
    live_containers,
    process_start,
    start_server,
)
from r2d_tui.core.verify import Verification

pytestmark = pytest.mark.engine

BUSYBOX = "r2d-tui-test/busybox:latest"
ROOT = Path(__file__).resolve().parent.parent

WEB_DOCKERFILE = f"""FROM {BUSYBOX}
RUN mkdir -p /srv && echo hello-from-the-image > /srv/index.html
WORKDIR /srv
COPY verify /srv/verify
CMD ["httpd", "-f", "-v", "-p", "8888", "-h", "/srv"]
"""

PASSING_VERIFY = "#!/bin/sh\necho checking the environment\ntest -f /srv/index.html\n"
FAILING_VERIFY = "#!/bin/sh\necho 'numpy is missing' >&2\nexit 3\n"

FAKE_PYTHON = "#!/bin/sh\n# stands in for python3: every import check succeeds\nexit 0\n"
FAKE_PYTEST = r"""#!/bin/sh
# stands in for py.test: reports one passing and one failing test, as pytest's JUnit XML
out=""
for arg in "$@"; do case "$arg" in --junitxml=*) out="${arg#--junitxml=}";; esac; done
echo "collected 2 items"
cat > "$out" <<XML
<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" tests="2">
<testcase classname="image-tests.test_env" name="test_ok" file="image-tests/test_env.py"
 time="0.01"><system-out>args: $*</system-out></testcase>
<testcase classname="image-tests.test_env" name="test_bad" file="image-tests/test_env.py"
 time="0.02"><failure message="assert 1 == 2">E   assert 1 == 2</failure></testcase>
</testsuite></testsuites>
XML
exit 1
"""

IMAGE_TESTS_DOCKERFILE = f"""FROM {BUSYBOX}
COPY fake/python3 fake/py.test /usr/local/bin/
WORKDIR /srv
COPY image-tests /srv/image-tests
"""


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=60,
                          check=False)


def containers_named(name: str) -> list[str]:
    done = docker("ps", "-a", "--filter", f"name=^{name}$", "--format", "{{.Names}}")
    return done.stdout.split()


def containers_of(pid: int) -> list[str]:
    done = docker("ps", "-a", "--filter", f"label={LABEL_OWNER}={pid}", "--format",
                  "{{.Names}}")
    return done.stdout.split()


@pytest.fixture(scope="module")
def prefix(engine: EngineStatus) -> Iterator[str]:
    if docker("image", "inspect", BUSYBOX).returncode != 0:
        pytest.fail(f"{BUSYBOX} is missing; run shared/tools/docker-engine-up")
    name = f"r2d-tui-test-run/{uuid.uuid4().hex[:10]}"
    yield name
    listed = docker("images", "--format", "{{.Repository}}:{{.Tag}}", name + "-*")
    images = [line for line in listed.stdout.split() if line.startswith(name)]
    if images:
        docker("image", "rm", "--force", *images)


@pytest.fixture(scope="module")
def web(prefix: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A Dockerfile repository serving HTTP on 8888 with a passing ``verify``; built once."""
    root = write(tmp_path_factory.mktemp("web") / "web",
                 {"Dockerfile": WEB_DOCKERFILE, "verify": PASSING_VERIFY},
                 executable=("verify",))
    tag = f"{prefix}-web:latest"
    built = docker("buildx", "build", "--load", "-q", "-t", tag, str(root))
    assert built.returncode == 0, built.stderr
    return root, tag


@pytest.fixture(autouse=True)
def _nothing_left() -> Iterator[None]:
    yield
    assert live_containers() == []
    assert containers_of(os.getpid()) == []


# --- run --------------------------------------------------------------------------------


def test_stops_from_several_threads_at_once_all_return_with_the_container_gone(
    web: tuple[Path, str],
) -> None:
    """The engine refuses a second removal while one is in progress; the refused caller
    waits for it instead of returning with the container still there."""
    root, tag = web
    servers = [start_server(tag, RunOptions(), root=root) for _ in range(3)]
    for server in servers:
        assert server.wait_ready(30)
    start = threading.Barrier(6)

    def stop(server: Any) -> None:
        start.wait()
        server.stop(grace=0)

    threads = [threading.Thread(target=stop, args=(s,)) for s in servers for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [containers_named(s.name) for s in servers] == [[], [], []]


def test_run_serves_on_localhost_and_stop_removes_it(web: tuple[Path, str]) -> None:
    root, tag = web
    server = start_server(tag, RunOptions(), root=root)
    lines: list[str] = []
    ended: list[ServerExit] = []
    server.follow_logs(lines.extend, ended.append)
    try:
        assert server.wait_ready(30)
        with urllib.request.urlopen(server.url, timeout=5) as response:
            assert response.read() == b"hello-from-the-image\n"
        server.container.reload()
        ports = server.container.attrs["NetworkSettings"]["Ports"]["8888/tcp"]
        assert [(p["HostIp"], int(p["HostPort"])) for p in ports] == [
            ("127.0.0.1", server.plan.host_port)
        ]
        labels = server.container.labels
        assert labels[LABEL_OWNER] == str(os.getpid())
        assert labels[LABEL_OWNER_START] == process_start(os.getpid())
        assert labels[LABEL_ROLE] == "run"
        env = server.container.attrs["Config"]["Env"]
        assert f"JUPYTER_TOKEN={server.plan.token}" in env
        assert containers_named(server.name) == [server.name]
    finally:
        server.stop(grace=1)
    assert containers_named(server.name) == []
    for _ in range(50):
        if ended:
            break
        time.sleep(0.1)
    assert ended and ended[0].stopped
    assert any("response:200" in line for line in lines), lines


def test_a_server_that_exits_is_reported_and_removed(web: tuple[Path, str]) -> None:
    root, tag = web
    server = start_server(tag, RunOptions(command=("sh", "-c", "echo bye; exit 3")), root=root)
    lines: list[str] = []
    done = threading.Event()
    ended: list[ServerExit] = []
    server.follow_logs(lines.extend, lambda e: (ended.append(e), done.set()))
    assert done.wait(30)
    assert ended == [ServerExit(status=3, stopped=False)]
    assert lines == ["bye"]
    assert containers_named(server.name) == []
    assert not server.wait_ready(2)


def test_editable_run_writes_into_the_repository(web: tuple[Path, str], tmp_path: Path) -> None:
    _root, tag = web
    repo = write(tmp_path / "repo", {"notebook.ipynb": "{}\n"})
    command = ("sh", "-c", "ls; echo saved-in-jupyter > from-the-container.txt")
    server = start_server(tag, RunOptions(command=command, editable=True), root=repo)
    lines: list[str] = []
    done = threading.Event()
    server.follow_logs(lines.extend, lambda _e: done.set())
    assert done.wait(30)
    assert server.plan.volumes == ((str(repo.resolve()), "/srv"),)
    assert "notebook.ipynb" in lines  # the repository, not the image's /srv
    assert (repo / "from-the-container.txt").read_text() == "saved-in-jupyter\n"


# --- orphans and exits ---------------------------------------------------------------------


def test_orphan_cleanup_removes_only_containers_of_dead_owners(web: tuple[Path, str]) -> None:
    _root, tag = web
    client = docker_client()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = dead.stdout.strip()
    me, host = str(os.getpid()), __import__("socket").gethostname()
    start = process_start(os.getpid()) or ""
    variants = {
        "dead-owner": {LABEL_OWNER: dead_pid, LABEL_HOST: host},
        "reused-pid": {LABEL_OWNER: me, LABEL_OWNER_START: "1", LABEL_HOST: host},
        "live-owner": {LABEL_OWNER: me, LABEL_OWNER_START: start, LABEL_HOST: host},
        "other-host": {LABEL_OWNER: dead_pid, LABEL_HOST: "elsewhere.example"},
    }
    nonce = uuid.uuid4().hex[:8]
    created = {
        key: client.containers.create(tag, command=["sleep", "60"], labels=labels,
                                      name=f"r2d-tui-orphan-{key}-{nonce}")
        for key, labels in variants.items()
    }
    try:
        created["dead-owner"].start()  # running or not, an orphan is removed
        removed = cleanup_orphans(client)
        assert sorted(r for r in removed if r.endswith(nonce)) == [
            f"r2d-tui-orphan-dead-owner-{nonce}", f"r2d-tui-orphan-reused-pid-{nonce}",
        ]
        for key in ("live-owner", "other-host"):
            assert containers_named(f"r2d-tui-orphan-{key}-{nonce}")
    finally:
        for container in created.values():
            with __import__("contextlib").suppress(Exception):
                container.remove(force=True)


OWNER_SCRIPT = """
import sys, time
from r2d_tui.core.run import RunOptions, start_server
server = start_server(sys.argv[1], RunOptions(command=("sleep", "300")))
print(server.name, flush=True)
if sys.argv[2] == "exit":
    sys.exit(0)
time.sleep(300)
"""


@pytest.mark.parametrize("how", ["exit", "sigterm", "sighup", "sigkill"])
def test_containers_go_when_their_owner_goes(web: tuple[Path, str], how: str) -> None:
    _root, tag = web
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # As from a terminal: a runner that ignores SIGHUP (nohup) would pass that on, and
    # r2d-tui rightly leaves an ignored SIGHUP ignored.
    proc = subprocess.Popen([sys.executable, "-c", OWNER_SCRIPT, tag, how], env=env,
                            stdout=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL))
    try:
        assert proc.stdout is not None
        name = proc.stdout.readline().strip()
        assert name.startswith("r2d-tui-run-image-")
        if how != "exit":
            assert containers_named(name) == [name]
            proc.send_signal({"sigterm": signal.SIGTERM, "sighup": signal.SIGHUP,
                              "sigkill": signal.SIGKILL}[how])
        proc.wait(30)
    finally:
        proc.kill()
        proc.wait()
    if how == "sigkill":  # no chance to clean up: the next r2d-tui removes it
        assert containers_named(name) == [name]
        assert name in cleanup_orphans()
    assert containers_named(name) == []


# --- verification ----------------------------------------------------------------------------


def test_verify_and_server_suites(web: tuple[Path, str]) -> None:
    root, tag = web
    outputs: list[tuple[str, list[str]]] = []
    report = Verification(tag, root, suites=["verify", "server", "image-tests"]).run(
        lambda suite, lines: outputs.append((suite, lines))
    )
    by_suite = {case.suite: case for case in report.cases}
    assert by_suite["verify"].outcome == "passed"
    assert by_suite["verify"].output == "checking the environment"
    assert by_suite["server"].outcome == "passed"
    assert by_suite["server"].name == "server answers on port 8888"
    # busybox has no Python: image-tests cannot run, and say why
    assert by_suite["image-tests"].outcome == "error"
    assert "no python3" in by_suite["image-tests"].output
    assert not report.ok
    assert ("verify", ["checking the environment"]) in outputs


def test_server_suite_fails_when_the_server_exits(web: tuple[Path, str]) -> None:
    root, tag = web
    report = Verification(tag, root, suites=["server"], server_timeout=20,
                          run_options=RunOptions(command=("sh", "-c", "exit 4"))).run()
    (case,) = report.cases
    assert case.outcome == "failed"
    assert "exited with status 4" in case.output


def test_verify_timeout_and_cancel(tmp_path: Path, prefix: str) -> None:
    root = write(tmp_path / "slow", {
        "Dockerfile": f"FROM {BUSYBOX}\nWORKDIR /srv\nCOPY verify /srv/verify\n",
        "verify": "#!/bin/sh\necho started\nsleep 60\n",
    }, executable=("verify",))
    tag = f"{prefix}-slow:latest"
    assert docker("buildx", "build", "--load", "-q", "-t", tag, str(root)).returncode == 0
    started = time.monotonic()
    report = Verification(tag, root, timeout=1.0).run()
    (case,) = report.cases
    assert case.outcome == "error" and "timed out after 1 s" in case.output
    assert time.monotonic() - started < 15

    verification = Verification(tag, root)
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(verification.run()))
    thread.start()
    time.sleep(0.5)
    verification.cancel()
    thread.join(15)
    assert not thread.is_alive()
    assert result[0].cancelled and not result[0].ok


# --- the CLI -----------------------------------------------------------------------------------


def test_cli_test_exit_status_and_report(
    tmp_path: Path, prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write(tmp_path / "good", {"Dockerfile": WEB_DOCKERFILE, "verify": PASSING_VERIFY},
                 executable=("verify",))
    assert main(["test", str(good), "--tag", f"{prefix}-good:latest"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0].startswith("PASS  verify (")
    assert "[verify] checking the environment" in err
    assert "ok: 1 passed" in err

    bad = write(tmp_path / "bad", {"Dockerfile": WEB_DOCKERFILE, "verify": FAILING_VERIFY},
                executable=("verify",))
    assert main(["test", str(bad), "--tag", f"{prefix}-bad:latest"]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines()[0].startswith("FAIL  verify (")
    assert "      | numpy is missing" in out.splitlines()
    assert "FAILED: 1 failed" in err


def test_cli_image_tests_report_each_test(
    tmp_path: Path, prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write(tmp_path / "it", {
        "Dockerfile": IMAGE_TESTS_DOCKERFILE,
        "fake/python3": FAKE_PYTHON,
        "fake/py.test": FAKE_PYTEST,
        "image-tests/test_env.py": "def test_ok(): pass\n",
        "image-tests/analysis.ipynb": "{}\n",
    }, executable=("fake/python3", "fake/py.test"))
    tag = f"{prefix}-it:latest"
    assert main(["test", str(root), "--tag", tag, "--json"]) == 1
    out, _err = capsys.readouterr()
    report = json.loads(out)
    (suite,) = report["suites"]
    assert suite["name"] == "image-tests" and suite["status"] == 1
    cases = [(c["name"], c["outcome"]) for c in suite["cases"]]
    assert cases == [("image-tests/test_env.py::test_ok", "passed"),
                     ("image-tests/test_env.py::test_bad", "failed")]
    ok_output = suite["cases"][0]["output"]
    # the Action's flags: notebooks present -> --nb-test-files; plus r2d-tui's JUnit report
    # (the busybox image has no /tmp and HOME=/ : the report goes to the first writable folder)
    assert "--nb-test-files" in ok_output and "--junitxml=/r2d-tui-image-tests.xml" in ok_output
    assert ok_output.rstrip().endswith("image-tests/")
    assert suite["cases"][1]["output"] == "E   assert 1 == 2"

    assert main(["test", str(root), "--no-build", "--tag", tag]) == 1
    out, _err = capsys.readouterr()
    assert out.splitlines()[:2] == [
        "PASS  image-tests/test_env.py::test_ok (0.0s)",
        "FAIL  image-tests/test_env.py::test_bad (0.0s)",
    ]


def test_cli_run_prints_the_url_and_ctrl_c_removes_the_container(
    web: tuple[Path, str]
) -> None:
    """Also: the container gets a fresh JUPYTER_TOKEN and a port on 127.0.0.1 only, and
    r2d-tui's own log (stderr: notes and the container's output) never shows the token."""
    root, tag = web
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "r2d_tui", "run", str(root), "--no-build", "--tag", tag],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.read() == b"hello-from-the-image\n"
        (name,) = containers_of(proc.pid)
        inspected = json.loads(docker("inspect", name).stdout)[0]
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 130, err
    assert "stopped and removed r2d-tui-run-web-" in err
    assert containers_of(proc.pid) == []
    tokens = [item.split("=", 1)[1] for item in inspected["Config"]["Env"]
              if item.startswith("JUPYTER_TOKEN=")]
    assert len(tokens) == 1 and len(tokens[0]) >= 32
    assert tokens[0] not in err
    bindings = [b for ports in inspected["HostConfig"]["PortBindings"].values() for b in ports]
    assert bindings and {b["HostIp"] for b in bindings} == {"127.0.0.1"}


def test_cli_test_watch_tests_again_after_each_build(tmp_path: Path, prefix: str) -> None:
    root = write(tmp_path / "watched", {"Dockerfile": WEB_DOCKERFILE, "verify": PASSING_VERIFY},
                 executable=("verify",))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "r2d_tui", "test", str(root), "--watch",
         "--tag", f"{prefix}-watched:latest"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("PASS  verify (")
        (root / "verify").write_text(FAILING_VERIFY)  # the edit rebuilds, then re-tests
        assert proc.stdout.readline().startswith("FAIL  verify (")
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 130, err
    assert "numpy is missing" in err  # the live output of the second run
    assert containers_of(proc.pid) == []
