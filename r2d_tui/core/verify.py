"""Verify a built image: run the repository's own tests inside it and report each one.

Two conventions, both run in a fresh container of the image (its user, working directory,
entrypoint and environment, as :mod:`r2d_tui.core.run` starts servers), and a fallback:

``verify``
    repo2docker's own test convention (``tests/conftest.py`` in repo2docker): an executable
    ``verify`` at the repository root, run as the container's command (``./verify``) in
    the built image; exit status 0 passes. One result, with the script's output.

``image-tests/``
    the `repo2docker GitHub Action <https://github.com/jupyterhub/repo2docker-action>`_
    convention: in the image's working directory, ``image-tests/requirements.txt`` is
    installed if present, ``pytest`` (and, when there are notebooks, ``pytest-notebook``) is
    installed unless the image has it, then ``py.test [--nb-test-files] image-tests/`` runs:
    ``*.py`` test files with pytest, ``*.ipynb`` notebooks re-executed and their outputs
    compared with the stored ones. r2d-tui adds ``--junitxml`` and reads the report back
    out of the container, so each test gets its own result and output. Installing needs the
    network; offline, the image must already have pytest (and pytest-notebook).

``server`` (when the repository has neither, or on request)
    what repo2docker's test suite checks for a repository without ``verify``: the image
    starts as a server and answers HTTP on its port (Jupyter's ``/api``).

:class:`Verification` runs the suites one after the other (blocking; :meth:`cancel` from
another thread stops it at once) and returns a :class:`VerifyReport`.
"""

from __future__ import annotations

import os
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from r2d_tui.core.run import OneShot, RunError, RunOptions, docker_client, start_server

Outcome = Literal["passed", "failed", "error", "skipped"]
SuiteName = Literal["verify", "image-tests", "server"]

#: The folder of the repo2docker GitHub Action's image tests.
IMAGE_TESTS = "image-tests"
#: repo2docker's test script.
VERIFY = "verify"
#: The file name of the in-image pytest's JUnit report (in the first writable folder of
#: ``$TMPDIR``, ``/tmp``, ``$HOME`` and the working directory; the script says which).
JUNIT_NAME = "r2d-tui-image-tests.xml"
#: The line the image-tests script prints to say where the report goes.
REPORT_MARKER = "[r2d-tui] report: "
#: Exit status of the image-tests script when pytest could not be found or installed.
SETUP_FAILED = 99
#: Output lines kept per test result.
OUTPUT_LINES = 400

#: The image-tests runner (POSIX sh, so it also works in images without bash). Mirrors the
#: repo2docker Action's create_docker_image.sh step, plus the JUnit report.
IMAGE_TESTS_SCRIPT = f"""\
say() {{ echo "[r2d-tui] $*"; }}
report=""
for dir in "${{TMPDIR:-}}" /tmp "${{HOME:-}}" "$PWD"; do
  if [ -n "$dir" ] && [ -d "$dir" ] && [ -w "$dir" ]; then
    report="${{dir%/}}/{JUNIT_NAME}"
    break
  fi
done
if [ -z "$report" ]; then
  say "error: no writable folder for pytest's report"
  exit {SETUP_FAILED}
fi
if ! command -v python3 >/dev/null 2>&1; then
  say "error: the image has no python3; image-tests/ need Python with pytest"
  exit {SETUP_FAILED}
fi
if [ -f image-tests/requirements.txt ]; then
  say "installing image-tests/requirements.txt"
  python3 -m pip install --no-cache-dir -r image-tests/requirements.txt \\
    || say "warning: could not install image-tests/requirements.txt"
fi
if ! python3 -c "import pytest" >/dev/null 2>&1; then
  say "pytest is not in the image: installing it"
  python3 -m pip install --no-cache-dir pytest >/dev/null \\
    || {{ say "error: pytest is not in the image and could not be installed"; \\
         exit {SETUP_FAILED}; }}
fi
flags=""
if ls image-tests/*.ipynb >/dev/null 2>&1; then
  flags="--nb-test-files"
  if ! python3 -c "import pytest_notebook" >/dev/null 2>&1; then
    say "notebooks found, pytest-notebook is not in the image: installing it"
    python3 -m pip install --no-cache-dir pytest-notebook >/dev/null \\
      || {{ say "error: pytest-notebook is not in the image and could not be installed"; \\
           exit {SETUP_FAILED}; }}
  fi
fi
if command -v py.test >/dev/null 2>&1; then set -- py.test; else set -- python3 -m pytest; fi
rm -f "$report"
echo "{REPORT_MARKER}$report"
exec "$@" $flags -o junit_family=xunit1 -o junit_logging=all --junitxml="$report" image-tests/
"""


