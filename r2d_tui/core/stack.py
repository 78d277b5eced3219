"""Run deep call chains with room on CPython's frame stack, so that they do not thrash it.

Since 3.11 CPython keeps the frames of running Python functions in 16 KB chunks that it
maps and unmaps as the call depth crosses a chunk's end (``mmap``/``munmap`` and fresh
page faults each time; CPython issue gh-142183, fixed in 3.13 and 3.14 point releases
of 2026 by keeping one spare chunk). Importing repo2docker and its dependencies nests
imports, regular expression compiles and class bodies hundreds of frames deep; when that
work sits across a chunk's end, it maps and unmaps a chunk thousands of times. Measured
here (CPython 3.11): 5 977 mappings and 30-45 ms of system time in one cold
``r2d-tui dockerfile``, 2 mappings with this module, whatever the call depth.

:func:`call_with_headroom` calls a function from a frame that reserves
:data:`HEADROOM_SLOTS` stack slots (``code.replace(co_stacksize=...)``, a supported API):
that frame does not fit in the current chunk, so CPython maps one chunk of 256 KB for it,
and the frames of the call that follows fit in what is left of that chunk. The reserved
slots are never touched, so they cost no memory beyond their address space; the chunk is
unmapped when the call returns. On a CPython with the fix it is merely unneeded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

#: Stack slots (8 bytes each) reserved by :func:`call_with_headroom`'s frame: 128 KB,
#: so CPython gives the call a 256 KB chunk with about 120 KB free for deeper frames.
HEADROOM_SLOTS = 16 * 1024


def _call(function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    return function(*args, **kwargs)


_call.__code__ = _call.__code__.replace(
    co_stacksize=_call.__code__.co_stacksize + HEADROOM_SLOTS
)


def call_with_headroom(function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """``function(*args, **kwargs)``, with its frames in a chunk of their own (see above)."""
    return _call(function, *args, **kwargs)
