"""Step numbers stay right when BuildKit shares a step with another build (real engine).

BuildKit names a vertex once. When two builds run the same instruction on the same parent
at the same time (a CLI build beside the TUI's watch build), the second build's progress
names the shared step with the *first* build's ``[k/n]``: ``[2/2]`` inside a build of four
steps, which would also attach the wrong environment file to it. r2d-tui renumbers such a
step from the Dockerfile it is building (:meth:`ProgressTracker._renumber`).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from r2d_tui.core.build import BuildSpec, run_build
from r2d_tui.core.progress import ExpectedStep, JSONStreamDecoder, ProgressTracker
from r2d_tui.core.render import RenderOptions

BUSYBOX = "r2d-tui-test/busybox:latest"


def _dockerfiles(nonce: str) -> tuple[str, str]:
    shared = f"RUN sleep 4 && echo shared-{nonce}\n"
    first = f"FROM {BUSYBOX}\n{shared}"
    second = f"FROM {BUSYBOX}\n{shared}RUN echo one-{nonce}\nRUN echo two-{nonce}\n"
    return first, second


def _wait_for_started(proc: subprocess.Popen[str], title: str, timeout: float) -> list[str]:
    """Read the first build's rawjson until the step ``title`` has started."""
    decoder = JSONStreamDecoder()
    deadline = time.monotonic() + timeout
    assert proc.stderr is not None
    seen: list[str] = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        for item in decoder.feed(line):
            if not isinstance(item, dict):
                continue
            for vertex in item.get("vertexes") or ():
                name = str(vertex.get("name") or "")
                seen.append(name)
                if name.endswith(title) and vertex.get("started"):
                    return seen
    raise AssertionError(f"the first build never started {title!r}: {seen[-5:]}")


@pytest.mark.engine
async def test_a_step_shared_with_a_concurrent_build_keeps_this_builds_number(
    tmp_path: Path,
) -> None:
    nonce = uuid.uuid4().hex[:12]
    first_df, second_df = _dockerfiles(nonce)
    first_dir = tmp_path / "first"
    first_dir.mkdir()
    (first_dir / "Dockerfile").write_text(first_df)
    second_dir = tmp_path / "second"
    second_dir.mkdir()
    (second_dir / "Dockerfile").write_text(second_df)
    tags = [f"r2d-tui-test-shared/{nonce}-{n}:latest" for n in ("first", "second")]
    first = subprocess.Popen(
        ["docker", "buildx", "build", "--progress=rawjson", "--load", "-t", tags[0],
         str(first_dir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        await asyncio.to_thread(_wait_for_started, first, f"shared-{nonce}", 60)
        options = RenderOptions(user_id=1000, user_name="jovyan")
        result = await run_build(BuildSpec.from_disk(second_dir, options, tag=tags[1]))
        assert result.success, (result.error, result.log_tail)
        steps = [s for s in result.steps if not s.internal]
        assert [(s.index, s.total) for s in steps] == [(1, 4), (2, 4), (3, 4), (4, 4)]
        assert [s.title.split()[0] for s in steps] == ["FROM", "RUN", "RUN", "RUN"]
        assert steps[1].title.endswith(f"shared-{nonce}")
    finally:
        first.wait(timeout=60)
        subprocess.run(["docker", "image", "rm", "--force", *tags], capture_output=True,
                       timeout=60, check=False)


def test_without_sharing_nothing_is_renumbered() -> None:
    """BuildKit's own numbers are kept when they agree with the Dockerfile (variables in
    names expanded by BuildKit included), and a step no instruction matches is left alone."""
    expected = [
        ExpectedStep(None, 1, 3, "FROM base"),
        ExpectedStep(None, 2, 3, "COPY --chown=1000:1000 src/ ${REPO_DIR}/"),
        ExpectedStep(None, 3, 3, "RUN echo \\\n    same"),
    ]
    names = ["[1/3] FROM docker.io/library/base:latest",
             "[2/3] COPY --chown=1000:1000 src/ /home/jovyan/",
             "[3/3] RUN echo     same", "[7/9] RUN something else"]
    tracker = ProgressTracker(expected=expected)
    text = "".join(
        json.dumps({"vertexes": [{"digest": f"sha256:{n}", "name": name}]}) + "\n"
        for n, name in enumerate(names)
    )
    tracker.feed_text(text)
    assert [(s.index, s.total) for s in tracker.steps] == [(1, 3), (2, 3), (3, 3), (7, 9)]


def test_identical_instructions_are_told_apart_by_order() -> None:
    expected = [ExpectedStep(None, 1, 3, "FROM base"), ExpectedStep(None, 2, 3, "RUN x"),
                ExpectedStep(None, 3, 3, "RUN x")]
    tracker = ProgressTracker(expected=expected)
    for n, name in enumerate(["[1/2] FROM base", "[2/2] RUN x", "[2/2] RUN x"]):
        tracker.feed({"vertexes": [{"digest": f"sha256:{n}", "name": name}]})
    assert sorted((s.index, s.total) for s in tracker.steps) == [(1, 3), (2, 3), (3, 3)]
