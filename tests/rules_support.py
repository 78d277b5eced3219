"""Helpers for the table-driven rule tests (``tests/test_rules_*.py``).

A case is a small repository written from a dict ``{path: text or bytes}`` and checked
with :func:`run_checks`, plus the findings it must produce (by name, at ``path:line`` and,
where it matters, column) and the names it must not produce anywhere.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from r2d_tui.core.checks import run_checks
from r2d_tui.core.findings import Finding, Severity
from r2d_tui.core.workspace import Workspace

#: Scripts repo2docker runs: written executable unless a case says otherwise.
SCRIPTS = frozenset({"postBuild", "start"})


@dataclass(frozen=True)
class Mode:
    """File content with explicit permission bits (``Mode("#!/bin/bash\\n", 0o644)``)."""

    content: str | bytes
    mode: int


FileSpec = str | bytes | Mode


@dataclass(frozen=True)
class Want:
    """A finding that must be present: ``name`` at ``path:line`` (and ``column``)."""

    name: str
    path: str
    line: int
    column: int | None = None
    severity: Severity | None = None


@dataclass(frozen=True)
class Case:
    """One repository and what ``run_checks`` must say about it."""

    id: str
    files: Mapping[str, FileSpec]
    want: tuple[Want, ...] = ()
    forbid: tuple[str, ...] = ()
    note: str = field(default="", compare=False)


def write_repo(root: Path, files: Mapping[str, FileSpec]) -> Path:
    """Write ``files`` under ``root`` (folders created; scripts executable by default)."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, spec in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        content = spec.content if isinstance(spec, Mode) else spec
        if rel.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))
        if isinstance(spec, Mode):
            path.chmod(spec.mode)
        elif path.name in SCRIPTS:
            path.chmod(0o755)
        else:
            path.chmod(0o644)
    return root


def check_files(root: Path, files: Mapping[str, FileSpec], **kwargs: object) -> list[Finding]:
    """``run_checks`` over a repository made of ``files`` (in ``root``)."""
    workspace = Workspace(write_repo(root, files))
    try:
        return run_checks(workspace, **kwargs)  # type: ignore[arg-type]
    finally:
        workspace.close()


def describe(findings: Iterable[Finding]) -> str:
    return "\n".join(f"  {f.severity.value:7} {f.format_text()}" for f in findings) or "  (none)"


def assert_findings(
    findings: list[Finding], want: Iterable[Want], forbid: Iterable[str] = ()
) -> None:
    """Every wanted finding is present at its place; no forbidden name appears."""
    for wanted in want:
        at_place = [
            f for f in findings
            if f.name == wanted.name and f.path == wanted.path and f.line == wanted.line
            and (wanted.column is None or f.column == wanted.column)
        ]
        assert at_place, (
            f"missing {wanted.name} at {wanted.path}:{wanted.line}"
            f"{':' + str(wanted.column) if wanted.column else ''}; got:\n{describe(findings)}"
        )
        if wanted.severity is not None:
            assert any(f.severity == wanted.severity for f in at_place), (
                f"{wanted.name} at {wanted.path}:{wanted.line} should be "
                f"{wanted.severity.value}; got:\n{describe(at_place)}"
            )
    for name in forbid:
        bad = [f for f in findings if f.name == name]
        assert not bad, f"unexpected {name}:\n{describe(bad)}"


def run_case(root: Path, case: Case) -> list[Finding]:
    findings = check_files(root, case.files)
    assert_findings(findings, case.want, case.forbid)
    return findings


def params(cases: Iterable[Case]) -> list[object]:
    """``pytest.param`` per case, with its id (each case must assert something, and ids
    must be unique so a failure names one case)."""
    cases = list(cases)
    for case in cases:
        assert case.want or case.forbid, f"case {case.id} asserts nothing"
    ids = [case.id for case in cases]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    return [pytest.param(case, id=case.id) for case in cases]


@pytest.fixture(autouse=True)
def _overlays_under_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Detection renders overlays with ``tempfile.mkdtemp``: keep them under tmp_path."""
    folder = tmp_path / "tempfiles"
    folder.mkdir(exist_ok=True)
    monkeypatch.setattr(tempfile, "tempdir", str(folder))


def repo2docker_cli() -> str | None:
    """The repo2docker command next to this interpreter (the venv's), if any."""
    import sys

    candidate = Path(sys.executable).with_name("repo2docker")
    return str(candidate) if candidate.exists() and os.access(candidate, os.X_OK) else None
