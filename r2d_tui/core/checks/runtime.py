"""runtime.txt: the format repo2docker parses, R without a date, Python versions it offers."""

from __future__ import annotations

import re
from collections.abc import Iterator

from r2d_tui.core.checks import CheckContext, rule
from r2d_tui.core.findings import Finding, Severity

UNSUPPORTED = re.compile(r"Python version (?P<version>\S+) on (?P<platform>\S+) is not supported")


def parse_runtime(text: str) -> tuple[str, str | None, str | None]:
    """``(name, version, date)`` as ``BuildPack.runtime`` reads runtime.txt.

    repo2docker strips the whole file and splits it on ``-``, so a comment line or a
    capital ``P`` does not fail: it becomes part of the name, and the file is then silently
    not a Python runtime.

    Raises:
        ValueError: with repo2docker's message, where it raises.
    """
    content = text.strip()
    parts = content.split("-")
    if len(parts) not in (2, 4, 5) or any(not part for part in parts):
        raise ValueError(f"Invalid runtime.txt: {content}")
    version = parts[1] if len(parts) in (2, 5) else None
    date = "-".join(parts[-3:]) if len(parts) in (4, 5) else None
    if date is not None and not re.match(r"\d\d\d\d-\d\d-\d\d", date):
        raise ValueError(f"Invalid runtime.txt date: {date}")
    return parts[0], version, date


def _first_line(text: str) -> tuple[int, str]:
    # lines as findings count them: at \n only (str.splitlines also broke at \x1e, \f…,
    # which repo2docker's strip() takes as blanks, and the line number drifted)
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            return number, line.strip()
    return 1, ""


@rule(
    "R2D301",
    "invalid-runtime-txt",
    Severity.ERROR,
    "runtime.txt is not in a format repo2docker reads",
    "runtime.txt must hold exactly one line: python-X.Y (e.g. python-3.12), "
    "r-X.Y-YYYY-MM-DD, or r-YYYY-MM-DD. repo2docker fails on 'python 3.12', 'python3.12', "
    "'3.12' ('Invalid runtime.txt') or a full 'python-3.12.1', even next to an "
    "environment.yml. A comment line or 'Python-3.12' does not fail: repo2docker reads "
    "the runtime's name as something other than 'python', ignores the file without a "
    "word and builds its default Python.",
    "runtime.txt",
)
def invalid_runtime_txt(context: CheckContext) -> Iterator[Finding]:
    path = context.present("runtime.txt")
    if path is None or context.detection.buildpack == "docker":
        return
    result = context.detection.render
    message = result.problem.message if result and result.problem else ""
    text = context.text(path) or ""
    line, content = _first_line(text)
    hint = "write python-X.Y (for example python-3.12)"
    match = re.fullmatch(r"python[- ]?(\d+\.\d+)(?:\.\d+)?", content, re.I)
    if match:
        hint = f"write python-{match.group(1)}"
    if re.search(
        r"Invalid runtime\.txt|must always be specified as 'x\.y'"
        r"|InvalidVersion|^Invalid version: ",
        message,
    ):
        yield invalid_runtime_txt.finding(
            path, line, 1, f"repo2docker cannot read runtime.txt {content!r}: {hint}", fix=hint,
        )
        return
    if context.detection.buildpack != "python" or result is None or result.problem:
        return  # other buildpacks do not read runtime.txt (ignored-config-file)
    try:
        name, _, _ = parse_runtime(text)
    except ValueError:
        return
    if name in ("python", "r"):
        return  # r without a date: runtime-txt-r-missing-date
    # Parsed, but not as a Python runtime: repo2docker silently uses its default Python.
    used = context.python_version() or context.default_python()
    if "\n" in text.strip():
        what = f"{path} has more than one line (comments are not allowed)"
    elif name.lower() in ("python", "r"):
        what = f"{content!r} starts with {name!r}, and repo2docker wants lower case"
        hint = f"write {name.lower()}-" + content.split("-", 1)[1]
    else:
        what = f"{content!r} does not start with 'python-' (lower case)"
    yield invalid_runtime_txt.finding(
        path, line, 1,
        f"{what}: repo2docker does not recognise it and silently builds Python {used}",
        fix=hint,
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
        for number, line in enumerate(text.split("\n"), start=1):  # as findings count
            code = line.split("#", 1)[0]
            if "python" in code.lower() and version in code:
                return path, number, code.find(version) + 1
    fallback = next((p for p in candidates if p), None)
    return fallback or ".", 1, 1
