"""requirements.txt: lines pip cannot parse, and local references that defeat the cache.

repo2docker normally installs requirements.txt *before* copying the repository, so the
slow ``pip install`` layer is reused until requirements.txt itself changes. A local
reference (``-e .``, ``./pkg``, ``file://``, or even ``-r other.txt``) makes it install
*after* the copy instead, so every edit to any file in the repository reinstalls every
package. Which lines count as local is repo2docker's own
``repo2docker.utils.is_local_pip_requirement``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath

from r2d_tui.core import lazy
from r2d_tui.core.checks import UNIVERSAL_BREAKS, CheckContext, located_lines, rule
from r2d_tui.core.findings import Finding, Severity

GLOBAL_OPTIONS = frozenset({
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
    "--extra-index-url", "--no-index", "-f", "--find-links", "--pre", "--trusted-host",
    "--prefer-binary", "--only-binary", "--no-binary", "--require-hashes", "--use-feature",
    "--config-settings", "-Z", "--always-unzip",
})
#: Options pip accepts after a requirement on the same line.
PER_REQUIREMENT = frozenset({"--hash", "--config-settings", "--global-option",
                             "--install-option"})
URL_OR_PATH = re.compile(
    r"^(?:(?:git|hg|svn|bzr)\+\S+|https?://\S+|file:\S+|\.{1,2}(?:/\S*)?|/\S+|"
    r"[\w.-]+\.(?:whl|tar\.gz|zip|tar\.bz2))$"
)


def logical_lines(text: str) -> Iterator[tuple[int, int, str]]:
    """``(line, column, content)`` of each requirement line, comments removed and
    backslash continuations joined. The lines are pip's (``str.splitlines``), placed as
    findings count places (:func:`~r2d_tui.core.checks.located_lines`); line and column
    are those of the content's first character."""
    pending = ""
    first: tuple[int, int] | None = None  # where the pending content's first character is
    for number, offset, raw in located_lines(text):
        line = re.sub(r"(^|\s)#.*$", "", raw)
        continued = line.rstrip().endswith("\\")
        piece = line.rstrip()[:-1] if continued else line
        if first is None and piece.strip():
            first = (number, offset + len(piece) - len(piece.lstrip()) + 1)
        if continued:
            pending += piece + " "
            continue
        content = pending + line
        pending = ""
        if content.strip() and first is not None:
            yield first[0], first[1], content.strip()
        first = None
    if pending.strip() and first is not None:
        yield first[0], first[1], pending.strip()


def split_options(line: str) -> tuple[str, list[str]]:
    """``(requirement, options)`` as pip's ``break_args_options`` splits a line: the
    options start at the first word that begins with ``-``."""
    words = line.split()
    for index, word in enumerate(words):
        if word.startswith("-"):
            return " ".join(words[:index]).strip(), words[index:]
    return line.strip(), []


def _unknown_option(options: list[str]) -> str | None:
    for word in options:
        if not word.startswith("-"):
            continue
        option = word.split("=", 1)[0]
        if option not in GLOBAL_OPTIONS and option not in PER_REQUIREMENT:
            return option
    return None


def _looks_like_path(spec: str) -> bool:
    """pip treats a requirement with a '/' (or starting with '.') as a path."""
    if "://" in spec or re.match(r"^(?:[\w.-]+\s*@|(?:git|hg|svn|bzr)\+)", spec) or ";" in spec:
        return False
    return spec.startswith(".") or "/" in spec


PathCheck = Callable[[str], "str | None"]


