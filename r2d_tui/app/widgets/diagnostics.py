"""The findings of the checks, one row each, with a jump to the place they point at.

Rows show severity, ``file:line``, the rule name and the message. Selecting a row (enter
or click) posts :class:`DiagnosticsTable.JumpTo`; the screen opens the file and moves the
editor cursor there. F1 on the table shows the selected rule's explanation (the help
screen asks :meth:`DiagnosticsTable.context_help`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Static

from r2d_tui.core.checks import find_rule
from r2d_tui.core.findings import Finding, Severity

SEVERITY_ICONS: dict[Severity, tuple[str, str]] = {
    Severity.ERROR: ("✗", "bold red"),
    Severity.WARNING: ("▲", "bold yellow"),
    Severity.INFO: ("i", "bold blue"),
}


class DiagnosticsTable(DataTable[Text]):
    """Findings as a table; enter jumps to the finding in the editor.

    | Key | Description |
    | :- | :- |
    | enter | Open the file at the finding's line. |
    | f1 | Explain the selected rule. |
    """

    HELP: ClassVar[str] = (
        "## Problems\n\n"
        "What the checks found in the environment files, unsaved edits included. "
        "**Enter** opens the file at the problem's line; **F8 / shift+F8** jump to the "
        "next / previous problem from anywhere."
    )

    findings: reactive[tuple[Finding, ...]] = reactive((), init=False)
    """The findings to show, sorted by place."""

    @dataclass
    class FindingHighlighted(Message):
        """The cursor moved to ``finding`` (``None``: the table is empty)."""

        table: DiagnosticsTable
        finding: Finding | None

        @property
        def control(self) -> DiagnosticsTable:
            return self.table

    @dataclass
    class JumpTo(Message):
        """Open ``finding.path`` at its line and column."""

        table: DiagnosticsTable
        finding: Finding

        @property
        def control(self) -> DiagnosticsTable:
            return self.table

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(
            id=id, classes=classes, cursor_type="row", zebra_stripes=True, show_cursor=True
        )

    def on_mount(self) -> None:
        self.add_column(Text(" "), key="severity", width=1)
        self.add_column(Text("Location"), key="location")
        self.add_column(Text("Rule"), key="rule")
        self.add_column(Text("Message"), key="message")

    def watch_findings(self) -> None:
        row = self.cursor_row
        self.clear()
        for index, finding in enumerate(self.findings):
            icon, style = SEVERITY_ICONS.get(finding.severity, ("?", ""))
            self.add_row(
                Text(icon, style=style),
                Text(f"{finding.path}:{finding.line}:{finding.column}", style="bold"),
                Text(finding.name, style="dim"),
                Text(finding.message),
                key=str(index),
            )
        if self.findings:
            self.move_cursor(row=min(row, len(self.findings) - 1))
        else:
            self.post_message(self.FindingHighlighted(self, None))

    @property
    def selected(self) -> Finding | None:
        """The finding under the cursor."""
        if not self.findings or not 0 <= self.cursor_row < len(self.findings):
            return None
        return self.findings[self.cursor_row]

    def select_index(self, index: int) -> Finding | None:
        """Move the cursor to row ``index`` (wrapping) and return its finding."""
        if not self.findings:
            return None
        index %= len(self.findings)
        self.move_cursor(row=index)
        return self.findings[index]

    def context_help(self) -> str | None:
        """Markdown explaining the selected finding's rule (for the F1 help screen)."""
        finding = self.selected
        if finding is None:
            return None
        rule = find_rule(finding.code)
        lines = [
            f"## {finding.code} `{finding.name}`",
            "",
            f"**{finding.path}:{finding.line}:{finding.column}**: {finding.message}",
            "",
        ]
        if finding.chain:
            lines += ["Reached through: " + " → ".join(finding.chain), ""]
        if finding.fix:
            lines += [f"**Fix:** {finding.fix}", ""]
        if rule is not None:
            lines += [rule.explanation, ""]
        return "\n".join(lines)

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(self.FindingHighlighted(self, self.selected))

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        finding = self.selected
        if finding is not None:
            self.post_message(self.JumpTo(self, finding))


class FindingDetail(Static):
    """The whole message of the selected finding, its fix and how it is reached."""

    finding: reactive[Finding | None] = reactive(None)
    """The finding under the diagnostics cursor."""
    analysed: reactive[bool] = reactive(False)
    """False until the first analysis finished (so "no problems" is not said too early)."""
    fix_hint: reactive[str | None] = reactive(None)
    """How to apply the finding's machine fix (``press Ctrl+F to …``), if it has one."""

    def watch_finding(self) -> None:
        self._show()

    def watch_fix_hint(self) -> None:
        self._show()

    def watch_analysed(self) -> None:
        self._show()

    def _show(self) -> None:
        finding = self.finding
        if finding is None:
            if self.analysed:
                self.update(Content.styled("✓ No problems found.", "$text-success"))
            else:
                self.update(Content.styled("Checking…", "$text-muted"))
            return
        icon, _style = SEVERITY_ICONS.get(finding.severity, ("?", ""))
        parts: list[tuple[str, str] | str] = [
            (f"{icon} {finding.code} ", "bold"),
            (f"{finding.path}:{finding.line}:{finding.column} ", "bold"),
            finding.message,
        ]
        if finding.fix:
            parts += [("  Fix: ", "bold $text-success"), finding.fix]
        if self.fix_hint:
            parts += [("  fixable: ", "bold $text-success"), self.fix_hint]
        if finding.chain:
            parts += [("  via ", "$text-muted"), (" → ".join(finding.chain), "$text-muted")]
        parts.append(("  (F1 explains)", "$text-muted"))
        self.update(Content.assemble(*parts))
