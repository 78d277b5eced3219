"""The Run and Tests tabs: F5 runs, shift+F5 stops, F9 tests, shift+F9 tests every build.

Engine tests build a busybox Dockerfile repository whose command is ``httpd`` (nothing is
pulled) and check, outside the app, that the URL answers and that no container is left
after a stop or after quitting. The tests without an engine check the commands' states and
what F5 does when the build cannot run.
"""

from __future__ import annotations

import os
import subprocess
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from app_support import SIZE, main_screen, make_app, make_repo, settle
from textual.pilot import Pilot
from textual.widgets import TabbedContent

from r2d_tui.app.commands import MAIN_COMMANDS
from r2d_tui.app.screens.help import help_markdown
from r2d_tui.app.screens.run_controls import RUN_ACTIONS
from r2d_tui.app.widgets.run_panel import RunPanel, TestPanel
from r2d_tui.core.run import LABEL_OWNER, live_containers

BUSYBOX = "r2d-tui-test/busybox:latest"

WEB = {
    "Dockerfile": f"FROM {BUSYBOX}\nRUN mkdir -p /srv && echo served-by-f5 > /srv/index.html\n"
    "WORKDIR /srv\nCOPY verify /srv/verify\n"
    'CMD ["httpd", "-f", "-v", "-p", "8888", "-h", "/srv"]\n',
    "verify": "#!/bin/sh\necho verifying the image\ntest -f /srv/index.html\n",
}


def web_repo(root: Path, verify: str | None = None) -> Path:
    files = dict(WEB)
    if verify is not None:
        files["verify"] = verify
    return make_repo(root, files, executable=("verify",))


def my_containers() -> list[str]:
    done = subprocess.run(
        ["docker", "ps", "-a", "--filter", f"label={LABEL_OWNER}={os.getpid()}",
         "--format", "{{.Names}}"],
        capture_output=True, text=True, check=False, timeout=60,
    )
    return done.stdout.split()


@pytest.fixture
def tag() -> Iterator[str]:
    name = f"r2d-tui-test/app-run-{uuid.uuid4().hex[:10]}:latest"
    yield name
    subprocess.run(["docker", "rmi", "-f", name], capture_output=True, check=False, timeout=60)


async def wait_for(pilot: Pilot[int], condition: Callable[[], bool], timeout: float = 60) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not met in time")


def tab_labels(pilot: Pilot[int]) -> dict[str, str]:
    tabs = pilot.app.screen.query_one("#bottom", TabbedContent)
    return {pane: str(tabs.get_tab(pane).label) for pane in ("run-tab", "test-tab")}


# --- without an engine -------------------------------------------------------------------


def test_run_commands_are_declared_once() -> None:
    actions = [command.action for command in MAIN_COMMANDS]
    assert sorted(a for a in actions if a in RUN_ACTIONS) == sorted(RUN_ACTIONS)
    keys = [key.strip() for command in MAIN_COMMANDS for key in command.key.split(",")]
    assert len(keys) == len(set(keys))
    text = help_markdown(None)
    for key in ("`F5`", "`Shift+F5`", "`F9`", "`Shift+F9`", "`Ctrl+O`", "`Ctrl+L`", "`Ctrl+G`"):
        assert key in text


