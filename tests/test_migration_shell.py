"""Migration checks on shell build-time code: postBuild and the scripts it runs.

Positives say where (``path:line:column`` of the ``/`` of ``/.dockerenv``) and through
which chain; negatives check that comments, printed strings, writers, run-time scripts and
scripts nobody calls stay quiet (at most ``runtime-container-detection``, an info).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from migration_support import (
    MIGRATION,
    _overlays_under_tmp_path,  # noqa: F401 - autouse fixture
    check,
    col,
    migration_findings,
    only,
    post_build,
)
from rules_support import check_files

from r2d_tui.core.findings import Severity
from r2d_tui.core.render import RenderOptions

DOCKERENV = "dockerenv-reliance"
RUNTIME = "runtime-container-detection"

# --- one line of postBuild: every spelling of the test ----------------------------------------

POSITIVE_LINES = {
    "double-bracket-negated": "if [[ ! -e /.dockerenv ]]; then",
    "test-quoted": 'test -f "/.dockerenv" || exit 1',
    "bracket-and": "[ -e /.dockerenv ] && echo classic builder",
    "bracket-single-quoted": "if [ -f '/.dockerenv' ]; then echo docker; fi",
    "negated-bracket": "if ! [ -e /.dockerenv ]; then exit 0; fi",
    "or-with-other-test": '[[ -f "/.dockerenv" || -n "$CI" ]] && echo ok',
    "in-substitution": "IN_DOCKER=$( [ -f /.dockerenv ] && echo 1 || echo 0 )",
    "substitution-inside-echo": 'echo "docker: $([ -f /.dockerenv ] && echo yes)"',
    "after-cd": "cd /tmp; test -e /.dockerenv && echo yes",
    "stat": "stat /.dockerenv > /dev/null 2>&1 && DOCKER=1",
    "ls-fails-under-set-e": "ls -la /.dockerenv",
    "variable-then-test": 'MARKER=/.dockerenv; [ -f "$MARKER" ] && echo yes',
    "elif": "  elif [ -f /.dockerenv ]; then",
}


@pytest.mark.parametrize("line", POSITIVE_LINES.values(), ids=list(POSITIVE_LINES))
def test_postbuild_line_positive(tmp_path: Path, line: str) -> None:
    files = {"postBuild": post_build("echo start", line)}
    assert check(tmp_path, files) == [(DOCKERENV, "postBuild", 4, col(line))]


NEGATIVE_LINES = {
    "comment": "# if [ -f /.dockerenv ]; then",
    "trailing-comment": "echo hi  # [ -e /.dockerenv ] would be wrong",
    "echo-quoted": 'echo "/.dockerenv"',
    "echo-test-text": 'echo "[ -f /.dockerenv ]"',
    "printf": "printf '%s\\n' /.dockerenv",
    "touch": "touch /.dockerenv",
    "sudo-touch": "sudo touch /.dockerenv",
    "redirect-creates": ": > /.dockerenv",
    "rm-f": "rm -f /.dockerenv",
    "ln": "ln -sf /dev/null /.dockerenv",
    "other-file": "[ -f /.dockerenvrc ] && echo no",
    "repo-dir": 'if [ -z "${REPO_DIR:-}" ]; then exit 1; fi',
}


@pytest.mark.parametrize("line", NEGATIVE_LINES.values(), ids=list(NEGATIVE_LINES))
def test_postbuild_line_negative(tmp_path: Path, line: str) -> None:
    assert check(tmp_path, {"postBuild": post_build("echo start", line)}) == []


# --- the scikit-learn case ---------------------------------------------------------------------

SKLEARN_BEFORE = """\
#!/bin/bash

set -e

# Called by repo2docker: we are in a checkout of the repository.

if [[ ! -f /.dockerenv ]]; then
    echo "This script was written for repo2docker and must run inside a docker container."
    echo "Exiting because this script can delete data if run outside of a container."
    exit 1
fi

