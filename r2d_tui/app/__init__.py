"""The Textual front end of r2d-tui.

``run_app`` is the only entry point the CLI uses; it is imported only for the TUI command,
so the headless commands never load Textual.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from r2d_tui.core.prefetch import Prefetch
    from r2d_tui.core.render import RenderOptions

__all__ = ["run_app"]


def run_app(
    path: str,
    options: RenderOptions,
    *,
    builder: str | None,
    tag: str | None,
    watch: bool,
    editable: bool = False,
    test_on_build: bool = False,
    prefetch: Prefetch | None = None,
) -> int:
    """Run the TUI on the repository at ``path`` until the user quits.

    Returns the exit status: 0 after a normal quit, 1 when the app stopped on an error,
    2 when ``path`` is not a usable repository folder (the reason goes to stderr as
    ``r2d-tui: error: …``).
    """
    from textual.theme import BUILTIN_THEMES

    from r2d_tui.app.app import R2DApp, Session
    from r2d_tui.app.settings import UISettingsError, load_settings
    from r2d_tui.core.workspace import Workspace, WorkspaceError

    try:
        ui = load_settings(themes=frozenset(BUILTIN_THEMES))
    except UISettingsError as error:
        print(f"r2d-tui: error: {error}", file=sys.stderr)
        return 2

    try:
        workspace = Workspace(path, display_path=path)
    except WorkspaceError as error:
        print(f"r2d-tui: error: {error}", file=sys.stderr)
        return 2
    app = R2DApp(Session(
        workspace, options, builder=builder, tag=tag, watch=watch, editable=editable,
        test_on_build=test_on_build, ui=ui, prefetch=prefetch,
    ))
    result = app.run()
    if app.return_code:  # Textual sets 1 after an unhandled exception (it printed it)
        return 1
    return int(result or 0)