def problem_with(line: str, check_path: PathCheck | None = None) -> str | None:
    """Why pip would reject ``line``, or ``None`` when it is fine.

    ``check_path(path)`` says why a local path (a requirement, an ``-e`` target, or an
    ``-r``/``-c`` file as ``"-r other.txt"``) is not there when pip looks for it;
    without it, paths are not checked.
    """
    from packaging.requirements import InvalidRequirement, Requirement

    words = line.split()
    if line.startswith("-"):
        option = re.split(r"[=\s]", line, maxsplit=1)[0]
        if option not in GLOBAL_OPTIONS:
            return f"unknown pip option {option!r}"
        if option in ("-e", "--editable"):
            target = re.split(r"[=\s]+", line, maxsplit=1)[1:] or [""]
            if not target[0]:
                return "-e needs a path or URL"
            return _path_problem(target[0].strip("\"'"), check_path)
        if option in ("-r", "--requirement", "-c", "--constraint") and check_path:
            target = re.split(r"[=\s]+", line, maxsplit=1)[1:] or [""]
            if not target[0]:
                return f"{option} needs a file name"
            if "://" not in target[0]:
                return check_path(f"{option} {target[0]}")
        return None
    if words and words[0] in ("pip", "pip3", "conda", "mamba", "python", "sudo", "apt-get") and (
        len(words) > 1 and re.match(r"^[\w-]+$", words[1])
    ):
        return f"{line!r} is a command, not a requirement: list only the package names"
    if re.match(r"^python\s*(?:[=<>!~;\[]|$)", line, re.I):
        return (
            f"{line!r} asks pip for Python itself, which pip cannot install (put python-X.Y "
            "in runtime.txt)"
        )
    spec, options = split_options(line)
    unknown = _unknown_option(options)
    if unknown:
        return f"unknown pip option {unknown!r}"
    if "${" in spec:
        return None
    if URL_OR_PATH.match(spec) or _looks_like_path(spec):
        return _path_problem(spec, check_path)
    try:
        Requirement(spec)
    except InvalidRequirement as error:
        single_equals = re.match(r"^[\w.\-\[\],]+\s*=\s*[\w.*]+$", spec)
        if single_equals and "==" not in spec:
            return f"{spec!r} uses a single '=': pip needs '==' for an exact version"
        detail = str(error).splitlines()[0]
        return f"pip cannot parse {spec!r}: {detail}"
    return None


def _path_problem(spec: str, check_path: PathCheck | None) -> str | None:
    if check_path is None or not _looks_like_path(spec) or spec.startswith("/"):
        return None
    return check_path(re.sub(r"\[[^\]]*\]$", "", spec))  # ./pkg[extra] → ./pkg


def _missing_path(context: CheckContext, path: str, target: str, after_copy: bool) -> str | None:
    """Why pip will not find ``target`` (named in requirements file ``path``), if it won't."""
    root = context.workspace.root
    option, _, name = target.partition(" ")
    if option in ("-r", "--requirement", "-c", "--constraint"):
        # nested requirement files are relative to the file that names them
        resolved = PurePosixPath(os.path.normpath(PurePosixPath(path).parent / name))
        if resolved.parts[:1] == ("..",) or not (root / resolved).is_file():
            return f"{option} {name}: {resolved} does not exist"
        return None
    if not after_copy:
        return (
            f"{target!r} is a path, but repo2docker installs {path} before copying the "
            f"repository, so it does not exist yet (write ./{target} to install after the "
            "copy)"
        )
    resolved = PurePosixPath(os.path.normpath(target))
    if resolved.parts[:1] == ("..",) or not (root / resolved).exists():
        return (
            f"{target!r} does not exist where pip looks for it: pip resolves paths against "
            "the repository root (its working directory), not the requirements file's folder"
        )
    return None


def _installs_after_copy(context: CheckContext) -> bool:
    """Does repo2docker install requirements after copying the repository regardless?

    ``PythonBuildPack._is_python_package``: no binder folder, and setup.py, or a
    pyproject.toml with both [project] and [build-system].
    """
    import tomllib

    if context.detection.config_dir or context.detection.buildpack != "python":
        return False
    files = context.env_files()
    if "setup.py" in files:
        return True
    if "pyproject.toml" not in files:
        return False
    try:
        data = tomllib.loads(context.text("pyproject.toml") or "")
    except tomllib.TOMLDecodeError:
        return False
    return "project" in data and "build-system" in data


def requirement_files(context: CheckContext) -> Iterator[str]:
    """The requirements files the chosen buildpack installs."""
    for name in ("requirements.txt", "requirements3.txt"):
        path = context.present(name)
        if path is not None and context.used(path):
            yield path


