"""Keep the garbage collector's full collections short in the TUI (issue #9).

After start-up the process holds some 400 000 objects that live as long as it does: the
modules, classes and functions of Textual, Rich, Pygments, repo2docker and ruamel.yaml.
Python's full (generation 2) collection walks every one of them. In this app one took
190–250 ms (``bench/tui_latency.py`` under ``gc.callbacks``), twenty-odd times during a
minute of editing, and the thread that triggers it holds the interpreter lock meanwhile:
the keystroke's echo and the preview wait. The slowest preview of 21 keystrokes came
300 ms after its key, the slowest echo 200 ms.

:func:`freeze_start_up_objects` moves the objects alive once start-up is over to the
permanent generation that collections skip (``gc.freeze``, which CPython's documentation
describes for long-running processes); after it, full collections took at most 75 ms and
the slowest preview 150–175 ms. It runs once per process, after one full collection so
that start-up's garbage is not kept for good.
"""

from __future__ import annotations

import gc
import threading

_LOCK = threading.Lock()
_frozen = False


def frozen() -> bool:
    """Whether :func:`freeze_start_up_objects` has run in this process."""
    return _frozen


def freeze_start_up_objects() -> bool:
    """Collect, then freeze what is alive (once per process). Whether this call froze."""
    global _frozen
    with _LOCK:
        if _frozen:
            return False
        gc.collect()
        gc.freeze()
        _frozen = True
        return True
