"""One line of state above the footer: buildpack, engine, watch mode, last build.

Everything here is bound from the main screen's reactives; the bar has no logic beyond
formatting, so it can never disagree with what the panels show. Why repo2docker picked
the buildpack is the bar's tooltip (hover) and, on a click or F12, a notification
(:func:`buildpack_reason`).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from r2d_tui.core.detection import Detection


def buildpack_reason(detection: Detection | None) -> str:
    """Why repo2docker picks this buildpack, in a sentence or three."""
    if detection is None:
        return "Still detecting which buildpack repo2docker will use."
    if detection.error or detection.buildpack is None:
        return f"repo2docker cannot use this repository: {detection.error or 'unknown reason'}"
    where = f"the {detection.config_dir}/ folder" if detection.config_dir else "the root"
    if detection.deciding_files:
        files = ", ".join(detection.deciding_files)
        text = f"{detection.buildpack} buildpack because of {files} (configuration in {where})."
    else:
        text = (f"{detection.buildpack} buildpack: repo2docker's default, no file picks "
                f"another one (configuration in {where}).")
    also = [path for path in detection.used_files if path not in detection.deciding_files]
    if also:
        text += f" Also read: {', '.join(also)}."
    for ignored in detection.ignored:
        text += f" Ignored: {ignored.path} ({ignored.reason})."
    return text


class StatusBar(Widget):
    """``repo · buildpack · engine · watch · last build``."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        background: $panel;
        color: $text;
        padding: 0 1;
    }
    """

    repo: reactive[str] = reactive("")
    """Name of the repository folder."""
    buildpack: reactive[str | None] = reactive(None)
    """The buildpack repo2docker picks (``None`` while detecting or when it fails)."""
    render_failed: reactive[bool] = reactive(False)
    """True when repo2docker cannot render the current files."""
    engine: reactive[str] = reactive("engine: checking…")
    """Container engine state, one short phrase."""
    engine_ready: reactive[bool | None] = reactive(None)
    """True/False once probed; ``None`` while checking."""
    watching: reactive[bool] = reactive(False)
    """Build on save."""
    building: reactive[bool] = reactive(False)
    """A build is running."""
    last_build: reactive[str] = reactive("")
    """Outcome of the last build (``✓ 12.3s · 5/7 cached``, ``✗ failed``…)."""
    dirty_count: reactive[int] = reactive(0)
    """Number of files with unsaved edits."""
    detection: reactive[Detection | None] = reactive(None)
    """The latest detection (explains the buildpack in the tooltip)."""

    @dataclass
    class WhyRequested(Message):
        """The user clicked the bar: explain the buildpack."""

    def watch_detection(self, detection: Detection | None) -> None:
        self.tooltip = buildpack_reason(detection) + "\n(click or F12: explain)"

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.WhyRequested())

    def render(self) -> Content:
        sep = (" │ ", "$text-muted")
        parts: list[tuple[str, str] | str] = [(self.repo, "bold")]
        parts.append(sep)
        if self.render_failed:
            parts.append(("✗ cannot render", "$text-error"))
        elif self.buildpack:
            parts += [(self.buildpack, "bold $text-accent"), " buildpack"]
        else:
            parts.append(("detecting…", "$text-muted"))
        if self.dirty_count:
            parts += [sep, (f"● {self.dirty_count} unsaved", "$text-warning")]
        parts.append(sep)
        engine_style = (
            "$text-muted" if self.engine_ready is None
            else "$text-success" if self.engine_ready else "$text-error"
        )
        parts.append((self.engine, engine_style))
        parts.append(sep)
        parts.append(("watch: on", "bold $text-success") if self.watching else "watch: off")
        if self.building:
            parts += [sep, ("building…", "bold $text-warning")]
        elif self.last_build:
            style = "$text-error" if self.last_build.startswith("✗") else "$text-success"
            if self.last_build.startswith("⊘"):
                style = "$text-muted"
            parts += [sep, ("last build ", "$text-muted"), (self.last_build, style)]
        return Content.assemble(*parts)