# --- what to run ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TestPlan:
    """Which test conventions a repository uses."""

    __test__ = False  # not a pytest class

    verify: bool = False
    """``verify`` exists at the root."""
    verify_executable: bool = False
    image_tests: bool = False
    """``image-tests/`` exists at the root."""
    test_files: tuple[str, ...] = ()
    """``image-tests/*.py`` and ``image-tests/*.ipynb`` (repository-relative)."""
    requirements: bool = False

    @property
    def suites(self) -> tuple[SuiteName, ...]:
        """The suites :class:`Verification` runs by default (``server`` when nothing else)."""
        found: list[SuiteName] = []
        if self.verify:
            found.append("verify")
        if self.image_tests:
            found.append("image-tests")
        return tuple(found) or ("server",)

    def describe(self) -> str:
        parts = []
        if self.verify:
            parts.append("verify" + ("" if self.verify_executable else " (not executable)"))
        if self.image_tests:
            count = len(self.test_files)
            parts.append(f"image-tests/ ({count} file{'s' if count != 1 else ''})")
        return ", ".join(parts) or "no verify script and no image-tests/ folder"


def discover(root: str | Path) -> TestPlan:
    """Find ``verify`` and ``image-tests/`` in the repository at ``root``."""
    base = Path(root)
    script = base / VERIFY
    folder = base / IMAGE_TESTS
    files: list[str] = []
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.suffix in (".py", ".ipynb"):
                files.append(f"{IMAGE_TESTS}/{path.name}")
    return TestPlan(
        verify=script.is_file(),
        verify_executable=script.is_file() and os.access(script, os.X_OK),
        image_tests=folder.is_dir(),
        test_files=tuple(files),
        requirements=(folder / "requirements.txt").is_file(),
    )


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseResult:
    """One test: the ``verify`` script, one pytest test or notebook, or the server check."""

    suite: SuiteName
    name: str
    outcome: Outcome
    output: str = ""
    """The test's own output (failure message and captured output, or the script's log)."""
    duration_s: float | None = None

    @property
    def passed(self) -> bool:
        return self.outcome in ("passed", "skipped")

    def to_json(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "name": self.name,
            "outcome": self.outcome,
            "duration_s": self.duration_s,
            "output": self.output,
        }


@dataclass
class SuiteResult:
    """One convention's run: its command, exit status, log and test results."""

    name: SuiteName
    command: list[str] = field(default_factory=list)
    status: int | None = None
    cases: list[CaseResult] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    error: str | None = None
    """Why the suite could not run its tests (no pytest, no python3, timed out, …)."""
    cancelled: bool = False
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return (
            not self.cancelled
            and self.error is None
            and bool(self.cases)
            and all(case.passed for case in self.cases)
        )


@dataclass
class VerifyReport:
    """Every suite run against one image."""

    image: str
    plan: TestPlan
    suites: list[SuiteResult] = field(default_factory=list)
    duration_s: float = 0.0
    cancelled: bool = False

    @property
    def cases(self) -> list[CaseResult]:
        return [case for suite in self.suites for case in suite.cases]

    @property
    def ok(self) -> bool:
        return not self.cancelled and bool(self.suites) and all(s.ok for s in self.suites)

    def counts(self) -> dict[Outcome, int]:
        counts: dict[Outcome, int] = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
        for case in self.cases:
            counts[case.outcome] += 1
        return counts

    def summary(self) -> str:
        """``2 passed, 1 failed in 3.1s`` (or why nothing could be tested)."""
        if self.cancelled:
            return "cancelled"
        counts = self.counts()
        parts = [f"{n} {outcome}" for outcome, n in counts.items() if n]
        text = ", ".join(parts) or "no tests ran"
        return f"{text} in {self.duration_s:.1f}s"

    def to_json(self) -> dict[str, Any]:
        return {
            "image": self.image,
            "ok": self.ok,
            "cancelled": self.cancelled,
            "duration_s": self.duration_s,
            "counts": self.counts(),
            "suites": [
                {
                    "name": suite.name,
                    "command": suite.command,
                    "status": suite.status,
                    "ok": suite.ok,
                    "error": suite.error,
                    "cases": [case.to_json() for case in suite.cases],
                }
                for suite in self.suites
            ],
        }


# --- JUnit ------------------------------------------------------------------------------------


