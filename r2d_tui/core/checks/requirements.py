"""requirements.txt: lines pip cannot parse, and local references that defeat the cache.

repo2docker normally installs requirements.txt *before* copying the repository, so the
slow ``pip install`` layer is reused until requirements.txt itself changes. A local
reference (``-e .``, ``./pkg``, ``file://``, or even ``-r other.txt``) makes it install
*after* the copy instead, so every edit to any file in the repository reinstalls every
package. Which lines count as local is repo2docker's own
``repo2docker.utils.is_local_pip_requirement``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from r2d_tui.core.checks import CheckContext, rule
from r2d_tui.core.findings import Finding, Severity

GLOBAL_OPTIONS = frozenset({
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
    "--extra-index-url", "--no-index", "-f", "--find-links", "--pre", "--trusted-host",
    "--prefer-binary", "--only-binary", "--no-binary", "--require-hashes", "--use-feature",
    "--config-settings", "-Z", "--always-unzip",
})
PER_REQUIREMENT_OPTIONS = re.compile(
    r"\s--(?:hash|config-settings|global-option|install-option)(?:[=\s]\S+)"
)
URL_OR_PATH = re.compile(
    r"^(?:(?:git|hg|svn|bzr)\+\S+|https?://\S+|file:\S+|\.{1,2}(?:/\S*)?|/\S+|"
    r"[\w.-]+\.(?:whl|tar\.gz|zip|tar\.bz2))$"
)


def logical_lines(text: str) -> Iterator[tuple[int, int, str]]:
    """``(line, column, content)`` of each requirement line, comments removed and
    backslash continuations joined (the line number is where it starts)."""
    start = 0
    pending = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.sub(r"(^|\s)#.*$", "", raw)
        if not pending:
            start = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        content = pending + line
        pending = ""
        if content.strip():
            column = len(content) - len(content.lstrip()) + 1
            yield start, column, content.strip()
    if pending.strip():
        yield start, 1, pending.strip()


def problem_with(line: str) -> str | None:
    """Why pip would reject ``line``, or ``None`` when it is fine."""
    from packaging.requirements import InvalidRequirement, Requirement

    if line.startswith("-"):
        option = re.split(r"[=\s]", line, maxsplit=1)[0]
        if option not in GLOBAL_OPTIONS:
            return f"unknown pip option {option!r}"
        if option in ("-e", "--editable"):
            target = re.split(r"[=\s]+", line, maxsplit=1)[1:] or [""]
            if not target[0]:
                return "-e needs a path or URL"
        return None
    words = line.split()
    if words and words[0] in ("pip", "pip3", "conda", "mamba", "python", "sudo", "apt-get"):
        return f"{line!r} is a command, not a requirement: list only the package names"
    spec = PER_REQUIREMENT_OPTIONS.sub("", " " + line).strip()
    if URL_OR_PATH.match(spec) or "${" in spec:
        return None
    try:
        Requirement(spec)
    except InvalidRequirement as error:
        single_equals = re.match(r"^[\w.\-\[\],]+\s*=\s*[\w.*]+$", spec)
        if single_equals and "==" not in spec:
            return f"{spec!r} uses a single '=': pip needs '==' for an exact version"
        detail = str(error).splitlines()[0]
        return f"pip cannot parse {spec!r}: {detail}"
    return None


def _requirement_files(context: CheckContext) -> Iterator[str]:
    for name in ("requirements.txt", "requirements3.txt"):
        path = context.present(name)
        if path is not None and context.used(path):
            yield path


@rule(
    "R2D341",
    "invalid-requirement",
    Severity.ERROR,
    "a requirements.txt line pip cannot parse",
    "pip rejects the whole file when one line is not a valid requirement (PEP 508 name "
    "and version specifiers, a URL, a path, or a pip option), so the build fails at the "
    "pip step. Common mistakes: 'numpy=1.26' (pip needs '=='), a copied command such as "
    "'pip install numpy', or conda syntax.",
    "requirements.txt",
)
def invalid_requirement(context: CheckContext) -> Iterator[Finding]:
    for path in _requirement_files(context):
        text = context.text(path)
        if text is None:
            continue
        for line, column, content in logical_lines(text.lstrip("\ufeff")):
            problem = problem_with(content)
            if problem:
                fix = None
                if "single '='" in problem:
                    fix = "use == (" + re.sub(r"\s*=\s*", "==", content, count=1) + ")"
                yield invalid_requirement.finding(
                    path, line, column, f"{problem}: the pip install fails", fix=fix
                )


@rule(
    "R2D342",
    "local-reference-defeats-cache",
    Severity.WARNING,
    "a local reference moves the pip install after the repository copy",
    "repo2docker installs requirements.txt before copying the repository, so the install "
    "is cached until requirements.txt changes. A line that refers to local files ('-e .', "
    "'./pkg', 'file://…', '-r other.txt', '-c constraints.txt') forces the install to run "
    "after the whole repository is copied: every edit to any file, even a notebook, "
    "reinstalls every package. Keep requirements.txt to package names and install the "
    "local package in postBuild ('pip install -e .'); inline other requirement files.",
    "requirements.txt",
)
def local_reference_defeats_cache(context: CheckContext) -> Iterator[Finding]:
    from repo2docker.utils import is_local_pip_requirement

    if context.detection.buildpack not in ("python", "r", "julia"):
        return
    from r2d_tui.core.checks.precedence import _is_package

    if not context.detection.config_dir and _is_package(context):
        return  # a package repo installs after the copy anyway
    for path in _requirement_files(context):
        text = context.text(path)
        if text is None:
            continue
        for number, raw in enumerate(text.splitlines(), start=1):
            if is_local_pip_requirement(raw):
                reference = raw.split("#", 1)[0].strip()
                yield local_reference_defeats_cache.finding(
                    path, number, raw.find(reference) + 1,
                    f"{reference!r} refers to local files, so repo2docker installs "
                    f"{path} after copying the repository: every edit reinstalls all packages",
                    fix="install local packages in postBuild; inline -r/-c files",
                )
