"""Precedence and detection: files repo2docker silently ignores, and repos it refuses.

Which files count is repo2docker's own decision (see :mod:`r2d_tui.core.detection`, which
asks repo2docker by rendering with and without each file); these rules turn its answer
into findings at the ignored file, with what repo2docker will do instead.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import PurePosixPath

from r2d_tui.core.checks import CheckContext, rule
from r2d_tui.core.findings import Finding, Severity

PACKAGE_FILES = frozenset({"setup.py", "pyproject.toml"})
CONTEXT_FILES = frozenset({".dockerignore", ".containerignore"})


def _name(path: str) -> str:
    return PurePosixPath(path).name


def _folder(path: str) -> str:
    parent = str(PurePosixPath(path).parent)
    return "" if parent == "." else parent


@rule(
    "R2D101",
    "binder-dir-shadows-root",
    Severity.WARNING,
    "a binder/ or .binder/ folder exists, so configuration files in the root are ignored",
    "When a repository has a binder/ (or .binder/) folder, repo2docker reads every "
    "configuration file only from that folder. Files such as environment.yml, "
    "requirements.txt, apt.txt or postBuild in the repository root are then silently "
    "ignored, and so is a root .dockerignore. Move the file into the binder folder, or "
    "delete whichever copy is stale.",
    "precedence",
)
def binder_dir_shadows_root(context: CheckContext) -> Iterator[Finding]:
    detection = context.detection
    folder = detection.config_dir
    if not folder or detection.error:
        return
    for item in detection.ignored:
        if _folder(item.path) != "" or _name(item.path) in PACKAGE_FILES:
            continue
        yield binder_dir_shadows_root.finding(
            item.path,
            1,
            1,
            f"{folder}/ exists, so repo2docker ignores {item.path} in the repository root "
            f"(it reads configuration only from {folder}/)",
            fix=f"move it to {folder}/{_name(item.path)} or delete the stale copy",
        )


@rule(
    "R2D102",
    "both-binder-dirs",
    Severity.ERROR,
    "binder/ and .binder/ both exist: repo2docker refuses to build",
    "repo2docker raises an error when a repository has both a binder/ and a .binder/ "
    "folder, because it cannot tell which one holds the configuration. Keep one of them.",
    "precedence",
)
def both_binder_dirs(context: CheckContext) -> Iterator[Finding]:
    root = context.workspace.root
    if (root / "binder").is_dir() and (root / ".binder").is_dir():
        yield both_binder_dirs.finding(
            ".binder",
            1,
            1,
            "binder/ and .binder/ both exist: repo2docker refuses to build this repository",
            fix="merge them into one folder",
        )


@rule(
    "R2D103",
    "dockerfile-overrides-config",
    Severity.WARNING,
    "a Dockerfile selects the docker buildpack; the other configuration files are ignored",
    "When repo2docker finds a Dockerfile (in the binder folder, or the root when there is "
    "none) it builds that Dockerfile as-is. environment.yml, requirements.txt, apt.txt, "
    "postBuild, start and every other configuration file are then not used unless the "
    "Dockerfile itself copies and installs them. Either install them in the Dockerfile, "
    "or remove the Dockerfile to let repo2docker generate one from them.",
    "precedence",
)
def dockerfile_overrides_config(context: CheckContext) -> Iterator[Finding]:
    detection = context.detection
    if detection.buildpack != "docker" or not detection.deciding_files:
        return
    dockerfile = detection.deciding_files[0]
    text = context.text(dockerfile) or ""
    for item in detection.ignored:
        if _folder(item.path) != detection.config_dir or _name(item.path) in CONTEXT_FILES:
            continue
        if re.search(rf"(?<![\w.-]){re.escape(_name(item.path))}(?![\w.-])", text):
            continue  # the Dockerfile uses it itself
        yield dockerfile_overrides_config.finding(
            item.path,
            1,
            1,
            f"{dockerfile} is built as-is, so repo2docker ignores {item.path} "
            "(the Dockerfile does not mention it)",
            fix=f"install it from {dockerfile}, or remove the Dockerfile",
        )


def _instructions(text: str) -> Iterator[tuple[int, str]]:
    """(line, instruction keyword) for each Dockerfile instruction."""
    continued = False
    # Docker's parser reads lines at \n (not at \f, \x85 or U+2028, as str.splitlines)
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not continued and stripped and not stripped.startswith("#"):
            yield number, stripped.split(None, 1)[0].upper()
        if stripped.startswith("#") and continued:
            continue
        continued = stripped.endswith("\\")


@rule(
    "R2D104",
    "empty-dockerfile",
    Severity.ERROR,
    "the Dockerfile is empty, has no FROM, or a FROM without an image",
    "repo2docker builds a repository's Dockerfile as-is. An empty Dockerfile, one "
    "without a FROM instruction, or a FROM that names no image fails at once ('the "
    "Dockerfile cannot be empty', 'no build stage in current context' or 'FROM requires "
    "either one or three arguments').",
    "precedence",
)
def empty_dockerfile(context: CheckContext) -> Iterator[Finding]:
    detection = context.detection
    if detection.buildpack != "docker" or not detection.deciding_files:
        return
    path = detection.deciding_files[0]
    text = context.text(path)
    if text is None:
        return
    instructions = list(_instructions(text))
    if not instructions:
        yield empty_dockerfile.finding(
            path, 1, 1, f"{path} is empty: the build fails at once",
            fix="write a Dockerfile starting with FROM, or delete it to let repo2docker "
            "generate one",
        )
    elif not any(keyword == "FROM" for _, keyword in instructions):
        yield empty_dockerfile.finding(
            path, instructions[0][0], 1, f"{path} has no FROM instruction: the build fails",
            fix="start the Dockerfile with FROM <image>",
        )
    else:
        from r2d_tui.core.buildtime import dockerfile_instructions

        for keyword, argument, line in dockerfile_instructions(text):
            if keyword.split()[0] != "FROM":
                continue
            # BuildKit's rule: flags (--platform=…) aside, "image" or "image AS name"
            words = [w for w in argument.replace("\\", " ").split() if not w.startswith("--")]
            if len(words) == 1 or (len(words) == 3 and words[1].upper() == "AS"):
                continue
            yield empty_dockerfile.finding(
                path, line, 1,
                ("FROM without an image" if not words else
                 f"FROM {' '.join(words)[:60]} is not an image (or 'image AS name')")
                + ": the build fails ('FROM requires either one or three arguments')",
                fix="name the base image: FROM <image>[:tag] [AS <name>]",
            )


@rule(
    "R2D105",
    "ignored-config-file",
    Severity.WARNING,
    "a configuration file is present but the chosen buildpack does not use it",
    "repo2docker picks one buildpack and reads only the files that buildpack knows. For "
    "example with environment.yml it does not install requirements.txt, does not read "
    "runtime.txt, and ignores a Pipfile; with a Pipfile it ignores requirements.txt. The "
    "ignored file is not an error to repo2docker, so the build succeeds without what it "
    "lists. Move its content into the file that is used, or delete it.",
    "precedence",
)
def ignored_config_file(context: CheckContext) -> Iterator[Finding]:
    detection = context.detection
    if detection.error or detection.buildpack == "docker":
        return
    for item in detection.ignored:
        name = _name(item.path)
        if _folder(item.path) != detection.config_dir:
            continue  # binder-dir-shadows-root
        if name in PACKAGE_FILES or name == "install.R" or name in CONTEXT_FILES:
            continue  # local-package-not-installed / install-r-ignored
        if name == "runtime.txt" and detection.buildpack == "python":
            # The Python buildpack does read runtime.txt; when the render does not depend
            # on it, its content was not understood (r- without a date, a comment line,
            # 'Python-3.12', 'python-3'): the runtime.txt rules say why.
            continue
        if _script_mentions(context, name):
            continue  # postBuild installs it itself (pip install -r requirements.txt)
        yield ignored_config_file.finding(
            item.path, 1, 1, f"{item.path} is ignored: {item.reason}",
            fix="move its content into the file that is used, or delete it",
        )


@rule(
    "R2D106",
    "install-r-ignored",
    Severity.WARNING,
    "install.R is present but the chosen buildpack will not run it",
    "repo2docker runs install.R only with its R buildpack, which it selects when "
    "runtime.txt says r-<version>-<YYYY-MM-DD> (for example r-4.4-2025-01-15), or when the "
    "root has an R DESCRIPTION file and there is no binder folder. 'r-4.3' without a date "
    "does not select R. With any other buildpack install.R is silently skipped and the "
    "packages it installs are missing at run time.",
    "precedence",
)
def install_r_ignored(context: CheckContext) -> Iterator[Finding]:
    detection = context.detection
    path = context.present("install.R")
    if path is None or detection.buildpack in (None, "r"):
        return
    if _script_mentions(context, "install.R"):
        return  # postBuild runs it itself (Rscript install.R)
    if detection.buildpack == "docker" and detection.deciding_files:
        dockerfile = context.text(detection.deciding_files[0]) or ""
        if re.search(r"(?<![\w.-])install\.R(?![\w.-])", dockerfile):
            return  # the Dockerfile copies and runs it itself
    runtime = context.present("runtime.txt")
    runtime_text = (context.text(runtime) or "").strip() if runtime else ""
    hint = ""
    if re.fullmatch(r"r-[\d.]+", runtime_text):
        hint = f" (runtime.txt says {runtime_text!r} without a snapshot date)"
    yield install_r_ignored.finding(
        path,
        1,
        1,
        f"install.R will not run: the {detection.buildpack} buildpack is used, and only the "
        f"R buildpack runs install.R{hint}",
        fix="put r-<version>-<YYYY-MM-DD> (e.g. r-4.4-2025-01-15) in runtime.txt",
    )


def _script_mentions(context: CheckContext, name: str) -> bool:
    """Does a postBuild that repo2docker runs name ``name`` outside comments?"""
    from r2d_tui.core.checks.migration import strip_shell_comment

    path = context.present("postBuild")
    if path is None or not context.used(path) or context.detection.buildpack == "docker":
        return False
    text = context.text(path) or ""
    code = "\n".join(strip_shell_comment(line) for line in text.splitlines())
    return re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])", code) is not None


def _is_package(context: CheckContext) -> str | None:
    """The root file that makes the repository a Python package, if any."""
    root = context.workspace
    if "setup.py" in root.env_files():
        return "setup.py"
    if "pyproject.toml" in root.env_files():
        try:
            data = tomllib.loads(root.text("pyproject.toml") or "")
        except tomllib.TOMLDecodeError:
            return None
        if "build-system" in data:
            return "pyproject.toml"
    return None


#: A requirement line installing the repository: '.', './', '.[extra]', '-e .', '--editable=.'.
#: (pip resolves paths against its working directory, the repository root, even for
#: binder/requirements.txt: there '..' is the folder above the repository.)
LOCAL_INSTALL = re.compile(
    r"(?:^|\s)(?:-e\s+|--editable[=\s]\s*)?[\"']?\./?(?:\[[^\]]*\])?[\"']?(?:\s|$)", re.M
)
#: The same in environment.yml, where conda runs pip in the file's folder ('..' from binder/).
ENV_LOCAL_INSTALL = re.compile(
    r"(?:^|\s)(?:-e\s+|--editable[=\s]\s*)?[\"']?\.{1,2}/?(?:\[[^\]]*\])?[\"']?(?:\s|$)",
    re.M,
)
_LOCAL_TARGET = r"(?:\.{1,2}/?|\$\{?REPO_DIR\}?/?|\$\{?HOME\}?/?|~/?)(?:\[[^\]]*\])?"
PIP_INSTALL_LOCAL = re.compile(
    r"(?:pip3?|python3?\s+-m\s+pip|\$\{?\w+\}?/bin/pip3?)\s+install\b[^\n]*?\s"
    r"(?:-e\s*|--editable[=\s]\s*)?[\"']?" + _LOCAL_TARGET + r"[\"']?(?:\s|$|;|&|\))"
    r"|setup\.py\s+(?:install|develop)",
)


@rule(
    "R2D107",
    "local-package-not-installed",
    Severity.WARNING,
    "the repository is a Python package but the chosen buildpack will not install it",
    "repo2docker installs the repository itself (pip install .) only with its Python "
    "buildpack, only when there is no binder folder, and only for setup.py or a "
    "pyproject.toml with [project] and [build-system]. With environment.yml, a Pipfile, or "
    "a binder folder, the package is not installed unless you ask for it: add '-e .' to "
    "requirements.txt (pip runs in the repository root, also for binder/requirements.txt), "
    "or under pip: in environment.yml ('-e ..' from binder/environment.yml, whose pip runs "
    "in binder/), or run pip install -e . in postBuild.",
    "precedence",
)
def local_package_not_installed(context: CheckContext) -> Iterator[Finding]:
    detection = context.detection
    if detection.buildpack in (None, "docker"):
        return
    package = _is_package(context)
    if package is None:
        return
    dockerfile = detection.render.dockerfile if detection.render else None
    if dockerfile and PIP_INSTALL_LOCAL.search(dockerfile):
        return
    for name in ("requirements.txt", "environment.yml", "environment.yaml", "Pipfile",
                 "postBuild"):
        path = context.present(name)
        if path is None or not context.used(path):
            continue
        text = context.text(path) or ""
        code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
        if name == "postBuild" and PIP_INSTALL_LOCAL.search(code):
            return
        if name == "Pipfile" and re.search(r"path\s*=\s*[\"']\.{1,2}/?[\"']", code):
            return
        if name == "requirements.txt" and LOCAL_INSTALL.search(code):
            return
        if name in ("environment.yml", "environment.yaml") and (
            ENV_LOCAL_INSTALL.search(code.replace("- ", " "))
        ):
            return
    where = (
        f"{detection.config_dir}/ exists, so repo2docker does not treat the root as a package"
        if detection.config_dir
        else f"the {detection.buildpack} buildpack does not install it"
    )
    yield local_package_not_installed.finding(
        package,
        1,
        1,
        f"{package} makes this repository a Python package, but it will not be installed: "
        f"{where}",
        fix="add '-e .' under pip: in environment.yml (or to requirements.txt), or "
        "'pip install -e .' in postBuild",
    )


@rule(
    "R2D108",
    "julia-require-unsupported",
    Severity.ERROR,
    "a Julia REQUIRE file selects a buildpack repo2docker can no longer build",
    "REQUIRE is the Julia package format from before Julia 1.0. repo2docker still detects "
    "it (and it takes precedence over R and conda files), but refuses to build it: 'Julia "
    "REQUIRE no longer supported'. Replace it with a Project.toml (and Manifest.toml).",
    "precedence",
)
def julia_require_unsupported(context: CheckContext) -> Iterator[Finding]:
    detection = context.detection
    if detection.buildpack != "julia-require" or not detection.deciding_files:
        return
    yield julia_require_unsupported.finding(
        detection.deciding_files[0], 1, 1,
        "repo2docker no longer builds Julia REQUIRE files: the build fails",
        fix="replace REQUIRE with a Project.toml listing the same packages",
    )


@rule(
    "R2D109",
    "config-link-broken",
    Severity.WARNING,
    "a configuration file is a symbolic link that cannot be followed",
    "The file is a symbolic link whose target is missing, or a loop (a link to itself, or "
    "links pointing at each other). repo2docker treats such a file as absent: it is not "
    "read and does not choose the buildpack, without a word. A checkout on another "
    "machine (or a link made on Windows) often leaves links like this. Point the link at "
    "an existing file, or replace it with the file itself.",
    "precedence",
)
def config_link_broken(context: CheckContext) -> Iterator[Finding]:
    import errno
    import os

    from r2d_tui.core.envfiles import BINDER_DIRS, ENV_FILE_NAMES

    root = context.workspace.root
    for folder in ("", *BINDER_DIRS):
        for name in sorted(ENV_FILE_NAMES):
            rel = f"{folder}/{name}" if folder else name
            path = root / rel
            if not os.path.islink(path) or context.workspace.is_dirty(rel):
                continue
            try:
                os.stat(path)
            except OSError as error:
                why = "a loop" if error.errno == errno.ELOOP else "its target is missing"
                yield config_link_broken.finding(
                    rel, 1, 1,
                    f"{rel} is a symbolic link that cannot be followed ({why}): repo2docker "
                    "treats it as absent and ignores it",
                    fix=f"point {rel} at an existing file, or replace the link with the file",
                )
