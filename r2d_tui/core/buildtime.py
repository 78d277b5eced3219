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
import fnmatch
import getpass
import json
import posixpath
import re
import shlex
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field

from r2d_tui.core.codescan import (
    heredoc_data_lines,
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
        self._repo_prefix = repo_dir_prefix(detection)

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
            # requirements first: repo2docker installs them before its own ``pip install .``,
            # and their line is the better chain for a setup.py both reach
            for name in ("requirements.txt", "requirements3.txt", "environment.yml",
                         "environment.yaml"):
                path = f"{prefix}{name}"
                if path in detection.used_files and self._exists(path):
                    text = self.workspace.text(path) or ""
                    for number, line in enumerate(text.split("\n"), start=1):
                        local = LOCAL_SELF.search(line.split("#", 1)[0])
                        if not local:
                            continue
                        # pip runs in REPO_DIR; conda runs an environment.yml's pip section
                        # in the file's folder (``- -e ..`` in binder/environment.yml)
                        folders = [local_dir(local)]
                        if name.startswith("environment") and folder:
                            folders.insert(0, posixpath.normpath(
                                posixpath.join(folder, local_dir(local) or ".")))
                        for base in folders:
                            self._follow_pip_local((f"{path}:{number}",), base)
            dockerfile = detection.render.dockerfile if detection.render else ""
            if dockerfile and re.search(r"pip install[^\n]*\s\.(?:\s|$)", dockerfile):
                self._follow_pip_local(("pip install .",), "")
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
        return code_text(self.workspace, path)

    def _add(self, reached: Reached, cwd: str, depth: int) -> None:
        key = (reached.path, reached.lines)
        if key in self.reached:
            return
        # a whole-file entry makes partial ones of the same file redundant (and vice versa)
        if (reached.path, None) in self.reached:
            return
        if len(self.reached) >= MAX_FILES:
            return  # the bound on work: one expansion may add many files
        self.reached[key] = reached
        self._queue.append((reached, cwd, depth))

    def _resolve(self, target: str, cwd: str, origin: str) -> str | None:
        """A repository-relative path for ``target`` as seen from ``cwd`` (or the calling
        file's folder), or ``None`` when it is not a file of the repository."""
        target = target.strip("'\"")
        if target.startswith(SCRIPT_DIR_TOKEN):
            # ``$(dirname "$0")/x.sh``: next to the calling file
            rest = target[len(SCRIPT_DIR_TOKEN):].lstrip("/")
            target = posixpath.join(posixpath.dirname(origin), rest) if rest else ""
            candidate = posixpath.normpath(target) if target else ""
            return candidate if candidate and self._exists(candidate) else None
        rooted = self._repo_prefix.match(target)
        if rooted:
            # ``${REPO_DIR}/x.sh``, ``$HOME/x.sh``, ``/home/jovyan/x.sh``: the repository copy
            target = target[rooted.end():].lstrip("/")
            candidate = posixpath.normpath(target) if target else ""
            if "$" in candidate or candidate.startswith("..") or candidate in (".", ""):
                return None
            return candidate if self._exists(candidate) else None
        if not target or "$" in target:
            return None
        if target.startswith("/"):
            return None  # outside the repository copy (copied files were mapped before)
        candidates = [posixpath.normpath(posixpath.join(cwd, target)),
                      posixpath.normpath(posixpath.join(posixpath.dirname(origin), target))]
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
        """``pip install <cwd>``: setup.py, and the build hooks pyproject.toml names."""
        cwd = "" if cwd in (".", "") else cwd
        if cwd.startswith(".."):
            return
        path = posixpath.normpath(posixpath.join(cwd, "setup.py"))
        if self._exists(path):
            self._follow(chain, path, "python", cwd, depth)
        pyproject = posixpath.normpath(posixpath.join(cwd, "pyproject.toml"))
        text = self._text(pyproject) if self._exists(pyproject) else None
        for hook in build_hooks(text or ""):
            hook_path = posixpath.normpath(posixpath.join(cwd, hook))
            if self._exists(hook_path):
                self._follow((*chain, pyproject), hook_path, "python", cwd, depth)

    # -- expansion by language -------------------------------------------------------------
    def _expand(self, reached: Reached, cwd: str, depth: int) -> None:
        text = reached.text_override
        if text is None:
            text = self._text(reached.path)
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
                    local = LOCAL_SELF.search(line.split("#", 1)[0])
                    if local:
                        target_dir = posixpath.normpath(posixpath.join(cwd, local_dir(local)))
                        self._follow_pip_local(chain, target_dir, depth)
            elif LOCAL_PATH.fullmatch(word):
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
        words: list[str] = []
        index = 0
        while index < len(args):
            word = args[index]
            index += 1
            # the folder options of npm (--prefix), yarn (--cwd) and pnpm (-C, --dir)
            name, equals, value = word.partition("=")
            if name in ("--prefix", "--cwd", "-C", "--dir"):
                if not equals and index < len(args):
                    value = args[index]
                    index += 1
                if value:
                    directory = posixpath.normpath(posixpath.join(cwd, value))
            elif not word.startswith("-"):
                words.append(word)
        verb = words[0] if words else ("install" if tool == "yarn" else "")
        scripts: list[str] = []
        if verb in ("install", "i", "ci") and (tool == "npm" and len(words) <= 1 or tool != "npm"):
            scripts = ["preinstall", "install", "postinstall", "prepare"]
        elif verb in ("run", "run-script") and len(words) > 1:
            scripts = [f"pre{words[1]}", words[1], f"post{words[1]}"]
        elif verb in ("test", "t", "tst", "start", "stop", "restart"):
            # ``npm test`` / ``npm start``: shorthands of ``npm run test`` / ``start``
            name = "test" if verb in ("t", "tst") else verb
            scripts = [f"pre{name}", name, f"post{name}"]
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
        copies: list[Copy] = []
        workdir = "/"
        variables = DockerfileVariables()
        for instruction in dockerfile_instructions(text):
            keyword, argument, line = instruction
            variables.step(keyword, argument)
            if keyword in ("WORKDIR", "COPY", "ADD", "RUN"):
                argument = variables.expand(argument)
            if keyword == "FROM":
                workdir = "/"
            elif keyword == "WORKDIR":
                workdir = posixpath.normpath(posixpath.join(workdir, argument.strip().strip("'\"")))
            elif keyword in ("COPY", "ADD"):
                copies.extend(self._copies(argument, workdir))
            elif keyword == "RUN":
                for command in shell_commands(run_shell(argument), "", first_line=line):
                    words = list(command.words)
                    if not words:
                        continue
                    # where the command runs in the image (WORKDIR, then ``cd`` in the RUN)
                    here = posixpath.normpath(posixpath.join(workdir, command.cwd or "."))
                    for index, word in enumerate(words):
                        mapped = _map_copied(word, here, copies)
                        if mapped is None and index == 0 and "/" not in word:
                            # a script copied onto the PATH and run by name
                            for folder in PATH_DIRS:
                                mapped = _map_copied(f"{folder}/{word}", "/", copies)
                                if mapped is not None:
                                    break
                        if mapped is not None:
                            words[index] = mapped
                    cwd = _map_copied(here, "/", copies, folder=True) or ""
                    self._shell_command(reached, Command(tuple(words), line, cwd), depth)

    def _copies(self, argument: str, workdir: str) -> list[Copy]:
        """What a COPY/ADD instruction puts where (nothing for ``--from`` copies, URLs and
        here-documents, whose sources are not repository files)."""
        text = argument.strip()
        flags: list[str] = []
        while text.startswith("--"):
            flag, _, text = text.partition(" ")
            flags.append(flag)
            text = text.lstrip()
        if any(flag.startswith("--from") for flag in flags) or text.startswith("<<"):
            return []
        parts: list[str] | None = None
        if text.startswith("["):
            try:
                loaded = json.loads(text.split("\n", 1)[0])
            except ValueError:
                loaded = None
            if isinstance(loaded, list) and all(isinstance(p, str) for p in loaded):
                parts = loaded
        if parts is None:
            parts = _split_words(text)
        if len(parts) < 2:
            return []
        *sources, target = parts
        destination = posixpath.normpath(posixpath.join(workdir, target))
        into_dir = target.endswith("/") or target in (".", "./") or len(sources) > 1
        out: list[Copy] = []
        for source in sources:
            if "://" in source or source.startswith("git@"):
                continue
            glob = any(c in source for c in "*?[")
            into_dir = into_dir or glob
            normal = posixpath.normpath(source.lstrip("/"))
            normal = "" if normal == "." else normal
            if normal.startswith(".."):
                continue
            is_dir = normal == "" or (self.workspace.root / normal).is_dir()
            out.append(Copy(destination, into_dir, normal, is_dir, glob))
        return out

    def _python(
            self, reached: Reached, text: str, cwd: str,
                      depth: int) -> None:
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError):
            return
        origin = reached.path
        for candidates, level, line in _python_imports(tree):
            chain = (*reached.chain[:-1], f"{reached.chain[-1]}:{line}")
            folder = posixpath.dirname(origin)
            for _ in range(level - 1):
                folder = posixpath.dirname(folder)
            for candidate in candidates:
                if level:  # ``from . import x``, ``from .x import y``: the package's folder
                    base = candidate.replace(".", "/")
                    target = next((p for p in (f"{folder}/{base}.py" if folder else f"{base}.py",
                                               posixpath.join(folder, base, "__init__.py"))
                                   if self._exists(p)), None)
                else:
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
        for number, raw in enumerate(text.split("\n"), start=1):
            if lines is not None and number not in lines:
                continue
            if raw.startswith("\t"):
                code = raw.lstrip("\t@-+ ").replace("$$", "$")
                # recursive make: ``$(MAKE) target`` (not a command substitution)
                code = re.sub(r"\$[({]MAKE[)}]", "make", code)
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


