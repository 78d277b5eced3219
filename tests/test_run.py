"""How images are run and verified, without an engine: plans, labels, owners, reports.

The run plan is compared with what repo2docker itself passes to the engine: its own
``Repo2Docker.start_container`` runs against a recording stand-in engine, so a change in
repo2docker's command, ports or mounts shows up here.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from r2d_tui.core.run import (
    DEFAULT_PORT,
    LABEL_HOST,
    LABEL_OWNER,
    LABEL_OWNER_START,
    LABEL_ROLE,
    ImageConfig,
    RunError,
    RunOptions,
    editable_target,
    owner_alive,
    plan_run,
    process_start,
    repo2docker_command,
)
from r2d_tui.core.verify import (
    CaseResult,
    SuiteResult,
    TestPlan,
    VerifyReport,
    discover,
    parse_junit,
)
from r2d_tui.runcli import split_command

GENERATED = ImageConfig.from_attrs({
    "Id": "sha256:abc",
    "Config": {
        "WorkingDir": "/home/jovyan",
        "User": "jovyan",
        "Env": ["PATH=/usr/bin", "REPO_DIR=/home/jovyan"],
        "ExposedPorts": {"8888/tcp": {}},
        "Entrypoint": ["/usr/local/bin/repo2docker-entrypoint"],
        "Cmd": ["jupyter", "notebook", "--ip", "0.0.0.0"],
    },
})

OWN_DOCKERFILE = ImageConfig.from_attrs({
    "Id": "sha256:def",
    "Config": {
        "WorkingDir": "/srv",
        "ExposedPorts": {"53/udp": {}, "8080/tcp": {}, "9000/tcp": {}},
        "Cmd": ["httpd", "-f", "-p", "8080"],
    },
})


class RecordingEngine:
    """Stands in for repo2docker's container engine and records ``run``."""

    def __init__(self, workdir: str) -> None:
        self.workdir = workdir
        self.calls: list[dict[str, Any]] = []

    def run(self, image: str, **kwargs: Any) -> Any:
        self.calls.append({"image": image, **kwargs})
        return SimpleNamespace(status="running", reload=lambda: None)

    def inspect_image(self, image: str) -> Any:
        return SimpleNamespace(config={"WorkingDir": self.workdir})


def repo2docker_run_kwargs(volumes: dict[str, str] | None = None) -> dict[str, Any]:
    from repo2docker.app import Repo2Docker

    r2d = Repo2Docker()
    r2d.output_image_spec = "img:latest"
    engine = RecordingEngine("/home/jovyan")
    r2d.get_engine = lambda: engine
    if volumes:
        r2d.volumes = volumes
    r2d.start_container()
    assert len(engine.calls) == 1
    return engine.calls[0]


def test_default_command_is_repo2docker_s() -> None:
    theirs = repo2docker_run_kwargs()
    (spec, host_port), = theirs["ports"].items()
    port = int(spec.split("/")[0])
    assert int(host_port) == port  # repo2docker: one free port inside and outside
    assert tuple(theirs["command"]) == repo2docker_command(port, port)

    plan = plan_run(GENERATED, "img:latest", RunOptions(), host_port=port)
    assert plan.command == tuple(theirs["command"])
    assert plan.container_port == port and plan.host_port == port
    # the image's user, working directory and entrypoint apply, as for repo2docker
    kwargs = plan.create_kwargs()
    for key in ("user", "working_dir", "entrypoint"):
        assert key not in theirs and key not in kwargs
    # published on 127.0.0.1 only (repo2docker: every interface)
    assert kwargs["ports"] == {f"{port}/tcp": ("127.0.0.1", port)}


def test_editable_mount_matches_repo2docker(tmp_path: Path) -> None:
    theirs = repo2docker_run_kwargs({str(tmp_path): "."})
    (source, bind), = theirs["volumes"].items()
    assert source == str(tmp_path)
    plan = plan_run(GENERATED, "img", RunOptions(editable=True), host_port=40000, root=tmp_path)
    kwargs = plan.create_kwargs()
    assert kwargs["volumes"] == {
        str(tmp_path.resolve()): {"bind": os.path.normpath(bind["bind"]), "mode": "rw"}
    }
    assert bind["mode"] == "rw"
    assert any("editable" in note for note in plan.notes)


def test_token_is_passed_as_jupyter_token_and_in_the_url() -> None:
    plan = plan_run(GENERATED, "img", RunOptions(), host_port=41234)
    token = plan.token
    assert len(token) >= 32
    assert f"JUPYTER_TOKEN={token}" in plan.environment
    assert plan.url == f"http://127.0.0.1:41234/?token={token}"
    assert plan.probe_url == "http://127.0.0.1:41234/api"
    other = plan_run(GENERATED, "img", RunOptions(), host_port=41234)
    assert other.token != token  # a new one for every run


