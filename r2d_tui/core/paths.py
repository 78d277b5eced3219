"""Where r2d-tui keeps its own files (one definition for the look-up cache and contexts)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """r2d-tui's cache folder: ``$R2D_TUI_CACHE_DIR`` or ``$XDG_CACHE_HOME/r2d-tui``."""
    base = os.environ.get("R2D_TUI_CACHE_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "r2d-tui"
