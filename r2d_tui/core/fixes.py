"""Machine-applicable fixes for findings: ``r2d-tui check --fix`` / ``--diff`` and the TUI.

A *fixer* is registered under one or more finding names. Given a file's current text (with
``\\n`` line endings, as the :class:`~r2d_tui.core.workspace.Workspace` holds it), its
on-disk :class:`~r2d_tui.core.workspace.TextFormat` and the findings of that name in that
file, it returns the new text and format. A fixer changes only what its findings point at
and returns its input unchanged when it cannot fix something safely, so applying a fix
twice changes nothing the second time.

Fixes are planned first (:func:`plan_fixes`, pure: nothing is written) and applied
through the workspace (:func:`apply_fixes`), so the CLI and the TUI share the code and the
atomic save that keeps the file's mode.

environment.yml edits use ruamel.yaml's round-trip loader only to *find* each dependency
(its line and column); the edit itself replaces that scalar's characters in the original
text, so comments, key order, quoting and indentation elsewhere stay byte for byte as they
were. Every YAML edit is checked by parsing the result again: when the new document is not
exactly the old one with the intended dependencies changed, the file is left alone.

Fixable finding names:

* ``postbuild-crlf``, ``start-crlf``: line endings become LF (also the stray ``\\r`` of a
  file with mixed line endings);
* ``utf8-bom``: the byte-order mark goes; UTF-16/32 files are re-encoded as UTF-8;
* ``conda-export-build-strings``: ``numpy=1.21.2=py39h20f2e39_0`` → ``numpy=1.21.2``;
* ``python-version-unrecognized``: ``python>=3.10``, ``python~=3.10``,
  ``python>=3.10,<3.13``, ``python 3.11``, ``python3.12`` → ``python=X.Y``;
* ``apt-txt-invalid-line``: ``sudo apt-get install -y vim git`` → ``vim`` and ``git`` on
  lines of their own.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from r2d_tui.core.findings import Finding
from r2d_tui.core.workspace import TextFormat, Workspace

#: environment.yml files larger than this are not parsed for a fix.
MAX_YAML_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class FileText:
    """A file's text (``\\n`` line endings) and the format it is stored in."""

    path: str
    text: str
    format: TextFormat


FixFunction = Callable[[FileText, Sequence[Finding]], FileText]
"""Given a file and the findings of one fixable name in it, the fixed file (or the same)."""


@dataclass(frozen=True)
class Fixer:
    """A registered fix."""

    names: tuple[str, ...]
    """The finding names it fixes."""
    description: str
    """What it does, as a short imperative phrase ("convert line endings to LF")."""
    function: FixFunction


#: Fixers by finding name.
FIXERS: dict[str, Fixer] = {}
#: Fixers in the order they are applied to a file (format changes first).
_ORDER: list[Fixer] = []


def fixer(*names: str, description: str) -> Callable[[FixFunction], FixFunction]:
    """Register a fix function for the finding ``names``."""

    def register(function: FixFunction) -> FixFunction:
        entry = Fixer(tuple(names), description, function)
        _ORDER.append(entry)
        for name in names:
            FIXERS[name] = entry
        return function

    return register


def fixable(finding: Finding) -> bool:
    """Whether findings of this kind have a machine fix (it may still find nothing to do)."""
    return finding.name in FIXERS


def fix_description(finding: Finding) -> str | None:
    """What the machine fix of ``finding`` does, or ``None`` when there is none."""
    entry = FIXERS.get(finding.name)
    return entry.description if entry is not None else None


# -- planning and applying --------------------------------------------------------------------


