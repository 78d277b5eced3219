"""Every user command, declared once: key, footer label, help text and a stable id.

The same table produces the screen's ``BINDINGS`` (with ``id=`` so keys can be remapped
with ``App.set_keymap`` and ``tooltip=`` for the footer), the command palette entries and
the key table of the F1 help screen, so the three can never disagree (the
textual-enhanced/braindrop ``Command`` idea, as plain data).

Keys avoid what the editor (``TextArea``) consumes: ``ctrl+a/e/w/d/x/c/v/u/k/z/y``,
``f6``/``f7``; ``ctrl+h/i/m``, which terminals send as backspace/tab/enter; and
``shift+f3``, which xterm-style terminals send as ``ESC [1;2R``, the same bytes as a
cursor-position report, so Textual never sees the key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from r2d_tui.core.envfiles import ENV_FILE_KINDS


@dataclass(frozen=True)
class Command:
    """One user command."""

    id: str
    """Stable name for keymaps (``App.set_keymap({"build": "f5"})``)."""
    key: str
    """Default key(s), comma-separated."""
    action: str
    """Action run on the main screen (``app.`` prefix for app actions)."""
    label: str
    """Short footer label."""
    help: str
    """One sentence: footer tooltip, palette help and help-screen text."""
    show: bool = True
    """Shown in the footer."""
    key_display: str | None = None
    priority: bool = False
    """Checked before the focused widget's own keys."""
    palette: bool = True
    """Offered in the command palette."""

    def binding(self) -> Binding:
        return Binding(
            self.key,
            self.action,
            self.label,
            show=self.show,
            key_display=self.key_display,
            priority=self.priority,
            tooltip=self.help,
            id=self.id,
        )


#: The main screen's commands, in footer order.
MAIN_COMMANDS: tuple[Command, ...] = (
    Command(
        "save", "ctrl+s", "save", "Save",
        "Save the open file atomically (keeps its mode, line endings and encoding); "
        "with watch on, build afterwards.",
        priority=True,
    ),
    Command(
        "build", "ctrl+b", "build", "Build",
        "Build the image now with docker buildx (a running build is cancelled first).",
        priority=True,
    ),
    Command("cancel-build", "f4", "cancel_build", "Cancel", "Cancel the running build."),
    Command(
        "cancel-build-escape", "escape", "cancel_build", "Cancel",
        "Cancel the running build (when the editor is not focused).",
        show=False, palette=False,
    ),
    Command(
        "toggle-watch", "f2", "toggle_watch", "Watch",
        "Build on save on/off (also rebuilds when environment files change on disk).",
    ),
    Command(
        "pick-builder", "ctrl+t", "pick_builder", "Builder",
        "Choose the buildx builder builds run on (docker buildx ls: each builder's driver "
        "and status); the default is the current builder.",
        show=False,
    ),
    Command(
        "toggle-files", "f11", "toggle_files", "Files",
        "Show or hide the file tree (it folds away by itself below 100 columns).",
        show=False,
    ),
    Command(
        "show-preview", "f3", "show_preview", "Dockerfile",
        "Show the generated Dockerfile full screen (press again, or escape, to restore).",
    ),
    Command(
        "show-diff", "f10", "show_diff", "Diff",
        "Show what the current files (unsaved edits included) change in the Dockerfile "
        "since the last successful build; before the first build, since the saved files.",
    ),
    Command(
        "why-buildpack", "f12", "why_buildpack", "Why",
        "Say why repo2docker picks this buildpack, which files it reads and which it "
        "ignores (also: hover over or click the status bar).",
        show=False,
    ),
    Command(
        "fix", "ctrl+f", "fix", "Fix",
        "Apply the machine fix of the selected problem (or of every fixable problem in the "
        "open file) to the editor; ctrl+s saves it, ctrl+z undoes a text fix.",
    ),
    Command(
        "run", "f5", "run_server", "Run",
        "Build, then run the image as repo2docker does (127.0.0.1, with a token); the Run "
        "tab shows the URL and the server's log. A running server is replaced.",
    ),
    Command(
        "stop", "shift+f5", "stop_server", "Stop",
        "Stop the server and cancel a running test; their containers are removed.",
    ),
    Command(
        "test", "f9", "test_image", "Test",
        "Build, then run verify and image-tests/ inside the image; the Tests tab shows each "
        "test with its output.",
    ),
    Command(
        "toggle-test-on-build", "shift+f9", "toggle_test_on_build", "Test on build",
        "Test the image after every successful build on/off (with watch: after every save).",
        show=False,
    ),
    Command(
        "open-url", "ctrl+o", "open_url", "Open",
        "Open the running server's URL in a web browser.", show=False,
    ),
    Command(
        "copy-url", "ctrl+l", "copy_url", "Copy URL",
        "Copy the running server's URL (with its token) to the clipboard.", show=False,
    ),
    Command(
        "toggle-editable", "ctrl+g", "toggle_editable", "Editable",
        "Editable runs on/off: mount the repository in the container (repo2docker "
        "--editable), so notebooks saved in Jupyter land on disk.", show=False,
    ),
    Command(
        "next-finding", "f8", "next_finding", "Next problem",
        "Jump to the next problem in the diagnostics list.", show=False,
    ),
    Command(
        "previous-finding", "shift+f8", "previous_finding", "Previous problem",
        "Jump to the previous problem in the diagnostics list.", show=False,
    ),
    Command(
        "revert", "ctrl+r", "revert", "Revert",
        "Drop the unsaved edits of the open file and reload it from disk.", show=False,
    ),
)

