"""Which code runs while the image is *built*, and through which chain of calls.

Only code that runs during the build is affected by the change of builder. Starting from
what repo2docker runs — postBuild, install.R, ``pip install .`` (setup.py), a Julia
package's ``deps/build.jl``, or every ``RUN`` of a user Dockerfile — this module follows
the calls that code makes through the repository: shell scripts (``bash x.sh``,
``./x.sh``, ``source``), ``python x.py`` / ``-m module`` and local imports, ``Rscript``,
``julia``, ``node``, ``make`` targets and their prerequisites, ``npm install`` / ``npm run``
lifecycle scripts, ``pip install .`` and notebooks executed with ``nbconvert --execute`` or
``papermill``. Depth is bounded and cycles are safe.

Each reached file carries the chain that reaches it (``postBuild:3 → scripts/setup.sh``),
so a finding can say *why* its line runs at build time.
"""

from __future__ import annotations

import ast
import json
import posixpath
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field

from r2d_tui.core.codescan import (
    language_of,
    notebook_code,
    strip_shell_comment,
)
from r2d_tui.core.detection import Detection
from r2d_tui.core.workspace import Workspace

MAX_DEPTH = 8
MAX_FILES = 200
MAX_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class Reached:
    """A file (or part of one) that runs at build time."""

    path: str
    language: str
    chain: tuple[str, ...]
    """From the root (``postBuild``, ``Dockerfile``) to this file, each ``path:line``."""
    lines: frozenset[int] | None = None
    """Only these 1-based lines run (Makefile recipes of invoked targets, package.json
    scripts, Dockerfile RUN lines); ``None``: the whole file."""
    text_override: str | None = field(default=None, compare=False)
    """Code to scan instead of the file text (e.g. a package.json script)."""


@dataclass(frozen=True)
class Command:
    """A command line found in build-time code, located in its file."""

    words: tuple[str, ...]
    line: int
    cwd: str
    """Repository-relative working directory the command runs in."""


