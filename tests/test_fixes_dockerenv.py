"""The automatic fix of dockerenv-reliance: simple shell tests become REPO_DIR tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from r2d_tui.core.checks import run_checks
from r2d_tui.core.fixes import apply_fixes, plan_fixes
from r2d_tui.core.workspace import Workspace


def _repo(root: Path, files: dict[str, str]) -> Workspace:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return Workspace(root)


def _fix(workspace: Workspace) -> None:
    findings = [f for f in run_checks(workspace) if f.name == "dockerenv-reliance"]
    apply_fixes(workspace, plan_fixes(workspace, findings))


@pytest.mark.parametrize(
    ("line", "fixed"),
    [
        ("if [ -f /.dockerenv ]; then", 'if [ -n "${REPO_DIR:-}" ]; then'),
        ('if [ -e "/.dockerenv" ]; then', 'if [ -n "${REPO_DIR:-}" ]; then'),
        ("[[ -f /.dockerenv ]] && echo y", '[[ -n "${REPO_DIR:-}" ]] && echo y'),
        ("[ ! -f /.dockerenv ] && exit 0", '[ -z "${REPO_DIR:-}" ] && exit 0'),
        ("test -f /.dockerenv || exit 0", 'test -n "${REPO_DIR:-}" || exit 0'),
        ("if test ! -e '/.dockerenv'; then", 'if test -z "${REPO_DIR:-}"; then'),
    ],
)
def test_simple_forms_are_fixed_and_the_finding_goes(tmp_path: Path, line: str,
                                                     fixed: str) -> None:
    workspace = _repo(tmp_path, {
        "requirements.txt": "numpy\n",
        "postBuild": f"#!/bin/bash\n{line}\n  echo hi\nfi\n" if "then" in line
        else f"#!/bin/bash\n{line}\n",
    })
    _fix(workspace)
    text = (tmp_path / "postBuild").read_text()
    assert text.splitlines()[1] == fixed
    assert not [f for f in run_checks(Workspace(tmp_path)) if f.name == "dockerenv-reliance"]


def test_complex_forms_are_left_alone(tmp_path: Path) -> None:
    script = "#!/bin/bash\nls /.dockerenv >/dev/null 2>&1 && echo docker\n"
    workspace = _repo(tmp_path, {"requirements.txt": "numpy\n", "postBuild": script})
    _fix(workspace)
    assert (tmp_path / "postBuild").read_text() == script


def test_scripts_run_from_a_user_dockerfile_are_not_given_repo_dir(tmp_path: Path) -> None:
    script = "if [ -f /.dockerenv ]; then echo docker; fi\n"
    workspace = _repo(tmp_path, {
        "Dockerfile": "FROM r2d-tui-test/busybox:latest\nCOPY check.sh /check.sh\n"
                      "RUN sh /check.sh\n",
        "check.sh": script,
    })
    findings = [f for f in run_checks(workspace) if f.name == "dockerenv-reliance"]
    assert findings, "the script is reached from the Dockerfile"
    assert plan_fixes(workspace, findings) == []
    assert (tmp_path / "check.sh").read_text() == script