#: App-wide commands (the help screen and quit live on the app).
APP_COMMANDS: tuple[Command, ...] = (
    Command("help", "f1", "help", "Help", "Keys, panels and what the markers mean.",
            palette=False),  # the palette has Textual's own "Help"-style system entries
    Command(
        "toggle-theme", "ctrl+n", "toggle_theme", "Light/dark",
        "Switch between the light and the dark theme (ctrl+p, Theme, lists every theme; "
        "theme in tui.toml sets the one to start with).", show=False,
    ),
    Command("quit", "ctrl+q", "quit", "Quit",
            "Quit (asks again when there are unsaved edits).", show=False, priority=True,
            palette=False),  # Textual's system commands have Quit
)


def bindings(commands: Iterable[Command]) -> list[Binding]:
    """``BINDINGS`` for a class from command declarations."""
    return [command.binding() for command in commands]


def key_table(commands: Iterable[Command], keymap: Mapping[str, str] | None = None) -> str:
    """A Markdown table of keys and what they do (for the help screen); ``keymap``
    (command id -> keys) gives the keys the user remapped."""
    rows = ["| Key | Command | What it does |", "|---|---|---|"]
    for command in commands:
        declared = (keymap or {}).get(command.id, command.key)
        keys = ", ".join(_key_name(key) for key in declared.split(","))
        rows.append(f"| `{keys}` | {command.label} | {command.help} |")
    return "\n".join(rows)


def command_key(command_id: str, commands: Iterable[Command] = MAIN_COMMANDS) -> str:
    """How the help and hints name the (first) key of command ``command_id`` (``Ctrl+F``)."""
    for command in commands:
        if command.id == command_id:
            return _key_name(command.key.split(",")[0])
    raise KeyError(command_id)


def _key_name(key: str) -> str:
    return "+".join(part.capitalize() if len(part) > 1 else part.upper()
                    for part in key.strip().split("+"))


def new_file_candidates(config_dir: str, existing: Iterable[str]) -> list[str]:
    """Environment files that could be created in ``config_dir`` and do not exist yet."""
    present = set(existing)
    prefix = f"{config_dir}/" if config_dir else ""
    out: list[str] = []
    for kind in ENV_FILE_KINDS:
        if config_dir and kind.name in ("setup.py", "pyproject.toml"):
            continue
        rel = prefix + kind.name
        if rel not in present:
            out.append(rel)
    return out


class R2DCommands(Provider):
    """Palette entries: the commands above, ``open: <file>`` and ``new: <file>``."""

    def _entries(self) -> list[tuple[str, str, Callable[[], object]]]:
        from r2d_tui.app.screens.main import MainScreen

        screen = self.screen
        if not isinstance(screen, MainScreen):
            return []
        entries: list[tuple[str, str, Callable[[], object]]] = []
        for command in MAIN_COMMANDS:
            if command.palette:
                entries.append(
                    (command.label, command.help, partial(screen.run_action, command.action))
                )
        for command in APP_COMMANDS:
            if command.palette:
                entries.append((command.label, command.help,
                                partial(screen.run_action, f"app.{command.action}")))
        for path in screen.files:
            entries.append((f"open: {path}", "Open in the editor", partial(screen.open_file, path)))
        # New files go where repo2docker reads configuration now (root, binder/ or .binder/).
        config_dir = screen.detection.config_dir if screen.detection else ""
        for path in new_file_candidates(config_dir, screen.files):
            entries.append((
                f"new: {path}",
                "Start a new environment file from a template (written on save)",
                partial(screen.new_file, path),
            ))
        return entries

    async def discover(self) -> Hits:
        for text, help_text, callback in self._entries():
            if text.startswith("new: "):
                continue
            yield DiscoveryHit(text, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_text, callback in self._entries():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback, text=text, help=help_text)
