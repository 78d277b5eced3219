"""The file changed on disk while it had unsaved edits: keep mine, take theirs, or cancel.

Never a silent overwrite either way: saving is refused by the workspace
(:class:`~r2d_tui.core.workspace.ExternalChangeError`) until the user picks one here,
after seeing the difference between the disk and the editor.
"""

from __future__ import annotations

import difflib
from typing import ClassVar, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

Choice = Literal["mine", "theirs", "cancel"]


def conflict_diff(path: str, disk: str | None, mine: str) -> str:
    """A unified diff from the disk's version to the editor's."""
    before = (disk or "").splitlines(keepends=True)
    after = mine.splitlines(keepends=True)
    lines = difflib.unified_diff(before, after, f"{path} (on disk)", f"{path} (yours)")
    text = "".join(lines)
    return text or "(no difference in the text)"


class ConflictScreen(ModalScreen[Choice]):
    """Ask what to do with a file that changed on disk under unsaved edits."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss('cancel')", "Cancel", id="conflict-cancel"),
    ]

    def __init__(self, path: str, disk: str | None, mine: str) -> None:
        super().__init__()
        self._path = path
        self._disk_text = disk
        self._my_text = mine

    def compose(self) -> ComposeResult:
        what = "was deleted" if self._disk_text is None else "changed"
        with Vertical(id="confirm-dialog"):
            yield Static(f"{self._path} {what} on disk", id="confirm-title", markup=False)
            yield Static(
                "It changed after you opened it, and you have unsaved edits. Saving now "
                "would overwrite the other version.", id="confirm-question", markup=False,
            )
            with VerticalScroll(id="conflict-diff"):
                diff = conflict_diff(self._path, self._disk_text, self._my_text)
                yield Static(diff, markup=False)
            with Horizontal(id="confirm-buttons"):
                yield Button("Cancel", id="conflict-cancel")
                yield Button("Take theirs (reload)", id="conflict-theirs")
                yield Button("Keep mine (overwrite)", id="conflict-mine", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#conflict-cancel", Button).focus()

    @on(Button.Pressed, "#conflict-mine")
    def _mine(self) -> None:
        self.dismiss("mine")

    @on(Button.Pressed, "#conflict-theirs")
    def _theirs(self) -> None:
        self.dismiss("theirs")

    @on(Button.Pressed, "#conflict-cancel")
    def _cancel(self) -> None:
        self.dismiss("cancel")
