"""The migration checks on odd input: nothing crashes, nothing loops, and odd files give
no spurious findings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from migration_support import (
    _overlays_under_tmp_path,  # noqa: F401 - autouse fixture
    check,
    post_build,
)
from rules_support import FileSpec, Mode

from r2d_tui.core.buildtime import MAX_FILES

R_RUNTIME = "r-4.3-2024-01-01\n"

ODD_REPOS: dict[str, dict[str, FileSpec]] = {
    "binary-postbuild": {"postBuild": Mode(b"\x00\xff\xfe[ -f /.dockerenv ]\n", 0o755)},
    "empty-postbuild": {"postBuild": ""},
    "empty-dockerfile": {"Dockerfile": ""},
    "comment-only-dockerfile": {"Dockerfile": "# nothing\n"},
    "run-without-argument": {"Dockerfile": "FROM x\nRUN\nRUN \\\n"},
    "instructions-before-from": {"Dockerfile": "VOLUME\nWORKDIR\nUSER\nCOPY\nFROM\n"},
    "unterminated-heredoc": {"Dockerfile": "FROM x\nRUN <<EOF\necho hi\n"},
    "unbalanced-quotes": {"postBuild": post_build("bash 'scripts/x.sh", 'echo "open')},
    "bad-package-json": {"postBuild": post_build("npm install", "npm run"),
                         "package.json": "{not json"},
    "package-json-list": {"postBuild": post_build("npm ci"), "package.json": "[1, 2]"},
    "package-json-scripts-list": {"postBuild": post_build("npm ci"),
                                  "package.json": '{"scripts": ["a"]}'},
    "bad-notebook": {"postBuild": post_build("papermill a.ipynb"), "a.ipynb": "{"},
    "odd-notebook": {"postBuild": post_build("papermill a.ipynb"),
                     "a.ipynb": '{"cells": [1, {"cell_type": "code", "source": 5}]}'},
    "odd-makefile": {"postBuild": post_build("make -C", "make -f", "make -f nope"),
                     "Makefile": "\t\n:\n::\n=:\n"},
    "deep-python": {"postBuild": "#!/usr/bin/env python3\nx = " + "(" * 400 + "1" + ")" * 400},
    "bare-commands": {"postBuild": post_build(
        "pip", "pip install", "pip install -r", "python -m", "python -m pip", "bash", "source",
        "Rscript", "julia", "node", "npm --prefix", "jupyter nbconvert --execute", "sudo",
        "env -i", "cd", "cd ..", "cd ../..", "./x.sh", "make -C ../..",
    )},
    "odd-requirements": {"requirements.txt": "-e\n--editable=\n.\n-e ..\n-e ../outside\n"},
    "odd-python-calls": {"postBuild": "#!/usr/bin/env python3\nimport subprocess, os\n"
                         "subprocess.run()\nos.system()\nsubprocess.run([])\n"
                         "subprocess.run([''])\nrunpy.run_path('')\nfrom . import x\n"},
    "odd-install-r": {"runtime.txt": R_RUNTIME,
                      "install.R": 'source("")\nsystem("")\nsource("../../etc/passwd")\n'},
    "odd-copies": {"Dockerfile": 'FROM x\nCOPY\nCOPY a\nCOPY ["a", \nADD --chown=1 http://x/y /z\n'
                                 "RUN /z\nWORKDIR ../..\nRUN ./q\nCOPY <<EOF /x\nhi\nEOF\n"},
    "odd-volumes": {"Dockerfile": 'FROM x\nVOLUME ["unterminated\nVOLUME [1, 2]\nRUN mkdir /x\n'},
    "odd-stage-references": {"Dockerfile": "FROM x AS a\nFROM a AS b\nFROM b AS a\n"
                                           "COPY --from=99 / /\nCOPY --from= / /\nFROM\n"},
    "odd-pyproject": {"pyproject.toml": "[build-system\nnot toml", "setup.py": ""},
    "pyproject-odd-types": {"pyproject.toml": "[project]\nname='x'\n[build-system]\n"
                                              "build-backend = 1\nbackend-path = 'x'\n"
                                              "[tool.hatch.build]\nhooks = 3\n"},
    "odd-heredocs": {"postBuild": post_build("cat <<", "cat <<<EOF", "x=$((1<<2))", "cat <<-E",
                                             "\tE")},
}


@pytest.mark.parametrize("files", ODD_REPOS.values(), ids=list(ODD_REPOS))
def test_odd_input_does_not_crash(tmp_path: Path, files: dict[str, FileSpec]) -> None:
    findings = check(tmp_path, files)
    assert all(name != "dockerenv-reliance" or path != "postBuild"
               for name, path, _, _ in findings)


def test_symlinks_out_of_the_repository_and_loops(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "postBuild").write_text(post_build("bash link.sh", "bash loop/x.sh", "bash self/x.sh"))
    os.symlink("/etc/hostname", root / "link.sh")
    os.symlink("loop", root / "loop")
    os.symlink(".", root / "self")
    (root / "x.sh").write_text("[ -f /.dockerenv ]\n")
    findings = check(root, {})
    assert ("dockerenv-reliance", "link.sh", 1, 1) not in findings
    assert all(path in ("x.sh", "self/x.sh") for _, path, _, _ in findings)


def test_many_scripts_are_bounded(tmp_path: Path) -> None:
    """A postBuild calling hundreds of scripts stops at the file bound instead of running
    for ever."""
    lines = [f"bash s{index}.sh" for index in range(400)]
    files: dict[str, FileSpec] = {"postBuild": post_build(*lines)}
    for index in range(400):
        files[f"s{index}.sh"] = "[ -f /.dockerenv ] && echo x\n"
    findings = check(tmp_path, files)
    build_time = [f for f in findings if f[0] == "dockerenv-reliance"]
    assert len(build_time) == MAX_FILES - 1  # postBuild is one of the files
    assert len(findings) == 400