@dataclass(frozen=True)
class FileFix:
    """The planned fixes of one file: its text and format before and after."""

    path: str
    old_text: str
    new_text: str
    old_format: TextFormat
    new_format: TextFormat
    names: tuple[str, ...]
    """The finding names fixed, in the order the fixers ran."""

    @property
    def descriptions(self) -> tuple[str, ...]:
        """What each fixer did."""
        return tuple(FIXERS[name].description for name in self.names)

    def summary(self) -> str:
        """One line: ``path: what was done [names]``."""
        return f"{self.path}: {'; '.join(self.descriptions)} [{', '.join(self.names)}]"

    def diff(self) -> str:
        """A unified diff (``a/PATH`` → ``b/PATH``) of the file as stored.

        Lines keep their stored endings, so a CRLF → LF fix shows every line changing (as
        ``git diff`` does) and a removed BOM shows on the first line. The diff is preceded
        by a ``# PATH: …`` comment line saying what changes, which also describes changes
        that have no text to show (UTF-16 → UTF-8); patch tools skip such lines.
        """
        note = f"# {self.summary()}"
        if self.old_format != self.new_format:
            note += f" ({describe_format(self.old_format)} -> {describe_format(self.new_format)})"
        lines = [note + "\n"]
        old = _split_keepends(_stored(self.old_text, self.old_format))
        new = _split_keepends(_stored(self.new_text, self.new_format))
        for line in difflib.unified_diff(old, new, f"a/{self.path}", f"b/{self.path}"):
            if line.endswith("\n"):
                lines.append(line)
            else:
                lines.append(line + "\n\\ No newline at end of file\n")
        return "".join(lines)


def describe_format(fmt: TextFormat) -> str:
    """``UTF-8 with BOM, CRLF`` and the like."""
    encoding = fmt.encoding.upper()
    bom = " with BOM" if fmt.bom else ""
    newline = {"\n": "LF", "\r\n": "CRLF"}.get(fmt.newline, repr(fmt.newline))
    return f"{encoding}{bom}, {newline}"


def _stored(text: str, fmt: TextFormat) -> str:
    """The text as the file stores it (line endings and BOM), before encoding."""
    if fmt.newline != "\n":
        text = text.replace("\n", fmt.newline)
    return ("\ufeff" if fmt.bom else "") + text


def _split_keepends(text: str) -> list[str]:
    """Lines split at ``\\n`` only, each keeping its ending (unlike ``str.splitlines``)."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def fix_file(file: FileText, findings: Iterable[Finding]) -> tuple[FileText, tuple[str, ...]]:
    """Run every fixer that has findings in ``file``; the result and the names that changed it.

    Findings of other files and of names without a fixer are ignored.
    """
    by_name: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.path == file.path and finding.name in FIXERS:
            by_name.setdefault(finding.name, []).append(finding)
    fixed: list[str] = []
    for entry in _ORDER:
        for name in entry.names:
            wanted = by_name.get(name)
            if not wanted:
                continue
            result = entry.function(file, wanted)
            if result != file:
                file = result
                fixed.append(name)
    return file, tuple(fixed)


def plan_fixes(workspace: Workspace, findings: Iterable[Finding]) -> list[FileFix]:
    """The fixes for ``findings`` in the workspace's current texts (unsaved edits included).

    Nothing is changed. Files that cannot be read as text, and findings whose fix finds
    nothing to change, produce no :class:`FileFix`.
    """
    paths: dict[str, list[Finding]] = {}
    for finding in findings:
        if fixable(finding):
            paths.setdefault(finding.path, []).append(finding)
    plan: list[FileFix] = []
    for path in sorted(paths):
        current = current_file(workspace, path)
        if current is None:
            continue
        result, names = fix_file(current, paths[path])
        if not names:
            continue
        plan.append(
            FileFix(path, current.text, result.text, current.format, result.format, names)
        )
    return plan


def current_file(workspace: Workspace, path: str) -> FileText | None:
    """The text and format of ``path`` as a save would write it (``None``: not text)."""
    source = workspace.source(path)
    if source is None or source.text is None:
        return None
    return FileText(path, source.text, source.format)


def apply_fixes(workspace: Workspace, plan: Iterable[FileFix], *, save: bool = True) -> list[str]:
    """Apply planned fixes to the workspace buffers and (with ``save``) save the files.

    A fix whose file changed since it was planned is skipped. Returns the paths changed.

    Raises:
        WorkspaceError: a save failed (earlier files of the plan stay saved).
    """
    done: list[str] = []
    for fix in plan:
        current = current_file(workspace, fix.path)
        if current is None or (current.text, current.format) != (fix.old_text, fix.old_format):
            continue
        if fix.new_format != fix.old_format:
            workspace.set_format(fix.path, fix.new_format)
        if fix.new_text != fix.old_text:
            workspace.set_text(fix.path, fix.new_text)
        if save:
            workspace.save(fix.path)
        done.append(fix.path)
    return done


# -- line endings and encodings -----------------------------------------------------------------


@fixer("utf8-bom", description="save as UTF-8 without byte-order mark")
def fix_bom(file: FileText, findings: Sequence[Finding]) -> FileText:
    """Drop the BOM; UTF-16/32 text is stored as UTF-8 (line endings stay)."""
    fmt = dataclasses.replace(file.format, encoding="utf-8", bom=b"")
    text = file.text.removeprefix("\ufeff")  # a second BOM left in the text
    return FileText(file.path, text, fmt)


@fixer("postbuild-crlf", "start-crlf", description="convert line endings to LF")
def fix_crlf(file: FileText, findings: Sequence[Finding]) -> FileText:
    """Store with LF line endings.

    A file with mostly CRLF endings is decoded to ``\\n`` text with a CRLF format; one with
    mostly LF endings keeps its few ``\\r\\n`` in the text. Both become plain LF. A lone
    ``\\r`` inside a line is left alone: it may be meant (``printf 'a\\rb'``).
    """
    text = file.text.replace("\r\n", "\n")
    if text.endswith("\r"):
        text = text[:-1]
    fmt = dataclasses.replace(file.format, newline="\n")
    return FileText(file.path, text, fmt)


# -- environment.yml ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DependencyScalar:
    """A string entry of environment.yml's ``dependencies:`` and where its text is."""

    index: int
    """Position in the ``dependencies`` list."""
    line: int
    """0-based line of the text."""
    start: int
    """0-based column of the value's first character (after an opening quote)."""
    value: str


