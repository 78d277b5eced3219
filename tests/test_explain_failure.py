"""Failure explanations from captured build output (no engine).

Package-resolution failures need the network to happen for real, so they are tested on the
messages conda, mamba/micromamba (1.x and 2.x), pip and apt-get print, fed through the same
progress model a real build uses. The failures that can happen offline (a failing
postBuild, an unpullable base image, exit code 137) are also built for real in
``test_build_sources_engine.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from r2d_tui.core.build import BuildResult
from r2d_tui.core.explain_failure import (
    FAILURE_KINDS,
    explain_failure,
    failure_kind,
)
from r2d_tui.core.progress import Step
from r2d_tui.core.render import RenderOptions, render
from r2d_tui.core.sources import StepSources, attribute
from r2d_tui.core.workspace import Workspace

OPTIONS = RenderOptions(
    base_image="r2d-tui-test/r2d-shim-base:latest",
    user_id=1000,
    user_name="jovyan",
    platform="linux/amd64",
)


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def failed_build(
    sources: StepSources, keyword: str, contains: str, logs: list[str], code: int = 1
) -> BuildResult:
    """A BuildResult as run_build makes it when the step ``keyword … contains …`` fails."""
    item = next(
        i
        for i in sources.steps
        if i.instruction.keyword == keyword and contains in i.instruction.text
    )
    ref = item.instruction.step
    assert ref is not None
    title = " ".join(item.instruction.text.replace("\\\n", " ").split())
    error = f'process "/bin/sh -c {title[4:]}" did not complete successfully: exit code: {code}'
    width = len(str(ref.total))  # BuildKit pads k to the width of n: [ 7/20]
    step = Step.from_name("sha256:feed", f"[{ref.index:>{width}}/{ref.total}] {title}")
    step.logs = logs
    step.error = error
    return BuildResult(
        success=False,
        tag="t",
        steps=[step],
        failed_step=step,
        log_tail=logs[-30:],
        error=f"failed to solve: {error}",
        error_kind="build",
        returncode=1,
        output=[f"Dockerfile:{item.instruction.first_line}", f"ERROR: failed to solve: {error}"],
    )


@pytest.fixture
def conda_repo(tmp_path: Path) -> tuple[Workspace, StepSources]:
    root = write(
        tmp_path / "conda",
        {
            "binder/environment.yml": (
                "channels:\n  - conda-forge\ndependencies:\n  - python=3.11\n  - numpy\n"
                "  - nosuchpkg=1.0  # typo\n  - pip\n  - pip:\n    - nosuch-pip-pkg==9.9\n"
            ),
            "binder/apt.txt": "curl\nnosuch-apt-pkg\n",
        },
    )
    workspace = Workspace(root)
    return workspace, attribute(workspace, render(workspace, OPTIONS))


CONDA_CLASSIC = """\
Channels:
 - conda-forge
Platform: linux-64
Collecting package metadata (repodata.json): ...working... done
Solving environment: ...working... failed

PackagesNotFoundError: The following packages are not available from current channels:

  - nosuchpkg=1.0

Current channels:

  - https://conda.anaconda.org/conda-forge/linux-64
"""

MAMBA_2 = """\
conda-forge/linux-64                                        Using cache
conda-forge/noarch                                          Using cache
error    libmamba Could not solve for environment specs
    The following package could not be installed
    └─ nosuchpkg =1.0 * does not exist (perhaps a typo or a missing channel).
critical libmamba Could not solve for environment specs
"""

MAMBA_1 = """\
Could not solve for environment specs
Encountered problems while solving:
  - nothing provides requested nosuchpkg 1.0**

The environment can't be solved, aborting the operation
"""

PIP_IN_CONDA = """\
Installing pip dependencies: ...working... Pip subprocess error:
ERROR: Could not find a version that satisfies the requirement nosuch-pip-pkg==9.9 (from versions: none)
ERROR: No matching distribution found for nosuch-pip-pkg==9.9

failed

