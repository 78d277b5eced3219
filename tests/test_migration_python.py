"""Migration checks on Python build-time code: a Python postBuild, scripts it runs,
modules they import, setup.py reached through ``pip install .`` (repo2docker's own, a
postBuild's, or ``-e .`` in requirements.txt), pyproject build hooks and notebooks executed
during the build.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from migration_support import (
    _overlays_under_tmp_path,  # noqa: F401 - autouse fixture
    check,
    col,
    migration_findings,
    post_build,
)

from r2d_tui.core.findings import Severity

DOCKERENV = "dockerenv-reliance"
DETECTION = "container-detection-reliance"
RUNTIME = "runtime-container-detection"

PY = "#!/usr/bin/env python3\n"

# --- a Python postBuild: each form of the test on line 3 ----------------------------------------

POSITIVES = {
    "os-path-exists": "if os.path.exists('/.dockerenv'):",
    "os-path-isfile-not": 'if not os.path.isfile("/.dockerenv"):',
    "pathlib-exists": "IN_DOCKER = pathlib.Path('/.dockerenv').exists()",
    "pathlib-is-file": "if pathlib.Path('/.dockerenv').is_file():",
    "os-access": "IN_DOCKER = os.access('/.dockerenv', os.F_OK)",
    "constant-used-later": "DOCKERENV = '/.dockerenv'",
    "subprocess-test": "subprocess.call(['test', '-e', '/.dockerenv'])",
    "shell-test-string": "subprocess.run('[ -f /.dockerenv ] && echo yes', shell=True)",
}


@pytest.mark.parametrize("line", POSITIVES.values(), ids=list(POSITIVES))
def test_python_postbuild_positive(tmp_path: Path, line: str) -> None:
    script = PY + "import os, pathlib, subprocess\n" + line + "\n    pass\n"
    script = script if line.endswith(":") else script.replace("\n    pass\n", "\n")
    assert check(tmp_path, {"postBuild": script}) == [(DOCKERENV, "postBuild", 3, col(line))]


def test_open_in_try_except(tmp_path: Path) -> None:
    script = PY + (
        "try:\n"
        "    open('/.dockerenv').close()\n"
        "    IN_DOCKER = True\n"
        "except OSError:\n"
        "    IN_DOCKER = False\n"
    )
    assert check(tmp_path, {".binder/postBuild": script}) == [
        (DOCKERENV, ".binder/postBuild", 3, col("    open('/.dockerenv').close()"))
    ]


def test_path_built_from_parts(tmp_path: Path) -> None:
    script = PY + (
        "import os\n"
        "from pathlib import Path\n"
        "a = os.path.exists(os.path.join('/', '.dockerenv'))\n"
        "b = (Path('/') / '.dockerenv').exists()\n"
    )
    assert check(tmp_path, {"postBuild": script}) == [
        (DOCKERENV, "postBuild", 4, col("a = os.path.exists(os.path.join('/', '.dockerenv'))",
                                        "'.dockerenv'")),
        (DOCKERENV, "postBuild", 5, col("b = (Path('/') / '.dockerenv').exists()",
                                        "'.dockerenv'")),
    ]


PRINTED = {
    "print-exists": "print(os.path.exists('/.dockerenv'))",
    "print-label": "print('docker:', pathlib.Path('/.dockerenv').is_file())",
    "logging-isfile": "logging.info('%s', os.path.isfile('/.dockerenv'))",
    "print-access": "print(os.access('/.dockerenv', os.F_OK))",
}


@pytest.mark.parametrize("line", PRINTED.values(), ids=list(PRINTED))
def test_printed_test_is_a_warning(tmp_path: Path, line: str) -> None:
    """Only the output changes (the value is now False): a warning, not an error."""
    script = PY + "import logging, os, pathlib\n" + line + "\n"
    findings = migration_findings(tmp_path, {"postBuild": script})
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DOCKERENV, "postBuild", 3, col(line))
    ]
    assert findings[0].severity is Severity.WARNING
    assert "now False under BuildKit" in findings[0].message
    assert "only changes the output" in findings[0].message


def test_printed_test_in_run_time_code_stays_info(tmp_path: Path) -> None:
    files = {"requirements.txt": "numpy\n", "tools/show.py": "import os\n"
             "print(os.path.exists('/.dockerenv'))\n"}
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.severity) for f in findings] == [(RUNTIME, Severity.INFO)]


NEGATIVES = {
    "comment": "# if os.path.exists('/.dockerenv'):",
    "docstring": '"""Used to test os.path.exists("/.dockerenv")."""',
    "print": "print('/.dockerenv is not used any more')",
    "print-fstring": "print(f\"no {'/.dockerenv'} here\")",
    "logging": "logging.info('checking /.dockerenv')",
    "message-constant": "MESSAGE = 'this build used to need /.dockerenv'",
    "raise-message": "raise SystemExit('run me where /.dockerenv exists') if False else None",
    "touch": "pathlib.Path('/.dockerenv').touch()",
    "open-write": "open('/.dockerenv', 'w').close()",
    "open-append-keyword": "open('/.dockerenv', mode='a').close()",
    "subprocess-touch": "subprocess.run(['touch', '/.dockerenv'])",
    "os-system-touch": "os.system('touch /.dockerenv')",
    "other-name": "os.path.exists('/.dockerenvrc')",
    "print-path-only": "print('/.dockerenv')",
    "print-exists-of-other": "print(os.path.exists('/etc/.dockerenv'))",
    "print-touch": "print(pathlib.Path('/.dockerenv').touch())",
    "repo-dir": "IN_REPO2DOCKER = 'REPO_DIR' in os.environ",
}


@pytest.mark.parametrize("line", NEGATIVES.values(), ids=list(NEGATIVES))
def test_python_postbuild_negative(tmp_path: Path, line: str) -> None:
    script = PY + "import logging, os, pathlib, subprocess\n" + line + "\n"
    assert check(tmp_path, {"postBuild": script}) == []


def test_python_2_postbuild_falls_back_to_lines(tmp_path: Path) -> None:
    script = PY + (
        "import os\n"
        "print 'building'\n"
        "# os.path.exists('/.dockerenv')\n"
        "if os.path.exists('/.dockerenv'):\n"
        "    print 'classic'\n"
    )
    assert check(tmp_path, {"postBuild": script}) == [
        (DOCKERENV, "postBuild", 5, col("if os.path.exists('/.dockerenv'):"))
    ]


# --- chains -------------------------------------------------------------------------------------

CHECK_PY = "import os\n\nif not os.path.isfile('/.dockerenv'):\n    raise SystemExit(1)\n"
CHECK_COLUMN = col("if not os.path.isfile('/.dockerenv'):")


@pytest.mark.parametrize(
    "call",
    [
        "python scripts/check.py",
        "python3 -u scripts/check.py --flag",
        "exec python3 scripts/check.py",
        "python -m scripts.check",
        "ipython scripts/check.py",
    ],
)
def test_python_script_run_by_postbuild(tmp_path: Path, call: str) -> None:
    files = {
        "postBuild": post_build(call),
        "scripts/__init__.py": "",
        "scripts/check.py": CHECK_PY,
    }
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DOCKERENV, "scripts/check.py", 3, CHECK_COLUMN)
    ]
    assert findings[0].chain == ("postBuild:3", "scripts/check.py:3")


def test_imported_module_is_build_time(tmp_path: Path) -> None:
    files = {
        "postBuild": post_build("python -m tools.prepare"),
        "tools/__init__.py": "",
        "tools/prepare.py": "import sys\n\nfrom tools import helpers\n",
        "tools/helpers.py": CHECK_PY,
    }
    findings = migration_findings(tmp_path, files)
    assert [(f.path, f.line) for f in findings] == [("tools/helpers.py", 3)]
    assert findings[0].chain == ("postBuild:3", "tools/prepare.py:3", "tools/helpers.py:3")


def test_relative_imports_in_a_package(tmp_path: Path) -> None:
    files = {
        "postBuild": post_build("python -m tools"),
        "tools/__init__.py": "",
        "tools/__main__.py": "from . import steps\nfrom .sub.deep import x\n",
        "tools/steps.py": CHECK_PY,
        "tools/sub/__init__.py": "",
        "tools/sub/deep.py": "from .. import other\n",
        "tools/other.py": "import os\nx = os.path.exists('/.dockerenv')\n",
    }
    findings = migration_findings(tmp_path, files)
    assert [(f.path, f.line) for f in findings] == [("tools/other.py", 2), ("tools/steps.py", 3)]
    assert [f.chain for f in findings] == [
        ("postBuild:3", "tools/__main__.py:2", "tools/sub/deep.py:1", "tools/other.py:2"),
        ("postBuild:3", "tools/__main__.py:1", "tools/steps.py:3"),
    ]


def test_subprocess_from_python_into_shell(tmp_path: Path) -> None:
    files = {
        "postBuild": PY + "import subprocess\nsubprocess.check_call(['bash', 'ci/check.sh'])\n",
        "ci/check.sh": "[ -e /.dockerenv ] || exit 1\n",
    }
    findings = migration_findings(tmp_path, files)
    assert [(f.path, f.line, f.column) for f in findings] == [("ci/check.sh", 1, 6)]
    assert findings[0].chain == ("postBuild:3", "ci/check.sh:1")


SETUP_PY = (
    "import os\n"
    "from setuptools import setup\n"
    "\n"
    "if os.path.exists('/.dockerenv'):\n"
    "    extra = []\n"
    "setup(name='demo')\n"
)
SETUP_COLUMN = col("if os.path.exists('/.dockerenv'):")


def test_setup_py_installed_by_repo2docker(tmp_path: Path) -> None:
    """A setup.py at the root with no binder/ folder: repo2docker runs ``pip install .``."""
    findings = migration_findings(tmp_path, {"setup.py": SETUP_PY})
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DOCKERENV, "setup.py", 4, SETUP_COLUMN)
    ]
    assert findings[0].chain == ("pip install .", "setup.py:4")
    assert findings[0].severity is Severity.ERROR


@pytest.mark.parametrize("requirement", ["-e .", ".", "--editable=.", "-e .[dev]"])
def test_setup_py_via_requirements_txt(tmp_path: Path, requirement: str) -> None:
    files = {
        "binder/requirements.txt": f"numpy\n{requirement}\n",
        "setup.py": SETUP_PY,
    }
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DOCKERENV, "setup.py", 4, SETUP_COLUMN)
    ]
    assert findings[0].chain == ("binder/requirements.txt:2", "setup.py:4")


def test_requirements_line_is_the_chain_when_both_install_it(tmp_path: Path) -> None:
    """``-e .`` in requirements.txt runs before repo2docker's own ``pip install .``."""
    files = {"requirements.txt": "-e .\n", "setup.py": SETUP_PY}
    findings = migration_findings(tmp_path, files)
    assert [f.chain for f in findings] == [("requirements.txt:1", "setup.py:4")]


