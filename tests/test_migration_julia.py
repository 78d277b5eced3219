"""Migration checks on Julia build-time code: scripts postBuild runs with ``julia``, what
they ``include()`` or ``run()``, and a Project.toml package's ``deps/build.jl``."""

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

PROJECT = '[deps]\nExample = "7876af07-990d-54b4-ab0e-23690620f79a"\n'


def julia_repo(script: str, call: str = "julia scripts/setup.jl") -> dict[str, str]:
    return {"Project.toml": PROJECT, "postBuild": post_build(call), "scripts/setup.jl": script}


POSITIVES = {
    "isfile": 'if isfile("/.dockerenv")',
    "ispath-and": 'ispath("/.dockerenv") && println("docker")',
    "negated": 'const IN_DOCKER = !isfile("/.dockerenv")',
    "run-test": 'success(`test -e /.dockerenv`) || exit(1)',
}


@pytest.mark.parametrize("line", POSITIVES.values(), ids=list(POSITIVES))
def test_julia_script_positive(tmp_path: Path, line: str) -> None:
    script = "using Pkg\n" + line + "\n"
    findings = migration_findings(tmp_path, julia_repo(script))
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DOCKERENV, "scripts/setup.jl", 2, col(line))
    ]
    assert findings[0].chain == ("postBuild:3", "scripts/setup.jl:2")


@pytest.mark.parametrize(
    "call",
    ["julia scripts/setup.jl", "julia --project=. scripts/setup.jl",
     "julia --project=@. -e 'using Pkg' && julia -O0 scripts/setup.jl --flag"],
)
def test_ways_of_running_julia(tmp_path: Path, call: str) -> None:
    findings = migration_findings(tmp_path, julia_repo('isfile("/.dockerenv")\n', call))
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DOCKERENV, "scripts/setup.jl", 1, 9)
    ]


NEGATIVES = {
    "comment": '# isfile("/.dockerenv")',
    "block-comment": '#= ispath("/.dockerenv") =#',
    "println": 'println("/.dockerenv is gone")',
    "info-macro": '@info "no /.dockerenv under BuildKit"',
    "warn-macro-call": '@warn("/.dockerenv")',
    "touch": 'touch("/.dockerenv")',
    "run-touch": 'run(`touch /.dockerenv`)',
    "env": 'haskey(ENV, "REPO_DIR") && println("repo2docker")',
}


@pytest.mark.parametrize("line", NEGATIVES.values(), ids=list(NEGATIVES))
def test_julia_script_negative(tmp_path: Path, line: str) -> None:
    assert check(tmp_path, julia_repo("using Pkg\n" + line + "\n")) == []


def test_include_and_run_are_followed(tmp_path: Path) -> None:
    files = julia_repo('include("helpers.jl")\nrun(`bash prepare.sh`)\n')
    files["scripts/helpers.jl"] = 'const IN_DOCKER = isfile("/.dockerenv")\n'
    files["prepare.sh"] = "[ -f /run/.containerenv ] && echo podman\n"
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line) for f in findings] == [
        (DETECTION, "prepare.sh", 1),
        (DOCKERENV, "scripts/helpers.jl", 1),
    ]
    assert [f.chain for f in findings] == [
        ("postBuild:3", "scripts/setup.jl:2", "prepare.sh:1"),
        ("postBuild:3", "scripts/setup.jl:1", "scripts/helpers.jl:1"),
    ]


def test_deps_build_jl_runs_at_build_time(tmp_path: Path) -> None:
    files = {
        "Project.toml": 'name = "Demo"\n' + PROJECT,
        "deps/build.jl": 'if isfile("/.dockerenv")\n    @warn "docker"\nend\n',
    }
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DOCKERENV, "deps/build.jl", 1, 12)
    ]
    assert findings[0].chain == ("Pkg.build", "deps/build.jl:1")


def test_julia_script_nobody_runs_is_runtime_info(tmp_path: Path) -> None:
    files = {"Project.toml": PROJECT, "src/util.jl": 'isfile("/.dockerenv")\n'}
    assert check(tmp_path, files) == [(RUNTIME, "src/util.jl", 1, 9)]


def test_julia_script_run_by_postbuild_of_another_buildpack(tmp_path: Path) -> None:
    """postBuild runs whatever the buildpack; following ``julia x.jl`` does not need a
    Project.toml."""
    files = {"requirements.txt": "numpy\n", "postBuild": post_build("julia setup.jl"),
             "setup.jl": 'isfile("/.dockerenv")\n'}
    assert check(tmp_path, files) == [(DOCKERENV, "setup.jl", 1, 9)]
