"""Output formats of ``r2d-tui check``: one function from findings to the text a tool reads.

Findings are only useful where people already look: a terminal (``text``), a script
(``json``), GitHub code scanning and other SARIF viewers (``sarif``), and the annotations
of a GitHub Actions log (``github``). Each format is a pure function of the findings, so
the CLI, the pre-commit hook and the tests produce byte-identical output for the same
findings, and nothing here imports Textual or Rich.

* ``text``: one :meth:`Finding.format_text` line per finding.
* ``json``: a list of :meth:`Finding.to_json` objects.
* ``sarif``: a SARIF 2.1.0 log with one run. Every registered rule is a
  ``reportingDescriptor``; a result's ``ruleIndex`` points into that list. Locations are
  repository-relative URIs under the ``%SRCROOT%`` base (the repository root), and
  columns count Unicode code points, as Python string indices do.
* ``github``: GitHub Actions workflow commands (``::error file=…,line=…::message``), with
  GitHub's escaping so a ``%``, ``,``, ``:`` or newline cannot end a field early.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Final
from urllib.parse import quote

from r2d_tui import __version__
from r2d_tui.core.findings import Finding, Severity

FORMATS: Final = ("text", "json", "sarif", "github")
"""The names accepted by :func:`format_findings` (and ``r2d-tui check --format``)."""

SARIF_VERSION: Final = "2.1.0"
SARIF_SCHEMA: Final = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SRCROOT: Final = "%SRCROOT%"
#: Where SARIF viewers link the tool name when the package declares no ``Homepage`` URL.
FALLBACK_INFORMATION_URI: Final = "https://pypi.org/project/r2d-tui/"

SARIF_LEVELS: Final = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
GITHUB_COMMANDS: Final = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "notice",
}


class UnknownFormatError(ValueError):
    """``fmt`` is not one of :data:`FORMATS`."""


def format_findings(findings: Sequence[Finding], fmt: str, *, root: Path | str) -> str:
    """``findings`` in the output format ``fmt`` (one of :data:`FORMATS`).

    ``root`` is the repository folder the findings' paths are relative to; SARIF records it
    as the ``%SRCROOT%`` base. The result ends with a newline unless it is empty (``text``
    and ``github`` with no findings print nothing).

    Raises:
        UnknownFormatError: ``fmt`` is not a known format.
    """
    if fmt == "text":
        return "".join(finding.format_text() + "\n" for finding in findings)
    if fmt == "json":
        return json.dumps([finding.to_json() for finding in findings], indent=2) + "\n"
    if fmt == "sarif":
        return json.dumps(sarif_log(findings, root=root), indent=2) + "\n"
    if fmt == "github":
        return "".join(github_command(finding) + "\n" for finding in findings)
    raise UnknownFormatError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")


# -- SARIF --------------------------------------------------------------------------------


def artifact_uri(path: str) -> str:
    """A repository-relative POSIX path as a relative URI reference (percent-encoded)."""
    return quote(path.replace("\\", "/"), safe="/")


def root_uri(root: Path | str) -> str:
    """The ``file:`` URI of the repository folder, ending in ``/`` as SARIF requires."""
    uri = Path(root).absolute().as_uri()
    return uri if uri.endswith("/") else uri + "/"


def information_uri() -> str:
    """The project's ``Homepage`` (``[project.urls]`` in pyproject.toml), else its PyPI page."""
    from importlib import metadata

    try:
        entries = metadata.metadata("r2d-tui").get_all("Project-URL") or []
        urls = [str(entry) for entry in entries]
    except metadata.PackageNotFoundError:
        urls = []
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() in {"homepage", "home", "source", "repository"} and url.strip():
            return url.strip()
    return FALLBACK_INFORMATION_URI


def _rule_descriptors() -> tuple[list[dict[str, object]], dict[str, int]]:
    from r2d_tui.core.checks import iter_rules

    descriptors: list[dict[str, object]] = []
    index: dict[str, int] = {}
    for registered in iter_rules():
        index[registered.code] = len(descriptors)
        descriptors.append(
            {
                "id": registered.code,
                "name": registered.name,
                "shortDescription": {"text": registered.summary},
                "fullDescription": {"text": registered.explanation},
                "help": {"text": registered.explanation},
                "defaultConfiguration": {"level": SARIF_LEVELS[registered.severity]},
                "properties": {"category": registered.category, "tags": [registered.category]},
            }
        )
    return descriptors, index


def sarif_result(finding: Finding, rule_index: int) -> dict[str, object]:
    """One SARIF ``result`` for ``finding``; ``rule_index`` points into the driver's rules."""
    properties: dict[str, object] = {"name": finding.name, "chain": list(finding.chain)}
    if finding.fix is not None:
        properties["fix"] = finding.fix
    return {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": SARIF_LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri(finding.path), "uriBaseId": SRCROOT},
                    "region": {
                        "startLine": max(1, finding.line),
                        "startColumn": max(1, finding.column),
                    },
                }
            }
        ],
        "properties": properties,
    }


def sarif_log(findings: Sequence[Finding], *, root: Path | str) -> dict[str, object]:
    """The SARIF 2.1.0 log (as JSON-ready data) for ``findings`` in the repository ``root``."""
    rules, index = _rule_descriptors()
    results: list[dict[str, object]] = []
    for finding in findings:
        if finding.code not in index:
            # a finding from a rule that is not registered: describe it from the finding
            index[finding.code] = len(rules)
            rules.append(
                {
                    "id": finding.code,
                    "name": finding.name,
                    "shortDescription": {"text": finding.name},
                    "defaultConfiguration": {"level": SARIF_LEVELS[finding.severity]},
                }
            )
        results.append(sarif_result(finding, index[finding.code]))
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "r2d-tui",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": information_uri(),
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {SRCROOT: {"uri": root_uri(root)}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


# -- GitHub Actions workflow commands --------------------------------------------------------


def escape_data(value: str) -> str:
    """Escape the message part of a workflow command (GitHub's ``escapeData``)."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Escape a ``key=value`` property of a workflow command (GitHub's ``escapeProperty``)."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github_command(finding: Finding) -> str:
    """``::error file=…,line=…,col=…,title=CODE name::message`` for ``finding``."""
    properties = {
        "file": finding.path,
        "line": str(finding.line),
        "col": str(finding.column),
        "title": f"{finding.code} {finding.name}",
    }
    joined = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{GITHUB_COMMANDS[finding.severity]} {joined}::{escape_data(finding.message)}"
