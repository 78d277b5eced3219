"""Which config folder counts, which buildpack repo2docker picks, and which files it ignores.

The buildpack and the deciding files come from repo2docker's own ``detect()``. Whether a
present environment file is *used* is decided empirically, not from a table we would have
to keep in step with repo2docker: the workspace is rendered once more without that file,
and if neither the chosen buildpack nor the Dockerfile changes, repo2docker did not read
it. The table below only supplies the human reason for the files that turn out ignored.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from r2d_tui.core import lazy
from r2d_tui.core import render as render_mod
from r2d_tui.core.envfiles import BINDER_DIRS
from r2d_tui.core.render import RENDER_LOCK, RenderOptions, RenderResult
from r2d_tui.core.workspace import Workspace

#: Files used by the build itself rather than read while rendering.
CONTEXT_FILES = frozenset({".dockerignore", ".containerignore"})


@dataclass(frozen=True)
class IgnoredFile:
    """A present environment file that repo2docker will not use, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class Detection:
    """What repo2docker will do with this repository."""

    config_dir: str
    """``""`` for the repository root, or ``binder`` / ``.binder``."""
    buildpack: str | None
    """``docker``, ``julia``, ``julia-require``, ``nix``, ``r``, ``conda``, ``pipfile`` or
    ``python``; ``None`` when repo2docker refuses the repository (see ``error``)."""
    buildpack_class: str | None
    deciding_files: tuple[str, ...]
    """The file(s) that made repo2docker pick this buildpack (empty: the default)."""
    used_files: tuple[str, ...]
    ignored: tuple[IgnoredFile, ...]
    error: str | None = None
    render: RenderResult | None = field(default=None, compare=False, repr=False)
    default_python: str = "3.10"
    """repo2docker's current default Python (``CondaBuildPack.major_pythons['3']``)."""

    def reason_ignored(self, path: str) -> str | None:
        for item in self.ignored:
            if item.path == path:
                return item.reason
        return None

    def to_json(self) -> dict[str, object]:
        return {
            "config_dir": self.config_dir or ".",
            "buildpack": self.buildpack,
            "buildpack_class": self.buildpack_class,
            "deciding_files": list(self.deciding_files),
            "used_files": list(self.used_files),
            "ignored_files": [{"path": i.path, "reason": i.reason} for i in self.ignored],
            "error": self.problem,
        }

    @property
    def problem(self) -> str | None:
        """Why repo2docker cannot build this repository: it refuses the layout (``error``),
        or it picks a buildpack but then fails to render (broken files)."""
        if self.error:
            return self.error
        if self.render is not None and self.render.problem is not None:
            return self.render.problem.located()
        return None


def config_dir_of(workspace: Workspace) -> tuple[str, str | None]:
    """The config folder repo2docker reads, and an error when both binder folders exist."""
    present = [name for name in BINDER_DIRS if (workspace.root / name).is_dir()]
    if len(present) == 2:
        return "binder", (
            "both binder/ and .binder/ exist; repo2docker refuses to build "
            "(keep only one of them)"
        )
    return (present[0] if present else ""), None


def _name(path: str) -> str:
    return PurePosixPath(path).name


def _folder(path: str) -> str:
    parent = str(PurePosixPath(path).parent)
    return "" if parent == "." else parent


_REASONS: dict[tuple[str, str], str] = {
    ("conda", "requirements.txt"): (
        "environment.yml takes precedence: the conda buildpack does not install "
        "requirements.txt (list these packages under pip: in environment.yml)"
    ),
    ("conda", "runtime.txt"): (
        "the conda buildpack takes the Python version from environment.yml (python=X.Y), "
        "not from runtime.txt"
    ),
    ("conda", "Pipfile"): "environment.yml takes precedence over Pipfile",
    ("conda", "Pipfile.lock"): "environment.yml takes precedence over Pipfile.lock",
    ("pipfile", "requirements.txt"): "Pipfile takes precedence: requirements.txt is not installed",
    ("pipfile", "Pipfile"): "Pipfile.lock takes precedence: the Pipfile is not read",
    ("pipfile", "setup.py"): "the Pipfile buildpack installs only what the Pipfile lists",
    ("pipfile", "pyproject.toml"): "the Pipfile buildpack installs only what the Pipfile lists",
    ("conda", "setup.py"): "the conda buildpack does not install the local package",
    ("conda", "pyproject.toml"): "the conda buildpack does not install the local package",
}


