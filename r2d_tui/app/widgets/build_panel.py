"""The build panel: one row per BuildKit step, a summary line, and the log of one step.

The panel is fed the core's build events (:mod:`r2d_tui.core.build`,
:mod:`r2d_tui.core.progress`) one by one by the screen's build worker through
:meth:`BuildPanel.apply`. Events are applied directly rather than posted as messages
because they arrive at a high rate and in order, from a worker that already runs on the
event loop; each build gets a number (:meth:`BuildPanel.begin`) and late events of a
cancelled build are dropped, so a superseded build can never scribble over the new one.

Rows show a status icon (spinner while running, ✓ ran, ⚡ cached, ✗ failed, ⊘ cancelled),
the step name, its duration and the file it came from (:mod:`r2d_tui.core.sources`, set
with :meth:`BuildPanel.set_sources` once the screen has worked it out). The log shows the
step under the cursor when the step table has the focus, otherwise it follows the step
that printed last. After a failed build, :meth:`BuildPanel.show_explanation` puts why it
failed (:mod:`r2d_tui.core.explain_failure`) under the summary and at the top of the log.
"""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import DataTable, Log, Static

from r2d_tui.core.build import (
    BuildCancelled,
    BuildEvent,
    BuildFinished,
    BuildResult,
    BuildStarted,
    ContextSynced,
    EngineStatus,
    format_size,
)
from r2d_tui.core.explain_failure import FailureExplanation
from r2d_tui.core.progress import (
    BuildWarning,
    Step,
    StepFinished,
    StepLog,
    StepStarted,
    StepStatus,
)
from r2d_tui.core.sources import StepSources

#: Lines the log widget keeps.
LOG_MAX_LINES = 2000

#: The summary line before the first build.
NO_BUILD_YET = "No build yet: ctrl+b builds the image."

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
ANSI_ESCAPE = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")


def strip_ansi(line: str) -> str:
    """``line`` without terminal escape sequences (the Log widget would show them raw)."""
    return ANSI_ESCAPE.sub("", line) if "\x1b" in line else line


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def step_state(step: Step) -> str:
    """``running``, ``cached``, ``failed``, ``done`` or ``pending``."""
    if step.error:
        return "failed"
    if step.done:
        return "cached" if step.cached else "done"
    if step.running:
        return "running"
    return "pending"


ICONS: dict[str, tuple[str, str]] = {
    "done": ("✓", "bold green"),
    "cached": ("⚡", "bold cyan"),
    "failed": ("✗", "bold red"),
    "cancelled": ("⊘", "bold yellow"),
    "pending": ("·", "dim"),
}


def summary_text(result: BuildResult) -> str:
    """One line for the status bar: ``✓ 12.3s · 4/6 cached`` or ``✗ …``."""
    if result.success:
        total = result.steps_run + result.steps_cached
        return f"✓ {format_duration(result.duration_s)} · {result.steps_cached}/{total} cached"
    return f"✗ {result.error_kind or 'failed'}"


class StepTable(DataTable[Text]):
    """The steps of the current build."""

    HELP: ClassVar[str] = (
        "## Build steps\n\n"
        "One row per BuildKit step: ⠋ running, ✓ ran, ⚡ taken from the cache, ✗ failed, "
        "⊘ cancelled, with its duration and the file it came from (*From*: an environment "
        "file, your Dockerfile and line, `repo2docker` for its own steps, the repository "
        "copy). Move the cursor to read a step's log; leave the table to follow the "
        "running step again."
    )