@pytest.mark.parametrize(
    ("path", "requirement"),
    [("environment.yml", "-e ."), ("binder/environment.yml", "-e .."),
     ("environment.yml", "--editable=.")],
)
def test_setup_py_via_environment_yml_pip_section(
    tmp_path: Path, path: str, requirement: str
) -> None:
    """conda runs the pip section of an environment.yml in the file's folder."""
    env = f"dependencies:\n  - python=3.12\n  - pip\n  - pip:\n    - {requirement}\n"
    findings = migration_findings(tmp_path, {path: env, "setup.py": SETUP_PY})
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DOCKERENV, "setup.py", 4, SETUP_COLUMN)
    ]
    assert findings[0].chain == (f"{path}:5", "setup.py:4")


def test_setup_py_of_a_subfolder_via_requirements(tmp_path: Path) -> None:
    files = {"requirements.txt": "-e ./pkg\n", "pkg/setup.py": SETUP_PY}
    findings = migration_findings(tmp_path, files)
    assert [(f.path, f.line) for f in findings] == [("pkg/setup.py", 4)]
    assert findings[0].chain == ("requirements.txt:1", "pkg/setup.py:4")


@pytest.mark.parametrize(
    "call",
    [
        "pip install .",
        "pip install -e .",
        "pip install --no-deps .[test]",
        "python -m pip install --user .",
        "python3 -m pip install -r binder/requirements-dev.txt",
        "python setup.py develop",
    ],
)
def test_setup_py_via_postbuild(tmp_path: Path, call: str) -> None:
    files = {
        "binder/requirements.txt": "numpy\n",
        "binder/postBuild": post_build(call),
        "binder/requirements-dev.txt": "pytest\n-e .\n",
        "setup.py": SETUP_PY,
    }
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DOCKERENV, "setup.py", 4, SETUP_COLUMN)
    ]
    assert findings[0].chain == ("binder/postBuild:3", "setup.py:4")