class BuildTimeGraph:
    """Discovers build-time files from the repository's entry points."""

    def __init__(self, workspace: Workspace, detection: Detection) -> None:
        self.workspace = workspace
        self.detection = detection
        self.reached: dict[tuple[str, frozenset[int] | None], Reached] = {}
        self._queue: list[tuple[Reached, str, int]] = []

    # -- entry points ----------------------------------------------------------------------
    def discover(self) -> list[Reached]:
        detection = self.detection
        if detection.buildpack is None:
            return []
        if detection.buildpack == "docker":
            if detection.deciding_files:
                path = detection.deciding_files[0]
                self._add(Reached(path, "dockerfile", (path,)), "", 0)
        else:
            folder = detection.config_dir
            prefix = f"{folder}/" if folder else ""
            post_build = f"{prefix}postBuild"
            if self._exists(post_build):
                text = self.workspace.text(post_build) or ""
                self._add(Reached(post_build, language_of(post_build, text) or "sh",
                                  (post_build,)), "", 0)
            if detection.buildpack == "r" and self._exists(f"{prefix}install.R"):
                self._add(Reached(f"{prefix}install.R", "r", (f"{prefix}install.R",)), "", 0)
            if detection.buildpack == "julia" and self._exists("deps/build.jl"):
                self._add(Reached("deps/build.jl", "julia", ("Pkg.build", "deps/build.jl")), "", 0)
            dockerfile = detection.render.dockerfile if detection.render else ""
            if dockerfile and re.search(r"pip install[^\n]*\s\.(?:\s|$)", dockerfile):
                self._follow_pip_local(("pip install .",), "")
            for name in ("requirements.txt", "environment.yml", "environment.yaml"):
                path = f"{prefix}{name}"
                if path in detection.used_files and self._exists(path):
                    text = self.workspace.text(path) or ""
                    for number, line in enumerate(text.splitlines(), start=1):
                        code = line.split("#", 1)[0]
                        if LOCAL_SELF.search(code):
                            self._follow_pip_local((f"{path}:{number}",), "")
        while self._queue and len(self.reached) < MAX_FILES:
            reached, cwd, depth = self._queue.pop(0)
            if depth < MAX_DEPTH:
                self._expand(reached, cwd, depth)
        return list(self.reached.values())

    # -- helpers ---------------------------------------------------------------------------
    def _exists(self, path: str) -> bool:
        if path in self.workspace.env_files():
            return True
        full = self.workspace.root / path
        try:
            return full.is_file() and full.resolve().is_relative_to(self.workspace.root)
        except OSError:
            return False

    def _text(self, path: str) -> str | None:
        source = self.workspace.source(path)
        if source is None or source.text is None or len(source.raw) > MAX_BYTES:
            return None
        return source.text

    def _add(self, reached: Reached, cwd: str, depth: int) -> None:
        key = (reached.path, reached.lines)
        if key in self.reached:
            return
        # a whole-file entry makes partial ones of the same file redundant (and vice versa)
        if (reached.path, None) in self.reached:
            return
        self.reached[key] = reached
        self._queue.append((reached, cwd, depth))

    def _resolve(self, target: str, cwd: str, origin: str) -> str | None:
        """A repository-relative path for ``target`` as seen from ``cwd`` (or the calling
        file's folder), or ``None`` when it is not a file of the repository."""
        target = target.strip("'\"")
        if not target or "$" in target.replace("${REPO_DIR}", "").replace("$REPO_DIR", ""):
            target = re.sub(r"^\$\{?REPO_DIR\}?/?", "", target)
            if "$" in target or not target:
                return None
        target = re.sub(r"^\$\{?(?:REPO_DIR|HOME)\}?/?", "", target)
        if target.startswith("~/"):
            target = target[2:]
        candidates = []
        if target.startswith("/"):
            candidates.append(target.lstrip("/"))
        else:
            candidates.append(posixpath.normpath(posixpath.join(cwd, target)))
            candidates.append(posixpath.normpath(posixpath.join(posixpath.dirname(origin), target)))
        for candidate in candidates:
            if candidate.startswith("..") or candidate in (".", ""):
                continue
            if self._exists(candidate):
                return candidate
        return None

    def _follow(self, chain: tuple[str, ...], target: str | None, language: str | None,
                cwd: str, depth: int, lines: frozenset[int] | None = None) -> None:
        if target is None:
            return
        text = self._text(target)
        language = language or language_of(target, text)
        if language is None:
            return
        self._add(Reached(target, language, (*chain, target), lines), cwd, depth + 1)

    def _follow_pip_local(self, chain: tuple[str, ...], cwd: str, depth: int = 0) -> None:
        for name in ("setup.py",):
            path = posixpath.normpath(posixpath.join(cwd, name))
            if self._exists(path):
                self._follow(chain, path, "python", cwd, depth)

    # -- expansion by language -------------------------------------------------------------
    def _expand(self, reached: Reached, cwd: str, depth: int) -> None:
        text = reached.text_override or self._text(reached.path)
        if text is None:
            return
        language = reached.language
        if language == "sh":
            for command in shell_commands(text, cwd):
                self._shell_command(reached, command, depth)
        elif language == "dockerfile":
            self._dockerfile(reached, text, depth)
        elif language == "python":
            self._python(reached, text, cwd, depth)
        elif language == "make":
            self._makefile(reached, text, cwd, depth)
        elif language == "package.json":
            pass  # scripts were expanded when the package.json was reached
        elif language in ("r", "julia", "js"):
            self._script_calls(reached, text, cwd, depth)
        elif language == "notebook":
            for _line, source in notebook_code(text):
                self._python(reached, source, cwd, depth)

    def _shell_command(self, reached: Reached, command: Command, depth: int) -> None:
        words = list(command.words)
        chain = (*reached.chain[:-1], f"{reached.chain[-1]}:{command.line}")
        if not words:
            return
        head = posixpath.basename(words[0])
        args = words[1:]
        cwd = command.cwd
        origin = reached.path

        def first_arg(skip_options: bool = True) -> str | None:
            for word in args:
                if skip_options and word.startswith("-"):
                    continue
                return word
            return None

        if head in ("bash", "sh", "zsh", "dash", "source", "."):
            target = first_arg()
            if target and not (head in ("bash", "sh") and "-c" in args):
                self._follow(chain, self._resolve(target, cwd, origin), "sh", cwd, depth)
            if head in ("bash", "sh") and "-c" in args:
                index = args.index("-c")
                if index + 1 < len(args):
                    for sub in shell_commands(args[index + 1], cwd):
                        self._shell_command(reached, Command(sub.words, command.line, cwd), depth)
        elif re.fullmatch(r"python(?:\d(?:\.\d+)?)?|ipython", head):
            if "-m" in args:
                index = args.index("-m")
                if index + 1 < len(args):
                    module = args[index + 1]
                    if module == "pip":
                        self._pip(chain, args[index + 2:], cwd, depth)
                    else:
                        self._follow(chain, self._module(module, cwd), "python", cwd, depth)
            elif "-c" not in args:
                target = first_arg()
                resolved = self._resolve(target, cwd, origin) if target else None
                self._follow(chain, resolved, "python", cwd, depth)
                if target and posixpath.basename(target) == "setup.py":
                    self._follow(chain, resolved, "python", cwd, depth)
        elif head in ("pip", "pip3"):
            self._pip(chain, args, cwd, depth)
        elif head in ("Rscript", "R"):
            target = next((a for a in args if a.endswith((".R", ".r"))), None)
            if target:
                self._follow(chain, self._resolve(target, cwd, origin), "r", cwd, depth)
        elif head == "julia":
            target = next((a for a in args if a.endswith(".jl")), None)
            if target:
                self._follow(chain, self._resolve(target, cwd, origin), "julia", cwd, depth)
        elif head == "node":
            target = first_arg()
            if target:
                self._follow(chain, self._resolve(target, cwd, origin), "js", cwd, depth)
        elif head in ("make", "gmake"):
            self._make(chain, args, cwd, origin, depth)
        elif head in ("npm", "yarn", "pnpm"):
            self._npm(chain, head, args, cwd, depth)
        elif head in ("jupyter", "papermill"):
            notebooks = [a for a in args if a.endswith(".ipynb")]
            executes = head == "papermill" or "--execute" in args or "execute" in args
            if executes and notebooks:
                target = self._resolve(notebooks[0], cwd, origin)
                self._follow(chain, target, "notebook", cwd, depth)
        elif "/" in words[0] or words[0].startswith("."):
            target = self._resolve(words[0], cwd, origin)
            if target:
                self._follow(chain, target, None, cwd, depth)

    def _module(self, module: str, cwd: str) -> str | None:
        base = module.replace(".", "/")
        for candidate in (f"{base}.py", f"{base}/__main__.py", f"{base}/__init__.py"):
            for folder in (cwd, ""):
                path = posixpath.normpath(posixpath.join(folder, candidate))
                if self._exists(path):
                    return path
        return None

    def _pip(self, chain: tuple[str, ...], args: list[str], cwd: str, depth: int) -> None:
        if not args or args[0] != "install":
            return
        words = args[1:]
        for index, word in enumerate(words):
            if word in ("-r", "--requirement") and index + 1 < len(words):
                requirements = self._resolve(words[index + 1], cwd, "")
                text = self._text(requirements) if requirements else None
                for line in (text or "").splitlines():
                    code = line.split("#", 1)[0].strip()
                    if re.fullmatch(r"(?:-e\s+|--editable[=\s]\s*)?\.\.?/?", code):
                        self._follow_pip_local(chain, cwd, depth)
            elif re.fullmatch(r"\.\.?/?(?:\[.*\])?", word):
                target_dir = posixpath.normpath(posixpath.join(cwd, word.split("[")[0]))
                self._follow_pip_local(chain, "" if target_dir == "." else target_dir, depth)

    def _make(self, chain: tuple[str, ...], args: list[str], cwd: str, origin: str,
              depth: int) -> None:
        directory = cwd
        makefile_name: str | None = None
        targets: list[str] = []
        iterator = iter(range(len(args)))
        for index in iterator:
            word = args[index]
            if word == "-C" and index + 1 < len(args):
                directory = posixpath.normpath(posixpath.join(cwd, args[index + 1]))
                next(iterator, None)
            elif word == "-f" and index + 1 < len(args):
                makefile_name = args[index + 1]
                next(iterator, None)
            elif not word.startswith("-") and "=" not in word:
                targets.append(word)
        names = [makefile_name] if makefile_name else ["GNUmakefile", "makefile", "Makefile"]
        for name in names:
            path = posixpath.normpath(posixpath.join(directory, name))
            if self._exists(path):
                text = self._text(path) or ""
                lines = makefile_run_lines(text, targets)
                self._add(Reached(path, "make", (*chain, path), frozenset(lines)),
                          "" if directory == "." else directory, depth + 1)
                return

    def _npm(self, chain: tuple[str, ...], tool: str, args: list[str], cwd: str,
             depth: int) -> None:
        directory = cwd
        if "--prefix" in args:
            index = args.index("--prefix")
            if index + 1 < len(args):
                directory = posixpath.normpath(posixpath.join(cwd, args[index + 1]))
        words = [a for a in args if not a.startswith("-")]
        verb = words[0] if words else ("install" if tool == "yarn" else "")
        scripts: list[str] = []
        if verb in ("install", "i", "ci") and (tool == "npm" and len(words) <= 1 or tool != "npm"):
            scripts = ["preinstall", "install", "postinstall", "prepare"]
        elif verb in ("run", "run-script") and len(words) > 1:
            scripts = [f"pre{words[1]}", words[1], f"post{words[1]}"]
        elif tool == "yarn" and verb and verb not in ("add", "remove", "global"):
            scripts = [f"pre{verb}", verb, f"post{verb}"]
        if not scripts:
            return
        path = posixpath.normpath(posixpath.join(directory, "package.json"))
        text = self._text(path) if self._exists(path) else None
        if text is None:
            return
        for name, line, command in package_json_scripts(text):
            if name not in scripts:
                continue
            reached = Reached(path, "sh", (*chain, f"{path}#scripts.{name}"),
                              frozenset({line}), text_override="\n" * (line - 1) + command)
            self._add(reached, "" if directory == "." else directory, depth + 1)

    def _dockerfile(self, reached: Reached, text: str, depth: int) -> None:
        """Follow RUN lines; map COPY/ADD destinations back to repository files."""
        copies: list[tuple[str, str]] = []  # (destination in image, source in repo)
        workdir = "/"
        for instruction in dockerfile_instructions(text):
            keyword, argument, line = instruction
            if keyword == "WORKDIR":
                workdir = posixpath.normpath(posixpath.join(workdir, argument.strip()))
            elif keyword in ("COPY", "ADD"):
                parts = [p for p in _split_words(argument) if not p.startswith("--")]
                if len(parts) >= 2:
                    destination = posixpath.normpath(posixpath.join(workdir, parts[-1]))
                    for source in parts[:-1]:
                        copies.append((destination, source))
            elif keyword == "RUN":
                for command in shell_commands(run_shell(argument), "", first_line=line):
                    words = list(command.words)
                    if not words:
                        continue
                    for index, word in enumerate(words):
                        mapped = _map_copied(word, workdir, copies)
                        if mapped is not None:
                            words[index] = mapped
                    self._shell_command(reached, Command(tuple(words), line, ""), depth)

    def _python(
            self, reached: Reached, text: str, cwd: str,
                      depth: int) -> None:
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError):
            return
        origin = reached.path
        for module, line in _python_imports(tree):
            chain = (*reached.chain[:-1], f"{reached.chain[-1]}:{line}")
            top = module.split(".")[0]
            for candidate in (module, top):
                target = self._module(candidate, posixpath.dirname(origin))
                if target and target != origin:
                    self._follow(chain, target, "python", cwd, depth)
                    break
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _call_name_of(node)
            line = getattr(node, "lineno", 1)
            chain = (*reached.chain[:-1], f"{reached.chain[-1]}:{line}")
            first = node.args[0] if node.args else None
            words = _literal_strings(first) if first is not None else None
            if words is None:
                continue
            if name in ("os.system", "os.popen") or (
                name.startswith("subprocess.") and len(words) == 1
            ):
                for command in shell_commands(words[0], cwd):
                    self._shell_command(reached, Command(command.words, line, command.cwd), depth)
            elif name.startswith("subprocess."):
                self._shell_command(reached, Command(tuple(words), line, cwd), depth)
            elif name in ("runpy.run_path", "exec_file", "execfile"):
                self._follow(chain, self._resolve(words[0], cwd, origin), "python", cwd, depth)

    def _script_calls(
            self, reached: Reached, text: str, cwd: str,
                            depth: int) -> None:
        """source()/system() in R, include()/run() in Julia, require()/exec() in JavaScript."""
        origin = reached.path
        language = reached.language
        patterns = {
            "r": [(r"\bsource\(\s*['\"]([^'\"]+)['\"]", "r"),
                  (r"\bsystem2?\(\s*['\"]([^'\"]+)['\"]", "shell")],
            "julia": [(r"\binclude\(\s*\"([^\"]+)\"", "julia"), (r"\brun\(\s*`([^`]+)`", "shell")],
            "js": [(r"\brequire\(\s*['\"](\.[^'\"]+)['\"]", "js"),
                   (r"\bimport\s[^;]*?from\s+['\"](\.[^'\"]+)['\"]", "js"),
                   (r"\bexec(?:Sync)?\(\s*['\"`]([^'\"`]+)['\"`]", "shell"),
                   (r"\bspawnSync?\(\s*['\"`]([^'\"`]+)['\"`]", "shell")],
        }.get(language, [])
        for pattern, kind in patterns:
            for match in re.finditer(pattern, text):
                line = text.count("\n", 0, match.start()) + 1
                chain = (*reached.chain[:-1], f"{reached.chain[-1]}:{line}")
                value = match.group(1)
                if kind == "shell":
                    for command in shell_commands(value, cwd):
                        self._shell_command(reached, Command(command.words, line, cwd), depth)
                    continue
                target = self._resolve(value, cwd, origin)
                if target is None and kind == "js":
                    for suffix in (".js", ".mjs", ".cjs", "/index.js"):
                        target = self._resolve(value + suffix, cwd, origin)
                        if target:
                            break
                self._follow(chain, target, kind, cwd, depth)

    def _makefile(
            self, reached: Reached, text: str, cwd: str,
                        depth: int) -> None:
        lines = reached.lines
        for number, raw in enumerate(text.splitlines(), start=1):
            if lines is not None and number not in lines:
                continue
            if raw.startswith("\t"):
                code = raw.lstrip("\t@-+ ").replace("$$", "$")
                for command in shell_commands(code, cwd, first_line=number):
                    self._shell_command(reached, command, depth)
            else:
                include = re.match(r"^-?include\s+(.+)$", raw)
                if include:
                    chain = (*reached.chain[:-1], f"{reached.chain[-1]}:{number}")
                    for name in include.group(1).split():
                        target = self._resolve(name, cwd, reached.path)
                        self._follow(chain, target, "make", cwd, depth)


