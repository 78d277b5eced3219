"""R and Julia renders without the network: bounded in time, cached, clearly marked.

repo2docker looks up an R package snapshot (POST to packagemanager.posit.co) and the list
of Julia releases (GET from julialang-s3.julialang.org) while *rendering*, without a
timeout. These tests render real repositories

* with the real network (on this machine DNS for those hosts fails at once),
* against a local TCP server that accepts and never answers (the "hang"),
* against a local HTTP server that answers (so the on-disk cache gets written),
* and with a cache file prepared on disk,

by redirecting the two hosts to 127.0.0.1 at the ``requests`` level: r2d-tui's timeout
wrapper still sits between repo2docker and ``requests`` and is what is under test.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from r2d_tui.core import lookups
from r2d_tui.core.render import RenderResult, render
from r2d_tui.core.workspace import Workspace

TIMEOUT = 1.0
#: Slack for the render itself and a loaded CI machine.
MARGIN = 2.5
#: A render that made no network request (a request would wait for TIMEOUT).
FAST = 0.8
LOOKUP_HOSTS = {"packagemanager.posit.co", "julialang-s3.julialang.org"}
R_DATE = "2024-01-10"
R_KEY = f"rspm:{R_DATE}:7"
PLACEHOLDER_URL = f"{R_DATE}+unresolved-offline"


@pytest.fixture(autouse=True)
def _isolated_lookups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("R2D_TUI_LOOKUP_TIMEOUT", str(TIMEOUT))
    monkeypatch.setenv("R2D_TUI_CACHE_DIR", str(cache))
    for name in (
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    # failures are remembered per process; every test starts with none
    monkeypatch.setattr(lookups, "_failures", {})
    return cache


@pytest.fixture
def r_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "r-repo"
    repo.mkdir()
    (repo / "runtime.txt").write_text(f"r-4.3.2-{R_DATE}\n")
    (repo / "install.R").write_text('install.packages("ggplot2")\n')
    return repo


@pytest.fixture
def julia_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "julia-repo"
    repo.mkdir()
    (repo / "Project.toml").write_text(
        '[deps]\nIJulia = "7073ff75-c697-5162-941a-fcdaad2a7d2a"\n\n[compat]\njulia = "1.10"\n'
    )
    return repo


# --- local servers ---------------------------------------------------------------------


class SilentServer:
    """Accepts TCP connections and never sends a byte."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.connections: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()
        for conn in self.connections:  # unblocks a render that never timed out
            conn.close()


