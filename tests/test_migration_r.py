"""Migration checks on R build-time code: install.R (run by the R buildpack) and the R
scripts postBuild runs with ``Rscript``, plus what they ``source()`` or ``system()``."""

from __future__ import annotations

from pathlib import Path

import pytest
from migration_support import (
    _overlays_under_tmp_path,  # noqa: F401 - autouse fixture
    check,
    col,
    migration_findings,
    post_build,
)

DOCKERENV = "dockerenv-reliance"
DETECTION = "container-detection-reliance"
RUNTIME = "runtime-container-detection"

R_RUNTIME = "r-4.3-2024-01-01\n"


def r_repo(install_r: str, **more: str) -> dict[str, str]:
    return {"runtime.txt": R_RUNTIME, "install.R": install_r, **more}


POSITIVES = {
    "if-file-exists": 'if (file.exists("/.dockerenv")) {',
    "single-quotes": "in_docker <- file.exists('/.dockerenv')",
    "negated": 'if (!file.exists("/.dockerenv")) install.packages("remotes")',
    "dir-exists-or": 'if (dir.exists("/x") || file.exists("/.dockerenv")) {',
    "system-test": 'if (system("test -f /.dockerenv") == 0) {',
}


@pytest.mark.parametrize("line", POSITIVES.values(), ids=list(POSITIVES))
def test_install_r_positive(tmp_path: Path, line: str) -> None:
    text = 'install.packages("ggplot2")\n' + line + "\n"
    findings = migration_findings(tmp_path, r_repo(text))
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DOCKERENV, "install.R", 2, col(line))
    ]
    assert findings[0].chain == ("install.R:2",)


def test_install_r_in_binder_folder(tmp_path: Path) -> None:
    files = {
        "binder/runtime.txt": R_RUNTIME,
        "binder/install.R": 'if (file.exists("/.dockerenv")) {\n  message("docker")\n}\n',
    }
    assert check(tmp_path, files) == [(DOCKERENV, "binder/install.R", 1, 18)]


NEGATIVES = {
    "comment": '# if (file.exists("/.dockerenv")) {',
    "trailing-comment": 'x <- 1  # file.exists("/.dockerenv")',
    "message": 'message("/.dockerenv is not needed")',
    "cat": 'cat("/.dockerenv\\n")',
    "print": 'print("/.dockerenv")',
    "stop": 'stop("this used to need /.dockerenv")',
    "file-create": 'file.create("/.dockerenv")',
    "system-touch": 'system("touch /.dockerenv")',
    "sys-getenv": 'if (nzchar(Sys.getenv("REPO_DIR"))) message("repo2docker")',
}


@pytest.mark.parametrize("line", NEGATIVES.values(), ids=list(NEGATIVES))
def test_install_r_negative(tmp_path: Path, line: str) -> None:
    assert check(tmp_path, r_repo('install.packages("x")\n' + line + "\n")) == []


def test_install_r_without_r_buildpack_is_not_run(tmp_path: Path) -> None:
    """install.R is run only by the R buildpack (runtime.txt with an R date)."""
    files = {"requirements.txt": "numpy\n", "install.R": 'file.exists("/.dockerenv")\n'}
    assert check(tmp_path, files) == [(RUNTIME, "install.R", 1, 14)]


def test_rscript_from_postbuild(tmp_path: Path) -> None:
    setup_r = '# file.exists("/.dockerenv")\nif (file.exists("/.dockerenv")) q()\n'
    files = r_repo(
        'install.packages("x")\n',
        postBuild=post_build("Rscript -e 'x <- 1'", "Rscript scripts/setup.R"),
        **{"scripts/setup.R": setup_r},
    )
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DOCKERENV, "scripts/setup.R", 2, 18)
    ]
    assert findings[0].chain == ("postBuild:4", "scripts/setup.R:2")


def test_source_and_system_from_install_r(tmp_path: Path) -> None:
    files = r_repo(
        'source("R/helpers.R")\nsystem("bash scripts/prepare.sh")\n',
        **{
            "R/helpers.R": "in_docker <- function() file.exists('/.dockerenv')\n",
            "scripts/prepare.sh": "grep -q docker /proc/1/cgroup && echo docker\n",
        },
    )
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line) for f in findings] == [
        (DOCKERENV, "R/helpers.R", 1),
        (DETECTION, "scripts/prepare.sh", 1),
    ]
    assert [f.chain for f in findings] == [
        ("install.R:1", "R/helpers.R:1"),
        ("install.R:2", "scripts/prepare.sh:1"),
    ]


def test_r_other_detections(tmp_path: Path) -> None:
    text = (
        'podman <- file.exists("/run/.containerenv")\n'
        'cg <- readLines("/proc/1/cgroup"); docker <- any(grepl("docker", cg))\n'
    )
    assert check(tmp_path, r_repo(text)) == [
        (DETECTION, "install.R", 1, col(text.splitlines()[0], "/run")),
        (DETECTION, "install.R", 2, col(text.splitlines()[1], "/proc")),
    ]


def test_install_r_of_an_r_package_repository(tmp_path: Path) -> None:
    """A DESCRIPTION file (no binder/ folder) selects the R buildpack too."""
    files = {"DESCRIPTION": "Package: demo\nVersion: 1.0\n",
             "install.R": 'if (file.exists("/.dockerenv")) {}\n'}
    assert check(tmp_path, files) == [(DOCKERENV, "install.R", 1, 18)]
