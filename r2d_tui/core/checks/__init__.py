"""Checks: find environment-file mistakes and builder-migration hazards before the build.

Each rule is a function from a :class:`CheckContext` (the workspace, repo2docker's
detection and render) to findings, registered once with its code, name, severity and
explanation. ``run_checks`` runs them all; the CLI's ``check`` and the TUI's diagnostics
panel both call it.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from r2d_tui.core.detection import Detection, detect
from r2d_tui.core.findings import Finding, Severity
from r2d_tui.core.render import RenderOptions
from r2d_tui.core.workspace import Source, Workspace


@dataclass(frozen=True)
class CheckContext:
    """What a rule may look at."""

    workspace: Workspace
    detection: Detection
    cache: dict[str, object] = field(default_factory=dict)
    """Results shared between rules of one run (for example the build-time call graph)."""

    def config_path(self, name: str) -> str:
        folder = self.detection.config_dir
        return f"{folder}/{name}" if folder else name

    def text(self, rel: str) -> str | None:
        return self.workspace.text(rel)

    def source(self, rel: str) -> Source | None:
        return self.workspace.source(rel)

    def env_files(self) -> tuple[str, ...]:
        """The workspace's environment files, listed once per run (rules ask ~40 times)."""
        listed = self.cache.get("env_files")
        if not isinstance(listed, tuple):
            listed = tuple(self.workspace.env_files())
            self.cache["env_files"] = listed
        return listed

    def present(self, name: str) -> str | None:
        """The path of ``name`` in the config folder when that file exists (or is a buffer)."""
        path = self.config_path(name)
        return path if path in self.env_files() else None

    def used(self, path: str) -> bool:
        """Does the chosen buildpack read ``path``?"""
        detection = self.detection
        return path in detection.used_files or path in detection.deciding_files

    def flattened_symlink_hint(self, rel: str) -> str | None:
        """When the whole content of ``rel`` is a relative path to another file of the
        repository (``../ci/apt.txt``), the hint that it is a git symlink checked out as a
        plain file; ``None`` otherwise."""
        content = (self.text(rel) or "").strip()
        if not content or "\n" in content or re.search(r"\s", content):
            return None
        if content.startswith("/") or "/" not in content and "." not in content:
            return None
        target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), content))
        if target.startswith("..") or target == rel:
            return None
        root = self.workspace.root
        try:
            full = root / target
            if not (full.is_file() and full.resolve().is_relative_to(root.resolve())):
                return None
        except OSError:
            return None
        return (f"this file holds only the path {content}: a symlink checked out as a plain "
                "file (core.symlinks=false)?")

    def python_version(self) -> str | None:
        """The Python version repo2docker will build the environment with (from its log)."""
        result = self.detection.render
        for note in result.notes if result else ():
            match = re.search(r"Building conda environment for python=(\S+)", note)
            if match:
                return match.group(1)
        return None

    def default_python(self) -> str:
        """repo2docker's current default Python (``CondaBuildPack.major_pythons['3']``)."""
        return self.detection.default_python


@dataclass(frozen=True)
class Rule:
    """A registered check."""

    code: str
    name: str
    severity: Severity
    summary: str
    explanation: str
    category: str
    run: Callable[[CheckContext], Iterable[Finding]]

    def finding(
        self,
        path: str,
        line: int,
        column: int,
        message: str,
        *,
        severity: Severity | None = None,
        chain: tuple[str, ...] = (),
        fix: str | None = None,
    ) -> Finding:
        return Finding(
            code=self.code,
            name=self.name,
            severity=severity or self.severity,
            path=path,
            line=line,
            column=column,
            message=message,
            chain=chain,
            fix=fix,
        )


RULES: dict[str, Rule] = {}


def rule(
    code: str, name: str, severity: Severity, summary: str, explanation: str, category: str
) -> Callable[[Callable[[CheckContext], Iterable[Finding]]], Rule]:
    """Register a rule function under ``code`` / ``name``."""

    def register(function: Callable[[CheckContext], Iterable[Finding]]) -> Rule:
        registered = Rule(code, name, severity, summary, explanation, category, function)
        RULES[name] = registered
        return registered

    return register


def find_rule(key: str) -> Rule | None:
    """A rule by name or code."""
    _load_rules()
    if key in RULES:
        return RULES[key]
    for registered in RULES.values():
        if registered.code.lower() == key.lower():
            return registered
    return None


def _load_rules() -> None:
    from r2d_tui.core.checks import (  # noqa: F401 - importing registers the rules
        apt,
        encoding,
        envyml,
        migration,
        precedence,
        render_rules,
        requirements,
        runtime,
        scripts,
    )


def run_checks(
    workspace: Workspace,
    *,
    detection: Detection | None = None,
    options: RenderOptions | None = None,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
) -> list[Finding]:
    """Run every rule (or the selected ones) and return findings sorted by place."""
    _load_rules()
    context = CheckContext(workspace, detection or detect(workspace, options))
    wanted = {key.lower() for key in select}
    unwanted = {key.lower() for key in ignore}
    findings: list[Finding] = []
    for registered in RULES.values():
        keys = {registered.code.lower(), registered.name, registered.category}
        if wanted and not keys & wanted:
            continue
        if keys & unwanted:
            continue
        findings.extend(registered.run(context))
    return sorted(set(findings), key=Finding.sort_key)


def iter_rules() -> Iterator[Rule]:
    _load_rules()
    yield from sorted(RULES.values(), key=lambda r: r.code)


def file_name(path: str) -> str:
    return PurePosixPath(path).name


#: Where ``str.splitlines`` breaks lines besides ``\n`` (pip reads requirements files so).
SPLITLINES_BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
#: Where Python's universal newlines break lines besides ``\n`` (``for line in open(path)``,
#: as repo2docker reads apt.txt).
UNIVERSAL_BREAKS = "\r"


def located_lines(text: str, breaks: str = SPLITLINES_BREAKS) -> Iterator[tuple[int, int, str]]:
    """The lines of ``text`` as a reader that also breaks at ``breaks`` sees them, each with
    where it starts as findings count places: the 1-based line split at ``\\n`` only (as
    git, ``path:line`` in editors and the TUI's gutter) and the 0-based column in it.

    (Enumerating ``text.splitlines()`` instead numbered every form feed, lone ``\\r`` or
    U+2028 as a new line, so findings pointed below the line meant, or past the file's end.)
    ``\\r\\n`` is one break. Empty lines are included (one more at the end than
    ``splitlines`` gives when ``text`` ends with a break).
    """
    pattern = re.compile(f"[{re.escape(breaks)}]") if breaks else None
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        if number < len(lines) and line.endswith("\r"):
            line = line[:-1]  # the \r of a \r\n pair
        start = 0
        if pattern is not None:
            for match in pattern.finditer(line):
                yield number, start, line[start : match.start()]
                start = match.end()
        yield number, start, line[start:]
