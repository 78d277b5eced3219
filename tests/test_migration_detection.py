"""``container-detection-reliance`` (build time) and ``runtime-container-detection`` (run
time) for the probes other than ``/.dockerenv``: docker in ``/proc/1/cgroup`` or
``/proc/self/cgroup``, ``/run/.containerenv``, the host name, and is-docker."""

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

DETECTION = "container-detection-reliance"
RUNTIME = "runtime-container-detection"

SHELL_POSITIVES = {
    "grep-cgroup": ("if grep -q docker /proc/1/cgroup; then echo d; fi", "/proc", Severity.ERROR),
    "grep-self-cgroup": ("grep -qa docker /proc/self/cgroup && echo d", "/proc", Severity.ERROR),
    "cat-pipe-grep": ("cat /proc/1/cgroup | grep -q docker && echo d", "/proc", Severity.ERROR),
    "grep-E": ("grep -qE '(docker|lxc)' /proc/1/cgroup || exit 1", "/proc", Severity.ERROR),
    "awk": ("awk -F/ '$2 == \"docker\"' /proc/self/cgroup | grep -q .", "/proc", Severity.ERROR),
    "containerenv": ("[ -f /run/.containerenv ] && echo podman", "/run", Severity.WARNING),
    "hostname-compare": ('if [ "$(hostname)" = "buildkitsandbox" ]; then :; fi', "$(hostname)",
                         Severity.WARNING),
    "hostname-variable": ('[ "$HOSTNAME" == "buildkitsandbox" ] && exit 0', "$HOSTNAME",
                          Severity.WARNING),
    "hostname-case": ('case "$(hostname)" in buildkitsandbox) echo bk;; esac', "$(hostname)",
                      Severity.WARNING),
    "npx-is-docker": ("npx is-docker && echo docker", "is-docker", Severity.ERROR),
}


@pytest.mark.parametrize(
    ("line", "needle", "severity"), SHELL_POSITIVES.values(), ids=list(SHELL_POSITIVES)
)
def test_shell_detection_positive(
    tmp_path: Path, line: str, needle: str, severity: Severity
) -> None:
    findings = migration_findings(tmp_path, {"postBuild": post_build(line)})
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DETECTION, "postBuild", 3, col(line, needle))
    ]
    assert findings[0].severity is severity
    assert findings[0].chain == ("postBuild:3",)


SHELL_NEGATIVES = {
    "comment": "# grep -q docker /proc/1/cgroup",
    "echo-cgroup": 'echo "/proc/1/cgroup says docker"',
    "cgroup-without-docker": "cat /proc/1/cgroup > /tmp/cgroup.txt",
    "echo-substitution": 'echo "cgroup: $(cat /proc/1/cgroup)"',
    "echo-hostname": 'echo "building on $(hostname)"',
    "hostname-saved": "hostname -f > /tmp/host",
    "echo-containerenv": "echo /run/.containerenv",
    "install-is-docker": "npm install --save is-docker",
    "echo-is-docker": "echo is-docker",
}


@pytest.mark.parametrize("line", SHELL_NEGATIVES.values(), ids=list(SHELL_NEGATIVES))
def test_shell_detection_negative(tmp_path: Path, line: str) -> None:
    assert check(tmp_path, {"postBuild": post_build(line)}) == []


def test_both_probes_on_one_line(tmp_path: Path) -> None:
    line = 'if [ -e "/.dockerenv" ] || grep -q docker /proc/1/cgroup 2>/dev/null; then'
    assert check(tmp_path, {"postBuild": post_build(line, "  echo docker", "fi")}) == [
        ("dockerenv-reliance", "postBuild", 3, col(line)),
        (DETECTION, "postBuild", 3, col(line, "/proc")),
    ]




def test_python_detections(tmp_path: Path) -> None:
    script = (
        "#!/usr/bin/env python3\n"
        "import os, platform, socket\n"
        "IN_DOCKER = 'docker' in open('/proc/self/cgroup').read()\n"
        "if socket.gethostname() == 'buildkitsandbox':\n"
        "    pass\n"
        "PODMAN = os.path.exists('/run/.containerenv')\n"
        "print('see /proc/1/cgroup for docker')\n"
        "MSG = 'docker hosts have /proc/1/cgroup entries'\n"
    )
    lines = script.splitlines()
    assert check(tmp_path, {"postBuild": script}) == [
        (DETECTION, "postBuild", 3, col(lines[2], "/proc")),
        (DETECTION, "postBuild", 4, col(lines[3], "socket")),
        (DETECTION, "postBuild", 6, col(lines[5], "/run")),
    ]


# --- run time -----------------------------------------------------------------------------------


def test_runtime_probes_are_info(tmp_path: Path) -> None:
    module = "import os\n\ndef in_docker():\n    return os.path.exists('/.dockerenv')\n"
    files = {
        "requirements.txt": "numpy\n",
        "mypkg/env.py": module,
        "start": '#!/bin/bash\ngrep -q docker /proc/1/cgroup && export D=1\nexec "$@"\n',
        "app.js": "const isDocker = require('is-docker');\n",
    }
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (RUNTIME, "app.js", 1, col(files["app.js"], "is-docker")),
        (RUNTIME, "mypkg/env.py", 4, col(module.splitlines()[3])),
        (RUNTIME, "start", 2, col(files["start"].splitlines()[1], "/proc")),
    ]
    assert {f.severity for f in findings} == {Severity.INFO}
    assert all(f.chain == () for f in findings)
    assert all("Kubernetes" in f.message for f in findings)


def test_runtime_skips_tool_folders_and_prose(tmp_path: Path) -> None:
    notebook = json.dumps({
        "cells": [{"cell_type": "markdown", "metadata": {},
                   "source": ["`os.path.exists('/.dockerenv')`"]}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    })
    files = {
        "requirements.txt": "numpy\n",
        "node_modules/is-docker/index.js": "fs.statSync('/.dockerenv');\n",
        ".venv/lib/x.py": "os.path.exists('/.dockerenv')\n",
        ".git/hooks/pre-commit": "#!/bin/sh\n[ -f /.dockerenv ]\n",
        "README.md": "[ -f /.dockerenv ]\n",
        "docs/usage.rst": "os.path.exists('/.dockerenv')\n",
        "explain.ipynb": notebook,
        "notes.py": "# os.path.exists('/.dockerenv')\nprint('/.dockerenv')\n",
    }
    assert check(tmp_path, files) == []