TMP_CONTENT_DIR=/tmp/checkout
mkdir -p $TMP_CONTENT_DIR
cp -r examples .binder $TMP_CONTENT_DIR
find . -delete
"""
SKLEARN_AFTER = SKLEARN_BEFORE.replace(
    "if [[ ! -f /.dockerenv ]]; then", 'if [[ -z "${REPO_DIR}" ]]; then'
)
SKLEARN_FILES = {
    ".binder/requirements.txt": "numpy\nsphinx-gallery\n",
    ".binder/runtime.txt": "python-3.12\n",
}


def test_scikit_learn_binder_postbuild(tmp_path: Path) -> None:
    findings = migration_findings(
        tmp_path / "before", {**SKLEARN_FILES, ".binder/postBuild": SKLEARN_BEFORE}
    )
    line = "if [[ ! -f /.dockerenv ]]; then"
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DOCKERENV, ".binder/postBuild", 7, col(line))
    ]
    finding = findings[0]
    assert finding.severity is Severity.ERROR
    assert finding.chain == (".binder/postBuild:7",)
    assert "BuildKit" in finding.message and "/.dockerenv" in finding.message
    assert finding.fix is not None and "REPO_DIR" in finding.fix


def test_scikit_learn_fixed_postbuild_is_clean(tmp_path: Path) -> None:
    files = {**SKLEARN_FILES, ".binder/postBuild": SKLEARN_AFTER}
    assert check(tmp_path, files) == []


def test_binder_folder_postbuild(tmp_path: Path) -> None:
    files = {"binder/postBuild": post_build("[ -e /.dockerenv ] && exit 0")}
    assert check(tmp_path, files) == [(DOCKERENV, "binder/postBuild", 3, 6)]


def test_root_postbuild_ignored_when_binder_folder_exists(tmp_path: Path) -> None:
    """repo2docker reads only binder/: the root postBuild never runs (so, at most, it is
    run-time information)."""
    files = {
        "binder/requirements.txt": "numpy\n",
        "postBuild": post_build("[ -e /.dockerenv ] && exit 0"),
    }
    assert check(tmp_path, files) == [(RUNTIME, "postBuild", 3, 6)]


# --- call chains ------------------------------------------------------------------------------

SETUP_SH = "#!/bin/bash\nif [ -f /.dockerenv ]; then\n  echo classic\nfi\n"
SETUP_COLUMN = col("if [ -f /.dockerenv ]; then")  # line 2 of SETUP_SH


def test_chain_through_bash_script(tmp_path: Path) -> None:
    files = {
        "binder/postBuild": post_build("echo one", "bash scripts/setup.sh"),
        "scripts/setup.sh": SETUP_SH,
    }
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DOCKERENV, "scripts/setup.sh", 2, SETUP_COLUMN)
    ]
    finding = findings[0]
    assert finding.chain == ("binder/postBuild:4", "scripts/setup.sh:2")
    assert "binder/postBuild:4 → scripts/setup.sh:2" in finding.message


@pytest.mark.parametrize(
    ("call", "line"),
    [
        ("./scripts/setup.sh", 3),
        ("sh scripts/setup.sh --verbose", 3),
        ("source scripts/setup.sh", 3),
        (". ./scripts/setup.sh", 3),
        ('bash "${REPO_DIR}/scripts/setup.sh"', 3),
        ("bash $REPO_DIR/scripts/setup.sh", 3),
        # repo2docker copies the repository to REPO_DIR, which is HOME = /home/$NB_USER
        ('bash "${HOME}/scripts/setup.sh"', 3),
        ("bash $HOME/scripts/setup.sh", 3),
        ('bash "$HOME/scripts/setup.sh"', 3),
        ("bash ~/scripts/setup.sh", 3),
        ("bash /home/jovyan/scripts/setup.sh", 3),
        ("HERE=$HOME/scripts\nbash $HERE/setup.sh", 4),
        ("cd scripts && ./setup.sh", 3),
        ("bash -c 'bash scripts/setup.sh'", 3),
        ("sudo -E bash scripts/setup.sh", 3),
        ("exec bash scripts/setup.sh", 3),
        ("X=1 bash scripts/setup.sh", 3),
        ("bash scripts/setup.sh \\\n  --flag", 3),
    ],
)
def test_ways_of_calling_a_script(tmp_path: Path, call: str, line: int) -> None:
    files = {"postBuild": post_build(call), "scripts/setup.sh": SETUP_SH}
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DOCKERENV, "scripts/setup.sh", 2, SETUP_COLUMN)
    ]
    assert findings[0].chain == (f"postBuild:{line}", "scripts/setup.sh:2")


def test_home_relative_python_script_is_build_time(tmp_path: Path) -> None:
    files = {
        "requirements.txt": "numpy\n",
        "postBuild": post_build("python $HOME/tools/x.py"),
        "tools/x.py": "import os\nif os.path.exists('/.dockerenv'):\n    print('docker')\n",
    }
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line) for f in findings] == [(DOCKERENV, "tools/x.py", 2)]
    assert findings[0].chain == ("postBuild:3", "tools/x.py:2")


@pytest.mark.parametrize(
    "call",
    [
        "bash $HOMEDIR/scripts/setup.sh",  # another variable
        "bash /home/someone-else/scripts/setup.sh",
        "bash /root/scripts/setup.sh",
        "bash $HOME/other/setup.sh",  # no such file in the repository
    ],
)
def test_paths_that_are_not_the_repository_copy(tmp_path: Path, call: str) -> None:
    files = {"postBuild": post_build(call), "scripts/setup.sh": SETUP_SH}
    assert check(tmp_path, files) == [(RUNTIME, "scripts/setup.sh", 2, SETUP_COLUMN)]


def _with_options(tmp_path: Path, call: str, options: RenderOptions) -> list[tuple[str, str]]:
    files = {"postBuild": post_build(call), "scripts/setup.sh": SETUP_SH}
    findings = check_files(tmp_path, files, select=MIGRATION, options=options)
    return sorted((f.name, f.path) for f in findings)


@pytest.mark.parametrize(
    ("call", "followed"),
    [
        ("bash $HOME/scripts/setup.sh", False),  # HOME is no longer the repository copy
        ("bash ~/scripts/setup.sh", False),
        ("bash /home/jovyan/scripts/setup.sh", False),
        ("bash ${REPO_DIR}/scripts/setup.sh", True),
        ("bash /srv/repo/scripts/setup.sh", True),
    ],
)
def test_target_repo_dir_moves_the_copy_away_from_home(
    tmp_path: Path, call: str, followed: bool
) -> None:
    options = RenderOptions(user_name="jovyan", target_repo_dir="/srv/repo")
    name = DOCKERENV if followed else RUNTIME
    assert _with_options(tmp_path, call, options) == [(name, "scripts/setup.sh")]


@pytest.mark.parametrize(
    ("call", "followed"),
    [
        ("bash /home/alice/scripts/setup.sh", True),
        ("bash $HOME/scripts/setup.sh", True),
        ("bash /home/jovyan/scripts/setup.sh", False),  # HOME is /home/alice
    ],
)
def test_home_follows_the_user_name(tmp_path: Path, call: str, followed: bool) -> None:
    options = RenderOptions(user_name="alice", target_repo_dir="/home/alice")
    name = DOCKERENV if followed else RUNTIME
    assert _with_options(tmp_path, call, options) == [(name, "scripts/setup.sh")]


def test_cd_on_its_own_line_is_followed(tmp_path: Path) -> None:
    files = {"postBuild": post_build("cd scripts", "./setup.sh"), "scripts/setup.sh": SETUP_SH}
    findings = migration_findings(tmp_path, files)
    assert [f.chain for f in findings] == [("postBuild:4", "scripts/setup.sh:2")]


def test_script_next_to_postbuild_via_dirname(tmp_path: Path) -> None:
    files = {
        "binder/postBuild": post_build('bash "$(dirname "$0")/setup.sh"'),
        "binder/setup.sh": SETUP_SH,
    }
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line) for f in findings] == [(DOCKERENV, "binder/setup.sh", 2)]
    assert findings[0].chain == ("binder/postBuild:3", "binder/setup.sh:2")


def test_two_level_chain(tmp_path: Path) -> None:
    files = {
        "postBuild": post_build("bash ci/build.sh"),
        "ci/build.sh": "#!/bin/bash\nset -e\nsource ci/env.sh\n",
        "ci/env.sh": "export X=1\n[ -e /.dockerenv ] && export IN_DOCKER=1\n",
    }
    findings = migration_findings(tmp_path, files)
    assert [(f.path, f.line, f.column) for f in findings] == [("ci/env.sh", 2, 6)]
    assert findings[0].chain == ("postBuild:3", "ci/build.sh:3", "ci/env.sh:2")


def test_cycles_are_safe(tmp_path: Path) -> None:
    files = {
        "postBuild": post_build("bash a.sh"),
        "a.sh": "source b.sh\n[ -f /.dockerenv ] && echo a\n",
        "b.sh": "bash a.sh\n. ./b.sh\n[ -f /.dockerenv ] && echo b\n",
    }
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line) for f in findings] == [
        (DOCKERENV, "a.sh", 2),
        (DOCKERENV, "b.sh", 3),
    ]
    assert only([f for f in findings if f.path == "b.sh"], DOCKERENV).chain == (
        "postBuild:3", "a.sh:1", "b.sh:3",
    )


def test_depth_is_bounded(tmp_path: Path) -> None:
    """A chain deeper than the bound is not followed to the end (the last script is then
    only run-time information), and nothing loops."""
    files = {"postBuild": post_build("bash s0.sh")}
    for index in range(20):
        files[f"s{index}.sh"] = f"bash s{index + 1}.sh\n"
    files["s20.sh"] = "[ -f /.dockerenv ] && echo deep\n"
    assert check(tmp_path, files) == [(RUNTIME, "s20.sh", 1, 6)]
    files["s3.sh"] = "[ -f /.dockerenv ] && echo shallow\n"
    assert (DOCKERENV, "s3.sh", 1, 6) in check(tmp_path / "shallow", files)


def test_script_nobody_calls_is_runtime_info_only(tmp_path: Path) -> None:
    files = {
        "postBuild": post_build("echo nothing to do"),
        "scripts/unused.sh": SETUP_SH,
    }
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (RUNTIME, "scripts/unused.sh", 2, SETUP_COLUMN)
    ]
    assert findings[0].severity is Severity.INFO
    assert findings[0].chain == ()


def test_start_is_run_time(tmp_path: Path) -> None:
    files = {
        "requirements.txt": "numpy\n",
        "start": '#!/bin/bash\nif [ -f /.dockerenv ]; then export IN_DOCKER=1; fi\nexec "$@"\n',
    }
    assert check(tmp_path, files) == [(RUNTIME, "start", 2, 9)]


def test_start_called_from_postbuild_is_build_time(tmp_path: Path) -> None:
    """A script is build-time code when the build runs it, whatever its name."""
    files = {
        "postBuild": post_build("bash start --check"),
        "start": '#!/bin/bash\n[ -f /.dockerenv ] || exit 1\nexec "$@"\n',
    }
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line) for f in findings] == [(DOCKERENV, "start", 2)]


def test_heredoc_that_writes_a_file_is_not_code_now(tmp_path: Path) -> None:
    """``cat > start <<EOF`` stores text; the build does not run it (and a script the
    heredoc mentions is not followed)."""
    files = {
        "postBuild": post_build(
            "cat > ~/.local/bin/check <<'EOF'",
            "[ -f /.dockerenv ] && echo docker",
            "bash scripts/setup.sh",
            "EOF",
            "echo done",
        ),
        "scripts/setup.sh": SETUP_SH,
    }
    assert check(tmp_path, files) == [(RUNTIME, "scripts/setup.sh", 2, SETUP_COLUMN)]


def test_heredoc_fed_to_bash_runs(tmp_path: Path) -> None:
    files = {
        "postBuild": post_build("bash <<EOF", "[ -f /.dockerenv ] && echo docker", "EOF"),
    }
    assert check(tmp_path, files) == [(DOCKERENV, "postBuild", 4, 6)]


def test_two_probes_and_a_comment_on_one_script(tmp_path: Path) -> None:
    line = "[ -f /.dockerenv ] || [ -e /.dockerenv ] || exit 0  # [ -f /.dockerenv ]"
    assert check(tmp_path, {"postBuild": post_build(line)}) == [
        (DOCKERENV, "postBuild", 3, 6),
        (DOCKERENV, "postBuild", 3, 28),
    ]


def test_readme_docs_and_text_are_not_code(tmp_path: Path) -> None:
    files = {
        "requirements.txt": "numpy\n",
        "README.md": "Check with:\n\n```bash\nif [[ ! -e /.dockerenv ]]; then exit 1; fi\n```\n",
        "docs/index.rst": ".. code-block:: bash\n\n   test -f /.dockerenv && echo docker\n",
        "docs/notes.txt": "[ -e /.dockerenv ] && echo\n",
        "CHANGELOG": "Stop relying on [ -f /.dockerenv ]\n",
    }
    assert check(tmp_path, files) == []


def test_latin1_postbuild_is_still_checked(tmp_path: Path) -> None:
    """bash does not care about the encoding; a non-UTF-8 byte must not hide the test."""
    text = "#!/bin/bash\n# caf\xe9\n[ -f /.dockerenv ] && exit 0\n"
    files = {"postBuild": text.encode("latin-1")}
    assert check(tmp_path, files) == [(DOCKERENV, "postBuild", 3, 6)]


@pytest.mark.parametrize(
    ("assignment", "call", "target"),
    [
        ('SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"',
         'bash "$SCRIPT_DIR/setup.sh"', "binder/setup.sh"),
        ('ROOT=$(cd "$(dirname "$0")/.." && pwd)', "source ${ROOT}/scripts/setup.sh",
         "scripts/setup.sh"),
        ("export TOOLS=scripts", "bash $TOOLS/setup.sh", "scripts/setup.sh"),
    ],
    ids=["script-dir", "root-dir", "plain"],
)
def test_path_variables_are_followed(
    tmp_path: Path, assignment: str, call: str, target: str
) -> None:
    files = {"binder/postBuild": post_build(assignment, call), target: SETUP_SH}
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line) for f in findings] == [(DOCKERENV, target, 2)]
    assert findings[0].chain == ("binder/postBuild:4", f"{target}:2")


def test_variable_with_an_unknown_value_is_not_guessed(tmp_path: Path) -> None:
    files = {
        "postBuild": post_build("TOOLS=scripts", "TOOLS=$(mktemp -d)", "bash $TOOLS/setup.sh"),
        "scripts/setup.sh": SETUP_SH,
    }
    assert check(tmp_path, files) == [(RUNTIME, "scripts/setup.sh", 2, SETUP_COLUMN)]