def _split_words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def _map_copied(word: str, workdir: str, copies: list[tuple[str, str]]) -> str | None:
    """If ``word`` names a file copied into the image, the repository path it came from."""
    if word.startswith("-") or "$" in word:
        return None
    absolute = posixpath.normpath(posixpath.join(workdir, word))
    for destination, source in reversed(copies):
        source = source.rstrip("/")
        if absolute == destination:
            return source if source not in (".", "") else None
        if destination.endswith("/") or absolute.startswith(destination.rstrip("/") + "/"):
            rest = posixpath.relpath(absolute, destination.rstrip("/") or "/")
            if rest.startswith(".."):
                continue
            if source in (".", ""):
                return rest
            return posixpath.join(source, rest)
        if posixpath.basename(absolute) == posixpath.basename(source) and (
            absolute == posixpath.join(destination, posixpath.basename(source))
        ):
            return source
    return None


# --- parsing helpers ---------------------------------------------------------------------------

SUBSTITUTION = re.compile(r"\$\((.*?)\)|`([^`]*)`")
#: A requirement line that installs the repository itself (``-e .``, ``.``, ``- -e ..``).
LOCAL_SELF = re.compile(r"(?:^|\s|-)\s*(?:-e\s+|--editable[=\s]\s*)?\.\.?/?\s*$")
SEPARATORS = re.compile(r"\s*(?:&&|\|\||;|\||\bthen\b|\bdo\b|\belse\b|\bfi\b|\bdone\b)\s*")


