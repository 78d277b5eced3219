"""The Dockerfile repo2docker would generate, following the editor as the user types.

Read-only and highlighted with Pygments' Docker lexer (``textual.highlight``). A one-line
header says which buildpack produced it and whether unsaved edits are included; a notes
line carries repo2docker's own messages (for example "Python version unspecified") and
r2d-tui's (offline look-up placeholders).

When a render fails (broken YAML, an unknown Python version…) the header shows the
problem with its ``file:line`` and the last good Dockerfile stays visible, dimmed, so the
view does not jump around while the user is mid-edit.
"""

from __future__ import annotations

import difflib
from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import ScrollableContainer, Vertical
from textual.content import Content
from textual.highlight import highlight
from textual.reactive import reactive
from textual.widgets import Static

from r2d_tui.core.render import RenderResult
from r2d_tui.core.sources import Rebuild


def first_changed_column(saved: str | None, current: str, line: int) -> int:
    """0-based column where ``current``'s line ``line`` starts to differ from the matching
    saved line (0 for an inserted line), so the view can scroll to a change that sits at
    the end of a long line (a lock-file name, an apt package list)."""
    if saved is None:
        return 0
    new_lines = current.split("\n")
    matcher = difflib.SequenceMatcher(a=saved.split("\n"), b=new_lines, autojunk=False)
    old_lines = saved.split("\n")
    for tag, i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag == "replace" and j1 <= line < j2:
            old = old_lines[i1 + (line - j1)] if i1 + (line - j1) < len(old_lines) else ""
            new = new_lines[line]
            prefix = 0
            while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
                prefix += 1
            return prefix
    return 0


def changed_lines(saved: str | None, current: str) -> tuple[int, ...]:
    """0-based lines of ``current`` that are new or different compared with ``saved``."""
    if saved is None or saved == current:
        return ()
    new_lines = current.split("\n")
    matcher = difflib.SequenceMatcher(a=saved.split("\n"), b=new_lines, autojunk=False)
    changed: list[int] = []
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "insert"):
            changed.extend(range(j1, j2))
    return tuple(changed)


def mark_lines(content: Content, lines: tuple[int, ...]) -> Content:
    """``content`` with the given 0-based lines highlighted as changed."""
    if not lines:
        return content
    wanted = set(lines)
    offset = 0
    for number, line in enumerate(content.plain.split("\n")):
        if number in wanted:
            content = content.stylize("on $success 25%", offset, offset + len(line) + 1)
        offset += len(line) + 1
    return content