def test_a_given_token_is_kept() -> None:
    plan = plan_run(
        GENERATED, "img", RunOptions(environment=(("JUPYTER_TOKEN", "mine"), ("A", "1"))),
        host_port=40001,
    )
    assert plan.token == "mine"
    assert plan.environment == ("JUPYTER_TOKEN=mine", "A=1")


def test_own_dockerfile_keeps_its_command_and_exposed_port() -> None:
    plan = plan_run(OWN_DOCKERFILE, "img", RunOptions(), host_port=40002)
    assert plan.command is None
    assert "command" not in plan.create_kwargs()
    assert plan.container_port == 8080  # the lowest exposed TCP port (8888 not exposed)
    assert plan.create_kwargs()["ports"] == {"8080/tcp": ("127.0.0.1", 40002)}
    assert plan.url == "http://127.0.0.1:40002/"  # no Jupyter: no token in the URL
    assert any("--jupyter" in note for note in plan.notes)


def test_own_dockerfile_without_expose_uses_8888() -> None:
    image = ImageConfig.from_attrs({"Id": "x", "Config": {"Cmd": ["sh"]}})
    assert plan_run(image, "img", RunOptions(), host_port=40003).container_port == DEFAULT_PORT
    exposed = ImageConfig.from_attrs(
        {"Id": "x", "Config": {"ExposedPorts": {"7000/tcp": {}, "8888/tcp": {}}}}
    )
    assert exposed.default_port == DEFAULT_PORT


def test_jupyter_option_forces_repo2docker_s_command() -> None:
    plan = plan_run(OWN_DOCKERFILE, "img", RunOptions(jupyter=True), host_port=40004)
    assert plan.command == repo2docker_command(40004, 40004)
    assert plan.jupyter


def test_a_given_command_replaces_the_server() -> None:
    plan = plan_run(GENERATED, "img", RunOptions(command=("./verify",), port=9999),
                    host_port=40005)
    assert plan.command == ("./verify",)
    assert plan.container_port == 9999


def test_labels_name_the_owner(tmp_path: Path) -> None:
    plan = plan_run(GENERATED, "img", RunOptions(), host_port=40006, root=tmp_path)
    labels = dict(plan.labels)
    assert labels[LABEL_OWNER] == str(os.getpid())
    assert labels[LABEL_HOST] == socket.gethostname()
    assert labels[LABEL_ROLE] == "run"
    assert labels[LABEL_OWNER_START] == process_start(os.getpid())
    assert plan.name.startswith("r2d-tui-run-test-labels-name-the-owner0-")


@pytest.mark.parametrize(
    ("workdir", "env", "expected"),
    [
        ("/home/jovyan", (), "/home/jovyan"),
        ("/home/jovyan/", (), "/home/jovyan"),
        ("", (("REPO_DIR", "/srv/repo"),), "/srv/repo"),
    ],
)
def test_editable_target(workdir: str, env: tuple[tuple[str, str], ...], expected: str) -> None:
    assert editable_target(ImageConfig("x", working_dir=workdir, env=env)) == expected


@pytest.mark.parametrize("workdir", ["", "/"])
def test_editable_needs_a_working_directory(workdir: str) -> None:
    with pytest.raises(RunError, match="WORKDIR"):
        editable_target(ImageConfig("x", working_dir=workdir))
    with pytest.raises(RunError):
        plan_run(ImageConfig("x", working_dir=workdir), "img", RunOptions(editable=True),
                 host_port=1, root=Path("."))


def test_owner_alive() -> None:
    me = os.getpid()
    assert owner_alive(me, process_start(me))
    assert owner_alive(me, None)
    # the same pid with another start time: the id was reused, the owner is gone
    assert not owner_alive(me, "1")
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    assert not owner_alive(int(done.stdout), None)
    assert not owner_alive(0, None)


def test_process_start_reads_proc() -> None:
    start = process_start(os.getpid())
    assert start is not None and start.isdigit()
    assert process_start(2**22 + 12345) is None


# --- verification --------------------------------------------------------------------------

