"""The Dockerfile diff: what the current files change in the image, against the last build.

"Current" is what the next build would build: the files with the editor's unsaved edits
applied, rendered with the build's options (:func:`~r2d_tui.core.render.options_for_build`,
so running as root does not show a user-id difference that no build would have). "Last
built" is the Dockerfile of the last *successful* build of this session. Before there is
one, the diff compares with the Dockerfile of the files as saved on disk instead, and the
title says so; that still answers the everyday question "what does this unsaved edit
change?". Earlier sessions are not consulted: an image on disk does not record which
Dockerfile made it, and guessing would be worse than saying there is no build yet.

The screen is a snapshot taken when it opens (F10 again, or escape, closes it).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static


@dataclass(frozen=True)
class DockerfileComparison:
    """The two Dockerfiles the diff screen compares, and what they are."""

    before: str | None
    """The last built Dockerfile (or the saved files' one); ``None`` when it cannot render."""
    after: str | None
    """The Dockerfile the next build would build; ``None`` when it cannot render."""
    before_label: str
    after_label: str
    built: bool
    """True when ``before`` is from a build of this session (not the saved files)."""
    problem: str | None = None
    """Why one side could not be rendered."""


def diff_lines(before: str, after: str, context: int = 3) -> list[str]:
    """A unified diff between two Dockerfiles, without the ``---``/``+++`` file header."""
    lines = difflib.unified_diff(
        before.lstrip("\n").splitlines(), after.lstrip("\n").splitlines(),
        lineterm="", n=context,
    )
    return [line for line in lines if not line.startswith(("---", "+++"))]


def styled_diff(lines: list[str]) -> Content:
    """The diff lines coloured: added green, removed red, hunk headers dim."""
    parts: list[tuple[str, str] | str] = []
    for line in lines:
        if line.startswith("@@"):
            style = "$text-muted"
        elif line.startswith("+"):
            style = "$text-success on $success 15%"
        elif line.startswith("-"):
            style = "$text-error on $error 15%"
        else:
            style = ""
        parts += [(line, style), "\n"]
    return Content.assemble(*parts)


class DiffScreen(ModalScreen[None]):
    """The unified diff between the last built Dockerfile and the current one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f10,q", "dismiss", "Close", id="diff-close"),
    ]

    HELP: ClassVar[str] = (
        "## Dockerfile diff\n\n"
        "What the current files (unsaved edits included) change in the generated "
        "Dockerfile compared with the last successful build of this session: `+` lines "
        "are new, `-` lines go away. BuildKit reruns the first changed step and every step "
        "after it. Before the first build the comparison is with the files as saved on "
        "disk, and the title says so. **F10** or **escape** closes it."
    )

    def __init__(self, comparison: DockerfileComparison) -> None:
        super().__init__()
        self.comparison = comparison
        self.lines: list[str] = []
        """The diff lines shown (empty when the two are the same or one cannot render)."""
        if comparison.before is not None and comparison.after is not None:
            self.lines = diff_lines(comparison.before, comparison.after)

    @property
    def summary(self) -> str:
        """The line under the title, as plain text."""
        c = self.comparison
        if c.problem is not None:
            return f"Cannot compare: {c.problem}"
        if not self.lines:
            return "No difference: the Dockerfile is the same."
        added = sum(1 for line in self.lines if line.startswith("+"))
        removed = sum(1 for line in self.lines if line.startswith("-"))
        return f"{added} line{'s' * (added != 1)} added, {removed} removed"

    def compose(self) -> ComposeResult:
        c = self.comparison
        with Vertical(id="diff-dialog"):
            yield Static(
                Content.assemble(
                    ("Dockerfile diff · ", "bold"),
                    ("- ", "bold $text-error"), (c.before_label, ""),
                    ("  + ", "bold $text-success"), (c.after_label, ""),
                ),
                id="diff-title",
            )
            if not c.built:
                yield Static(
                    Content.styled(
                        "No build yet in this session: comparing with the files as saved "
                        "on disk (ctrl+b builds).", "$text-warning",
                    ),
                    id="diff-note",
                )
            yield Static(Content.styled(self.summary, "bold"), id="diff-summary")
            with VerticalScroll(id="diff-scroll"):
                yield Static(styled_diff(self.lines), id="diff-body")
            yield Static(Content.styled("escape or F10 closes", "$text-muted"),
                         id="diff-hint")

    def on_mount(self) -> None:
        self.query_one("#diff-scroll").focus()