def shell_commands(text: str, cwd: str, *, first_line: int = 1) -> Iterator[Command]:
    """Simple commands in shell code, with their line and working directory (``cd`` is
    followed within the script)."""
    logical: list[tuple[int, str]] = []
    pending = ""
    start = first_line
    for offset, raw in enumerate(text.splitlines()):
        if offset == 0 and raw.startswith("#!"):
            continue
        code = strip_shell_comment(raw)
        if not pending:
            start = first_line + offset
        if code.rstrip().endswith("\\"):
            pending += code.rstrip()[:-1] + " "
            continue
        logical.append((start, pending + code))
        pending = ""
    if pending:
        logical.append((start, pending))
    current = cwd
    for line, code in logical:
        code = SUBSTITUTION.sub(lambda m: " ; " + (m.group(1) or m.group(2) or "") + " ; ", code)
        for segment in SEPARATORS.split(code):
            segment = segment.strip().lstrip("(!{").rstrip(")}").strip()
            if not segment or segment.startswith(("[", "test ", "echo ", "printf ")):
                continue
            words = _split_words(segment)
            while words and re.fullmatch(r"[A-Za-z_]\w*=.*", words[0]):
                words.pop(0)
            while words and words[0] in ("if", "while", "until", "exec", "sudo", "time", "nohup",
                                          "command", "env", "then", "do", "else", "elif"):
                words.pop(0)
            if not words:
                continue
            if words[0] == "cd" and len(words) > 1 and "$" not in words[1]:
                target = words[1]
                current = "" if target in ("~", "/") else posixpath.normpath(
                    posixpath.join(current, target)
                )
                current = "" if current == "." else current
                continue
            yield Command(tuple(words), line, current)


