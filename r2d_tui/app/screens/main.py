"""The main screen: owns the state of a session and the background jobs that change it.

State flows down, events flow up. The screen holds the reactive state (the env files,
which are dirty, the latest render, detection, findings, watch mode, engine and build
state) and binds it into the widgets with ``data_bind``; the widgets post small messages
(a file chosen, text edited, a finding selected) that the screen turns into core calls.

Every slow call is a named worker, so typing never waits on repo2docker or Docker:

* ``preview`` (exclusive, debounced): render the workspace with the unsaved buffers, then
  run detection and the checks; each keystroke cancels the previous pending run.
* ``save``: the atomic write, then a new analysis, then a build when watch is on.
* ``build`` (exclusive): ``run_build`` of the files on disk; a new build cancels the
  running one, whose process group the core kills.
* ``engine``: one ``engine_status()`` probe for the status bar.
* ``fix-hint`` (exclusive): plan the selected finding's machine fix, so the detail line can
  say whether ctrl+f applies one (an environment.yml parse can take tens of milliseconds).
* ``watcher``: ``watch_changes`` on the repository, for edits made outside the app.
* ``run``, ``test`` (exclusive, owned by the Run and Tests panels): start the image as a
  server, or verify it, after the build F5/F9 asked for (:mod:`.run_controls`).

Workers report back with the messages of :mod:`r2d_tui.app.messages`; the handlers are
the only places that assign the reactive state.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import TYPE_CHECKING, ClassVar

from textual import getters, on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import var
from textual.timer import Timer
from textual.widgets import Footer, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from r2d_tui.app import memory
from r2d_tui.app.commands import MAIN_COMMANDS, bindings, command_key
from r2d_tui.app.messages import (
    Analysed,
    BuildEnded,
    EngineProbed,
    FileSaved,
    FilesChanged,
    PreviewRendered,
    SaveFailed,
)
from r2d_tui.app.screens.conflict import ConflictScreen
from r2d_tui.app.screens.run_controls import RUN_ACTIONS, RunControls
from r2d_tui.app.widgets.build_panel import BuildPanel, summary_text
from r2d_tui.app.widgets.diagnostics import DiagnosticsTable, FindingDetail
from r2d_tui.app.widgets.editor import EnvEditor
from r2d_tui.app.widgets.file_tree import EnvFileTree, FileInfo
from r2d_tui.app.widgets.preview import DockerfilePreview
from r2d_tui.app.widgets.run_panel import RunPanel, TestPanel
from r2d_tui.app.widgets.status import StatusBar, buildpack_reason
from r2d_tui.core.build import BuildResult, BuildSpec, default_tag, engine_status, run_build
from r2d_tui.core.checks import run_checks
from r2d_tui.core.detection import Detection, detect, render_cached
from r2d_tui.core.explain_failure import explain_saved
from r2d_tui.core.findings import Finding
from r2d_tui.core.fixes import FileFix, apply_fixes, fixable, plan_fixes
from r2d_tui.core.recovery import discard_journal, read_journal, restore_journal, write_journal
from r2d_tui.core.render import (
    RenderResult,
    options_for_build,
    prepare_renderer,
    render,
    render_saved,
)
from r2d_tui.core.sources import Rebuild, StepSources, attribute_saved, plan_rebuild
from r2d_tui.core.workspace import ExternalChangeError, Workspace, WorkspaceError

if TYPE_CHECKING:
    from r2d_tui.app.app import Session

#: At most this long the checks wait for the screen to show a new preview first.
PAINT_WAIT_SECONDS = 0.25


class MainScreen(RunControls):
    """Files, editor, preview, problems and build for one repository."""

    BINDINGS: ClassVar[list[BindingType]] = bindings(MAIN_COMMANDS)  # type: ignore[assignment]
    AUTO_FOCUS = "#files"  # until the first file opens (then the editor: see below)
    # the layout holds from 80x24 up: narrow screens get a slimmer file list, short ones a
    # lower bottom panel (app.tcss, ``MainScreen.-narrow`` / ``MainScreen.-short``)
    # below 100 columns (``-compact``) the file tree collapses: F11 shows it again
    HORIZONTAL_BREAKPOINTS = [(0, "-compact"), (100, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]

    files: var[tuple[str, ...]] = var(())
    """Environment files present on disk or as unsaved new buffers."""
    current_path: var[str | None] = var(None)
    """The file open in the editor."""
    dirty: var[frozenset[str]] = var(frozenset())
    """Files with unsaved edits."""
    highlighted_path: var[str | None] = var(None)
    """The file under the tree cursor (explained under the tree)."""
    render_result: var[RenderResult | None] = var(None)
    """The latest render of the workspace (unsaved buffers included)."""
    rendered_dirty: var[tuple[str, ...]] = var(())
    saved_dockerfile: var[str | None] = var(None)
    rebuild: var[Rebuild | None] = var(None)
    """What saving the unsaved edits would rerun (``None`` without unsaved edits)."""
    """The Dockerfile of the saved files, while there are unsaved edits."""
    """The unsaved files the latest render included."""
    detection: var[Detection | None] = var(None)
    """Buildpack, deciding and ignored files of the latest analysis."""
    findings: var[tuple[Finding, ...]] = var((), init=False)
    """Findings of the latest analysis."""
    selected_finding: var[Finding | None] = var(None)
    """The finding under the diagnostics cursor."""
    fix_hint: var[str | None] = var(None)
    """How to apply the selected finding's machine fix, when it has one that changes text."""
    analysed: var[bool] = var(False)
    """True once the first analysis finished."""
    watching: var[bool] = var(False)
    """Build on save (and on changes on disk)."""
    building: var[bool] = var(False, init=False)
    """A build is running."""
    engine_text: var[str] = var("engine: checking…")
    engine_ready: var[bool | None] = var(None)
    last_build: var[str] = var("", init=False)
    """Short outcome of the last build for the status bar."""
    buildpack: var[str | None] = var(None)
    render_failed: var[bool] = var(False)
    dirty_count: var[int] = var(0)

    file_tree = getters.query_one("#files", EnvFileTree)
    editor = getters.query_one("#editor", EnvEditor)
    preview = getters.query_one("#preview", DockerfilePreview)
    diagnostics = getters.query_one("#diagnostics", DiagnosticsTable)
    build_panel = getters.query_one("#build", BuildPanel)
    bottom = getters.query_one("#bottom", TabbedContent)

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self._saved_texts: dict[str, str] = {}
        """What this app last wrote to each path, to tell its own saves from outside edits."""
        self._root_note_shown = False
        self.last_built_dockerfile: str | None = None
        """The Dockerfile of the last successful build of this session (for the diff)."""
        self.last_built_tag = ""
        self._conflicts: set[str] = set()
        """Files whose conflict dialog is open (one dialog per file)."""
        self._journal_timer: Timer | None = None
        self._recovery_checked = False
        """True once a journal left by an earlier session was offered (or there was none)."""
        self._engine_retry: Timer | None = None
        """Re-probes the engine while it is down (see :meth:`_engine_down`)."""

    @property
    def workspace(self) -> Workspace:
        return self.session.workspace

    # -- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="top"):
            with Vertical(id="sidebar"):
                yield EnvFileTree(id="files").data_bind(
                    files=MainScreen.files,
                    detection=MainScreen.detection,
                    dirty=MainScreen.dirty,
                    current=MainScreen.current_path,
                )
                yield FileInfo(id="file-info").data_bind(
                    path=MainScreen.highlighted_path, detection=MainScreen.detection
                )
            yield EnvEditor(id="editor").data_bind(findings=MainScreen.findings)
            yield DockerfilePreview(id="preview").data_bind(
                result=MainScreen.render_result,
                dirty=MainScreen.rendered_dirty,
                saved_text=MainScreen.saved_dockerfile,
                rebuild=MainScreen.rebuild,
            )
        with TabbedContent(id="bottom", initial="problems-tab"):
            with TabPane("Problems", id="problems-tab"):
                yield DiagnosticsTable(id="diagnostics").data_bind(findings=MainScreen.findings)
                yield FindingDetail(id="finding-detail").data_bind(
                    finding=MainScreen.selected_finding,
                    analysed=MainScreen.analysed,
                    fix_hint=MainScreen.fix_hint,
                )
            with TabPane("Build", id="build-tab"):
                yield BuildPanel(id="build").data_bind(building=MainScreen.building)
            with TabPane("Run", id="run-tab"):
                yield RunPanel(id="run")
            with TabPane("Tests", id="test-tab"):
                yield TestPanel(id="tests")
        yield StatusBar(id="status").data_bind(
            buildpack=MainScreen.buildpack,
            render_failed=MainScreen.render_failed,
            engine=MainScreen.engine_text,
            engine_ready=MainScreen.engine_ready,
            watching=MainScreen.watching,
            building=MainScreen.building,
            last_build=MainScreen.last_build,
            dirty_count=MainScreen.dirty_count,
            detection=MainScreen.detection,
        )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(StatusBar).repo = self.session.name
        self.file_tree.root_name = f"{self.session.name}/"
        self.editor.border_title = "Editor"
        self.preview.border_title = "Dockerfile (generated)"
        self.build_panel.builder = self.session.builder
        self.file_tree.border_title = "Files"
        self.watching = self.session.watch
        self._sync_files()
        self.refresh_analysis(immediate=True)
        self._offer_recovery()
        if self.session.probe_engine:
            self.probe_engine()
        else:
            self.engine_text = "engine: not checked"
        if self.session.watch_files:
            self.watch_repository()

    # -- reactive glue -----------------------------------------------------------------------
    def _sync_files(self) -> None:
        """Re-read the file list and dirty set from the workspace."""
        self.files = tuple(self.workspace.env_files())
        self.dirty = frozenset(self.workspace.dirty_paths())

    def watch_dirty(self, dirty: frozenset[str]) -> None:
        self._schedule_journal()
        self.dirty_count = len(dirty)
        self.editor.border_subtitle = (
            "● unsaved" if self.current_path is not None and self.current_path in dirty
            else self.editor.read_only_note
        )
        self.refresh_bindings()

    def watch_current_path(self, path: str | None) -> None:
        self.editor.border_title = path or "Editor"
        self.watch_dirty(self.dirty)

    def watch_render_result(self, result: RenderResult | None) -> None:
        if result is None:
            return
        self.render_failed = result.problem is not None
        if result.buildpack:
            self.buildpack = result.buildpack

    def watch_findings(self, findings: tuple[Finding, ...]) -> None:
        # an empty table is only a header: let the "no problems" line speak instead
        self.diagnostics.display = bool(findings)
        label = f"Problems ({len(findings)})" if findings else "Problems"
        self.bottom.get_tab("problems-tab").label = label
        self._update_fix_hint()
        self.refresh_bindings()

    def watch_selected_finding(self) -> None:
        self._update_fix_hint()

    def _update_fix_hint(self) -> None:
        """Find out, off the event loop, whether the selected finding's fix changes text."""
        self.fix_hint = None
        finding = self.selected_finding
        if finding is not None and fixable(finding):
            self.plan_fix_hint(finding)

    @work(thread=True, exclusive=True, group="fix-hint", exit_on_error=False,
          description="plan a fix")
    def plan_fix_hint(self, finding: Finding) -> None:
        """Plan ``finding``'s fix (a YAML parse can take a while) and show how to apply it."""
        plan = plan_fixes(self.workspace, [finding])
        if plan:
            hint = f"press {command_key('fix')} to {'; '.join(plan[0].descriptions)}"
            self.app.call_from_thread(self._show_fix_hint, finding, hint)

    def _show_fix_hint(self, finding: Finding, hint: str) -> None:
        if self.selected_finding == finding:
            self.fix_hint = hint

    def watch_building(self) -> None:
        self.refresh_bindings()
        self._label_build_tab()

    def watch_last_build(self) -> None:
        self._label_build_tab()

    def _label_build_tab(self) -> None:
        mark = "…" if self.building else self.last_build[:1]
        self.bottom.get_tab("build-tab").label = f"Build {mark}".strip()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in RUN_ACTIONS:
            return self.check_run_action(action)
        if action == "cancel_build":
            return self.building
        if action in ("save", "revert"):
            return None if self.current_path is None else True
        if action == "fix":
            return any(fixable(finding) for finding in self.findings)
        return True

    # -- opening and editing -------------------------------------------------------------------
    def open_file(self, path: str) -> None:
        """Open ``path`` in the editor (a missing file starts as a new, empty buffer)."""
        try:
            buffer = self.workspace.open(path)
        except WorkspaceError as error:
            self.notify(str(error), title="Cannot open", severity="error", markup=False)
            return
        self.current_path = path
        self.editor.show_file(path, buffer.text)
        self._sync_files()
        self.file_tree.select_path(path)
        self.editor.focus()
        if buffer.disk_text is None:
            self.refresh_analysis()

    def new_file(self, path: str) -> None:
        """Start the missing file ``path`` from its template (written on ctrl+s)."""
        from r2d_tui.app.templates import template_for

        new = not os.path.lexists(os.path.join(self.workspace.root, path))
        self.open_file(path)
        template = template_for(path)
        if new and self.current_path == path and not self.editor.text and template:
            self.editor.apply_text(template)

    def _open_initial_file(self, detection: Detection) -> None:
        """Start with the file that decides the buildpack (else the first file) open."""
        # runtime.txt only pins a version; the package list is the more useful first view
        deciding = sorted(detection.deciding_files, key=lambda p: p.endswith("runtime.txt"))
        candidates = [*deciding, *detection.used_files, *self.files]
        if not candidates:
            return
        focused = self.focused
        self.open_file(candidates[0])  # focuses the editor: typing goes into the file shown
        if focused is not None and focused is not self.file_tree:
            focused.focus()  # the user went somewhere else meanwhile: stay there

    @on(EnvFileTree.FileSelected)
    def _file_selected(self, event: EnvFileTree.FileSelected) -> None:
        self.open_file(event.path)

    @on(EnvFileTree.PreviewSelected)
    def _preview_selected(self) -> None:
        self.action_show_preview()

    @on(EnvFileTree.FileHighlighted)
    def _file_highlighted(self, event: EnvFileTree.FileHighlighted) -> None:
        self.highlighted_path = event.path

    @on(EnvEditor.Edited)
    def _edited(self, event: EnvEditor.Edited) -> None:
        if self.workspace.text(event.path) == event.text:
            return  # a load, or an edit that was already applied
        self.workspace.set_text(event.path, event.text)
        self._sync_files()
        self.refresh_analysis()
        self._schedule_journal()

    # -- crash recovery ---------------------------------------------------------------------
    def _schedule_journal(self) -> None:
        """Journal the unsaved buffers once typing pauses (see :mod:`r2d_tui.core.recovery`)."""
        if not self._recovery_checked:
            return  # never overwrite a journal the user has not answered about yet
        if self._journal_timer is not None:
            self._journal_timer.stop()
        self._journal_timer = self.set_timer(self.session.journal_delay, self.write_journal)

    @work(thread=True, exclusive=True, group="journal", exit_on_error=False,
          description="journal unsaved edits")
    def write_journal(self) -> None:
        try:
            write_journal(self.workspace)
        except OSError as error:
            self.app.call_from_thread(
                self.notify, f"Unsaved edits cannot be journaled for crash recovery: {error}",
                severity="warning", markup=False, timeout=6,
            )

    def _offer_recovery(self) -> None:
        """Offer the unsaved edits a crashed or killed session left behind."""
        from r2d_tui.app.screens.confirm import ConfirmScreen

        left = read_journal(self.workspace.root)
        if not left:
            self._recovery_checked = True
            return

        def decided(restore: bool | None) -> None:
            self._recovery_checked = True
            if not restore:
                discard_journal(self.workspace.root)
                return
            restored = restore_journal(self.workspace, left)
            self._sync_files()
            self.refresh_analysis(immediate=True)
            if restored:
                self.open_file(restored[0])
                self.notify(f"Restored unsaved edits of {', '.join(restored)} (not saved "
                            "yet: ctrl+s saves).", markup=False, timeout=6)

        self.app.push_screen(
            ConfirmScreen(
                f"Unsaved edits from an earlier session: {', '.join(sorted(left))}",
                "r2d-tui ended without saving them (a crash, a kill or a closed terminal). "
                "Restore them into the editor, unsaved?",
                confirm="Restore", cancel="Discard",
            ),
            decided,
        )

    @on(DiagnosticsTable.FindingHighlighted)
    def _finding_highlighted(self, event: DiagnosticsTable.FindingHighlighted) -> None:
        self.selected_finding = event.finding

    @on(DiagnosticsTable.JumpTo)
    def _jump_to(self, event: DiagnosticsTable.JumpTo) -> None:
        self.jump_to_finding(event.finding)

    def jump_to_finding(self, finding: Finding) -> None:
        """Open the finding's file and put the cursor on its line and column."""
        if finding.path != self.current_path:
            self.open_file(finding.path)
            if self.current_path != finding.path:
                return
        self.editor.jump_to(finding.line, finding.column)
        self.editor.focus()

    # -- preview, detection, checks ------------------------------------------------------------
    @work(exclusive=True, group="preview", exit_on_error=False, description="render and check")
    async def refresh_analysis(self, immediate: bool = False) -> None:
        """Render the workspace (buffers included), then detect and check it.

        Exclusive: a newer call cancels this one while it waits for the debounce, so a
        burst of keystrokes renders once.
        """
        if self.session.debounce and not immediate:
            await asyncio.sleep(self.session.debounce)
        workspace, options = self.workspace, self.session.options
        head_start, self.session.prefetch = self.session.prefetch, None
        if head_start is not None:  # the child detecting this repository since start-up
            await asyncio.to_thread(head_start.wait)
        dirty = tuple(workspace.dirty_paths())
        # unchanged files detected before come from the cache (no repo2docker import)
        result = await asyncio.to_thread(render_cached, workspace, options)
        saved: str | None = None
        rebuild: Rebuild | None = None
        if dirty:
            saved_result = await asyncio.to_thread(render_saved, workspace, options)
            saved = saved_result.dockerfile
            rebuild = await asyncio.to_thread(
                plan_rebuild, saved_result, result, dirty, workspace.root
            )
        self.post_message(PreviewRendered(result, dirty, saved, rebuild))
        # Let the new preview reach the screen before the checks start: run in a thread
        # at once, they would hold the interpreter lock while the frame is composed.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wait_for_refresh(), PAINT_WAIT_SECONDS)

        def analyse() -> tuple[Detection, list[Finding]]:
            detection = detect(workspace, options)
            return detection, run_checks(workspace, detection=detection, options=options)

        detection, findings = await asyncio.to_thread(analyse)
        self.post_message(Analysed(detection, tuple(findings)))
        # a cached first preview left repo2docker unimported: import it now, not on the
        # first keystroke
        await asyncio.to_thread(prepare_renderer)
        if self.session.freeze_after_start_up and not memory.frozen():
            # start-up is over: keep full collections from walking it (r2d_tui.app.memory)
            await asyncio.to_thread(memory.freeze_start_up_objects)

    @on(PreviewRendered)
    def _preview_rendered(self, message: PreviewRendered) -> None:
        self.saved_dockerfile = message.saved_dockerfile
        self.rebuild = message.rebuild
        self.rendered_dirty = message.dirty
        self.render_result = message.result

    @on(Analysed)
    def _analysed(self, message: Analysed) -> None:
        first = not self.analysed
        self.detection = message.detection
        self.findings = message.findings
        self.analysed = True
        if first and self.current_path is None:
            self._open_initial_file(message.detection)
        if message.detection.buildpack:
            self.buildpack = message.detection.buildpack

    # -- saving -----------------------------------------------------------------------------
    def action_save(self) -> None:
        """Save the open file."""
        path = self.current_path
        if path is None:
            self.notify("Open a file first (enter in the tree).", severity="warning")
            return
        # ctrl+s is a priority binding: it can run before the editor's last Edited
        # messages arrive, so take the text from the editor itself
        if self.editor.path == path:
            text = self.editor.buffer_text()
            if self.workspace.text(path) != text:
                self.workspace.set_text(path, text)
                self._sync_files()
                self.refresh_analysis()
        if not self.workspace.is_dirty(path) and not self.workspace.disk_changed(path):
            # nothing to write: rewriting would only risk bytes the view cannot show (a
            # file with mixed line endings comes back with one style)
            self.notify(f"No changes to save in {path}", timeout=2, markup=False)
            return
        self.save_file(path)

    @work(group="save", exit_on_error=False, description="save file")
    async def save_file(self, path: str, force: bool = False) -> None:
        """Write ``path`` atomically in a thread (it fsyncs); ask first when the file
        changed on disk since it was opened (``force`` keeps the editor's version)."""
        text = self.workspace.text(path)
        try:
            await asyncio.to_thread(self.workspace.save, path, force=force)
        except ExternalChangeError:
            self._resolve_conflict(path)
        except WorkspaceError as error:
            self.post_message(SaveFailed(path, str(error)))
        else:
            if text is not None:
                self._saved_texts[path] = text
            self.post_message(FileSaved(path))

    def _resolve_conflict(self, path: str) -> None:
        """Show the difference and let the user keep theirs, take the disk's, or cancel
        (decide later: the buffer stays dirty and the next save asks again)."""
        if path in self._conflicts:
            return  # its dialog is already open
        try:
            disk: str | None = self.workspace.read_disk(path)[0]
        except WorkspaceError:
            disk = None
        mine = self.workspace.text(path) or ""

        def chosen(choice: str | None) -> None:
            self._conflicts.discard(path)
            if choice == "mine":
                self.save_file(path, force=True)
            elif choice == "theirs":
                self._take_disk_version(path)
                self._sync_files()
                self.refresh_analysis(immediate=True)

        self._conflicts.add(path)
        self.app.push_screen(ConflictScreen(path, disk, mine), chosen)

    def _take_disk_version(self, path: str) -> None:
        """Drop the buffer of ``path`` and show what the disk has: the new text, or, for
        a deleted file, nothing (the editor closes it)."""
        self.workspace.revert(path)  # the next open reads the disk
        if path != self.current_path:
            return
        if self.workspace.abspath(path).exists():
            try:
                self.editor.replace_text(self.workspace.open(path).text)
            except WorkspaceError as error:  # now a folder, another encoding, too large…
                self.workspace.revert(path)
                self.current_path = None
                self.editor.close_file()
                self.notify(f"{error}; closed it", title="Changed on disk",
                            severity="warning", timeout=6, markup=False)
                return
            self.notify(f"Reloaded {path} from disk", timeout=3, markup=False)
        else:
            self.current_path = None
            self.editor.close_file()
            self.notify(f"{path} was deleted on disk; closed it", timeout=4, markup=False)

    @on(FileSaved)
    def _file_saved(self, message: FileSaved) -> None:
        self._sync_files()
        self.notify(f"Saved {message.path}", timeout=2, markup=False)
        self.refresh_analysis(immediate=True)
        if self.watching:
            self.start_build(f"saved {message.path}")

    @on(SaveFailed)
    def _save_failed(self, message: SaveFailed) -> None:
        self.notify(message.error, title="Not saved", severity="error", markup=False,
                    timeout=8)

    def action_revert(self) -> None:
        """Drop the unsaved edits of the open file."""
        path = self.current_path
        if path is None:
            return
        self.workspace.revert(path)
        try:
            buffer = self.workspace.open(path)
        except WorkspaceError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        self.editor.replace_text(buffer.text)
        self._sync_files()
        self.refresh_analysis(immediate=True)

    # -- machine fixes ----------------------------------------------------------------------
    def action_fix(self) -> None:
        """Apply the machine fix of the selected problem (with the problems table focused)
        or of every fixable problem in the open file, to the editor buffers (not saved)."""
        targets = self._fix_targets()
        plan = plan_fixes(self.workspace, targets) if targets else []
        if not plan:
            self.notify(
                "No machine fix here: the problem needs a hand edit (F1 on it explains)."
                if not targets
                else "The machine fix cannot change this safely: edit it by hand (F1 explains).",
                severity="warning", markup=False, timeout=4,
            )
            return
        focused = self.focused
        fixed = [fix for fix in plan if self._apply_fix(fix)]
        if focused is not None and focused is not self.editor:
            focused.focus()
        if fixed:
            self.notify(
                "Fixed " + "\n".join(fix.summary() for fix in fixed)
                + "\nNot saved yet: ctrl+s saves.",
                markup=False, timeout=5,
            )

    def _fix_targets(self) -> list[Finding]:
        """The findings ctrl+f fixes: the selected one when the problems table has the focus,
        else the open file's fixable ones, else the selected one."""
        selected = [f for f in (self.selected_finding,) if f is not None and fixable(f)]
        if self.diagnostics.has_focus:
            return selected
        here = [f for f in self.findings if f.path == self.current_path and fixable(f)]
        return here or selected

    def _apply_fix(self, fix: FileFix) -> bool:
        """Apply one planned fix to its buffer and show it in the editor."""
        if fix.path != self.current_path:
            self.open_file(fix.path)
            if self.current_path != fix.path:
                return False
        if not apply_fixes(self.workspace, [fix], save=False):
            return False
        text = self.workspace.text(fix.path)
        if text is not None:
            self.editor.apply_text(text)
        self._sync_files()
        self.refresh_analysis()
        return True

    # -- building ---------------------------------------------------------------------------
    def action_build(self) -> None:
        """Build now (cancelling a running build)."""
        self.start_build("ctrl+b")

    def start_build(self, reason: str) -> None:
        """Show the build tab and start a build, superseding any running one."""
        unsaved = self.workspace.dirty_paths()
        if unsaved:
            self.notify(
                f"Building the files on disk: unsaved edits in {', '.join(unsaved)} are not "
                "included (ctrl+s saves).",
                severity="warning", markup=False, timeout=6,
            )
        _options, root_note = options_for_build(self.session.options)
        if root_note and not self._root_note_shown:
            self._root_note_shown = True
            self.notify(root_note, markup=False, timeout=8)
        self.bottom.active = "build-tab"
        self.build_image(reason)

    def _build_spec(self) -> BuildSpec:
        """Render the repository as saved and wrap it for ``run_build`` (in a thread)."""
        options, _note = options_for_build(self.session.options)
        return BuildSpec.from_workspace(
            self.workspace, options, tag=self.session.tag, builder=self.session.builder
        )

    @work(exclusive=True, group="build", exit_on_error=False, description="docker buildx build")
    async def build_image(self, reason: str) -> None:
        """Run one build, feeding its events to the build panel."""
        panel = self.build_panel
        tag = self.session.tag or default_tag(self.workspace.root)
        number = panel.begin(tag, reason)
        self.building = True
        result: BuildResult | None = None
        try:
            spec = await asyncio.to_thread(self._build_spec)
            # which file each step came from: worked out while the build runs
            sources = asyncio.ensure_future(
                asyncio.to_thread(attribute_saved, self.workspace, spec.render)
            )
            sources.add_done_callback(lambda job: self._show_sources(job, number))
            result = await run_build(spec, lambda event: panel.apply(event, number))
            if result.success and spec.render.dockerfile is not None:
                self.last_built_dockerfile = spec.render.dockerfile
                self.last_built_tag = result.tag
            steps = await self._sources_of(sources)  # shown by the time the build ends
            if not result.success:
                explanation = await asyncio.to_thread(
                    explain_saved, result, steps, self.workspace
                )
                panel.show_explanation(explanation, number)
        except asyncio.CancelledError:
            if panel.build_number == number:
                panel.cancelled_before_start()
            raise
        finally:
            if panel.build_number == number:
                self.building = False
                self.post_message(BuildEnded(number, result, reason))

    def _show_sources(self, job: asyncio.Future[StepSources], number: int) -> None:
        if self.build_panel.is_mounted and not job.cancelled() and job.exception() is None:
            self.build_panel.set_sources(job.result(), number)

    @staticmethod
    async def _sources_of(job: asyncio.Future[StepSources]) -> StepSources | None:
        """The build's step sources, or ``None`` when they could not be worked out."""
        try:
            return await asyncio.wait_for(asyncio.shield(job), 30)
        except Exception:  # could not be worked out (or took too long): no sources
            return None

    def action_cancel_build(self) -> None:
        """Cancel the running build (its processes are stopped)."""
        if not self.building:
            return
        self.workers.cancel_group(self, "build")

    @on(BuildEnded)
    def _build_ended(self, message: BuildEnded) -> None:
        result = message.result
        if result is None:
            self.last_build = "⊘ cancelled"
            self.notify("Build cancelled.", severity="warning", timeout=3)
            return
        self.last_build = summary_text(result)
        if result.success:
            if self.engine_ready is not True:
                self.probe_engine()  # it is back: the status bar shows its version again
            self.engine_ready = True
            self.notify(f"Built {result.tag}", timeout=3, markup=False)
        else:
            if result.error_kind == "engine":
                self._engine_down()
            self.notify(result.error or "Build failed", title="Build failed", severity="error",
                        markup=False, timeout=8)

    def action_pick_builder(self) -> None:
        """Choose the buildx builder (a modal lists ``docker buildx ls``)."""
        from r2d_tui.app.screens.builders import BuilderScreen

        def chosen(name: str | None) -> None:
            if name is None:
                return
            self.session.builder = name or None
            self.build_panel.builder = self.session.builder
            self.notify(
                f"Builds use the builder {name}." if name else "Builds use the default builder.",
                markup=False, timeout=3,
            )

        self.app.push_screen(BuilderScreen(self.session.builder), chosen)

    def action_toggle_watch(self) -> None:
        """Turn build-on-save on or off."""
        self.watching = not self.watching
        state = "on: saving builds the image" if self.watching else "off"
        self.notify(f"Watch {state}", timeout=2)

    # -- engine -----------------------------------------------------------------------------
    @work(thread=True, group="engine", exit_on_error=False, description="engine status")
    def probe_engine(self) -> None:
        """Ask docker whether it can build (up to a few seconds; never on the UI thread)."""
        self.post_message(EngineProbed(engine_status()))

    def _reprobe_engine(self) -> None:
        """The retry timer's tick: probe again unless a probe is still waiting for docker."""
        if not any(worker.group == "engine" and not worker.is_finished
                   for worker in self.workers):
            self.probe_engine()

    def _engine_down(self) -> None:
        """Show the engine as unusable and keep probing until it answers again, so the
        status bar (and F5/ctrl+b) recover without restarting r2d-tui."""
        self.engine_ready = False
        self.engine_text = "no engine"
        if self._engine_retry is None and self.session.engine_retry > 0:
            self._engine_retry = self.set_interval(self.session.engine_retry,
                                                   self._reprobe_engine)

    @on(EngineProbed)
    def _engine_probed(self, message: EngineProbed) -> None:
        status = message.status
        if status.ok:
            self.engine_ready = True
            version = (status.server_version or "").split("+")[0]
            self.engine_text = f"docker {version}".strip()
            if self._engine_retry is not None:
                self._engine_retry.stop()
                self._engine_retry = None
        else:
            self._engine_down()
        self.build_panel.show_engine(status)

    # -- changes on disk ----------------------------------------------------------------------
    @work(exclusive=True, group="watcher", exit_on_error=False, description="watch files")
    async def watch_repository(self) -> None:
        """Report changes made outside the editor (and not by our own saves)."""
        from r2d_tui.core.watch import watch_changes

        async for changes in watch_changes(self.workspace.root):
            outside = frozenset(path for path in changes if not self._own_save(path))
            if outside:
                self.post_message(FilesChanged(outside))

    def _own_save(self, path: str) -> bool:
        """True when the disk holds exactly what this app last saved to ``path``."""
        saved = self._saved_texts.get(path)
        if saved is None:
            return False
        try:
            on_disk, _format = self.workspace.read_disk(path)
        except WorkspaceError:
            return False
        return on_disk == saved

    @on(FilesChanged)
    def _files_changed(self, message: FilesChanged) -> None:
        """A clean buffer takes the disk's version (a deleted file closes); a dirty one
        is never overwritten either way: the user picks in the conflict dialog."""
        for path in sorted(message.paths):
            if self.workspace.is_dirty(path):
                if self.workspace.disk_changed(path):
                    self._resolve_conflict(path)
                continue
            self._take_disk_version(path)
        self._sync_files()
        self.refresh_analysis(immediate=True)
        if self.watching:
            self.start_build(f"changed {', '.join(sorted(message.paths))[:60]}")

    # -- navigation ---------------------------------------------------------------------------
    def action_toggle_files(self) -> None:
        """Show or hide the file tree (hidden by itself below 100 columns)."""
        sidebar = self.query_one("#sidebar")
        shown = sidebar.display
        self.set_class(shown, "-files-hidden")
        self.set_class(not shown, "-files-shown")
        if shown and self.focused is not None and sidebar in self.focused.ancestors_with_self:
            self.editor.focus()
        elif not shown:
            self.file_tree.focus()

    def action_show_preview(self) -> None:
        """Toggle the generated Dockerfile full screen."""
        if self.maximized is not None:
            self.minimize()
            return
        scroll = self.preview.query_one("#preview-scroll")
        scroll.focus()
        self.maximize(self.preview, container=False)

    @on(StatusBar.WhyRequested)
    def action_why_buildpack(self) -> None:
        """Say why repo2docker picks this buildpack (and which files it ignores)."""
        self.notify(buildpack_reason(self.detection), title="Buildpack", markup=False,
                    timeout=10)

    def action_show_diff(self) -> None:
        """Show what the current files change in the Dockerfile since the last build."""
        self.compare_dockerfiles()

    @work(thread=True, exclusive=True, group="diff", exit_on_error=False,
          description="compare Dockerfiles")
    def compare_dockerfiles(self) -> None:
        """Render what the next build would build (and, before any build, the saved files)
        with the build's options, then open the diff screen."""
        from r2d_tui.app.screens.diff import DiffScreen, DockerfileComparison

        options, _note = options_for_build(self.session.options)
        current = render(self.workspace, options)
        dirty = bool(self.workspace.dirty_paths())
        after_label = "current files" + (" (unsaved edits included)" if dirty else "")
        problem = current.problem.message if current.problem is not None else None
        if self.last_built_dockerfile is not None:
            comparison = DockerfileComparison(
                self.last_built_dockerfile, current.dockerfile,
                f"last build ({self.last_built_tag})", after_label, built=True,
                problem=problem,
            )
        else:
            saved = render_saved(self.workspace, options)
            if saved.problem is not None and problem is None:
                problem = f"the saved files: {saved.problem.message}"
            comparison = DockerfileComparison(
                saved.dockerfile, current.dockerfile, "saved files", after_label,
                built=False, problem=problem,
            )
        self.app.call_from_thread(self.app.push_screen, DiffScreen(comparison))

    def _step_finding(self, delta: int) -> None:
        table = self.diagnostics
        if not table.findings:
            self.notify("No problems found.", timeout=2)
            return
        self.bottom.active = "problems-tab"
        current = table.selected
        index = table.cursor_row + delta if current is not None else 0
        finding = table.select_index(index)
        if finding is not None:
            self.jump_to_finding(finding)

    def action_next_finding(self) -> None:
        self._step_finding(+1)

    def action_previous_finding(self) -> None:
        self._step_finding(-1)

    # -- errors -----------------------------------------------------------------------------
    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """One place for unexpected worker errors: tell the user, keep the app running."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        self.notify(
            f"{type(error).__name__}: {error}",
            title=f"{event.worker.description or event.worker.name} failed",
            severity="error",
            markup=False,
            timeout=10,
        )
        if event.worker.group == "build" and self.building:
            self.building = False