def conda_dependencies(text: str) -> tuple[Any, list[DependencyScalar]] | None:
    """Parse ``text`` as environment.yml: the document and its conda dependency strings.

    Only entries whose value appears verbatim on one line (plain, or quoted without escapes)
    are listed, so each can be replaced in the text. Entries of the ``pip:`` subsection are
    not conda dependencies and are not listed. ``None`` when the text is not YAML with a
    ``dependencies`` list.
    """
    from ruamel.yaml import YAML

    if len(text) > MAX_YAML_BYTES:
        return None
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = True
    try:
        data = yaml.load(text)
    except Exception:  # any parse problem of user input means "no fix", never a crash
        return None
    deps = data.get("dependencies") if isinstance(data, dict) else None
    if not isinstance(deps, list) or not hasattr(deps, "lc"):
        return None
    lines = text.split("\n")
    scalars: list[DependencyScalar] = []
    for index, item in enumerate(deps):
        if not isinstance(item, str):
            continue
        try:
            line, column = (int(n) for n in deps.lc.item(index))
        except (KeyError, TypeError, ValueError):
            continue
        if not 0 <= line < len(lines):
            continue
        source = lines[line]
        quote = source[column : column + 1]
        start = column + 1 if quote in ("'", '"') else column
        end = start + len(item)
        if source[start:end] != item:
            continue  # escapes, a multi-line scalar, an alias or a tag: not edited
        if quote in ("'", '"'):
            if source[end : end + 1] != quote:
                continue
        elif end < len(source) and source[end] not in " \t,]}":
            continue
        scalars.append(DependencyScalar(index, line, start, item))
    return data, scalars


def replace_dependencies(
    text: str, edits: dict[DependencyScalar, str], old_data: Any = None
) -> str | None:
    """``text`` with each scalar's characters replaced by its new value, checked by parsing.

    Only the characters of the edited values change. Returns ``None`` when the edited text
    does not parse to the same document with exactly those dependencies changed.
    ``old_data`` is ``text`` already parsed by :func:`conda_dependencies`, if at hand.
    """
    if not edits:
        return text
    if old_data is None:
        parsed = conda_dependencies(text)
        if parsed is None:
            return None
        old_data = parsed[0]
    lines = text.split("\n")
    for scalar in sorted(edits, key=lambda s: (s.line, s.start), reverse=True):
        line = lines[scalar.line]
        end = scalar.start + len(scalar.value)
        if line[scalar.start : end] != scalar.value:
            return None
        lines[scalar.line] = line[: scalar.start] + edits[scalar] + line[end:]
    new_text = "\n".join(lines)
    reparsed = conda_dependencies(new_text)
    if reparsed is None:
        return None
    new_data, _ = reparsed
    expected = list(old_data["dependencies"])
    for scalar, value in edits.items():
        expected[scalar.index] = value
    if list(new_data["dependencies"]) != expected:
        return None
    if list(new_data.keys()) != list(old_data.keys()):
        return None
    if any(new_data[key] != old_data[key] for key in old_data if key != "dependencies"):
        return None
    return new_text


