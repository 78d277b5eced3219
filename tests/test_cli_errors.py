"""Errors on stderr read as sentences about the user's files, with the same exit status in
every command: ``file:line:col: what repo2docker says`` and exit 2 for input repo2docker
cannot render, never a Python class name in front of the sentence.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from r2d_tui.core.render import RenderProblem, problem_from_exception

R2D = str(Path(sys.executable).parent / "r2d-tui")
SHIM = "r2d-tui-test/r2d-shim-base:latest"


def _runtime_version(repo: Path) -> None:
    (repo / "requirements.txt").write_text("numpy\n")
    (repo / "runtime.txt").write_text("python-3.x\n")


def _old_python(repo: Path) -> None:
    (repo / "environment.yml").write_text("name: x\ndependencies:\n  - numpy\n  - python=3.4\n")


def _binder_old_python(repo: Path) -> None:
    (repo / "environment.yml").write_text("dependencies:\n  - python=3.4\n")  # ignored
    (repo / "binder").mkdir()
    (repo / "binder" / "environment.yml").write_text("dependencies:\n  - python=3.4\n")


def _both_binder_dirs(repo: Path) -> None:
    (repo / "binder").mkdir()
    (repo / ".binder").mkdir()


#: case → (make the repository, where the error must point)
CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "runtime-version": (_runtime_version, "runtime.txt:1:8: "),
    "old-python": (_old_python, "environment.yml:4:12: "),
    "binder-folder-first": (_binder_old_python, "binder/environment.yml:2:12: "),
    "both-binder-dirs": (_both_binder_dirs, ".binder"),
}


def run(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "R2D_TUI_CACHE_DIR": str(cache)}
    return subprocess.run([R2D, *args], capture_output=True, text=True, timeout=120,
                          env=env, check=False)


@pytest.mark.parametrize("case", sorted(CASES))
def test_render_errors_name_the_file_and_no_python_class(tmp_path: Path, case: str) -> None:
    make, where = CASES[case]
    repo = tmp_path / "repo"
    repo.mkdir()
    make(repo)
    result = run("dockerfile", str(repo), cache=tmp_path / "cache")
    assert result.returncode == 2
    assert result.stdout == ""
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith(f"r2d-tui: error: {where}"), error
    for name in ("Error:", "InvalidVersion", "Traceback"):
        assert name not in result.stderr


@pytest.mark.parametrize("case", ["runtime-version", "old-python"])
def test_build_of_an_unrenderable_repo_is_an_input_error(tmp_path: Path, case: str) -> None:
    """``build`` says what ``dockerfile`` says, with the same exit status, and never gets as
    far as the engine (so this needs none)."""
    make, where = CASES[case]
    repo = tmp_path / "repo"
    repo.mkdir()
    make(repo)
    result = run("build", str(repo), "--base-image", SHIM, "--progress", "plain",
                 cache=tmp_path / "cache")
    assert result.returncode == 2, result.stderr
    assert where in result.stderr
    assert "Traceback" not in result.stderr


def test_detect_explains_its_exit_status_on_stderr(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _both_binder_dirs(repo)
    for extra in ([], ["--json"]):
        result = run("detect", str(repo), *extra, cache=tmp_path / "cache")
        assert result.returncode == 2
        assert result.stderr.startswith("r2d-tui: error: ")
        assert "binder" in result.stderr and result.stderr.count("\n") == 1


def test_problem_location_is_as_precise_as_known() -> None:
    assert RenderProblem("m").located() == "m"
    assert RenderProblem("m", "apt.txt").located() == "apt.txt: m"
    assert RenderProblem("m", "apt.txt", 3).located() == "apt.txt:3: m"
    assert RenderProblem("m", "apt.txt", 3, 7).location == "apt.txt:3:7"


def test_quoted_value_is_located_only_where_it_really_is(tmp_path: Path) -> None:
    """The binder folder's files are searched first; a value found in no environment file
    must not send the user to a wrong one."""
    (tmp_path / "apt.txt").write_text("vim\nlibfoo-dev\n")
    (tmp_path / "binder").mkdir()
    (tmp_path / "binder" / "apt.txt").write_text("# ours\n  libfoo-dev\n")
    found = problem_from_exception(ValueError("Found invalid package name 'libfoo-dev'"), tmp_path)
    assert (found.path, found.line, found.column) == ("binder/apt.txt", 2, 3)
    assert found.message == "Found invalid package name 'libfoo-dev'"
    missing = problem_from_exception(ValueError("bad value 'nowhere-to-be-seen'"), tmp_path)
    assert (missing.path, missing.line, missing.column) == (None, None, None)


def test_class_names_only_where_they_add_something(tmp_path: Path) -> None:
    class PackageSpecError(Exception):
        pass

    assert problem_from_exception(RuntimeError("x broke"), tmp_path).message == "x broke"
    problem = problem_from_exception(PackageSpecError("x"), tmp_path)
    assert problem.message == "package spec error: x"

    class HTTPTimeoutError(Exception):
        pass

    problem = problem_from_exception(HTTPTimeoutError("slow"), tmp_path)
    assert problem.message == "http timeout error: slow"
