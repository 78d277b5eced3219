"""Project settings and inline suppressions: let a repository say which findings it accepts.

A Binder repository that knowingly does something a rule warns about (a postBuild that
*wants* the classic-builder branch, a pin it needs) should not have to pass ``--ignore``
on every run, nor silence the rule everywhere. So, as with other linters, the repository
can carry its choices:

* **Settings** in ``.r2d-tui.toml`` at the repository root, or in the ``[tool.r2d-tui]``
  table of the root ``pyproject.toml`` (a pyproject.toml that is not valid TOML is
  skipped with a note: it is the project's file, and the checks report it). When both
  exist ``.r2d-tui.toml`` is used and the pyproject table is not read (no merging, so one
  file tells the whole story). Keys:
  ``select`` and ``ignore`` (lists of rule names, codes or categories), ``fail-on``
  (``"error"``, ``"warning"`` or ``"info"``) and ``per-file-ignores`` (a table from a
  path glob to a list of rules). A command-line flag replaces the file's value of the same
  key; ``per-file-ignores`` always applies.
* **Inline suppressions**: ``# r2d-tui: ignore[name-or-code, …]`` (or a bare
  ``# r2d-tui: ignore`` for every rule) on the line a finding points at drops that finding.
  It works in every file type with ``#`` comments: YAML, requirements and apt lists,
  postBuild and other scripts, Dockerfiles, TOML.

Invalid settings raise :class:`ConfigError` with a message naming the file and the key;
the CLI prints it and exits 2, because a silently ignored setting is worse than none.
"""

from __future__ import annotations

import functools
import re
import stat
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Final

from r2d_tui.core.findings import Finding, Severity
from r2d_tui.core.workspace import Workspace

CONFIG_FILE: Final = ".r2d-tui.toml"
PYPROJECT: Final = "pyproject.toml"
PYPROJECT_TABLE: Final = "tool.r2d-tui"
KEYS: Final = ("select", "ignore", "fail-on", "per-file-ignores")
FAIL_ON_DEFAULT: Final = Severity.WARNING

#: ``# r2d-tui: ignore`` or ``# r2d-tui: ignore[a, b]``; the ``#`` must start a comment
#: (start of line or after whitespace), as in shell, YAML, requirements files and TOML.
SUPPRESSION: Final = re.compile(
    r"(?:^|(?<=\s))#\s*r2d-tui\s*:\s*ignore(?:\[(?P<rules>[^\]]*)\])?(?![\w\[-])",
    re.IGNORECASE,
)


class ConfigError(Exception):
    """Settings r2d-tui cannot use, worded for the user (``file: key: problem``)."""


@dataclass(frozen=True)
class PerFileIgnore:
    """Rules to drop in the files whose repository-relative path matches ``pattern``.

    Globs are matched against POSIX paths relative to the repository root: ``*`` and ``?``
    stay within one folder, ``**`` spans folders, ``[…]`` is a character class. A pattern
    without ``/`` also matches the file name in any folder (``postBuild`` matches
    ``binder/postBuild``); a pattern ending in ``/`` matches everything below that folder.
    """

    pattern: str
    rules: tuple[str, ...]

    def matches_path(self, path: str) -> bool:
        regex = glob_regex(self.pattern)
        if regex.match(path):
            return True
        plain = self.pattern.strip("/")
        return "/" not in plain and bool(regex.match(PurePosixPath(path).name))


@dataclass(frozen=True)
class Settings:
    """The settings in force for one run of the checks."""

    select: tuple[str, ...] = ()
    """Run only these rules (names, codes or categories); empty means every rule."""
    ignore: tuple[str, ...] = ()
    """Skip these rules."""
    fail_on: Severity | None = None
    """Lowest severity that makes ``r2d-tui check`` exit 1 (``None``: not set, warning)."""
    per_file_ignores: tuple[PerFileIgnore, ...] = ()
    source: str | None = None
    """The file the settings came from (``None``: no settings file)."""
    notes: tuple[str, ...] = ()
    """Why a settings source was skipped (an unparseable pyproject.toml), for stderr."""

    @property
    def fail_threshold(self) -> Severity:
        return self.fail_on or FAIL_ON_DEFAULT

    def overridden(
        self,
        *,
        select: Sequence[str] = (),
        ignore: Sequence[str] = (),
        fail_on: str | Severity | None = None,
    ) -> Settings:
        """These settings with command-line values replacing the file's where given."""
        return replace(
            self,
            select=tuple(select) or self.select,
            ignore=tuple(ignore) or self.ignore,
            fail_on=Severity(fail_on) if fail_on else self.fail_on,
        )


# -- rule keys ----------------------------------------------------------------------------