def _edit_dependencies(
    file: FileText, findings: Sequence[Finding], rewrite: Callable[[str], str | None]
) -> FileText:
    """Rewrite the conda dependencies on the findings' lines with ``rewrite``."""
    parsed = conda_dependencies(file.text)
    if parsed is None:
        return file
    data, scalars = parsed
    lines = {finding.line - 1 for finding in findings}
    edits: dict[DependencyScalar, str] = {}
    for scalar in scalars:
        if scalar.line not in lines:
            continue
        new = rewrite(scalar.value)
        if new is not None and new != scalar.value:
            edits[scalar] = new
    new_text = replace_dependencies(file.text, edits, data)
    if new_text is None or new_text == file.text:
        return file
    return FileText(file.path, new_text, file.format)


#: ``name=version=build`` (conda env export). The name may carry a ``channel::`` prefix.
BUILD_STRING = re.compile(
    r"^(?P<keep>(?P<name>[^=\s<>!~,|]+)=(?P<version>[^=\s<>!~,|]+))=(?P<build>[^=\s]+)$"
)


def strip_build_string(spec: str) -> str | None:
    """``numpy=1.21.2`` for ``numpy=1.21.2=py39h20f2e39_0``; ``None`` without a build."""
    match = BUILD_STRING.match(spec)
    return match.group("keep") if match else None


@fixer("conda-export-build-strings", description="remove the conda build strings")
def fix_build_strings(file: FileText, findings: Sequence[Finding]) -> FileText:
    """``name=version=build`` → ``name=version`` on the findings' lines."""
    return _edit_dependencies(file, findings, strip_build_string)


#: How repo2docker reads the version (``repo2docker.buildpacks.conda.PYTHON_REGEX``).
REPO2DOCKER_PYTHON = re.compile(r"python\s*=+\s*([\d\.]*)")
_PYTHON = re.compile(r"^(?P<channel>(?:[\w.-]+::)?)python(?P<rest>(?:[\s\d<>=!~].*)?)$", re.S)
_CONSTRAINT = re.compile(r"(?P<op>>=|=>|~=|==|=|>|<=|<|!=)\s*(?P<version>\d+(?:\.\d+)*(?:\.\*)?)")
_RELEASE = re.compile(r"\d+\.\d+(?:\.\d+)*")


def python_pin(spec: str) -> str | None:
    """``python=X.Y`` for a Python constraint repo2docker does not read, when one X.Y can be
    read from it; otherwise ``None``.

    Ranges give their lower bound's X.Y (``python>=3.10,<3.13`` → ``python=3.10``,
    ``python~=3.10`` → ``python=3.10``); an exact version keeps what it gives
    (``python 3.11`` → ``python=3.11``, ``python3.12`` → ``python=3.12``,
    ``python 3.11.4`` → ``python=3.11.4``). An exclusive lower bound (``>3.9``), only upper
    bounds, alternatives (``|``), a major version alone or a build string give ``None``.
    A ``channel::`` prefix is kept.
    """
    match = _PYTHON.match(spec.strip())
    if match is None:
        return None
    read = REPO2DOCKER_PYTHON.match(spec.strip())
    if read is not None and read.group(1):
        return None  # repo2docker reads this one already
    channel, rest = match.group("channel"), match.group("rest").strip()
    version: str | None = None
    if not rest or "|" in rest:
        return None
    if rest[0].isdigit():  # python3.12, "python 3.11", "python 3.11.*"
        version = _exact(rest)
    else:
        lower: list[str] = []
        exact: list[str] = []
        for part in rest.split(","):
            constraint = _CONSTRAINT.fullmatch(part.strip())
            if constraint is None:
                return None
            op, value = constraint.group("op"), constraint.group("version")
            if op in (">=", "=>", "~="):
                lower.append(value)
            elif op in ("==", "="):
                exact.append(value)
            elif op == ">":
                return None  # exclusive: which X.Y is meant is a guess
        if len(exact) == 1 and not lower:
            version = _exact(exact[0])
        elif len(lower) == 1 and not exact:
            release = _RELEASE.match(lower[0])
            version = ".".join(release.group(0).split(".")[:2]) if release else None
    if version is None:
        return None
    return f"{channel}python={version}"


