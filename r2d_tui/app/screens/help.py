"""F1 help: what the focused panel does, every key, and how r2d-tui works.

The text is assembled when the screen opens, so it cannot go stale: the focused widget's
``HELP`` (and its ancestors'), a dynamic part from widgets that offer ``context_help()``
(the diagnostics table explains the selected rule), the key table generated from
:mod:`r2d_tui.app.commands`, and the general ``help.md``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar, Protocol, runtime_checkable

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Markdown, Static

from r2d_tui.app.commands import APP_COMMANDS, MAIN_COMMANDS, key_table

HELP_FILE = Path(__file__).resolve().parent.parent / "help.md"


@runtime_checkable
class HasContextHelp(Protocol):
    """A widget whose help depends on its state (the selected finding…)."""

    def context_help(self) -> str | None: ...


def panel_help(focused: Widget | None) -> str:
    """Markdown for the focused widget: its dynamic help, then ``HELP`` up the tree."""
    if focused is None:
        return ""
    parts: list[str] = []
    if isinstance(focused, HasContextHelp):
        extra = focused.context_help()
        if extra:
            parts.append(extra)
    for node in focused.ancestors_with_self:
        if isinstance(node, Screen):
            break
        text = node.HELP
        if text and text not in parts:
            parts.append(text)
    return "\n\n".join(parts)


def help_markdown(focused: Widget | None, keymap: Mapping[str, str] | None = None) -> str:
    """The whole help text (``keymap``: the user's remapped keys, by command id)."""
    sections = []
    context = panel_help(focused)
    if context:
        sections.append(context)
    sections.append("## Keys\n\n" + key_table((*MAIN_COMMANDS, *APP_COMMANDS), keymap))
    sections.append(
        "Also: **tab / shift+tab** move between panels, **ctrl+p** opens the command palette "
        "(`open:` a file, `new:` a file, every command above)."
    )
    with contextlib.suppress(OSError):
        sections.append(HELP_FILE.read_text(encoding="utf-8"))
    return "\n\n---\n\n".join(sections)


class HelpScreen(ModalScreen[None]):
    """Help for the focused panel, the key table and the general help."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q", "dismiss", "Close", id="help-close"),
    ]

    def __init__(self, focused: Widget | None, keymap: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self._markdown = help_markdown(focused, keymap)

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Static("r2d-tui help · escape to close", id="help-title")
            with VerticalScroll(id="help-scroll"):
                yield Markdown(self._markdown, id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()

    @property
    def text(self) -> str:
        """The Markdown shown (for tests)."""
        return self._markdown
