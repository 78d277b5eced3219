"""The Run and Tests panels: the image as a running server, and the image's tests.

Both panels own their background jobs, because the jobs' lifetime is the panel's: a thread
worker starts the container or runs the verification (the Docker SDK blocks), and a daemon
thread of the core streams the container's log. Everything the jobs learn comes back as
messages tagged with a run number, so a superseded run (F5 pressed again, a newer test)
can never write into the current one. When a panel is unmounted (the app quits, or
crashes through Textual's error path) its containers are stopped and removed; the core's
``atexit`` and signal hooks cover the rest, and the next start removes orphans.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Log, Static

from r2d_tui.app.widgets.build_panel import format_duration, strip_ansi
from r2d_tui.core.run import RunError, RunningServer, RunOptions, ServerExit, start_server
from r2d_tui.core.verify import CaseResult, SuiteName, SuiteResult, Verification, VerifyReport

#: Lines the log widgets keep.
LOG_MAX_LINES = 2000

RunState = str
"""``idle``, ``building``, ``starting``, ``running``, ``stopping``, ``ended``, ``failed``."""


def graphical_browser() -> bool:
    """Would ``webbrowser`` open a window (rather than a text browser in this terminal)?"""
    if os.environ.get("BROWSER"):
        return True
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class RunPanel(Vertical):
    """State and URL of the server started from the image, and its log."""

    HELP: ClassVar[str] = (
        "## Run\n\n"
        "**F5** builds the image (incrementally, as ctrl+b) and starts it the way repo2docker "
        "runs it: the image's user, working directory and entrypoint, repo2docker's "
        "`jupyter notebook` command (a repository's own Dockerfile keeps its CMD), published "
        "on 127.0.0.1 with a token. **shift+F5** stops the server and removes its container; "
        "quitting does too. **ctrl+o** opens the URL in a browser, **ctrl+l** copies it. "
        "**ctrl+g** turns editable mode on and off: the repository is mounted in the "
        "container, so notebooks saved in Jupyter land on disk (the next F5 applies it)."
    )

    state: reactive[RunState] = reactive("idle", init=False)
    url: reactive[str | None] = reactive(None, init=False)

    @dataclass
    class Changed(Message):
        """The server's state or URL changed (the screen relabels its tab)."""

        panel: RunPanel

    @dataclass
    class _Started(Message, bubble=False):
        number: int
        server: RunningServer

    @dataclass
    class _Ready(Message, bubble=False):
        number: int
        ready: bool

    @dataclass
    class _Logged(Message, bubble=False):
        number: int
        lines: list[str]

    @dataclass
    class _Ended(Message, bubble=False):
        number: int
        exit: ServerExit

    @dataclass
    class _Failed(Message, bubble=False):
        number: int
        error: str

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.number = 0
        self.server: RunningServer | None = None
        self.image_tag = ""
        self._summary = ""
        self._in_flight: set[RunningServer] = set()
        """Servers the start worker created and the panel may not know yet (for shutdown)."""
        self._lock = threading.Lock()
        self._shutting_down = threading.Event()
        self._rebuilt = False

    def compose(self) -> ComposeResult:
        yield Static(Content.styled("No server: F5 builds the image and runs it.", "dim"),
                     id="run-summary")
        yield Static("", id="run-url")
        yield Log(max_lines=LOG_MAX_LINES, id="run-log", auto_scroll=True)

    # -- queries ---------------------------------------------------------------------------
    @property
    def summary(self) -> str:
        """The summary line as plain text (for tests)."""
        return self._summary

    @property
    def active(self) -> bool:
        """A server is starting, running or stopping (or a build for it runs)."""
        return self.state in ("building", "starting", "running", "stopping")

    @property
    def log_lines(self) -> list[str]:
        return list(self.query_one("#run-log", Log).lines)

    # -- commands --------------------------------------------------------------------------
    def waiting_for_build(self, tag: str) -> None:
        """F5 was pressed: the image is being built first."""
        self.image_tag = tag
        self.state = "building"
        self._set_summary(Content.assemble(
            ("⠿ ", "bold $warning"), ("building ", "bold"), (tag, "bold $accent"),
            (", then running it…", ""),
        ))

    def build_failed(self, cancelled: bool) -> None:
        """The build F5 waited for failed or was cancelled: nothing is started."""
        if self.state != "building":
            return
        self.state = "ended" if self.server is None else "running"
        reason = "the build was cancelled" if cancelled else "the build failed (see Build)"
        self._set_summary(Content.assemble(("⊘ not started: ", "bold $warning"), (reason, "")))

    def start(self, image: str, tag: str, root: Path, options: RunOptions) -> None:
        """Start ``image`` (a previous server is stopped first)."""
        self.number += 1
        previous, self.server = self.server, None
        self.image_tag = tag
        self.url = None
        self._rebuilt = False
        self.state = "starting"
        self.query_one("#run-log", Log).clear()
        self.query_one("#run-url", Static).update("")
        self._set_summary(Content.assemble(
            ("⠿ ", "bold $warning"), ("starting ", "bold"), (tag, "bold $accent"),
            (" (editable)" if options.editable else "", "$text-muted"),
        ))
        self._start(self.number, image, root, options, previous)

    def stop(self) -> None:
        """Stop the server and remove its container (in a worker)."""
        server = self.server
        self.number += 1  # whatever the start worker still reports is stale now
        if server is None:
            if self.state in ("building", "starting"):
                self.state = "ended"
                self._set_summary(Content.styled("⊘ start cancelled", "bold $warning"))
            return
        self.state = "stopping"
        self._set_summary(Content.assemble(("■ stopping ", "bold $warning"), (server.name, "")))
        self._stop(server, self.number)

    def note_rebuilt(self, image_id: str | None) -> None:
        """An image was built while the server runs: if it differs from the running one,
        say that F5 restarts with it."""
        server = self.server
        if server is None or not image_id or image_id == server.image.id:
            return
        if self.state == "running" and not self._rebuilt:
            self._rebuilt = True
            self._set_summary(Content.assemble(
                *self._running_parts(), (" · image rebuilt: F5 restarts", "$text-warning"),
            ))

    def shutdown(self) -> None:
        """Stop every container of this panel now (blocking; the app is closing)."""
        self._shutting_down.set()
        with self._lock:
            servers = set(self._in_flight)
        if self.server is not None:
            servers.add(self.server)
        for server in servers:
            with contextlib.suppress(Exception):
                server.stop(grace=1)

    def on_unmount(self) -> None:
        self.shutdown()

    # -- workers ---------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="run", exit_on_error=False,
          description="start the server")
    def _start(
        self, number: int, image: str, root: Path, options: RunOptions,
        previous: RunningServer | None,
    ) -> None:
        if previous is not None:
            previous.stop()
        if self._shutting_down.is_set():
            return
        try:
            server = start_server(image, options, root=root)
        except RunError as error:
            self.post_message(self._Failed(number, str(error)))
            return
        with self._lock:
            self._in_flight.add(server)
        try:
            if self._shutting_down.is_set():
                server.stop(grace=0)
                return
            self.post_message(self._Started(number, server))
            server.follow_logs(
                lambda lines: self._post(self._Logged(number, lines)),
                lambda ended: self._post(self._Ended(number, ended)),
            )
            ready = server.wait_ready()
            self._post(self._Ready(number, ready))
        finally:
            with self._lock:
                self._in_flight.discard(server)

    def _post(self, message: Message) -> None:
        """Post from a thread; a closed app or loop just drops the message."""
        with contextlib.suppress(RuntimeError):
            self.post_message(message)

    @work(thread=True, group="run-stop", exit_on_error=False, description="stop the server")
    def _stop(self, server: RunningServer, number: int) -> None:
        server.stop()
        self._post(self._Ended(number, ServerExit(server.exit_status(), True)))

    # -- messages from the workers --------------------------------------------------------
    @on(_Started)
    def _started(self, message: _Started) -> None:
        if message.number != self.number:
            self._stop(message.server, -1)  # superseded while starting
            return
        server = self.server = message.server
        log = self.query_one("#run-log", Log)
        plan = server.plan
        log.write_lines([
            f"── {plan.name} from {self.image_tag}: {plan.display_command}",
            *(f"── note: {note}" for note in plan.notes),
        ])
        self._set_summary(Content.assemble(
            ("⠿ ", "bold $warning"), ("waiting for the server on ", ""),
            (f"127.0.0.1:{plan.host_port}", "bold"), ("…", ""),
        ))
        self.url = server.url
        self._show_url()

    @on(_Ready)
    def _ready(self, message: _Ready) -> None:
        if message.number != self.number or self.server is None or self.state != "starting":
            return
        if message.ready:
            self.state = "running"
            self._set_summary(Content.assemble(*self._running_parts()))
        else:
            self._set_summary(Content.assemble(
                ("▲ ", "bold $warning"), ("the server does not answer yet ", ""),
                ("(see the log; shift+F5 stops it)", "$text-muted"),
            ))

    def _running_parts(self) -> list[tuple[str, str]]:
        server = self.server
        name = server.name if server is not None else ""
        editable = server is not None and bool(server.plan.volumes)
        return [
            ("▶ ", "bold $success"), ("running ", "bold"), (self.image_tag, "bold $accent"),
            (" (editable)" if editable else "", "$text-muted"),
            (f" · {name} · ctrl+o opens, ctrl+l copies, shift+F5 stops", "$text-muted"),
        ]

    @on(_Logged)
    def _logged(self, message: _Logged) -> None:
        if message.number != self.number:
            return
        self.query_one("#run-log", Log).write_lines(strip_ansi(line) for line in message.lines)

    @on(_Ended)
    def _ended(self, message: _Ended) -> None:
        if message.number != self.number:
            return
        ended = message.exit
        name = self.server.name if self.server is not None else ""
        self.server = None
        self.url = None
        self.query_one("#run-url", Static).update("")
        self.state = "ended"
        if ended.stopped:
            self._set_summary(Content.assemble(
                ("■ stopped", "bold"), (f" · {name} removed · F5 runs again", "$text-muted"),
            ))
        else:
            self._set_summary(Content.assemble(
                ("✗ the server exited", "bold $error"),
                (f" with status {ended.status}" if ended.status is not None else "", ""),
                (f" · {name} removed · the log shows why", "$text-muted"),
            ))

    @on(_Failed)
    def _failed(self, message: _Failed) -> None:
        if message.number != self.number:
            return
        self.state = "failed"
        self._set_summary(Content.assemble(("✗ cannot run: ", "bold $error"), (message.error, "")))

    # -- display ---------------------------------------------------------------------------
    def _show_url(self) -> None:
        url = self.url or ""
        self.query_one("#run-url", Static).update(
            Content.assemble(("URL ", "$text-muted"), (url, "bold underline")) if url else ""
        )

    def _set_summary(self, content: Content) -> None:
        self._summary = content.plain
        self.query_one("#run-summary", Static).update(content)

    def watch_state(self) -> None:
        self.post_message(self.Changed(self))

    def watch_url(self) -> None:
        self.post_message(self.Changed(self))


