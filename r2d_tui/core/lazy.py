"""Import the heavy third-party packages lazily, and from one thread at a time.

``repo2docker`` (0.4 s) and ``docker`` are imported on first use so that ``r2d-tui --help``
and cached checks stay fast. In the TUI that first use happens on worker threads: the
render thread imports ``repo2docker.app`` (which imports ``docker``) while the file
watcher's thread imports ``docker.utils.build``. Python's per-module import locks do not
make that safe for a package whose ``__init__`` is still running in the other thread: the
second thread sees a half-initialised ``docker`` (``KeyError: 'docker'``, "cannot import
name 'check_resource' from partially initialized module 'docker.utils'"; seen on two of ten
TUI start-ups). Every first import of these packages goes through :func:`load`, which holds
one lock while it imports.
"""

from __future__ import annotations

import importlib
import sys
import threading
from types import ModuleType

#: Held while a thread imports one of these packages for the first time.
IMPORT_LOCK = threading.RLock()


def load(name: str) -> ModuleType:
    """``importlib.import_module(name)``, serialised with every other :func:`load`."""
    module = sys.modules.get(name)
    spec = getattr(module, "__spec__", None)
    if module is not None and not getattr(spec, "_initializing", False):
        return module  # imported and done: no lock needed
    with IMPORT_LOCK:
        return importlib.import_module(name)
