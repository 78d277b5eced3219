"""Pick the buildx builder builds run on (``docker buildx ls``), in a modal.

Each builder is listed with its driver and status (``default (docker, running) ←
current``); the first entry means "no ``--builder``", i.e. whatever ``docker buildx build``
uses by default. The list is read in a thread worker, so a slow or unreachable remote
builder never freezes the app. Dismisses with the chosen name, ``""`` for the default, or
``None`` when cancelled.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from r2d_tui.core.builders import BuilderInfo, BuildersError, list_builders

#: The option id of "no --builder".
DEFAULT_ID = "\0default"


class BuilderScreen(ModalScreen[str | None]):
    """Choose a buildx builder."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="builder-cancel"),
    ]

    HELP: ClassVar[str] = (
        "## Builders\n\n"
        "Builds run on a buildx builder: the engine's own (driver `docker`), a BuildKit "
        "container with its own memory limit (`docker-container`, created with "
        "`docker buildx create --driver docker-container --driver-opt memory=8g`), a "
        "Kubernetes cluster (`kubernetes`) or a remote BuildKit (`remote`). Enter picks one "
        "for the builds of this session; escape keeps the current choice."
    )

    def __init__(self, current: str | None) -> None:
        super().__init__()
        self.current = current
        self.builders: list[BuilderInfo] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="builder-dialog"):
            yield Static("Build with which builder?", id="builder-title")
            yield Static(Content.styled("reading docker buildx ls…", "dim"), id="builder-note")
            yield OptionList(id="builder-list")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self.load_builders()

    @work(thread=True, exclusive=True, group="builders", exit_on_error=False,
          description="docker buildx ls")
    def load_builders(self) -> None:
        try:
            builders = list_builders()
        except BuildersError as error:
            self.app.call_from_thread(self._show_error, str(error))
            return
        self.app.call_from_thread(self._show, builders)

    def _show_error(self, message: str) -> None:
        self.query_one("#builder-note", Static).update(
            Content.styled(f"{message}: builds use the default builder", "$text-error")
        )
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_option(Option("the default builder (no --builder)", id=DEFAULT_ID))

    def _show(self, builders: list[BuilderInfo]) -> None:
        self.builders = builders
        note = self.query_one("#builder-note", Static)
        chosen = self.current or ""
        note.update(Content.styled(
            f"now: {chosen or 'the default builder'} · {len(builders)} builder(s)", "dim"
        ))
        options = self.query_one(OptionList)
        options.clear_options()
        current = next((b.name for b in builders if b.current), "")
        options.add_option(Option(
            Content.assemble(("the default builder", "bold"),
                             (f" (no --builder: {current})" if current else " (no --builder)",
                              "dim")),
            id=DEFAULT_ID,
        ))
        for builder in builders:
            style = "" if builder.status in ("running", "inactive") else "$text-warning"
            options.add_option(Option(
                Content.assemble(
                    (builder.name, "bold"),
                    (f"  {builder.driver}", "$accent"),
                    (f"  {builder.status or 'unknown'}", style or "$text-muted"),
                    ("  ← current" if builder.current else "", "$text-muted"),
                    (f"  {builder.endpoint}" if builder.endpoint else "", "dim"),
                ),
                id=builder.name,
            ))
        ids = [DEFAULT_ID, *(b.name for b in builders)]
        options.highlighted = ids.index(chosen) if chosen in ids else 0

    @property
    def option_texts(self) -> list[str]:
        """The options as plain text, for tests."""
        options = self.query_one(OptionList)
        return [
            str(getattr(options.get_option_at_index(i).prompt, "plain",
                        options.get_option_at_index(i).prompt))
            for i in range(options.option_count)
        ]

    @on(OptionList.OptionSelected, "#builder-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        option_id = event.option.id
        self.dismiss("" if option_id in (None, DEFAULT_ID) else option_id)
