"""The pre-commit hook definition (``.pre-commit-hooks.yaml``) and that its entry runs.

pre-commit runs a hook's ``entry`` from the repository root with no file names when
``pass_filenames`` is false, so the test runs the entry exactly that way, in a real
repository, with the ``r2d-tui`` script installed next to this interpreter.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from check_support import DOCKERENV_COLUMN, DOCKERENV_LINE, clean_repo, dockerenv_repo
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
HOOKS = ROOT / ".pre-commit-hooks.yaml"


def hooks() -> list[dict[str, Any]]:
    data = YAML(typ="safe").load(HOOKS.read_text())
    assert isinstance(data, list)
    return data


def hook() -> dict[str, Any]:
    (found,) = [h for h in hooks() if h.get("id") == "r2d-tui-check"]
    return found


def test_hook_fields() -> None:
    found = hook()
    assert found["name"]
    assert found["description"]
    assert found["entry"] == "r2d-tui check"
    assert found["language"] == "python"
    assert found["pass_filenames"] is False
    assert found["always_run"] is True


def run_entry(
    repo: Path, tmp_path: Path, args: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run the hook's entry as pre-commit does: in the repository, no file names, ``args``
    (a user's ``args:``) appended."""
    argv = [*shlex.split(hook()["entry"]), *args]
    bindir = str(Path(sys.executable).parent)
    executable = shutil.which(argv[0], path=os.pathsep.join([bindir, os.environ["PATH"]]))
    assert executable, f"{argv[0]} is not installed next to {sys.executable}"
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([bindir, env["PATH"]])
    env["TMPDIR"] = str(tmp_path)  # render overlays
    return subprocess.run(
        [executable, *argv[1:]],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_entry_fails_on_findings(tmp_path: Path) -> None:
    repo = dockerenv_repo(tmp_path / "repo")
    proc = run_entry(repo, tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert f"postBuild:{DOCKERENV_LINE}:{DOCKERENV_COLUMN}: " in proc.stdout
    assert "[dockerenv-reliance]" in proc.stdout
    assert "r2d-tui: 2 findings" in proc.stderr


def test_entry_passes_on_a_clean_repository(tmp_path: Path) -> None:
    repo = clean_repo(tmp_path / "repo")
    proc = run_entry(repo, tmp_path)
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stderr


def test_entry_takes_args_from_the_hook_config(tmp_path: Path) -> None:
    repo = dockerenv_repo(tmp_path / "repo")
    proc = run_entry(repo, tmp_path, ("--format", "github"))
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith("::error file=postBuild,")
