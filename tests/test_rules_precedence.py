"""Precedence and detection rules (issue #3): which config files repo2docker ignores.

Each case is a small repository; the expectations were checked against repo2docker
2026.4.0 itself (``repo2docker --no-build``): for example a root ``.dockerignore`` is not
read when ``binder/`` exists (``BuildPack.binder_path``), both binder folders make it raise
"exclusive", and an environment.yml pip: ``-r requirements.txt`` is read by pip.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rules_support import (  # noqa: F401 - the fixture is autouse
    Case,
    Mode,
    Want,
    _overlays_under_tmp_path,
    params,
    run_case,
)

from r2d_tui.core.findings import Severity

ENV = "dependencies:\n  - python=3.11\n"
ENV_R = "dependencies:\n  - python=3.11\n  - r-base\n"
REQ = "numpy\n"
RT = "python-3.11\n"
SETUP = "from setuptools import setup\nsetup(name='demo')\n"
PYPROJECT = (
    "[project]\nname = 'demo'\nversion = '1.0'\n"
    "[build-system]\nrequires = ['setuptools']\nbuild-backend = 'setuptools.build_meta'\n"
)
POSTBUILD = "#!/bin/bash\nset -e\n"

SHADOWS = "binder-dir-shadows-root"
BOTH = "both-binder-dirs"
OVERRIDES = "dockerfile-overrides-config"
EMPTY_DF = "empty-dockerfile"
IGNORED = "ignored-config-file"
INSTALL_R = "install-r-ignored"
LOCAL_PKG = "local-package-not-installed"

CASES = [
    # --- binder-dir-shadows-root ----------------------------------------------------------
    Case(
        "shadow-root-env-and-requirements",
        {"binder/environment.yml": ENV, "environment.yml": ENV, "requirements.txt": REQ},
        want=(Want(SHADOWS, "environment.yml", 1, 1), Want(SHADOWS, "requirements.txt", 1)),
        forbid=(IGNORED,),
    ),
    Case(
        "shadow-dot-binder-postbuild-and-apt",
        {".binder/requirements.txt": REQ, ".binder/runtime.txt": RT,
         "postBuild": POSTBUILD + "echo hi\n", "apt.txt": "vim\n"},
        want=(Want(SHADOWS, "postBuild", 1), Want(SHADOWS, "apt.txt", 1)),
    ),
    Case(
        "shadow-root-dockerignore",
        {"binder/requirements.txt": REQ, "binder/runtime.txt": RT, ".dockerignore": "data\n"},
        want=(Want(SHADOWS, ".dockerignore", 1, 1),),
    ),
    Case(
        "shadow-root-dockerfile",
        {"binder/environment.yml": ENV, "Dockerfile": "FROM scratch\n"},
        want=(Want(SHADOWS, "Dockerfile", 1),),
        forbid=(OVERRIDES, EMPTY_DF),
    ),
    Case(
        "shadow-empty-binder-dir",  # an empty binder/ still hides the root files
        {"binder/": "", "requirements.txt": REQ, "runtime.txt": RT},
        want=(Want(SHADOWS, "requirements.txt", 1), Want(SHADOWS, "runtime.txt", 1)),
    ),
    Case(
        "no-shadow-without-binder-dir",
        {"environment.yml": ENV, "apt.txt": "vim\n"},
        forbid=(SHADOWS,),
    ),
    Case(
        "no-shadow-dockerignore-of-dockerfile-build",  # buildx reads it at the context root
        {"binder/Dockerfile": "FROM scratch\n", ".dockerignore": "data\n"},
        forbid=(SHADOWS,),
    ),
    Case(
        "no-shadow-for-package-files",  # local-package-not-installed covers setup.py
        {"binder/requirements.txt": REQ, "binder/runtime.txt": RT, "setup.py": SETUP},
        want=(Want(LOCAL_PKG, "setup.py", 1),),
        forbid=(SHADOWS,),
    ),
    # --- both-binder-dirs -----------------------------------------------------------------
    Case(
        "both-dirs-with-files",
        {"binder/requirements.txt": REQ, ".binder/requirements.txt": REQ},
        want=(Want(BOTH, ".binder", 1, 1, Severity.ERROR),),
    ),
    Case("both-dirs-empty", {"binder/": "", ".binder/": ""}, want=(Want(BOTH, ".binder", 1),)),
    Case("only-binder", {"binder/requirements.txt": REQ}, forbid=(BOTH,)),
    Case("only-dot-binder", {".binder/environment.yml": ENV}, forbid=(BOTH,)),
    Case(
        "binder-file-not-folder",  # a file named binder is not a config folder
        {"binder": "notes\n", "requirements.txt": REQ, "runtime.txt": RT},
        forbid=(BOTH, SHADOWS),
    ),
    # --- dockerfile-overrides-config ------------------------------------------------------
    Case(
        "dockerfile-ignores-env-and-postbuild",
        {"Dockerfile": "FROM python:3.12\n", "environment.yml": ENV,
         "postBuild": POSTBUILD + "echo hi\n"},
        want=(Want(OVERRIDES, "environment.yml", 1, 1), Want(OVERRIDES, "postBuild", 1)),
        forbid=(IGNORED, EMPTY_DF),
    ),
    Case(
        "binder-dockerfile-ignores-binder-requirements",
        {"binder/Dockerfile": "FROM python:3.12\n", "binder/requirements.txt": REQ},
        want=(Want(OVERRIDES, "binder/requirements.txt", 1),),
    ),
    Case(
        "dockerfile-beats-invalid-runtime",  # DockerBuildPack is detected before runtime.txt
        {"Dockerfile": "FROM scratch\n", "runtime.txt": "python3.11\n"},
        want=(Want(OVERRIDES, "runtime.txt", 1),),
        forbid=("invalid-runtime-txt", "render-failed"),
    ),
    Case(
        "dockerfile-copies-the-files-it-uses",
        {"Dockerfile": "FROM python:3.12\nCOPY requirements.txt environment.yml /tmp/\n"
                       "RUN pip install -r /tmp/requirements.txt\n",
         "requirements.txt": REQ, "environment.yml": ENV},
        forbid=(OVERRIDES,),
    ),
    Case("dockerfile-alone", {"Dockerfile": "FROM scratch\n"}, forbid=(OVERRIDES,)),
    Case(
        "dockerfile-with-dockerignore",  # .dockerignore is used by the Dockerfile build
        {"Dockerfile": "FROM scratch\n", ".dockerignore": ".git\n"},
        forbid=(OVERRIDES, SHADOWS),
    ),
    # --- empty-dockerfile -----------------------------------------------------------------
    Case("dockerfile-empty", {"Dockerfile": ""},
         want=(Want(EMPTY_DF, "Dockerfile", 1, 1, Severity.ERROR),)),
    Case("dockerfile-whitespace", {"Dockerfile": "\n  \n\n"},
         want=(Want(EMPTY_DF, "Dockerfile", 1),)),
    Case("dockerfile-comments-only",
         {"Dockerfile": "# syntax=docker/dockerfile:1\n# TODO\n"},
         want=(Want(EMPTY_DF, "Dockerfile", 1),)),
    Case("dockerfile-no-from", {"Dockerfile": "\nRUN pip install numpy\n"},
         want=(Want(EMPTY_DF, "Dockerfile", 2, 1),)),
    Case("dockerfile-arg-only", {"binder/Dockerfile": "ARG BASE=ubuntu\n"},
         want=(Want(EMPTY_DF, "binder/Dockerfile", 1),)),
    Case("dockerfile-from-without-image", {"Dockerfile": "# base\nFROM\nRUN echo hi\n"},
         want=(Want(EMPTY_DF, "Dockerfile", 2, 1, Severity.ERROR),)),
    Case("dockerfile-from-continued-into-nothing",
         {"Dockerfile": "FROM scratch\nFROM \\\n"},
         want=(Want(EMPTY_DF, "Dockerfile", 2, 1),)),
    Case("dockerfile-from-platform-without-image",
         {"Dockerfile": "FROM --platform=linux/amd64\nRUN echo hi\n"},
         want=(Want(EMPTY_DF, "Dockerfile", 1, 1),)),
    Case("dockerfile-from-hash-is-not-a-comment", {"Dockerfile": "FROM # busybox\nRUN echo\n"},
         want=(Want(EMPTY_DF, "Dockerfile", 1, 1),)),
    Case("dockerfile-from-as-without-image", {"Dockerfile": "FROM AS base\n"},
         want=(Want(EMPTY_DF, "Dockerfile", 1, 1),)),
    Case("dockerfile-from-continued-into-run", {"Dockerfile": "FROM \\\nRUN echo hi\n"},
         want=(Want(EMPTY_DF, "Dockerfile", 1, 1),)),
    Case("dockerfile-from-platform-and-image",
         {"Dockerfile": "FROM --platform=$BUILDPLATFORM busybox AS b\nFROM b\n"},
         forbid=(EMPTY_DF,)),
    Case("dockerfile-from-continued-to-image", {"Dockerfile": "FROM \\\n  ubuntu:24.04\n"},
         forbid=(EMPTY_DF,)),
    Case("dockerfile-from-with-stage-name",
         {"Dockerfile": "FROM scratch AS base\nFROM base\n"}, forbid=(EMPTY_DF,)),
    Case("dockerfile-arg-then-from", {"Dockerfile": "ARG BASE=ubuntu\nFROM ${BASE}\n"},
         forbid=(EMPTY_DF,)),
    Case("dockerfile-lowercase-from", {"Dockerfile": "from ubuntu:24.04\nrun echo hi\n"},
         forbid=(EMPTY_DF,)),
    Case("dockerfile-from-after-comment", {"Dockerfile": "# base\n\nFROM scratch\n"},
         forbid=(EMPTY_DF,)),
    Case(
        "dockerfile-from-inside-continuation-does-not-count",
        {"Dockerfile": "RUN echo \\\n  FROM x\n"},
        want=(Want(EMPTY_DF, "Dockerfile", 1),),
    ),
    Case("shadowed-empty-dockerfile-not-built",  # root Dockerfile is ignored with binder/
         {"binder/requirements.txt": REQ, "Dockerfile": ""}, forbid=(EMPTY_DF,)),
    # --- ignored-config-file --------------------------------------------------------------
    Case(
        "env-ignores-requirements-and-runtime",
        {"environment.yml": ENV, "requirements.txt": REQ, "runtime.txt": RT},
        want=(Want(IGNORED, "requirements.txt", 1, 1, Severity.WARNING),
              Want(IGNORED, "runtime.txt", 1)),
    ),
    Case(
        "binder-env-ignores-binder-requirements",
        {"binder/environment.yml": ENV, "binder/requirements.txt": REQ},
        want=(Want(IGNORED, "binder/requirements.txt", 1),),
        forbid=(SHADOWS,),
    ),
    Case(
        "environment-yaml-spelling-ignores-requirements",
        {"environment.yaml": ENV, "requirements.txt": REQ},
        want=(Want(IGNORED, "requirements.txt", 1),),
    ),
    Case(
        "pipfile-ignores-requirements-and-runtime",
        {"Pipfile": "[packages]\nnumpy = '*'\n\n[requires]\npython_version = '3.11'\n",
         "requirements.txt": REQ, "runtime.txt": RT},
        want=(Want(IGNORED, "requirements.txt", 1), Want(IGNORED, "runtime.txt", 1)),
    ),
    Case(
        "r-runtime-beats-environment",  # r-<date> selects R, which still installs env.yml
        {"runtime.txt": "r-4.3-2024-01-10\n", "environment.yml": ENV, "install.R": "1\n"},
        forbid=(IGNORED, INSTALL_R),
    ),
    Case(
        "env-pip-includes-requirements",  # pip reads it through '-r requirements.txt'
        {"environment.yml": ENV + "  - pip\n  - pip:\n    - -r requirements.txt\n",
         "requirements.txt": REQ},
        forbid=(IGNORED,),
    ),
    Case(
        "binder-env-pip-includes-requirements",
        {"binder/environment.yml":
             ENV + "  - pip\n  - pip:\n    - --requirement=requirements.txt\n",
         "binder/requirements.txt": REQ},
        forbid=(IGNORED,),
    ),
    Case(
        "postbuild-installs-requirements",
        {"environment.yml": ENV, "requirements.txt": REQ,
         "postBuild": POSTBUILD + "pip install -r requirements.txt\n"},
        forbid=(IGNORED,),
    ),
    Case(
        "postbuild-comment-does-not-count",
        {"environment.yml": ENV, "requirements.txt": REQ,
         "postBuild": POSTBUILD + "# pip install -r requirements.txt\necho done\n"},
        want=(Want(IGNORED, "requirements.txt", 1),),
    ),
    Case("requirements-with-runtime", {"requirements.txt": REQ, "runtime.txt": RT},
         forbid=(IGNORED,)),
    Case("env-with-apt-and-postbuild",
         {"environment.yml": ENV, "apt.txt": "vim\n", "postBuild": POSTBUILD + "echo\n"},
         forbid=(IGNORED,)),
    Case(
        "python-runtime-not-understood-is-not-ignored",  # invalid-runtime-txt explains it
        {"requirements.txt": REQ, "runtime.txt": "Python-3.11\n"},
        want=(Want("invalid-runtime-txt", "runtime.txt", 1),),
        forbid=(IGNORED,),
    ),
    # --- install-r-ignored ----------------------------------------------------------------
    Case(
        "install-r-with-requirements",
        {"install.R": "install.packages('ggplot2')\n", "requirements.txt": REQ},
        want=(Want(INSTALL_R, "install.R", 1, 1, Severity.WARNING),),
    ),
    Case(
        "install-r-with-r-version-without-date",
        {"install.R": "install.packages('ggplot2')\n", "runtime.txt": "r-4.3\n"},
        want=(Want(INSTALL_R, "install.R", 1),
              Want("runtime-txt-r-missing-date", "runtime.txt", 1)),
    ),
    Case(
        "install-r-with-environment",
        {"binder/install.R": "install.packages('x')\n", "binder/environment.yml": ENV_R},
        want=(Want(INSTALL_R, "binder/install.R", 1),),
    ),
    Case(
        "install-r-with-dockerfile",
        {"install.R": "1\n", "Dockerfile": "FROM scratch\n"},
        want=(Want(OVERRIDES, "install.R", 1), Want(INSTALL_R, "install.R", 1)),
    ),
    Case(
        "install-r-run-by-dockerfile",
        {"install.R": "1\n", "Dockerfile": "FROM rocker/r-ver\nCOPY install.R /tmp/\n"
                                            "RUN Rscript /tmp/install.R\n"},
        forbid=(OVERRIDES, INSTALL_R),
    ),
    Case("install-r-with-dated-runtime",
         {"install.R": "1\n", "runtime.txt": "r-4.3.2-2024-01-10\n"}, forbid=(INSTALL_R,)),
    Case("install-r-with-date-only-runtime",
         {"binder/install.R": "1\n", "binder/runtime.txt": "r-2024-01-10\n"}, forbid=(INSTALL_R,)),
    Case("install-r-with-root-description",
         {"install.R": "1\n", "DESCRIPTION": "Package: demo\nVersion: 0.1\n"}, forbid=(INSTALL_R,)),
    Case(
        "install-r-run-by-postbuild",
        {"install.R": "1\n", "environment.yml": ENV_R,
         "postBuild": POSTBUILD + "Rscript install.R\n"},
        forbid=(INSTALL_R,),
    ),
    # --- local-package-not-installed ------------------------------------------------------
    Case(
        "setup-py-with-environment",
        {"setup.py": SETUP, "environment.yml": ENV},
        want=(Want(LOCAL_PKG, "setup.py", 1, 1, Severity.WARNING),),
    ),
    Case(
        "pyproject-with-environment",
        {"pyproject.toml": PYPROJECT, "environment.yml": ENV},
        want=(Want(LOCAL_PKG, "pyproject.toml", 1),),
    ),
    Case(
        "poetry-pyproject-with-requirements",  # repo2docker needs [project] to pip install .
        {"pyproject.toml": "[tool.poetry]\nname = 'demo'\n[build-system]\n"
                           "requires = ['poetry-core']\n", "requirements.txt": REQ,
         "runtime.txt": RT},
        want=(Want(LOCAL_PKG, "pyproject.toml", 1),),
    ),
    Case(
        "setup-py-with-binder-requirements",
        {"setup.py": SETUP, "binder/requirements.txt": REQ},
        want=(Want(LOCAL_PKG, "setup.py", 1),),
    ),
    Case(
        "setup-py-with-pipfile",
        {"setup.py": SETUP,
         "Pipfile": "[packages]\nnumpy = '*'\n[requires]\npython_version = '3.11'\n"},
        want=(Want(LOCAL_PKG, "setup.py", 1),),
    ),
    Case(
        "binder-requirements-dot-dot-is-outside-the-repo",  # pip runs in the repo root
        {"setup.py": SETUP, "binder/requirements.txt": "-e ..\n", "binder/runtime.txt": RT},
        want=(Want(LOCAL_PKG, "setup.py", 1),
              Want("invalid-requirement", "binder/requirements.txt", 1)),
    ),
    Case("setup-py-python-buildpack",
         {"setup.py": SETUP, "requirements.txt": REQ, "runtime.txt": RT},
         forbid=(LOCAL_PKG,)),
    Case("setup-py-alone", {"setup.py": SETUP}, forbid=(LOCAL_PKG,)),
    Case("pyproject-python-buildpack", {"pyproject.toml": PYPROJECT, "runtime.txt": RT},
         forbid=(LOCAL_PKG,)),
    Case(
        "env-pip-editable",
        {"setup.py": SETUP, "environment.yml": ENV + "  - pip\n  - pip:\n    - -e .\n"},
        forbid=(LOCAL_PKG,),
    ),
    Case(
        "binder-env-pip-dot-dot",
        {"setup.py": SETUP, "binder/environment.yml": ENV + "  - pip\n  - pip:\n    - -e ..\n"},
        forbid=(LOCAL_PKG,),
    ),
    Case(
        "binder-requirements-editable-dot",
        {"setup.py": SETUP, "binder/requirements.txt": "-e .\n", "binder/runtime.txt": RT},
        forbid=(LOCAL_PKG, "invalid-requirement"),
    ),
    Case(
        "postbuild-pip-install-e-dot",
        {"setup.py": SETUP, "environment.yml": ENV, "postBuild": POSTBUILD + "pip install -e .\n"},
        forbid=(LOCAL_PKG,),
    ),
    Case(
        "postbuild-python-m-pip-quoted-extras",
        {"pyproject.toml": PYPROJECT, "environment.yml": ENV,
         "postBuild": POSTBUILD + 'python -m pip install --no-deps -e ".[dev]"\n'},
        forbid=(LOCAL_PKG,),
    ),
    Case(
        "postbuild-pip-install-repo-dir",
        {"setup.py": SETUP, "binder/environment.yml": ENV,
         "binder/postBuild": POSTBUILD + 'pip install --no-cache-dir "${REPO_DIR}"\n'},
        forbid=(LOCAL_PKG,),
    ),
    Case(
        "postbuild-pip-install-other-path-does-not-count",
        {"setup.py": SETUP, "environment.yml": ENV,
         "postBuild": POSTBUILD + "pip install ./docs\n"},
        want=(Want(LOCAL_PKG, "setup.py", 1),),
    ),
    Case("pyproject-without-build-system", {"pyproject.toml": "[project]\nname = 'x'\n",
                                            "environment.yml": ENV}, forbid=(LOCAL_PKG,)),
    Case("pyproject-tool-config-only", {"pyproject.toml": "[tool.black]\nline-length = 88\n",
                                        "environment.yml": ENV}, forbid=(LOCAL_PKG,)),
    Case("package-with-dockerfile", {"setup.py": SETUP, "Dockerfile": "FROM scratch\n"},
         forbid=(LOCAL_PKG,)),
    # --- julia-require-unsupported --------------------------------------------------------
    Case("julia-require", {"REQUIRE": "julia 1.0\nDataFrames\n"},
         want=(Want("julia-require-unsupported", "REQUIRE", 1, 1, Severity.ERROR),)),
    Case("julia-project", {"Project.toml": "[deps]\n"}, forbid=("julia-require-unsupported",)),
]


@pytest.mark.parametrize("case", params(CASES))
def test_precedence_rule(tmp_path: Path, case: Case) -> None:
    run_case(tmp_path / "repo", case)


def test_postbuild_mode_does_not_change_shadowing(tmp_path: Path) -> None:
    """A non-executable root postBuild is still reported as shadowed, not as a script."""
    findings = run_case(
        tmp_path / "repo",
        Case("mode", {"binder/requirements.txt": REQ,
                      "postBuild": Mode("echo hi\n", 0o644)},
             want=(Want(SHADOWS, "postBuild", 1),),
             forbid=("postbuild-not-executable", "postbuild-no-shebang")),
    )
    assert [f.path for f in findings if f.name == SHADOWS] == ["postBuild"]