@dataclass(frozen=True)
class Copy:
    """One source of a Dockerfile COPY/ADD: where it lands in the image."""

    destination: str
    """Normalised absolute path in the image."""
    into_dir: bool
    """The destination is a folder the source goes into (``COPY a.sh /tmp/``)."""
    source: str
    """Repository-relative path (``""``: the whole context)."""
    source_is_dir: bool
    """A folder: its *contents* land in the destination."""
    glob: bool


#: Folders of the default PATH, for scripts copied there and run by name.
PATH_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


def _map_copied(word: str, workdir: str, copies: list[Copy], *, folder: bool = False) -> str | None:
    """If ``word`` (a path in the image, relative to ``workdir``) names a file copied into the
    image, the repository path it came from (with ``folder``: a copied folder, ``""`` for the
    context root)."""
    if word.startswith("-") or "$" in word or not word:
        return None
    absolute = posixpath.normpath(posixpath.join(workdir, word))
    for copy in reversed(copies):
        destination = copy.destination
        if copy.source_is_dir:
            if absolute == destination:
                return copy.source if folder else None
            if destination == "/" or absolute.startswith(destination + "/"):
                rest = posixpath.relpath(absolute, destination)
                return posixpath.join(copy.source, rest) if copy.source else rest
        elif folder:
            continue
        elif copy.glob:
            if posixpath.dirname(absolute) == destination:
                candidate = posixpath.join(posixpath.dirname(copy.source),
                                           posixpath.basename(absolute))
                if fnmatch.fnmatchcase(candidate, copy.source):
                    return candidate
        else:
            name = posixpath.basename(copy.source)
            inside = posixpath.join(destination, name)
            if absolute == inside or (not copy.into_dir and absolute == destination):
                return copy.source
    return None


