"""The premise of ``dockerenv-reliance``, on the real engine: a BuildKit build step has no
``/.dockerenv``, while a container started from the image has one.

Only the local image ``r2d-tui-test/busybox`` is used (nothing is pulled); the image built
here gets a unique tag and is removed afterwards.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from migration_support import (
    _overlays_under_tmp_path,  # noqa: F401 - autouse fixture
    check,
)

from r2d_tui.core.build import EngineStatus

BUSYBOX = "r2d-tui-test/busybox:latest"
RUN = "RUN if test -e /.dockerenv; then echo present > /result; else echo absent > /result; fi"
DOCKERFILE = f"FROM {BUSYBOX}\n{RUN}\n"


def docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def tag(engine: EngineStatus) -> Iterator[str]:
    if docker("image", "inspect", BUSYBOX).returncode != 0:
        pytest.fail(f"{BUSYBOX} is missing; run shared/tools/docker-engine-up")
    name = f"r2d-tui-test-migration/{uuid.uuid4().hex[:12]}:latest"
    yield name
    docker("image", "rm", "--force", name)


@pytest.mark.engine
def test_buildkit_build_step_has_no_dockerenv(tmp_path: Path, tag: str) -> None:
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text(DOCKERFILE)

    # the checker flags exactly this RUN line
    assert check(tmp_path / "checked", {"Dockerfile": DOCKERFILE}) == [
        ("dockerenv-reliance", "Dockerfile", 2, RUN.index("/.dockerenv") + 1)
    ]

    built = docker(
        "buildx", "build", "--load", "--progress", "plain", "--tag", tag, str(context),
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]

    # during the build (BuildKit's sandbox) the file was absent ...
    result = docker("run", "--rm", tag, "cat", "/result")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "absent"

    # ... while a container run from the same image has it (so the test "worked" with the
    # classic builder, which ran each step in such a container)
    running = docker("run", "--rm", tag, "sh", "-c",
                     "test -e /.dockerenv && echo present || echo absent")
    assert running.returncode == 0, running.stderr
    assert running.stdout.strip() == "present"
