"""The repository on disk plus the editor's unsaved buffers.

Everything that reads environment files goes through a :class:`Workspace`, so the preview,
the checks and the build all see the same text: the buffer when the user has unsaved
edits, the file on disk otherwise.

Files keep their on-disk format. :func:`decode` records the encoding, byte-order mark and
line ending of a file; buffers hold text with ``\\n`` line endings; :meth:`Workspace.save`
writes the text back in the recorded format, atomically (temp file in the same folder,
fsync, rename) and with the file's permission bits, so a save never leaves a half-written
file and postBuild keeps its executable bit.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import shutil
import stat
import tempfile
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from r2d_tui.core.envfiles import candidate_paths

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows: stale temp files are left there
    fcntl = None  # type: ignore[assignment]

#: Files larger than this are not loaded into an editor buffer.
MAX_EDITABLE_BYTES = 8 * 1024 * 1024


class WorkspaceError(Exception):
    """A problem with the repository or one of its files, worded for the user."""


class ExternalChangeError(WorkspaceError):
    """The file changed (or vanished) on disk after its buffer was loaded: saving would
    overwrite someone else's edit. Save with ``force=True`` to keep the buffer, or
    :meth:`Workspace.revert` to take the disk's version."""


@dataclass(frozen=True)
class TextFormat:
    """How a file's text is stored on disk, so a save can write it back the same way."""

    encoding: str = "utf-8"
    bom: bytes = b""
    newline: str = "\n"


@dataclass
class Buffer:
    """An editor buffer: the current text and the on-disk format to save it in."""

    text: str
    format: TextFormat
    disk_text: str | None
    """The text as last read from or written to disk (``None`` for a new file)."""
    disk_format: TextFormat | None = None
    """The on-disk format while :meth:`Workspace.set_format` has changed ``format`` and the
    change is not saved yet (``None``: ``format`` is the on-disk format)."""

    @property
    def dirty(self) -> bool:
        """Unsaved changes: the text, or the format (line endings, encoding, BOM)."""
        return self.text != self.disk_text or (
            self.disk_format is not None and self.format != self.disk_format
        )


_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode(data: bytes) -> tuple[str, TextFormat]:
    """Decode file bytes into ``\\n``-separated text and the format they were stored in.

    Raises:
        UnicodeDecodeError: the bytes are not text in a known encoding.
    """
    bom = b""
    encoding = "utf-8"
    for mark, name in _BOMS:
        if data.startswith(mark):
            bom, encoding = mark, name
            break
    text = data[len(bom) :].decode(encoding)
    if "\x00" in text:
        raise UnicodeDecodeError(encoding, data, 0, 1, "binary file (contains NUL bytes)")
    crlf = text.count("\r\n")
    lone_lf = text.count("\n") - crlf
    newline = "\r\n" if crlf and crlf >= lone_lf else "\n"
    if newline == "\r\n":
        text = text.replace("\r\n", "\n")
    return text, TextFormat(encoding=encoding, bom=bom, newline=newline)


def encode(text: str, fmt: TextFormat) -> bytes:
    """The bytes :func:`decode` would turn back into ``text`` with format ``fmt``."""
    if fmt.newline != "\n":
        text = text.replace("\n", fmt.newline)
    return fmt.bom + text.encode(fmt.encoding)


