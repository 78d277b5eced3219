"""The TUI's issue-5 parts: what saving reruns, per-step sources, failure explanations, and
the builder picker.

The preview test needs no engine; the others build on the real Docker engine from the local
images ``r2d-tui-test/busybox`` and ``r2d-tui-test/r2d-shim-base`` only.
"""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_support import SIZE, main_screen, make_app, make_repo, settle
from textual.widgets import OptionList

from r2d_tui.app.screens.builders import BuilderScreen
from r2d_tui.app.widgets.build_panel import BuildPanel
from r2d_tui.app.widgets.preview import DockerfilePreview
from r2d_tui.core.render import RenderOptions

SHIM = "r2d-tui-test/r2d-shim-base:latest"
OPTIONS = RenderOptions(base_image=SHIM, user_id=1000, user_name="jovyan",
                        platform="linux/amd64")


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=60,
                          check=False)


@pytest.fixture
def tag() -> Iterator[str]:
    name = f"r2d-tui-test/app-sources-{uuid.uuid4().hex[:10]}:latest"
    yield name
    docker("image", "rm", "--force", name)


async def test_preview_says_which_steps_saving_reruns(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "py", {
        "requirements.txt": "numpy\n", "apt.txt": "curl\n", "postBuild": "#!/bin/sh\necho\n",
    }, executable=("postBuild",))
    app = make_app(root, options=OPTIONS)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        preview = screen.query_one(DockerfilePreview)
        assert "reruns" not in preview.header_text  # nothing unsaved
        screen.open_file("requirements.txt")
        await settle(pilot)
        await pilot.press("end", "enter", *"pandas")
        await settle(pilot)
        # the Dockerfile text is the same, but the early COPY copies the edited file
        assert "saving requirements.txt reruns steps 15–22 of 22" in preview.header_text
        assert screen.rebuild is not None and "copies requirements.txt" in screen.rebuild.why
        screen.open_file("apt.txt")
        await settle(pilot)
        await pilot.press("end", *"vim")
        await settle(pilot)
        # the earliest step either edit reruns decides
        assert ("saving apt.txt and requirements.txt reruns steps 15–22 of 22"
                in preview.header_text)
        screen.open_file("requirements.txt")
        await settle(pilot)
        await pilot.press("ctrl+s")  # requirements.txt saved; apt.txt still unsaved
        await settle(pilot)
        assert "saving apt.txt reruns steps 16–22 of 22" in preview.header_text


@pytest.mark.engine
async def test_failed_build_shows_sources_and_why(tmp_path: Path, tag: str) -> None:
    root = make_repo(tmp_path / "pb", {
        "requirements.txt": "numpy\n",
        "postBuild": "#!/bin/sh\nset -ex\necho preparing\nfalse\n",
    }, executable=("postBuild",))
    app = make_app(root, options=OPTIONS, tag=tag)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        panel = screen.query_one(BuildPanel)
        await pilot.press("ctrl+b")
        await settle(pilot)
        assert panel.result is not None and not panel.result.success
        sources = dict(panel.step_sources)
        post = next(name for name in sources if name.endswith("RUN ./postBuild"))
        assert sources[post] == "postBuild"
        assert any(label == "requirements.txt" for label in sources.values())
        assert any(label == "the repository (COPY src/)" for label in sources.values())
        assert panel.explanation is not None
        why = panel.explanation_text
        assert why.startswith("why: step [19/21] RUN ./postBuild (from postBuild) failed")
        assert "postBuild:4: build-postbuild-failed: postBuild failed with exit code 1 at " \
               "line 4: false" in why
        log = "\n".join(str(line) for line in panel.query_one("#build-log").lines)  # type: ignore[attr-defined]
        assert log.startswith("── why the build failed ──")
        assert "+ false" in log

        # fix it and build again: every step has a source, the summary has the image size
        screen.open_file("postBuild")
        await settle(pilot)
        screen.editor.replace_text("#!/bin/sh\nset -ex\necho preparing\n")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("ctrl+b")
        await settle(pilot)
        assert panel.result is not None and panel.result.success, panel.result
        assert panel.explanation is None and panel.explanation_text == ""
        steps = [(n, source) for n, source in panel.step_sources if re.match(r"\[\s*\d", n)]
        assert len(steps) == 21 and all(source for _name, source in steps), steps
        assert " MB" in panel.summary and "steps cached" in panel.summary
    docker("image", "rm", "--force", panel.result.image_id or "")


@pytest.mark.engine
async def test_builder_picker_lists_builders_and_builds_with_the_choice(
    tmp_path: Path, tag: str
) -> None:
    name = f"r2dtui-pick-{uuid.uuid4().hex[:8]}"
    # a docker-container builder pulls its BuildKit image only when it starts: offline that
    # fails, which the explanation must say
    assert docker("buildx", "create", "--name", name, "--driver", "docker-container"
                  ).returncode == 0
    try:
        root = make_repo(tmp_path / "dock", {"Dockerfile": "FROM r2d-tui-test/busybox:latest\n"})
        app = make_app(root, tag=tag)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = main_screen(pilot)
            await pilot.press("ctrl+t")
            await settle(pilot)
            picker = pilot.app.screen
            assert isinstance(picker, BuilderScreen)
            texts = picker.option_texts
            assert texts[0].startswith("the default builder (no --builder: default)")
            ours = next(t for t in texts if t.startswith(name))
            assert "docker-container" in ours and "inactive" in ours
            assert any(t.startswith("default") and "docker" in t and "← current" in t
                       for t in texts)
            options = picker.query_one(OptionList)
            options.highlighted = texts.index(ours)
            await pilot.press("enter")
            await settle(pilot)
            assert screen.session.builder == name
            await pilot.press("ctrl+b")
            await settle(pilot)
            panel = screen.query_one(BuildPanel)
            assert panel.result is not None and not panel.result.success
            assert f"--builder {name}" in " ".join(panel.result.argv)
            assert panel.explanation is not None
            assert [f.name for f in panel.explanation.findings] == ["builder-unavailable"]

            await pilot.press("ctrl+t")
            await settle(pilot)
            await pilot.press("home", "enter")  # back to the default builder
            await settle(pilot)
            assert screen.session.builder is None
    finally:
        docker("buildx", "rm", name)