async def test_stop_open_and_copy_wait_for_a_server(tmp_path: Path) -> None:
    app = make_app(web_repo(tmp_path / "web"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        for action in ("stop_server", "open_url", "copy_url"):
            assert not screen.check_action(action, ())
        for action in ("run_server", "test_image", "toggle_editable", "toggle_test_on_build"):
            assert screen.check_action(action, ())
        assert screen.query_one(RunPanel).summary == ""  # nothing has happened
        assert tab_labels(pilot) == {"run-tab": "Run", "test-tab": "Tests"}
        await pilot.press("ctrl+g", "shift+f9")
        assert screen.editable and screen.test_on_build


async def test_f5_when_the_build_fails_starts_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("r2d_tui.core.build.DOCKER", "r2d-tui-no-such-docker")
    app = make_app(web_repo(tmp_path / "web"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        await pilot.press("f5", "f9")
        await settle(pilot)
        run, tests = screen.query_one(RunPanel), screen.query_one(TestPanel)
        assert run.state == "ended" and run.summary.startswith("⊘ not started: the build")
        assert tests.state in ("error", "cancelled")
        assert tests.summary.startswith("⊘ not tested: the build")
        assert not screen.check_action("stop_server", ())
    assert live_containers() == []


# --- on the engine --------------------------------------------------------------------------


@pytest.mark.engine
async def test_f5_runs_the_image_and_shift_f5_removes_it(tmp_path: Path, tag: str) -> None:
    app = make_app(web_repo(tmp_path / "web"), tag=tag)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        panel = screen.query_one(RunPanel)
        await pilot.press("f5")  # the Build tab shows the build, then the Run tab the server
        await wait_for(pilot, lambda: panel.state == "running")
        assert screen.query_one(TabbedContent).active == "run-tab"
        # the label follows the panel's Changed message, one message hop after the state
        await wait_for(pilot, lambda: tab_labels(pilot)["run-tab"] == "Run ▶", timeout=5)
        url = panel.url
        assert url is not None and url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.read() == b"served-by-f5\n"
        assert panel.summary.startswith(f"▶ running {tag}")
        await wait_for(pilot, lambda: any("response:200" in line for line in panel.log_lines))
        assert any(line.startswith("── r2d-tui-run-web-") for line in panel.log_lines)
        assert len(my_containers()) == 1

        await pilot.press("ctrl+l")
        assert app.clipboard == url

        await pilot.press("ctrl+b")  # the same image again: nothing to restart for
        await settle(pilot)
        assert "rebuilt" not in panel.summary
        root = Path(app.session.workspace.root)
        (root / "Dockerfile").write_text(WEB["Dockerfile"] + "RUN echo changed\n")
        await pilot.press("ctrl+b")
        await settle(pilot)
        assert panel.summary.endswith("image rebuilt: F5 restarts")
        assert panel.state == "running"

        await pilot.press("shift+f5")
        await wait_for(pilot, lambda: panel.state == "ended")
        assert panel.summary.startswith("■ stopped")
        assert panel.url is None
        assert not screen.check_action("stop_server", ())
        assert my_containers() == []


@pytest.mark.engine
async def test_quitting_removes_the_running_server(tmp_path: Path, tag: str) -> None:
    app = make_app(web_repo(tmp_path / "web"), tag=tag)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        panel = main_screen(pilot).query_one(RunPanel)
        await pilot.press("f5")
        await wait_for(pilot, lambda: panel.state == "running")
        assert len(my_containers()) == 1
        await pilot.press("ctrl+q")
    assert my_containers() == []
    assert live_containers() == []


@pytest.mark.engine
async def test_f9_shows_each_test_with_its_output(tmp_path: Path, tag: str) -> None:
    root = web_repo(tmp_path / "web", verify="#!/bin/sh\necho 'pandas is missing'\nexit 1\n")
    app = make_app(root, tag=tag)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        tests = screen.query_one(TestPanel)
        await pilot.press("f9")
        await wait_for(pilot, lambda: tests.state in ("passed", "failed", "error"))
        assert tests.state == "failed"
        assert screen.query_one(TabbedContent).active == "test-tab"
        assert tests.rows == [("failed", "verify")]
        assert tests.summary.startswith("✗ 1 failed in ")
        assert tests.output_lines == ["pandas is missing"]
        await wait_for(pilot, lambda: tab_labels(pilot)["test-tab"] == "Tests ✗", timeout=5)
    assert my_containers() == []


@pytest.mark.engine
async def test_test_on_build_verifies_every_successful_build(tmp_path: Path, tag: str) -> None:
    app = make_app(web_repo(tmp_path / "web"), tag=tag, test_on_build=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        tests = screen.query_one(TestPanel)
        assert screen.test_on_build
        await pilot.press("ctrl+b")
        await wait_for(pilot, lambda: tests.state in ("passed", "failed", "error"))
        assert tests.state == "passed", tests.summary
        assert tests.rows == [("passed", "verify")]
        await wait_for(pilot, lambda: tab_labels(pilot)["test-tab"] == "Tests ✓", timeout=5)
        await pilot.press("shift+f9")  # off: the next build is not tested
        assert not screen.test_on_build
        tests.state = "idle"
        await pilot.press("ctrl+b")
        await settle(pilot)
        assert tests.state == "idle"
    assert my_containers() == []
