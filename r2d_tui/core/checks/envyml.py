"""environment.yml: parse errors, shapes repo2docker rejects, and pins that break the solve.

The file is parsed with ruamel.yaml's round-trip loader (the same library repo2docker
uses), which keeps the line and column of every node, so findings point at the exact
dependency. Only the environment file the chosen buildpack reads is checked for content.
"""

from __future__ import annotations

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

#: A conda match spec whose package is Python itself (python, python3.12, "python >=3.9").
PYTHON_SPEC = re.compile(r"^\s*python(?:\d+(?:\.\d+)*)?(?![\w-])")

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
PIP_PORTABLE = frozenset({"appnope", "pywin32-ctypes", "pyreadline3", "win-inet-pton"})


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


def _position(seq: Any, index: int) -> tuple[int, int]:
    try:
        line, column = seq.lc.item(index)
        return int(line) + 1, int(column) + 1
    except (AttributeError, KeyError, TypeError):
        return 1, 1


def parse(context: CheckContext, path: str) -> EnvFile | tuple[int, int, str] | None:
    """Parse ``path``: an :class:`EnvFile`, or ``(line, column, problem)`` on a YAML error,
    or ``None`` when the file cannot be read as text or is too large."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    source = context.source(path)
    if source is None or source.text is None or len(source.raw) > MAX_PARSE_BYTES:
        return None
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = True
    try:
        data = yaml.load(source.text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = int(mark.line) + 1 if mark else 1
        column = int(mark.column) + 1 if mark else 1
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
            dependencies_line = int(mapping.lc.key("dependencies")[0]) + 1
        except (AttributeError, KeyError, TypeError):
            dependencies_line = None
    if isinstance(deps, list):
        for index, item in enumerate(deps):
            line, column = _position(deps, index)
            if isinstance(item, str):
                dependencies.append(Dependency(item, line, column))
            elif isinstance(item, dict) and "pip" in item:
                pip_at = (line, column)
                pips = item.get("pip")
                if isinstance(pips, list):
                    for pip_index, pip_item in enumerate(pips):
                        if isinstance(pip_item, str):
                            pline, pcol = _position(pips, pip_index)
                            dependencies.append(Dependency(pip_item, pline, pcol, pip=True))
    return EnvFile(path, data, tuple(dependencies), pip_at, dependencies_line)


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
    yield environment_yml_not_mapping.finding(
        path, 1, 1,
        f"{path} is a {kind}, not a mapping: repo2docker fails ('should contain a dictionary')",
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
    if data is None or (isinstance(data, dict) and not data.get("dependencies")):
        what = "empty" if data is None else "without dependencies"
        yield empty_environment_yml.finding(
            path, 1, 1,
            f"{path} is {what}: the image gets repo2docker's default Python "
            f"{context.default_python()} and no packages",
            fix="list the packages under 'dependencies:'",
        )


def _python_specs(parsed: EnvFile) -> list[Dependency]:
    return [d for d in parsed.dependencies if not d.pip and PYTHON_SPEC.match(d.spec)]


@rule(
    "R2D204",
    "python-version-unrecognized",
    Severity.WARNING,
    "a Python constraint repo2docker does not read",
    "repo2docker reads the Python version from environment.yml only in the form "
    "python=X.Y (or python==X.Y). Ranges (python>=3.10, python<3.13, python~=3.11), a space "
    "(python 3.11) or python3.12 are not understood: repo2docker builds its default Python "
    "environment and conda then has to re-solve it against your constraint, which is slow "
    "and can fail or pick an unexpected version. Pin python=X.Y.",
    "environment.yml",
)
def python_version_unrecognized(context: CheckContext) -> Iterator[Finding]:
    parsed = _parsed(context)
    if parsed is None:
        return
    used = context.python_version() or context.default_python()
    for dependency in _python_specs(parsed):
        spec = dependency.spec.strip()
        match = REPO2DOCKER_PYTHON.match(spec)
        if match and match.group(1):
            return  # repo2docker reads this one (it stops at the first match)
        if re.fullmatch(r"python", spec):
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
    "repo2docker upgrade can then get a different Python and break your environment.",
    "python",
)
def python_version_unpinned(context: CheckContext) -> Iterator[Finding]:
    detection = context.detection
    result = detection.render
    if detection.buildpack not in ("conda", "python", "pipfile") or result is None:
        return
    if not any("Python version unspecified" in note for note in result.notes):
        return
    used = context.python_version() or context.default_python()
    if detection.buildpack == "conda":
        parsed = _parsed(context)
        if parsed is None:
            return
        specs = _python_specs(parsed)
        if any(d.spec.strip() != "python" for d in specs):
            return  # an unrecognised constraint: python-version-unrecognized
        line = specs[0].line if specs else (parsed.dependencies_line or 1)
        yield python_version_unpinned.finding(
            parsed.path, line, 1,
            f"no Python version pinned: repo2docker uses its current default, Python {used}, "
            "which will change in a future release",
            fix=f"add python={used} to the dependencies",
        )
        return
    if detection.buildpack == "python" and context.present("runtime.txt"):
        return  # runtime.txt rules explain it
    path = detection.deciding_files[0] if detection.deciding_files else None
    if path is None:
        return
    hint = "runtime.txt (python-X.Y)" if detection.buildpack == "python" else (
        "[requires] python_version in the Pipfile"
    )
    yield python_version_unpinned.finding(
        path, 1, 1,
        f"no Python version pinned: repo2docker uses its current default, Python {used}, "
        "which will change in a future release",
        fix=f"pin it with {hint}",
    )


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
        if match:
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
        if dependency.pip and name in PIP_PORTABLE:
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
    "When pip itself is not listed in the dependencies, conda warns and the pip packages "
    "may be installed with a different pip, or not at all. Add '- pip' to the "
    "dependencies.",
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
