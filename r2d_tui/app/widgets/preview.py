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

from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import ScrollableContainer, Vertical
from textual.content import Content
from textual.highlight import highlight
from textual.reactive import reactive
from textual.widgets import Static

from r2d_tui.core.render import RenderProblem, RenderResult


def problem_location(problem: RenderProblem) -> str:
    """``file:line:col`` of a render problem, as far as it is known."""
    if problem.path is None:
        return ""
    where = problem.path
    if problem.line is not None:
        where += f":{problem.line}"
        if problem.column is not None:
            where += f":{problem.column}"
    return where


class DockerfilePreview(Vertical):
    """Header, notes and the highlighted Dockerfile text."""

    ALLOW_MAXIMIZE = True

    HELP: ClassVar[str] = (
        "## Dockerfile preview\n\n"
        "The exact Dockerfile repo2docker generates for this repository with the editor's "
        "unsaved edits applied (what `repo2docker --no-build` would print after a save). "
        "It updates as you type. When repo2docker cannot render the files, the header shows "
        "the problem and the last good Dockerfile stays dimmed.\n\n"
        "**F3** shows it full screen."
    )

    result: reactive[RenderResult | None] = reactive(None, init=False)
    """The latest render."""
    dirty: reactive[tuple[str, ...]] = reactive((), init=False)
    """Files whose unsaved edits the render includes."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._good_text: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(Content.styled("Rendering…", "dim"), id="preview-header")
        yield Static("", id="preview-notes")
        with ScrollableContainer(id="preview-scroll"):
            yield Static("", id="preview-body")

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
        self._refresh_header()

    def _refresh_view(self) -> None:
        result = self.result
        if result is None:
            return
        body = self.query_one("#preview-body", Static)
        if result.dockerfile is not None:
            if result.dockerfile != self._good_text:
                self._good_text = result.dockerfile
                body.update(highlight(result.dockerfile, language="docker"))
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
            where = problem_location(result.problem)
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
            header.update(Content.assemble(*parts))
        lines = list(result.notes)
        if result.offline_placeholders:
            lines.insert(0, "offline: a network look-up used a placeholder")
        notes.update(Content("\n".join(f"note: {line}" for line in lines)))
        notes.display = bool(lines)
