"""The finding model shared by every check, the CLI's output formats and the TUI's panel.

A finding is one problem at one place: a stable ``code`` (for ``--select``/``--ignore``
and tools), a kebab-case ``name`` (what people type and read), a severity, the file and
1-based line and column, and a one-line message saying what repo2docker will actually do.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field


class Severity(enum.StrEnum):
    """How bad a finding is; ``error`` means the build breaks or silently does the wrong thing."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True, order=False)
class Finding:
    """One problem found in a repository."""

    code: str
    name: str
    severity: Severity
    path: str
    line: int
    column: int
    message: str
    chain: tuple[str, ...] = field(default=())
    """How build-time code reaches this place, e.g. ``("postBuild", "scripts/setup.sh:12")``."""
    fix: str | None = None
    """A one-line suggested fix."""

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["severity"] = self.severity.value
        data["chain"] = list(self.chain)
        return data

    def sort_key(self) -> tuple[str, int, int, int, str]:
        return (self.path, self.line, self.column, self.severity.rank, self.code)

    def format_text(self) -> str:
        """``path:line:col: CODE [name] message`` (the ``text`` output format)."""
        return f"{self.path}:{self.line}:{self.column}: {self.code} [{self.name}] {self.message}"
