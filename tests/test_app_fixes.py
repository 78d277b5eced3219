"""The TUI's machine fixes (ctrl+f) and the finding marks in the editor's gutter.

The findings come from the real checks on small repositories; the app is the deterministic
one of :mod:`app_support`.
"""

from __future__ import annotations

from pathlib import Path

from app_support import SIZE, main_screen, make_app, make_repo, mode, settle
from textual.pilot import Pilot

from r2d_tui.app.screens.main import MainScreen
from r2d_tui.app.widgets.diagnostics import DiagnosticsTable, FindingDetail
from r2d_tui.app.widgets.editor import MARKS, EnvEditor
from r2d_tui.core.findings import Finding, Severity

ENVIRONMENT = """\
name: demo  # keep this comment
channels:
  - conda-forge
dependencies:
  - python>=3.10,<3.13   # pin
  - "numpy=1.21.2=py39h20f2e39_0"
  - pip
"""
FIXED_ENVIRONMENT = ENVIRONMENT.replace("python>=3.10,<3.13", "python=3.10").replace(
    "=py39h20f2e39_0", ""
)


CRLF_POSTBUILD = b"#!/bin/bash\r\nset -euo pipefail\r\necho hi\r\n"


def conda_repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "demo", {"environment.yml": ENVIRONMENT})


def crlf_repo(tmp_path: Path) -> Path:
    """A postBuild with CRLF endings (fixable) and no Python pin (not fixable)."""
    root = make_repo(tmp_path / "demo", {"requirements.txt": "numpy\n", "apt.txt": "vim\n"})
    (root / "postBuild").write_bytes(CRLF_POSTBUILD)
    (root / "postBuild").chmod(0o755)
    return root


def names(screen: MainScreen) -> set[str]:
    return {finding.name for finding in screen.findings}


def select(screen: MainScreen, finding: Finding) -> None:
    table = screen.query_one(DiagnosticsTable)
    table.focus()
    table.move_cursor(row=table.findings.index(finding))


def detail_text(screen: MainScreen) -> str:
    return str(screen.query_one(FindingDetail).render())


async def start(pilot: Pilot[int]) -> MainScreen:
    await settle(pilot)
    screen = main_screen(pilot)
    screen.editor.cursor_blink = False
    return screen


async def test_ctrl_f_in_the_editor_fixes_the_open_file(tmp_path: Path) -> None:
    root = conda_repo(tmp_path)
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(pilot)
        assert screen.current_path == "environment.yml"
        assert {"python-version-unrecognized", "conda-export-build-strings"} <= names(screen)
        assert screen.check_action("fix", ()) is True
        screen.editor.focus()
        screen.editor.move_cursor((3, 0))
        await pilot.press("ctrl+f")
        await settle(pilot)
        assert screen.editor.text == FIXED_ENVIRONMENT
        assert screen.workspace.text("environment.yml") == FIXED_ENVIRONMENT
        assert screen.dirty == frozenset({"environment.yml"})
        assert (root / "environment.yml").read_text() == ENVIRONMENT  # not saved
        assert not {"python-version-unrecognized", "conda-export-build-strings"} & names(screen)
        assert screen.editor.cursor_location == (3, 0)  # one edit of the changed span
        # the preview follows: repo2docker now reads Python 3.10 from the file
        assert screen.render_result is not None and screen.render_result.dockerfile
        assert screen.check_action("fix", ()) is False
        # ctrl+z undoes the fix as one edit
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert screen.editor.text == ENVIRONMENT
        assert screen.dirty == frozenset()
        assert "conda-export-build-strings" in names(screen)
        # fix again and save
        await pilot.press("ctrl+f")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert (root / "environment.yml").read_text() == FIXED_ENVIRONMENT
        assert screen.dirty == frozenset()


async def test_ctrl_f_on_a_selected_problem_fixes_its_file(tmp_path: Path) -> None:
    root = crlf_repo(tmp_path)
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(pilot)
        assert screen.current_path != "postBuild"
        crlf = next(f for f in screen.findings if f.name == "postbuild-crlf")
        select(screen, crlf)
        await settle(pilot)
        assert screen.selected_finding == crlf
        assert screen.fix_hint == "press Ctrl+F to convert line endings to LF"
        assert "fixable: press Ctrl+F to convert line endings to LF" in detail_text(screen)
        await pilot.press("ctrl+f")
        await settle(pilot)
        table = screen.query_one(DiagnosticsTable)
        assert table.has_focus  # the focus stays on the problems (one is left)
        assert names(screen) == {"python-version-unpinned"}
        assert screen.current_path == "postBuild"  # the fixed file is shown
        assert screen.editor.text == "#!/bin/bash\nset -euo pipefail\necho hi\n"
        assert screen.dirty == frozenset({"postBuild"})  # a format-only change is unsaved too
        assert screen.workspace.open("postBuild").format.newline == "\n"
        assert "postbuild-crlf" not in names(screen)
        assert (root / "postBuild").read_bytes() == CRLF_POSTBUILD
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert (root / "postBuild").read_bytes() == b"#!/bin/bash\nset -euo pipefail\necho hi\n"
        assert mode(root / "postBuild") == 0o755
        assert screen.dirty == frozenset()


