"""apt.txt (``apt-txt-invalid-line``, issue #3).

repo2docker (checked: ``BuildPack.get_preassemble_scripts``, and ``--no-build``) strips
``# comments``, requires only that a line *start* with ``[a-z0-9.+-]``, and pastes the lines,
sorted, into one ``apt-get install`` command. So 'apt-get install -y vim' renders as
``apt-get install --yes … apt-get install -y vim`` (apt looks for a package 'install');
'vim git' installs both; 'Vim' fails the render; CRLF endings are fine (Python's universal
newlines); and apt package names are case-sensitive ('libC6' is not found).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rules_support import (  # noqa: F401 - the fixture is autouse
    Case,
    Want,
    _overlays_under_tmp_path,
    check_files,
    params,
    run_case,
)

from r2d_tui.core.findings import Severity

A = "apt.txt"
RULE = "apt-txt-invalid-line"
BASE = {"runtime.txt": "python-3.11\n"}


def apt(text: str | bytes, path: str = A) -> dict[str, str | bytes]:
    return {path: text, **BASE}


CASES = [
    Case("apt-get-install-command", apt("apt-get install -y vim\n"),
         want=(Want(RULE, A, 1, 1, Severity.ERROR),)),
    Case("sudo-apt-install", apt("git\nsudo apt install curl\n"), want=(Want(RULE, A, 2, 1),)),
    Case("indented-command", apt("   apt-get install vim\n"), want=(Want(RULE, A, 1, 4),)),
    Case(
        "backslash-continued-command",
        apt("apt-get install -y \\\n  vim \\\n  git\n"),
        want=(Want(RULE, A, 1, 1), Want(RULE, A, 2, 3)),
    ),
    Case("trailing-backslash-name", apt("vim\\\ngit\n"), want=(Want(RULE, A, 1, 1),)),
    Case("shell-operators", apt("vim && curl -sL https://x | sh\n"),
         want=(Want(RULE, A, 1, 1, Severity.ERROR),)),
    Case("capitalised", apt("Vim\n"), want=(Want(RULE, A, 1, 1, Severity.ERROR),),
         forbid=("render-failed",)),
    Case("inner-capital", apt("libX11-dev\n"), want=(Want(RULE, A, 1, 1),)),
    Case("underscore", apt("lib_foo\n"), want=(Want(RULE, A, 1, 1),)),
    Case("option-line", apt("--no-install-recommends\n-y\n"),
         want=(Want(RULE, A, 1, 1, Severity.WARNING), Want(RULE, A, 2, 1, Severity.WARNING)),
         forbid=("render-failed",)),
    Case("ppa-line", apt("ppa:deadsnakes/ppa\n"), want=(Want(RULE, A, 1, 1, Severity.ERROR),)),
    Case("semicolon", apt("vim; git\n"), want=(Want(RULE, A, 1, 1, Severity.ERROR),)),
    Case("two-names", apt("vim git\n"), want=(Want(RULE, A, 1, 1, Severity.WARNING),)),
    Case("tab-separated-names", apt("vim\tgit\n"), want=(Want(RULE, A, 1, 1, Severity.WARNING),)),
    Case("binder-apt", apt("apt install vim\n", "binder/apt.txt"),
         want=(Want(RULE, "binder/apt.txt", 1),)),
    Case("after-comment-and-blank", apt("# tools\n\nvim\nmake install\n"),
         want=(Want(RULE, A, 4, 1),)),
    # negatives
    Case("names", apt("vim\ngit\nlibgl1-mesa-glx\ng++\nlibstdc++6\npython3.11-dev\n"),
         forbid=(RULE,)),
    Case("comments-and-trailing-comments", apt("# editors\nvim # the editor\ngit#vcs\n  # x\n"),
         forbid=(RULE,)),
    Case("blank-and-whitespace-lines", apt("\n   \nvim\n\t\n"), forbid=(RULE,)),
    Case("version-arch-release", apt("r-base=4.1.2-1\nlibc6:i386\npython3=3.10*\n"
                                     "vim/jammy-backports\n"), forbid=(RULE,)),
    Case("crlf", apt("vim\r\ngit\r\n"), forbid=(RULE,)),
    Case("no-final-newline", apt("vim\ngit"), forbid=(RULE,)),
    Case("indented-name", apt("  vim\n\tgit\n"), forbid=(RULE,)),
    Case("bom-is-utf8-bom-not-a-bad-line", apt(b"\xef\xbb\xbfvim\n"), forbid=(RULE,),
         want=(Want("utf8-bom", A, 1, 1, Severity.ERROR),)),
    Case("ignored-with-dockerfile", {A: "apt-get install vim\n", "Dockerfile": "FROM scratch\n"},
         forbid=(RULE,)),
    Case("shadowed-by-binder", {A: "apt-get install vim\n", "binder/requirements.txt": "x\n"},
         forbid=(RULE,)),
]


@pytest.mark.parametrize("case", params(CASES))
def test_apt_rule(tmp_path: Path, case: Case) -> None:
    run_case(tmp_path / "repo", case)


def test_fix_lists_the_package_names(tmp_path: Path) -> None:
    findings = check_files(tmp_path / "repo", apt("sudo apt-get install -y vim git\n"))
    (finding,) = [f for f in findings if f.name == RULE]
    assert finding.fix == "replace with: vim, git"


@pytest.mark.parametrize(
    ("files", "hinted"),
    [
        ({"binder/apt.txt": "../ci/apt.txt\n", "ci/apt.txt": "git\n"}, True),
        ({"binder/apt.txt": "../ci/apt.txt", "ci/apt.txt": "git\n"}, True),  # no newline
        ({"binder/apt.txt": "../ci/apt.txt\n"}, False),  # no such file: just a bad line
        ({"binder/apt.txt": "../ci/apt.txt\nvim\n", "ci/apt.txt": "git\n"}, False),
        ({"binder/apt.txt": "/etc/apt.txt\n"}, False),
    ],
    ids=["target-exists", "no-newline", "no-target", "more-lines", "absolute"],
)
def test_symlink_checked_out_as_a_file(
    tmp_path: Path, files: dict[str, str], hinted: bool
) -> None:
    findings = [f for f in check_files(tmp_path / "repo", files)
                if f.name == "apt-txt-invalid-line"]
    assert [(f.path, f.line) for f in findings] == [("binder/apt.txt", 1)]
    hint = "this file holds only the path ../ci/apt.txt: a symlink checked out as a plain file"
    assert (hint in findings[0].message) is hinted
    if hinted:
        assert "(core.symlinks=false)?" in findings[0].message
