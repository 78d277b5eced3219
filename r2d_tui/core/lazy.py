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

Two more imports a render never uses cost a third of repo2docker's import time (0.1 s of
0.3 s), and :func:`load` skips them while it imports repo2docker:

* ``repo2docker.buildpacks.base`` takes one function from ``docker.utils.build``, whose
  package ``__init__`` (``docker``) imports the whole SDK client: requests, urllib3,
  http.client, ssl. ``docker.utils.build`` needs only ``docker.constants`` and
  ``docker.utils.fnmatch``, so it is imported under stand-ins for the two packages
  (:func:`_without_package_inits`), which are removed again afterwards: a later
  ``import docker`` runs the real ``__init__`` as if nothing had happened.
* ``repo2docker.buildpacks.r`` and ``.julia`` import ``requests`` for look-ups that only
  some renders make. It is put in ``sys.modules`` as a :class:`_DeferredModule`, whose
  body runs (with the lock held) when one of its attributes is first used.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import sys
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any

#: Held while a thread imports one of these packages for the first time.
IMPORT_LOCK = threading.RLock()


#: Modules imported without their packages' ``__init__`` (:func:`_without_package_inits`),
#: kept here because they are not left in ``sys.modules``.
_STANDALONE: dict[str, ModuleType] = {}

#: What a render imports that it does not use, deferred while repo2docker is imported.
DEFERRED_FOR_REPO2DOCKER = ("requests",)
#: Imported without these packages' ``__init__`` when the package is not imported yet.
STANDALONE_PACKAGES = {"docker.utils.build": ("docker", "docker.utils")}


def load(name: str) -> ModuleType:
    """``importlib.import_module(name)``, serialised with every other :func:`load`."""
    module = sys.modules.get(name)
    spec = getattr(module, "__spec__", None)
    if module is not None and not getattr(spec, "_initializing", False):
        return module  # imported and done (or deferred: see _DeferredModule)
    if module is None and name in _STANDALONE:
        return _STANDALONE[name]
    from r2d_tui.core.stack import call_with_headroom

    with IMPORT_LOCK:
        if name.partition(".")[0] == "repo2docker" and "repo2docker" not in sys.modules:
            _set_up_repo2docker_package()
            for deferred in DEFERRED_FOR_REPO2DOCKER:
                _defer(deferred)
            with (contextlib.suppress(ImportError, AttributeError),
                  _without_package_inits(STANDALONE_PACKAGES["docker.utils.build"])):
                # a first import nests hundreds of frames deep: see r2d_tui.core.stack
                return call_with_headroom(importlib.import_module, name)
            # docker.utils.build wanted more of its package than the stand-ins offer
        elif name in STANDALONE_PACKAGES and name not in sys.modules:
            with contextlib.suppress(ImportError, AttributeError):
                with _without_package_inits(STANDALONE_PACKAGES[name]) as standing_in:
                    module = call_with_headroom(importlib.import_module, name)
                if standing_in:
                    _STANDALONE[name] = module
                return module
        return call_with_headroom(importlib.import_module, name)


class _DeferredModule(ModuleType):
    """A module whose body runs when one of its attributes is first used.

    Unlike :class:`importlib.util.LazyLoader`'s modules, ``__spec__`` and ``__name__``
    are answered without running it: every ``import requests`` statement reads
    ``__spec__`` (to see whether the module is still initialising), so a LazyLoader
    module runs at the next module's ``import`` of it, which is at once. And the body
    runs with :data:`IMPORT_LOCK` held, so a thread that uses the module while another
    runs it waits instead of seeing a half-initialised module."""

    def __getattribute__(self, attribute: str) -> Any:
        if attribute in ("__spec__", "__name__"):
            return ModuleType.__getattribute__(self, attribute)
        spec = ModuleType.__getattribute__(self, "__spec__")
        with IMPORT_LOCK:
            if type(self) is _DeferredModule and spec.name not in _RUNNING:
                _RUNNING.add(spec.name)  # the body's own uses of it see it as it fills
                try:
                    spec.loader.exec_module(self)
                finally:
                    _RUNNING.discard(spec.name)
                self.__class__ = ModuleType  # type: ignore[assignment]  # plain from now on
        return ModuleType.__getattribute__(self, attribute)


#: Deferred modules whose body is running (in the thread that holds the lock).
_RUNNING: set[str] = set()


def _defer(name: str) -> None:
    """Put ``name`` in ``sys.modules`` as a :class:`_DeferredModule`, unless it is
    imported already. Call with :data:`IMPORT_LOCK` held."""
    if name in sys.modules:
        return
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return
    if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
        return
    module = importlib.util.module_from_spec(spec)  # __file__, __path__…; no body run
    if type(module) is not ModuleType:
        return  # a loader that makes its own module type: leave it alone
    module.__class__ = _DeferredModule
    sys.modules[name] = module


@contextlib.contextmanager
def _without_package_inits(packages: tuple[str, ...]) -> Iterator[bool]:
    """Import submodules of ``packages`` (outermost first) without running the packages'
    ``__init__``: empty stand-ins with the packages' ``__path__`` sit in ``sys.modules``
    for the duration, and they and everything imported through them are removed after,
    so a later import of the package is a normal one. Yields whether it stood in (not
    when the outermost package is imported already). Call with :data:`IMPORT_LOCK` held.

    The stand-ins say they are initialising (``__spec__._initializing``), so that a
    :func:`load` of the package from another thread waits for the lock instead of taking
    the stand-in."""
    top = packages[0]
    if top in sys.modules:
        yield False
        return
    before = set(sys.modules)
    try:
        standing_in = True
        for package in packages:
            try:
                spec = importlib.util.find_spec(package)
            except (ImportError, ValueError):
                spec = None
            if spec is None or spec.submodule_search_locations is None:
                standing_in = False  # not the package we know: import it normally
                break
            stand_in = importlib.util.module_from_spec(spec)  # __path__; no body run
            spec._initializing = True  # type: ignore[attr-defined]
            sys.modules[package] = stand_in
        if not standing_in:
            for package in packages:
                if package not in before:
                    sys.modules.pop(package, None)
        yield standing_in
    finally:
        for key in set(sys.modules) - before:
            if key == top or key.startswith(top + "."):
                del sys.modules[key]


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