# --- parsing helpers ---------------------------------------------------------------------------

SUBSTITUTION = re.compile(r"\$\((.*?)\)|`([^`]*)`")
#: A requirement line that installs a folder of the repository (``-e .``, ``.``, ``- -e ..``,
#: ``./pkg[extra]``); group ``dir`` is the folder.
LOCAL_SELF = re.compile(
    r"(?:^|\s|-)\s*(?:-e\s+|--editable[=\s]\s*)?(?P<dir>\.\.?(?:/[^\s\[;]*)?)(?:\[[^\]]*\])?\s*$"
)
#: A ``pip install`` argument naming a local folder (``.``, ``./pkg``, ``..[dev]``).
LOCAL_PATH = re.compile(r"\.\.?(?:/[^\s\[]*)?(?:\[.*\])?")
#: How a script names its own folder: ``$(dirname "$0")``, ``${BASH_SOURCE%/*}``, …
SCRIPT_DIR = re.compile(
    r"""\$\(\s*dirname\s+["']?(?:\$0|\$\{0\}|\$\{BASH_SOURCE(?:\[0\])?\}|\$BASH_SOURCE)["']?\s*\)"""
    r"""|\$\{(?:0|BASH_SOURCE(?:\[0\])?)%/\*\}"""
)
SCRIPT_DIR_TOKEN = "@SCRIPT_DIR@"
#: ``$(cd "<script dir>/.." && pwd)``: that folder.
CD_PWD = re.compile(
    r"""\$\(\s*cd\s+["']?(@SCRIPT_DIR@[^"'\s)]*)["']?\s*(?:&&|;)\s*pwd(?:\s+-[PL])?\s*\)"""
)
#: ``NAME=value`` on its own (``export``/``local`` allowed), the value a plain word.
PATH_ASSIGNMENT = re.compile(
    r"""\s*(?:export\s+|local\s+|readonly\s+|declare\s+(?:-\w+\s+)*)?([A-Za-z_]\w*)="""
    r"""(["']?)([^\s"';&|`]+)\2\s*"""
)
#: Between simple commands. The keywords are whole words only (``someone-else/x.sh`` and
#: ``./do`` are paths, not ``else`` / ``do``).
SEPARATORS = re.compile(
    r"\s*(?:&&|\|\||;|\||(?<![\w./-])(?:then|do|else|fi|done)(?![\w./-]))\s*"
)


