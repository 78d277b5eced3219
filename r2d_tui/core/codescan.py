"""Find "am I in a container?" probes in code, per language, without running anything.

A *probe* is code that tests for a container marker: the ``/.dockerenv`` file, the
``docker`` word in ``/proc/1/cgroup``, ``/run/.containerenv``, the npm ``is-docker``
package, or the host name. The classic Docker builder made several of them true during a
build; BuildKit makes them false. Whether a probe matters (build time) or not (run time)
is decided by the caller; this module only finds them, precisely enough to stay quiet on
comments, on strings that are only printed, and on code that *creates* the marker.

Each language gets its own comment handling; Python is parsed with :mod:`ast`.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

#: Markers whose mere test is a probe, and the kind of probe each one is.
MARKERS: dict[str, str] = {
    "/.dockerenv": "dockerenv",
    "/run/.containerenv": "containerenv",
}
CGROUP_PATHS = ("/proc/1/cgroup", "/proc/self/cgroup", "/proc/1/sched", "/proc/self/mountinfo")
#: The markers as absolute paths: not ``$HOME/.dockerenv``, ``./.dockerenv`` or
#: ``/.dockerenv-config``.
MARKER_RE = re.compile(r"(?<![\w.$}/-])(?:/\.dockerenv|/run/\.containerenv)(?![\w.-])")
CGROUP_RE = re.compile(r"/proc/(?:1|self)/(?:cgroup|sched|mountinfo)\b")

#: Functions and commands whose string arguments are only shown to a person.
PRINTERS = frozenset({
    "echo", "printf", "print", "println", "cat", "message", "warning", "warn", "info",
    "debug", "error", "log", "puts", "writeLines", "writeln", "@info", "@warn", "@debug",
    "@error", "console.log", "console.error", "console.warn", "console.info", "stop",
    "Write-Host", "logger", "logging",
})
#: Functions and commands that create the marker (the opposite of relying on it).
WRITERS = frozenset({
    "touch", "mkdir", "cp", "mv", "install", "ln", "file.create", "writeFileSync",
    "writeFile", "write_text", "write_bytes", "Path.touch",
    # removing the marker is not relying on it either (``rm -f /.dockerenv``)
    "rm", "unlink", "unlinkSync", "remove", "file.remove",
})
#: Printers that do not read a file named as their argument (``cat`` does: ``cat
#: /proc/1/cgroup | grep docker`` is a probe).
PURE_PRINTERS = PRINTERS - {"cat"}
#: Commands that run the text of a here-document they are fed (others, like ``cat > f``,
#: only store it: its body is data, not code that runs now).
HEREDOC_RUNNERS = frozenset({
    "", "sh", "bash", "zsh", "dash", "ash", "ksh", "python", "python2", "python3", "node",
    "Rscript", "R", "julia", "ssh", "su", "sudo", "exec", "eval", "source", ".",
})
#: JavaScript loading the is-docker packages (``require('is-docker')``, ``import(…)``).
IS_DOCKER_IMPORT = re.compile(
    r"""(?:require\s*\(\s*|\bfrom\s+|import\s*\(\s*)\\?['"`](is-docker|is-inside-container)\\?['"`]"""
)
HEREDOC_RE = re.compile(r"<<(-?)\s*(['\"]?)([A-Za-z_][\w.-]*)\2")
#: A string that is a shell test of a marker (``test -f /.dockerenv``, ``[ -e …``,
#: ``ls /.dockerenv``), as opposed to a message that merely mentions it.
SHELL_TEST_RE = re.compile(
    r"(?:\btest|\[\[?)\s+(?:!\s+)?-[a-zA-Z]\s+['\"]?(?:/\.dockerenv|/run/\.containerenv)"
    r"|\b(?:ls|stat|cat|grep|find|readlink|head|realpath)\b[^|;&]*"
    r"(?:/\.dockerenv|/run/\.containerenv|/proc/(?:1|self)/cgroup)"
)
SHELL_SEPARATORS = re.compile(r"&&|\|\||[;|(){}`]|\$\(|\bthen\b|\bdo\b|\belse\b")


@dataclass(frozen=True)
class Probe:
    """One container-detection test found in code."""

    kind: str
    """``dockerenv``, ``containerenv``, ``cgroup``, ``is-docker``, ``hostname`` or
    ``homebrew-root``."""
    line: int
    """1-based line."""
    column: int
    """1-based column."""
    text: str
    """The code of that line, stripped."""
    printed: bool = False
    """The test's value is only printed (``print(os.path.exists('/.dockerenv'))``): the
    output changes, no branch is taken on it."""


# --- comments ---------------------------------------------------------------------------------


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


def _blank_hash_comments(text: str, block: tuple[str, str] | None = None) -> str:
    """Blank out ``#`` comments (and ``block`` comments) outside string literals, keeping
    line and column positions (R, Julia, Python fallback)."""
    return _blank_comments(text, line_starts=("#",), block=block)


def _blank_comments(
    text: str, *, line_starts: tuple[str, ...], block: tuple[str, str] | None
) -> str:
    out: list[str] = []
    index = 0
    quote: str | None = None
    length = len(text)
    while index < length:
        char = text[index]
        if quote:
            out.append(char)
            if char == "\\" and index + 1 < length:
                out.append(text[index + 1])
                index += 2
                continue
            if char == quote:
                quote = None
            index += 1
            continue
        if block and text.startswith(block[0], index):
            end = text.find(block[1], index + len(block[0]))
            end = length if end < 0 else end + len(block[1])
            out.append("".join(c if c == "\n" else " " for c in text[index:end]))
            index = end
            continue
        if any(text.startswith(start, index) for start in line_starts):
            end = text.find("\n", index)
            end = length if end < 0 else end
            out.append(" " * (end - index))
            index = end
            continue
        if char in "'\"`":
            quote = char
        out.append(char)
        index += 1
    return "".join(out)


# --- shell ------------------------------------------------------------------------------------


def _command_word(segment: str) -> str:
    words = segment.strip().split()
    while words and ("=" in words[0] and not words[0].startswith(("=", "-"))):
        words.pop(0)
    while words and words[0] in {"if", "!", "sudo", "exec", "then", "else", "elif", "do", "while"}:
        words.pop(0)
    return words[0].rsplit("/", 1)[-1] if words else ""


def _segment(before: str) -> tuple[str, re.Match[str] | None]:
    """The text of the simple command that ``before`` ends inside, and the separator
    before it."""
    cut = 0
    last: re.Match[str] | None = None
    for separator in SHELL_SEPARATORS.finditer(before):
        cut, last = separator.end(), separator
    return before[cut:], last


def _shell_context(before: str) -> str:
    """The command word of the simple command that ``before`` ends inside."""
    segment, last = _segment(before)
    command = _command_word(segment)
    if last is not None and last.group() == "(":
        call = re.search(r"([A-Za-z_][\w.]*)\s*\($", before[: last.end()])
        if call:
            command = call.group(1).rsplit(".", 1)[-1]
    return command


def shell_command_word(before: str) -> str:
    """The command word of the simple shell command that the code ``before`` ends inside
    (``curl`` for ``bash -c "$(curl -fsSL ``)."""
    return _shell_context(before)


def shell_line_probes(code: str) -> Iterator[tuple[str, int]]:
    """``(kind, 0-based column)`` of probes in one comment-free shell line."""
    for match in MARKER_RE.finditer(code):
        before = code[: match.start()]
        command = _shell_context(before)
        if command in PRINTERS or command in WRITERS:
            continue
        if re.search(r">>?\s*[\"']?$", before):
            continue  # redirecting into the file creates it
        yield MARKERS[match.group()], match.start()
    for match in CGROUP_RE.finditer(code):
        command = _shell_context(code[: match.start()])
        if command in PURE_PRINTERS:
            continue
        if re.search(r"docker|kubepods|containerd|lxc", code):
            yield "cgroup", match.start()
    host = re.search(r"\$\(\s*hostname\s*\)|`hostname`|\$\{?HOSTNAME\}?", code)
    compares = re.search(r"(?:\s|\]|\[)(?:==?|!=|=~)\s|\bcase\b|\bgrep\b|-eq\b", code)
    if host and compares and _shell_context(code[: host.start()]) not in PURE_PRINTERS:
        yield "hostname", host.start()
    for match in re.finditer(r"(?<![\w@/.-])(is-docker|is-inside-container)(?![\w.-])", code):
        # the command itself (``is-docker && …``, ``npx is-docker``), not a word printed
        # or a package being installed (``npm install is-docker``)
        words = _segment(code[: match.start()])[0].split()
        while words and (words[0] in {"if", "!", "then", "else", "elif", "while", "until",
                                      "exec", "command"} or "=" in words[0]):
            words.pop(0)
        runner = [w for w in words if not w.startswith("-")]
        if not runner or runner[0] in ("npx", "pnpx", "bunx") or runner[:2] in (
            ["npm", "exec"], ["npm", "x"], ["pnpm", "dlx"], ["pnpm", "exec"], ["yarn", "dlx"],
            ["yarn", "exec"],
        ) or IS_DOCKER_IMPORT.search(code[: match.end() + 2]):
            # (or imported by inline code: ``node -e "require('is-docker')()"``)
            yield "is-docker", match.start(1)


def heredoc_data_lines(lines: list[str]) -> set[int]:
    """0-based indices of here-document body lines fed to a command that only stores or
    prints them (``cat > start.sh <<EOF``): that text does not run now. Bodies fed to a
    shell or an interpreter (``bash <<EOF``, Dockerfile ``RUN <<EOF``) stay code."""
    data: set[int] = set()
    index = 0
    while index < len(lines):
        code = strip_shell_comment(lines[index])
        index += 1
        for match in HEREDOC_RE.finditer(code):
            if code[: match.start()].rstrip().endswith("<"):
                continue  # ``<<<`` here-string
            runs = _command_word(_segment(code[: match.start()])[0]) in HEREDOC_RUNNERS
            strip_tabs, delimiter = match.group(1) == "-", match.group(3)
            while index < len(lines):
                body = lines[index]
                index += 1
                if (body.lstrip("\t") if strip_tabs else body) == delimiter:
                    break
                if not runs:
                    data.add(index - 1)
    return data


def shell_probes(text: str, *, first_line: int = 1, skip_shebang: bool = True) -> list[Probe]:
    probes: list[Probe] = []
    lines = text.split("\n")
    data = heredoc_data_lines(lines)
    for offset, raw in enumerate(lines):
        if offset == 0 and skip_shebang and raw.startswith("#!"):
            continue
        if offset in data:
            continue
        code = strip_shell_comment(raw)
        for kind, column in shell_line_probes(code):
            probes.append(Probe(kind, first_line + offset, column + 1, raw.strip()))
    return probes


# --- python -----------------------------------------------------------------------------------


def _call_name(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _call_name(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    return ""


class _PythonVisitor(ast.NodeVisitor):
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.stack: list[ast.AST] = []
        self.probes: list[Probe] = []

    def visit(self, node: ast.AST) -> None:
        self.stack.append(node)
        super().visit(node)
        self.stack.pop()

    def _add(self, kind: str, node: ast.AST, *, printed: bool = False) -> None:
        line = getattr(node, "lineno", 1)
        column = getattr(node, "col_offset", 0) + 1
        text = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        self.probes.append(Probe(kind, line, column, text, printed))

    def _printed_test(self) -> bool:
        """Is this string the path a test call checks (``os.path.exists``,
        ``Path(…).is_file()``) whose result is passed straight to a print or log call?"""
        tested = False
        for parent in reversed(self.stack[:-1]):
            if not isinstance(parent, ast.Call):
                continue
            name = _call_name(parent)
            last = name.rsplit(".", 1)[-1]
            if last in TEST_CALLS:
                tested = True
            elif last in ("Path", "PurePath", "PosixPath", "join"):
                continue
            else:
                return tested and (last in PRINTERS or name.startswith(("logging.", "logger.")))
        return False

    def _suppressed(self) -> bool:
        """Inside a print/log call, a docstring, or a call that writes the file?"""
        parents = self.stack[:-1]
        if len(parents) >= 1 and isinstance(parents[-1], ast.Expr):
            return True  # a bare string statement (docstring)
        for parent in reversed(parents):
            if isinstance(parent, ast.Call):
                name = _call_name(parent)
                last = name.rsplit(".", 1)[-1]
                if last in PRINTERS or name.startswith(("logging.", "logger.", "log.")):
                    return True
                if last in ("touch", "write_text", "write_bytes", "mkdir"):
                    return True
                if last == "open" and _writes(parent):
                    return True
            if isinstance(parent, ast.JoinedStr):
                continue
        # Path("/.dockerenv").touch(): the Call is the parent of the Attribute
        if len(parents) >= 2 and isinstance(parents[-1], ast.Call):
            outer = parents[-2]
            if isinstance(outer, ast.Attribute) and outer.attr in ("touch", "write_text"):
                return True
        return False

    def _shell_command(self, node: ast.AST) -> str | None:
        """The command line when ``node`` is (part of) the command of a call that runs one
        (``subprocess.run(["touch", "/.dockerenv"])``, ``os.system("test -f …")``)."""
        call = next((p for p in reversed(self.stack[:-1]) if isinstance(p, ast.Call)), None)
        if call is None or not call.args:
            return None
        name = _call_name(call)
        if not (name.startswith(("subprocess.", "os.system", "os.popen"))
                or name.rsplit(".", 1)[-1] in SHELL_CALLS):
            return None
        first = call.args[0]
        if not any(n is node for n in ast.walk(first)):
            return None
        if isinstance(first, (ast.List, ast.Tuple)):
            return " ".join(
                e.value if isinstance(e, ast.Constant) and isinstance(e.value, str) else "X"
                for e in first.elts
            )
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        return None

    def _counts(self, node: ast.Constant, value: str, kind: str) -> bool:
        """Is this string a test of the marker (not a message, not a writer)?"""
        if self._suppressed():
            return False
        command = self._shell_command(node)
        if command is not None:
            if kind == "cgroup":
                # ``'docker' in check_output(['cat', '/proc/1/cgroup'])``: the docker test is
                # in the Python statement (checked by the caller), not in the command
                found = CGROUP_RE.search(command)
                return found is not None and _shell_context(
                    command[: found.start()]) not in PURE_PRINTERS
            return any(k == kind for k, _ in shell_line_probes(command))
        return not is_prose(value)

    def visit_Constant(self, node: ast.Constant) -> None:  # noqa: N802 - ast API
        if isinstance(node.value, str):
            value = node.value
            kinds = {MARKERS[m.group()] for m in MARKER_RE.finditer(value)}
            for kind in sorted(kinds):
                if self._counts(node, value, kind):
                    self._add(kind, node)
                elif value.strip() in MARKERS and self._printed_test():
                    self._add(kind, node, printed=True)
            if value == ".dockerenv" and self._joined() and not self._suppressed():
                self._add("dockerenv", node)  # os.path.join("/", ".dockerenv"), Path("/") / …
            if CGROUP_RE.search(value) and self._counts(node, value, "cgroup"):
                statement = self._statement_text(node)
                if re.search(r"docker|kubepods|containerd|lxc", statement):
                    self._add("cgroup", node)
            if value in ("is-docker", "is_docker") and not self._suppressed():
                self._add("is-docker", node)

    def _joined(self) -> bool:
        parents = self.stack[:-1]
        if not parents:
            return False
        parent = parents[-1]
        if isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Div):
            return True
        return isinstance(parent, ast.Call) and _call_name(parent).rsplit(".", 1)[-1] in (
            "join", "Path", "PurePath", "PosixPath", "PurePosixPath", "joinpath"
        )

    def visit_Compare(self, node: ast.Compare) -> None:  # noqa: N802 - ast API
        names = {_call_name(n) for n in ast.walk(node) if isinstance(n, ast.Call)}
        attrs = {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
        if names & {"socket.gethostname", "gethostname", "platform.node", "os.uname"} or (
            "nodename" in attrs
        ):
            self._add("hostname", node)
        self.generic_visit(node)

    def _statement_text(self, node: ast.AST) -> str:
        for parent in reversed(self.stack):
            if isinstance(parent, ast.stmt):
                start = getattr(parent, "lineno", 1)
                end = getattr(parent, "end_lineno", start) or start
                return "\n".join(self.lines[start - 1 : end])
        return ""


#: Calls (last name part) that test whether a path exists.
TEST_CALLS = frozenset({
    "exists", "isfile", "isdir", "lexists", "access", "is_file", "is_dir", "stat", "lstat",
})
#: Calls (last name part) whose first argument is a command line.
SHELL_CALLS = frozenset({
    "system", "popen", "run", "call", "check_call", "check_output", "Popen", "getoutput",
    "getstatusoutput", "execSync", "exec", "spawnSync", "spawn", "execFileSync", "system2",
})


def is_prose(value: str) -> bool:
    """A string that mentions a marker among other words but is not a shell test of it
    (``"needs /.dockerenv"``, ``"touch /.dockerenv"``): a message, not a probe."""
    stripped = value.strip().strip("'\"`")
    if not re.search(r"\s", stripped):
        return False
    return not SHELL_TEST_RE.search(stripped)


def _literal_at(code: str, index: int) -> tuple[str, str] | None:
    """``(string literal content, text before the literal)`` of the one-line string literal
    (quoted with ', " or `) that contains ``index`` in ``code``, or ``None``."""
    start = code.rfind("\n", 0, index) + 1
    end = code.find("\n", index)
    end = len(code) if end < 0 else end
    quote: str | None = None
    opened = 0
    position = start
    while position < end:
        char = code[position]
        if quote:
            if char == "\\":
                position += 2
                continue
            if char == quote:
                if opened <= index < position:
                    return code[opened:position], code[start : opened - 1]
                quote = None
        elif char in "'\"`":
            quote, opened = char, position + 1
        elif position > index:
            return None
        position += 1
    if quote and opened <= index:
        return code[opened:end], code[start : opened - 1]
    return None


def _writes(call: ast.Call) -> bool:
    mode: ast.AST | None = call.args[1] if len(call.args) > 1 else None
    for keyword in call.keywords:
        if keyword.arg == "mode":
            mode = keyword.value
    return isinstance(mode, ast.Constant) and isinstance(mode.value, str) and bool(
        set(mode.value) & set("wax+")
    )


def python_probes(text: str) -> list[Probe]:
    """Probes in Python source (falls back to a line scan when the code does not parse,
    e.g. Python 2)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return _generic_probes(_blank_hash_comments(text), text)
    visitor = _PythonVisitor(text.split("\n"))
    visitor.visit(tree)
    return visitor.probes


# --- R, Julia, JavaScript, generic --------------------------------------------------------------


def _enclosing_call(code: str, index: int) -> str:
    """The name of the innermost call whose parenthesis is open at ``index``."""
    depth = 0
    for position in range(index - 1, -1, -1):
        char = code[position]
        if char == ")":
            depth += 1
        elif char == "(":
            if depth == 0:
                match = re.search(r"(@?[A-Za-z_][\w.]*)\s*$", code[:position])
                return match.group(1) if match else ""
            depth -= 1
        elif char == "\n" and depth == 0 and position < index - 400:
            break
    return ""


def _generic_probes(code: str, original: str) -> list[Probe]:
    """Marker mentions outside printing/writing calls, in comment-blanked ``code``."""
    probes: list[Probe] = []
    original_lines = original.split("\n")
    starts = [0]
    for code_line in code.split("\n"):
        starts.append(starts[-1] + len(code_line) + 1)

    def position(index: int) -> tuple[int, int]:
        line = max(i for i, s in enumerate(starts) if s <= index)
        return line + 1, index - starts[line] + 1

    for match in MARKER_RE.finditer(code):
        call = _enclosing_call(code, match.start())
        last = call.rsplit(".", 1)[-1]
        if call in PRINTERS or last in PRINTERS or call in WRITERS or last in WRITERS:
            continue
        line_start = code.rfind("\n", 0, match.start()) + 1
        macro = re.match(r"\s*(@\w+)\s", code[line_start : match.start()])
        if macro and macro.group(1) in PRINTERS:
            continue  # Julia ``@info "…/.dockerenv…"`` (a macro call without parentheses)
        literal = _literal_at(code, match.start())
        if literal is not None:
            if last in SHELL_CALLS or re.search(r"\brun\($", literal[1].rstrip()):
                # a command line: judged as shell (``system("touch /.dockerenv")`` writes)
                if not any(k == MARKERS[match.group()] for k, _ in shell_line_probes(literal[0])):
                    continue
            elif is_prose(literal[0]):
                continue
        statement_end = code.find("\n", match.end())
        end = statement_end if statement_end > 0 else len(code)
        statement = code[max(0, match.start() - 200) : end]
        if last in ("open", "openSync", "open!") and re.search(r"[\"'][wa]\+?[\"']", statement):
            continue
        line, column = position(match.start())
        text = original_lines[line - 1].strip() if line <= len(original_lines) else ""
        probes.append(Probe(MARKERS[match.group()], line, column, text))
    for match in CGROUP_RE.finditer(code):
        line, column = position(match.start())
        text = original_lines[line - 1] if line <= len(original_lines) else ""
        if re.search(r"docker|kubepods|containerd", text):
            call = _enclosing_call(code, match.start())
            if call.rsplit(".", 1)[-1] not in PRINTERS:
                probes.append(Probe("cgroup", line, column, text.strip()))
    return probes


def r_probes(text: str) -> list[Probe]:
    return _generic_probes(_blank_hash_comments(text), text)


def julia_probes(text: str) -> list[Probe]:
    return _generic_probes(_blank_hash_comments(text, block=("#=", "=#")), text)


def js_probes(text: str) -> list[Probe]:
    code = _blank_comments(text, line_starts=("//",), block=("/*", "*/"))
    probes = _generic_probes(code, text)
    lines = text.split("\n")
    for match in IS_DOCKER_IMPORT.finditer(code):
        line = code.count("\n", 0, match.start(1)) + 1
        column = match.start(1) - (code.rfind("\n", 0, match.start(1)) + 1) + 1
        probes.append(Probe("is-docker", line, column, lines[line - 1].strip()))
    return probes


def makefile_probes(text: str) -> list[Probe]:
    """``$(wildcard /.dockerenv)`` anywhere, and shell probes in recipe lines."""
    probes: list[Probe] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        if raw.startswith("\t"):
            code = strip_shell_comment(raw.lstrip("\t@-+ "))
            offset = len(raw) - len(raw.lstrip("\t@-+ "))
            for kind, column in shell_line_probes(code.replace("$$", "$")):
                probes.append(Probe(kind, number, column + offset + 1, raw.strip()))
            continue
        code = raw.split("#", 1)[0]
        for match in MARKER_RE.finditer(code):
            if re.search(r"\$\((?:info|warning|error)\s", code[: match.start()]):
                continue
            probes.append(Probe(MARKERS[match.group()], number, match.start() + 1, raw.strip()))
        shell = re.search(r"\$\(shell\s+(.*)\)", code)
        if shell:
            for kind, column in shell_line_probes(shell.group(1)):
                if kind not in {p.kind for p in probes if p.line == number}:
                    probes.append(Probe(kind, number, shell.start(1) + column + 1, raw.strip()))
    return probes


def notebook_code(text: str) -> list[tuple[int, str]]:
    """``(first line in the .ipynb file, source)`` of each code cell."""
    try:
        data = json.loads(text)
    except ValueError:
        return []
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list):
        return []
    lines = text.split("\n")
    out: list[tuple[int, str]] = []
    search_from = 0
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        first = source.split("\n", 1)[0]
        where = 1
        needle = json.dumps(first)[1:-1][:60]
        for index in range(search_from, len(lines)):
            if needle and needle in lines[index]:
                where, search_from = index + 1, index + 1
                break
        out.append((where, source))
    return out


def _notebook_line(lines: list[str], start: int, code_line: str) -> int:
    """The line of the .ipynb file holding ``code_line`` of a cell whose source starts on
    line ``start`` (1-based): nbformat writes each source line as its own JSON string."""
    needle = json.dumps(code_line)[1:-1].strip()
    if needle:
        for index in range(start - 1, len(lines)):
            if needle in lines[index]:
                return index + 1
    return start


def _ipython_line(line: str) -> str:
    """An IPython source line as plain Python: ``!cmd`` becomes a shell call (so that the
    command is judged as shell), other magics are commented out."""
    stripped = line.lstrip()
    indent = line[: len(line) - len(stripped)]
    if stripped.startswith("!"):
        return f"{indent}get_ipython().system({stripped.lstrip('!')!r})"
    if stripped.startswith("%"):
        return f"{indent}#{stripped}"
    return line


def notebook_probes(text: str) -> list[Probe]:
    probes: list[Probe] = []
    lines = text.split("\n")
    for start, source in notebook_code(text):
        source_lines = source.split("\n")
        if re.match(r"%%(?:bash|sh|script\s+(?:ba)?sh)\b", source_lines[0].strip()):
            # a shell cell: line 1 is the magic, the rest is shell
            found = shell_probes("\n".join(["", *source_lines[1:]]), skip_shebang=False)
        else:
            found = python_probes("\n".join(_ipython_line(line) for line in source_lines))
        for probe in found:
            code_line = source_lines[probe.line - 1] if probe.line <= len(source_lines) else ""
            line = _notebook_line(lines, start, code_line)
            probes.append(Probe(probe.kind, line, 1, probe.text, probe.printed))
    return probes


LANGUAGE_BY_SUFFIX = {
    ".sh": "sh", ".bash": "sh", ".zsh": "sh",
    ".py": "python",
    ".r": "r", ".R": "r",
    ".jl": "julia",
    ".js": "js", ".mjs": "js", ".cjs": "js", ".ts": "js",
    ".ipynb": "notebook",
    ".mk": "make",
}


def language_of(path: str, text: str | None = None) -> str | None:
    """The language of a file, from its name or its #! line."""
    name = path.rsplit("/", 1)[-1]
    if name in ("Makefile", "makefile", "GNUmakefile"):
        return "make"
    if name == "Dockerfile" or name.endswith(".Dockerfile") or name.startswith("Dockerfile."):
        return "dockerfile"
    if name == "package.json":
        return "package.json"
    if name in ("install.R", "DESCRIPTION"):
        return "r" if name == "install.R" else None
    dot = name.rfind(".")
    if dot > 0:
        language = LANGUAGE_BY_SUFFIX.get(name[dot:])
        if language is not None:
            return language
    if text is not None and text.startswith("#!"):
        first = text.split("\n", 1)[0]
        if "python" in first:
            return "python"
        if re.search(r"\b(?:ba|z|da)?sh\b", first):
            return "sh"
        if "Rscript" in first:
            return "r"
        if "julia" in first:
            return "julia"
        if "node" in first:
            return "js"
    if name in ("postBuild", "start"):
        return "sh"
    return None


def realign(probes: list[Probe], text: str) -> list[Probe]:
    """Point each probe at the marker itself in the original line (the nearest unused
    occurrence), where a parser reported the start of a string literal or of a command
    extracted from an exec-form instruction."""
    lines = text.split("\n")
    used: set[tuple[int, int]] = set()
    out: list[Probe] = []
    for probe in probes:
        pattern = {"dockerenv": MARKER_RE, "containerenv": MARKER_RE, "cgroup": CGROUP_RE}.get(
            probe.kind
        )
        line = lines[probe.line - 1] if 0 < probe.line <= len(lines) else ""
        if pattern is None:
            out.append(probe)
            continue
        positions = [m.start() + 1 for m in pattern.finditer(line)
                     if (probe.line, m.start()) not in used]
        if not positions:
            out.append(probe)
            continue
        best = min(positions, key=lambda p: (abs(p - probe.column), p))
        used.add((probe.line, best - 1))
        out.append(Probe(probe.kind, probe.line, best, probe.text, probe.printed))
    return out


def probes_in(language: str, text: str) -> list[Probe]:
    """Every probe in a file of ``language``, located at the marker."""
    return realign(_probes_in(language, text), text)


def _probes_in(language: str, text: str) -> list[Probe]:
    if language == "sh":
        return shell_probes(text)
    if language == "python":
        return python_probes(text)
    if language == "r":
        return r_probes(text)
    if language == "julia":
        return julia_probes(text)
    if language == "js":
        return js_probes(text)
    if language == "make":
        return makefile_probes(text)
    if language == "notebook":
        return notebook_probes(text)
    return []