def makefile_run_lines(text: str, targets: list[str]) -> set[int]:
    """1-based lines that run for ``make targets`` (default: the first target): every
    line outside recipes, plus the recipes of the targets and their prerequisites."""
    rules: dict[str, tuple[list[str], list[int]]] = {}
    order: list[str] = []
    always: set[int] = set()
    current: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.startswith("\t"):
            for name in current:
                rules[name][1].append(number)
            continue
        always.add(number)
        match = re.match(r"^([^\s:=#][^:=]*?)\s*::?(?!=)\s*(.*)$", raw)
        if match and not raw.lstrip().startswith(("ifeq", "ifneq", "ifdef", "ifndef")):
            names = match.group(1).split()
            prerequisites = match.group(2).split(";")[0].split("|")[0].split()
            current = []
            for name in names:
                rules.setdefault(name, ([], []))
                rules[name][0].extend(prerequisites)
                if not name.startswith(".") and name not in order:
                    order.append(name)
                current.append(name)
        elif raw.strip() and not raw.startswith(" "):
            current = []
    wanted = list(targets) or order[:1]
    seen: set[str] = set()
    lines = set(always)
    while wanted:
        name = wanted.pop()
        if name in seen or name not in rules:
            continue
        seen.add(name)
        prerequisites, recipe = rules[name]
        lines.update(recipe)
        wanted.extend(prerequisites)
    return lines


