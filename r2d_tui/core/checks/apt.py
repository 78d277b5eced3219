"""apt.txt: one Ubuntu package name per line; anything else breaks the apt-get step.

repo2docker strips ``# comments``, checks only that each line *starts* like a package
name, and pastes all lines into one ``apt-get install`` command. A whole command
(``apt-get install -y vim``) or several words on a line pass its check but install
packages called ``install`` and ``-y`` and fail the build.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from r2d_tui.core.checks import UNIVERSAL_BREAKS, CheckContext, located_lines, rule
from r2d_tui.core.findings import Finding, Severity

#: A Debian package name, optionally with :arch, and =version (apt allows a trailing * glob)
#: or /release (``vim/jammy-backports``).
ARCHITECTURES = (
    "amd64|arm64|armhf|armel|i386|ppc64el|s390x|riscv64|mips64el|all|any|native"
)
PACKAGE = re.compile(
    rf"^[a-z0-9][a-z0-9.+-]+(?::(?:{ARCHITECTURES}))?"
    r"(?:=[A-Za-z0-9.+~:_*-]+|/[a-z0-9.+-]+)?$"
)
COMMAND_WORDS = frozenset({"sudo", "apt", "apt-get", "aptitude", "install", "add-apt-repository"})


def package_names(line: str) -> list[str]:
    """The package names in an apt command line (``sudo apt-get install -y vim git``)."""
    return [
        word for word in line.split()
        if word not in COMMAND_WORDS and not word.startswith("-") and PACKAGE.match(word)
    ]


@rule(
    "R2D311",
    "apt-txt-invalid-line",
    Severity.ERROR,
    "an apt.txt line that is not a package name",
    "apt.txt lists Ubuntu package names, one per line (comments with # are fine). "
    "repo2docker pastes them into a single 'apt-get install' command, so a line with a "
    "whole command ('apt-get install -y vim'), several words, or shell syntax either "
    "fails repo2docker's check or makes apt-get look for packages called 'install' and "
    "'-y', and the build fails. Write just the names, one per line.",
    "apt.txt",
)
def apt_txt_invalid_line(context: CheckContext) -> Iterator[Finding]:
    path = context.present("apt.txt")
    if path is None or not context.used(path):
        return
    source = context.source(path)
    if source is None or source.text is None:
        return
    # the lines as repo2docker reads them (``for l in f``: universal newlines, so a lone
    # \r breaks a line too), placed at the \n-separated line they are on
    for number, offset, raw in located_lines(source.text, UNIVERSAL_BREAKS):
        line = raw.partition("#")[0].strip()
        if number == 1 and offset == 0:
            line = line.lstrip("\ufeff")
        if not line or PACKAGE.match(line):
            continue
        column = offset + (raw.find(line) + 1 if line in raw else 1)
        names = package_names(line)
        words = line.split()
        severity = None
        if len(words) > 1 and all(
            PACKAGE.match(word) and word not in COMMAND_WORDS for word in words
        ):
            # 'vim git': repo2docker pastes the line into apt-get install unchanged, so
            # this happens to install both; it is still not the format (a warning).
            message = f"{line!r} holds several package names: write one per line"
            fix = "put each package on its own line"
            severity = Severity.WARNING
        elif all(word.startswith("-") for word in words):
            # '--no-install-recommends': passes repo2docker's check and becomes an option of
            # its apt-get install, which works, but lists no package (a warning).
            message = f"{line!r} is an apt-get option, not a package name"
            fix = "delete this line (repo2docker runs apt-get install --yes itself)"
            severity = Severity.WARNING
        elif len(words) > 1:
            message = f"{line!r} is not a package name: one package per line"
            fix = ("replace with: " + ", ".join(names)) if names else "delete this line"
        else:
            message = f"{line!r} is not a valid Ubuntu package name (lower-case letters, " \
                "digits, '.', '+', '-')"
            fix = f"use {line.lower()!r}" if PACKAGE.match(line.lower()) else "fix the name"
        hint = context.flattened_symlink_hint(path)
        if hint:
            message = f"{message}; {hint}"
        yield apt_txt_invalid_line.finding(
            path, number, column, message, fix=fix, severity=severity
        )