#: repo2docker's ``NB_USER`` when none is given is the invoking user; mybinder.org (and
#: r2d-tui's builds as root) use ``jovyan``.
DEFAULT_USER_NAMES = ("jovyan",)


def repo_dir_prefix(detection: Detection) -> re.Pattern[str]:
    """How build-time code of a generated Dockerfile names the repository copy.

    repo2docker copies the repository to ``${REPO_DIR}``, which is ``${HOME}`` (that is
    ``/home/${NB_USER}``) unless ``--target-repo-dir`` moves it; so ``$HOME/x``, ``~/x`` and
    ``/home/<user>/x`` are repository files only while the two agree. A user Dockerfile
    copies nothing by itself: only ``${REPO_DIR}`` (if it sets it) is accepted there.
    """
    alternatives = [r"\$REPO_DIR(?!\w)", r"\$\{REPO_DIR\}"]
    if detection.buildpack != "docker":
        options = detection.render.options if detection.render else None
        user = options.user_name if options and options.user_name else None
        names = {user} if user else set()
        if user is None or user == _invoking_user():
            names.update(DEFAULT_USER_NAMES)
        homes = {f"/home/{name}" for name in names}
        target = posixpath.normpath(options.target_repo_dir) if (
            options and options.target_repo_dir) else ""
        if target and target != "/":
            alternatives.append(re.escape(target))
        if not target or target in homes:
            alternatives += [r"\$HOME(?!\w)", r"\$\{HOME\}", "~", *map(re.escape, sorted(homes))]
    return re.compile(rf"^(?:{'|'.join(alternatives)})(?=/|$)")


def _invoking_user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def local_dir(match: re.Match[str]) -> str:
    folder = posixpath.normpath(match.group("dir"))
    return "" if folder == "." else folder


