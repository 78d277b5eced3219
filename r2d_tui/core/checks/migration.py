"""Migration checks: build-time code that relied on Docker's classic builder.

Since 2025 repo2docker builds with BuildKit (``docker buildx build``). Code that runs
*during the build* and assumed the classic builder now behaves differently. The best-known
case: the classic builder ran each ``RUN`` in a real container, which had an empty
``/.dockerenv`` file; BuildKit's build sandbox has none, so ``[ -f /.dockerenv ]`` in a
postBuild is now false and the script silently takes its other branch.

Only build-time code matters: postBuild and a Dockerfile's ``RUN`` instructions.
``start`` runs when the container starts (where ``docker run`` still creates the file),
so it is not a builder problem.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from r2d_tui.core.checks import CheckContext, rule
from r2d_tui.core.findings import Finding, Severity

DOCKERENV = re.compile(r"/\.dockerenv\b")
#: Commands whose arguments are only printed, so a mention there tests nothing.
PRINTERS = frozenset({"echo", "printf", "print", "cat", "log", "info", "warn"})
#: Commands that create the file: the opposite of relying on it.
WRITERS = frozenset({"touch", "mkdir", "cp", "mv", "install", "ln"})
SEPARATORS = re.compile(r"&&|\|\||[;|(){}`]|\$\(|\bthen\b|\bdo\b|\belse\b")


@dataclass(frozen=True)
class CodeLine:
    """A line of build-time code with comments removed and its 1-based line number."""

    number: int
    text: str


def strip_shell_comment(line: str) -> str:
    """``line`` without a trailing ``# comment`` (a ``#`` that starts a word outside quotes)."""
    quote: str | None = None
    escaped = False
    for index, char in enumerate(line):
        if escaped:
            escaped = False
            continue
        if char == "\\" and quote != "'":
            escaped = True
            continue
        if quote:
            if char == quote:
                quote = None
            continue
        if char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1] in " \t;&|("):
            return line[:index]
    return line


def _command_word(segment: str) -> str:
    words = segment.strip().split()
    while words and ("=" in words[0] and not words[0].startswith(("=", "-"))):
        words.pop(0)  # VAR=value prefixes
    while words and words[0] in {"if", "!", "sudo", "exec", "then", "else", "elif", "do"}:
        words.pop(0)
    return words[0].rsplit("/", 1)[-1] if words else ""


def dockerenv_tests(line: str) -> Iterator[int]:
    """0-based columns where ``line`` (comments already removed) tests for ``/.dockerenv``.

    Mentions that only print the path, or that create the file, are not tests.
    """
    for match in DOCKERENV.finditer(line):
        start = match.start()
        before = line[:start]
        # the simple command this mention belongs to
        cut = 0
        last: re.Match[str] | None = None
        for separator in SEPARATORS.finditer(before):
            cut, last = separator.end(), separator
        segment = before[cut:]
        command = _command_word(segment)
        if last is not None and last.group() == "(":
            # a call such as print("/.dockerenv") or os.path.exists("/.dockerenv")
            call = re.search(r"([A-Za-z_][\w.]*)\s*\($", before[: last.end()])
            if call:
                command = call.group(1).rsplit(".", 1)[-1]
        if command in PRINTERS or command in WRITERS:
            continue
        if re.search(r">>?\s*[\"']?$", before):  # redirect into the file creates it
            continue
        yield start


def shell_lines(text: str) -> Iterator[CodeLine]:
    for number, raw in enumerate(text.splitlines(), start=1):
        if number == 1 and raw.startswith("#!"):
            continue
        code = strip_shell_comment(raw)
        if code.strip():
            yield CodeLine(number, code)


def dockerfile_run_lines(text: str) -> Iterator[CodeLine]:
    """The shell lines of every ``RUN`` instruction, with their line numbers.

    Follows ``\\`` continuations and drops Dockerfile comment lines inside them, as the
    Dockerfile parser does.
    """
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        raw = lines[index]
        stripped = raw.lstrip()
        index += 1
        if not re.match(r"(?i)RUN\b", stripped):
            continue
        body = stripped[3:]
        number = index
        offset = len(raw) - len(stripped) + 3
        while True:
            continued = body.rstrip().endswith("\\")
            code = strip_shell_comment(body.rstrip().removesuffix("\\") if continued else body)
            if code.strip():
                yield CodeLine(number, " " * offset + code)
            if not continued or index >= len(lines):
                break
            # skip comment and empty lines inside a continued RUN, as Docker's parser does
            while index < len(lines) and (
                lines[index].lstrip().startswith("#") or not lines[index].strip()
            ):
                index += 1
            if index >= len(lines):
                break
            body = lines[index]
            number = index + 1
            offset = 0
            index += 1


EXPLANATION = """\
The classic Docker builder ran every build step in a real container, and Docker creates an
empty /.dockerenv file in containers. Scripts used it to ask "am I being built by Docker
(repo2docker, Binder)?". Since 2025, repo2docker builds with BuildKit (docker buildx build),
whose build sandbox has no /.dockerenv. The test is now false during the build, so the
script silently takes its other branch (scikit-learn's .binder/postBuild had to change for
this). Containers started later still have the file under `docker run` but not on
Kubernetes, so it is a poor signal at run time too.

Fix: test something repo2docker sets on purpose. Every generated image has REPO_DIR set
with ENV, so `if [ -n "${REPO_DIR:-}" ]; then ...` works in postBuild; or set your own
variable (ENV MY_BUILD=1 in a Dockerfile) and test that."""


@rule(
    "R2D401",
    "dockerenv-reliance",
    Severity.ERROR,
    "build-time code tests for /.dockerenv, which BuildKit does not create",
    EXPLANATION,
    "migration",
)
def dockerenv_reliance(context: CheckContext) -> Iterator[Finding]:
    detection = context.detection
    fix = 'test for "$REPO_DIR" (set by repo2docker in every image) instead of /.dockerenv'
    if detection.buildpack == "docker":
        path = detection.deciding_files[0] if detection.deciding_files else "Dockerfile"
        text = context.text(path)
        if text is None:
            return
        for code in dockerfile_run_lines(text):
            for column in dockerenv_tests(code.text):
                yield dockerenv_reliance.finding(
                    path,
                    code.number,
                    column + 1,
                    "RUN tests for /.dockerenv: BuildKit builds have no /.dockerenv, so this "
                    "test is false during the build",
                    chain=(f"{path}:{code.number}",),
                    fix="set an explicit ENV (e.g. ENV IN_DOCKER_BUILD=1) and test that",
                )
        return
    if detection.buildpack is None:
        return
    path = context.config_path("postBuild")
    text = context.text(path)
    if text is None:
        return
    for code in shell_lines(text):
        for column in dockerenv_tests(code.text):
            yield dockerenv_reliance.finding(
                path,
                code.number,
                column + 1,
                "postBuild tests for /.dockerenv: repo2docker now builds with BuildKit, which "
                "does not create it, so this test is false during the build",
                chain=(f"{path}:{code.number}",),
                fix=fix,
            )