def _exact(version: str) -> str | None:
    """``3.11`` for ``3.11`` or ``3.11.*``; ``None`` for ``3``, ``3.*`` or anything else."""
    version = version.removesuffix(".*")
    return version if _RELEASE.fullmatch(version) else None


@fixer("python-version-unrecognized", description="pin Python as python=X.Y")
def fix_python_version(file: FileText, findings: Sequence[Finding]) -> FileText:
    """Rewrite the Python constraint on the findings' lines as ``python=X.Y``."""
    return _edit_dependencies(file, findings, python_pin)


# -- apt.txt -------------------------------------------------------------------------------------

APT_TOOLS = frozenset({"apt", "apt-get", "aptitude"})
#: Words of an apt command line that are not package names (``install vim`` is no list).
APT_WORDS = frozenset({"install", "remove", "purge", "update", "upgrade", "sudo",
                       "add-apt-repository", "apt-key"})
#: Sub-commands repo2docker already runs around the install (nothing to list).
APT_HOUSEKEEPING = frozenset({"update", "clean", "autoclean", "autoremove"})
#: apt options that take a value as the next word.
APT_OPTIONS_WITH_VALUE = frozenset({"-o", "--option", "-t", "--target-release", "-c",
                                    "--config-file"})
#: A Debian package name, optionally with ``:arch``, ``=version`` or ``/release``.
APT_PACKAGE = re.compile(
    r"[a-z0-9][a-z0-9.+-]*(?::[a-z0-9-]+)?(?:=[A-Za-z0-9.+~:_-]+|/[A-Za-z0-9.+~_-]+)?"
)
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


def apt_packages(command: str) -> list[str] | None:
    """The packages an apt.txt line installs when read as a command line.

    ``sudo apt-get install -y --no-install-recommends vim git`` gives ``["vim", "git"]``,
    ``apt-get update && apt-get install -y vim`` gives ``["vim"]``, ``apt-get update``
    gives ``[]`` (repo2docker updates anyway) and ``vim git`` gives ``["vim", "git"]``.
    Anything else (other commands, shell syntax, words that are not package names) gives
    ``None``: the line is left for the user.
    """
    packages: list[str] = []
    segments = re.split(r"&&|;", command)
    for segment in segments:
        words = segment.split()
        if not words:
            continue
        words = _drop_prefixes(words)
        if not words:
            return None
        if words[0].rsplit("/", 1)[-1] not in APT_TOOLS:
            if (
                len(segments) == 1
                and not APT_WORDS.intersection(words)
                and all(APT_PACKAGE.fullmatch(w) for w in words)
            ):
                packages.extend(words)  # several names on one line
                continue
            return None
        operands: list[str] = []
        skip = False
        for word in words[1:]:
            if skip:
                skip = False
            elif word in APT_OPTIONS_WITH_VALUE:
                skip = True
            elif not word.startswith("-"):
                operands.append(word)
        if not operands:
            return None
        action, names = operands[0], operands[1:]
        if action in APT_HOUSEKEEPING and not names:
            continue
        if action != "install" or not names:
            return None
        if not all(APT_PACKAGE.fullmatch(name) for name in names):
            return None
        packages.extend(names)
    return packages


def _drop_prefixes(words: list[str]) -> list[str]:
    """Drop ``VAR=value`` assignments and ``sudo`` (with its options) before a command."""
    while words:
        if _ASSIGNMENT.match(words[0]):
            words = words[1:]
        elif words[0] == "sudo":
            words = words[1:]
            while words and words[0].startswith("-"):
                words = words[1:]
        else:
            break
    return words