CondaEnvException: Pip failed
"""  # noqa: E501


@pytest.mark.parametrize(
    "log", [CONDA_CLASSIC, MAMBA_2, MAMBA_1], ids=["conda", "mamba2", "mamba1"]
)
def test_solver_cannot_find_a_package(conda_repo: tuple[Workspace, StepSources], log: str) -> None:
    workspace, sources = conda_repo
    result = failed_build(sources, "RUN", "env update", log.splitlines())
    explanation = explain_failure(result, sources, workspace)
    assert explanation is not None
    assert explanation.origin is not None and explanation.origin.path == "binder/environment.yml"
    assert explanation.summary.startswith("step [17/20] RUN TIMEFORMAT=")
    assert "(from binder/environment.yml) failed with exit code 1" in explanation.summary
    (finding,) = explanation.findings
    assert (finding.code, finding.name) == ("R2D501", "build-package-not-found")
    assert (finding.path, finding.line, finding.column) == ("binder/environment.yml", 6, 5)
    assert (
        "conda solver cannot find the package" in finding.message and "nosuchpkg" in finding.message
    )
    assert finding.fix is not None and "anaconda.org" in finding.fix
    assert explanation.location == "binder/environment.yml:6"


def test_pip_section_package_is_located_in_environment_yml(
    conda_repo: tuple[Workspace, StepSources],
) -> None:
    workspace, sources = conda_repo
    result = failed_build(sources, "RUN", "env update", PIP_IN_CONDA.splitlines())
    explanation = explain_failure(result, sources, workspace)
    assert explanation is not None
    (finding,) = explanation.findings
    assert finding.message == "pip cannot find the package 'nosuch-pip-pkg==9.9'"
    assert (finding.path, finding.line) == ("binder/environment.yml", 9)
    assert "pypi.org/project/nosuch-pip-pkg" in (finding.fix or "")


def test_apt_cannot_locate_a_package(conda_repo: tuple[Workspace, StepSources]) -> None:
    workspace, sources = conda_repo
    log = [
        "Reading package lists...",
        "Building dependency tree...",
        "E: Unable to locate package nosuch-apt-pkg",
    ]
    result = failed_build(sources, "RUN", "nosuch-apt-pkg", log, code=100)
    explanation = explain_failure(result, sources, workspace)
    assert explanation is not None and explanation.exit_code == 100
    assert explanation.origin is not None and explanation.origin.path == "binder/apt.txt"
    (finding,) = explanation.findings
    assert finding.name == "build-package-not-found"
    assert (finding.path, finding.line, finding.column) == ("binder/apt.txt", 2, 1)
    assert finding.message == "apt-get cannot find the package 'nosuch-apt-pkg'"


def test_requirements_txt_and_needed_by(tmp_path: Path) -> None:
    root = write(tmp_path / "py", {"requirements.txt": "numpy\n# ml\ntensorflow==2.9.1\n"})
    workspace = Workspace(root)
    sources = attribute(workspace, render(workspace, OPTIONS))
    log = [
        "ERROR: Could not find a version that satisfies the requirement Tensorflow==2.9.1 "
        "(from versions: 2.16.1, 2.16.2)",
        "ERROR: No matching distribution found for Tensorflow==2.9.1",
    ]
    result = failed_build(sources, "RUN", "pip install", log)
    explanation = explain_failure(result, sources, workspace)
    assert explanation is not None
    (finding,) = explanation.findings
    assert (finding.path, finding.line) == ("requirements.txt", 3)  # names compare normalised

    needed = failed_build(
        sources,
        "RUN",
        "pip install",
        [
            "Encountered problems while solving:",
            "  - nothing provides __cuda needed by tensorflow-2.9.1-cuda112py310he87a039_0",
        ],
    )
    (finding,) = explain_failure(needed, sources, workspace).findings  # type: ignore[union-attr]
    assert (finding.path, finding.line) == ("requirements.txt", 3)
    assert "nothing that provides __cuda, which tensorflow needs" in finding.message


def test_killed_step_is_out_of_memory(conda_repo: tuple[Workspace, StepSources]) -> None:
    workspace, sources = conda_repo
    result = failed_build(
        sources, "RUN", "env update", ["Solving environment...", "Killed"], code=137
    )
    explanation = explain_failure(result, sources, workspace)
    assert explanation is not None and explanation.exit_code == 137
    (finding,) = explanation.findings
    assert finding.name == "build-out-of-memory" and finding.path == "binder/environment.yml"
    assert "--driver-opt memory=" in (finding.fix or "")


def test_postbuild_line_from_the_shell_or_the_trace(tmp_path: Path) -> None:
    root = write(
        tmp_path / "pb",
        {
            "requirements.txt": "numpy\n",
            "postBuild": "#!/bin/bash\nset -ex\npip install -e .\njupyter lab build\necho done\n",
        },
    )
    workspace = Workspace(root)
    sources = attribute(workspace, render(workspace, OPTIONS))
    traced = failed_build(
        sources,
        "RUN",
        "./postBuild",
        [
            "+ pip install -e .",
            "Successfully installed x",
            "+ jupyter lab build",
            "[LabBuildApp] ERROR | Build failed.",
        ],
    )
    explanation = explain_failure(traced, sources, workspace)
    assert explanation is not None
    (finding,) = explanation.findings
    assert (finding.code, finding.path, finding.line) == ("R2D503", "postBuild", 4)
    assert finding.message == "postBuild failed with exit code 1 at line 4: jupyter lab build"

    shell = failed_build(
        sources,
        "RUN",
        "./postBuild",
        [
            "./postBuild: line 3: pip: command not found",
        ],
        code=127,
    )
    (finding,) = explain_failure(shell, sources, workspace).findings  # type: ignore[union-attr]
    assert finding.line == 3 and "exit code 127 at line 3: pip install -e ." in finding.message

    silent = failed_build(sources, "RUN", "./postBuild", ["no trace here"])
    (finding,) = explain_failure(silent, sources, workspace).findings  # type: ignore[union-attr]
    assert finding.line == 0 and "set -ex" in finding.message


def test_engine_problems() -> None:
    missing = BuildResult(
        False,
        "t",
        error_kind="engine",
        error=(
            "The docker buildx plugin is missing; repo2docker builds need it (install "
            "docker-buildx). (unknown flag: --progress)"
        ),
    )
    explanation = explain_failure(missing)
    assert explanation is not None
    assert [f.name for f in explanation.findings] == ["buildx-missing"]
    assert explanation.summary.startswith("the engine cannot build: The docker buildx plugin")

    down = BuildResult(
        False,
        "t",
        error_kind="engine",
        error=(
            "The Docker daemon is not reachable: Cannot connect to the Docker daemon at "
            "unix:///var/run/docker.sock. Is the docker daemon running?"
        ),
    )
    (finding,) = explain_failure(down).findings  # type: ignore[union-attr]
    assert finding.code == "R2D506" and finding.name == "engine-unreachable"
    assert "docker version" in (finding.fix or "")


def test_generic_failure_still_names_step_file_and_lines(tmp_path: Path) -> None:
    root = write(tmp_path / "d", {"Dockerfile": "FROM busybox\nRUN make all\n"})
    workspace = Workspace(root)
    sources = attribute(workspace, render(workspace, OPTIONS))
    logs = [f"line {i}" for i in range(40)]
    result = failed_build(sources, "RUN", "make", logs, code=2)
    explanation = explain_failure(result, sources, workspace)
    assert explanation is not None and explanation.findings == ()
    assert (
        explanation.summary == "step [2/2] RUN make all (from Dockerfile:2) failed with exit code 2"
    )
    assert explanation.location == "Dockerfile:2"
    assert explanation.last_lines == tuple(logs[-12:])
    text = explanation.text_lines()
    assert text[1] == "last lines of its log:" and text[-1] == "  | line 39"
    assert explain_failure(BuildResult(True, "t")) is None


def test_failure_kinds_have_unique_codes_and_names() -> None:
    codes = [k.code for k in FAILURE_KINDS.values()]
    assert len(set(codes)) == len(codes) and all(c.startswith("R2D5") for c in codes)
    assert failure_kind("R2D503") is FAILURE_KINDS["build-postbuild-failed"]
    assert failure_kind("base-image-pull-failed") is not None and failure_kind("nope") is None


def test_cli_explains_failure_kinds(capsys: pytest.CaptureFixture[str]) -> None:
    from r2d_tui.cli import main

    assert main(["explain", "R2D503"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("R2D503 [build-postbuild-failed] (build failure): postBuild exited")
    assert main(["explain"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert any(line.startswith("R2D507  builder-unavailable") for line in listed)
