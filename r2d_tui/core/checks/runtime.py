"""runtime.txt: the format repo2docker parses, R without a date, Python versions it offers."""

from __future__ import annotations

import re
from collections.abc import Iterator

from r2d_tui.core.checks import CheckContext, rule
from r2d_tui.core.findings import Finding, Severity

UNSUPPORTED = re.compile(r"Python version (?P<version>\S+) on (?P<platform>\S+) is not supported")


def _first_line(text: str) -> tuple[int, str]:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            return number, line.strip()
    return 1, ""


@rule(
    "R2D301",
    "invalid-runtime-txt",
    Severity.ERROR,
    "runtime.txt is not in a format repo2docker reads",
    "runtime.txt must hold exactly one line: python-X.Y (e.g. python-3.12), "
    "r-X.Y-YYYY-MM-DD, or r-YYYY-MM-DD. repo2docker fails on anything else ('Invalid "
    "runtime.txt'), including 'python 3.12', 'python3.12', a full 'python-3.12.1' or "
    "comment lines.",
    "runtime.txt",
)
def invalid_runtime_txt(context: CheckContext) -> Iterator[Finding]:
    path = context.present("runtime.txt")
    if path is None or context.detection.buildpack == "docker":
        return
    result = context.detection.render
    message = result.problem.message if result and result.problem else ""
    if not re.search(
        r"Invalid runtime\.txt|must always be specified as 'x\.y'|InvalidVersion", message
    ):
        return
    text = context.text(path) or ""
    line, content = _first_line(text)
    hint = "write python-X.Y (for example python-3.12)"
    match = re.fullmatch(r"python[- ]?(\d+\.\d+)(?:\.\d+)?", content)
    if match:
        hint = f"write python-{match.group(1)}"
    yield invalid_runtime_txt.finding(
        path, line, 1, f"repo2docker cannot read runtime.txt {content!r}: {hint}", fix=hint,
    )


@rule(
    "R2D302",
    "runtime-txt-r-missing-date",
    Severity.ERROR,
    "runtime.txt names an R version without a snapshot date, so R is not selected",
    "repo2docker selects its R buildpack only when runtime.txt is r-<version>-<YYYY-MM-DD> "
    "or r-<YYYY-MM-DD>: the date picks the CRAN snapshot. With 'r-4.3' alone repo2docker "
    "silently falls back to a Python image: no R, no RStudio, and install.R is not run.",
    "runtime.txt",
)
def runtime_txt_r_missing_date(context: CheckContext) -> Iterator[Finding]:
    path = context.present("runtime.txt")
    if path is None or context.detection.buildpack in ("docker", "r"):
        return
    line, content = _first_line(context.text(path) or "")
    if re.fullmatch(r"r-\d+(?:\.\d+)*", content):
        yield runtime_txt_r_missing_date.finding(
            path, line, 1,
            f"{content!r} has no snapshot date, so repo2docker does not install R: the image "
            f"gets the {context.detection.buildpack} buildpack and no R",
            fix=f"{content}-YYYY-MM-DD, e.g. {content}-2025-01-15",
        )


@rule(
    "R2D303",
    "unsupported-python-version",
    Severity.ERROR,
    "a Python version this repo2docker does not offer",
    "repo2docker builds Python from frozen environments it ships (one per version and "
    "platform). Asking for a version it has none for (too old, like 3.4, or newer than "
    "this release knows) fails the render: 'Python version X.Y on linux-64 is not "
    "supported'.",
    "python",
)
def unsupported_python_version(context: CheckContext) -> Iterator[Finding]:
    result = context.detection.render
    if result is None or result.problem is None:
        return
    match = UNSUPPORTED.search(result.problem.message)
    if match is None:
        return
    version = match.group("version")
    path, line, column = _locate_version(context, version)
    yield unsupported_python_version.finding(
        path, line, column,
        f"Python {version} is not offered by repo2docker on {match.group('platform')}: "
        "the build fails",
        fix=f"use a supported version, e.g. {context.default_python()}",
    )


def _locate_version(context: CheckContext, version: str) -> tuple[str, int, int]:
    candidates = [
        context.present(name)
        for name in ("runtime.txt", "environment.yml", "environment.yaml", "Pipfile")
    ]
    for path in [p for p in candidates if p]:
        text = context.text(path) or ""
        for number, line in enumerate(text.splitlines(), start=1):
            code = line.split("#", 1)[0]
            if "python" in code.lower() and version in code:
                return path, number, code.find(version) + 1
    fallback = next((p for p in candidates if p), None)
    return fallback or ".", 1, 1
