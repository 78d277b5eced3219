"""The build panel on the real Docker engine: build on save, cache hits, cancellation.

Only the local images ``r2d-tui-test/busybox`` and ``r2d-tui-test/r2d-shim-base`` are used
(nothing is pulled). Every test builds under its own tag and removes it afterwards.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_support import SIZE, main_screen, make_app, make_repo, settle
from textual.pilot import Pilot
from textual.widgets import TabbedContent

from r2d_tui.app.messages import BuildEnded, FileSaved
from r2d_tui.app.screens.main import MainScreen
from r2d_tui.app.widgets.build_panel import BuildPanel
from r2d_tui.core.render import RenderOptions

pytestmark = pytest.mark.engine

BUSYBOX = "r2d-tui-test/busybox:latest"
SHIM = "r2d-tui-test/r2d-shim-base:latest"


@pytest.fixture
def tag() -> Iterator[str]:
    name = f"r2d-tui-test/app-{uuid.uuid4().hex[:10]}:latest"
    yield name
    subprocess.run(["docker", "rmi", "-f", name], capture_output=True, check=False, timeout=60)


async def wait_for(pilot: Pilot[int], condition: object, timeout: float = 60.0) -> None:
    """Let the app run until ``condition()`` is true (polling the UI, not sleeping blind)."""
    assert callable(condition)
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not met in time")


async def press_build(pilot: Pilot[int]) -> tuple[MainScreen, BuildPanel]:
    """Settle the app, then press ctrl+b; the main screen and its build panel."""
    await settle(pilot)
    screen = main_screen(pilot)
    panel = screen.query_one(BuildPanel)
    await pilot.press("ctrl+b")
    return screen, panel


async def test_watch_on_save_builds_and_shows_success(tmp_path: Path, tag: str) -> None:
    root = make_repo(tmp_path / "dock", {"Dockerfile": f"FROM {BUSYBOX}\n"})
    messages: list[object] = []
    app = make_app(root, watch=True, tag=tag)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        assert screen.watching
        assert screen.current_path == "Dockerfile"
        screen.editor.focus()
        screen.editor.move_cursor(screen.editor.document.end)
        marker = uuid.uuid4().hex[:8]
        await pilot.press(*f"RUN echo {marker}", "enter")
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert (root / "Dockerfile").read_text() == f"FROM {BUSYBOX}\nRUN echo {marker}\n"
        panel = screen.query_one(BuildPanel)
        assert screen.query_one(TabbedContent).active == "build-tab"
        assert panel.result is not None and panel.result.success, panel.result
        assert panel.summary.startswith(f"✓ built {tag}")
        assert screen.last_build.startswith("✓")
        assert not screen.building
        states = dict((name, state) for state, name in panel.step_rows)
        run_step = next(name for name in states if f"RUN echo {marker}" in name)
        assert states[run_step] == "done"
        saved = [i for i, m in enumerate(messages) if isinstance(m, FileSaved)]
        ended = [i for i, m in enumerate(messages) if isinstance(m, BuildEnded)]
        assert saved and ended and saved[0] < ended[-1]
    inspect = subprocess.run(["docker", "image", "inspect", tag], capture_output=True,
                             check=False, timeout=60)
    assert inspect.returncode == 0


async def test_rebuild_of_a_generated_dockerfile_is_cached(tmp_path: Path, tag: str) -> None:
    root = make_repo(tmp_path / "py", {"requirements.txt": "numpy\n"})
    options = RenderOptions(base_image=SHIM, user_id=1000, user_name="jovyan")
    app = make_app(root, tag=tag, options=options)
    async with app.run_test(size=SIZE) as pilot:
        screen, panel = await press_build(pilot)
        await settle(pilot)
        assert panel.result is not None and panel.result.success, panel.result
        await pilot.press("ctrl+b")
        await settle(pilot)
        result = panel.result
        assert result is not None and result.success, result
        assert result.steps_cached > 0 and result.steps_run == 0
        total = result.steps_run + result.steps_cached
        assert f"{result.steps_cached} of {total} steps cached" in panel.summary
        assert any(state == "cached" for state, _name in panel.step_rows)


async def test_f4_cancels_a_running_build(tmp_path: Path, tag: str) -> None:
    root = make_repo(
        tmp_path / "slow",
        {"Dockerfile": f"FROM {BUSYBOX}\nRUN echo {uuid.uuid4().hex} && sleep 60\n"},
    )
    app = make_app(root, tag=tag)
    async with app.run_test(size=SIZE) as pilot:
        screen, panel = await press_build(pilot)
        await wait_for(
            pilot,
            lambda: any(state == "running" and "sleep 60" in name
                        for state, name in panel.step_rows),
        )
        assert screen.building
        await pilot.press("f4")
        await settle(pilot)
        assert not screen.building
        assert screen.last_build == "⊘ cancelled"
        assert panel.summary.startswith("⊘ cancelled")
        assert any(state == "cancelled" and "sleep 60" in name
                   for state, name in panel.step_rows)
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=False)
    assert tag not in ps.stdout


async def test_long_log_is_capped_on_screen_and_kept_in_full_on_disk(tmp_path: Path,
                                                                     tag: str) -> None:
    marker = uuid.uuid4().hex[:8]
    root = make_repo(tmp_path / "chatty", {
        "Dockerfile": f"FROM {BUSYBOX}\n"
        f"RUN i=1; while [ $i -le 2600 ]; do echo {marker}-$i; i=$((i+1)); done\n"
    })
    app = make_app(root, tag=tag)
    async with app.run_test(size=SIZE) as pilot:
        screen, panel = await press_build(pilot)
        await wait_for(pilot, lambda: panel.result is not None)
        assert panel.result is not None and panel.result.success, panel.result
        log_path = panel.result.log_path
        assert log_path is not None and panel.log_path == log_path
        on_disk = log_path.read_text(encoding="utf-8")
        assert all(f"{marker}-{i}\n" in on_disk for i in (1, 600, 2600))
        widget = panel.query_one("#build-log")
        title = str(panel.query_one("#build-log-title").render())
        assert f"full log: {log_path}" in title
        shown = list(widget.lines)  # type: ignore[attr-defined]
        assert len(shown) <= 2000 and shown[-1] == f"{marker}-2600"
        # re-showing the step says what the widget leaves out, and where it all is
        run_step = next(d for d, step in panel.steps.items() if "RUN i=1" in step.name)
        panel._show_step_log(run_step)
        first = list(widget.lines)[0]  # type: ignore[attr-defined]
        assert "earlier lines not shown" in first and str(log_path) in first