def test_setup_py_not_installed_is_runtime_info(tmp_path: Path) -> None:
    """With a binder/ folder repo2docker does not install the package itself."""
    files = {"binder/requirements.txt": "numpy\n", "setup.py": SETUP_PY}
    assert check(tmp_path, files) == [(RUNTIME, "setup.py", 4, SETUP_COLUMN)]


def test_setup_py_helpers_and_commands(tmp_path: Path) -> None:
    files = {
        "setup.py": (
            "import subprocess\n"
            "from setuptools import setup\n"
            "from build_helpers import in_docker\n"
            "subprocess.check_call(['make', 'assets'])\n"
            "setup(name='demo')\n"
        ),
        "build_helpers.py": (
            "import os\n\ndef in_docker():\n    return os.path.isfile('/.dockerenv')\n"
        ),
        "Makefile": "assets:\n\tgrep -q docker /proc/1/cgroup && echo docker\n",
    }
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line) for f in findings] == [
        (DETECTION, "Makefile", 2),
        (DOCKERENV, "build_helpers.py", 4),
    ]
    assert [f.chain for f in findings] == [
        ("pip install .", "setup.py:4", "Makefile:2"),
        ("pip install .", "setup.py:3", "build_helpers.py:4"),
    ]


def test_hatch_build_hook(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": (
            "[build-system]\nrequires = ['hatchling']\nbuild-backend = 'hatchling.build'\n\n"
            "[project]\nname = 'demo'\nversion = '1.0'\n\n[tool.hatch.build.hooks.custom]\n"
        ),
        "hatch_build.py": CHECK_PY,
    }
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DOCKERENV, "hatch_build.py", 3, CHECK_COLUMN)
    ]
    assert findings[0].chain == ("pip install .", "pyproject.toml", "hatch_build.py:3")


