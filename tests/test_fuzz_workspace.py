"""Property tests of the workspace's file formats: decode/encode and save round trips.

What round-trips, exactly (README "Reliability"):

* ``encode(decode(b)) == b`` for every byte string that decodes, **except** a file with
  mixed line endings where CRLF is the majority (or a tie): it is read as a CRLF file, and
  its LF-only line breaks are written back as CRLF (:func:`expected_reencode`).
* Saving any text in any format writes exactly ``encode(text, format)``, keeps the file's
  permission bits, and a fresh open gives back the same text and format, **except** where
  the bytes cannot tell (:func:`expected_reopen`): a CRLF text without any line break reads
  as LF; a UTF-8 text (no BOM) that starts with U+FEFF reads as UTF-8 with BOM; an LF text
  holding literal ``\\r\\n`` pairs at least as many as its other line breaks reads as CRLF;
  a text with NUL characters is saved but then refused as binary.
* Text the encoding cannot hold (lone surrogates) is not saved: ``WorkspaceError``, the
  file untouched, the buffer still dirty.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from r2d_tui.core.workspace import TextFormat, Workspace, WorkspaceError, decode, encode

SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
#: Every format :func:`decode` can return.
FORMATS = [
    TextFormat(encoding, bom, newline)
    for encoding, bom in [
        ("utf-8", b""),
        ("utf-8", codecs.BOM_UTF8),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-32-le", codecs.BOM_UTF32_LE),
        ("utf-32-be", codecs.BOM_UTF32_BE),
    ]
    for newline in ("\n", "\r\n")
]
formats = st.sampled_from(FORMATS)

#: Text made of lines with any mix of line endings (and line-ending-like characters).
line_text = st.lists(
    st.tuples(
        st.text(st.characters(exclude_categories=("Cs",)), max_size=12),
        st.sampled_from(["\n", "\r\n", "\r", "\r\r\n", "", "\x85", "\u2028", "\x0c"]),
    ),
    max_size=12,
).map(lambda parts: "".join(line + end for line, end in parts))
texts = st.one_of(st.text(), line_text)


def stored_bytes(text: str, fmt: TextFormat) -> bytes:
    """Bytes as another editor may have written them: ``text`` as is (no newline
    translation), in ``fmt``'s encoding and BOM."""
    return fmt.bom + text.encode(fmt.encoding)


def expected_reencode(data: bytes, text: str, fmt: TextFormat) -> bytes:
    """What ``encode(decode(data))`` gives: ``data``, except for mixed line endings with a
    CRLF majority (or tie), whose lone LFs become CRLF."""
    stored = data[len(fmt.bom) :].decode(fmt.encoding)
    crlf = stored.count("\r\n")
    lone = stored.count("\n") - crlf
    if crlf and lone and crlf >= lone:
        return fmt.bom + re.sub(r"(?<!\r)\n", "\r\n", stored).encode(fmt.encoding)
    return data


@SETTINGS
@given(text=texts, fmt=formats)
def test_decode_of_stored_text_round_trips_as_documented(text: str, fmt: TextFormat) -> None:
    data = stored_bytes(text, fmt)
    try:
        decoded, got = decode(data)
    except UnicodeDecodeError:
        # only NUL characters are refused (utf-16-le + leading NUL looks like a UTF-32 BOM)
        assert "\x00" in text
        return
    assert "\x00" not in decoded
    assert got.newline in ("\n", "\r\n")
    assert encode(decoded, got) == expected_reencode(data, decoded, got)
    # and a second round trip changes nothing more
    again = encode(decoded, got)
    assert encode(*decode(again)) == again


@SETTINGS
@given(data=st.binary(max_size=64))
def test_decode_of_any_bytes_raises_only_unicode_decode_error(data: bytes) -> None:
    try:
        text, fmt = decode(data)
    except UnicodeDecodeError:
        return
    assert fmt in FORMATS
    assert encode(text, fmt) == expected_reencode(data, text, fmt)


def expected_reopen(text: str, fmt: TextFormat) -> tuple[str, TextFormat] | None:
    """What opening a file saved from buffer ``text`` in format ``fmt`` gives
    (``None``: the file is refused as binary)."""
    if "\x00" in text:
        return None  # NUL characters: saved, but not text when read
    bom = fmt.bom
    if not bom and text.startswith("\ufeff"):
        # UTF-8 without BOM whose first character is U+FEFF: the bytes are a UTF-8 BOM
        text, bom = text[1:], codecs.BOM_UTF8
    if fmt.newline == "\r\n":
        # no line break at all: nothing on disk says CRLF
        newline = "\r\n" if "\n" in text else "\n"
    else:
        crlf = text.count("\r\n")
        newline = "\n"
        if crlf and crlf >= text.count("\n") - crlf:
            # literal CR LF pairs in an LF text, as many as its line breaks: a CRLF file
            text, newline = text.replace("\r\n", "\n"), "\r\n"
    return text, TextFormat(fmt.encoding, bom, newline)


@SETTINGS
@given(
    old=texts,
    new=texts,
    old_fmt=formats,
    new_fmt=formats,
    mode=st.integers(0, 0o7777),
)
def test_save_writes_exactly_the_format_and_keeps_the_mode(
    old: str, new: str, old_fmt: TextFormat, new_fmt: TextFormat, mode: int
) -> None:
    old = old.replace("\x00", "")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        path = root / "postBuild"
        path.write_bytes(encode(old, old_fmt))
        os.chmod(path, mode)
        workspace = Workspace(root)
        workspace.open("postBuild")
        workspace.set_text("postBuild", new)
        workspace.set_format("postBuild", new_fmt)
        workspace.save("postBuild")
        assert not workspace.is_dirty("postBuild")
        assert path.read_bytes() == encode(new, new_fmt)
        assert stat.S_IMODE(path.stat().st_mode) == mode
        assert sorted(os.listdir(root)) == ["postBuild"]
        expected = expected_reopen(new, new_fmt)
        fresh = Workspace(root)
        if expected is None:
            with pytest.raises(WorkspaceError, match="not text"):
                fresh.open("postBuild")
            return
        buffer = fresh.open("postBuild")
        assert (buffer.text, buffer.format) == expected
        # saving the re-opened file unchanged writes the same bytes again, unless the
        # re-open itself was one of the ambiguous cases that change the line endings
        fresh.save("postBuild")
        if (buffer.text, buffer.format.newline) == (new, new_fmt.newline):
            assert path.read_bytes() == encode(new, new_fmt)


@SETTINGS
@given(
    text=texts,
    surrogate=st.characters(categories=["Cs"]),
    at=st.integers(0, 1000),
    fmt=formats,
)
def test_text_the_encoding_cannot_hold_is_not_saved(
    text: str, surrogate: str, at: int, fmt: TextFormat
) -> None:
    at = min(at, len(text))
    unsavable = text[:at] + surrogate + text[at:]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        path = root / "requirements.txt"
        path.write_bytes(b"numpy\n")
        workspace = Workspace(root)
        workspace.set_text("requirements.txt", unsavable)
        workspace.set_format("requirements.txt", fmt)
        with pytest.raises(WorkspaceError, match="cannot be saved as"):
            workspace.save("requirements.txt")
        assert path.read_bytes() == b"numpy\n"
        assert workspace.is_dirty("requirements.txt")
        assert workspace.text("requirements.txt") == unsavable
        assert sorted(os.listdir(root)) == ["requirements.txt"]
