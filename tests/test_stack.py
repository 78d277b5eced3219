"""``call_with_headroom``: deep imports no longer thrash CPython's frame stack at any depth.

Each time a call crosses the end of one of CPython's 16 KB frame-stack chunks it maps a
fresh chunk, and the first touch of its pages is a minor page fault. So the page faults of
importing repo2docker, started at a range of call depths, vary with the depth when the
import thrashes and stay the same when it does not.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from r2d_tui.core.stack import call_with_headroom

_PROBE = r"""
import importlib, resource, sys
from r2d_tui.core import stack
def deep(n, headroom):
    if n:
        return deep(n - 1, headroom)
    if headroom:
        return stack.call_with_headroom(importlib.import_module, "repo2docker.buildpacks")
    return importlib.import_module("repo2docker.buildpacks")
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
deep(int(sys.argv[1]), sys.argv[2] == "1")
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""

DEPTHS = range(10)


def _page_faults(depth: int, headroom: bool) -> int:
    done = subprocess.run([sys.executable, "-c", _PROBE, str(depth), "1" if headroom else "0"],
                          capture_output=True, text=True, check=True, timeout=120)
    return int(done.stdout)


def test_deep_imports_cost_the_same_at_every_call_depth() -> None:
    with_headroom = [_page_faults(depth, True) for depth in DEPTHS]
    assert max(with_headroom) - min(with_headroom) <= 60, with_headroom
    without = [_page_faults(depth, False) for depth in DEPTHS]
    if max(without) - min(without) <= 100:
        pytest.skip(f"this CPython does not thrash at these depths ({without}): "
                    "nothing to compare the headroom with")
    assert min(without) >= min(with_headroom) - 60  # the headroom itself costs nothing


def test_call_with_headroom_is_a_plain_call() -> None:
    def add(a: int, b: int = 0, *rest: int, scale: int = 1) -> int:
        return (a + b + sum(rest)) * scale

    assert call_with_headroom(add, 1, 2, 3, scale=2) == 12
    with pytest.raises(ZeroDivisionError):
        call_with_headroom(lambda: 1 // 0)

    def recurse(n: int) -> int:
        return n if n == 0 else recurse(n - 1)

    assert call_with_headroom(recurse, 500) == 0  # deeper than the headroom: more chunks
