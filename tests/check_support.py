"""Small real repositories with known findings, shared by the report, settings and hook tests.

The findings come from running the real checks (``run_checks``) on these repositories, so
the output formats and the settings are tested on what users actually get.
"""

from __future__ import annotations

from pathlib import Path

from r2d_tui.core.checks import run_checks
from r2d_tui.core.findings import Finding
from r2d_tui.core.workspace import Workspace

#: A postBuild whose line 3 tests for /.dockerenv (``dockerenv-reliance``, an error).
DOCKERENV_POSTBUILD = (
    "#!/bin/bash\n"
    "set -e\n"
    "if [ -f /.dockerenv ]; then\n"
    "  echo classic builder\n"
    "fi\n"
)
DOCKERENV_LINE = 3
DOCKERENV_COLUMN = DOCKERENV_POSTBUILD.splitlines()[2].index("/.dockerenv") + 1

#: An environment.yml with a mis-indented ``- pip:`` (``invalid-yaml``, an error).
BROKEN_ENVIRONMENT = "name: demo\ndependencies:\n  - numpy\n - pip:\n    - requests\n"

#: No Python version pinned: ``python-version-unpinned`` (a warning) at requirements.txt:1.
UNPINNED_REQUIREMENTS = "numpy\n"


def make_repo(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative path → text) under ``root``; scripts get the exec bit."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if path.name in {"postBuild", "start"}:
            path.chmod(0o755)
    return root


def dockerenv_repo(root: Path, postbuild: str = DOCKERENV_POSTBUILD) -> Path:
    """requirements.txt without a Python pin plus a postBuild relying on /.dockerenv."""
    return make_repo(root, {"requirements.txt": UNPINNED_REQUIREMENTS, "postBuild": postbuild})


def clean_repo(root: Path) -> Path:
    """A repository every check is happy with (pinned Python, plain requirements)."""
    return make_repo(root, {"requirements.txt": "numpy\n", "runtime.txt": "python-3.12\n"})


def findings_of(root: Path) -> list[Finding]:
    return run_checks(Workspace(root))


def names(findings: list[Finding]) -> list[str]:
    return [finding.name for finding in findings]