@rule(
    "R2D341",
    "invalid-requirement",
    Severity.ERROR,
    "a requirements.txt line pip cannot parse",
    "pip rejects the whole file when one line is not a valid requirement (PEP 508 name "
    "and version specifiers, a URL, a path, or a pip option), so the build fails at the "
    "pip step. Common mistakes: 'numpy=1.26' (pip needs '=='), a copied command such as "
    "'pip install numpy', or conda syntax.",
    "requirements.txt",
)
def invalid_requirement(context: CheckContext) -> Iterator[Finding]:
    for path in requirement_files(context):
        text = context.text(path)
        if text is None:
            continue
        # imported here, only when a requirements file is installed (importing repo2docker
        # costs a few hundred ms, and detection results are cached without it)
        is_local_pip_requirement = lazy.load("repo2docker.utils").is_local_pip_requirement

        # Before the repository is copied (no local reference anywhere in the file, and no
        # package install), no path exists yet: 'src/pkg' (without './') then fails.
        after_copy = _installs_after_copy(context) or any(
            is_local_pip_requirement(raw)
            for _number, _offset, raw in located_lines(text, UNIVERSAL_BREAKS)
        )

        def check_path(
            target: str, path: str = path, after_copy: bool = after_copy
        ) -> str | None:
            return _missing_path(context, path, target, after_copy)

        for line, column, content in logical_lines(text.lstrip("\ufeff")):
            problem = problem_with(content, check_path)
            if problem:
                fix = None
                if "single '='" in problem:
                    fix = "use == (" + re.sub(r"\s*=\s*", "==", content, count=1) + ")"
                yield invalid_requirement.finding(
                    path, line, column, f"{problem}: the pip install fails", fix=fix
                )


@rule(
    "R2D342",
    "local-reference-defeats-cache",
    Severity.WARNING,
    "a local reference moves the pip install after the repository copy",
    "repo2docker installs requirements.txt before copying the repository, so the install "
    "is cached until requirements.txt changes. A line that refers to local files ('-e .', "
    "'./pkg', 'file://…', '-r other.txt', '-c constraints.txt') forces the install to run "
    "after the whole repository is copied: every edit to any file, even a notebook, "
    "reinstalls every package. Keep requirements.txt to package names and install the "
    "local package in postBuild ('pip install -e .'); inline other requirement files. In a "
    "repository that is a Python package (root setup.py, or pyproject.toml with [project] "
    "and [build-system], and no binder folder) repo2docker installs requirements.txt after "
    "the copy anyway: to cache the dependencies, list them in binder/requirements.txt and "
    "run 'pip install -e .' in binder/postBuild (a binder folder also stops the automatic "
    "install of the package and hides the root configuration files).",
    "requirements.txt",
)
def local_reference_defeats_cache(context: CheckContext) -> Iterator[Finding]:
    if context.detection.buildpack not in ("python", "r", "julia"):
        return
    # a package repo installs after the copy anyway: the reference changes nothing, but the
    # cache is still defeated, and the way out differs
    package = _installs_after_copy(context)
    for path in requirement_files(context):
        is_local_pip_requirement = lazy.load("repo2docker.utils").is_local_pip_requirement

        text = context.text(path)
        if text is None:
            continue
        # the lines repo2docker tests (``for line in f``: universal newlines), placed at
        # the \n-separated line they are on
        for number, offset, raw in located_lines(text, UNIVERSAL_BREAKS):
            if is_local_pip_requirement(raw):
                reference = raw.split("#", 1)[0].strip()
                column = offset + raw.find(reference) + 1
                if package:
                    yield _package_finding(context, path, number, column, reference)
                    continue
                yield local_reference_defeats_cache.finding(
                    path, number, column,
                    f"{reference!r} refers to local files, so repo2docker installs "
                    f"{path} after copying the repository: every edit reinstalls all packages",
                    fix="install local packages in postBuild; inline -r/-c files",
                )


def _package_finding(
    context: CheckContext, path: str, line: int, column: int, reference: str
) -> Finding:
    marker = "setup.py" if "setup.py" in context.env_files() else "pyproject.toml"
    return local_reference_defeats_cache.finding(
        path, line, column,
        f"{reference!r}: the install of {path} already runs after the repository copy, "
        f"because {marker} makes the repository a Python package: every edit of any file "
        "reinstalls all requirements",
        fix="to cache them, move the pinned dependencies to binder/requirements.txt (without "
        "local lines: repo2docker installs it before the copy) and install the package with "
        "'pip install -e .' in binder/postBuild, since with a binder/ folder repo2docker "
        "neither installs the package itself nor reads the root configuration files "
        "(keeping '-e .' in binder/requirements.txt would move that install after the copy "
        "again)",
    )