@fixer("apt-txt-invalid-line", description="replace the command line with package names")
def fix_apt_txt(file: FileText, findings: Sequence[Finding]) -> FileText:
    """Replace each finding's command line (with its ``\\`` continuation lines) by one
    package name per line. A trailing comment stays, on the first name's line; packages
    already listed on other lines are not repeated."""
    lines = file.text.split("\n")
    targets = sorted({f.line - 1 for f in findings if 0 < f.line <= len(lines)})
    blocks: list[tuple[int, int, list[str], str]] = []  # first, last, packages, comment
    consumed: set[int] = set()
    for first in targets:
        if first in consumed:
            continue
        last = first
        parts: list[str] = []
        comment = ""
        while True:
            code, hash_, rest = lines[last].partition("#")
            if hash_:
                comment = (hash_ + rest).strip()
            code = code.strip()
            if last == 0:
                code = code.lstrip("\ufeff")
            if code.endswith("\\") and not hash_ and last + 1 < len(lines):
                parts.append(code[:-1])
                last += 1
                continue
            parts.append(code)
            break
        packages = apt_packages(" ".join(parts))
        consumed.update(range(first, last + 1))
        if packages is None or [" ".join(parts).strip()] == packages:
            continue
        blocks.append((first, last, packages, comment))
    if not blocks:
        return file
    replaced = {n for first, last, _p, _c in blocks for n in range(first, last + 1)}
    listed = {
        line.partition("#")[0].strip()
        for number, line in enumerate(lines)
        if number not in replaced
    }
    for first, last, packages, comment in reversed(blocks):
        new_lines: list[str] = []
        for package in packages:
            if package not in listed:
                listed.add(package)
                new_lines.append(package)
        if comment:
            if new_lines:
                new_lines[0] = f"{new_lines[0]}  {comment}"
            else:
                new_lines.append(comment)
        lines[first : last + 1] = new_lines
    return FileText(file.path, "\n".join(lines), file.format)


# -- /.dockerenv tests in shell code -----------------------------------------------------------

_DOCKERENV_PATH = r"""(?P<q>["']?)/\.dockerenv(?P=q)"""
#: Simple shell tests for the marker: ``[ -f /.dockerenv ]``, ``[[ ! -e "/.dockerenv" ]]``,
#: ``test -f /.dockerenv``. Anything more complex is left for a person.
_DOCKERENV_TESTS = (
    re.compile(rf"(?P<open>\[\[?)\s+(?P<neg>!\s+)?-[efrs]\s+{_DOCKERENV_PATH}\s+(?P<close>\]\]?)"),
    re.compile(rf"(?P<open>test)\s+(?P<neg>!\s+)?-[efrs]\s+{_DOCKERENV_PATH}(?P<close>)(?=\s|;|$|\))"),
)


def _repo_dir_test(match: re.Match[str]) -> str:
    operator = "-z" if match.group("neg") else "-n"
    opening, closing = match.group("open"), match.group("close")
    body = f'{operator} "${{REPO_DIR:-}}"'
    return f"{opening} {body} {closing}".rstrip() if closing else f"{opening} {body}"


@fixer("dockerenv-reliance", description="test REPO_DIR instead of /.dockerenv")
def fix_dockerenv(file: FileText, findings: Sequence[Finding]) -> FileText:
    """In shell code reached from postBuild, replace simple ``/.dockerenv`` tests with
    ``"${REPO_DIR:-}"`` tests (repo2docker sets REPO_DIR in every image it generates).
    Code reached from a user Dockerfile is left alone: REPO_DIR is not set there."""
    lines = file.text.split("\n")
    changed = False
    for finding in findings:
        root = finding.chain[0] if finding.chain else finding.path
        if "Dockerfile" in root.rsplit("/", 1)[-1].split(":")[0]:
            continue
        index = finding.line - 1
        if not 0 <= index < len(lines):
            continue
        line = lines[index]
        for pattern in _DOCKERENV_TESTS:
            new = pattern.sub(_repo_dir_test, line)
            if new != line:
                lines[index] = new
                changed = True
                break
    return FileText(file.path, "\n".join(lines), file.format) if changed else file