class AnsweringServer:
    """Answers the two look-ups like the real services do."""

    def __init__(self, snapshot: dict[str, Any], julia_versions: list[str]) -> None:
        self.requests: list[tuple[str, str, bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, payload: object) -> None:
                body = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                length = int(self.headers.get("Content-Length") or 0)
                outer.requests.append(("POST", self.path, self.rfile.read(length)))
                self._answer(snapshot)

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                outer.requests.append(("GET", self.path, b""))
                self._answer({version: {"files": []} for version in julia_versions})

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Redirect:
    """Sends requests for the two look-up hosts to a local server; records every call."""

    def __init__(self) -> None:
        self.base: str | None = None
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def wrap(self, method: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(url: str, *args: Any, **kwargs: Any) -> Any:
            parts = urlsplit(url)
            if parts.hostname in LOOKUP_HOSTS:
                self.calls.append((method, url, dict(kwargs)))
                if self.base is not None:
                    url = self.base + parts.path
            return real(url, *args, **kwargs)

        return call


@pytest.fixture
def redirect(monkeypatch: pytest.MonkeyPatch) -> Redirect:
    redirector = Redirect()
    monkeypatch.setattr(requests, "get", redirector.wrap("GET", requests.get))
    monkeypatch.setattr(requests, "post", redirector.wrap("POST", requests.post))
    return redirector


@pytest.fixture
def silent(redirect: Redirect) -> Iterator[SilentServer]:
    server = SilentServer()
    redirect.base = server.base
    yield server
    server.close()


def timed_render(workspace: Workspace, limit: float) -> tuple[RenderResult, float]:
    """Render in a thread so a hang fails the test instead of blocking the run."""
    box: dict[str, Any] = {}

    def work() -> None:
        start = time.monotonic()
        box["result"] = render(workspace)
        box["elapsed"] = time.monotonic() - start

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(limit + 10)
    assert not thread.is_alive(), f"render still running after {limit + 10:.0f} s"
    assert box["elapsed"] < limit, f"render took {box['elapsed']:.2f} s (limit {limit:.1f} s)"
    return box["result"], box["elapsed"]


def placeholder_notes(result: RenderResult) -> list[str]:
    return [note for note in result.notes if note.startswith(lookups.PLACEHOLDER_NOTE)]


def julia_version(result: RenderResult) -> str:
    assert result.dockerfile is not None
    match = re.search(r"^ENV JULIA_VERSION=(\S+)$", result.dockerfile, re.M)
    assert match, "no JULIA_VERSION in the Dockerfile"
    return match.group(1)


def write_cache(cache: Path, entries: dict[str, tuple[Any, float]]) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    data = {key: {"value": value, "time": at} for key, (value, at) in entries.items()}
    (cache / "lookups.json").write_text(json.dumps(data))


# --- the real network ----------------------------------------------------------------------


def test_r_render_offline_has_placeholder_and_note(r_repo: Path) -> None:
    workspace = Workspace(r_repo)
    result, _ = timed_render(workspace, TIMEOUT + MARGIN)
    assert result.ok, result.problem
    assert result.buildpack == "r"
    if not result.offline_placeholders and PLACEHOLDER_URL not in (result.dockerfile or ""):
        pytest.skip("packagemanager.posit.co is reachable from this machine")
    assert result.offline_placeholders
    notes = placeholder_notes(result)
    assert len(notes) == 1 and R_DATE in notes[0] and "packagemanager.posit.co" in notes[0]
    assert PLACEHOLDER_URL in (result.dockerfile or "")
    # the second render remembers the failure instead of asking again
    again, _ = timed_render(workspace, FAST)
    assert again.offline_placeholders
    assert "a moment ago" in placeholder_notes(again)[0]
    assert again.dockerfile == result.dockerfile


def test_julia_render_offline_has_placeholder_and_note(julia_repo: Path) -> None:
    workspace = Workspace(julia_repo)
    result, _ = timed_render(workspace, TIMEOUT + MARGIN)
    assert result.ok, result.problem
    assert result.buildpack == "julia"
    if not result.offline_placeholders:
        pytest.skip("julialang-s3.julialang.org is reachable from this machine")
    notes = placeholder_notes(result)
    assert len(notes) == 1 and "Julia versions list" in notes[0]
    # the built-in list decides: the newest 1.x release it knows
    assert julia_version(result) == lookups.FALLBACK_JULIA_VERSIONS[-1]
    again, _ = timed_render(workspace, FAST)
    assert again.offline_placeholders and again.dockerfile == result.dockerfile


# --- a server that never answers -----------------------------------------------------------


def test_r_lookup_hang_is_bounded(r_repo: Path, redirect: Redirect, silent: SilentServer) -> None:
    workspace = Workspace(r_repo)
    result, elapsed = timed_render(workspace, TIMEOUT + MARGIN)
    assert silent.connections, "the look-up never reached the silent server"
    assert elapsed >= TIMEOUT * 0.9, "returned before the timeout: the hang was not exercised"
    assert [(m, urlsplit(u).hostname) for m, u, _ in redirect.calls] == [
        ("POST", "packagemanager.posit.co")
    ]
    assert redirect.calls[0][2].get("timeout") == TIMEOUT
    assert result.ok and result.offline_placeholders
    assert PLACEHOLDER_URL in (result.dockerfile or "")
    assert "Timeout" in placeholder_notes(result)[0]
    # negative cache: no second connection, fast
    connections = len(silent.connections)
    again, _ = timed_render(workspace, FAST)
    assert len(silent.connections) == connections
    assert len(redirect.calls) == 1
    assert again.offline_placeholders and again.dockerfile == result.dockerfile


def test_julia_lookup_hang_is_bounded(
    julia_repo: Path, redirect: Redirect, silent: SilentServer
) -> None:
    workspace = Workspace(julia_repo)
    result, elapsed = timed_render(workspace, TIMEOUT + MARGIN)
    assert silent.connections
    assert elapsed >= TIMEOUT * 0.9
    assert [(m, urlsplit(u).hostname) for m, u, _ in redirect.calls] == [
        ("GET", "julialang-s3.julialang.org")
    ]
    assert redirect.calls[0][2].get("timeout") == TIMEOUT
    assert result.ok and result.offline_placeholders
    again, _ = timed_render(workspace, FAST)
    assert len(redirect.calls) == 1
    assert again.dockerfile == result.dockerfile


def test_failure_is_retried_after_the_retry_window(
    r_repo: Path, redirect: Redirect, silent: SilentServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = Workspace(r_repo)
    timed_render(workspace, TIMEOUT + MARGIN)
    monkeypatch.setattr(lookups, "FAILURE_RETRY_SECONDS", 0.0)
    timed_render(workspace, TIMEOUT + MARGIN)
    assert len(redirect.calls) == 2


# --- the on-disk cache ---------------------------------------------------------------------


def test_r_snapshot_from_disk_cache(
    r_repo: Path, _isolated_lookups: Path, redirect: Redirect, silent: SilentServer
) -> None:
    url = "https://packagemanager.posit.co/all/__linux__/${VERSION_CODENAME}/24681357"
    write_cache(_isolated_lookups, {R_KEY: (url, time.time() - 400 * 86400)})
    result, _ = timed_render(Workspace(r_repo), FAST)
    assert redirect.calls == [] and silent.connections == []
    assert result.ok and not result.offline_placeholders
    assert placeholder_notes(result) == []
    assert url in (result.dockerfile or "")
    assert PLACEHOLDER_URL not in (result.dockerfile or "")


def test_julia_versions_from_disk_cache(
    julia_repo: Path, _isolated_lookups: Path, redirect: Redirect, silent: SilentServer
) -> None:
    write_cache(_isolated_lookups, {"julia:versions": (["1.9.0", "1.10.4"], time.time())})
    result, _ = timed_render(Workspace(julia_repo), FAST)
    assert redirect.calls == []
    assert result.ok and not result.offline_placeholders
    assert julia_version(result) == "1.10.4"  # not in the built-in list: the cache decided


def test_stale_julia_list_is_used_when_refresh_fails(
    julia_repo: Path, _isolated_lookups: Path, redirect: Redirect, silent: SilentServer
) -> None:
    old = time.time() - 2 * lookups.JULIA_LIST_MAX_AGE
    write_cache(_isolated_lookups, {"julia:versions": (["1.9.0", "1.10.4"], old)})
    result, _ = timed_render(Workspace(julia_repo), TIMEOUT + MARGIN)
    assert len(redirect.calls) == 1, "a stale list must be refreshed first"
    assert result.ok and result.offline_placeholders
    assert "cached list" in placeholder_notes(result)[0]
    assert julia_version(result) == "1.10.4"


def test_answers_are_stored_on_disk_and_reused(
    r_repo: Path, julia_repo: Path, _isolated_lookups: Path, redirect: Redirect
) -> None:
    server = AnsweringServer({"upsi": "13572468"}, ["1.9.0", "1.10.7", "1.11.0-rc1"])
    redirect.base = server.base
    try:
        r_result, _ = timed_render(Workspace(r_repo), TIMEOUT + MARGIN)
        j_result, _ = timed_render(Workspace(julia_repo), TIMEOUT + MARGIN)
    finally:
        server.close()
    assert [(method, path) for method, path, _ in server.requests] == [
        ("POST", "/__api__/url"),
        ("GET", "/bin/versions.json"),
    ]
    assert json.loads(server.requests[0][2]) == {
        "repo": "all",
        "snapshot": f"{R_DATE}T00:00:00Z",
    }
    url = "https://packagemanager.posit.co/all/__linux__/${VERSION_CODENAME}/13572468"
    assert r_result.ok and not r_result.offline_placeholders
    assert url in (r_result.dockerfile or "")
    assert julia_version(j_result) == "1.10.7"  # pre-releases are filtered by repo2docker
    stored = json.loads((_isolated_lookups / "lookups.json").read_text())
    assert stored[R_KEY]["value"] == url
    assert stored["julia:versions"]["value"] == ["1.9.0", "1.10.7"]
    # with the service gone, the stored answers are used without asking
    silent = SilentServer()
    redirect.base = silent.base
    calls = len(redirect.calls)
    try:
        r_again, _ = timed_render(Workspace(r_repo), FAST)
        j_again, _ = timed_render(Workspace(julia_repo), FAST)
    finally:
        silent.close()
    assert len(redirect.calls) == calls
    assert r_again.dockerfile == r_result.dockerfile
    assert j_again.dockerfile == j_result.dockerfile


def test_no_snapshot_for_date_is_a_real_error(r_repo: Path, redirect: Redirect) -> None:
    """An answer without a snapshot is not an outage: no placeholder, repo2docker's error."""
    server = AnsweringServer({}, [])
    redirect.base = server.base
    try:
        result, _ = timed_render(Workspace(r_repo), TIMEOUT + MARGIN)
    finally:
        server.close()
    assert len(server.requests) == 7  # repo2docker tries the date and 6 days before it
    assert not result.ok and not result.offline_placeholders
    assert result.problem is not None and "No snapshot found" in result.problem.message


def test_lookup_timeout_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("R2D_TUI_LOOKUP_TIMEOUT", "2.5")
    assert lookups.timeout_seconds() == 2.5
    monkeypatch.setenv("R2D_TUI_LOOKUP_TIMEOUT", "soon")
    assert lookups.timeout_seconds() == 4.0
    monkeypatch.delenv("R2D_TUI_LOOKUP_TIMEOUT")
    assert lookups.timeout_seconds() == 4.0
