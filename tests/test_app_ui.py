"""Keyboard flow and looks: 80x24 layout, themes, remapped keys, the status bar's "why",
F1 help for the focused panel, the mouse."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_support import SIZE, main_screen, make_app, make_repo, python_repo, settle

from r2d_tui.app.screens.help import HelpScreen
from r2d_tui.app.settings import UISettings, UISettingsError, load_settings
from r2d_tui.app.widgets.status import StatusBar, buildpack_reason


async def test_80x24_folds_the_file_tree_away_and_f11_brings_it_back(tmp_path: Path) -> None:
    app = make_app(python_repo(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        assert screen.has_class("-compact") and screen.has_class("-short")
        assert not screen.file_tree.region  # folded away: editor and preview share the width
        for widget in (screen.editor, screen.preview, screen.bottom):
            region = widget.region
            assert region.width >= 30 and region.height >= 8, (widget, region)
            assert region.right <= 80 and region.bottom <= 24, (widget, region)
        assert screen.query_one(StatusBar).region.y == 22

        await pilot.press("f11")  # the tree comes back, focused, and everything still fits
        await pilot.pause()
        assert screen.file_tree.has_focus
        for widget in (screen.file_tree, screen.editor, screen.preview, screen.bottom):
            region = widget.region
            assert region.width >= 20 and region.height >= 8, (widget, region)
            assert region.right <= 80 and region.bottom <= 24, (widget, region)
        # the editor shows at least 20 columns of text next to its gutter
        assert screen.editor.scrollable_content_region.width >= 20

        await pilot.press("f11")  # and folds away again; focus leaves the hidden tree
        await pilot.pause()
        assert not screen.file_tree.region and screen.editor.has_focus


async def test_f11_hides_the_tree_on_a_wide_terminal_too(tmp_path: Path) -> None:
    app = make_app(python_repo(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        width = screen.editor.region.width
        await pilot.press("f11")
        await pilot.pause()
        assert not screen.file_tree.region and screen.editor.region.width > width


async def test_wide_terminal_is_not_narrow(tmp_path: Path) -> None:
    app = make_app(python_repo(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        assert screen.has_class("-wide") and screen.has_class("-tall")
        assert screen.query_one("#sidebar").region.width == 30


async def test_ctrl_n_switches_to_the_light_theme_and_back(tmp_path: Path) -> None:
    app = make_app(python_repo(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.current_theme.dark
        await pilot.press("ctrl+n")
        assert app.theme == "textual-light" and not app.current_theme.dark
        await pilot.press("ctrl+n")
        assert app.theme == "textual-dark"


async def test_settings_theme_and_keymap_apply(tmp_path: Path) -> None:
    ui = UISettings(theme="textual-light", keymap={"show-diff": "ctrl+n", "help": "shift+f12"})
    app = make_app(python_repo(tmp_path), ui=ui)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.theme == "textual-light"
        await pilot.press("shift+f12")
        assert isinstance(app.screen, HelpScreen)
        assert "| `Shift+F12` | Help |" in app.screen.text
        await pilot.press("escape")
        await pilot.press("f1")  # remapped away
        assert not isinstance(app.screen, HelpScreen)


def test_settings_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "tui.toml"
    assert load_settings(path) == UISettings()  # missing: defaults
    path.write_text('theme = "textual-light"\n[keymap]\nbuild = "f6"\n')
    assert load_settings(path, frozenset({"textual-light"})) == UISettings(
        "textual-light", {"build": "f6"}
    )
    cases = {
        "theme = \n": "invalid TOML",
        'colour = "x"\n': "unknown setting 'colour'",
        'theme = "nope"\n': "unknown theme 'nope'",
        '[keymap]\nbiuld = "f6"\n': "unknown command 'biuld'",
        "[keymap]\nbuild = 6\n": "build must be a key name",
    }
    for text, expected in cases.items():
        path.write_text(text)
        with pytest.raises(UISettingsError) as raised:
            load_settings(path, frozenset({"textual-light"}))
        assert str(raised.value).startswith(f"{path}: "), raised.value
        assert expected in str(raised.value)


async def test_status_bar_says_why_on_f12_and_on_click(tmp_path: Path) -> None:
    app = make_app(python_repo(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        bar = screen.query_one(StatusBar)
        reason = buildpack_reason(screen.detection)
        assert reason == ("python buildpack because of runtime.txt, requirements.txt "
                          "(configuration in the root). Also read: postBuild."), reason
        assert reason in str(bar.tooltip)
        await pilot.press("f12")
        await pilot.pause()
        assert [n.message for n in app._notifications] == [reason]
        app.clear_notifications()
        await pilot.click(StatusBar)
        await pilot.pause()
        assert [n.message for n in app._notifications] == [reason]


def test_buildpack_reason_names_ignored_files_and_the_default(tmp_path: Path) -> None:
    from r2d_tui.core.detection import detect
    from r2d_tui.core.workspace import Workspace

    root = make_repo(tmp_path / "r", {"environment.yml": "dependencies: [numpy]\n",
                                      "requirements.txt": "numpy\n"})
    reason = buildpack_reason(detect(Workspace(root)))
    assert reason.startswith("conda buildpack because of environment.yml (configuration in "
                             "the root)."), reason
    assert "Ignored: requirements.txt" in reason
    empty = make_repo(tmp_path / "empty", {"README.md": "hi\n"})
    assert "repo2docker's default" in buildpack_reason(detect(Workspace(empty)))


async def test_f1_explains_the_focused_panel(tmp_path: Path) -> None:
    app = make_app(python_repo(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        expected = {
            screen.file_tree: "## Files",
            screen.editor: type(screen.editor).HELP.split("\n")[0],
            screen.query_one("#preview-scroll"): "## Dockerfile preview",
        }
        for widget, heading in expected.items():
            widget.focus()
            await pilot.press("f1")
            assert isinstance(app.screen, HelpScreen)
            assert app.screen.text.startswith(heading), (widget, app.screen.text[:80])
            await pilot.press("escape")


async def test_mouse_opens_a_file_and_switches_tabs(tmp_path: Path) -> None:
    app = make_app(python_repo(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        tree = screen.file_tree
        line = next(i for i in range(tree.last_line + 1)
                    if "runtime.txt" in str(tree.get_node_at_line(i).label))
        await pilot.click(tree, offset=(6, line - tree.scroll_offset.y + 1))
        await pilot.click(tree, offset=(6, line - tree.scroll_offset.y + 1))
        await settle(pilot)
        assert screen.current_path == "runtime.txt"
        await pilot.click("#bottom Tab#--content-tab-build-tab")
        assert screen.bottom.active == "build-tab"


async def test_typing_at_start_goes_into_the_file_on_screen(tmp_path: Path) -> None:
    """The first file opens by itself: keys typed at once edit it (the tree had the focus
    before, and swallowed them)."""
    app = make_app(python_repo(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        assert screen.current_path is not None and screen.editor.has_focus
        before = screen.editor.text
        await pilot.press("z", "q")
        assert screen.editor.text == "zq" + before
        assert screen.current_path in screen.workspace.dirty_paths()


async def test_ctrl_end_and_ctrl_home_move_to_the_ends_of_the_file(tmp_path: Path) -> None:
    app = make_app(python_repo(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        editor = main_screen(pilot).editor
        assert editor.has_focus and editor.cursor_location == (0, 0)
        await pilot.press("ctrl+end")
        assert editor.cursor_location == editor.document.end != (0, 0)
        await pilot.press("ctrl+home")
        assert editor.cursor_location == (0, 0)