def test_in_tree_build_backend(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": (
            "[build-system]\nrequires = []\nbuild-backend = 'backend'\n"
            "backend-path = ['_build']\n\n[project]\nname = 'demo'\nversion = '1.0'\n"
        ),
        "_build/backend.py": CHECK_PY,
    }
    assert check(tmp_path, files) == [(DOCKERENV, "_build/backend.py", 3, CHECK_COLUMN)]


# --- notebooks ----------------------------------------------------------------------------------


def notebook(*cells: tuple[str, str]) -> str:
    return json.dumps(
        {
            "cells": [
                {"cell_type": kind, "metadata": {}, "source": source.splitlines(keepends=True),
                 **({"outputs": [], "execution_count": None} if kind == "code" else {})}
                for kind, source in cells
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        },
        indent=1,
    )


NB_CODE = "import os\nx = 1\nin_docker = os.path.exists('/.dockerenv')\n"


def nb_position(text: str) -> tuple[int, int]:
    for number, line in enumerate(text.splitlines(), start=1):
        if "os.path.exists" in line:
            return number, col(line)
    raise AssertionError("no probe line")


@pytest.mark.parametrize(
    "call",
    [
        "jupyter nbconvert --to notebook --execute --inplace prepare.ipynb",
        "jupyter execute prepare.ipynb",
        "papermill prepare.ipynb /tmp/out.ipynb",
    ],
)
def test_notebook_executed_at_build_time(tmp_path: Path, call: str) -> None:
    text = notebook(("markdown", "# Prepare\n"), ("code", NB_CODE))
    findings = migration_findings(tmp_path, {"postBuild": post_build(call), "prepare.ipynb": text})
    line, column = nb_position(text)
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DOCKERENV, "prepare.ipynb", line, column)
    ]
    assert findings[0].chain == ("postBuild:3", f"prepare.ipynb:{line}")


def test_notebook_not_executed_is_runtime_info(tmp_path: Path) -> None:
    text = notebook(("code", NB_CODE))
    files = {"postBuild": post_build("jupyter nbconvert --to html prepare.ipynb"),
             "prepare.ipynb": text}
    line, column = nb_position(text)
    assert check(tmp_path, files) == [(RUNTIME, "prepare.ipynb", line, column)]


def test_notebook_markdown_and_printed_strings_are_quiet(tmp_path: Path) -> None:
    text = notebook(
        ("markdown", "Binder used to check `os.path.exists('/.dockerenv')`.\n"),
        ("code", "print('/.dockerenv is gone under BuildKit')\n# os.path.exists('/.dockerenv')\n"),
        ("code", "%%bash\necho /.dockerenv\n"),
    )
    files = {"requirements.txt": "numpy\n", "notes.ipynb": text,
             "postBuild": post_build("papermill notes.ipynb out.ipynb")}
    assert check(tmp_path, files) == []


def test_notebook_shell_lines_and_cells(tmp_path: Path) -> None:
    text = notebook(
        ("code", "!test -f /.dockerenv && echo docker\n!touch /.dockerenv\n"),
        ("code", "%%bash\nif [ -e /.dockerenv ]; then echo docker; fi\n"),
    )
    files = {"requirements.txt": "numpy\n", "demo.ipynb": text}
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines, 1) if "!test" in line)
    second = next(i for i, line in enumerate(lines, 1) if "if [ -e" in line)
    assert check(tmp_path, files) == [
        (RUNTIME, "demo.ipynb", first, col(lines[first - 1])),
        (RUNTIME, "demo.ipynb", second, col(lines[second - 1])),
    ]