def parse_junit(data: bytes, suite: SuiteName = "image-tests") -> list[CaseResult]:
    """Test results from pytest's JUnit XML (``xunit1`` or ``xunit2``).

    Names read like pytest node ids (``image-tests/test_env.py::test_numpy``) when the report
    carries the ``file`` attribute, else ``classname::name``.
    """
    root = ET.fromstring(data)
    cases: list[CaseResult] = []
    for case in root.iter("testcase"):
        name = case.get("name", "?")
        file = case.get("file")
        classname = case.get("classname", "")
        if file:
            # a test in a class: classname is module.Class
            owner = classname.rsplit(".", 1)[-1] if "." in classname else ""
            module = Path(file).stem
            node = f"{file}::{owner}::{name}" if owner and owner != module else f"{file}::{name}"
        else:
            node = f"{classname}::{name}" if classname else name
        outcome: Outcome = "passed"
        parts: list[str] = []
        for tag, kind in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
            for child in case.findall(tag):
                outcome = kind  # type: ignore[assignment]
                message = child.get("message", "")
                text = (child.text or "").strip()
                if text:
                    parts.append(text)
                elif message:
                    parts.append(message)
        for tag in ("system-out", "system-err"):
            for child in case.findall(tag):
                text = (child.text or "").strip()
                if text:
                    parts.append(f"--- captured {tag.removeprefix('system-')} ---\n{text}")
        duration: float | None
        try:
            duration = float(case.get("time", ""))
        except ValueError:
            duration = None
        cases.append(CaseResult(suite, node, outcome, _cap("\n".join(parts)), duration))
    return cases


def _cap(text: str, lines: int = OUTPUT_LINES) -> str:
    split = text.splitlines()
    if len(split) <= lines:
        return text
    return f"… {len(split) - lines} earlier lines dropped\n" + "\n".join(split[-lines:])


# --- running ---------------------------------------------------------------------------------

OutputCallback = Callable[[SuiteName, list[str]], None]
SuiteCallback = Callable[[SuiteResult], None]


def _report_path(lines: list[str]) -> list[str]:
    """Where the image-tests script said pytest writes its report."""
    for line in reversed(lines):
        if line.startswith(REPORT_MARKER):
            return [line.removeprefix(REPORT_MARKER).strip()]
    return []


def _bind_suite(on_output: OutputCallback, name: SuiteName) -> Callable[[list[str]], None]:
    def emit(lines: list[str]) -> None:
        on_output(name, lines)

    return emit


