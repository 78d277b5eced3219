"""The Dockerfile diff (F10): current files against the last build, or the saved files.

The before-any-build case runs without an engine; the after-a-build case builds a
Dockerfile repository on the real engine from the local busybox image (never pulled).
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_support import SIZE, main_screen, make_app, make_repo, python_repo, settle
from textual.pilot import Pilot

from r2d_tui.app.screens.diff import DiffScreen, diff_lines


async def open_diff(pilot: Pilot[int]) -> DiffScreen:
    await pilot.press("f10")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, DiffScreen), screen
    return screen


def test_diff_lines_drop_the_file_header_and_keep_hunks() -> None:
    lines = diff_lines("\nFROM a\nRUN x\n", "\nFROM a\nRUN y\n")
    assert lines == ["@@ -1,2 +1,2 @@", " FROM a", "-RUN x", "+RUN y"]
    assert diff_lines("FROM a\n", "FROM a\n") == []


async def test_before_any_build_the_diff_compares_with_the_saved_files(tmp_path: Path) -> None:
    app = make_app(python_repo(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        diff = await open_diff(pilot)
        assert not diff.comparison.built
        assert diff.summary == "No difference: the Dockerfile is the same."
        await pilot.press("escape")
        assert pilot.app.screen is main

        main.open_file("runtime.txt")
        main.editor.apply_text("python-3.11\n")
        await settle(pilot)
        diff = await open_diff(pilot)
        assert diff.comparison.before_label == "saved files"
        assert "unsaved edits included" in diff.comparison.after_label
        removed = [line for line in diff.lines if line.startswith("-")]
        added = [line for line in diff.lines if line.startswith("+")]
        # the conda lock file repo2docker copies is named after the Python version
        # (escaped: "3.10" is "3-2e10")
        assert removed and all("3-2e10" in line for line in removed), diff.lines
        assert added and all("3-2e11" in line for line in added), diff.lines
        assert diff.summary.endswith("removed")
        await pilot.press("f10")  # the same key closes it
        assert pilot.app.screen is main


async def test_diff_says_why_it_cannot_compare_a_broken_file(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "conda", {"environment.yml": "dependencies:\n  - numpy\n"})
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        main.editor.apply_text("dependencies:\n  - numpy\n - bad: [\n")
        await settle(pilot)
        diff = await open_diff(pilot)
        assert diff.summary.startswith("Cannot compare:"), diff.summary
        assert diff.lines == []


@pytest.fixture
def tag() -> Iterator[str]:
    name = f"r2d-tui-test/diff-{uuid.uuid4().hex[:10]}:latest"
    yield name
    subprocess.run(["docker", "rmi", "-f", name], capture_output=True, check=False, timeout=60)


@pytest.mark.engine
async def test_after_a_build_the_diff_compares_with_the_built_dockerfile(
    tmp_path: Path, tag: str
) -> None:
    root = make_repo(tmp_path / "dock", {"Dockerfile": "FROM r2d-tui-test/busybox:latest\n"})
    app = make_app(root, tag=tag)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        await pilot.press("ctrl+b")
        await settle(pilot)
        assert main.build_panel.result is not None and main.build_panel.result.success
        # saved after the build: the diff must still be against what was built
        main.editor.apply_text("FROM r2d-tui-test/busybox:latest\nRUN echo changed\n")
        await pilot.press("ctrl+s")
        await settle(pilot)
        diff = await open_diff(pilot)
        assert diff.comparison.built
        assert diff.comparison.before_label == f"last build ({tag})"
        assert "+RUN echo changed" in diff.lines, diff.lines
