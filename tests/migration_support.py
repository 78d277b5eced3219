"""Helpers for the migration-check tests (``tests/test_migration_*.py``).

Each case is a small repository written into ``tmp_path`` from ``{path: text}`` and checked
with ``run_checks(..., select=["migration"])``; tests compare the findings as
``(name, path, line, column)`` tuples (all of them, so an unexpected extra finding fails
too) and, for build-time probes, the ``chain`` that explains why the line runs at build
time.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from rules_support import FileSpec, _overlays_under_tmp_path, check_files

from r2d_tui.core.findings import Finding

MIGRATION = ["migration"]

Located = tuple[str, str, int, int]


def migration_findings(root: Path, files: Mapping[str, FileSpec]) -> list[Finding]:
    """The migration findings of a repository made of ``files``, in report order."""
    findings = check_files(root, files, select=MIGRATION)
    return sorted(findings, key=lambda f: (f.path, f.line, f.column, f.name))


def located(findings: list[Finding]) -> list[Located]:
    return [(f.name, f.path, f.line, f.column) for f in findings]


def check(root: Path, files: Mapping[str, FileSpec]) -> list[Located]:
    return located(migration_findings(root, files))


def names(root: Path, files: Mapping[str, FileSpec]) -> set[str]:
    return {f.name for f in migration_findings(root, files)}


def col(line: str, needle: str = "/.dockerenv") -> int:
    """1-based column of ``needle`` in ``line`` (where a finding must point)."""
    index = line.index(needle)
    return index + 1


def post_build(*lines: str) -> str:
    """A bash postBuild: line 1 shebang, line 2 ``set -e``, then ``lines`` from line 3."""
    return "#!/bin/bash\nset -e\n" + "".join(f"{line}\n" for line in lines)


def only(findings: list[Finding], name: str) -> Finding:
    matching = [f for f in findings if f.name == name]
    assert len(matching) == 1, located(findings)
    return matching[0]


# the autouse fixture is re-exported: a test module imports it by name to use it
__all__ = [
    "MIGRATION",
    "Located",
    "_overlays_under_tmp_path",
    "check",
    "col",
    "located",
    "migration_findings",
    "names",
    "only",
    "post_build",
]
