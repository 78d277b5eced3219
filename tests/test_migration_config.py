"""``dockerignore-semantics`` and ``legacy-builder-option``: ignore files the two builders
read differently, and settings only the classic builder honoured (a build memory limit in
repo2docker/BinderHub configuration, ``DOCKER_BUILDKIT=0``, ``--squash``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from migration_support import (
    _overlays_under_tmp_path,  # noqa: F401 - autouse fixture
    check,
    col,
    migration_findings,
    names,
)

from r2d_tui.core.findings import Severity

IGNORE = "dockerignore-semantics"
LEGACY = "legacy-builder-option"
REQS = {"requirements.txt": "numpy\n"}

# --- .dockerignore ------------------------------------------------------------------------------


def test_negation_pattern(tmp_path: Path) -> None:
    files = {**REQS, ".dockerignore": "# data stays out\ndata/\n!data/keep.csv\n*.pyc\n"}
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (IGNORE, ".dockerignore", 3, 1)
    ]
    assert findings[0].severity is Severity.WARNING
    assert "!data/keep.csv" in findings[0].message


def test_indented_negation_in_binder_folder_and_containerignore(tmp_path: Path) -> None:
    files = {
        "binder/requirements.txt": "numpy\n",
        "binder/.dockerignore": "data\n  !data/a\n",
        ".containerignore": "x\n!x/y\n",
    }
    assert check(tmp_path, files) == [
        (IGNORE, ".containerignore", 2, 1),
        (IGNORE, "binder/.dockerignore", 2, 1),
    ]


@pytest.mark.parametrize("path", ["Dockerfile.dockerignore", "binder/Dockerfile.dockerignore"])
def test_dockerfile_specific_ignore_file(tmp_path: Path, path: str) -> None:
    dockerfile = path.replace(".dockerignore", "")
    files = {dockerfile: "FROM alpine\n", path: "secrets/\n", ".dockerignore": "data/\n"}
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [(IGNORE, path, 1, 1)]
    assert "Dockerfile-specific" in findings[0].message


@pytest.mark.parametrize(
    "text",
    ["data/\n*.pyc\n.git\n", "# !not a pattern\n", "\\!literal-bang\n", ""],
    ids=["plain", "comment", "escaped", "empty"],
)
def test_plain_dockerignore_is_quiet(tmp_path: Path, text: str) -> None:
    assert check(tmp_path, {**REQS, ".dockerignore": text}) == []


# --- legacy builder options ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "text", "needle", "severity"),
    [
        ("binderhub_config.py", "c.BinderHub.build_memory_limit = '2G'\n",
         "build_memory_limit", Severity.ERROR),
        ("repo2docker_config.py", "c.Repo2Docker.build_memory_limit = '4G'\n",
         "build_memory_limit", Severity.ERROR),
        ("config/binderhub.yaml", "config:\n  BinderHub:\n    build_memory_limit: 2G\n",
         "build_memory_limit", Severity.ERROR),
        ("deploy/values.yaml",
         "binderhub:\n  config:\n    BinderHub:\n      build_memory_limit: \"2G\"\n",
         "build_memory_limit", Severity.ERROR),
        ("r2d.json", '{"Repo2Docker": {"build_memory_limit": "2G"}}\n',
         "build_memory_limit", Severity.ERROR),
        ("Makefile", "image:\n\trepo2docker --build-memory-limit 2G --no-run .\n",
         "--build-memory-limit", Severity.ERROR),
        (".github/workflows/build.yml",
         "jobs:\n  b:\n    steps:\n      - run: repo2docker --build-memory-limit=2G .\n",
         "--build-memory-limit", Severity.ERROR),
        ("ci/build.sh", "DOCKER_BUILDKIT=0 docker build -t demo .\n",
         "DOCKER_BUILDKIT", Severity.WARNING),
        (".github/workflows/ci.yml", "env:\n  DOCKER_BUILDKIT: 0\n",
         "DOCKER_BUILDKIT", Severity.WARNING),
        ("ci/build.sh", "docker build --squash -t demo .\n", "docker", Severity.WARNING),
    ],
    ids=["binderhub-py", "repo2docker-py", "binderhub-yaml", "helm-values", "json",
         "makefile-cli", "workflow-cli", "buildkit-0-env", "buildkit-0-yaml", "squash"],
)
def test_legacy_option(
    tmp_path: Path, path: str, text: str, needle: str, severity: Severity
) -> None:
    findings = migration_findings(tmp_path, {**REQS, path: text})
    number, line = next((i, line) for i, line in enumerate(text.splitlines(), 1) if needle in line)
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (LEGACY, path, number, col(line, needle))
    ]
    assert findings[0].severity is severity


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("README.md", "Do not use `--build-memory-limit` or `build_memory_limit` any more.\n"),
        ("docs/config.rst", "c.BinderHub.build_memory_limit = '2G'\n"),
        ("ci/build.sh", "# DOCKER_BUILDKIT=0 docker build .\necho '--build-memory-limit'\n"),
        ("ci/build.sh", "DOCKER_BUILDKIT=1 docker build .\n"),
        ("config.yaml", "# build_memory_limit: 2G\nmemory_limit: 2G\nmemory_request: 1G\n"),
        ("binderhub_config.py", "c.KubeSpawner.mem_limit = '2G'\n"),
    ],
    ids=["readme", "rst", "comment-and-echo", "buildkit-1", "yaml-comment-and-other-keys",
         "spawner-limit"],
)
def test_legacy_option_negatives(tmp_path: Path, path: str, text: str) -> None:
    assert LEGACY not in names(tmp_path, {**REQS, path: text})
