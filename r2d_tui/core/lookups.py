"""Bounded, cached, offline-tolerant versions of repo2docker's render-time network look-ups.

Two buildpacks reach the network while *rendering* (not only while building):

* ``RBuildPack.get_rspm_snapshot_url`` POSTs to Posit's package manager for the snapshot
  id of a date (up to 7 requests, no timeout);
* ``JuliaProjectTomlBuildPack.all_julias`` GETs the list of Julia releases (no timeout).

A live preview re-renders on every pause in typing, so these calls must never hang it.
We wrap them: each request gets a timeout, answers are cached in memory and on disk
(``$XDG_CACHE_HOME/r2d-tui/lookups.json``; snapshot ids for a date never change), failures
are remembered for a while so an offline machine does not retry on every keystroke, and
when no answer can be had the render still completes with a clearly marked placeholder and
a note saying what could not be resolved. A real build needs the network anyway.
"""

from __future__ import annotations

import datetime
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from r2d_tui.core import lazy
from r2d_tui.core.paths import cache_dir

#: Every note about a placeholder starts with this, so callers can flag the preview.
PLACEHOLDER_NOTE = "offline preview:"

#: Notes added during the current render (renders are serialised by the render lock).
NOTES: list[str] = []

#: Julia releases known to r2d-tui, used only when the real list cannot be fetched.
FALLBACK_JULIA_VERSIONS: tuple[str, ...] = (
    "1.0.5", "1.1.1", "1.2.0", "1.3.1", "1.4.2", "1.5.4", "1.6.7", "1.7.3", "1.8.5",
    "1.9.4", "1.10.10", "1.11.7", "1.12.1",
)

FAILURE_RETRY_SECONDS = 300.0
JULIA_LIST_MAX_AGE = 24 * 3600.0

_lock = threading.Lock()
_failures: dict[str, float] = {}


def timeout_seconds() -> float:
    """``R2D_TUI_LOOKUP_TIMEOUT`` in seconds (default 4; kept between 0.1 and 60)."""
    try:
        value = float(os.environ.get("R2D_TUI_LOOKUP_TIMEOUT", "4"))
    except ValueError:
        return 4.0
    return min(max(value, 0.1), 60.0)


def cache_file() -> Path:
    return cache_dir() / "lookups.json"


def _load() -> dict[str, Any]:
    try:
        data = json.loads(cache_file().read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _store(key: str, value: Any) -> None:
    with _lock:
        data = _load()
        data[key] = {"value": value, "time": time.time()}
        path = cache_file()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            pass


def _cached(key: str, max_age: float | None = None) -> Any:
    entry = _load().get(key)
    if not isinstance(entry, dict) or "value" not in entry:
        return None
    if max_age is not None and time.time() - float(entry.get("time", 0)) > max_age:
        return None
    return entry["value"]


def _recently_failed(key: str) -> bool:
    failed_at = _failures.get(key)
    return failed_at is not None and time.time() - failed_at < FAILURE_RETRY_SECONDS


class _TimeoutRequests:
    """Stands in for ``requests`` in repo2docker's modules: the same API with a timeout."""

    @property
    def _module(self) -> Any:
        # requests is imported on its first use (see r2d_tui.core.lazy), lock held
        return lazy.load("requests")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", timeout_seconds())
        return self._module.get(*args, **kwargs)

    def post(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", timeout_seconds())
        return self._module.post(*args, **kwargs)


def install() -> None:
    """Wrap the two look-ups (called once, by the renderer)."""
    lazy.load("repo2docker.buildpacks")  # first import: one thread at a time
    from repo2docker.buildpacks import r as r_module
    from repo2docker.buildpacks.julia import julia_project

    r_module.requests = _TimeoutRequests()
    julia_project.requests = _TimeoutRequests()

    original_snapshot = r_module.RBuildPack.get_rspm_snapshot_url

    def get_rspm_snapshot_url(
        self: Any, snapshot_date: datetime.date, max_days_prior: int = 7
    ) -> str:
        key = f"rspm:{snapshot_date:%Y-%m-%d}:{max_days_prior}"
        cached = _cached(key)
        if isinstance(cached, str):
            return cached
        if not _recently_failed(key):
            try:
                url = str(original_snapshot(self, snapshot_date, max_days_prior))
            except ValueError:
                raise  # a real answer: no snapshot for that date
            except Exception as error:  # network failures of every kind
                _failures[key] = time.time()
                reason = type(error).__name__
            else:
                _store(key, url)
                return url
        else:
            reason = "unreachable a moment ago"
        NOTES.append(
            f"{PLACEHOLDER_NOTE} the R package snapshot for {snapshot_date:%Y-%m-%d} could not "
            f"be looked up at packagemanager.posit.co ({reason}); the CRAN URL in this preview "
            "is a placeholder. A real build resolves it."
        )
        return (
            "https://packagemanager.posit.co/all/__linux__/${VERSION_CODENAME}/"
            f"{snapshot_date:%Y-%m-%d}+unresolved-offline"
        )

    r_module.RBuildPack.get_rspm_snapshot_url = get_rspm_snapshot_url

    original_all_julias = julia_project.JuliaProjectTomlBuildPack.all_julias.fget

    def all_julias(self: Any) -> list[str]:
        key = "julia:versions"
        cached = _cached(key, JULIA_LIST_MAX_AGE)
        if isinstance(cached, list):
            return [str(v) for v in cached]
        if not _recently_failed(key):
            try:
                versions = list(original_all_julias.__wrapped__(self))
            except Exception as error:
                _failures[key] = time.time()
                reason = str(error).split(":")[0] or type(error).__name__
            else:
                _store(key, versions)
                return versions
        else:
            reason = "unreachable a moment ago"
        stale = _cached(key)
        if isinstance(stale, list):
            NOTES.append(
                f"{PLACEHOLDER_NOTE} the Julia versions list could not be refreshed ({reason}); "
                "using the cached list."
            )
            return [str(v) for v in stale]
        NOTES.append(
            f"{PLACEHOLDER_NOTE} the Julia versions list could not be downloaded ({reason}); "
            f"the Julia version is chosen from r2d-tui's built-in list (up to "
            f"{FALLBACK_JULIA_VERSIONS[-1]}) and may differ from a real build."
        )
        return list(FALLBACK_JULIA_VERSIONS)

    julia_project.JuliaProjectTomlBuildPack.all_julias = property(all_julias)