def _reason(
    buildpack: str, path: str, deciding: tuple[str, ...], workspace: Workspace | None = None
) -> str:
    name = _name(path)
    if buildpack == "docker":
        decider = deciding[0] if deciding else "Dockerfile"
        return f"{decider} is used as-is: repo2docker reads no other environment file"
    if name == "install.R":
        return (
            "install.R is run only by the R buildpack, which needs runtime.txt "
            "r-<version>-<YYYY-MM-DD> (or a root DESCRIPTION)"
        )
    if name == "runtime.txt" and buildpack != "r":
        text = (workspace.text(path) or "").strip() if workspace else ""
        if re.fullmatch(r"r-[\d.]+", text):
            return (
                f"runtime.txt says {text!r} without a snapshot date, and R is selected only "
                "by r-<version>-<YYYY-MM-DD>; it is not read"
            )
        if text.startswith("r-") and deciding:
            return (
                f"{deciding[0]} takes precedence: the {buildpack} buildpack does not read "
                f"runtime.txt, so R ({text}) is not installed"
            )
    if name == "Manifest.toml":
        return "Manifest.toml is used only with a Julia Project.toml"
    if name in {"requirements.txt", "requirements3.txt"} and buildpack in {"r", "julia", "nix"}:
        return f"the {buildpack} buildpack does not install {name} here"
    reason = _REASONS.get((buildpack, name))
    if reason:
        return reason
    if name in {"environment.yml", "environment.yaml"} and deciding:
        return f"{deciding[0]} takes precedence: the {buildpack} buildpack does not read {name}"
    return f"the {buildpack} buildpack does not read {name}"


def detect(workspace: Workspace, options: RenderOptions | None = None) -> Detection:
    """Detect the buildpack and classify every present environment file.

    Results for the files on disk are cached (:mod:`r2d_tui.core.detect_cache`), keyed by
    everything repo2docker reads, so a repeated ``r2d-tui check`` need not import
    repo2docker at all.
    """
    from r2d_tui.core import detect_cache

    cacheable = not workspace.dirty_paths()
    key = detect_cache.key_for(workspace, options) if cacheable else None
    if key is not None:
        cached = detect_cache.load(key)
        if cached is not None:
            return cached
    detection = _detect(workspace, options)
    if key is not None:
        detect_cache.store(key, detection)
    return detection


def render_cached(workspace: Workspace, options: RenderOptions | None = None) -> RenderResult:
    """:func:`~r2d_tui.core.render.render`, answered from the detection cache when the
    workspace has no unsaved edits and its files on disk were detected before.

    The TUI's first preview then needs no repo2docker import (0.3–0.5 s of its start-up);
    the answer is the render the cached detection made, byte for byte.
    """
    return cached_render(workspace, options) or render_mod.render(workspace, options)


def cached_render(workspace: Workspace, options: RenderOptions | None = None
                  ) -> RenderResult | None:
    """The cached render of ``workspace`` (see :func:`render_cached`), or ``None``."""
    from r2d_tui.core import detect_cache

    if workspace.dirty_paths():
        return None
    key = detect_cache.key_for(workspace, options)
    cached = detect_cache.load(key) if key is not None else None
    return cached.render if cached is not None else None


def _default_python() -> str:
    lazy.load("repo2docker.buildpacks")  # first import: one thread at a time
    from repo2docker.buildpacks.conda import CondaBuildPack

    return str(CondaBuildPack.major_pythons["3"])