#: What :func:`tempfile.mkstemp` puts between the prefix and the suffix of its names.
_TEMP_INFIX = re.compile(r"[a-z0-9_]{8}")
TEMP_SUFFIX = ".r2d-tui.tmp"


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically, keeping its mode (and owner where allowed).

    The data goes to a temporary file in the same folder (``.NAME.XXXXXXXX.r2d-tui.tmp``),
    is fsynced, and is renamed over the target, so a crash leaves either the old or the new
    file. A symlink is written through to its target.

    A process killed outright (SIGKILL, power loss) while writing leaves its temporary
    file behind. The writer holds an exclusive ``flock`` on its temporary file, so the next
    save of the same file can tell a dead writer's leftover (lockable) from a live one
    (locked) and removes only the leftovers (:func:`remove_stale_temp_files`).
    """
    target = path.resolve() if path.is_symlink() else path
    folder = target.parent
    try:
        old = target.stat()
    except FileNotFoundError:
        old = None
    remove_stale_temp_files(target)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=folder)
    try:
        if fcntl is not None:
            # held until the handle closes (or the process dies): "this file is being written"
            fcntl.flock(fd, fcntl.LOCK_EX)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if old is not None:
            # chown before chmod: a chown (even to the same owner) clears the setuid and
            # setgid bits, so chmod'ing first lost them
            with contextlib.suppress(PermissionError, AttributeError):
                os.chown(tmp_name, old.st_uid, old.st_gid)
            os.chmod(tmp_name, stat.S_IMODE(old.st_mode))
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp_name, 0o666 & ~umask)
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def stale_temp_files(target: Path) -> list[Path]:
    """The temporary files :func:`atomic_write` made for ``target`` that are still there
    (left by a killed save, or being written right now by another process)."""
    prefix = f".{target.name}."
    found: list[Path] = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(target.parent):
            name = entry.name
            if (
                name.startswith(prefix)
                and name.endswith(TEMP_SUFFIX)
                and _TEMP_INFIX.fullmatch(name[len(prefix) : -len(TEMP_SUFFIX)])
            ):
                found.append(Path(entry.path))
    return found


def remove_stale_temp_files(target: Path) -> list[Path]:
    """Remove the temporary files of ``target`` whose writer is gone; return them.

    A file still locked by its writer (a save in progress in another process) is left
    alone; so is everything where locks are not available (no ``fcntl``). Failures are
    ignored: a leftover temporary file is untidy, not a reason to fail a save.
    """
    if fcntl is None:  # pragma: no cover
        return []
    removed: list[Path] = []
    for path in stale_temp_files(target):
        try:
            # non-blocking: a FIFO named like a temporary file must not hang the save
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # a live writer holds it
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode):
                os.unlink(path)
                removed.append(path)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


@dataclass(frozen=True)
class Source:
    """Everything a check may need about one file: its text and how it is stored."""

    path: str
    raw: bytes
    """The bytes on disk, or the bytes a save of the buffer would write."""
    text: str | None
    """Decoded text with ``\\n`` line endings, or ``None`` when the file is not text."""
    format: TextFormat
    mode: int | None
    """Permission bits on disk (``None`` for a new, unsaved file)."""
    error: str | None = None
    """Why the file could not be read or decoded."""

    @property
    def raw_lines(self) -> list[str]:
        """Lines as stored, keeping ``\\r`` (for line-ending checks)."""
        try:
            decoded = self.raw[len(self.format.bom) :].decode(self.format.encoding)
        except UnicodeDecodeError:
            decoded = self.raw.decode("utf-8", errors="replace")
        return decoded.split("\n")


class Workspace:
    """A repository on disk plus unsaved buffers keyed by repository-relative POSIX path."""

    def __init__(self, root: str | Path, *, display_path: str | None = None) -> None:
        path = Path(root).expanduser()
        if not path.exists():
            raise WorkspaceError(f"{root}: no such directory")
        if not path.is_dir():
            raise WorkspaceError(f"{root}: not a directory (give the repository folder)")
        self.root: Path = path.resolve()
        #: The path as the user gave it; repo2docker's ``repo2docker.repo`` label depends on it.
        self.display_path: str = display_path if display_path is not None else str(root)
        self._buffers: dict[str, Buffer] = {}
        self._lock = threading.RLock()
        self._overlay_dir: Path | None = None

    # -- reading -------------------------------------------------------------------------
    def abspath(self, rel: str) -> Path:
        return self.root / rel

    def read_disk(self, rel: str) -> tuple[str, TextFormat]:
        """Read and decode a file from disk.

        Raises:
            WorkspaceError: the file is missing, unreadable, too large, or not text.
        """
        path = self.abspath(rel)
        try:
            if not path.is_file():
                kind = "a directory" if path.is_dir() else "not a regular file"
                raise WorkspaceError(f"{rel}: {kind}")
            size = path.stat().st_size
            if size > MAX_EDITABLE_BYTES:
                raise WorkspaceError(f"{rel}: {size // 1024 // 1024} MB is too large to edit")
            data = path.read_bytes()
        except OSError as error:
            raise WorkspaceError(f"{rel}: {error.strerror or error}") from error
        try:
            return decode(data)
        except UnicodeDecodeError as error:
            raise WorkspaceError(f"{rel}: not text in UTF-8/UTF-16 ({error.reason})") from error

    def text(self, rel: str) -> str | None:
        """The current text of ``rel``: its buffer if open, else the disk, else ``None``."""
        with self._lock:
            buffer = self._buffers.get(rel)
            if buffer is not None:
                return buffer.text
        try:
            return self.read_disk(rel)[0]
        except WorkspaceError:
            return None

    def source(self, rel: str) -> Source | None:
        """The file as a check sees it (buffer if edited, else disk); ``None`` if absent."""
        path = self.abspath(rel)
        mode: int | None = None
        with contextlib.suppress(OSError):
            mode = stat.S_IMODE(path.stat().st_mode)
        with self._lock:
            buffer = self._buffers.get(rel)
            if buffer is not None and (buffer.dirty or mode is None):
                try:
                    raw = encode(buffer.text, buffer.format)
                except UnicodeEncodeError:
                    raw = buffer.text.encode("utf-8")
                return Source(rel, raw, buffer.text, buffer.format, mode)
        if mode is None:
            return None
        try:
            if not path.is_file():
                return Source(rel, b"", None, TextFormat(), mode, "not a regular file")
            if path.stat().st_size > MAX_EDITABLE_BYTES:
                return Source(rel, b"", None, TextFormat(), mode, "too large to check")
            raw = path.read_bytes()
        except OSError as error:
            return Source(rel, b"", None, TextFormat(), mode, error.strerror or str(error))
        try:
            text, fmt = decode(raw)
        except UnicodeDecodeError as error:
            return Source(rel, raw, None, TextFormat(), mode, f"not text ({error.reason})")
        return Source(rel, raw, text, fmt, mode)

    def open(self, rel: str) -> Buffer:
        """Open ``rel`` into a buffer (or return the open one).

        Opening a file also removes the temporary files a killed save of it left behind
        (:func:`remove_stale_temp_files`), so a crash leaves no litter once the file is
        opened again."""
        with self._lock:
            buffer = self._buffers.get(rel)
            if buffer is None:
                # a save killed outright (SIGKILL, power loss) left its temporary file
                remove_stale_temp_files(self.abspath(rel))
                if self.abspath(rel).exists():
                    text, fmt = self.read_disk(rel)
                    buffer = Buffer(text=text, format=fmt, disk_text=text)
                else:
                    buffer = Buffer(text="", format=TextFormat(), disk_text=None)
                self._buffers[rel] = buffer
            return buffer

    # -- editing -------------------------------------------------------------------------
    def set_text(self, rel: str, text: str) -> None:
        """Replace the buffer text of ``rel`` (opening it first if needed).

        Never loses the text: when the file on disk cannot be read as text any more (it
        was replaced by a folder, or rewritten in another encoding, while the editor showed
        it), the buffer keeps ``text`` with no disk version, so :meth:`save` asks before
        writing over whatever is there now (:class:`ExternalChangeError`).
        """
        with self._lock:
            try:
                buffer = self.open(rel)
            except WorkspaceError:
                buffer = Buffer(text=text, format=TextFormat(), disk_text=None)
                self._buffers[rel] = buffer
            buffer.text = text

    def set_format(self, rel: str, fmt: TextFormat) -> None:
        """Save ``rel`` in format ``fmt`` from now on (opening it first if needed).

        Until the next save the buffer is dirty when ``fmt`` differs from the on-disk
        format, so renders and checks see the bytes the save will write.
        """
        with self._lock:
            buffer = self.open(rel)
            if buffer.disk_format is None:
                buffer.disk_format = buffer.format
            buffer.format = fmt

    def revert(self, rel: str) -> None:
        """Drop unsaved edits of ``rel``."""
        with self._lock:
            self._buffers.pop(rel, None)

    def is_dirty(self, rel: str) -> bool:
        with self._lock:
            buffer = self._buffers.get(rel)
            return buffer is not None and buffer.dirty

    def dirty_paths(self) -> list[str]:
        with self._lock:
            return sorted(rel for rel, buffer in self._buffers.items() if buffer.dirty)

    def overrides(self) -> dict[str, str]:
        """Buffers whose text differs from the disk: what a render must see instead."""
        with self._lock:
            return {rel: b.text for rel, b in self._buffers.items() if b.dirty}

    def override_bytes(self) -> dict[str, bytes]:
        """Dirty buffers encoded as they would be saved (same encoding, BOM, line endings),
        so a render of the overlay reads exactly the bytes repo2docker will read after a
        save. Text the file's encoding cannot hold is written as UTF-8."""
        with self._lock:
            encoded: dict[str, bytes] = {}
            for rel, buffer in self._buffers.items():
                if not buffer.dirty:
                    continue
                try:
                    encoded[rel] = encode(buffer.text, buffer.format)
                except UnicodeEncodeError:
                    encoded[rel] = buffer.text.encode("utf-8")
            return encoded

    def disk_changed(self, rel: str) -> bool:
        """Has ``rel`` changed on disk (or appeared, or vanished) since its buffer was
        loaded or last saved?"""
        with self._lock:
            buffer = self._buffers.get(rel)
            if buffer is None:
                return False
            expected = buffer.disk_text
        path = self.abspath(rel)
        if not path.exists():
            return expected is not None
        if expected is None:
            return True
        try:
            current, _fmt = self.read_disk(rel)
        except WorkspaceError:
            return True
        return current != expected

    def save(self, rel: str, *, force: bool = False) -> Path:
        """Write the buffer of ``rel`` to disk atomically, in the file's own format.

        Raises:
            ExternalChangeError: the file changed on disk since the buffer was loaded (not
                raised with ``force=True``); nothing was written.
            WorkspaceError: the write failed; the buffer stays dirty.
        """
        with self._lock:
            buffer = self._buffers.get(rel)
            if buffer is None:
                raise WorkspaceError(f"{rel}: not open")
            if not force and self.disk_changed(rel):
                what = "was deleted" if not self.abspath(rel).exists() else "changed"
                raise ExternalChangeError(
                    f"{rel} {what} on disk since you opened it; not saved (keep yours, "
                    "take the disk's, or compare)"
                )
            path = self.abspath(rel)
            try:
                real = path.resolve()
            except (OSError, RuntimeError) as error:
                # a symlink loop: RuntimeError until Python 3.13 (was a crash, not a message)
                raise WorkspaceError(f"{rel}: cannot follow its symlinks ({error}); not saved"
                                     ) from error
            if not real.is_relative_to(self.root):
                raise WorkspaceError(f"{rel}: links outside the repository ({real}); not saved")
            try:
                data = encode(buffer.text, buffer.format)
            except UnicodeEncodeError as error:
                raise WorkspaceError(
                    f"{rel}: text cannot be saved as {buffer.format.encoding} ({error.reason})"
                ) from error
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(path, data)
            except OSError as error:
                raise WorkspaceError(f"{rel}: not saved: {error.strerror or error}") from error
            buffer.disk_text = buffer.text
            buffer.disk_format = None
            return path

    # -- what repo2docker would read -----------------------------------------------------
    def env_files(self) -> list[str]:
        """Environment files present on disk or as (new, unsaved) buffers."""
        found = candidate_paths(self.root)
        with self._lock:
            extra = [rel for rel, b in self._buffers.items() if b.dirty and rel not in found]
        return found + sorted(extra)

    @contextlib.contextmanager
    def materialized(self, *, hide: frozenset[str] = frozenset()) -> Iterator[Path]:
        """A directory that looks like the repository with unsaved buffers applied.

        With no unsaved buffers and nothing hidden this is the repository itself. Otherwise
        it is an overlay: symlinks to the repository's entries, real folders only for the
        root and the binder folders, and buffer texts written as files. ``hide`` leaves
        paths out, which detection uses to ask "what if this file were absent?".
        The overlay is reused between calls; hold the render lock while using it.
        """
        overrides = self.override_bytes()
        if not overrides and not hide:
            yield self.root
            return
        if self._overlay_dir is None:
            self._overlay_dir = Path(tempfile.mkdtemp(prefix="r2d-tui-overlay-"))
            # removed when the workspace is garbage-collected or at interpreter exit
            self._finalizer = weakref.finalize(
                self, shutil.rmtree, str(self._overlay_dir), ignore_errors=True
            )
        overlay = self._overlay_dir / "repo"
        if overlay.exists():
            shutil.rmtree(overlay)
        overlay.mkdir()
        self._fill_overlay(overlay, "", overrides, hide)
        yield overlay

    def _fill_overlay(
        self, target: Path, rel_dir: str, overrides: dict[str, bytes], hide: frozenset[str]
    ) -> None:
        """Mirror ``rel_dir`` into ``target``: symlinks for untouched entries, real folders
        only where a buffer or a hidden path lies below, buffers written as files."""
        source = self.root / rel_dir if rel_dir else self.root
        names: set[str] = set()
        with contextlib.suppress(OSError):
            names = {entry.name for entry in os.scandir(source)}
        prefix = f"{rel_dir}/" if rel_dir else ""
        names |= {rel[len(prefix) :].split("/")[0] for rel in overrides if rel.startswith(prefix)}
        touched = set(overrides) | set(hide)
        for name in sorted(names):
            rel = f"{prefix}{name}"
            if rel in hide:
                continue
            if rel in overrides:
                (target / name).write_bytes(overrides[rel])
                (target / name).chmod(self._mode_of(rel))
            elif any(path.startswith(rel + "/") for path in touched):
                # a real folder here even when the repository's is a symlink (binder ->
                # config): the buffers inside it must be seen
                (target / name).mkdir()
                self._fill_overlay(target / name, rel, overrides, hide)
            else:
                os.symlink(source / name, target / name)

    def _mode_of(self, rel: str) -> int:
        try:
            return stat.S_IMODE(self.abspath(rel).stat().st_mode)
        except OSError:
            return 0o644

    def close(self) -> None:
        """Remove the overlay folder now (it is also removed at garbage collection or exit)."""
        if self._overlay_dir is not None:
            self._finalizer()
            self._overlay_dir = None