async def test_a_problem_the_machine_fix_cannot_change_says_so(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "demo", {"requirements.txt": "numpy\n"})
    # a form of /.dockerenv test too complex for the automatic fix
    (root / "postBuild").write_text("#!/bin/bash\nls /.dockerenv >/dev/null 2>&1 && echo x\n")
    (root / "postBuild").chmod(0o755)
    app = make_app(root)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await start(pilot)
        dockerenv = next(f for f in screen.findings if f.name == "dockerenv-reliance")
        select(screen, dockerenv)
        await settle(pilot)
        assert screen.fix_hint is None
        assert "fixable" not in detail_text(screen)
        screen.action_fix()  # as from the command palette
        await settle(pilot)
        messages = [str(n.message) for n in app._notifications]
        assert any("cannot change this safely" in m for m in messages), messages
        assert screen.dirty == frozenset()


async def test_with_the_table_focused_only_the_selected_problem_is_fixed(
    tmp_path: Path,
) -> None:
    root = conda_repo(tmp_path)
    # a form of /.dockerenv test too complex for the automatic fix
    (root / "postBuild").write_text("#!/bin/bash\nls /.dockerenv >/dev/null 2>&1 && echo x\n")
    (root / "postBuild").chmod(0o755)
    app = make_app(root)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await start(pilot)
        assert screen.current_path == "environment.yml"
        dockerenv = next(f for f in screen.findings if f.name == "dockerenv-reliance")
        select(screen, dockerenv)
        await settle(pilot)
        await pilot.press("ctrl+f")  # no machine fix for this form of the test
        await settle(pilot)
        assert screen.dirty == frozenset()
        assert any("cannot change this safely" in str(n.message) for n in app._notifications)
        pin = next(f for f in screen.findings if f.name == "python-version-unrecognized")
        select(screen, pin)
        await settle(pilot)
        await pilot.press("ctrl+f")  # only this one: the build string stays
        await settle(pilot)
        assert screen.editor.text == ENVIRONMENT.replace("python>=3.10,<3.13", "python=3.10")
        assert "conda-export-build-strings" in names(screen)


async def test_gutter_marks_lines_with_findings(tmp_path: Path) -> None:
    app = make_app(conda_repo(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(pilot)
        editor = screen.query_one(EnvEditor)
        expected: dict[int, Severity] = {}
        for finding in screen.findings:
            if finding.path == "environment.yml":
                row = finding.line - 1
                if row not in expected or finding.severity.rank < expected[row].rank:
                    expected[row] = finding.severity
        assert {4, 5} <= set(expected)
        assert editor.marks == expected
        width = editor.gutter_width
        for row in range(editor.document.line_count):
            strip = editor.render_line(row)  # not scrolled: y is the document row
            gutter = strip.text[:width]
            if row in expected:
                icon, component = MARKS[expected[row]]
                assert gutter == f"{row + 1:>{width - 2}}{icon} "
                colour = editor.get_component_rich_style(component, partial=True).color
                icon_segment = [s for s in strip if s.text == icon][0]
                assert icon_segment.style is not None and icon_segment.style.color == colour
            else:
                assert gutter == f"{row + 1:>{width - 2}}  "
        # fixing the findings removes their marks
        screen.editor.focus()
        await pilot.press("ctrl+f")
        await settle(pilot)
        assert 5 not in editor.marks
        assert editor.render_line(5).text[:width] == f"{6:>{width - 2}}  "


async def test_marks_follow_the_open_file(tmp_path: Path) -> None:
    root = crlf_repo(tmp_path)
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(pilot)
        assert screen.current_path == "requirements.txt"
        assert screen.editor.marks == {0: Severity.WARNING}  # python-version-unpinned
        screen.open_file("postBuild")
        await settle(pilot)
        assert screen.editor.marks.get(0) == Severity.ERROR  # postbuild-crlf on line 1
        assert screen.editor.render_line(0).text.startswith("1✗ ")
        screen.open_file("apt.txt")  # no findings there
        await settle(pilot)
        assert screen.editor.marks == {}


async def test_a_file_with_mixed_line_endings_opens_unchanged_and_ctrl_f_fixes_it(
    tmp_path: Path,
) -> None:
    root = make_repo(tmp_path / "demo", {"requirements.txt": "numpy\n", "apt.txt": "vim\n"})
    mixed = b"#!/bin/bash\r\nset -euo pipefail\necho a\necho b\n"
    (root / "postBuild").write_bytes(mixed)
    (root / "postBuild").chmod(0o755)
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        screen = await start(pilot)
        screen.open_file("postBuild")
        await settle(pilot)
        # the view shows LF lines; the buffer keeps the file as it is
        assert screen.editor.text == "#!/bin/bash\nset -euo pipefail\necho a\necho b\n"
        assert screen.dirty == frozenset()
        assert "postbuild-crlf" in names(screen)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert (root / "postBuild").read_bytes() == mixed
        screen.editor.focus()
        await pilot.press("ctrl+f")
        await settle(pilot)
        assert screen.dirty == frozenset({"postBuild"})
        assert "postbuild-crlf" not in names(screen)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert (root / "postBuild").read_bytes() == mixed.replace(b"\r\n", b"\n")


async def test_a_fixable_kind_that_cannot_be_fixed_safely_says_so(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "demo", {"environment.yml": "dependencies:\n  - python>3.9\n"})
    app = make_app(root)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await start(pilot)
        pin = next(f for f in screen.findings if f.name == "python-version-unrecognized")
        select(screen, pin)
        await settle(pilot)
        assert screen.fix_hint is None  # no single X.Y to pin
        await pilot.press("ctrl+f")
        await settle(pilot)
        assert screen.dirty == frozenset()
        messages = [str(n.message) for n in app._notifications]
        assert any("cannot change this safely" in m for m in messages), messages