ICONS: dict[str, tuple[str, str]] = {
    "passed": ("✓", "bold green"),
    "failed": ("✗", "bold red"),
    "error": ("!", "bold red"),
    "skipped": ("·", "dim"),
}


class TestTable(DataTable[Text]):
    """One row per test result."""

    HELP: ClassVar[str] = (
        "## Test results\n\n"
        "One row per test: ✓ passed, ✗ failed, ! could not run, · skipped. Move the cursor to "
        "read a test's output."
    )


class TestPanel(Vertical):
    """Per-test results of the latest verification, and the selected test's output."""

    __test__ = False  # not a pytest class

    HELP: ClassVar[str] = (
        "## Tests\n\n"
        "**F9** builds the image, then runs the repository's tests inside it: an executable "
        "`verify` at the root (repo2docker's convention: run as `./verify` in the image; exit "
        "0 passes) and an `image-tests/` folder (the repo2docker GitHub Action's convention: "
        "`*.py` run with pytest, notebooks re-executed with pytest-notebook and compared with "
        "their stored outputs). Without either, F9 checks that the server starts and answers. "
        "**shift+F9** runs the tests after every successful build (with watch, after every "
        "save). **shift+F5** cancels a running test."
    )

    state: reactive[str] = reactive("idle", init=False)
    """``idle``, ``building``, ``running``, ``passed``, ``failed``, ``cancelled``, ``error``."""

    @dataclass
    class Changed(Message):
        """The verification's state changed (the screen relabels its tab)."""

        panel: TestPanel

    @dataclass
    class _Output(Message, bubble=False):
        number: int
        suite: SuiteName
        lines: list[str]

    @dataclass
    class _SuiteDone(Message, bubble=False):
        number: int
        suite: SuiteResult

    @dataclass
    class _Finished(Message, bubble=False):
        number: int
        report: VerifyReport | None
        error: str | None = None

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.number = 0
        self.report: VerifyReport | None = None
        self.cases: list[CaseResult] = []
        self._verification: Verification | None = None
        self._summary = ""
        self._live: list[str] = []
        self._shown: int | None = None

    def compose(self) -> ComposeResult:
        yield Static(Content.styled(
            "No tests run yet: F9 builds the image and runs verify / image-tests/ in it.", "dim"
        ), id="test-summary")
        with Horizontal(id="test-body"):
            yield TestTable(id="test-cases", cursor_type="row", zebra_stripes=False)
            with Vertical(id="test-output-pane"):
                yield Static("", id="test-output-title")
                yield Log(max_lines=LOG_MAX_LINES, id="test-output", auto_scroll=True)

    def on_mount(self) -> None:
        table = self.query_one(TestTable)
        table.add_column(Text(" "), key="icon", width=1)
        table.add_column(Text("Time", justify="right"), key="time", width=6)
        table.add_column(Text("Test"), key="name")

    # -- queries ---------------------------------------------------------------------------
    @property
    def summary(self) -> str:
        return self._summary

    @property
    def running(self) -> bool:
        return self.state in ("building", "running")

    @property
    def rows(self) -> list[tuple[str, str]]:
        """``(outcome, name)`` of every result row (for tests)."""
        return [(case.outcome, case.name) for case in self.cases]

    @property
    def output_lines(self) -> list[str]:
        return list(self.query_one("#test-output", Log).lines)

    # -- commands --------------------------------------------------------------------------
    def waiting_for_build(self, tag: str) -> None:
        self.state = "building"
        self._set_summary(Content.assemble(
            ("⠿ ", "bold $warning"), ("building ", "bold"), (tag, "bold $accent"),
            (", then testing it…", ""),
        ))

    def build_failed(self, cancelled: bool) -> None:
        if self.state != "building":
            return
        self.state = "cancelled" if cancelled else "error"
        reason = "the build was cancelled" if cancelled else "the build failed (see Build)"
        self._set_summary(Content.assemble(("⊘ not tested: ", "bold $warning"), (reason, "")))

    def start(self, image: str, tag: str, root: Path, options: RunOptions | None = None) -> None:
        """Run the repository's tests in ``image`` (a running verification is cancelled)."""
        self.cancel(quiet=True)
        self.number += 1
        verification = Verification(image, root, run_options=options)
        self._verification = verification
        self.report = None
        self.cases = []
        self._live = []
        self._shown = None
        self.query_one(TestTable).clear()
        self.query_one("#test-output", Log).clear()
        self.query_one("#test-output-title", Static).update(
            Content.styled("live output", "$text-muted")
        )
        self.state = "running"
        suites = ", ".join(verification.suites)
        self._set_summary(Content.assemble(
            ("⠿ ", "bold $warning"), ("testing ", "bold"), (tag, "bold $accent"),
            (f" · {suites} ({verification.plan.describe()})", "$text-muted"),
        ))
        self._run(self.number, verification)

    def cancel(self, *, quiet: bool = False) -> None:
        """Cancel the running verification (its container is removed)."""
        verification, self._verification = self._verification, None
        if verification is not None:
            verification.cancel(wait=False)
        if self.state in ("building", "running"):
            self.number += 1
            self.state = "cancelled"
            if not quiet:
                self._set_summary(Content.styled("⊘ tests cancelled", "bold $warning"))

    def on_unmount(self) -> None:
        if self._verification is not None:
            self._verification.cancel()

    # -- the worker ------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="test", exit_on_error=False,
          description="verify the image")
    def _run(self, number: int, verification: Verification) -> None:
        def post(message: Message) -> None:
            with contextlib.suppress(RuntimeError):
                self.post_message(message)

        try:
            report = verification.run(
                lambda suite, lines: post(self._Output(number, suite, lines)),
                lambda suite: post(self._SuiteDone(number, suite)),
            )
        except RunError as error:
            post(self._Finished(number, None, str(error)))
            return
        post(self._Finished(number, report))

    @on(_Output)
    def _output(self, message: _Output) -> None:
        if message.number != self.number:
            return
        lines = [f"[{message.suite}] {strip_ansi(line)}" for line in message.lines]
        self._live.extend(lines)
        del self._live[:-LOG_MAX_LINES]
        if self._shown is None:
            self.query_one("#test-output", Log).write_lines(lines)

    @on(_SuiteDone)
    def _suite_done(self, message: _SuiteDone) -> None:
        if message.number != self.number:
            return
        table = self.query_one(TestTable)
        for case in message.suite.cases:
            key = str(len(self.cases))
            self.cases.append(case)
            glyph, style = ICONS[case.outcome]
            table.add_row(
                Text(glyph, style=style),
                Text(format_duration(case.duration_s), justify="right"),
                Text(case.name, style="bold red" if not case.passed else "",
                     no_wrap=True, overflow="ellipsis"),
                key=key,
            )

    @on(_Finished)
    def _finished(self, message: _Finished) -> None:
        if message.number != self.number:
            return
        self._verification = None
        report = self.report = message.report
        if report is None:
            self.state = "error"
            self._set_summary(Content.assemble(
                ("✗ cannot test: ", "bold $error"), (message.error or "", ""),
            ))
            return
        if report.cancelled:
            self.state = "cancelled"
            self._set_summary(Content.styled("⊘ tests cancelled", "bold $warning"))
            return
        self.state = "passed" if report.ok else "failed"
        mark = ("✓ ", "bold $success") if report.ok else ("✗ ", "bold $error")
        self._set_summary(Content.assemble(
            mark, (report.summary(), "bold"), (f" · {report.image[:19]}", "$text-muted"),
        ))
        failed = next((i for i, case in enumerate(self.cases) if not case.passed), None)
        if failed is not None:
            table = self.query_one(TestTable)
            table.move_cursor(row=failed)
            self._show_case(failed)

    # -- showing a test's output -----------------------------------------------------------
    @on(DataTable.RowHighlighted, "#test-cases")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.row_key.value is not None and self.query_one(TestTable).has_focus:
            self._show_case(int(event.row_key.value))

    def _show_case(self, index: int) -> None:
        if not 0 <= index < len(self.cases):
            return
        case = self.cases[index]
        self._shown = index
        self.query_one("#test-output-title", Static).update(Content.assemble(
            ("output: ", "$text-muted"), (case.name, "bold"),
        ))
        log = self.query_one("#test-output", Log)
        log.clear()
        log.write_lines(strip_ansi(line) for line in (case.output or "(no output)").splitlines())

    def _set_summary(self, content: Content) -> None:
        self._summary = content.plain
        self.query_one("#test-summary", Static).update(content)

    def watch_state(self) -> None:
        self.post_message(self.Changed(self))
