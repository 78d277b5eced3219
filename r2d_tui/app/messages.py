"""Messages that cross the app: what the background workers report back to the screen.

Widget-specific messages (a file picked in the tree, a finding chosen in the diagnostics
table) are nested in the widget that posts them. The messages here are posted by the main
screen's workers when a job finishes, so that the screen updates its reactive state in one
place (on the event loop) and tests can watch the flow with ``run_test(message_hook=...)``.
Every message is a small dataclass carrying core objects, never widgets, and does not
bubble: it is posted straight to the screen that handles it.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from r2d_tui.core.build import BuildResult, EngineStatus
from r2d_tui.core.detection import Detection
from r2d_tui.core.findings import Finding
from r2d_tui.core.render import RenderResult
from r2d_tui.core.sources import Rebuild


@dataclass
class PreviewRendered(Message, bubble=False):
    """A render of the workspace (unsaved buffers included) finished."""

    result: RenderResult
    """What repo2docker generated, or why it could not."""
    dirty: tuple[str, ...]
    """The files whose unsaved edits this render included."""
    saved_dockerfile: str | None = None
    """The Dockerfile of the files as saved on disk (only when ``dirty``), to show what the
    unsaved edits change."""
    rebuild: Rebuild | None = None
    """The steps a build after saving would rerun (only when ``dirty``)."""


@dataclass
class Analysed(Message, bubble=False):
    """Detection and checks over the workspace finished."""

    detection: Detection
    """Buildpack, deciding files and ignored files (with reasons)."""
    findings: tuple[Finding, ...]
    """Every finding, sorted by place."""


@dataclass
class FileSaved(Message, bubble=False):
    """A buffer was written to disk."""

    path: str
    """Repository-relative path of the saved file."""


@dataclass
class SaveFailed(Message, bubble=False):
    """A save failed; the buffer stays dirty."""

    path: str
    """Repository-relative path of the file."""
    error: str
    """The user-facing reason (from ``WorkspaceError``)."""


@dataclass
class EngineProbed(Message, bubble=False):
    """The container engine was asked whether it can build."""

    status: EngineStatus
    """CLI, buildx and daemon versions, or the first problem found."""


@dataclass
class BuildEnded(Message, bubble=False):
    """A build finished (successfully or not) or was cancelled."""

    number: int
    """The build panel's number for this build."""
    result: BuildResult | None
    """The outcome; ``None`` when the build was cancelled."""
    reason: str
    """What started it (``ctrl+b``, ``saved environment.yml``…)."""


@dataclass
class FilesChanged(Message, bubble=False):
    """Files changed on disk, outside the editor, in ways that can affect the image."""

    paths: frozenset[str]
    """Repository-relative paths that changed."""
