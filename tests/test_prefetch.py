"""The TUI's head start: a child process detects the repository while the TUI imports
Textual, and the first preview reads the child's answer from the detection cache
(issue #9). These run the real child (``python -m r2d_tui.core.prefetch``)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from app_support import OPTIONS, SIZE, main_screen, make_app, make_repo, python_repo, settle

from r2d_tui.app.widgets.preview import DockerfilePreview
from r2d_tui.core import prefetch
from r2d_tui.core.detection import cached_render
from r2d_tui.core.render import RenderOptions, render
from r2d_tui.core.workspace import Workspace

RICH = RenderOptions(
    base_image="r2d-tui-test/r2d-shim-base:latest", user_id=1234, user_name="ada",
    appendix="RUN echo appended", labels=(("team", "binder"), ("x", "a=b")),
    target_repo_dir="/srv/repo", build_args=(("TOKEN", "s3cret-value"),),
    platform="linux/arm64",
)


def test_options_survive_the_trip_to_the_child() -> None:
    import dataclasses
    import json

    for options in (RenderOptions(), OPTIONS, RICH):
        data = json.loads(json.dumps(dataclasses.asdict(options)))
        assert prefetch.options_from_json(data) == options


def test_the_child_leaves_the_render_in_the_detection_cache(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"environment.yml": "dependencies:\n  - python=3.11\n"})
    workspace = Workspace(repo)
    assert cached_render(workspace, RICH) is None
    head_start = prefetch.start(str(repo), RICH)
    assert head_start is not None, "this machine has more than one core"
    assert head_start.wait()
    cached = cached_render(workspace, RICH)
    assert cached is not None and cached.dockerfile is not None
    assert cached.dockerfile == render(workspace, RICH).dockerfile
    assert "RUN echo appended" in cached.dockerfile
    # keyed by the options: another set of options has no answer yet
    assert cached_render(workspace, OPTIONS) is None


def test_build_arguments_are_not_on_the_childs_command_line(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"requirements.txt": "numpy\n"})
    head_start = prefetch.start(str(repo), RICH)
    assert head_start is not None
    try:
        cmdline = Path(f"/proc/{head_start.pid}/cmdline").read_bytes()
    except FileNotFoundError:
        cmdline = b""
    finally:
        head_start.wait()
    if cmdline:  # empty once it has ended (a zombie until waited for)
        assert b"r2d_tui.core.prefetch" in cmdline
        assert b"s3cret-value" not in cmdline
    assert "s3cret-value" not in " ".join(head_start._process.args)  # type: ignore[arg-type]


def test_a_child_that_cannot_do_its_job_reports_failure_and_nothing_is_cached(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "no-such-folder"
    head_start = prefetch.start(str(missing))
    assert head_start is not None and head_start.wait() is False
    garbage = subprocess.run(
        [sys.executable, "-m", "r2d_tui.core.prefetch", str(tmp_path)],
        input=b"{not json", capture_output=True, check=False, timeout=60,
    )
    assert garbage.returncode == 2 and garbage.stderr == b""


def test_a_child_that_runs_too_long_is_stopped(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    head_start = prefetch.Prefetch(process)
    assert head_start.wait(timeout=0.2) is False
    assert process.poll() is not None, "stopped, not left running"


def test_no_child_on_a_single_core() -> None:
    script = textwrap.dedent("""
        import os
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        from r2d_tui.core import prefetch
        print(prefetch.start(".") is None)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False, timeout=60, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "True\n"


def test_the_first_render_after_the_child_needs_no_repo2docker(tmp_path: Path) -> None:
    """What the TUI's first preview relies on, in a fresh interpreter: once the child has
    ended, the render comes from the cache without importing repo2docker."""
    repo = make_repo(tmp_path / "repo", {"requirements.txt": "numpy\n"})
    script = textwrap.dedent(f"""
        import sys
        from r2d_tui.core import prefetch
        from r2d_tui.core.detection import render_cached
        from r2d_tui.core.workspace import Workspace
        head_start = prefetch.start({str(repo)!r})
        assert head_start is not None and head_start.wait()
        result = render_cached(Workspace({str(repo)!r}))
        print("FROM " in result.dockerfile,
              any(m.startswith("repo2docker") for m in sys.modules))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False, timeout=120, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "True False\n"


async def test_the_tui_waits_for_the_child_and_shows_its_render(tmp_path: Path) -> None:
    root = python_repo(tmp_path)
    head_start = prefetch.start(str(root), OPTIONS)
    assert head_start is not None
    app = make_app(root, prefetch=head_start)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        assert screen.session.prefetch is None, "taken by the first preview"
        assert head_start._process.poll() == 0, "waited for, and it ended well"
        preview = screen.query_one(DockerfilePreview)
        assert preview.text == render(Workspace(root), OPTIONS).dockerfile


def test_nothing_in_the_working_folder_runs_in_the_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``r2d-tui .`` runs inside the repository; a json.py or an r2d_tui/ package there
    must not be imported by the child (``python -m`` would put the folder first)."""
    marker = tmp_path / "ran"
    repo = make_repo(tmp_path / "repo", {
        "requirements.txt": "numpy\n",
        "json.py": f"open({str(marker)!r}, 'w').write('json')\n",
        "r2d_tui/__init__.py": f"open({str(marker)!r}, 'w').write('package')\n",
    })
    monkeypatch.chdir(repo)
    head_start = prefetch.start(".")
    assert head_start is not None and head_start.wait()
    assert not marker.exists(), marker.read_text()
    assert cached_render(Workspace(repo)) is not None


def test_detection_records_are_readable_by_the_user_only(
    tmp_path: Path, r2d_tui_cache_dir: Path,
) -> None:
    """They hold the options, build arguments included."""
    repo = make_repo(tmp_path / "repo", {"requirements.txt": "numpy\n"})
    head_start = prefetch.start(str(repo), RICH)
    assert head_start is not None and head_start.wait()
    (record,) = (r2d_tui_cache_dir / "detect").glob("*.json")
    assert "s3cret-value" in record.read_text()
    assert record.stat().st_mode & 0o777 == 0o600
    assert (r2d_tui_cache_dir / "detect").stat().st_mode & 0o077 == 0