class DockerfilePreview(Vertical):
    """Header, notes and the highlighted Dockerfile text."""

    ALLOW_MAXIMIZE = True

    HELP: ClassVar[str] = (
        "## Dockerfile preview\n\n"
        "The exact Dockerfile repo2docker generates for this repository with the editor's "
        "unsaved edits applied (what `repo2docker --no-build` would print after a save). "
        "It updates as you type; lines your unsaved edits change are highlighted and "
        "scrolled into view, and the line under it says which build steps saving would "
        "rerun (BuildKit reruns the first step whose text or copied files change and every "
        "step after it). When repo2docker cannot render the files, the header shows "
        "the problem and the last good Dockerfile stays dimmed.\n\n"
        "**F3** shows it full screen."
    )

    result: reactive[RenderResult | None] = reactive(None, init=False)
    """The latest render."""
    dirty: reactive[tuple[str, ...]] = reactive((), init=False)
    """Files whose unsaved edits the render includes."""
    saved_text: reactive[str | None] = reactive(None, init=False)
    """The Dockerfile of the saved files (set while there are unsaved edits)."""
    rebuild: reactive[Rebuild | None] = reactive(None, init=False)
    """The steps saving the unsaved edits would rerun (set while there are unsaved edits)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._good_text: str | None = None
        self._changed: tuple[int, ...] = ()
        """0-based lines of the shown text that differ from the saved files' Dockerfile."""

    def compose(self) -> ComposeResult:
        # the Dockerfile first, so the panel reads like the file (it starts with FROM);
        # what produced it and repo2docker's notes sit underneath
        with ScrollableContainer(id="preview-scroll"):
            yield Static("", id="preview-body")
        yield Static(Content.styled("Rendering…", "dim"), id="preview-header")
        yield Static("", id="preview-notes")

    @property
    def text(self) -> str | None:
        """The Dockerfile shown (the last good one when the latest render failed)."""
        return self._good_text

    @property
    def stale(self) -> bool:
        """True when the text shown is not from the latest render."""
        return self.has_class("-stale")

    def watch_result(self) -> None:
        self._refresh_view()

    def watch_dirty(self) -> None:
        self._refresh_view()

    def watch_saved_text(self) -> None:
        self._refresh_view()

    def watch_rebuild(self) -> None:
        self._refresh_header()

    @property
    def header_text(self) -> str:
        """The header line(s) as plain text (for tests)."""
        return str(self.query_one("#preview-header", Static).content)

    def _refresh_view(self) -> None:
        result = self.result
        if result is None:
            return
        body = self.query_one("#preview-body", Static)
        if result.dockerfile is not None:
            changed = changed_lines(self.saved_text, result.dockerfile) if self.dirty else ()
            if result.dockerfile != self._good_text or changed != self._changed:
                self._good_text = result.dockerfile
                # repo2docker's text starts with an empty line: show it from the FROM line
                shown = result.dockerfile.lstrip("\n")
                skipped = len(result.dockerfile) - len(shown)
                shown_changed = tuple(n - skipped for n in changed if n >= skipped)
                body.update(mark_lines(highlight(shown, language="docker"), shown_changed))
                if shown_changed and changed != self._changed:
                    # bring what the edit changed into view
                    scroll = self.query_one("#preview-scroll", ScrollableContainer)
                    column = first_changed_column(self.saved_text, result.dockerfile, changed[0])
                    width = scroll.scrollable_content_region.width or 40
                    x = 0 if column < width - 4 else max(0, column - width // 2)
                    scroll.scroll_to(x=x, y=max(0, shown_changed[0] - 3), animate=False)
                self._changed = changed
            self.remove_class("-stale")
        else:
            self.add_class("-stale")
            if self._good_text is None:
                body.update(Content.styled("(no Dockerfile yet)", "dim"))
        self._refresh_header()

    def _refresh_header(self) -> None:
        result = self.result
        if result is None:
            return
        header = self.query_one("#preview-header", Static)
        notes = self.query_one("#preview-notes", Static)
        if result.problem is not None:
            where = result.problem.location
            header.update(
                Content.assemble(
                    ("✗ ", "bold $error"),
                    (f"{where}: " if where else "", "bold"),
                    (result.problem.message, "$text-error"),
                )
            )
        else:
            parts: list[tuple[str, str] | str] = [
                (result.buildpack or "?", "bold $accent"),
                " buildpack",
            ]
            if self.dirty:
                parts.append((" · unsaved edits included", "$warning"))
                if self._changed:
                    count = len(self._changed)
                    plural = "s" if count != 1 else ""
                    parts.append((f" · {count} line{plural} changed", "$success"))
                elif result.dockerfile is not None and self.saved_text == result.dockerfile:
                    parts.append((" · no change to the Dockerfile", "dim"))
                rebuild = self.rebuild
                if rebuild is not None:
                    parts += ["\n", ("⟳ ", "bold $warning"),
                              (rebuild.describe(), "$warning" if rebuild.reruns else "dim")]
            header.update(Content.assemble(*parts))
        lines = list(result.notes)
        if result.offline_placeholders:
            lines.insert(0, "offline: a network look-up used a placeholder")
        notes.update(Content("\n".join(f"note: {line}" for line in lines)))
        notes.display = bool(lines)