def rule_categories() -> dict[str, str]:
    """Rule code → category, for every registered rule."""
    from r2d_tui.core.checks import iter_rules

    return {registered.code: registered.category for registered in iter_rules()}


def is_rule_key(key: str) -> bool:
    """Is ``key`` a rule name, a rule code or a rule category (in any case, as matched by
    ``run_checks``)?"""
    from r2d_tui.core.checks import find_rule

    if find_rule(key) is not None or find_rule(key.lower()) is not None:
        return True
    return key.lower() in {category.lower() for category in rule_categories().values()}


def rule_matches(finding: Finding, key: str, categories: Mapping[str, str] | None = None) -> bool:
    """Does the rule key ``key`` (name, code or category) designate ``finding``'s rule?"""
    wanted = key.strip().lower()
    if wanted in (finding.code.lower(), finding.name.lower()):
        return True
    category = (categories if categories is not None else rule_categories()).get(finding.code)
    return category is not None and wanted == category.lower()


# -- reading settings ---------------------------------------------------------------------


def load_settings(repository: Workspace | Path | str) -> Settings:
    """The settings of the repository (a workspace, so unsaved edits count, or a folder).

    Raises:
        ConfigError: a settings file cannot be read or parsed, or has an invalid value.
    """
    own = _read(repository, CONFIG_FILE)
    if own is not None:
        return parse_settings(_parse_toml(own, CONFIG_FILE), file=CONFIG_FILE)
    try:
        pyproject = _read(repository, PYPROJECT)
        data = _parse_toml(pyproject, PYPROJECT) if pyproject is not None else None
    except ConfigError as error:
        if not isinstance(error.__cause__, tomllib.TOMLDecodeError | UnicodeDecodeError):
            raise
        # the file belongs to the project, not to r2d-tui: the checks report it at its
        # line (invalid-pyproject-toml or render-failed); only its settings are skipped
        return Settings(notes=(f"{error}; its [{PYPROJECT_TABLE}] settings are not read",))
    if data is None:
        return Settings()
    tool = data.get("tool")
    if not isinstance(tool, dict) or "r2d-tui" not in tool:
        return Settings()
    table = tool["r2d-tui"]
    if not isinstance(table, dict):
        raise ConfigError(f"{PYPROJECT}: {PYPROJECT_TABLE}: expected a table, got {_kind(table)}")
    return parse_settings(table, file=PYPROJECT, prefix=PYPROJECT_TABLE + ".")


#: Settings files larger than this are refused (pyproject.toml files are a few kB).
MAX_SETTINGS_BYTES = 4 * 1024 * 1024


def _read(repository: Workspace | Path | str, rel: str) -> str | None:
    if isinstance(repository, Workspace):
        text = repository.text(rel)
        if text is not None:
            return text
        path = repository.abspath(rel)
    else:
        path = Path(repository) / rel
    if not path.exists() and not path.is_symlink():
        return None
    try:
        info = path.stat()
    except OSError as error:
        raise ConfigError(f"{rel}: cannot read: {error.strerror or error}") from error
    if not stat.S_ISREG(info.st_mode):
        # a FIFO would block the read forever, a device (/dev/zero) never ends
        raise ConfigError(f"{rel}: not a regular file")
    if info.st_size > MAX_SETTINGS_BYTES:
        raise ConfigError(f"{rel}: {info.st_size} bytes is too large for a settings file")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{rel}: not UTF-8 text ({error.reason})") from error
    except OSError as error:
        raise ConfigError(f"{rel}: cannot read: {error.strerror or error}") from error


def _parse_toml(text: str, rel: str) -> dict[str, object]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{rel}: invalid TOML: {error}") from error


def _kind(value: object) -> str:
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"  # dates and times


def parse_settings(data: Mapping[str, object], *, file: str, prefix: str = "") -> Settings:
    """Validate the settings table ``data`` read from ``file``.

    ``prefix`` is where the table sits in the file (``"tool.r2d-tui."`` in pyproject.toml),
    so that messages name keys as the user wrote them: ``file: key: problem``.

    Raises:
        ConfigError: an unknown key, a value of the wrong type, or an unknown rule.
    """
    for key in data:
        if key not in KEYS:
            hint = key.replace("_", "-")
            suggestion = f"; did you mean {hint!r}?" if hint in KEYS else ""
            raise ConfigError(
                f"{file}: {prefix}{key}: unknown key (expected one of {', '.join(KEYS)})"
                f"{suggestion}"
            )
    fail_on: Severity | None = None
    if "fail-on" in data:
        value = data["fail-on"]
        choices = [severity.value for severity in Severity]
        if value not in choices:
            raise ConfigError(
                f"{file}: {prefix}fail-on: expected one of {', '.join(map(repr, choices))}, "
                f"got {_kind(value)}"
            )
        fail_on = Severity(value)
    table = data.get("per-file-ignores", {})
    if not isinstance(table, dict):
        raise ConfigError(
            f"{file}: {prefix}per-file-ignores: expected a table of \"glob\" = [rules], "
            f"got {_kind(table)}"
        )
    per_file: list[PerFileIgnore] = []
    for pattern, rules in table.items():
        where = f"{file}: {prefix}per-file-ignores.{_toml_key(pattern)}"
        if not pattern.strip():
            raise ConfigError(f"{where}: empty glob")
        per_file.append(PerFileIgnore(pattern, _rule_list(rules, where)))
    return Settings(
        select=_rule_list(data.get("select", []), f"{file}: {prefix}select"),
        ignore=_rule_list(data.get("ignore", []), f"{file}: {prefix}ignore"),
        fail_on=fail_on,
        per_file_ignores=tuple(per_file),
        source=file,
    )


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else '"' + key.replace('"', '\\"') + '"'


