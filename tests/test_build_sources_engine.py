"""Steps, sources, rebuild predictions and failure explanations on real builds.

Only the local images ``r2d-tui-test/busybox`` and ``r2d-tui-test/r2d-shim-base`` are used as
bases; nothing is pulled (the pull-failure test relies on the registry being unreachable or
refusing an image name that cannot exist). Every image is tagged under a per-test prefix and
removed afterwards.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_support import make_repo as write

from r2d_tui.core.build import BuildEvent, BuildResult, BuildSpec, BuildStarted, run_build
from r2d_tui.core.builders import list_builders
from r2d_tui.core.explain_failure import explain_failure
from r2d_tui.core.progress import Step
from r2d_tui.core.render import RenderOptions, render, render_saved
from r2d_tui.core.sources import attribute, plan_rebuild
from r2d_tui.core.watch import WatchBuilder
from r2d_tui.core.workspace import Workspace

pytestmark = pytest.mark.engine

BUSYBOX = "r2d-tui-test/busybox:latest"
SHIM = "r2d-tui-test/r2d-shim-base:latest"
OPTIONS = RenderOptions(base_image=SHIM, user_id=1000, user_name="jovyan")


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=60,
                          check=False)


#: Image ids the builds of the running test made (rebuilds under one tag leave the older
#: images untagged: they are removed by id).
BUILT: list[str] = []


def track(result: BuildResult) -> BuildResult:
    if result.image_id:
        BUILT.append(result.image_id)
    return result


@pytest.fixture
def tag() -> Iterator[str]:
    name = f"r2d-tui-test-sources/{uuid.uuid4().hex[:12]}:latest"
    BUILT.clear()
    yield name
    docker("image", "rm", "--force", name, *BUILT)
    BUILT.clear()


def dockerfile_steps(result: BuildResult) -> list[Step]:
    """The Dockerfile steps BuildKit reported, once each (FROM comes twice)."""
    seen: dict[tuple[str | None, int], Step] = {}
    for step in result.steps:
        if not step.internal and step.index is not None:
            seen.setdefault((step.stage, step.index), step)
    return list(seen.values())


async def test_sources_and_rebuild_prediction_match_buildkit(tmp_path: Path, tag: str) -> None:
    nonce = uuid.uuid4().hex
    root = write(tmp_path / "gen", {
        "requirements.txt": "numpy\n",
        "apt.txt": "curl\n",
        "postBuild": f"#!/bin/sh\necho post-{nonce}\n",
        "data.csv": f"x,{nonce}\n",
    }, executable=("postBuild",))
    workspace = Workspace(root)
    first = track(await run_build(BuildSpec.from_disk(root, OPTIONS, tag=tag)))
    assert first.success, (first.error, first.log_tail)
    assert first.image_size is not None and first.image_size > 0
    sources = attribute(workspace, render_saved(workspace, OPTIONS))
    built = dockerfile_steps(first)
    # every step BuildKit ran is an instruction of the preview, with the same number and text
    assert len(built) == len(sources.steps) == built[0].total
    for step in built:
        item = sources.for_step(step.stage, step.index)
        assert item is not None, step.name
        words = " ".join(item.instruction.text.replace("\\\n", " ").split()).split()
        assert step.title.split()[0] == words[0]  # same instruction keyword
    by_title = {s.title: sources.for_step(s.stage, s.index) for s in built}
    assert by_title["RUN ./postBuild"].label == "postBuild"  # type: ignore[union-attr]

    # predicted reruns == the steps BuildKit did not take from its cache
    for path, text in (("requirements.txt", f"numpy  # {nonce}\n"), ("data.csv", "x,2\n")):
        workspace.set_text(path, text)
        rebuild = plan_rebuild(render_saved(workspace, OPTIONS), render(workspace, OPTIONS),
                               workspace.dirty_paths(), root)
        workspace.save(path)
        assert rebuild is not None
        again = track(await run_build(BuildSpec.from_disk(root, OPTIONS, tag=tag)))
        assert again.success, again.error
        rerun = {s.index for s in dockerfile_steps(again) if not s.cached and s.index != 1}
        assert rerun == {s.index for s in rebuild.steps}, (path, rebuild.describe())


async def test_failing_postbuild_is_explained_at_its_line(tmp_path: Path, tag: str) -> None:
    root = write(tmp_path / "pb", {
        "requirements.txt": "numpy\n",
        "postBuild": "#!/bin/sh\nset -ex\necho preparing\nfalse\necho never\n",
    }, executable=("postBuild",))
    workspace = Workspace(root)
    spec = BuildSpec.from_disk(root, OPTIONS, tag=tag)
    result = await run_build(spec)
    assert not result.success and result.render is spec.render
    explanation = explain_failure(result, attribute(workspace, spec.render), workspace)
    assert explanation is not None
    assert explanation.step_label is not None and explanation.step_label.endswith("RUN ./postBuild")
    assert explanation.origin is not None and explanation.origin.path == "postBuild"
    assert "+ false" in explanation.last_lines
    (finding,) = explanation.findings
    assert (finding.name, finding.path, finding.line) == ("build-postbuild-failed", "postBuild", 4)
    assert finding.message == "postBuild failed with exit code 1 at line 4: false"


async def test_unpullable_base_image_is_explained(tmp_path: Path, tag: str) -> None:
    missing = f"r2d-tui-test/no-such-image-{uuid.uuid4().hex[:8]}:1"
    root = write(tmp_path / "pull", {"Dockerfile": f"# base\nFROM {missing}\nRUN echo hi\n"})
    workspace = Workspace(root)
    spec = BuildSpec.from_disk(root, OPTIONS, tag=tag)
    result = await run_build(spec)
    assert not result.success
    explanation = explain_failure(result, attribute(workspace, spec.render), workspace)
    assert explanation is not None
    (finding,) = explanation.findings
    assert (finding.code, finding.name) == ("R2D504", "base-image-pull-failed")
    assert (finding.path, finding.line) == ("Dockerfile", 2)
    assert missing in finding.message
    assert explanation.step_label == f"[1/2] FROM {missing}"


async def test_killed_step_is_explained_as_memory(tmp_path: Path, tag: str) -> None:
    root = write(tmp_path / "oom", {
        "Dockerfile": f"FROM {BUSYBOX}\nRUN echo allocating && exit 137\n",
    })
    workspace = Workspace(root)
    spec = BuildSpec.from_disk(root, OPTIONS, tag=tag)
    result = await run_build(spec)
    explanation = explain_failure(result, attribute(workspace, spec.render), workspace)
    assert explanation is not None and explanation.exit_code == 137
    assert explanation.last_lines == ("allocating",)
    (finding,) = explanation.findings
    assert (finding.name, finding.path, finding.line) == ("build-out-of-memory", "Dockerfile", 2)


async def test_burst_of_saves_builds_at_most_twice_and_the_last_state(
    tmp_path: Path, tag: str
) -> None:
    nonce = uuid.uuid4().hex
    root = write(tmp_path / "burst", {
        "Dockerfile": f"FROM {BUSYBOX}\nCOPY data.txt /data.txt\nRUN cat /data.txt\n",
        "data.txt": f"v0-{nonce}\n",
    })
    starts: list[float] = []
    results: list[BuildResult] = []

    def on_event(event: BuildEvent) -> None:
        if isinstance(event, BuildStarted):
            starts.append(time.monotonic())

    def on_result(result: BuildResult) -> None:
        results.append(track(result))

    builder = WatchBuilder(lambda: BuildSpec.from_disk(root, OPTIONS, tag=tag),
                           on_event=on_event, on_result=on_result)
    stop = asyncio.Event()
    watcher = asyncio.create_task(builder.run(root, build_first=False, stop_event=stop))
    await asyncio.sleep(0.5)  # let the watcher subscribe
    began = time.monotonic()
    for i in range(1, 51):  # 50 saves in 5 s
        (root / "data.txt").write_text(f"v{i}-{nonce}\n")
        await asyncio.sleep(max(0.0, began + i * 0.1 - time.monotonic()))
    result = await asyncio.wait_for(builder.wait(), 60)
    stop.set()
    await asyncio.wait_for(watcher, 10)

    assert 1 <= builder.builds_started <= 2 and len(starts) <= 2
    assert starts[0] - began < 0.5  # the first save builds at once
    assert result is not None and result.success, result and result.error
    assert results[-1] is result
    run = next(s for s in result.steps if s.instruction == "RUN")
    assert run.logs == [f"v50-{nonce}"]


def test_builders_list_shows_driver_and_status() -> None:
    name = f"r2dtui-test-{uuid.uuid4().hex[:8]}"
    # creating a docker-container builder pulls nothing until it is started
    created = docker("buildx", "create", "--name", name, "--driver", "docker-container",
                     "--driver-opt", "memory=1g")
    assert created.returncode == 0, created.stderr
    try:
        builders = {b.name: b for b in list_builders()}
        assert builders[name].driver == "docker-container"
        assert builders[name].status == "inactive" and not builders[name].current
        current = [b for b in builders.values() if b.current]
        assert len(current) == 1
        assert builders[name].summary == f"{name} (docker-container, inactive)"
    finally:
        docker("buildx", "rm", name)


def test_cli_build_failure_exit_1_explanation_on_stderr_and_json_events(
    tmp_path: Path, tag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from r2d_tui.cli import main

    root = write(tmp_path / "pbcli", {
        "requirements.txt": "numpy\n",
        "postBuild": "#!/bin/sh\nset -e\necho hi\nnosuchcommand --flag\n",
    }, executable=("postBuild",))
    common = ["--tag", tag, "--base-image", SHIM, "--user-id", "1000", "--user-name", "jovyan",
              str(root)]
    assert main(["build", "--progress", "plain", *common]) == 1
    out, err = capsys.readouterr()
    assert out == ""  # stdout is data only
    assert "  (postBuild)" in err and "FAILED  [19/21] RUN ./postBuild" in err
    assert "why: step [19/21] RUN ./postBuild (from postBuild) failed with exit code 127" in err
    assert ("postBuild:4: R2D503 [build-postbuild-failed] postBuild failed with exit code 127 "
            "at line 4: nosuchcommand --flag") in err

    assert main(["build", "--progress", "json", *common]) == 1
    out, err = capsys.readouterr()
    events = [json.loads(line) for line in out.splitlines()]
    kinds = {e["event"] for e in events}
    assert {"context-synced", "build-started", "step-started", "step-finished",
            "build-finished"} <= kinds
    finished = events[-1]
    assert finished["event"] == "build-finished" and finished["success"] is False
    assert finished["explanation"]["findings"][0]["line"] == 4
    post = [e for e in events if e["event"] == "step-finished"
            and e["step"]["name"].endswith("RUN ./postBuild")]
    assert post and post[0]["step"]["source"] == "postBuild" and post[0]["error"]
    assert "why: step [19/21]" in err


def test_cli_build_success_summary_cache_flags_and_platform(
    tmp_path: Path, tag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from r2d_tui.cli import main

    root = write(tmp_path / "ok", {"Dockerfile": f"FROM {BUSYBOX}\nRUN echo ok\n"})
    cache = tmp_path / "cache"
    common = ["build", "--progress", "plain", "--tag", tag, "--platform", "linux/amd64"]
    assert main([*common, "--cache-from", f"type=local,src={cache}", str(root)]) == 0
    out, err = capsys.readouterr()
    image_tag, image_id = out.strip().split("\t")
    assert image_tag == tag and image_id.startswith("sha256:")
    assert f"--cache-from type=local,src={cache}" in err and "--platform linux/amd64" in err
    assert "steps cached" in err and "; image " in err
    # the engine's own builder cannot export cache: the explanation says what to do instead
    assert main([*common, "--cache-to", f"type=local,dest={cache}", str(root)]) == 1
    _out, err = capsys.readouterr()
    assert f"--cache-to type=local,dest={cache}" in err
    assert "R2D508 [cache-export-unsupported]" in err and "docker-container" in err