class BuildPanel(Vertical):
    """Summary line, step table and step log of the latest build."""

    HELP: ClassVar[str] = (
        "## Build\n\n"
        "Builds run `docker buildx build` on the files **as saved on disk** (save first), "
        "in the same context layout repo2docker uses, kept in a stable folder so BuildKit's "
        "cache and incremental context transfer work.\n\n"
        "**ctrl+b** builds now (a running build is cancelled first), **F4** (or escape "
        "outside the editor) cancels, **F2** turns build-on-save on and off, **ctrl+t** "
        "picks the buildx builder.\n\n"
        "When a build fails, the line under the summary says why: the failing step, the "
        "file and line it came from and, for known failures (a package that cannot be "
        "found, a step killed for memory, a failing postBuild, a base image that cannot be "
        "pulled), what to do. The log starts with the same explanation."
    )

    building: reactive[bool] = reactive(False, init=False)
    """A build is running (drives the spinner)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.build_number = 0
        self.steps: dict[str, Step] = {}
        self.result: BuildResult | None = None
        self._last_active: str | None = None
        self._log_step: str | None = None
        self._status: dict[str, str] = {}
        self._started_at: float | None = None
        self._tag = ""
        self._frame = 0
        self._timer: Timer | None = None
        self._engine: EngineStatus | None = None
        self._summary = ""
        self.sources: StepSources | None = None
        """Where each step of the current build came from (``None`` until known)."""
        self._explain_plain = ""
        self.explanation: FailureExplanation | None = None
        """Why the last build failed."""
        self.builder: str | None = None
        """The buildx builder builds use (``None``: the current one)."""
        self.log_path: Path | None = None
        """The current build's full log on disk (the log widget keeps its last lines)."""

    def compose(self) -> ComposeResult:
        yield Static(Content.styled(NO_BUILD_YET, "dim"), id="build-summary")
        yield Static("", id="build-explain")
        with Horizontal(id="build-body"):
            yield StepTable(id="build-steps", cursor_type="row", zebra_stripes=False)
            with Vertical(id="build-log-pane"):
                yield Static("", id="build-log-title")
                yield Log(max_lines=LOG_MAX_LINES, id="build-log", auto_scroll=True)

    def on_mount(self) -> None:
        table = self.query_one(StepTable)
        table.add_column(Text(" "), key="icon", width=2)  # ⚡ is two cells wide
        table.add_column(Text("Time", justify="right"), key="time", width=6)
        table.add_column(Text("Step"), key="name")
        table.add_column(Text("From"), key="source", width=18)
        self.query_one("#build-explain", Static).display = False
        self._timer = self.set_interval(0.1, self._tick, pause=True)

    # -- queries ---------------------------------------------------------------------------
    @property
    def step_rows(self) -> list[tuple[str, str]]:
        """``(state, name)`` of every row, for tests and the help screen."""
        return [(self._row_state(step), step.name) for step in self.steps.values()]

    @property
    def summary(self) -> str:
        """The summary line as plain text."""
        return self._summary

    @property
    def step_sources(self) -> list[tuple[str, str]]:
        """``(name, source)`` of every row (the *From* column), for tests."""
        return [(step.name, self._source_of(step)) for step in self.steps.values()]

    @property
    def explanation_text(self) -> str:
        """The explanation line under the summary, as plain text."""
        return self._explain_plain

    def _source_of(self, step: Step) -> str:
        sources = self.sources
        item = sources.for_step(step.stage, step.index) if sources is not None else None
        return item.label if item is not None else ""

    # -- engine state (before any build) -----------------------------------------------------
    def show_engine(self, status: EngineStatus) -> None:
        """Show the engine's state while no build has run."""
        self._engine = status
        if self.build_number == 0 and not status.ok:
            self._set_summary(Content.assemble(
                ("✗ no engine: ", "bold $error"), (status.problem or "", "$text-error"),
            ))
        elif self.build_number == 0:
            self._set_summary(Content.styled(NO_BUILD_YET, "dim"))

    # -- the event stream ------------------------------------------------------------------
    def begin(self, tag: str, note: str = "") -> int:
        """Start showing a new build; returns its number for :meth:`apply`."""
        self.build_number += 1
        self.steps.clear()
        self._status.clear()
        self.result = None
        self.sources = None
        self.explanation = None
        self._show_explain(None)
        self._last_active = None
        self._log_step = None
        self._tag = tag
        self.log_path = None
        self._started_at = time.monotonic()
        self.query_one(StepTable).clear()
        self.query_one("#build-log", Log).clear()
        self.query_one("#build-log-title", Static).update("")
        self._set_summary(Content.assemble(
            ("⠋ ", "bold $warning"), ("building ", "bold"), (tag, "bold $accent"),
            (f" · {note}" if note else "", "$text-muted"),
        ))
        self.building = True
        return self.build_number

    def set_sources(self, sources: StepSources | None, build_number: int | None = None) -> None:
        """Show which file each step came from (ignored when it belongs to an older build)."""
        if build_number is not None and build_number != self.build_number:
            return
        self.sources = sources
        for step in self.steps.values():
            self._refresh_row(step)
        if self._log_step is not None:
            self._show_step_log(self._log_step, keep_text=True)

    def show_explanation(
        self, explanation: FailureExplanation | None, build_number: int | None = None
    ) -> None:
        """Say why the build failed: a line under the summary and a block atop the log."""
        if build_number is not None and build_number != self.build_number:
            return
        self.explanation = explanation
        self._show_explain(explanation)
        if explanation is None:
            return
        log = self.query_one("#build-log", Log)
        existing = list(log.lines)
        log.clear()
        log.write_lines(["── why the build failed ──", *explanation.text_lines(tail=0), ""])
        log.write_lines(existing)

    def _show_explain(self, explanation: FailureExplanation | None) -> None:
        widget = self.query_one("#build-explain", Static)
        if explanation is None:
            self._explain_plain = ""
            widget.update("")
            widget.display = False
            return
        parts: list[tuple[str, str] | str] = [("why: ", "bold $error"),
                                              (explanation.summary, "")]
        for finding in explanation.findings[:1]:
            where = explanation.location
            parts += ["\n", (f"{where}: " if where else "", "bold"),
                      (f"{finding.name}: ", "$error"), (finding.message, "")]
            if finding.fix:
                parts += [(f" — fix: {finding.fix}", "$text-muted")]
        content = Content.assemble(*parts)
        self._explain_plain = content.plain
        widget.update(content)
        widget.display = True

    def apply(self, event: BuildEvent, build_number: int | None = None) -> None:
        """Apply one core build event (ignored when it belongs to an older build)."""
        if build_number is not None and build_number != self.build_number:
            return
        if isinstance(event, StepStarted | StepFinished):
            self._upsert(event.step)
        elif isinstance(event, StepLog):
            self._upsert(event.step, touch=False)
            self._last_active = event.step.digest
            self._write_log(event.step, event.lines)
        elif isinstance(event, StepStatus):
            self._status[event.step.digest] = _status_text(event)
            self._refresh_row(event.step)
        elif isinstance(event, BuildWarning):
            self._write_plain([f"⚠ {event.message}", *event.detail])
        elif isinstance(event, ContextSynced):
            stats = event.stats
            if stats.files_written or stats.deleted:
                self._write_plain([
                    f"context: {stats.files_written} files written, {stats.deleted} removed "
                    f"({stats.bytes_written / 1024:.0f} KiB) in {stats.seconds:.2f}s"
                ])
        elif isinstance(event, BuildStarted):
            self._tag = event.tag
            self.log_path = event.log_path
            if self._log_step is not None:
                self._show_step_log(self._log_step, keep_text=True)
        elif isinstance(event, BuildCancelled):
            self._finish_cancelled(event)
        elif isinstance(event, BuildFinished):
            self._finish(event.result)

    def cancelled_before_start(self) -> None:
        """The build was cancelled before buildx started (no BuildCancelled event)."""
        if self.building:
            self._finish_cancelled(None)

    # -- rows ------------------------------------------------------------------------------
    def _row_state(self, step: Step) -> str:
        state = step_state(step)
        if state in ("running", "pending") and not self.building and self.result is None:
            return "cancelled"
        return state

    def _row_cells(self, step: Step) -> tuple[Text, Text, Text, Text]:
        state = self._row_state(step)
        if state == "running":
            icon = Text(SPINNER[self._frame % len(SPINNER)], style="bold yellow")
            elapsed = None
            if step.started is not None:
                elapsed = max(0.0, time.time() - step.started.timestamp())
            detail = self._status.get(step.digest, "")
            time_text = Text(detail or format_duration(elapsed), style="yellow", justify="right")
        else:
            glyph, style = ICONS.get(state, ("?", ""))
            icon = Text(glyph, style=style)
            time_text = Text(
                "cached" if state == "cached" else format_duration(step.duration),
                style="dim" if state == "cached" else "",
                justify="right",
            )
        name_style = "dim" if step.internal else ""
        if state == "failed":
            name_style = "bold red"
        source = Text(self._source_of(step), style="cyan", no_wrap=True, overflow="ellipsis")
        name = Text(step.name, style=name_style, no_wrap=True, overflow="ellipsis")
        return icon, name, time_text, source

    def _upsert(self, step: Step, *, touch: bool = True) -> None:
        table = self.query_one(StepTable)
        if step.digest not in self.steps:
            self.steps[step.digest] = step
            icon, name, time_text, source = self._row_cells(step)
            table.add_row(icon, time_text, name, source, key=step.digest)
            if touch:
                self._last_active = step.digest
        else:
            self._refresh_row(step)
        if touch and step.running:
            self._last_active = step.digest

    def _refresh_row(self, step: Step) -> None:
        if step.digest not in self.steps:
            return
        table = self.query_one(StepTable)
        icon, name, time_text, source = self._row_cells(step)
        table.update_cell(step.digest, "icon", icon)
        table.update_cell(step.digest, "name", name)
        table.update_cell(step.digest, "time", time_text, update_width=False)
        table.update_cell(step.digest, "source", source, update_width=False)

    def _tick(self) -> None:
        self._frame += 1
        for step in self.steps.values():
            if step.running:
                self._refresh_row(step)
        if self.building and self._started_at is not None:
            elapsed = format_duration(time.monotonic() - self._started_at)
            running = [s for s in self.steps.values() if s.running and not s.internal]
            current = running[-1].name if running else ""
            self._set_summary(Content.assemble(
                (SPINNER[self._frame % len(SPINNER)] + " ", "bold $warning"),
                ("building ", "bold"), (self._tag, "bold $accent"),
                (f" · {elapsed}", "$text-muted"),
                (f" · {current}" if current else "", "$text-muted"),
            ))

    def watch_building(self, building: bool) -> None:
        if self._timer is None:
            return
        if building:
            self._timer.resume()
        else:
            self._timer.pause()

    # -- the log ---------------------------------------------------------------------------
    def _shown_step(self) -> str | None:
        table = self.query_one(StepTable)
        if table.has_focus and 0 <= table.cursor_row < table.row_count:
            return list(self.steps)[table.cursor_row]
        return self._last_active

    def _write_log(self, step: Step, lines: tuple[str, ...]) -> None:
        shown = self._shown_step()
        if shown != self._log_step:
            self._show_step_log(shown)
        elif shown == step.digest:
            self.query_one("#build-log", Log).write_lines(strip_ansi(line) for line in lines)

    def _write_plain(self, lines: list[str]) -> None:
        self.query_one("#build-log", Log).write_lines(strip_ansi(line) for line in lines)

    def _show_step_log(self, digest: str | None, *, keep_text: bool = False) -> None:
        self._log_step = digest
        title = self.query_one("#build-log-title", Static)
        step = self.steps.get(digest) if digest else None
        if step is not None:
            source = self._source_of(step)
            title.update(Content.assemble(
                ("log: ", "$text-muted"), (step.name, "bold"),
                (f" · from {source}" if source else "", "$text-muted"),
                (f" · full log: {self.log_path}" if self.log_path else "", "$text-muted"),
            ))
        if keep_text:
            return
        log = self.query_one("#build-log", Log)
        log.clear()
        if step is None:
            title.update("")
            return
        # the widget keeps LOG_MAX_LINES: leave room for the line saying what is left out
        room = LOG_MAX_LINES - 1 if step.dropped_lines or len(step.logs) > LOG_MAX_LINES \
            else LOG_MAX_LINES
        dropped = step.dropped_lines + max(0, len(step.logs) - room)
        if dropped:
            where = f" (the full log: {self.log_path})" if self.log_path else ""
            log.write_line(f"… {dropped} earlier lines not shown{where}")
        log.write_lines(strip_ansi(line) for line in step.logs[-room:])

    @on(DataTable.RowHighlighted, "#build-steps")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        table = self.query_one(StepTable)
        if table.has_focus and event.row_key.value is not None:
            self._show_step_log(event.row_key.value)

    def on_descendant_blur(self) -> None:
        if self._log_step != self._last_active:
            self._show_step_log(self._last_active)

    # -- the end ---------------------------------------------------------------------------
    def _finish(self, result: BuildResult) -> None:
        self.result = result
        self.building = False
        self.log_path = result.log_path or self.log_path
        for step in result.steps:
            if step.digest in self.steps:
                self.steps[step.digest] = step
                self._refresh_row(step)
        if result.success:
            total = result.steps_run + result.steps_cached
            image = (result.image_id or "").removeprefix("sha256:")[:12]
            parts: list[tuple[str, str] | str] = [
                ("✓ built ", "bold $success"), (result.tag, "bold $accent"),
                (f" in {format_duration(result.duration_s)}", ""),
                (f" · {result.steps_cached} of {total} steps cached", "$text-muted"),
            ]
            if result.image_size is not None:
                parts.append((f" · {format_size(result.image_size)}", "$text-muted"))
            if image:
                parts.append((f" · image {image}", "$text-muted"))
            if self.builder:
                parts.append((f" · builder {self.builder}", "$text-muted"))
            self._set_summary(Content.assemble(*parts))
            if self._log_step is None and total and result.steps_cached == total:
                self._write_plain([f"Every step came from the cache ({total} of {total})."])
        else:
            kind = {"engine": "no engine", "render": "cannot render", "context": "context",
                    "build": "build failed"}.get(result.error_kind or "", "failed")
            self._set_summary(Content.assemble(
                (f"✗ {kind}: ", "bold $error"), (result.error or "unknown error", "$text-error"),
                (f" ({format_duration(result.duration_s)})", "$text-muted"),
            ))
            failed = result.failed_step
            output = [strip_ansi(line) for line in result.output if line.strip()]
            if failed is not None and failed.digest in self.steps:
                # the failing step's own output matters most: select its row and end the log
                # with it (the log follows its end), after buildx's summary
                self._last_active = failed.digest
                self._show_step_log(failed.digest)
                log = self.query_one("#build-log", Log)
                log.clear()
                if output:
                    log.write_lines(["── buildx ──", *output[-40:], ""])
                log.write_lines([f"── failed step: {failed.name} ──"])
                log.write_lines(strip_ansi(line) for line in failed.logs[-LOG_MAX_LINES:])
                table = self.query_one(StepTable)
                with contextlib.suppress(Exception):
                    table.move_cursor(row=table.get_row_index(failed.digest))
            elif output:
                self._write_plain(["", "── buildx ──", *output[-40:]])
            elif result.log_tail:
                self._write_plain(result.log_tail)

    def _finish_cancelled(self, event: BuildCancelled | None) -> None:
        self.building = False
        for step in self.steps.values():
            self._refresh_row(step)
        after = ""
        if event is not None:
            after = f" after {format_duration(event.duration_s)}"
        elif self._started_at is not None:
            after = f" after {format_duration(time.monotonic() - self._started_at)}"
        self._set_summary(Content.assemble(
            ("⊘ cancelled", "bold $warning"), (f" {self._tag}{after}", "$text-muted"),
        ))

    def _set_summary(self, content: Content) -> None:
        self._summary = content.plain
        self.query_one("#build-summary", Static).update(content)


def _status_text(event: StepStatus) -> str:
    if event.completed:
        return ""
    if event.total:
        return f"{event.current * 100 // event.total}%"
    if event.current > 1024 * 1024:
        return f"{event.current / 1024 / 1024:.1f}MB"
    if event.current > 1024:
        return f"{event.current / 1024:.0f}kB"
    return ""
