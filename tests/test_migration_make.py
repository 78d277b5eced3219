"""Migration checks on Makefiles run at build time: ``make`` targets postBuild invokes,
their prerequisites, recursive ``$(MAKE)``, ``include``d makefiles, and the lines outside
recipes (variables such as ``$(wildcard /.dockerenv)`` are evaluated on every run)."""

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

MAKEFILE = """\
IN_DOCKER := $(wildcard /.dockerenv)

.PHONY: setup test

setup: deps
\t@echo "setting up"

deps:
\tpip install -r requirements.txt

test:
\t@if [ -f /.dockerenv ]; then pytest; fi
"""


def test_wildcard_variable_evaluated_by_any_target(tmp_path: Path) -> None:
    files = {"postBuild": post_build("make setup"), "Makefile": MAKEFILE}
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DOCKERENV, "Makefile", 1, col(MAKEFILE.splitlines()[0]))
    ]
    assert findings[0].chain == ("postBuild:3", "Makefile:1")


def test_recipe_of_the_invoked_target(tmp_path: Path) -> None:
    files = {"postBuild": post_build("make test"), "Makefile": MAKEFILE}
    lines = MAKEFILE.splitlines()
    assert check(tmp_path, files) == [
        (DOCKERENV, "Makefile", 1, col(lines[0])),
        (DOCKERENV, "Makefile", 12, col(lines[11])),
    ]


def test_target_not_invoked_is_quiet(tmp_path: Path) -> None:
    makefile = (
        "build:\n\techo build\n\n"
        "check:\n\t@if [ -f /.dockerenv ]; then echo docker; fi\n"
        "\tgrep -q docker /proc/1/cgroup\n"
    )
    files = {"postBuild": post_build("make build"), "Makefile": makefile}
    assert check(tmp_path, files) == []


def test_default_target_and_prerequisites(tmp_path: Path) -> None:
    makefile = (
        "all: prep\n\techo all\n\n"
        "prep:\n\t@test -e /.dockerenv || exit 1\n\n"
        "other:\n\t[ -f /.dockerenv ]\n"
    )
    files = {"postBuild": post_build("make"), "Makefile": makefile}
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DOCKERENV, "Makefile", 5, col("\t@test -e /.dockerenv || exit 1"))
    ]
    assert findings[0].chain == ("postBuild:3", "Makefile:5")


def test_make_dash_c_and_recursive_make(tmp_path: Path) -> None:
    files = {
        "postBuild": post_build("make -C build all"),
        "build/Makefile": "all:\n\t$(MAKE) inner\n\ninner:\n\t./check.sh\n",
        "build/check.sh": "[ -f /.dockerenv ] && echo docker\n",
    }
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DOCKERENV, "build/check.sh", 1, 6)
    ]
    assert findings[0].chain == (
        "postBuild:3", "build/Makefile:2", "build/Makefile:5", "build/check.sh:1",
    )


def test_make_f_and_include(tmp_path: Path) -> None:
    files = {
        "postBuild": post_build("make -f binder.mk env"),
        "binder.mk": "include common.mk\n\nenv:\n\techo env\n",
        "common.mk": "DOCKER := $(shell [ -f /.dockerenv ] && echo yes)\n",
    }
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DOCKERENV, "common.mk", 1, col(files["common.mk"]))
    ]
    assert findings[0].chain == ("postBuild:3", "binder.mk:1", "common.mk:1")


def test_a_target_shared_by_two_invocations_is_reported_once(tmp_path: Path) -> None:
    files = {"postBuild": post_build("make setup", "make test"), "Makefile": MAKEFILE}
    findings = migration_findings(tmp_path, files)
    assert [(f.path, f.line) for f in findings] == [("Makefile", 1), ("Makefile", 12)]


@pytest.mark.parametrize(
    "line",
    [
        "# IN_DOCKER := $(wildcard /.dockerenv)",
        "$(info checking /.dockerenv)",
        "$(if $(REPO_DIR),,$(error needs repo2docker, not /.dockerenv))",
        "NOTE = see docs  # $(wildcard /.dockerenv)",
    ],
)
def test_makefile_negatives(tmp_path: Path, line: str) -> None:
    files = {"postBuild": post_build("make"), "Makefile": line + "\n\nall:\n\techo ok\n"}
    assert check(tmp_path, files) == []


def test_recipe_echo_and_touch_are_quiet(tmp_path: Path) -> None:
    makefile = "all:\n\techo /.dockerenv\n\t@touch /.dockerenv\n\t# [ -f /.dockerenv ]\n"
    files = {"postBuild": post_build("make all"), "Makefile": makefile}
    assert check(tmp_path, files) == []


def test_cgroup_in_recipe_with_doubled_dollars(tmp_path: Path) -> None:
    makefile = "all:\n\tif grep -q docker /proc/self/cgroup; then echo $$HOSTNAME; fi\n"
    files = {"postBuild": post_build("make"), "Makefile": makefile}
    assert check(tmp_path, files) == [
        (DETECTION, "Makefile", 2, col(makefile.splitlines()[1], "/proc"))
    ]


def test_wildcard_inside_a_recipe(tmp_path: Path) -> None:
    makefile = 'setup:\n\t@if [ -n "$(wildcard /.dockerenv)" ]; then echo docker; fi\n'
    files = {"postBuild": post_build("make setup"), "Makefile": makefile}
    assert check(tmp_path, files) == [
        (DOCKERENV, "Makefile", 2, col(makefile.splitlines()[1]))
    ]


def test_wildcard_in_a_conditional(tmp_path: Path) -> None:
    makefile = "ifneq ($(wildcard /.dockerenv),)\nIN_DOCKER = 1\nendif\n\nall:\n\techo ok\n"
    files = {"postBuild": post_build("make"), "Makefile": makefile}
    assert check(tmp_path, files) == [
        (DOCKERENV, "Makefile", 1, col(makefile.splitlines()[0]))
    ]
