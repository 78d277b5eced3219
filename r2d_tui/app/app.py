"""The Textual application: one main screen over a repository, plus help and confirm modals.

The app is deliberately thin. It holds the :class:`Session` (the workspace and the options
given on the command line), installs the main screen, and owns the app-wide commands
(F1 help, quit with a check for unsaved edits). Everything about files, previews, checks
and builds lives in :class:`~r2d_tui.app.screens.main.MainScreen` and the core.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import BindingType
from textual.screen import Screen

from r2d_tui.app.commands import APP_COMMANDS, R2DCommands, bindings
from r2d_tui.app.settings import UISettings
from r2d_tui.core.prefetch import Prefetch
from r2d_tui.core.recovery import discard_journal
from r2d_tui.core.render import RenderOptions
from r2d_tui.core.run import RunOptions
from r2d_tui.core.workspace import Workspace


@dataclass
class Session:
    """What one run of the TUI works on, fixed at start-up."""

    workspace: Workspace
    options: RenderOptions
    """repo2docker options for the preview, the checks and the build."""
    builder: str | None = None
    """``docker buildx`` builder (``None``: the current one)."""
    tag: str | None = None
    """Image tag (``None``: ``r2d-tui/<folder>:latest``)."""
    watch: bool = False
    """Start with build-on-save on."""
    debounce: float = 0.05
    """Seconds of quiet typing before the preview re-renders (0 in tests)."""
    probe_engine: bool = True
    """Ask the container engine for its state at start-up (off for deterministic tests)."""
    engine_retry: float = 5.0
    """Seconds between probes while the engine is unreachable (0: do not retry)."""
    journal_delay: float = 1.0
    """Seconds after an edit before unsaved buffers are journaled for crash recovery."""
    watch_files: bool = True
    """Watch the repository for changes made outside the editor."""
    repo_name: str = ""
    """Name shown for the repository (default: its folder name)."""
    editable: bool = False
    """Run (F5) with the repository mounted in the container (``--editable``)."""
    test_on_build: bool = False
    """Start with test-after-each-successful-build on."""
    run_options: RunOptions | None = None
    """How F5 runs the image (``None``: as repo2docker; ``editable`` is applied on top)."""
    ui: UISettings | None = None
    """Theme and keymap (``tui.toml``; ``None``: Textual's defaults, as in the tests)."""
    freeze_after_start_up: bool = True
    """After the first preview and analysis, move the objects alive to the garbage
    collector's permanent generation (see :mod:`r2d_tui.app.memory`; off in tests, where
    many apps share one process)."""
    prefetch: Prefetch | None = None
    """A child process detecting the repository, started before Textual was imported; the
    first preview waits for it and reads its answer from the detection cache."""

    @property
    def name(self) -> str:
        return self.repo_name or Path(self.workspace.root).name


class R2DApp(App[int]):
    """r2d-tui: edit repo2docker environment files with a live Dockerfile preview."""

    CSS_PATH = "app.tcss"
    TITLE = "r2d-tui"
    COMMANDS = App.COMMANDS | {R2DCommands}
    BINDINGS: ClassVar[list[BindingType]] = bindings(APP_COMMANDS)  # type: ignore[assignment]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.sub_title = session.name
        if session.ui is not None:
            if session.ui.theme:
                self.theme = session.ui.theme
            if session.ui.keymap:
                self.set_keymap(session.ui.keymap)

    def get_default_screen(self) -> Screen[None]:
        from r2d_tui.app.screens.main import MainScreen

        return MainScreen(self.session)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Keys, panels and markers (F1)", self.action_help)

    def action_help(self) -> None:
        """Show the help screen for the focused panel."""
        from r2d_tui.app.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        ui = self.session.ui
        self.push_screen(HelpScreen(self.focused, ui.keymap if ui is not None else None))

    def action_toggle_theme(self) -> None:
        """Switch between Textual's light and dark themes (for this run; ``theme`` in
        ``tui.toml`` sets the one to start with)."""
        self.theme = "textual-dark" if not self.current_theme.dark else "textual-light"
        self.notify(f"Theme {self.theme} (ctrl+p, Theme: all themes)", timeout=2, markup=False)

    async def action_quit(self) -> None:
        """Quit, asking first when there are unsaved edits."""
        from r2d_tui.app.screens.confirm import ConfirmScreen

        dirty = self.session.workspace.dirty_paths()
        if not dirty or isinstance(self.screen, ConfirmScreen):
            self._quit_on_purpose()
            return

        def decided(quit_anyway: bool | None) -> None:
            if quit_anyway:
                self._quit_on_purpose()

        names = ", ".join(dirty)
        self.push_screen(
            ConfirmScreen(
                f"Unsaved edits in {names}.",
                "Quit and discard them?",
                confirm="Discard and quit",
                cancel="Keep editing",
            ),
            decided,
        )

    def _quit_on_purpose(self, waited: int = 0) -> None:
        """Exit; the user chose to, so there is nothing to recover next time.

        A ctrl+q in the first half second can come while the screen's tab bars are still
        being mounted; exiting then made Textual's ``Tabs`` mount handler fail ("No Tab
        with id …", exit status 1). Wait for them (up to a second) before exiting."""
        from textual.widgets import Tabs

        if waited < 20 and not all(tabs.is_mounted for tabs in self.screen.query(Tabs)):
            self.set_timer(0.05, lambda: self._quit_on_purpose(waited + 1))
            return
        discard_journal(self.session.workspace.root)
        self.exit(0)

    def on_unmount(self) -> None:
        self.session.workspace.close()