class Verification:
    """Run the verification suites of one repository against one image.

    Blocking; run it in a worker thread in a UI. ``on_output`` gets each suite's output
    lines as they arrive, ``on_suite`` each finished suite. :meth:`cancel` (thread-safe)
    removes the running container and skips the remaining suites.
    """

    def __init__(
        self,
        image: str,
        root: str | Path,
        *,
        suites: Sequence[SuiteName] | None = None,
        client: Any | None = None,
        timeout: float | None = 1800.0,
        server_timeout: float = 120.0,
        run_options: RunOptions | None = None,
    ) -> None:
        self.image = image
        self.root = Path(root).resolve()
        self.plan = discover(self.root)
        self.suites: tuple[SuiteName, ...] = tuple(suites) if suites else self.plan.suites
        self._client = client
        self.timeout = timeout
        self.server_timeout = server_timeout
        self.run_options = run_options or RunOptions()
        self._cancelled = threading.Event()
        self._current: OneShot | None = None
        self._server: Any = None
        self._lock = threading.Lock()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self, *, wait: bool = True) -> None:
        """Stop the verification: the running container is removed, later suites are
        skipped. With ``wait=False`` the removal happens in a background thread, so a UI
        thread never waits for the engine (the suite's own clean-up removes it too)."""
        self._cancelled.set()
        with self._lock:
            current, server = self._current, self._server

        def remove() -> None:
            if current is not None:
                current.cancel()
            if server is not None:
                server.stop(grace=0)

        if wait:
            remove()
        else:
            threading.Thread(target=remove, name="cancel verification", daemon=True).start()

    def run(
        self,
        on_output: OutputCallback | None = None,
        on_suite: SuiteCallback | None = None,
    ) -> VerifyReport:
        """Run every suite and return the report. Raises :class:`RunError` when the engine
        cannot be reached or the image does not exist."""
        from r2d_tui.core.run import inspect_image

        started = time.monotonic()
        client = self._client if self._client is not None else docker_client()
        inspect_image(client, self.image)  # a clear error before any suite
        report = VerifyReport(self.image, self.plan)
        runners = {
            "verify": self._run_verify,
            "image-tests": self._run_image_tests,
            "server": self._run_server,
        }
        for name in self.suites:
            if self._cancelled.is_set():
                break
            emit = None if on_output is None else _bind_suite(on_output, name)
            suite_started = time.monotonic()
            suite = runners[name](client, emit)
            suite.duration_s = time.monotonic() - suite_started
            report.suites.append(suite)
            if on_suite is not None:
                on_suite(suite)
        report.cancelled = self._cancelled.is_set()
        report.duration_s = time.monotonic() - started
        return report

    # -- suites ---------------------------------------------------------------------------
    def _one_shot(self, client: Any, command: list[str]) -> OneShot:
        env = [f"{k}={v}" for k, v in self.run_options.environment]
        shot = OneShot(client, self.image, command, root=self.root, environment=env)
        with self._lock:
            self._current = shot
        if self._cancelled.is_set():
            shot.cancel()
        return shot

    def _run_verify(self, client: Any, emit: Callable[[list[str]], None] | None) -> SuiteResult:
        command = [f"./{VERIFY}"]
        suite = SuiteResult("verify", command)
        run = self._one_shot(client, command).run(emit, timeout=self.timeout)
        suite.log, suite.status = run.lines, run.status
        if run.cancelled:
            suite.cancelled = True
            return suite
        output = "\n".join(run.lines)
        hint = ""
        if run.timed_out:
            suite.error = f"timed out after {self.timeout:g} s"
            hint = suite.error
        elif run.status in (126, 127):
            hint = (
                "./verify could not be run in the image: "
                + ("it is not executable (chmod +x verify, then rebuild)"
                   if not self.plan.verify_executable
                   else "it is not in the image's working directory (a Dockerfile "
                   "repository must COPY it), or its #! interpreter is missing")
            )
        elif not self.plan.verify_executable and run.status not in (0, None):
            hint = "verify is not executable on disk (chmod +x verify)"
        if hint:
            output = f"{output}\n[r2d-tui] {hint}".strip()
        outcome: Outcome = "passed" if run.status == 0 else "failed"
        if run.timed_out:
            outcome = "error"
        suite.cases.append(CaseResult("verify", VERIFY, outcome, _cap(output), run.duration_s))
        return suite

    def _run_image_tests(
        self, client: Any, emit: Callable[[list[str]], None] | None
    ) -> SuiteResult:
        command = ["/bin/sh", "-c", IMAGE_TESTS_SCRIPT]
        suite = SuiteResult("image-tests", ["py.test", IMAGE_TESTS + "/"])
        run = self._one_shot(client, command).run(emit, fetch=_report_path, timeout=self.timeout)
        suite.log, suite.status = run.lines, run.status
        if run.cancelled:
            suite.cancelled = True
            return suite
        tail = _cap("\n".join(run.lines), 60)
        if run.timed_out:
            suite.error = f"timed out after {self.timeout:g} s"
        elif run.status == SETUP_FAILED:
            errors = [line for line in run.lines if line.startswith("[r2d-tui] error:")]
            suite.error = errors[-1].removeprefix("[r2d-tui] error: ") if errors else (
                "pytest could not be set up in the image"
            )
        junit = next(iter(run.files.values()), None)
        if junit is not None and suite.error is None:
            try:
                suite.cases = parse_junit(junit)
            except ET.ParseError as error:
                suite.error = f"pytest's report could not be read: {error}"
        if suite.error is None and not suite.cases:
            if run.status == 5:
                suite.error = "pytest collected no tests in image-tests/"
            else:
                suite.error = f"pytest wrote no report (exit status {run.status})"
        if suite.error is None and run.status not in (0, 1):
            # pytest's own problem (interrupted, internal or usage error) on top of results
            suite.error = f"pytest exited with status {run.status}"
        if suite.error is not None:
            suite.cases.append(
                CaseResult("image-tests", IMAGE_TESTS + "/", "error",
                           f"{suite.error}\n\n{tail}".strip(), run.duration_s)
            )
        return suite

    def _run_server(self, client: Any, emit: Callable[[list[str]], None] | None) -> SuiteResult:
        suite = SuiteResult("server", ["(the image's server command)"])
        started = time.monotonic()
        try:
            server = start_server(self.image, self.run_options, root=self.root, client=client)
        except RunError as error:
            suite.error = str(error)
            suite.cases.append(CaseResult("server", "server starts", "error", str(error)))
            return suite
        with self._lock:
            self._server = server
        lines: list[str] = []

        def collect(batch: list[str]) -> None:
            lines.extend(batch)
            if emit is not None:
                emit(batch)

        done = threading.Event()
        server.follow_logs(collect, lambda _exit: done.set())
        suite.command = list(server.plan.command or ["(the image's own command)"])
        ready, exited, status = False, False, None
        try:
            ready = server.wait_ready(self.server_timeout)
            if not ready:
                exited = server.status() not in ("running", "created", "restarting")
                if exited:
                    done.wait(5)  # the log thread reads the status before removing it
                    status = server.exit_status()
        finally:
            server.stop(grace=1)
            done.wait(10)
            with self._lock:
                self._server = None
        suite.log = lines
        if self._cancelled.is_set():
            suite.cancelled = True
            return suite
        if ready:
            output = f"{server.plan.probe_url} answered"
        elif exited:
            output = f"the server exited with status {status} before answering"
        else:
            output = f"{server.plan.probe_url} did not answer within {self.server_timeout:g} s"
        output = "\n".join([output, "", *lines[-60:]]).strip()
        suite.cases.append(CaseResult(
            "server", f"server answers on port {server.plan.container_port}",
            "passed" if ready else "failed", output, time.monotonic() - started,
        ))
        return suite