def _detect(workspace: Workspace, options: RenderOptions | None) -> Detection:
    config_dir, error = config_dir_of(workspace)
    files = workspace.env_files()
    result = render_mod.render(workspace, options)
    if error is not None or result.buildpack is None:
        message = error or (result.problem.message if result.problem else "detection failed")
        return Detection(config_dir, None, None, (), (), (
            *(IgnoredFile(f, f"repo2docker stops before reading it: {message}") for f in files),
        ), error=message, render=result, default_python=_default_python())

    buildpack = result.buildpack
    in_config = [f for f in files if _folder(f) == config_dir]
    outside = [f for f in files if _folder(f) != config_dir]
    ignored: list[IgnoredFile] = []
    used: list[str] = []
    deciding = _deciding_files(workspace, result, config_dir, in_config)

    for path in outside:
        name = _name(path)
        if config_dir and _folder(path) == "":
            if buildpack == "docker" and name == ".dockerignore":
                used.append(path)  # buildx reads it from the context root (the repository)
                continue
            if name in {"setup.py", "pyproject.toml"}:
                reason = (
                    f"{config_dir}/ exists, so repo2docker does not treat the repository "
                    "as a Python package"
                )
            else:
                reason = (
                    f"{config_dir}/ exists, so repo2docker reads configuration only from "
                    f"{config_dir}/ and ignores {name} in the root"
                )
        else:
            reason = (
                f"repo2docker reads configuration only from "
                f"{config_dir + '/' if config_dir else 'the repository root'}"
            )
        ignored.append(IgnoredFile(path, reason))

    for path in in_config:
        name = _name(path)
        if path in deciding:
            used.append(path)
            continue
        if name in CONTEXT_FILES:
            if buildpack == "docker" and config_dir:
                ignored.append(IgnoredFile(path, (
                    f"for a Dockerfile build the context is the repository root: buildx reads "
                    f".dockerignore there (or {config_dir}/Dockerfile.dockerignore), not {path}"
                )))
            else:
                used.append(path)
            continue
        if name == "Manifest.toml":
            if buildpack == "julia":
                used.append(path)
            else:
                ignored.append(IgnoredFile(path, _reason(buildpack, path, deciding, workspace)))
            continue
        if _affects_render(workspace, options, result, path):
            used.append(path)
        else:
            ignored.append(IgnoredFile(path, _reason(buildpack, path, deciding, workspace)))

    # A requirements file that the environment.yml's pip: section includes ('-r
    # requirements.txt') is read by pip, although the render does not change without it.
    for env_path in [p for p in used if _name(p) in ("environment.yml", "environment.yaml")]:
        referenced = _pip_references(workspace, env_path)
        for item in [i for i in ignored if i.path in referenced]:
            ignored.remove(item)
            used.append(item.path)

    return Detection(
        config_dir=config_dir,
        buildpack=buildpack,
        buildpack_class=result.buildpack_class,
        deciding_files=deciding,
        used_files=tuple(used),
        ignored=tuple(ignored),
        render=result,
        default_python=_default_python(),
    )


PIP_FILE_OPTION = re.compile(
    r"^\s*-\s*[\"']?(?:-r|-c|--requirement|--constraint)(?:\s*=\s*|\s+)"
    r"(?P<file>[^\s\"'#]+)", re.M
)


def _pip_references(workspace: Workspace, env_path: str) -> set[str]:
    """Files an environment.yml's pip: entries include with -r/-c (relative to its folder,
    where conda runs pip)."""
    text = workspace.text(env_path) or ""
    folder = PurePosixPath(_folder(env_path))
    found: set[str] = set()
    for match in PIP_FILE_OPTION.finditer(text):
        target = PurePosixPath(os.path.normpath(str(folder / match.group("file"))))
        found.add(str(target))
    return found


def _affects_render(
    workspace: Workspace, options: RenderOptions | None, baseline: RenderResult, path: str
) -> bool:
    """Does the render change (buildpack, text or outcome) when ``path`` is absent?"""
    if baseline.dockerfile is None:
        return True  # cannot compare; do not claim it is ignored
    without = render_mod.render_hidden(workspace, options, frozenset({path}))
    return (without.buildpack, without.dockerfile) != (baseline.buildpack, baseline.dockerfile)


def _deciding_files(
    workspace: Workspace, result: RenderResult, config_dir: str, in_config: list[str]
) -> tuple[str, ...]:
    prefix = f"{config_dir}/" if config_dir else ""
    present = set(in_config)

    def first(*names: str) -> tuple[str, ...]:
        for name in names:
            if prefix + name in present:
                return (prefix + name,)
        return ()

    buildpack = result.buildpack
    if buildpack == "docker":
        return first("Dockerfile")
    if buildpack == "julia":
        return first("JuliaProject.toml", "Project.toml")
    if buildpack == "julia-require":
        return first("REQUIRE")
    if buildpack == "nix":
        return first("default.nix")
    if buildpack == "r":
        runtime = first("runtime.txt")
        text = workspace.text(runtime[0]) if runtime else None
        if runtime and text is not None and text.strip().startswith("r-"):
            return runtime
        return first("DESCRIPTION")
    if buildpack == "conda":
        return first("environment.yml", "environment.yaml")
    if buildpack == "pipfile":
        return first("Pipfile.lock", "Pipfile")
    if buildpack == "python":
        runtime = first("runtime.txt")
        text = workspace.text(runtime[0]) if runtime else None
        if not (text is not None and text.strip().startswith("python-")):
            runtime = ()  # PythonBuildPack.detect() is False for r-… or broken runtimes
        found = runtime + first("requirements.txt")
        if not found and not config_dir:
            found = first("setup.py", "pyproject.toml")
        return found
    return ()


def relpath_display(path: str) -> str:
    return path.replace(os.sep, "/")


__all__ = ["Detection", "IgnoredFile", "RENDER_LOCK", "config_dir_of", "detect"]
