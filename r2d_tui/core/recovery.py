"""Unsaved edits survive a crash: a journal of the dirty buffers of each repository.

Saves are atomic, so a crash never damages a file; but what was typed and not saved lived
only in memory. The TUI writes the text of every dirty buffer to a journal shortly after
each edit (``$R2D_TUI_CACHE_DIR/recovery/<sha256(repository)[:16]>/buffers.json``,
readable by the user only, written atomically like a save), removes it once nothing is
unsaved and when the user quits on purpose, and offers the buffers again when it next
opens the repository and finds a journal left behind (a crash, a kill, a closed
terminal). Restored text comes back as unsaved edits: nothing is written to the
repository until the user saves.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

from r2d_tui.core.paths import cache_dir
from r2d_tui.core.workspace import Workspace, WorkspaceError, atomic_write

JOURNAL_NAME = "buffers.json"
JOURNAL_VERSION = 1


def journal_path(root: Path) -> Path:
    """Where the journal of the repository at ``root`` lives."""
    digest = hashlib.sha256(os.fsencode(Path(root).resolve())).hexdigest()[:16]
    return cache_dir() / "recovery" / digest / JOURNAL_NAME


def write_journal(workspace: Workspace) -> Path | None:
    """Journal the dirty buffers of ``workspace`` (or remove the journal when there are
    none). Returns the journal's path, or ``None`` when nothing is unsaved.

    Raises:
        OSError: the journal could not be written (the caller reports it; the buffers
            are untouched).
    """
    unsaved = workspace.overrides()
    path = journal_path(workspace.root)
    if not unsaved:
        discard_journal(workspace.root)
        return None
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = {"version": JOURNAL_VERSION, "root": str(workspace.root), "buffers": unsaved}
    atomic_write(path, json.dumps(data, ensure_ascii=False).encode("utf-8"))
    os.chmod(path, 0o600)
    return path


def read_journal(root: Path) -> dict[str, str]:
    """The unsaved texts a previous session left for ``root`` (path → text); empty when
    there is no journal or it is unreadable (an unreadable one is removed)."""
    path = journal_path(root)
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        discard_journal(root)
        return {}
    buffers = data.get("buffers") if isinstance(data, dict) else None
    if not isinstance(buffers, dict) or data.get("version") != JOURNAL_VERSION:
        discard_journal(root)
        return {}
    return {rel: text for rel, text in buffers.items()
            if isinstance(rel, str) and isinstance(text, str) and _inside(rel)}


def _inside(rel: str) -> bool:
    """A journal names repository-relative paths only (never ``/x`` or ``../x``)."""
    parts = Path(rel).parts
    return bool(parts) and not Path(rel).is_absolute() and ".." not in parts


def restore_journal(workspace: Workspace, buffers: dict[str, str]) -> list[str]:
    """Put journaled texts back into ``workspace`` as unsaved edits; returns the paths
    whose text differs from the disk (the others are dropped)."""
    restored: list[str] = []
    for rel, text in sorted(buffers.items()):
        if workspace.text(rel) == text:
            continue
        try:
            workspace.set_text(rel, text)
        except WorkspaceError:
            continue  # the path is a folder or an unreadable file now: nothing to put back
        restored.append(rel)
    return restored


def discard_journal(root: Path) -> None:
    """Remove the journal of ``root`` (nothing to recover)."""
    with contextlib.suppress(OSError):
        journal_path(root).unlink()
