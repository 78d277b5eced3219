"""``r2d-tui build`` output styles without an engine: plain lines, JSON events, the live view.

Real builds through the CLI are in ``test_build_sources_engine.py``; here the reporters are
fed the same core events a build produces, so formats are checked exactly and fast.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from r2d_tui.buildcli import (
    JSONReporter,
    PlainReporter,
    RichReporter,
    resolve_progress,
    summary_line,
)
from r2d_tui.core.build import (
    BuildFinished,
    BuildResult,
    BuildSpec,
    BuildStarted,
    ContextSynced,
    SyncStats,
    buildx_argv,
)
from r2d_tui.core.progress import Step, StepFinished, StepLog, StepStarted
from r2d_tui.core.render import RenderOptions
from r2d_tui.core.workspace import Workspace

ROOT = Path(__file__).resolve().parent.parent
OPTIONS = RenderOptions(base_image="r2d-tui-test/r2d-shim-base:latest", user_id=1000,
                        user_name="jovyan", platform="linux/amd64")


def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "requirements.txt").write_text("numpy\n")
    (root / "apt.txt").write_text("curl\n")
    return root


def step(name: str, *, cached: bool = False, seconds: float = 1.5, error: str | None = None
         ) -> Step:
    made = Step.from_name(f"sha256:{abs(hash(name)):x}", name)
    made.started = datetime(2026, 1, 1, tzinfo=UTC)
    made.completed = made.started + timedelta(seconds=seconds)
    made.cached, made.error = cached, error
    return made


def test_plain_lines_carry_state_step_and_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = Workspace(repo(tmp_path))
    reporter = PlainReporter(workspace)
    reporter.prepare(BuildSpec.from_workspace(workspace, OPTIONS))
    apt = step("[16/21] RUN apt-get -qq update && apt-get install curl", seconds=2.25)
    copy = step("[15/21] COPY --chown=1000:1000 src/requirements.txt /home/jovyan/r",
                cached=True)
    internal = step("[internal] load build context")
    reporter.event(ContextSynced(SyncStats(files_written=2, entries=9, bytes_written=10),
                                 Path("/ctx")))
    reporter.event(BuildStarted(("docker", "buildx", "build", "."), "t:1"))
    for done in (internal, copy, apt):
        reporter.event(StepFinished(done, done.cached, done.duration, done.error))
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert lines[0].startswith("context: 2 file(s) written, 0 deleted (10 bytes")
    assert lines[1] == "building t:1: docker buildx build ."
    assert lines[2] == ("    cached  [15/21] COPY --chown=1000:1000 src/requirements.txt "
                        "/home/jovyan/r  (requirements.txt)")
    assert lines[3] == ("     2.25s  [16/21] RUN apt-get -qq update && apt-get install curl  "
                        "(apt.txt)")
    assert len(lines) == 4  # internal steps are not listed


def test_success_summary_and_stdout_data(capsys: pytest.CaptureFixture[str]) -> None:
    result = BuildResult(True, "me/repo:dev", image_id="sha256:abc", duration_s=3.21,
                         steps_run=2, steps_cached=19, image_size=1_234_000_000)
    assert summary_line(result) == (
        "built me/repo:dev in 3.21 s: 19 of 21 steps cached, 2 run; image 1.2 GB"
    )
    PlainReporter(None).result(result)
    out, err = capsys.readouterr()
    assert out == "me/repo:dev\tsha256:abc\n" and err.startswith("built me/repo:dev")


def test_json_events_one_object_per_line(tmp_path: Path) -> None:
    workspace = Workspace(repo(tmp_path))
    out = io.StringIO()
    reporter = JSONReporter(workspace, out)
    reporter.prepare(BuildSpec.from_workspace(workspace, OPTIONS))
    apt = step("[16/21] RUN apt-get install", error="exit code: 100")
    apt.logs = ["E: Unable to locate package curl"]
    reporter.event(BuildStarted(("docker", "buildx"), "t:1"))
    reporter.event(StepStarted(apt))
    reporter.event(StepLog(apt, ("E: Unable to locate package curl",), 2))
    reporter.event(StepFinished(apt, False, 1.5, apt.error))
    failed = BuildResult(False, "t:1", error="failed to solve: exit code: 100",
                         error_kind="build", failed_step=apt, steps=[apt])
    reporter.event(BuildFinished(failed))
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["event"] for e in events] == [
        "build-started", "step-started", "step-log", "step-finished", "build-finished",
    ]
    assert events[1]["step"]["source"] == "apt.txt" and events[1]["step"]["index"] == 16
    assert events[2]["lines"] == ["E: Unable to locate package curl"] and events[2]["stream"] == 2
    finished = events[-1]
    assert finished["success"] is False and finished["error_kind"] == "build"
    finding = finished["explanation"]["findings"][0]
    assert (finding["name"], finding["path"], finding["line"]) == (
        "build-package-not-found", "apt.txt", 1)


def test_rich_view_renders_steps_with_sources(tmp_path: Path) -> None:
    workspace = Workspace(repo(tmp_path))
    reporter = RichReporter(workspace)
    from rich.console import Console

    buffer = io.StringIO()
    reporter.console = Console(file=buffer, width=120, force_terminal=False)
    reporter.prepare(BuildSpec.from_workspace(workspace, OPTIONS))
    reporter.event(BuildStarted(("docker",), "t:1"))
    running = step("[16/21] RUN apt-get install")
    running.completed = None
    for shown in (step("[15/21] COPY src/requirements.txt", cached=True), running):
        reporter.event(StepStarted(shown))
    reporter.console.print(reporter)
    text = buffer.getvalue()
    assert "building t:1" in text
    assert "⚡" in text and "cached" in text and "requirements.txt" in text
    assert "apt.txt" in text
    reporter.close()


def test_progress_auto_is_rich_only_on_a_terminal() -> None:
    assert resolve_progress("auto", io.StringIO()) == "plain"
    assert resolve_progress("json", io.StringIO()) == "json"

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert resolve_progress("auto", Tty()) == "rich"


def test_cache_and_platform_flags_reach_buildx(tmp_path: Path) -> None:
    spec = BuildSpec.from_disk(repo(tmp_path), OPTIONS, tag="t:1", platform="linux/arm64",
                               cache_from=("type=local,src=/c",), cache_to=("type=inline",))
    argv = buildx_argv(spec, Path("/ctx"))
    assert argv[argv.index("--cache-from") + 1] == "type=local,src=/c"
    assert argv[argv.index("--cache-to") + 1] == "type=inline"
    assert argv[argv.index("--platform") + 1] == "linux/arm64"


def test_buildcli_module_does_not_import_rich_until_the_live_view() -> None:
    code = (
        "import sys, r2d_tui.buildcli as b\n"
        "assert not any(m == 'rich' or m.startswith('rich.') for m in sys.modules), 'rich'\n"
        "b.make_reporter('plain', None)\n"
        "assert not any(m == 'rich' or m.startswith('rich.') for m in sys.modules), 'plain'\n"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
