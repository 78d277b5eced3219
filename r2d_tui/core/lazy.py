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

``repo2docker``'s package ``__init__`` imports ``repo2docker.app`` (traitlets' Application,
the content providers, the logging set-up) only to re-export ``Repo2Docker``; rendering
needs the buildpacks alone. :func:`load` therefore sets the package up as its ``__init__``
would, with ``Repo2Docker`` imported on first use, when that ``__init__`` is the one we
know (:data:`REPO2DOCKER_INIT_SHA256`); any other version is imported as it is.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import threading
from types import ModuleType
from typing import Any

#: Held while a thread imports one of these packages for the first time.
IMPORT_LOCK = threading.RLock()


def load(name: str) -> ModuleType:
    """``importlib.import_module(name)``, serialised with every other :func:`load`."""
    module = sys.modules.get(name)
    spec = getattr(module, "__spec__", None)
    if module is not None and not getattr(spec, "_initializing", False):
        return module  # imported and done: no lock needed
    from r2d_tui.core.stack import call_with_headroom

    with IMPORT_LOCK:
        if name.partition(".")[0] == "repo2docker" and "repo2docker" not in sys.modules:
            _set_up_repo2docker_package()
        # a first import nests hundreds of frames deep: see r2d_tui.core.stack
        return call_with_headroom(importlib.import_module, name)


#: The SHA-256 of the ``repo2docker/__init__.py`` that :func:`_set_up_repo2docker_package`
#: stands in for (the one of jupyter-repo2docker 2026.4)::
#:
#:     try:
#:         from ._version import __version__
#:     except ImportError:
#:         __version__ = "0.0.0+unknown"
#:
#:     from .app import Repo2Docker
#:
#:     # You can add this if you want an __all__ variable to control imports
#:     __all__ = ["__version__", "Repo2Docker"]
REPO2DOCKER_INIT_SHA256 = "5f2b8e4c5d50b2ccd828f8d743155f07e87beddbb18c7046ff02c6ce3608b6e9"


def _set_up_repo2docker_package() -> bool:
    """Put a ``repo2docker`` package in ``sys.modules`` that does what its ``__init__``
    does, except that ``repo2docker.app`` is imported when ``Repo2Docker`` is first used
    rather than at once (a quarter of repo2docker's import time; a render never needs it).

    Only for the ``__init__`` whose text we know; returns ``False`` (and does nothing) for
    any other, which is then imported normally. Call with :data:`IMPORT_LOCK` held.
    """
    spec = importlib.util.find_spec("repo2docker")
    if spec is None or spec.origin is None or spec.submodule_search_locations is None:
        return False
    try:
        with open(spec.origin, "rb") as handle:
            known = hashlib.sha256(handle.read()).hexdigest() == REPO2DOCKER_INIT_SHA256
    except OSError:
        return False
    if not known:
        return False
    package = importlib.util.module_from_spec(spec)  # __path__, __file__, __spec__; no body run
    sys.modules["repo2docker"] = package  # so that its submodules import without __init__
    try:
        version: str = importlib.import_module("repo2docker._version").__version__
    except ImportError:
        version = "0.0.0+unknown"
    except BaseException:
        del sys.modules["repo2docker"]
        raise

    def __getattr__(name: str) -> Any:  # noqa: N807 - a module's PEP 562 hook
        if name == "Repo2Docker":
            repo2docker_class = load("repo2docker.app").Repo2Docker
            package.__dict__["Repo2Docker"] = repo2docker_class
            return repo2docker_class
        raise AttributeError(f"module 'repo2docker' has no attribute {name!r}")

    package.__dict__.update(
        __version__=version, __all__=["__version__", "Repo2Docker"], __getattr__=__getattr__
    )
    return True
