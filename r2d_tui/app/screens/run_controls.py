"""Running and testing the built image: the main screen's commands for the Run and Tests tabs.

A base class of :class:`~r2d_tui.app.screens.main.MainScreen`, kept apart so the screen's
file stays about editing and building. F5 and F9 first build the image the way ctrl+b does
(the build panel shows it), then, when :class:`~r2d_tui.app.messages.BuildEnded` says the
build succeeded, start the server (:class:`RunPanel`) or the verification
(:class:`TestPanel`) on the image just built. A build superseded by a newer one keeps the
request pending for the newer build; a failed or cancelled build drops it. With
"test on build" on, every successful build (ctrl+b, build-on-save) is also verified.
"""

from __future__ import annotations

import dataclasses
import webbrowser
from pathlib import Path
from typing import TYPE_CHECKING

from textual import getters, on, work
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import TabbedContent
from textual.worker import WorkerState

from r2d_tui.app.messages import BuildEnded
from r2d_tui.app.widgets.run_panel import RunPanel, TestPanel, graphical_browser
from r2d_tui.core.build import default_tag
from r2d_tui.core.run import RunError, RunOptions, cleanup_orphans, install_exit_cleanup

if TYPE_CHECKING:
    from r2d_tui.app.app import Session

#: Actions whose availability :meth:`RunControls.check_run_action` decides.
RUN_ACTIONS = frozenset({
    "run_server", "stop_server", "open_url", "copy_url", "test_image",
    "toggle_test_on_build", "toggle_editable",
})


