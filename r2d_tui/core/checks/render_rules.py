"""Findings for repositories repo2docker cannot render at all.

Most render failures have a specific rule that points at the line (invalid YAML, an
unsupported Python version, a bad runtime.txt or apt.txt line); ``render-failed`` reports
the rest with repo2docker's own message, so no failure goes unmentioned.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator

from r2d_tui.core.checks import CheckContext, rule
from r2d_tui.core.findings import Finding, Severity
from r2d_tui.core.render import toml_error_place

#: Render errors that a more specific rule reports at the right line.
EXPLAINED = (
    re.compile(r"^invalid YAML"),
    re.compile(r"should contain a dictionary"),
    re.compile(r"Invalid runtime\.txt"),
    re.compile(r"python_version must always be specified as 'x\.y'"),
    re.compile(r"InvalidVersion|^Invalid version: "),
    re.compile(r"Python version \S+ on \S+ is not supported"),
    re.compile(r"invalid package name .* in apt\.txt"),
    re.compile(r"both a 'binder' and a '\.binder' directory"),
)


def explained(message: str, context: CheckContext | None = None) -> bool:
    if any(pattern.search(message) for pattern in EXPLAINED):
        return True
    if context is None:
        return False
    if message.startswith("UnicodeDecodeError") and any(
        (source := context.source(path)) is not None and source.format.encoding != "utf-8"
        for path in context.env_files()
    ):
        return True  # a UTF-16/32 file: utf8-bom reports it at the file
    if re.search(r"\d+\.\.0 is not valid SemVer", message):
        # 'python=3.*' is read as '3.': python-version-unrecognized reports it at the line
        from r2d_tui.core.checks.envyml import python_version_unrecognized

        return any(
            f.severity == Severity.ERROR for f in python_version_unrecognized.run(context)
        )
    return False


@rule(
    "R2D001",
    "render-failed",
    Severity.ERROR,
    "repo2docker cannot generate a Dockerfile for this repository",
    "repo2docker raised an error while detecting the buildpack or rendering the Dockerfile, "
    "so a build on Binder fails before it starts. The message is repo2docker's own.",
    "render",
)
def render_failed(context: CheckContext) -> Iterator[Finding]:
    result = context.detection.render
    if result is None or result.problem is None:
        return
    problem = result.problem
    if explained(problem.message, context):
        return
    if "is not UTF-8 text" in problem.message and problem.path:
        source = context.source(problem.path)
        if source is not None and source.format.bom:
            return  # UTF-16/32 with a byte-order mark: utf8-bom reports it at its line
    path = problem.path or _guess_path(context)
    yield render_failed.finding(
        path, problem.line or 1, problem.column or 1, f"repo2docker fails: {problem.message}"
    )


def _guess_path(context: CheckContext) -> str:
    detection = context.detection
    if detection.deciding_files:
        return detection.deciding_files[0]
    files = context.env_files()
    return files[0] if files else "."


@rule(
    "R2D002",
    "invalid-pyproject-toml",
    Severity.WARNING,
    "the root pyproject.toml is not valid TOML",
    "repo2docker reads the root pyproject.toml only with its Python buildpack and no binder "
    "folder (for requires-python and to decide whether to pip install the repository); "
    "there an invalid file stops the render, which render-failed reports. With a binder "
    "folder or another buildpack repo2docker does not read it, so the image still builds, "
    "but anything that does read it fails: pip install . or -e . (in postBuild or a "
    "requirements file), build tools, and r2d-tui's own [tool.r2d-tui] settings, which "
    "are skipped.",
    "render",
)
def invalid_pyproject_toml(context: CheckContext) -> Iterator[Finding]:
    path = "pyproject.toml"
    if path not in context.env_files():
        return
    try:
        tomllib.loads(context.text(path) or "")
    except tomllib.TOMLDecodeError as error:
        problem = context.detection.render.problem if context.detection.render else None
        if problem is not None and problem.path == path:
            return  # repo2docker parsed it and failed: render-failed says so at the line
        detail, line, column = toml_error_place(error)
        yield invalid_pyproject_toml.finding(
            path, line, column,
            f"invalid TOML in {path}: {detail}; repo2docker does not read it here, but "
            "pip install . and other tools that read it fail (r2d-tui's [tool.r2d-tui] "
            "settings in it are skipped)",
            fix="fix the TOML syntax at this line",
        )