JUNIT = b"""<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="5">
<testcase classname="image-tests.test_env" name="test_numpy" file="image-tests/test_env.py"
  line="3" time="0.012"/>
<testcase classname="image-tests.test_env" name="test_fails" file="image-tests/test_env.py"
  line="7" time="0.5"><failure message="assert 1 == 2">def test_fails():
&gt;       assert 1 == 2
E       assert 1 == 2</failure><system-out>printed something</system-out></testcase>
<testcase classname="image-tests.test_env.TestGroup" name="test_in_class"
  file="image-tests/test_env.py" line="12" time="0.001"><skipped message="later"/></testcase>
<testcase classname="image-tests.test_env" name="test_error" file="image-tests/test_env.py"
  time="0.1"><error message="fixture broke">E   RuntimeError</error></testcase>
<testcase classname="image-tests.analysis.ipynb" name="analysis.ipynb" time="1.5"/>
</testsuite></testsuites>
"""


def test_parse_junit() -> None:
    cases = parse_junit(JUNIT)
    assert [(c.name, c.outcome) for c in cases] == [
        ("image-tests/test_env.py::test_numpy", "passed"),
        ("image-tests/test_env.py::test_fails", "failed"),
        ("image-tests/test_env.py::TestGroup::test_in_class", "skipped"),
        ("image-tests/test_env.py::test_error", "error"),
        ("image-tests.analysis.ipynb::analysis.ipynb", "passed"),
    ]
    failed = cases[1]
    assert "assert 1 == 2" in failed.output and "printed something" in failed.output
    assert failed.duration_s == pytest.approx(0.5)
    assert cases[3].output == "E   RuntimeError"
    assert not failed.passed and cases[2].passed


def test_discover(tmp_path: Path) -> None:
    assert discover(tmp_path) == TestPlan()
    assert TestPlan().suites == ("server",)
    (tmp_path / "verify").write_text("#!/bin/sh\n")
    plan = discover(tmp_path)
    assert plan.verify and not plan.verify_executable
    assert "not executable" in plan.describe()
    (tmp_path / "verify").chmod(0o755)
    tests = tmp_path / "image-tests"
    tests.mkdir()
    for name in ("test_a.py", "nb.ipynb", "requirements.txt", "notes.md"):
        (tests / name).write_text("")
    plan = discover(tmp_path)
    assert plan.verify_executable
    assert plan.suites == ("verify", "image-tests")
    assert plan.test_files == ("image-tests/nb.ipynb", "image-tests/test_a.py")
    assert plan.requirements


def test_report_verdicts() -> None:
    ok = SuiteResult("verify", cases=[CaseResult("verify", "verify", "passed")])
    bad = SuiteResult("image-tests", cases=[
        CaseResult("image-tests", "a", "passed"), CaseResult("image-tests", "b", "failed"),
    ])
    assert VerifyReport("img", TestPlan(), [ok]).ok
    report = VerifyReport("img", TestPlan(), [ok, bad], duration_s=1.25)
    assert not report.ok
    assert report.counts() == {"passed": 2, "failed": 1, "error": 0, "skipped": 0}
    assert report.summary() == "2 passed, 1 failed in 1.2s"
    assert report.to_json()["suites"][1]["cases"][1]["outcome"] == "failed"
    assert not VerifyReport("img", TestPlan()).ok  # nothing ran: not a pass
    assert not SuiteResult("verify", error="no pytest").ok


def test_split_command() -> None:
    assert split_command(["run", ".", "--editable", "--", "sh", "-c", "x --y"]) == (
        ["run", ".", "--editable"], ["sh", "-c", "x --y"]
    )
    assert split_command(["run", "."]) == (["run", "."], [])
    assert split_command(["build", "--", "x"]) == (["build", "--", "x"], [])


def test_run_and_test_help_need_no_engine() -> None:
    for command in ("run", "test"):
        done = subprocess.run([sys.executable, "-m", "r2d_tui", command, "--help"],
                              capture_output=True, text=True, check=False, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "--no-build" in done.stdout


def test_generated_images_are_recognised_by_repo2docker_s_entrypoint(tmp_path: Path) -> None:
    """``ImageConfig.generated`` keys on the ENTRYPOINT of repo2docker's template."""
    import json as json_module

    from r2d_tui.core.render import RenderOptions, render
    from r2d_tui.core.workspace import Workspace

    (tmp_path / "requirements.txt").write_text("numpy\n")
    result = render(Workspace(tmp_path), RenderOptions(user_id=1000, user_name="jovyan"))
    assert result.dockerfile is not None
    entrypoint = [line for line in result.dockerfile.splitlines()
                  if line.startswith("ENTRYPOINT ")]
    assert len(entrypoint) == 1
    config = ImageConfig("x", entrypoint=tuple(json_module.loads(entrypoint[0].split(" ", 1)[1])))
    assert config.generated and config.runs_jupyter
    assert not OWN_DOCKERFILE.generated and not OWN_DOCKERFILE.runs_jupyter