class RunControls(Screen[None]):
    """F5 run, shift+F5 stop, ctrl+o open, ctrl+l copy, F9 test, shift+F9 test on build,
    ctrl+g editable."""

    session: Session

    test_on_build: var[bool] = var(False, init=False)
    """Verify the image after every successful build."""
    editable: var[bool] = var(False, init=False)
    """Mount the repository in the container on the next run."""

    run_panel = getters.query_one("#run", RunPanel)
    test_panel = getters.query_one("#tests", TestPanel)
    bottom_tabs = getters.query_one("#bottom", TabbedContent)

    def __init__(self) -> None:
        super().__init__()
        self._after_build: set[str] = set()
        """``run`` and/or ``test``: what to do when the pending build succeeds."""

    def start_build(self, reason: str) -> None:  # pragma: no cover - MainScreen's
        raise NotImplementedError

    def on_mount(self) -> None:
        self.test_on_build = self.session.test_on_build
        self.editable = self.session.editable
        install_exit_cleanup()
        if self.session.probe_engine:
            self.remove_orphans()

    # -- commands --------------------------------------------------------------------------
    def action_run_server(self) -> None:
        """Build, then run the image (a running server is replaced)."""
        self._after_build.add("run")
        self.run_panel.waiting_for_build(self._tag())
        self.start_build("F5: build, then run")
        self.bottom_tabs.active = "build-tab"

    def action_stop_server(self) -> None:
        """Stop the server (and a running test); their containers are removed."""
        self._after_build.clear()
        self.run_panel.stop()
        self.test_panel.cancel()

    def action_test_image(self) -> None:
        """Build, then run the repository's tests in the image."""
        self._after_build.add("test")
        self.test_panel.waiting_for_build(self._tag())
        self.start_build("F9: build, then test")
        self.bottom_tabs.active = "build-tab"

    def action_toggle_test_on_build(self) -> None:
        self.test_on_build = not self.test_on_build
        state = "on: every successful build is tested" if self.test_on_build else "off"
        self.notify(f"Test on build {state}", timeout=3)

    def action_toggle_editable(self) -> None:
        self.editable = not self.editable
        if self.editable:
            self.notify("Editable on: the next run (F5) mounts the repository in the "
                        "container, so edits made in Jupyter land on disk.", timeout=5)
        else:
            self.notify("Editable off: the next run uses the files in the image.", timeout=3)

    def action_open_url(self) -> None:
        url = self.run_panel.url
        if url is None:
            return
        if not graphical_browser():
            self.app.copy_to_clipboard(url)
            self.notify(f"No graphical browser here; the URL was copied:\n{url}",
                        markup=False, timeout=8)
            return
        self._open_browser(url)

    @work(thread=True, group="browser", exit_on_error=False, description="open the browser")
    def _open_browser(self, url: str) -> None:
        if not webbrowser.open(url):
            self.app.call_from_thread(
                self.notify, f"Could not open a browser; the URL is\n{url}", markup=False,
                severity="warning", timeout=8,
            )

    def action_copy_url(self) -> None:
        url = self.run_panel.url
        if url is None:
            return
        self.app.copy_to_clipboard(url)
        self.notify(f"Copied {url}", markup=False, timeout=4)

    def check_run_action(self, action: str) -> bool | None:
        """Which run/test commands apply now (``None``: shown but disabled)."""
        if action == "stop_server":
            return self.run_panel.active or self.test_panel.running or bool(self._after_build)
        if action in ("open_url", "copy_url"):
            return self.run_panel.url is not None
        return True

    # -- after a build ---------------------------------------------------------------------
    @on(BuildEnded)
    def _run_after_build(self, message: BuildEnded) -> None:
        result = message.result
        if result is None and self._newer_build():
            return  # superseded: the newer build answers the pending request
        wanted, self._after_build = set(self._after_build), set()
        if result is None or not result.success:
            cancelled = result is None
            if "run" in wanted:
                self.run_panel.build_failed(cancelled)
            if "test" in wanted:
                self.test_panel.build_failed(cancelled)
            if wanted:
                verb = " and ".join(sorted(wanted))
                self.notify(f"Not starting {verb}: the build "
                            f"{'was cancelled' if cancelled else 'failed'}.",
                            severity="warning", timeout=4)
            return
        image = result.image_id or result.tag
        root = Path(self.session.workspace.root)
        if "run" in wanted:
            try:
                options = self._run_options()
            except RunError as error:
                self.notify(str(error), severity="error", markup=False)
            else:
                self.run_panel.start(image, result.tag, root, options)
                self.bottom_tabs.active = "run-tab"
        else:
            self.run_panel.note_rebuilt(result.image_id)
        if "test" in wanted or self.test_on_build:
            self.test_panel.start(image, result.tag, root, self.session.run_options)
            if "run" not in wanted and ("test" in wanted or self.bottom_tabs.active == "build-tab"):
                self.bottom_tabs.active = "test-tab"

    def _newer_build(self) -> bool:
        return any(
            worker.group == "build" and worker.node is self
            and worker.state in (WorkerState.PENDING, WorkerState.RUNNING)
            for worker in self.workers
        )

    def _run_options(self) -> RunOptions:
        options = self.session.run_options or RunOptions()
        return dataclasses.replace(options, editable=self.editable)

    def _tag(self) -> str:
        return self.session.tag or default_tag(Path(self.session.workspace.root))

    # -- tab labels ------------------------------------------------------------------------
    @on(RunPanel.Changed)
    def _run_changed(self) -> None:
        state = self.run_panel.state
        mark = {"building": "…", "starting": "…", "running": "▶", "stopping": "■",
                "failed": "✗"}.get(state, "")
        self.bottom_tabs.get_tab("run-tab").label = f"Run {mark}".strip()
        self.refresh_bindings()

    @on(TestPanel.Changed)
    def _tests_changed(self) -> None:
        state = self.test_panel.state
        mark = {"building": "…", "running": "…", "passed": "✓", "failed": "✗",
                "error": "✗", "cancelled": "⊘"}.get(state, "")
        self.bottom_tabs.get_tab("test-tab").label = f"Tests {mark}".strip()
        self.refresh_bindings()

    # -- orphans ---------------------------------------------------------------------------
    @work(thread=True, group="orphans", exit_on_error=False, description="remove orphans")
    def remove_orphans(self) -> None:
        """Remove containers an earlier r2d-tui left behind (its process is gone)."""
        try:
            removed = cleanup_orphans()
        except Exception:  # no engine (the status bar says so), or it failed to list
            return
        if removed:
            self.app.call_from_thread(
                self.notify,
                f"Removed {len(removed)} container(s) left by an earlier r2d-tui: "
                + ", ".join(removed),
                markup=False, timeout=6,
            )
