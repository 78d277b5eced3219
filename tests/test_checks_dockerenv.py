"""The ``dockerenv-reliance`` check (R2D401): build-time tests for ``/.dockerenv``.

Each case is a small repository run through ``run_checks`` (so detection decides which
file is build-time code). Positions are 1-based and point at the ``/`` of
``/.dockerenv``.
"""

from __future__ import annotations

import tempfile
from dataclasses import fields
from pathlib import Path

import pytest

from r2d_tui.core.checks import find_rule, run_checks
from r2d_tui.core.findings import Finding, Severity
from r2d_tui.core.workspace import Workspace

NAME = "dockerenv-reliance"
CODE = "R2D401"


@pytest.fixture(autouse=True)
def _overlays_under_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Render overlays (``tempfile.mkdtemp``) of unclosed workspaces go under tmp_path."""
    folder = tmp_path / "tempfiles"
    folder.mkdir(exist_ok=True)
    monkeypatch.setattr(tempfile, "tempdir", str(folder))


def make_repo(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if path.name in {"postBuild", "start"}:
            path.chmod(0o755)
    return root


def dockerenv_findings(root: Path, files: dict[str, str]) -> list[Finding]:
    workspace = Workspace(make_repo(root, files))
    findings = run_checks(workspace, select=[NAME])
    assert all(f.name == NAME for f in findings)
    return findings


def positions(findings: list[Finding]) -> list[tuple[str, int, int]]:
    return [(f.path, f.line, f.column) for f in findings]


def post_build(*lines: str) -> str:
    return "#!/bin/bash\nset -e\n" + "".join(line + "\n" for line in lines)


# --- positives in postBuild ---------------------------------------------------------------

POSTBUILD_POSITIVES = {
    "test-f": ("[ -f /.dockerenv ] && echo classic", 6),
    "double-bracket": ("[[ -e /.dockerenv ]] && echo classic", 7),
    "test-command-quoted": ('test -e "/.dockerenv" || exit 0', 10),
    "if-then": ('if [ -f "/.dockerenv" ]; then', 10),
    "negated": ("if ! [ -e /.dockerenv ]; then echo buildkit; fi", 11),
    "indented-elif": ("  elif [ -f /.dockerenv ]; then", 13),
    "python-os-path": (
        "python -c 'import os, sys; sys.exit(os.path.exists(\"/.dockerenv\"))'",
        53,
    ),
    "python-pathlib": (
        "python3 -c \"from pathlib import Path; print(Path('/.dockerenv').exists())\"",
        51,
    ),
    "after-semicolon": ("cd /tmp; test -f /.dockerenv && echo yes", 18),
    "command-substitution": ("IN_DOCKER=$(ls /.dockerenv 2>/dev/null)", 16),
}


@pytest.mark.parametrize(
    ("line", "column"), POSTBUILD_POSITIVES.values(), ids=list(POSTBUILD_POSITIVES)
)
def test_postbuild_positive(tmp_path: Path, line: str, column: int) -> None:
    assert line.index("/.dockerenv") + 1 == column  # the table itself is right
    findings = dockerenv_findings(tmp_path / "r", {"postBuild": post_build("echo start", line)})
    assert positions(findings) == [("postBuild", 4, column)]


def test_python_postbuild_script(tmp_path: Path) -> None:
    """postBuild may be any executable; a Python one is checked line by line too."""
    script = (
        "#!/usr/bin/env python3\n"
        "import os\n"
        "# os.path.exists('/.dockerenv') in a comment is fine\n"
        'if os.path.exists("/.dockerenv"):\n'
        "    print('classic builder')\n"
        "elif os.path.isfile('/.dockerenv'):  # second test\n"
        "    pass\n"
    )
    findings = dockerenv_findings(tmp_path / "r", {"binder/postBuild": script})
    assert positions(findings) == [("binder/postBuild", 4, 20), ("binder/postBuild", 6, 22)]


def test_python_print_of_the_path_is_not_a_test(tmp_path: Path) -> None:
    script = "#!/usr/bin/env python3\nprint('/.dockerenv is not checked here')\n"
    assert dockerenv_findings(tmp_path / "r", {"postBuild": script}) == []


def test_two_tests_on_one_line(tmp_path: Path) -> None:
    line = "[ -f /.dockerenv ] || [ -e /.dockerenv ] || exit 0"
    findings = dockerenv_findings(tmp_path / "r", {"postBuild": post_build(line)})
    assert positions(findings) == [("postBuild", 3, 6), ("postBuild", 3, 28)]


def test_finding_fields(tmp_path: Path) -> None:
    findings = dockerenv_findings(
        tmp_path / "r", {".binder/postBuild": post_build("[ -f /.dockerenv ] && exit 0")}
    )
    assert len(findings) == 1
    finding = findings[0]
    assert {f.name for f in fields(Finding)} >= {
        "code",
        "name",
        "severity",
        "path",
        "line",
        "column",
        "message",
    }
    assert finding.code == CODE
    assert finding.name == NAME
    assert finding.severity is Severity.ERROR
    assert finding.path == ".binder/postBuild"
    assert (finding.line, finding.column) == (3, 6)
    assert "/.dockerenv" in finding.message and "BuildKit" in finding.message
    assert "\n" not in finding.message
    assert finding.fix and "REPO_DIR" in finding.fix
    data = finding.to_json()
    assert data["severity"] == "error" and data["code"] == CODE and data["line"] == 3
    assert finding.format_text().startswith(f".binder/postBuild:3:6: {CODE} [{NAME}] ")
    rule = find_rule(NAME)
    assert rule is not None and rule is find_rule(CODE) and rule.severity is Severity.ERROR


def test_select_by_code_and_ignore(tmp_path: Path) -> None:
    workspace = Workspace(
        make_repo(tmp_path / "r", {"postBuild": post_build("[ -f /.dockerenv ] && exit 0")})
    )
    assert len(run_checks(workspace, select=[CODE.lower()])) == 1
    assert [f for f in run_checks(workspace, ignore=[NAME]) if f.name == NAME] == []


# --- negatives in postBuild ---------------------------------------------------------------

POSTBUILD_NEGATIVES = {
    "comment": "# [ -f /.dockerenv ] && echo classic",
    "indented-comment": "    # if [ -e /.dockerenv ]; then",
    "trailing-comment": "echo building  # [ -f /.dockerenv ]",
    "trailing-comment-after-semicolon": "true;# test -e /.dockerenv",
    "echo": 'echo "/.dockerenv"',
    "echo-unquoted": "echo checking /.dockerenv",
    "printf": "printf '%s\\n' /.dockerenv",
    "touch": "touch /.dockerenv",
    "sudo-touch": "sudo touch /.dockerenv",
    "redirect": "> /.dockerenv",
    "redirect-after-command": ": > /.dockerenv",
    "append-redirect": "echo x >> '/.dockerenv'",
    "other-path": "[ -f /.dockerenvrc ] || [ -f /home/.dockerenvfile ]",
    "other-file": "[ -f /run/.containerenv ] && echo podman",
}


@pytest.mark.parametrize("line", POSTBUILD_NEGATIVES.values(), ids=list(POSTBUILD_NEGATIVES))
def test_postbuild_negative(tmp_path: Path, line: str) -> None:
    assert dockerenv_findings(tmp_path / "r", {"postBuild": post_build(line)}) == []


def test_start_script_is_run_time_not_build_time(tmp_path: Path) -> None:
    script = '#!/bin/bash\nif [ -f /.dockerenv ]; then echo docker; fi\nexec "$@"\n'
    assert dockerenv_findings(tmp_path / "r", {"start": script}) == []
    assert dockerenv_findings(tmp_path / "b", {"binder/start": script}) == []


def test_readme_mentions_are_not_code(tmp_path: Path) -> None:
    files = {
        "README.md": "Run `[ -f /.dockerenv ]` to check.\n\n    if [ -f /.dockerenv ]; then\n",
        "requirements.txt": "numpy\n",
        "docs/setup.sh": "[ -f /.dockerenv ] && echo\n",
    }
    assert dockerenv_findings(tmp_path / "r", files) == []


def test_root_postbuild_ignored_when_binder_exists(tmp_path: Path) -> None:
    files = {
        "postBuild": post_build("[ -f /.dockerenv ] && exit 0"),
        "binder/requirements.txt": "numpy\n",
    }
    assert dockerenv_findings(tmp_path / "r", files) == []


def test_postbuild_of_a_dockerfile_repo_is_not_run(tmp_path: Path) -> None:
    files = {
        "Dockerfile": "FROM scratch\n",
        "postBuild": post_build("[ -f /.dockerenv ] && exit 0"),
    }
    assert dockerenv_findings(tmp_path / "r", files) == []


def test_unsaved_buffer_is_checked(tmp_path: Path) -> None:
    workspace = Workspace(make_repo(tmp_path / "r", {"postBuild": post_build("echo ok")}))
    assert run_checks(workspace, select=[NAME]) == []
    workspace.set_text("postBuild", post_build("echo ok", "[ -e /.dockerenv ] || exit 1"))
    assert positions(run_checks(workspace, select=[NAME])) == [("postBuild", 4, 6)]


# --- Dockerfiles --------------------------------------------------------------------------


def test_dockerfile_run_if(tmp_path: Path) -> None:
    dockerfile = "FROM python:3.12\nRUN if [ -f /.dockerenv ]; then echo classic; fi\n"
    findings = dockerenv_findings(tmp_path / "r", {"Dockerfile": dockerfile})
    assert positions(findings) == [("Dockerfile", 2, 13)]
    finding = findings[0]
    assert (finding.code, finding.severity) == (CODE, Severity.ERROR)
    assert "RUN" in finding.message


def test_dockerfile_continued_run_third_line(tmp_path: Path) -> None:
    dockerfile = (
        "FROM python:3.12\n"
        "RUN set -e && \\\n"
        "    apt-get update && \\\n"
        "    if [ -e /.dockerenv ]; then echo classic; fi\n"
        'CMD ["python"]\n'
    )
    findings = dockerenv_findings(tmp_path / "r", {"binder/Dockerfile": dockerfile})
    assert positions(findings) == [("binder/Dockerfile", 4, 13)]


def test_dockerfile_comment_lines_inside_continued_run(tmp_path: Path) -> None:
    dockerfile = (
        "FROM python:3.12\n"
        "RUN set -e && \\\n"
        "# [ -f /.dockerenv ] && echo this line is a Dockerfile comment\n"
        "    # if [ -e /.dockerenv ]; then (indented comment)\n"
        "    echo one && \\\n"
        "    [ -f /.dockerenv ] || echo buildkit\n"
    )
    findings = dockerenv_findings(tmp_path / "r", {"Dockerfile": dockerfile})
    assert positions(findings) == [("Dockerfile", 6, 10)]


def test_dockerfile_lowercase_indented_and_exec_form(tmp_path: Path) -> None:
    dockerfile = (
        "FROM python:3.12\n"
        "  run test -f /.dockerenv && echo classic\n"
        'RUN ["sh", "-c", "[ -f /.dockerenv ] && echo classic"]\n'
    )
    findings = dockerenv_findings(tmp_path / "r", {"Dockerfile": dockerfile})
    assert positions(findings) == [("Dockerfile", 2, 15), ("Dockerfile", 3, 24)]


def test_dockerfile_negatives(tmp_path: Path) -> None:
    dockerfile = (
        "# RUN [ -f /.dockerenv ] && echo commented out\n"
        "FROM python:3.12\n"
        "ENV MARKER=/.dockerenv\n"
        'LABEL note="[ -f /.dockerenv ]"\n'
        "RUN touch /.dockerenv\n"
        'RUN echo "/.dockerenv" > /tmp/note  # [ -f /.dockerenv ]\n'
        "RUN echo hi \\\n"
        "# [ -f /.dockerenv ] inside a continued RUN, a Dockerfile comment\n"
        " && echo done\n"
        "COPY start /start\n"
    )
    assert dockerenv_findings(tmp_path / "r", {"Dockerfile": dockerfile}) == []


def test_dockerfile_empty_line_inside_continued_run(tmp_path: Path) -> None:
    dockerfile = "FROM python:3.12\nRUN echo one && \\\n\n    [ -f /.dockerenv ] && echo classic\n"
    findings = dockerenv_findings(tmp_path / "r", {"Dockerfile": dockerfile})
    assert positions(findings) == [("Dockerfile", 4, 10)]


def test_dockerfile_ignored_because_of_binder_is_not_checked(tmp_path: Path) -> None:
    files = {
        "Dockerfile": "FROM scratch\nRUN [ -f /.dockerenv ]\n",
        "binder/requirements.txt": "numpy\n",
    }
    assert dockerenv_findings(tmp_path / "r", files) == []
