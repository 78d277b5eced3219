"""postBuild and start: the scripts repo2docker runs, and how they can silently misbehave.

postBuild runs once during the build (``RUN ./postBuild``); start runs every time the
container starts, wrapping the notebook server command (passed as ``"$@"``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from r2d_tui.core.checks import CheckContext, rule
from r2d_tui.core.checks.migration import strip_shell_comment
from r2d_tui.core.findings import Finding, Severity

#: Shell syntax that bash accepts and /bin/sh (dash) rejects or reads differently, and
#: whether dash stops the script there (a syntax error or bad substitution) or carries on
#: (a command 'not found', or a different meaning). Checked against dash 0.5.12.
BASH_ONLY = (
    (re.compile(r"\[\["), "[[ ... ]]", False),
    (re.compile(r"^\s*function\s+\w+"), "function name", True),
    (re.compile(r"(?:^|[;&|\s])source\s+\S"), "source", False),
    (re.compile(r"\(\("), "(( ... ))", False),
    (re.compile(r"^\s*\w+=\("), "arrays", True),
    (re.compile(r"\$\{\w+//"), "${var//…}", True),
    (re.compile(r"\$\{\w+:\d"), "${var:offset}", True),
    (re.compile(r"<<<"), "here-strings <<<", True),
    (re.compile(r"&>"), "&>", False),
    (re.compile(r"\bshopt\b"), "shopt", False),
    (re.compile(r"\bdeclare\s+-[aA]"), "declare -a", False),
    (re.compile(r"\{\d+\.\.\d+\}"), "{1..n}", False),
    (re.compile(r"\b(?:pushd|popd)\b"), "pushd/popd", False),
    (re.compile(r"\$'"), "$'…'", False),
)
PYTHON_SYNTAX = re.compile(r"^\s*(?:import \w|from \w[\w.]* import |def \w+\(|print\()", re.M)
SHELLS = re.compile(r"^#!\s*(?:/usr/bin/env\s+(?:-S\s+)?)?(?:/\S*/)?(?P<shell>\w+)")


def _interpreter(text: str) -> str | None:
    first = text.split("\n", 1)[0]
    match = SHELLS.match(first)
    return match.group("shell") if match else None


def _script(context: CheckContext, name: str) -> str | None:
    path = context.present(name)
    if path is None or context.detection.buildpack in (None, "docker"):
        return None
    return path


def _crlf_line(context: CheckContext, path: str) -> int | None:
    source = context.source(path)
    if source is None:
        return None
    for number, line in enumerate(source.raw_lines, start=1):
        if line.endswith("\r"):
            return number
    return None


def _crlf_rule(context: CheckContext, name: str, which: object) -> Iterator[Finding]:
    path = _script(context, name)
    if path is None:
        return
    line = _crlf_line(context, path)
    if line is None:
        return
    when = "the build fails" if name == "postBuild" else "the container fails to start"
    yield which.finding(  # type: ignore[attr-defined]
        path, line, 1,
        f"{name} has Windows (CRLF) line endings: the interpreter sees '\\r' "
        f"('/bin/bash^M: bad interpreter' or '$'\\r': command not found') and {when}",
        fix="convert to LF line endings",
    )


CRLF_EXPLANATION = (
    "Scripts with Windows line endings (CRLF) fail on Linux: the kernel looks for an "
    "interpreter called 'bash\\r' ('bad interpreter: No such file or directory') and every "
    "command ends in a stray carriage return. Git on Windows often converts line endings; "
    "add '* text=auto eol=lf' or 'postBuild text eol=lf' to .gitattributes."
)


@rule("R2D321", "postbuild-crlf", Severity.ERROR,
      "postBuild has Windows (CRLF) line endings", CRLF_EXPLANATION, "scripts")
def postbuild_crlf(context: CheckContext) -> Iterator[Finding]:
    yield from _crlf_rule(context, "postBuild", postbuild_crlf)


@rule("R2D322", "start-crlf", Severity.ERROR,
      "start has Windows (CRLF) line endings", CRLF_EXPLANATION, "scripts")
def start_crlf(context: CheckContext) -> Iterator[Finding]:
    yield from _crlf_rule(context, "start", start_crlf)


@rule(
    "R2D323",
    "postbuild-no-shebang",
    Severity.WARNING,
    "postBuild has no #! line, so /bin/sh runs it",
    "repo2docker runs postBuild as './postBuild'. Without a first line such as "
    "'#!/bin/bash' the kernel cannot tell how to run it and the shell falls back to "
    "/bin/sh (dash on Ubuntu), which rejects bash syntax ([[ ]], source, arrays, "
    "functions declared with 'function'…) and cannot run Python. Add '#!/bin/bash' (or "
    "'#!/usr/bin/env python3' for a Python script).",
    "scripts",
)
def postbuild_no_shebang(context: CheckContext) -> Iterator[Finding]:
    path = _script(context, "postBuild")
    if path is None:
        return
    text = (context.text(path) or "").lstrip("\ufeff")
    if text.startswith("#!") or not text.strip():
        return
    if PYTHON_SYNTAX.search(text):
        yield postbuild_no_shebang.finding(
            path, 1, 1,
            "postBuild has no #! line and looks like Python: /bin/sh will run it and fail",
            severity=Severity.ERROR, fix="add '#!/usr/bin/env python3' as the first line",
        )
        return
    # the shell reads lines at \n only (not at \f or a lone \r, as str.splitlines does)
    for number, raw in enumerate(text.split("\n"), start=1):
        code = strip_shell_comment(raw)
        for pattern, what, fatal in BASH_ONLY:
            match = pattern.search(code)
            if match:
                effect = (
                    "a syntax error that stops the script: the build fails" if fatal else
                    "the line fails or does something else, and the script carries on"
                )
                yield postbuild_no_shebang.finding(
                    path, number, match.start() + 1,
                    f"postBuild has no #! line, so /bin/sh runs it, and sh does not "
                    f"understand {what}: {effect}",
                    severity=Severity.ERROR, fix="add '#!/bin/bash' as the first line",
                )
                return
    yield postbuild_no_shebang.finding(
        path, 1, 1, "postBuild has no #! line, so /bin/sh runs it",
        fix="add '#!/bin/bash' as the first line",
    )


@rule(
    "R2D324",
    "postbuild-not-executable",
    Severity.INFO,
    "postBuild is not executable",
    "repo2docker runs 'chmod +x postBuild' before running it, so a build works either way. "
    "But the file is not executable in your checkout, so running it yourself, or "
    "'repo2docker --editable', does not. 'git update-index --chmod=+x postBuild' records "
    "the bit in git.",
    "scripts",
)
def postbuild_not_executable(context: CheckContext) -> Iterator[Finding]:
    path = _script(context, "postBuild")
    if path is None:
        return
    source = context.source(path)
    if source is None or source.mode is None or source.mode & 0o111:
        return
    yield postbuild_not_executable.finding(
        path, 1, 1,
        "postBuild is not executable (repo2docker sets the bit when building; an editable "
        "or manual run does not)",
        fix="chmod +x postBuild (and git update-index --chmod=+x postBuild)",
    )


#: ``exec`` at the start of a command (a line, or after ; && || | then else do { ( !)
#: whose arguments include the server command ("$@", ${@}, $@, $*), e.g. ``exec "$@"``,
#: ``if …; then exec "$@"; fi``, ``. env.sh && exec "$@" --debug``.
EXEC_ARGS = re.compile(
    r"(?:^|[;&|({!]|\bthen|\belse|\bdo)\s*exec\s+(?:[^;&|#\n]*\s)?"
    r"(?:\"\$(?:@|\{@\})\"|\$@|\$\{@\}|\$\*)"
)
#: The server command run as a command of its own (not ``echo "$@"``), without exec.
RUNS_ARGS = re.compile(
    r"(?:^|[;&|({!]|\bthen|\belse|\bdo)\s*(?:\"\$(?:@|\{@\})\"|\$@|\$\{@\})"
)
#: Python start scripts: os.exec*(…) hands over; subprocess(sys.argv…) runs a child.
PYTHON_EXEC = re.compile(r"\bos\.exec\w*\(")
PYTHON_CHILD = re.compile(r"\b(?:subprocess\.\w+|os\.system|os\.spawn\w*)\(")


@rule(
    "R2D325",
    "start-no-exec",
    Severity.ERROR,
    "start does not hand over to the server command with exec \"$@\"",
    "repo2docker runs start with the notebook server command as its arguments. The script "
    "must end by running that command, normally with 'exec \"$@\"', so the server becomes "
    "the container's main process. Without it the script returns, the container stops "
    "and Binder reports that the server failed to start. Without 'exec' (just \"$@\") the "
    "server runs as a child and does not receive stop signals.",
    "scripts",
)
def start_no_exec(context: CheckContext) -> Iterator[Finding]:
    path = _script(context, "start")
    if path is None:
        return
    text = context.text(path)
    if text is None:
        return
    # lines as the shell (and findings) count them: at \n only, without the empty "line"
    # after a final newline (str.splitlines also broke at \f and lone \r: findings then
    # pointed below the line meant, or past the end of the file)
    lines = text.split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    if (_interpreter(text) or "").startswith("python"):
        yield from _python_start(path, lines)
        return
    code_lines = [(n, strip_shell_comment(line)) for n, line in enumerate(lines, start=1)]
    if any(EXEC_ARGS.search(code) for _, code in code_lines):
        return
    if not any(code.strip() for n, code in code_lines if n > 1 or not code.startswith("#!")):
        return  # an empty placeholder: nothing to check yet
    runs = [n for n, code in code_lines if RUNS_ARGS.search(code)]
    last = len(lines) or 1
    if runs:
        yield start_no_exec.finding(
            path, runs[-1], 1,
            "start runs \"$@\" without exec: the server becomes a child of the script and "
            "does not get stop signals",
            severity=Severity.WARNING, fix='use exec "$@"',
        )
        return
    yield start_no_exec.finding(
        path, last, 1,
        "start never runs the server command: end it with exec \"$@\", or the container "
        "stops right after start finishes",
        fix='add exec "$@" as the last line',
    )


def _python_start(path: str, lines: list[str]) -> Iterator[Finding]:
    """start written in Python: it must os.exec*() the command in sys.argv[1:]."""
    code = [(n, line.split("#", 1)[0]) for n, line in enumerate(lines, start=1)]
    if any(PYTHON_EXEC.search(line) for _, line in code):
        return
    children = [n for n, line in code if PYTHON_CHILD.search(line)]
    if children:
        yield start_no_exec.finding(
            path, children[-1], 1,
            "start runs the server command as a child process instead of os.execvp(): "
            "it does not get stop signals",
            severity=Severity.WARNING, fix="os.execvp(sys.argv[1], sys.argv[1:])",
        )
        return
    yield start_no_exec.finding(
        path, len(lines) or 1, 1,
        "start never runs the server command: end it with os.execvp(sys.argv[1], "
        "sys.argv[1:]), or the container stops right after start finishes",
        fix="os.execvp(sys.argv[1], sys.argv[1:])",
    )


#: ``set -e`` in any spelling: set -e, set -eux, set -x -e, set -o errexit, set -Eeo pipefail.
ERREXIT = re.compile(
    r"^[^#\n]*?\bset[ \t]+(?:[-+]\w+[ \t]+|-o[ \t]+\w+[ \t]+)*"
    r"(?:-[a-zA-Z]*e[a-zA-Z]*\b|-o[ \t]+errexit\b)",
    re.M,
)


@rule(
    "R2D326",
    "postbuild-errors-ignored",
    Severity.INFO,
    "postBuild does not stop on errors (no set -e)",
    "A shell script carries on after a failing command, and its exit status is the last "
    "command's. A postBuild whose 'pip install' or download fails in the middle therefore "
    "'succeeds', and the image is silently incomplete. Start it with 'set -euo pipefail' "
    "(bash) or 'set -e', or use '#!/bin/bash -e'.",
    "scripts",
)
def postbuild_errors_ignored(context: CheckContext) -> Iterator[Finding]:
    path = _script(context, "postBuild")
    if path is None:
        return
    text = (context.text(path) or "").lstrip("\ufeff")
    shell = _interpreter(text)
    if shell not in (None, "sh", "bash", "dash", "zsh") or not text.strip():
        return
    if shell is None and PYTHON_SYNTAX.search(text):
        return  # a Python script without #!: postbuild-no-shebang says it fails
    first = text.split("\n", 1)[0]
    if re.search(r"\s-\w*e", first) or ERREXIT.search(text):
        return
    if len(_commands(text)) < 2:
        return  # one command (or one && chain): its failure fails the build anyway
    yield postbuild_errors_ignored.finding(
        path, 1, 1,
        "postBuild does not stop on errors: a failing command in the middle does not fail "
        "the build",
        fix="add 'set -euo pipefail' after the #! line",
    )


#: Lines (after comments are removed) that only open or close a compound command.
CONTROL_ONLY = re.compile(r"^(?:fi|done|esac|then|do|else|[{}]|;;|\))(?:[\s;<>|&].*)?$")
#: The condition part of ``if …; then``, ``while …; do``, ``for …; do`` (not a command whose
#: failure matters), leaving what follows ``then``/``do`` on the same line.
CONDITION = re.compile(r"^(?:if|elif|while|until|for|case)\b.*?(?:;\s*(?:then|do)\b|\bin\s*$|$)")


def _commands(text: str) -> list[str]:
    """The script's commands, with backslash continuations and ``&&``/``||``/``|`` chains
    that go on over several lines joined into one (their failure fails the chain), and
    without the lines that only open or close an ``if``/``for``/``while``/``case`` (so a
    single ``if …; then cmd; fi`` is one command: its status is the script's)."""
    commands: list[str] = []
    pending = ""
    for raw in text.splitlines()[1:] if text.startswith("#!") else text.splitlines():
        code = strip_shell_comment(raw).strip()
        if not code and not pending:
            continue
        pending = f"{pending} {code}".strip()
        if pending.endswith(("\\", "&&", "||", "|")):
            pending = pending.rstrip("\\").strip()
            continue
        body = CONDITION.sub("", pending).strip().rstrip(";").strip()
        body = re.sub(r"\s*;?\s*\b(?:fi|done|esac)$", "", body).strip()
        if body and not CONTROL_ONLY.match(body):
            commands.append(body)
        pending = ""
    if pending:
        commands.append(pending)
    return commands
