"""The TUI's own settings: colour theme and key remapping, from one small TOML file.

The file is ``$XDG_CONFIG_HOME/r2d-tui/tui.toml`` (``~/.config/r2d-tui/tui.toml``), or the
file ``$R2D_TUI_TUI_CONFIG`` names::

    theme = "textual-light"        # any Textual theme (ctrl+p, "Theme", lists them)

    [keymap]                       # command id = key(s), comma-separated
    build = "f6"
    show-diff = "ctrl+n,f10"

Command ids are the ``id`` of each command in :mod:`r2d_tui.app.commands` (the help
screen's key table is generated from the same declarations, so it shows remapped keys'
commands by their label). These are the looks and keys of the terminal app only; what
``r2d-tui check`` reports is configured per repository (``.r2d-tui.toml``). The tests
never read this file: they build the :class:`~r2d_tui.app.app.Session` without it.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from r2d_tui.app.commands import APP_COMMANDS, MAIN_COMMANDS

#: The settings the file may have.
KNOWN_KEYS = ("theme", "keymap")


class UISettingsError(Exception):
    """The settings file cannot be used; the message names the file (and line)."""


@dataclass(frozen=True)
class UISettings:
    """Theme and keymap for the TUI."""

    theme: str | None = None
    """Textual theme name (``None``: Textual's default, ``textual-dark``)."""
    keymap: dict[str, str] = field(default_factory=dict)
    """Command id -> key(s), for ``App.set_keymap``."""


def settings_path() -> Path:
    """Where the settings file is looked for."""
    override = os.environ.get("R2D_TUI_TUI_CONFIG")
    if override:
        return Path(override)
    home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(home) / "r2d-tui" / "tui.toml"


def load_settings(path: Path | None = None, themes: frozenset[str] | None = None) -> UISettings:
    """Read the settings file (a missing file means the defaults).

    ``themes`` are the valid theme names (checked when given). Raises
    :class:`UISettingsError` for a file that is not TOML, an unknown key, command id or
    theme, or a value of the wrong type.
    """
    path = path or settings_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return UISettings()
    except OSError as error:
        raise UISettingsError(f"{path}: cannot read: {error.strerror or error}") from error
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise UISettingsError(f"{path}: not UTF-8 text") from error
    except tomllib.TOMLDecodeError as error:
        raise UISettingsError(f"{path}: invalid TOML: {error}") from error
    unknown = sorted(set(data) - set(KNOWN_KEYS))
    if unknown:
        raise UISettingsError(
            f"{path}: unknown setting {unknown[0]!r} (known: {', '.join(KNOWN_KEYS)})"
        )
    theme = data.get("theme")
    if theme is not None and not isinstance(theme, str):
        raise UISettingsError(f"{path}: theme must be a string, like \"textual-light\"")
    if theme is not None and themes is not None and theme not in themes:
        raise UISettingsError(
            f"{path}: unknown theme {theme!r} (known: {', '.join(sorted(themes))})"
        )
    keymap = data.get("keymap", {})
    if not isinstance(keymap, dict):
        raise UISettingsError(f"{path}: keymap must be a table ([keymap])")
    ids = {command.id for command in (*MAIN_COMMANDS, *APP_COMMANDS)}
    for command_id, keys in keymap.items():
        if command_id not in ids:
            raise UISettingsError(
                f"{path}: keymap: unknown command {command_id!r} (known: {', '.join(sorted(ids))})"
            )
        if not isinstance(keys, str) or not keys.strip():
            raise UISettingsError(
                f"{path}: keymap: {command_id} must be a key name string, like \"f6\""
            )
    return UISettings(theme=theme, keymap=dict(keymap))
