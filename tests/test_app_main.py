"""The TUI without a container engine: tree, editor, live preview, save, diagnostics, help.

Each test drives the real app through Textual's Pilot at 120x40 on a repository made in a
temp folder (or copied from the corpus), and waits for the workers instead of sleeping.
"""

from __future__ import annotations

from pathlib import Path

import corpus
import pytest
from app_support import SIZE, main_screen, make_app, make_repo, mode, python_repo, settle
from textual.widgets import TabbedContent

from r2d_tui.app.messages import Analysed, FileSaved, PreviewRendered
from r2d_tui.app.screens.help import HelpScreen
from r2d_tui.app.templates import template_for
from r2d_tui.app.widgets.build_panel import BuildPanel
from r2d_tui.app.widgets.diagnostics import DiagnosticsTable
from r2d_tui.app.widgets.file_tree import DECIDING_MARK, IGNORED_MARK, EnvFileTree, FileInfo
from r2d_tui.app.widgets.preview import DockerfilePreview


def file_labels(tree: EnvFileTree) -> dict[str, str]:
    return {path: str(tree.file_label(path)) for path in tree.files}


async def test_opening_a_repo_shows_files_and_a_dockerfile(tmp_path: Path) -> None:
    app = make_app(python_repo(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        tree = screen.query_one(EnvFileTree)
        assert set(tree.files) == {"requirements.txt", "runtime.txt", "postBuild"}
        labels = file_labels(tree)
        assert labels["requirements.txt"].startswith(DECIDING_MARK)
        preview = screen.query_one(DockerfilePreview)
        assert preview.text is not None and preview.text.lstrip().startswith("FROM ")
        assert not preview.stale
        assert screen.buildpack == "python"
        # the file that decides the buildpack is opened to start with
        assert screen.current_path == "requirements.txt"
        assert screen.editor.text == "numpy\npandas\n"


async def test_ignored_files_are_marked_with_the_reason(tmp_path: Path) -> None:
    corpus_root = corpus.corpus_root()
    if corpus_root is None:
        pytest.skip("corpus not available")
    root = corpus.materialise("numpy__numpy-tutorials", tmp_path)
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        tree = screen.query_one(EnvFileTree)
        labels = file_labels(tree)
        assert labels["environment.yml"].startswith(DECIDING_MARK)
        assert labels["requirements.txt"].startswith(IGNORED_MARK)
        entry = tree._file_nodes["requirements.txt"].data
        tooltip = tree.tooltip_for(entry)
        assert tooltip is not None and "environment.yml takes precedence" in tooltip
        # moving the cursor onto it explains it under the tree
        tree.focus()
        tree.select_path("requirements.txt")
        await settle(pilot)
        info = str(screen.query_one(FileInfo).render_info())
        assert info.startswith(f"{IGNORED_MARK} ignored:")
        assert "environment.yml takes precedence" in info


async def test_preview_follows_typing_without_saving(tmp_path: Path) -> None:
    root = python_repo(tmp_path)
    messages: list[object] = []
    app = make_app(root)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        preview = screen.query_one(DockerfilePreview)
        before = preview.text
        assert before is not None and "3-2e10" in before  # the Python 3.10 environment lock

        screen.open_file("runtime.txt")
        await settle(pilot)
        await pilot.press("shift+end", *"python-3.12")
        await settle(pilot)

        assert screen.editor.text == "python-3.12\n"
        assert preview.text != before
        assert preview.text is not None and "3-2e12" in preview.text
        assert screen.rendered_dirty == ("runtime.txt",)
        assert "unsaved edits included" in str(preview.query_one("#preview-header").render())
        assert (root / "runtime.txt").read_text() == "python-3.10\n"  # nothing written
        assert screen.dirty == frozenset({"runtime.txt"})
        assert f"{app.session.workspace.text('runtime.txt')}" == "python-3.12\n"
        rendered = [m for m in messages if isinstance(m, PreviewRendered)]
        assert rendered[-1].dirty == ("runtime.txt",)


async def test_typing_into_requirements_txt_highlights_what_changes(tmp_path: Path) -> None:
    """A local reference (-e ./pkg) moves pip install after the repo copy: the preview shows
    which lines the unsaved edit changes; a plain package name changes no line, and the
    header says so."""
    root = make_repo(
        tmp_path / "req",
        {"requirements.txt": "numpy\n", "pkg/setup.py": "from setuptools import setup\nsetup()\n"},
    )
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        preview = screen.query_one(DockerfilePreview)
        saved = preview.text
        screen.open_file("requirements.txt")
        await settle(pilot)
        await pilot.press("end", "enter", *"pandas")
        await settle(pilot)
        header = str(preview.query_one("#preview-header").render())
        assert preview.text == saved
        assert "no change to the Dockerfile" in header

        await pilot.press("enter", *"-e ./pkg")
        await settle(pilot)
        header = str(preview.query_one("#preview-header").render())
        assert preview.text != saved
        assert "lines changed" in header or "line changed" in header
        assert screen.saved_dockerfile == saved
        assert (root / "requirements.txt").read_text() == "numpy\n"


async def test_new_file_in_an_empty_repo_changes_the_preview(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "empty", {"README.md": "hello\n"})
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        preview = screen.query_one(DockerfilePreview)
        assert preview.text is not None and "requirements.txt" not in preview.text
        screen.open_file("requirements.txt")
        await pilot.press(*"numpy")
        await settle(pilot)
        assert "requirements.txt" in screen.files
        assert preview.text is not None and "requirements.txt" in preview.text
        assert not (root / "requirements.txt").exists()


async def test_ctrl_s_saves_atomically_and_keeps_the_exec_bit(tmp_path: Path) -> None:
    root = python_repo(tmp_path)
    assert mode(root / "postBuild") == 0o755
    messages: list[object] = []
    app = make_app(root)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        screen.open_file("postBuild")
        await settle(pilot)
        screen.editor.move_cursor(screen.editor.document.end)
        await pilot.press(*"echo done", "enter")
        await settle(pilot)
        assert screen.dirty == frozenset({"postBuild"})
        assert DECIDING_MARK not in str(screen.query_one(EnvFileTree).file_label("postBuild"))
        assert "●" in str(screen.query_one(EnvFileTree).file_label("postBuild"))

        await pilot.press("ctrl+s")
        await settle(pilot)

        assert (root / "postBuild").read_text() == POSTBUILD_SAVED
        assert mode(root / "postBuild") == 0o755
        assert screen.dirty == frozenset()
        assert "●" not in str(screen.query_one(EnvFileTree).file_label("postBuild"))
        leftovers = [p.name for p in root.iterdir() if p.name.endswith(".r2d-tui.tmp")]
        assert leftovers == []
        assert any(isinstance(m, FileSaved) and m.path == "postBuild" for m in messages)


POSTBUILD_SAVED = """#!/bin/bash
if [ -f /.dockerenv ]; then
  echo "inside docker"
fi
echo done
"""


async def test_failed_save_keeps_the_buffer_dirty(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("numpy\n")
    root = make_repo(tmp_path / "linked", {"runtime.txt": "python-3.11\n"})
    (root / "requirements.txt").symlink_to(outside)
    app = make_app(root)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        assert screen.current_path == "requirements.txt"
        screen.editor.focus()
        await pilot.press("end", *"-extra")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.dirty == frozenset({"requirements.txt"})
        assert outside.read_text() == "numpy\n"
        titles = [notification.title for notification in app._notifications]
        assert "Not saved" in titles


async def test_selecting_a_finding_moves_the_editor_cursor(tmp_path: Path) -> None:
    app = make_app(python_repo(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        table = screen.query_one(DiagnosticsTable)
        findings = [f for f in table.findings if f.path == "postBuild"]
        assert findings, table.findings
        finding = findings[0]
        assert finding.line == 2
        table.focus()
        table.move_cursor(row=table.findings.index(finding))
        await pilot.press("enter")
        await settle(pilot)
        assert screen.current_path == "postBuild"
        assert screen.editor.has_focus
        assert screen.editor.cursor_location == (finding.line - 1, finding.column - 1)


async def test_f1_on_a_finding_explains_its_rule(tmp_path: Path) -> None:
    from r2d_tui.core.checks import find_rule

    app = make_app(python_repo(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        table = screen.query_one(DiagnosticsTable)
        table.focus()
        await pilot.press("f1")
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        finding = table.findings[0]
        rule = find_rule(finding.code)
        assert rule is not None
        assert rule.explanation in help_screen.text
        assert "| `Ctrl+S` | Save |" in help_screen.text
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen


async def test_f8_jumps_to_the_next_problem(tmp_path: Path) -> None:
    app = make_app(python_repo(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        await pilot.press("f8")
        await settle(pilot)
        finding = screen.query_one(DiagnosticsTable).selected
        assert finding is not None
        assert screen.current_path == finding.path
        assert screen.editor.cursor_location[0] == finding.line - 1


async def test_broken_yaml_shows_the_problem_and_keeps_the_last_dockerfile(
    tmp_path: Path,
) -> None:
    root = make_repo(
        tmp_path / "conda",
        {"environment.yml": "name: demo\ndependencies:\n  - python=3.11\n  - numpy\n"},
    )
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        preview = screen.query_one(DockerfilePreview)
        good = preview.text
        assert good is not None and good.lstrip().startswith("FROM ")
        assert screen.current_path == "environment.yml"
        screen.editor.focus()
        screen.editor.move_cursor(screen.editor.document.end)
        await pilot.press(*"  - pip:", "enter", *"  - bad: [")
        await settle(pilot)
        assert preview.stale
        assert preview.text == good
        header = str(preview.query_one("#preview-header").render())
        assert "environment.yml:" in header and "invalid YAML" in header
        assert screen.render_failed
        codes = {f.name for f in screen.findings}
        assert "invalid-yaml" in codes


async def test_corpus_repo_with_invalid_yaml_opens(tmp_path: Path) -> None:
    if corpus.corpus_root() is None:
        pytest.skip("corpus not available")
    root = corpus.materialise("AnuRuwan__conda_binder1", tmp_path)
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        preview = screen.query_one(DockerfilePreview)
        assert preview.text is None and preview.stale
        assert screen.findings and screen.findings[0].path == "binder/environment.yml"
        messages = [f.message for f in screen.findings]
        assert any("invalid YAML" in message for message in messages)


async def test_build_without_docker_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "no-docker"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    root = make_repo(tmp_path / "dock", {"Dockerfile": "FROM r2d-tui-test/busybox:latest\n"})
    app = make_app(root, probe_engine=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        assert screen.engine_ready is False
        assert screen.engine_text == "no engine"
        await pilot.press("ctrl+b")
        await settle(pilot)
        panel = screen.query_one(BuildPanel)
        assert screen.query_one(TabbedContent).active == "build-tab"
        assert panel.result is not None and panel.result.error_kind == "engine"
        assert "docker command was not found" in panel.summary
        assert screen.last_build.startswith("✗")
        assert not screen.building


async def test_watch_toggle(tmp_path: Path) -> None:
    app = make_app(python_repo(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        assert not screen.watching
        await pilot.press("f2")
        assert screen.watching
        await pilot.press("f2")
        assert not screen.watching


async def test_quit_with_unsaved_edits_asks_first(tmp_path: Path) -> None:
    from r2d_tui.app.screens.confirm import ConfirmScreen

    app = make_app(python_repo(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main_screen(pilot).editor.focus()
        await pilot.press("end", *"x")
        await settle(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert app.is_running


async def test_analysis_messages_flow(tmp_path: Path) -> None:
    messages: list[object] = []
    app = make_app(python_repo(tmp_path))
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await settle(pilot)
    kinds = [type(m) for m in messages if isinstance(m, PreviewRendered | Analysed)]
    assert kinds[:2] == [PreviewRendered, Analysed]


async def test_palette_starts_a_new_file(tmp_path: Path) -> None:
    root = python_repo(tmp_path)
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"new: apt.txt")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert screen.current_path == "apt.txt"
        assert "apt.txt" in screen.files
        assert not (root / "apt.txt").exists()
        assert screen.editor.text == template_for("apt.txt") != ""
        assert screen.workspace.is_dirty("apt.txt")


def test_new_file_templates_are_read_by_repo2docker_as_intended(tmp_path: Path) -> None:
    """Every template renders, and the scripts have the safe header; start hands over."""
    from app_support import OPTIONS

    from r2d_tui.core.detection import detect
    from r2d_tui.core.render import render
    from r2d_tui.core.workspace import Workspace

    assert template_for("binder/start").rstrip().endswith('exec "$@"')
    for name in ("postBuild", "start"):
        assert template_for(name).startswith("#!/bin/bash\n")
        assert "set -euo pipefail" in template_for(name)
    for name in ("environment.yml", "requirements.txt", "runtime.txt", "apt.txt", "postBuild",
                 "start"):
        root = make_repo(tmp_path / name, {name: template_for(name)})
        workspace = Workspace(root)
        result = render(workspace, OPTIONS)
        assert result.problem is None and result.dockerfile, (name, result.problem)
        expected = {"environment.yml": "conda"}.get(name, "python")
        assert detect(workspace, OPTIONS).buildpack == expected, name


async def test_f3_shows_the_dockerfile_full_screen_and_escape_restores(tmp_path: Path) -> None:
    app = make_app(python_repo(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        await pilot.press("f3")
        await pilot.pause()
        assert screen.maximized is screen.query_one(DockerfilePreview)
        await pilot.press("escape")
        await pilot.pause()
        assert screen.maximized is None


async def test_saving_over_an_external_change_asks_and_keeps_both_safe(tmp_path: Path) -> None:
    """Edited here and on disk: ctrl+s shows the difference; cancel writes nothing; keep
    mine overwrites; nothing is ever lost silently."""
    from r2d_tui.app.screens.conflict import ConflictScreen

    root = python_repo(tmp_path)
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        screen.open_file("runtime.txt")
        await settle(pilot)
        await pilot.press("shift+end", *"python-3.12")
        (root / "runtime.txt").write_text("python-3.11\n")  # someone else's edit
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConflictScreen)
        assert (root / "runtime.txt").read_text() == "python-3.11\n"
        await pilot.click("#conflict-cancel")
        await settle(pilot)
        assert (root / "runtime.txt").read_text() == "python-3.11\n"
        assert screen.dirty == frozenset({"runtime.txt"})
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConflictScreen)
        await pilot.click("#conflict-mine")
        await settle(pilot)
        assert (root / "runtime.txt").read_text() == "python-3.12\n"


async def test_ctrl_s_right_after_typing_saves_every_key(tmp_path: Path) -> None:
    """Keys typed just before ctrl+s are saved too (ctrl+s is a priority binding)."""
    root = python_repo(tmp_path)
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        screen.open_file("requirements.txt")
        await settle(pilot)
        await pilot.press("end", "a", "b", "c", "ctrl+s")
        await settle(pilot)
        assert (root / "requirements.txt").read_text() == "numpyabc\npandas\n"
        assert screen.dirty == frozenset()


@pytest.mark.parametrize("separator", ["\x0c", "\u2028", "\r", "\x85"])
async def test_a_file_the_editor_cannot_hold_opens_read_only_and_unchanged(
    tmp_path: Path, separator: str
) -> None:
    """TextArea splits lines at a form feed, U+2028, a lone CR…: editing would turn the
    tail of a comment into a requirement of its own. Such a file opens clean, read-only,
    and saving it writes nothing new."""
    text = f"numpy\n# section{separator} tail x\npandas\n"
    root = make_repo(tmp_path / "sep", {"requirements.txt": "numpy\n"})
    (root / "requirements.txt").write_bytes(text.encode("utf-8"))
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        assert screen.current_path == "requirements.txt"
        assert screen.editor.read_only and "read-only" in str(screen.editor.border_subtitle)
        assert screen.workspace.dirty_paths() == []
        await pilot.press("z", "ctrl+s")
        await settle(pilot)
        assert screen.workspace.dirty_paths() == []
    assert (root / "requirements.txt").read_bytes() == text.encode("utf-8")


async def test_ordinary_files_stay_editable(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "plain", {"requirements.txt": "numpy\n# tab\there\n"})
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        assert not screen.editor.read_only and screen.editor.faithful
        assert "read-only" not in str(screen.editor.border_subtitle)


async def test_saving_an_unedited_file_writes_nothing(tmp_path: Path) -> None:
    """A postBuild with mixed line endings (mostly CRLF) opened and saved without an edit
    keeps every byte: the editor holds one line-ending style, so a save of nothing must not
    rewrite the file."""
    root = make_repo(tmp_path / "mixed", {"requirements.txt": "numpy\n"})
    data = b"#!/bin/bash\r\necho a\r\necho b\necho c\r\n"
    (root / "postBuild").write_bytes(data)
    before = (root / "postBuild").stat().st_mtime_ns
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        screen.open_file("postBuild")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.workspace.dirty_paths() == []
    assert (root / "postBuild").read_bytes() == data
    assert (root / "postBuild").stat().st_mtime_ns == before


async def test_start_up_objects_are_frozen_once_after_the_first_analysis(tmp_path: Path) -> None:
    """Full collections then skip start-up's objects (r2d_tui.app.memory); a later
    analysis does not freeze again."""
    import gc

    from r2d_tui.app import memory

    assert gc.get_freeze_count() == 0, "nothing in the test process froze objects before"
    app = make_app(python_repo(tmp_path), freeze_after_start_up=True)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            frozen = gc.get_freeze_count()
            assert frozen > 0
            assert memory.freeze_start_up_objects() is False, "once per process"
            await pilot.press("ctrl+end", "x")
            await settle(pilot)
            assert gc.get_freeze_count() <= frozen, "not again (frozen objects can still die)"
    finally:
        gc.unfreeze()
        memory._frozen = False
