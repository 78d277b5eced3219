"""environment.yml: parse errors, shapes repo2docker rejects, and pins that break the solve.

The file is parsed with ruamel.yaml's round-trip loader (the same library repo2docker
uses), which keeps the line and column of every node, so findings point at the exact
dependency. Only the environment file the chosen buildpack reads is checked for content.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from r2d_tui.core.checks import CheckContext, rule
from r2d_tui.core.findings import Finding, Severity

#: Larger files are not parsed for content checks (a YAML parse of 50 MB takes minutes).
MAX_PARSE_BYTES = 2 * 1024 * 1024

#: repo2docker's own pattern (repo2docker.buildpacks.conda.PYTHON_REGEX), matched at the start.
REPO2DOCKER_PYTHON = re.compile(r"python\s*=+\s*([\d\.]*)")

#: A conda match spec whose package is Python itself (python, python3.12, "python >=3.9",
#: conda-forge::python=3.11, Python=3.11). repo2docker's regex is case-sensitive and anchored
#: at the start, so a channel prefix or a capital P already hides the version from it.
PYTHON_SPEC = re.compile(r"^\s*(?:[\w.-]+::)?python(?:\d+(?:\.\d+)*)?(?![\w.-])", re.I)

#: Packages that exist only for macOS or Windows on conda channels (or PyPI wheels).
PLATFORM_ONLY = {
    "appnope": "macOS",
    "libcxxabi": "macOS",
    "cctools": "macOS",
    "ld64": "macOS",
    "tapi": "macOS",
    "pyobjc-core": "macOS",
    "pywin32": "Windows",
    "pywin32-ctypes": "Windows",
    "pywinpty": "Windows",
    "winpty": "Windows",
    "wincertstore": "Windows",
    "win_inet_pton": "Windows",
    "win-inet-pton": "Windows",
    "win_unicode_console": "Windows",
    "vc": "Windows",
    "vs2015_runtime": "Windows",
    "ucrt": "Windows",
    "pyreadline": "Windows",
    "pyreadline3": "Windows",
    "windows-curses": "Windows",
    "python.app": "macOS",
    "applaunchservices": "macOS",
    "appscript": "macOS",
    "console_shortcut": "Windows",
    "powershell_shortcut": "Windows",
}
PLATFORM_ONLY_PATTERNS = (
    (re.compile(r"^pyobjc-framework-"), "macOS"),
    (re.compile(r"_osx-(?:64|arm64)$"), "macOS"),
    (re.compile(r"_win-(?:32|64)$"), "Windows"),
    (re.compile(r"^vs20\d\d_"), "Windows"),
    (re.compile(r"^m2w64-"), "Windows"),
    (re.compile(r"^m2-"), "Windows"),
    (re.compile(r"^msys2-"), "Windows"),
)
#: Pure-Python packages that install anywhere from PyPI (no false alarm in pip: sections).
PIP_PORTABLE = frozenset({
    "appnope", "pywin32-ctypes", "pyreadline", "pyreadline3", "win-inet-pton", "win_inet_pton",
    "wincertstore", "win-unicode-console", "win_unicode_console",
})


def _skipped_on_linux(spec: str) -> bool:
    """A pip requirement whose environment marker is false on Linux (pip skips it)."""
    from packaging.requirements import InvalidRequirement, Requirement

    if ";" not in spec:
        return False
    try:
        marker = Requirement(spec).marker
    except InvalidRequirement:
        return False
    linux = {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"}
    return marker is not None and not marker.evaluate(linux)


@dataclass(frozen=True)
class Dependency:
    """One entry of ``dependencies:`` (or of its ``pip:`` list)."""

    spec: str
    line: int
    """1-based."""
    column: int
    pip: bool = False

    @property
    def name(self) -> str:
        spec = self.spec.strip()
        if "::" in spec:  # channel::package
            spec = spec.split("::", 1)[1]
        match = re.match(r"[A-Za-z0-9_.\-]+", spec)
        return match.group(0).lower() if match else ""


@dataclass(frozen=True)
class EnvFile:
    """A parsed environment.yml."""

    path: str
    data: Any
    dependencies: tuple[Dependency, ...]
    pip_section: tuple[int, int] | None
    """Line and column of the ``- pip:`` entry."""
    dependencies_line: int | None
    text: str = ""
    """The text parsed."""


#: Where ruamel.yaml's reader starts a new line (YAML 1.2: \n, \r\n and a lone \r).
YAML_BREAKS = re.compile("\r\n|\r|\n")


def located(text: str, line: int, column: int) -> tuple[int, int]:
    """ruamel's 0-based ``(line, column)`` as findings count places: 1-based, with lines
    split at ``\n`` only. ruamel also starts a line at a lone ``\r``, so without this a
    file with one pointed below its last line."""
    if "\r" not in text:
        return line + 1, column + 1
    starts, newlines = _line_starts(text)
    offset = min(starts[min(max(line, 0), len(starts) - 1)] + max(column, 0), len(text))
    ours = bisect.bisect_left(newlines, offset)  # the \n before offset, 0-based
    return ours + 1, offset - (newlines[ours - 1] + 1 if ours else 0) + 1


@functools.lru_cache(maxsize=4)
def _line_starts(text: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Where ruamel's lines start, and where the ``\n`` are, in ``text``: found once per
    file, not once per dependency (a long file with lone \r breaks was quadratic)."""
    starts = (0, *(match.end() for match in YAML_BREAKS.finditer(text)))
    return starts, tuple(match.start() for match in re.finditer("\n", text))