def build_hooks(pyproject: str) -> list[str]:
    """Repository files a PEP 517 build of this pyproject.toml runs: an in-tree backend
    (``backend-path``) and hatch's custom build hooks."""
    try:
        data = tomllib.loads(pyproject)
    except (tomllib.TOMLDecodeError, ValueError):
        return []
    hooks: list[str] = []
    system = data.get("build-system")
    if isinstance(system, dict):
        backend = system.get("build-backend")
        paths = system.get("backend-path")
        if isinstance(backend, str) and isinstance(paths, list):
            module = backend.split(":", 1)[0].replace(".", "/")
            for folder in paths:
                if isinstance(folder, str):
                    hooks.append(posixpath.join(folder, f"{module}.py"))
                    hooks.append(posixpath.join(folder, module, "__init__.py"))
    tool = data.get("tool")
    hatch = tool.get("hatch") if isinstance(tool, dict) else None
    build = hatch.get("build") if isinstance(hatch, dict) else None
    tables: list[object] = []
    if isinstance(build, dict):
        tables.append(build.get("hooks"))
        targets = build.get("targets")
        if isinstance(targets, dict):
            tables.extend(t.get("hooks") for t in targets.values() if isinstance(t, dict))
    for table in tables:
        custom = table.get("custom") if isinstance(table, dict) else None
        if isinstance(custom, dict):
            path = custom.get("path", "hatch_build.py")
            if isinstance(path, str):
                hooks.append(path)
    return hooks


def shell_commands(text: str, cwd: str, *, first_line: int = 1) -> Iterator[Command]:
    """Simple commands in shell code, with their line and working directory (``cd`` is
    followed within the script)."""
    logical: list[tuple[int, str]] = []
    pending = ""
    start = first_line
    lines = text.split("\n")
    data = heredoc_data_lines(lines)  # ``cat > f <<EOF`` bodies are text, not commands
    for offset, raw in enumerate(lines):
        if offset == 0 and raw.startswith("#!"):
            continue
        if offset in data:
            continue
        code = SCRIPT_DIR.sub(SCRIPT_DIR_TOKEN, strip_shell_comment(raw))
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
    variables: dict[str, str] = {}
    for line, code in logical:
        # ``DIR="$(cd "$(dirname "$0")/.." && pwd)"`` and other path variables: substitute
        # their value, so that ``bash "$DIR/setup.sh"`` can be followed
        code = CD_PWD.sub(lambda m: m.group(1), code)
        for name, value in variables.items():
            code = re.sub(rf"\$\{{{name}\}}|\${name}\b", value.replace("\\", "\\\\"), code)
        assigned = re.match(r"\s*(?:export\s+|local\s+|readonly\s+)?([A-Za-z_]\w*)=", code)
        if assigned:
            variables.pop(assigned.group(1), None)  # a value we cannot know
            assignment = PATH_ASSIGNMENT.fullmatch(code)
            value = assignment.group(3) if assignment else "$"
            if "$" not in re.sub(r"^\$\{?(?:REPO_DIR|HOME)\}?", "", value):
                variables[assigned.group(1)] = value
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
                wrapper = words.pop(0)
                # the wrapper's own options (``sudo -E -u jovyan``, ``env -i X=1``)
                while words and (words[0].startswith("-") or (
                        wrapper == "env" and re.fullmatch(r"[A-Za-z_]\w*=.*", words[0]))):
                    option = words.pop(0)
                    if wrapper == "sudo" and option in ("-u", "-g", "-C", "-D") and words:
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
    for number, raw in enumerate(text.split("\n"), start=1):
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
    lines = text.split("\n")
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


def dockerfile_assignments(keyword: str, argument: str) -> list[tuple[str, str | None]]:
    """``(name, value)`` pairs an ``ARG`` or ``ENV`` instruction sets (value ``None``: an
    ``ARG`` without default). ``ENV NAME value with spaces`` is the legacy one-pair form."""
    text = argument.strip()
    if not text:
        return []
    first = text.split(None, 1)
    if keyword == "ENV" and "=" not in first[0]:
        value = first[1].strip() if len(first) > 1 else ""
        words = _split_words(value)
        return [(first[0], " ".join(words) if words else value)]
    pairs: list[tuple[str, str | None]] = []
    for word in _split_words(text):
        name, equals, value = word.partition("=")
        if re.fullmatch(r"[A-Za-z_]\w*", name):
            pairs.append((name, value if equals else None))
    return pairs


#: ``$NAME`` or ``${NAME}`` (also ``${NAME:-default}``; the variable's value is used).
VARIABLE_REFERENCE = re.compile(r"\$(?:\{([A-Za-z_]\w*)(?::?[-+][^}]*)?\}|([A-Za-z_]\w*))")


