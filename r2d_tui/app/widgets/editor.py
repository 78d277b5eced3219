"""The editor for one environment file at a time.

A ``TextArea`` in code-editor mode: line numbers, soft tabs (the tab key inserts spaces,
which YAML requires; escape leaves the editor), and syntax highlighting where Textual has a
grammar for the file (``environment.yml`` → yaml, ``postBuild`` → bash, ``Pipfile`` →
toml…). Highlighting needs the optional tree-sitter packages (``textual[syntax]``); without
them, or for files with no grammar (``requirements.txt``, ``apt.txt``) the text is plain.

The editor does not know about the workspace: the screen loads text into it with
:meth:`EnvEditor.show_file` and receives every user edit as :class:`EnvEditor.Edited`,
which it writes into the workspace buffer and turns into a preview render.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache
from typing import ClassVar

from textual import on
from textual.message import Message
from textual.reactive import var
from textual.widgets import TextArea
from textual.widgets.text_area import LanguageDoesNotExist

from r2d_tui.core.envfiles import language_for


@cache
def _tree_sitter_installed() -> bool:
    return importlib.util.find_spec("tree_sitter") is not None


class EnvEditor(TextArea):
    """Edits the text of one environment file; reports edits as :class:`Edited`."""

    HELP: ClassVar[str] = (
        "## Editor\n\n"
        "Edits are kept in memory and the Dockerfile preview follows them as you type; "
        "nothing is written until **ctrl+s**. The save is atomic and keeps the file's "
        "permissions (postBuild stays executable), line endings and encoding.\n\n"
        "**Tab** inserts spaces; **escape** moves the focus out of the editor. "
        "**ctrl+z / ctrl+y** undo and redo, **ctrl+r** reverts to the file on disk."
    )

    path: var[str | None] = var(None)
    """Repository-relative path of the file being edited."""

    @dataclass
    class Edited(Message):
        """The user changed the text of ``path``."""

        editor: EnvEditor
        path: str
        text: str

        @property
        def control(self) -> EnvEditor:
            return self.editor

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(
            "",
            soft_wrap=False,
            tab_behavior="indent",
            show_line_numbers=True,
            read_only=True,
            placeholder="Choose a file in the tree (enter) to edit it.",
            id=id,
            classes=classes,
        )
        self.indent_type = "spaces"
        self.indent_width = 2
        self._cursors: dict[str, tuple[int, int]] = {}

    def highlight_language(self, path: str) -> str | None:
        """The TextArea language for ``path`` if this environment can highlight it."""
        language = language_for(path)
        if language is None or not _tree_sitter_installed():
            return None
        return language if language in self.available_languages else None

    def show_file(self, path: str, text: str) -> None:
        """Load ``text`` as the content of ``path``, restoring the cursor from last time."""
        if self.path is not None:
            self._cursors[self.path] = self.cursor_location
        self.path = path
        language = self.highlight_language(path)
        try:
            self.language = language
        except LanguageDoesNotExist:
            self.language = None
        self.load_text(text)
        self.read_only = False
        self.indent_width = 4 if path.endswith((".py", "postBuild", "start")) else 2
        row, column = self._cursors.get(path, (0, 0))
        self.move_cursor((row, column), center=True)

    def replace_text(self, text: str) -> None:
        """Replace the content (e.g. after a revert or a change on disk), keeping the cursor."""
        location = self.cursor_location
        self.load_text(text)
        self.move_cursor(location, center=True)

    def jump_to(self, line: int, column: int = 1) -> None:
        """Put the cursor on 1-based ``line``/``column`` and scroll it into view."""
        row = max(0, min(line - 1, self.document.line_count - 1))
        line_text = self.document.get_line(row)
        col = max(0, min(column - 1, len(line_text)))
        self.move_cursor((row, col), center=True)

    @on(TextArea.Changed)
    def _changed(self, event: TextArea.Changed) -> None:
        event.stop()
        # load_text() posts Changed as well; the screen drops edits equal to the buffer.
        if self.path is not None:
            self.post_message(self.Edited(self, self.path, self.text))