def _rule_list(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected a list of rule names or codes, got {_kind(value)}")
    for item in value:
        if not isinstance(item, str):
            raise ConfigError(f"{where}: expected rule names or codes, got {_kind(item)}")
        if not is_rule_key(item):
            raise ConfigError(f"{where}: unknown rule {item!r} (see `r2d-tui explain`)")
    return tuple(value)


# -- applying settings and suppressions ----------------------------------------------------


@functools.lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """The regular expression for a per-file-ignores glob (see :class:`PerFileIgnore`)."""
    glob = pattern.strip()
    glob = glob.removeprefix("./").lstrip("/")
    if glob.endswith("/"):
        glob += "**"
    parts: list[str] = []
    index = 0
    while index < len(glob):
        char = glob[index]
        if glob.startswith("**/", index):
            parts.append("(?:.*/)?")
            index += 3
        elif glob.startswith("**", index):
            parts.append(".*")
            index += 2
        elif char == "*":
            parts.append("[^/]*")
            index += 1
        elif char == "?":
            parts.append("[^/]")
            index += 1
        elif char == "[" and "]" in glob[index + 2 :]:
            end = glob.index("]", index + 2)
            body = glob[index + 1 : end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            parts.append(f"[{'^' if negate else ''}{re.escape(body).replace(chr(92) + '-', '-')}]")
            index = end + 1
        else:
            parts.append(re.escape(char))
            index += 1
    return re.compile("".join(parts) + r"\Z")


def apply_per_file_ignores(findings: Iterable[Finding], settings: Settings) -> list[Finding]:
    """``findings`` without those that a ``per-file-ignores`` entry drops."""
    findings = list(findings)
    if not settings.per_file_ignores:
        return findings
    categories = rule_categories()
    return [
        finding
        for finding in findings
        if not any(
            entry.matches_path(finding.path)
            and any(rule_matches(finding, key, categories) for key in entry.rules)
            for entry in settings.per_file_ignores
        )
    ]


def suppressed_rules(line: str) -> frozenset[str] | None:
    """What an ``r2d-tui: ignore`` comment on ``line`` suppresses.

    ``None``: no suppression comment. An empty set: every rule (a bare ``ignore``).
    Otherwise the lower-cased rule keys listed in the brackets. ``ignore[]`` suppresses
    nothing and so counts as no comment.
    """
    rules: set[str] = set()
    found_all = False
    for match in SUPPRESSION.finditer(line):
        listed = match.group("rules")
        if listed is None:
            found_all = True
            continue
        rules.update(key.strip().lower() for key in listed.split(",") if key.strip())
    if found_all:
        return frozenset()
    return frozenset(rules) if rules else None


def apply_suppressions(findings: Iterable[Finding], workspace: Workspace) -> list[Finding]:
    """``findings`` without those whose line carries a matching ``r2d-tui: ignore`` comment.

    Lines are read through the workspace (so an unsaved buffer counts), once per file.
    """
    lines: dict[str, list[str] | None] = {}
    categories: Mapping[str, str] | None = None
    kept: list[Finding] = []
    for finding in findings:
        if finding.path not in lines:
            text = workspace.text(finding.path)
            lines[finding.path] = text.split("\n") if text is not None else None
        file_lines = lines[finding.path]
        if file_lines is None or not 1 <= finding.line <= len(file_lines):
            kept.append(finding)
            continue
        rules = suppressed_rules(file_lines[finding.line - 1])
        if rules is None:
            kept.append(finding)
            continue
        if not rules:
            continue  # a bare ignore: every rule
        if categories is None:
            categories = rule_categories()
        if not any(rule_matches(finding, key, categories) for key in rules):
            kept.append(finding)
    return kept
