"""The TUI opens every repository of the bad-input suite (tests/test_bad_input.py) and
stays usable: the analysis finishes, no worker fails, a render failure names the file,
and the app still answers keys and renders an edit (issue #7)."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_support import SIZE, main_screen, make_app, settle
from test_bad_input import CASES

from r2d_tui.app.widgets.preview import DockerfilePreview


@pytest.mark.parametrize("case", sorted(CASES))
async def test_tui_opens_a_bad_repository_and_keeps_working(tmp_path: Path, case: str) -> None:
    make, named = CASES[case]
    repo = tmp_path / "répo ü"
    repo.mkdir()
    make(repo)
    app = make_app(repo)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        assert screen.analysed
        failed = [n for n in app._notifications if (n.title or "").endswith(" failed")]
        assert failed == [], [n.message for n in failed]
        result = screen.render_result
        assert result is not None
        if result.problem is not None and named:
            where = f"{result.problem.path or ''} {result.problem.message}"
            assert named in where
        # still usable: F3 maximises the preview, and a new file is rendered
        await pilot.press("f3")
        await pilot.pause()
        assert screen.maximized is screen.query_one(DockerfilePreview)
        await pilot.press("escape")
        screen.open_file("apt.txt")
        await settle(pilot)
        assert screen.current_path == "apt.txt"
        assert app.is_running
        screen.workspace.revert("apt.txt")