def package_json_scripts(text: str) -> Iterator[tuple[str, int, str]]:
    """``(name, line, command)`` of each entry of a package.json ``scripts`` table."""
    try:
        data = json.loads(text)
    except ValueError:
        return
    scripts = data.get("scripts") if isinstance(data, dict) else None
    if not isinstance(scripts, dict):
        return
    lines = text.splitlines()
    for name, command in scripts.items():
        if not isinstance(command, str):
            continue
        line = next(
            (i + 1 for i, raw in enumerate(lines) if re.search(rf'"{re.escape(name)}"\s*:', raw)),
            1,
        )
        yield name, line, command


def run_shell(argument: str) -> str:
    """The shell code of a RUN argument (exec form ``["sh", "-c", "..."]`` included)."""
    stripped = argument.strip()
    while stripped.startswith("--"):
        stripped = stripped.split(None, 1)[1] if " " in stripped else ""
    if stripped.startswith("["):
        try:
            words = json.loads(stripped)
        except ValueError:
            return stripped
        if isinstance(words, list) and all(isinstance(w, str) for w in words):
            if len(words) >= 3 and words[1] == "-c":
                return str(words[2])
            return " ".join(shlex.quote(w) for w in words)
    return stripped


def dockerfile_instructions(text: str) -> Iterator[tuple[str, str, int]]:
    """``(KEYWORD, argument, first line)`` of each instruction; continuation lines are
    joined with newlines (so line numbers inside a RUN stay countable) and comment or
    blank lines inside them are dropped, as Docker's parser does."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        raw = lines[index]
        index += 1
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        number = index
        parts = [stripped]
        while parts[-1].rstrip().endswith("\\") and index < len(lines):
            following = lines[index]
            index += 1
            if not following.strip() or following.lstrip().startswith("#"):
                parts.append("\\")  # placeholder: keeps line numbers, keeps continuing
                continue
            parts.append(following)
        heredoc = re.search(r"<<-?\s*['\"]?(\w+)['\"]?", parts[0])
        if heredoc and parts[0].split(None, 1)[0].upper() == "RUN":
            end = heredoc.group(1)
            while index < len(lines) and lines[index].strip() != end:
                parts.append(lines[index])
                index += 1
            index += 1
        keyword, _, argument = "\n".join(parts).partition(" ")
        yield keyword.upper(), argument, number


def _python_imports(tree: ast.AST) -> Iterator[tuple[str, int]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module, node.lineno


def _literal_strings(node: ast.AST) -> list[str] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.List, ast.Tuple)):
        out: list[str] = []
        for element in node.elts:
            if isinstance(element, ast.Constant) and isinstance(element.value, str):
                out.append(element.value)
            else:
                return None
        return out
    return None


def _call_name_of(node: ast.Call) -> str:
    func = node.func
    parts: list[str] = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return ".".join(reversed(parts))




def build_time_files(workspace: Workspace, detection: Detection) -> list[Reached]:
    """Every file (or part) that runs at build time, with the chain reaching it."""
    return BuildTimeGraph(workspace, detection).discover()