def expand_variables(text: str, values: dict[str, str]) -> tuple[str, list[int]]:
    """``text`` with the references to ``values`` replaced, and for each character of the
    result the index of the character of ``text`` it came from (a substituted value maps
    to its reference), so findings in the expanded code point at the original."""
    out: list[str] = []
    origin: list[int] = []
    position = 0
    for match in VARIABLE_REFERENCE.finditer(text):
        name = match.group(1) or match.group(2)
        if name not in values or text[max(0, match.start() - 1) : match.start()] == "\\":
            continue
        out.append(text[position : match.start()])
        origin.extend(range(position, match.start()))
        value = values[name]
        out.append(value)
        origin.extend([match.start()] * len(value))
        position = match.end()
    out.append(text[position:])
    origin.extend(range(position, len(text)))
    return "".join(out), origin


class DockerfileVariables:
    """The ``ARG`` and ``ENV`` values in force at each instruction of a Dockerfile.

    ``ARG``s before the first ``FROM`` are global (a stage sees one only when it declares
    ``ARG NAME`` again); ``ENV`` values are inherited by a stage built ``FROM`` an earlier
    stage. Values are expanded where they are set, as Docker does.
    """

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.global_args: dict[str, str] = {}
        self._stage_env: dict[str, dict[str, str]] = {}
        self._env: dict[str, str] = {}
        self._stages = 0
        self._in_stage = False

    def step(self, keyword: str, argument: str) -> None:
        """Account for one instruction (call for every instruction, in order)."""
        if keyword == "FROM":
            words = [w for w in argument.split() if not w.startswith("--")]
            base = words[0].lower() if words else ""
            inherited = self._stage_env.get(base, {})
            self._env = dict(inherited)
            self.values = dict(inherited)
            name = words[2].lower() if len(words) >= 3 and words[1].upper() == "AS" else None
            for key in (str(self._stages), name):
                if key is not None:
                    self._stage_env[key] = self._env
            self._stages += 1
            self._in_stage = True
        elif keyword in ("ARG", "ENV"):
            for name, value in dockerfile_assignments(keyword, argument):
                if value is None:
                    if not self._in_stage or name in self.values:
                        continue
                    if name not in self.global_args:
                        continue
                    value = self.global_args[name]
                else:
                    value = expand_variables(value, self.values)[0]
                if not self._in_stage:
                    self.global_args[name] = value
                    continue
                self.values[name] = value
                if keyword == "ENV":
                    self._env[name] = value

    def expand(self, text: str) -> str:
        return expand_variables(text, self.values)[0]


def dockerfile_instructions(text: str) -> Iterator[tuple[str, str, int]]:
    """``(KEYWORD, argument, first line)`` of each instruction; continuation lines are
    joined with newlines (so line numbers inside a RUN stay countable) and comment or
    blank lines inside them are dropped, as Docker's parser does."""
    lines = text.split("\n")
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


def _python_imports(tree: ast.AST) -> Iterator[tuple[list[str], int, int]]:
    """``(module candidates, most specific first; relative level; line)`` per import.
    ``from pkg import mod`` may import the module ``pkg.mod``, so that comes first."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield [alias.name, alias.name.split(".")[0]], 0, node.lineno
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            for alias in node.names:
                names = [f"{module}.{alias.name}" if module else alias.name]
                if module:
                    names += [module, module.split(".")[0]]
                yield names, node.level, node.lineno


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




def code_text(workspace: Workspace, path: str) -> str | None:
    """The text of ``path`` as code: undecodable bytes (a Latin-1 postBuild, which bash
    runs happily) are replaced rather than hiding the file; binary files and very large
    files give ``None``."""
    source = workspace.source(path)
    if source is None or len(source.raw) > MAX_BYTES:
        return None
    if source.text is not None:
        return source.text
    if b"\x00" in source.raw:
        return None
    return source.raw.decode("utf-8", errors="replace")


def build_time_files(workspace: Workspace, detection: Detection) -> list[Reached]:
    """Every file (or part) that runs at build time, with the chain reaching it."""
    return BuildTimeGraph(workspace, detection).discover()
