"""Findings for repositories repo2docker cannot render at all (broken YAML, bad versions…)."""

from __future__ import annotations

from collections.abc import Iterator

from r2d_tui.core.checks import CheckContext, rule
from r2d_tui.core.findings import Finding, Severity


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
    if problem.message.startswith("invalid YAML"):
        return  # reported by invalid-yaml, at its line
    path = problem.path or _guess_path(context)
    yield render_failed.finding(path, problem.line or 1, problem.column or 1, problem.message)


@rule(
    "R2D201",
    "invalid-yaml",
    Severity.ERROR,
    "environment.yml is not valid YAML",
    "repo2docker parses environment.yml with ruamel.yaml; a syntax error stops the build. "
    "The line and column are where the parser gave up; the mistake is often on the line "
    "before (indentation of a '- pip:' list is the usual culprit).",
    "environment.yml",
)
def invalid_yaml(context: CheckContext) -> Iterator[Finding]:
    result = context.detection.render
    if result is None or result.problem is None:
        return
    problem = result.problem
    if not problem.message.startswith("invalid YAML"):
        return
    path = problem.path or context.config_path("environment.yml")
    yield invalid_yaml.finding(path, problem.line or 1, problem.column or 1, problem.message)


def _guess_path(context: CheckContext) -> str:
    detection = context.detection
    if detection.deciding_files:
        return detection.deciding_files[0]
    files = context.workspace.env_files()
    return files[0] if files else "."
