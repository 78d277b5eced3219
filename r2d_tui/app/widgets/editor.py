"""The editor for one environment file at a time.

A ``TextArea`` in code-editor mode: line numbers, space indentation (YAML requires it),
and syntax highlighting where Textual has a
grammar for the file (``environment.yml`` → yaml, ``postBuild`` → bash, ``Pipfile`` →
toml…). The tab key moves to the next panel, as in every other panel, so it can never
silently indent a file (a stray indent breaks environment.yml). Highlighting needs the
optional tree-sitter packages (``textual[syntax]``); without
them, or for files with no grammar (``requirements.txt``, ``apt.txt``) the text is plain.

The editor does not know about the workspace: the screen loads text into it with
:meth:`EnvEditor.show_file` and receives every user edit as :class:`EnvEditor.Edited`,
which it writes into the workspace buffer and turns into a preview render.

Lines with findings are marked in the line-number gutter: the number takes the colour of
the worst finding's severity and the gutter shows its icon (``✗`` error, ``▲`` warning,
``i`` info), from the ``findings`` the screen binds in. The marks are drawn over the
``TextArea``'s own (cached) lines, so they change without re-rendering the text.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache
from typing import ClassVar

from rich.segment import Segment
from textual import on
from textual.binding import Binding, BindingType
from textual.geometry import Offset
from textual.message import Message
from textual.reactive import reactive, var
from textual.strip import Strip
from textual.widgets import TextArea
from textual.widgets.text_area import LanguageDoesNotExist

from r2d_tui.core.envfiles import language_for
from r2d_tui.core.findings import Finding, Severity

#: Gutter icon and component class of each severity (icons as in the problems table).
MARKS: dict[Severity, tuple[str, str]] = {
    Severity.ERROR: ("✗", "env-editor--mark-error"),
    Severity.WARNING: ("▲", "env-editor--mark-warning"),
    Severity.INFO: ("i", "env-editor--mark-info"),
}


@cache
def _tree_sitter_installed() -> bool:
    return importlib.util.find_spec("tree_sitter") is not None


def _location(text: str, index: int) -> tuple[int, int]:
    """The (row, column) of character ``index`` in ``\\n``-separated ``text``."""
    return text.count("\n", 0, index), index - (text.rfind("\n", 0, index) + 1)


class EnvEditor(TextArea):
    """Edits the text of one environment file; reports edits as :class:`Edited`."""

    HELP: ClassVar[str] = (
        "## Editor\n\n"
        "Edits are kept in memory and the Dockerfile preview follows them as you type; "
        "nothing is written until **ctrl+s**. The save is atomic and keeps the file's "
        "permissions (postBuild stays executable), line endings and encoding.\n\n"
        "**Tab** moves to the next panel, as everywhere in r2d-tui (indent with spaces). "
        "**ctrl+z / ctrl+y** undo and redo, **ctrl+r** reverts to the file on disk, "
        "**ctrl+home / ctrl+end** go to the start and the end of the file.\n\n"
        "Lines with problems are marked in the gutter: ✗ error, ▲ warning, i info. "
        "**ctrl+f** applies the machine fixes of this file's problems (line endings, "
        "byte-order mark, conda build strings, python=X.Y, apt.txt command lines)."
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        # TextArea has no document start/end keys; every other editor does
        Binding("ctrl+home", "document_start", "File start", show=False),
        Binding("ctrl+end", "document_end", "File end", show=False),
    ]

    DEFAULT_CSS = """
    EnvEditor {
        & .env-editor--mark-error { color: $text-error; text-style: bold; }
        & .env-editor--mark-warning { color: $text-warning; text-style: bold; }
        & .env-editor--mark-info { color: $text-primary; }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = TextArea.COMPONENT_CLASSES | {
        component for _icon, component in MARKS.values()
    }

    path: var[str | None] = var(None)
    """Repository-relative path of the file being edited."""
    findings: reactive[tuple[Finding, ...]] = reactive((), init=False)
    """The findings of the latest analysis (of every file); those of ``path`` are marked."""

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
            tab_behavior="focus",
            show_line_numbers=True,
            read_only=True,
            placeholder="Choose a file in the tree (enter) to edit it.",
            id=id,
            classes=classes,
        )
        self.indent_type = "spaces"
        self.indent_width = 2
        self._cursors: dict[str, tuple[int, int]] = {}
        self._loaded: tuple[str, str] | None = None
        """The text last loaded and the text shown for it, when the two differ."""
        self.faithful = True
        """The view holds the file's text exactly (else it is shown read-only)."""
        self.marks: dict[int, Severity] = {}
        """0-based line → the worst severity of the findings on it (in the open file)."""

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
        self._load(text)
        self.read_only = not self.faithful
        self.placeholder = "(empty file: type to start it)"
        self.indent_width = 4 if path.endswith((".py", "postBuild", "start")) else 2
        row, column = self._cursors.get(path, (0, 0))
        self.move_cursor((row, column), center=True)

    @property
    def read_only_note(self) -> str:
        """Why the open file is read-only (``""`` when it is not)."""
        if self.faithful:
            return ""
        return ("read-only: holds line separators the editor would change (form feed, "
                "U+2028, a lone CR); edit it in another editor")

    def close_file(self) -> None:
        """Show no file (the open one was deleted on disk): empty and read-only."""
        self.path = None
        self._load("")
        self.read_only = True

    def replace_text(self, text: str) -> None:
        """Replace the content (e.g. after a revert or a change on disk), keeping the cursor."""
        location = self.cursor_location
        self._load(text)
        if self.path is not None:
            self.read_only = not self.faithful
        self.move_cursor(location, center=True)

    def _load(self, text: str) -> None:
        """``load_text`` for workspace text, which may hold stray ``\\r\\n`` (a file with
        mostly LF line endings and a few CRLF ones).

        A ``TextArea`` cannot hold such text: it would join every line with ``\\r\\n``. So
        the editor shows the text with LF endings and, until the user changes something,
        reports the original text back, so that opening a file does not change it.
        """
        shown = text.replace("\r\n", "\n")
        self._loaded = (text, shown) if shown != text else None
        self.load_text(shown)
        # TextArea splits lines where str.splitlines() does: also on a form feed, a lone
        # \r, U+2028 and their kin, and writes them back as line breaks. Such a file would
        # change (a comment's tail becoming a requirement) on the first keystroke: it is
        # shown read-only instead (see :attr:`faithful`).
        self.faithful = self.text == shown
        if not self.faithful:
            self._loaded = (text, self.text)  # report the file's own text, not the view's
        self.border_subtitle = self.read_only_note

    def apply_text(self, text: str) -> None:
        """Change the content to ``text`` as one edit, so ``ctrl+z`` undoes it.

        Only the span that differs is replaced (the cursor stays where it was). Text the
        view cannot hold as it is (``\\r`` in it) is loaded instead, which clears the undo
        history.
        """
        if "\r" in text or self.document.newline != "\n":
            self.replace_text(text)
            return
        self._loaded = None
        old = self.text
        if old == text:
            return
        limit = min(len(old), len(text))
        prefix = 0
        while prefix < limit and old[prefix] == text[prefix]:
            prefix += 1
        suffix = 0
        while suffix < limit - prefix and old[-1 - suffix] == text[-1 - suffix]:
            suffix += 1
        start = _location(old, prefix)
        end = _location(old, len(old) - suffix)
        self.replace(text[prefix : len(text) - suffix], start, end)
        if self.text != text:
            self.replace_text(text)

    def action_document_start(self) -> None:
        self.move_cursor((0, 0))

    def action_document_end(self) -> None:
        self.move_cursor(self.document.end)

    def jump_to(self, line: int, column: int = 1) -> None:
        """Put the cursor on 1-based ``line``/``column`` and scroll it into view."""
        row = max(0, min(line - 1, self.document.line_count - 1))
        line_text = self.document.get_line(row)
        col = max(0, min(column - 1, len(line_text)))
        self.move_cursor((row, col), center=True)

    # -- finding marks ------------------------------------------------------------------------
    def watch_path(self) -> None:
        self._update_marks()

    def watch_findings(self) -> None:
        self._update_marks()

    def _update_marks(self) -> None:
        marks: dict[int, Severity] = {}
        for finding in self.findings:
            if finding.path != self.path or finding.line < 1:
                continue
            row = finding.line - 1
            worst = marks.get(row)
            if worst is None or finding.severity.rank < worst.rank:
                marks[row] = finding.severity
        if marks != self.marks:
            self.marks = marks
            self.refresh()

    def render_line(self, y: int) -> Strip:
        """The ``TextArea``'s line with the finding mark of its document line, if any."""
        strip = super().render_line(y)
        if not self.marks or not self.show_line_numbers or not self.text:
            return strip
        absolute_y = self.scroll_offset.y + y
        if absolute_y >= self.wrapped_document.height:
            return strip
        row, column = self.wrapped_document.offset_to_location(Offset(0, absolute_y))
        severity = self.marks.get(row)
        if severity is None or column != 0:
            return strip  # no finding, or the continuation of a wrapped line
        return self._mark_gutter(strip, severity)

    def _mark_gutter(self, strip: Strip, severity: Severity) -> Strip:
        """``strip`` with its gutter (``NN  ``) coloured and the severity icon after the
        number: ``NN✗ ``."""
        width = self.gutter_width
        if width < 3 or strip.cell_length < width:
            return strip
        gutter, body = strip.crop(0, width), strip.crop(width)
        segments = list(gutter)
        base = segments[0].style if segments and segments[0].style else None
        icon, component = MARKS[severity]
        mark_style = self.get_component_rich_style(component, partial=True)
        style = base + mark_style if base is not None else mark_style
        number = gutter.text[: width - 2]
        marked = Strip(
            [Segment(number, style), Segment(icon, style), Segment(" ", base)], width
        )
        return Strip.join([marked, body])

    def buffer_text(self) -> str:
        """The text to store in the workspace for what the editor shows now."""
        text = self.text
        if self._loaded is not None and text == self._loaded[1]:
            text = self._loaded[0]  # as loaded: keep the stray \r the view cannot show
        return text

    @on(TextArea.Changed)
    def _changed(self, event: TextArea.Changed) -> None:
        event.stop()
        # load_text() posts Changed as well; the screen drops edits equal to the buffer.
        if self.path is not None:
            self.post_message(self.Edited(self, self.path, self.buffer_text()))
