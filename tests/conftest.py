"""Shared fixtures.

* Every test gets its own ``R2D_TUI_CACHE_DIR`` (build contexts, look-up cache), outside
  any repository folder the test makes.
* Tests marked ``@pytest.mark.engine`` need a Docker engine with buildx. Without one they
  are skipped with the reason, unless ``R2D_TUI_REQUIRE_DOCKER=1`` (CI with an engine), where
  a missing engine fails them instead of hiding them.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from r2d_tui.core.build import EngineStatus, engine_status


@pytest.fixture(autouse=True)
def r2d_tui_cache_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("r2d-tui-cache")
    monkeypatch.setenv("R2D_TUI_CACHE_DIR", str(path))
    yield path


@functools.cache
def _engine_status() -> EngineStatus:
    return engine_status()


def require_engine() -> EngineStatus:
    """Skip (or, with ``R2D_TUI_REQUIRE_DOCKER=1``, fail) unless an engine can build."""
    status = _engine_status()
    if status.ok:
        return status
    reason = f"needs a Docker engine with buildx: {status.problem}"
    if os.environ.get("R2D_TUI_REQUIRE_DOCKER") == "1":
        pytest.fail(f"{reason} (R2D_TUI_REQUIRE_DOCKER=1)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _engine_gate(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("engine") is not None:
        require_engine()


@pytest.fixture(scope="session")
def engine() -> EngineStatus:
    """The engine's status, for fixtures and tests that need it (skips or fails like the
    marker; session-scoped so that module- and session-scoped fixtures can use it)."""
    return require_engine()


@pytest.fixture(scope="session", autouse=True)
def _shared_engine_network_survives() -> Iterator[None]:
    """The suite must leave the shared engine's network as it found it.

    A second dockerd started with ``--bridge=none`` in the host's network namespace deletes
    the host's ``docker0`` bridge, and every container of the shared engine then fails to
    start ("adding interface … to bridge docker0 failed: Device does not exist") — in this
    suite and in whatever else uses the engine. The private daemons of the fault tests run
    in their own network namespace; this guard fails the run if one ever does not.
    """
    bridge = Path("/sys/class/net/docker0")
    present = bridge.exists()
    yield
    if present and not bridge.exists():
        pytest.fail("the tests deleted the shared engine's docker0 bridge", pytrace=False)