def _position(text: str, seq: Any, index: int) -> tuple[int, int]:
    try:
        line, column = seq.lc.item(index)
        return located(text, int(line), int(column))
    except (AttributeError, KeyError, TypeError):
        return 1, 1


def parse(context: CheckContext, path: str) -> EnvFile | tuple[int, int, str] | None:
    """Parse ``path``: an :class:`EnvFile`, or ``(line, column, problem)`` on a YAML error,
    or ``None`` when the file cannot be read as text or is too large."""
    key = f"envyml.parse:{path}"
    if key not in context.cache:  # a dozen rules read the same file
        context.cache[key] = _parse(context, path)
    return context.cache[key]  # type: ignore[return-value]


def _parse(context: CheckContext, path: str) -> EnvFile | tuple[int, int, str] | None:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    source = context.source(path)
    if source is None or source.text is None or len(source.raw) > MAX_PARSE_BYTES:
        return None
    # Duplicate keys are an error, as for repo2docker (its YAML() raises DuplicateKeyError
    # and the render fails), so they are reported as invalid-yaml at the duplicate key.
    yaml = YAML(typ="rt")
    try:
        data = yaml.load(source.text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = located(source.text, int(mark.line), int(mark.column)) if mark else (1, 1)
        problem = error.problem or error.context or "invalid YAML"
        return line, column, str(problem)
    except YAMLError as error:
        return 1, 1, str(error).splitlines()[0]
    except RecursionError:
        return 1, 1, "nesting too deep"
    dependencies: list[Dependency] = []
    pip_at: tuple[int, int] | None = None
    dependencies_line: int | None = None
    mapping: Any = data
    deps = mapping.get("dependencies") if isinstance(mapping, dict) else None
    if isinstance(data, dict) and "dependencies" in data:
        try:
            key_line, key_column = mapping.lc.key("dependencies")
            dependencies_line = located(source.text, int(key_line), int(key_column))[0]
        except (AttributeError, KeyError, TypeError):
            dependencies_line = None
    if isinstance(deps, list):
        for index, item in enumerate(deps):
            line, column = _position(source.text, deps, index)
            if isinstance(item, str):
                dependencies.append(Dependency(item, line, column))
            elif isinstance(item, dict) and "pip" in item:
                pip_at = (line, column)
                pips = item.get("pip")
                if isinstance(pips, list):
                    for pip_index, pip_item in enumerate(pips):
                        if isinstance(pip_item, str):
                            pline, pcol = _position(source.text, pips, pip_index)
                            dependencies.append(Dependency(pip_item, pline, pcol, pip=True))
    return EnvFile(path, data, tuple(dependencies), pip_at, dependencies_line, source.text)


def environment_file(context: CheckContext) -> str | None:
    """The environment.yml (or .yaml) the chosen buildpack reads, if any."""
    for name in ("environment.yml", "environment.yaml"):
        path = context.present(name)
        if path is not None:
            return path if context.used(path) or context.detection.buildpack == "conda" else None
    return None


def _parsed(context: CheckContext) -> EnvFile | None:
    path = environment_file(context)
    if path is None:
        return None
    parsed = parse(context, path)
    return parsed if isinstance(parsed, EnvFile) else None


@rule(
    "R2D201",
    "invalid-yaml",
    Severity.ERROR,
    "environment.yml is not valid YAML",
    "repo2docker parses environment.yml with ruamel.yaml; a syntax error stops the build "
    "before anything is installed. The line and column are where the parser gave up; the "
    "mistake is often on a line just before (the indentation of a '- pip:' list, a tab, "
    "or a missing space after '-' are the usual culprits).",
    "environment.yml",
)
def invalid_yaml(context: CheckContext) -> Iterator[Finding]:
    path = environment_file(context)
    if path is None:
        return
    parsed = parse(context, path)
    if isinstance(parsed, tuple):
        line, column, problem = parsed
        yield invalid_yaml.finding(
            path, line, column, f"invalid YAML: {problem}; repo2docker cannot read {path}",
            fix="fix the indentation or syntax at this line (or the one before)",
        )


@rule(
    "R2D202",
    "environment-yml-not-mapping",
    Severity.ERROR,
    "environment.yml is not a mapping (name/channels/dependencies)",
    "repo2docker expects environment.yml to be a mapping with keys such as channels: and "
    "dependencies:. A file whose top level is a list (for example only '- numpy' lines) or "
    "a single string makes repo2docker fail with 'should contain a dictionary'. A symlink "
    "stored by git as a plain file (its content is the target path) looks like this too.",
    "environment.yml",
)
def environment_yml_not_mapping(context: CheckContext) -> Iterator[Finding]:
    path = environment_file(context)
    if path is None:
        return
    parsed = parse(context, path)
    if not isinstance(parsed, EnvFile) or parsed.data is None or isinstance(parsed.data, dict):
        return
    kind = type(parsed.data).__name__
    kind = {"CommentedSeq": "list", "str": "string", "int": "number", "float": "number"}.get(
        kind, kind
    )
    hint = context.flattened_symlink_hint(path)
    yield environment_yml_not_mapping.finding(
        path, 1, 1,
        f"{path} is a {kind}, not a mapping: repo2docker fails ('should contain a dictionary')"
        + (f"; {hint}" if hint else ""),
        fix="put the packages under a 'dependencies:' key",
    )


@rule(
    "R2D203",
    "empty-environment-yml",
    Severity.WARNING,
    "environment.yml is empty",
    "An empty environment.yml still selects repo2docker's conda buildpack, but installs "
    "nothing: the image gets repo2docker's default Python and no packages.",
    "environment.yml",
)
def empty_environment_yml(context: CheckContext) -> Iterator[Finding]:
    path = environment_file(context)
    if path is None:
        return
    parsed = parse(context, path)
    if not isinstance(parsed, EnvFile):
        return
    data = parsed.data
    if isinstance(data, dict) and "dependencies" in data and data["dependencies"] is None:
        return  # 'dependencies:' with nothing: repo2docker fails, render-failed says so
    if data is None or (isinstance(data, dict) and not data.get("dependencies")):
        what = "empty" if data is None else "without dependencies"
        yield empty_environment_yml.finding(
            path, 1, 1,
            f"{path} is {what}: the image gets repo2docker's default Python "
            f"{context.default_python()} and no packages",
            fix="list the packages under 'dependencies:'",
        )


def _python_specs(parsed: EnvFile, *, pip: bool = False) -> list[Dependency]:
    """Python constraints among the conda dependencies (or, with ``pip``, the pip: list)."""
    return [d for d in parsed.dependencies if d.pip == pip and PYTHON_SPEC.match(d.spec)]


def _read_by_repo2docker(parsed: EnvFile) -> tuple[Dependency, str] | None:
    """The dependency repo2docker takes the Python version from, and the version it reads.

    Mirrors ``CondaBuildPack.python_version``: the first *string* entry of ``dependencies``
    that ``PYTHON_REGEX.match``es (pip: entries are never looked at), as written.
    """
    for dependency in parsed.dependencies:
        if dependency.pip:
            continue
        match = REPO2DOCKER_PYTHON.match(dependency.spec)
        if match:
            return dependency, match.group(1)
    return None


def _major_minor(version: str) -> str:
    """What repo2docker makes of the version it read ('3.10.*' → '3.10', '3.*' → '3.')."""
    parts = version.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else version


@rule(
    "R2D204",
    "python-version-unrecognized",
    Severity.WARNING,
    "a Python constraint repo2docker does not read",
    "repo2docker reads the Python version from environment.yml only in the form "
    "python=X.Y (or python==X.Y), as a conda dependency. Ranges (python>=3.10, "
    "python<3.13, python~=3.11), a space (python 3.11), python3.12, a channel prefix "
    "(conda-forge::python=3.11) or Python=3.11 are not understood: repo2docker builds its "
    "default Python environment and conda then has to re-solve it against your "
    "constraint, which is slow and can fail or pick an unexpected version. 'python=3.*' "
    "is read as Python '3.' and the render fails. 'python=3.9' under pip: is never read, "
    "and pip cannot install Python, so that install fails. Pin python=X.Y.",
    "environment.yml",
)
def python_version_unrecognized(context: CheckContext) -> Iterator[Finding]:
    yield from _environment_unrecognized(context)
    yield from _requirements_python(context)
    yield from _pipfile_unrecognized(context)


#: A requirements.txt line that asks pip for Python itself (python==3.10, Python >= 3.9).
REQUIREMENT_PYTHON = re.compile(r"^python\s*(?:[=<>!~;\[]|$)", re.I)
#: What PipfileBuildPack.python_version accepts (``VERSION_PAT.match``).
PIPFILE_VERSION = re.compile(r"\d+(\.\d+)*")


def _requirements_python(context: CheckContext) -> Iterator[Finding]:
    """'python==3.10' in requirements.txt: repo2docker does not read it, pip cannot install
    it (no such distribution), so the install fails."""
    from r2d_tui.core.checks.requirements import logical_lines, requirement_files

    used = context.python_version() or context.default_python()
    for path in requirement_files(context):
        for line, column, content in logical_lines((context.text(path) or "").lstrip("\ufeff")):
            if REQUIREMENT_PYTHON.match(content):
                yield python_version_unrecognized.finding(
                    path, line, column,
                    f"{content!r} in {path} does not set the Python version (repo2docker "
                    f"builds Python {used}), and pip cannot install Python: the install fails",
                    severity=Severity.ERROR,
                    fix="delete it and put python-X.Y in runtime.txt",
                )


def _pipfile_unrecognized(context: CheckContext) -> Iterator[Finding]:
    """A Pipfile [requires] python_version that PipfileBuildPack cannot read ('>=3.9')."""
    key = _pipfile_python_key(context)
    if key is None:
        return
    path, line, column, value = key
    if PIPFILE_VERSION.match(value):
        return
    used = context.python_version() or context.default_python()
    yield python_version_unrecognized.finding(
        path, line, column,
        f"repo2docker does not read python_version {value!r}: it builds Python {used} "
        "instead; write python_version = \"X.Y\"",
        fix='python_version = "X.Y"',
    )


def _pipfile_python_key(context: CheckContext) -> tuple[str, int, int, str] | None:
    """(path, line, column, value) of the Python version the Pipfile buildpack reads."""
    import tomllib

    if context.detection.buildpack != "pipfile":
        return None
    path = context.present("Pipfile")
    if path is None or not context.used(path):
        return None
    text = context.text(path) or ""
    try:
        requires = tomllib.loads(text).get("requires", {})
    except tomllib.TOMLDecodeError:
        return None
    for key in ("python_full_version", "python_version"):
        value = requires.get(key) if isinstance(requires, dict) else None
        if isinstance(value, str):
            for number, raw in enumerate(text.split("\n"), start=1):  # as findings count
                match = re.match(rf"\s*{key}\s*=\s*[\"']?", raw)
                if match:
                    return path, number, match.end() + 1, value
            return path, 1, 1, value
    return None


def _environment_unrecognized(context: CheckContext) -> Iterator[Finding]:
    parsed = _parsed(context)
    if parsed is None:
        return
    used = context.python_version() or context.default_python()
    for dependency in _python_specs(parsed, pip=True):
        spec = dependency.spec.strip()
        yield python_version_unrecognized.finding(
            parsed.path, dependency.line, dependency.column,
            f"{spec!r} is under pip:, where repo2docker does not read it (it uses Python "
            f"{used}) and pip cannot install Python: the pip install fails",
            severity=Severity.ERROR,
            fix="move it to the conda dependencies as python=X.Y",
        )
    read = _read_by_repo2docker(parsed)
    if read is not None:
        dependency, version = read
        if version and _major_minor(version).endswith("."):
            # python=3.* → '3.' → repo2docker's semver parse raises while rendering
            spec = dependency.spec.strip()
            yield python_version_unrecognized.finding(
                parsed.path, dependency.line, dependency.column,
                f"repo2docker reads {spec!r} as Python {_major_minor(version)!r} and fails "
                "to render; write python=X.Y",
                severity=Severity.ERROR, fix="pin the version as python=X.Y (e.g. python=3.12)",
            )
        return  # otherwise repo2docker reads this one (it stops at the first match)
    for dependency in _python_specs(parsed):
        spec = dependency.spec.strip()
        if re.fullmatch(r"(?:[\w.-]+::)?python", spec):
            continue  # plain 'python': no version at all (python-version-unpinned)
        yield python_version_unrecognized.finding(
            parsed.path,
            dependency.line,
            dependency.column,
            f"repo2docker does not read {spec!r}: it starts from its Python {used} "
            "environment instead; write python=X.Y",
            fix="pin the version as python=X.Y",
        )
        return


@rule(
    "R2D205",
    "python-version-unpinned",
    Severity.WARNING,
    "no Python version is pinned: repo2docker's moving default is used",
    "Without a Python version (python=X.Y in environment.yml, python-X.Y in runtime.txt, "
    "python_version in a Pipfile, or requires-python in pyproject.toml), repo2docker uses "
    "its current default, which it says 'will change in the future'. A rebuild after a "
    "repo2docker upgrade can then get a different Python and break your environment. "
    "A major version alone (python=3, python-3) also means the current default.",
    "python",
)
def python_version_unpinned(context: CheckContext) -> Iterator[Finding]:
    detection = context.detection
    result = detection.render
    if detection.buildpack not in ("conda", "python", "pipfile") or result is None:
        return
    used = context.python_version() or context.default_python()
    message = (
        f"no Python version pinned: repo2docker uses its current default, Python {used}, "
        "which will change in a future release"
    )
    if detection.buildpack == "conda":
        parsed = _parsed(context)
        if parsed is None:
            return
        read = _read_by_repo2docker(parsed)
        if read is not None and re.fullmatch(r"\d+", read[1]):
            # python=3: repo2docker maps a bare major version to its moving default, silently
            dependency = read[0]
            yield python_version_unpinned.finding(
                parsed.path, dependency.line, dependency.column,
                f"{dependency.spec.strip()!r} gives repo2docker's current default, Python "
                f"{used}, which will change in a future release",
                fix=f"pin the minor version: python={used}",
            )
            return
        if not any("Python version unspecified" in note for note in result.notes):
            return
        specs = _python_specs(parsed)
        if _python_specs(parsed, pip=True) or any(
            not re.fullmatch(r"(?:[\w.-]+::)?python", d.spec.strip()) for d in specs
        ):
            return  # an unrecognised constraint: python-version-unrecognized
        line, column = (specs[0].line, specs[0].column) if specs else (
            parsed.dependencies_line or 1, 1
        )
        yield python_version_unpinned.finding(
            parsed.path, line, column, message, fix=f"add python={used} to the dependencies",
        )
        return
    if not any("Python version unspecified" in note for note in result.notes):
        return
    if detection.buildpack == "python":
        runtime = context.present("runtime.txt")
        if runtime is not None:
            text = (context.text(runtime) or "").strip()
            if re.fullmatch(r"python-\d+", text):
                yield python_version_unpinned.finding(
                    runtime, 1, 1,
                    f"{text!r} gives repo2docker's current default, Python {used}, which "
                    "will change in a future release",
                    fix=f"pin the minor version: python-{used}",
                )
            return  # otherwise the runtime.txt rules explain it
        if _requires_python(context):
            return  # pyproject.toml's requires-python picks the version
    if detection.buildpack == "pipfile" and _pipfile_python_key(context) is not None:
        return  # a python_version it cannot read: python-version-unrecognized
    if detection.buildpack == "python" and any(
        f.severity == Severity.ERROR for f in _requirements_python(context)
    ):
        return  # 'python==3.10' in requirements.txt: python-version-unrecognized
    path = detection.deciding_files[0] if detection.deciding_files else None
    if path is None:
        return
    hint = "runtime.txt (python-X.Y)" if detection.buildpack == "python" else (
        "[requires] python_version in the Pipfile"
    )
    yield python_version_unpinned.finding(path, 1, 1, message, fix=f"pin it with {hint}")


def _requires_python(context: CheckContext) -> bool:
    """Does a root pyproject.toml that repo2docker reads give ``requires-python``?"""
    import tomllib

    if context.detection.config_dir or "pyproject.toml" not in context.env_files():
        return False
    try:
        data = tomllib.loads(context.text("pyproject.toml") or "")
    except tomllib.TOMLDecodeError:
        return False
    project = data.get("project")
    return isinstance(project, dict) and "requires-python" in project


BUILD_STRING = re.compile(r"^(?P<name>[^=\s<>!~]+)=(?P<version>[^=\s]+)=(?P<build>[^=\s]+)$")


@rule(
    "R2D206",
    "conda-export-build-strings",
    Severity.WARNING,
    "pkg=version=build pins, typical of conda env export",
    "'conda env export' writes each package as name=version=build, where the build string "
    "(py39h20f2e39_0, h7f98852_4…) belongs to one platform and one channel snapshot. On "
    "Binder (linux-64, conda-forge today) most of these builds do not exist, and the solve "
    "fails with PackagesNotFoundError. Keep name=version (or export with "
    "'conda env export --no-builds', or better '--from-history').",
    "environment.yml",
)
def conda_export_build_strings(context: CheckContext) -> Iterator[Finding]:
    parsed = _parsed(context)
    if parsed is None:
        return
    for dependency in parsed.dependencies:
        if dependency.pip:
            continue
        match = BUILD_STRING.match(dependency.spec.strip())
        if match and "*" not in match.group("build"):  # 'pkg=1.2=*' is no export pin
            yield conda_export_build_strings.finding(
                parsed.path,
                dependency.line,
                dependency.column,
                f"{dependency.spec.strip()!r} pins a platform-specific build "
                f"({match.group('build')}); the solve on Binder's linux-64 will likely fail",
                fix=f"{match.group('name')}={match.group('version')}",
            )


@rule(
    "R2D207",
    "platform-specific-package",
    Severity.ERROR,
    "a package that exists only for macOS or Windows",
    "Binder builds Linux images. Packages that exist only for macOS (appnope, pyobjc, "
    "*_osx-64 compilers, libcxxabi…) or Windows (pywin32, pywinpty, vc, vs2015_runtime, "
    "m2w64-*…) cannot be installed there, and the conda solve or pip install fails. They "
    "usually come from 'conda env export' on a laptop; delete them.",
    "environment.yml",
)
def platform_specific_package(context: CheckContext) -> Iterator[Finding]:
    parsed = _parsed(context)
    if parsed is None:
        return
    for dependency in parsed.dependencies:
        name = dependency.name
        if dependency.pip and (name in PIP_PORTABLE or _skipped_on_linux(dependency.spec)):
            continue
        platform = PLATFORM_ONLY.get(name)
        if platform is None:
            platform = next((p for rx, p in PLATFORM_ONLY_PATTERNS if rx.search(name)), None)
        if platform is None:
            continue
        where = "pip" if dependency.pip else "conda"
        yield platform_specific_package.finding(
            parsed.path,
            dependency.line,
            dependency.column,
            f"{name} exists only for {platform}: the {where} install fails on Binder's Linux",
            fix=f"delete {name} (it came from an environment exported on {platform})",
        )


@rule(
    "R2D208",
    "pip-without-pip",
    Severity.WARNING,
    "a pip: subsection without pip in the dependencies",
    "conda installs the packages of a 'pip:' subsection with the environment's own pip. "
    "When pip itself is not listed in the dependencies, conda warns ('Conda may not use "
    "the correct pip') and, in a fresh environment, the pip packages may be installed "
    "with a different pip, or not at all. repo2docker's base environment happens to have "
    "pip, so a Binder build usually works, but the file does not work elsewhere. Add "
    "'- pip' to the dependencies.",
    "environment.yml",
)
def pip_without_pip(context: CheckContext) -> Iterator[Finding]:
    parsed = _parsed(context)
    if parsed is None or parsed.pip_section is None:
        return
    if any(d.name == "pip" for d in parsed.dependencies if not d.pip):
        return
    line, column = parsed.pip_section
    yield pip_without_pip.finding(
        parsed.path, line, column,
        "a pip: subsection but no 'pip' in the dependencies: conda may install these "
        "packages with the wrong pip",
        fix="add '- pip' to the dependencies",
    )


def _kind(value: Any) -> str:
    """What a YAML value is, in the words of the person who wrote it."""
    import datetime

    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return "a date"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty"
    return "a tagged value" if hasattr(value, "tag") else f"a {type(value).__name__}"


def _value_position(text: str, mapping: Any, key: str) -> tuple[int, int]:
    try:
        line, column = mapping.lc.value(key)
        return located(text, int(line), int(column))
    except (AttributeError, KeyError, TypeError):
        return 1, 1


def _written(text: str, line: int, column: int) -> str:
    """The scalar written at 1-based ``line``/``column`` as it stands in the file (``3.10``
    stays ``3.10``; the parsed float would be 3.1): up to a comment or the line's end."""
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        return ""
    written = lines[line - 1][column - 1:].rstrip("\r")
    written = re.split(r"\s#", written, maxsplit=1)[0].strip()
    return written[1:-1] if written[:1] in "'\"" and written[-1:] == written[:1] else written


def _as_spec(name: Any, version: str) -> str:
    """``numpy: 1.26`` as conda's ``numpy=1.26`` (``numpy: '>=1.2'`` as ``numpy>=1.2``)."""
    if not version:
        return str(name)
    return f"{name}{version}" if version[:1] in "<>=!~" else f"{name}={version}"


def _mapping_entry(text: str, item: Any, line: int, column: int) -> tuple[int, int, str, str]:
    """``- numpy: 1.26``: the finding, with the spec written from the file's own text."""
    specs = []
    for key, value in item.items():
        if isinstance(value, (dict, list)):
            specs.append(f"{key}=<version>")
        else:
            written = _written(text, *_value_position(text, item, key)) if value is not None \
                else ""
            specs.append(_as_spec(key, written))
    names = ", ".join(f"{key!r}" for key in item)
    several = len(specs) > 1
    fix = ("write one line per package: " + ", ".join(f"'- {spec}'" for spec in specs)
           if several else f"write it as '- {specs[0]}' (conda's name=version)"
           if specs else "remove the empty entry")
    return (line, column,
            f"{names} {'are' if several else 'is'} a mapping ('name: version'), not a package "
            "spec: conda reads the key as an installer and fails", fix)


def _not_a_spec(text: str, item: Any, line: int, column: int, where: str,
                expected: str) -> tuple[int, int, str, str]:
    if item is None:
        return (line, max(1, column - 1),
                f"an empty '-' entry in {where}: it names no package",
                "remove the line or name a package")
    shown = _written(text, line, column)[:40] or repr(item)[:40]
    return (line, column,
            f"{_kind(item)} entry ({shown}) in {where}, not a package spec: {expected}",
            "name a package, quoted if it starts with a digit or a tag")


def _malformed(text: str, data: Any) -> Iterator[tuple[int, int, str, str]]:
    """``(line, column, message, fix)`` for each part of ``dependencies:`` conda cannot read."""
    deps = data.get("dependencies")
    if deps is None or isinstance(deps, list):
        pass
    else:
        line, column = _value_position(text, data, "dependencies")
        fix = "write one '- package' line per package under 'dependencies:'"
        if isinstance(deps, str) and "\n" not in deps.strip():
            fix = f"write it as a list: 'dependencies:' then '  - {deps.split()[0]}' …"
        yield (line, column,
               f"'dependencies:' is {_kind(deps)}, not a list: conda expects one "
               "'- package' entry per package and the build fails", fix)
        return
    conda_expects = "conda expects strings such as 'numpy' or 'numpy=1.26'"
    for index, item in enumerate(deps or ()):
        line, column = _position(text, deps, index)
        if isinstance(item, str):
            continue
        if isinstance(item, dict) and "pip" in item:
            pips = item.get("pip")
            if pips is not None and not isinstance(pips, list):
                pline, pcol = _value_position(text, item, "pip")
                yield (pline, pcol,
                       f"'pip:' is {_kind(pips)}, not a list: conda hands pip one "
                       "requirement per entry and the build fails",
                       "write each pip requirement as its own '- requirement' line under "
                       "'- pip:'")
            for pip_index, pip_item in enumerate(pips if isinstance(pips, list) else ()):
                if not isinstance(pip_item, str):
                    pline, pcol = _position(text, pips, pip_index)
                    yield _not_a_spec(text, pip_item, pline, pcol, "the pip: list",
                                      "pip expects requirement strings such as "
                                      "'requests' or 'requests==2.32'")
            extra = [str(key) for key in item if key != "pip"]
            if extra:
                yield (line, column,
                       f"the '- pip:' entry also holds {', '.join(map(repr, extra))}: "
                       "conda reads those as installers, not packages, and fails",
                       "move them to their own '- package' lines")
            continue
        if isinstance(item, dict):
            yield _mapping_entry(text, item, line, column)
        else:
            yield _not_a_spec(text, item, line, column, "dependencies", conda_expects)


@rule(
    "R2D209",
    "malformed-dependencies",
    Severity.ERROR,
    "dependencies: (or its pip: list) is not a list of package specs",
    "conda reads 'dependencies:' as a list of strings (match specs such as 'numpy=1.26'), "
    "plus at most one '- pip:' mapping whose value is a list of pip requirements. A "
    "string ('dependencies: numpy pandas'), a mapping ('- numpy: 1.26', the "
    "requirements-in-YAML habit) or a number fails the build at 'mamba env update', after "
    "repo2docker has already rendered with its default Python (it skips what is not a "
    "string when it looks for the Python pin).",
    "environment.yml",
)
def malformed_dependencies(context: CheckContext) -> Iterator[Finding]:
    parsed = _parsed(context)
    if parsed is None or not isinstance(parsed.data, dict):
        return
    for line, column, message, fix in _malformed(parsed.text, parsed.data):
        yield malformed_dependencies.finding(parsed.path, line, column, message, fix=fix)
