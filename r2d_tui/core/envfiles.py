"""The repo2docker environment files (REES) and where repo2docker looks for them.

One table, used by detection (what is present and what is ignored), by the file tree
(what to show), by the watcher (which paths affect the image) and by the editor (which
syntax to highlight).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: Config folders, in the order repo2docker prefers them over the repository root.
BINDER_DIRS: tuple[str, ...] = ("binder", ".binder")


@dataclass(frozen=True)
class EnvFileKind:
    """One kind of environment file repo2docker reads."""

    name: str
    """File name as repo2docker looks it up (inside the config folder)."""
    language: str | None
    """Textual TextArea language for highlighting, when Textual ships one."""
    description: str
    """What repo2docker does with it, shown in the tree's tooltip and the help."""


ENV_FILE_KINDS: tuple[EnvFileKind, ...] = (
    EnvFileKind("Dockerfile", None, "Used as-is: every other file here is then ignored"),
    EnvFileKind("environment.yml", "yaml", "conda environment (mamba env update)"),
    EnvFileKind("environment.yaml", "yaml", "conda environment (mamba env update)"),
    EnvFileKind("requirements.txt", None, "pip requirements for the notebook environment"),
    EnvFileKind(
        "requirements3.txt", None, "pip requirements for the server env (Python 2 kernels)"
    ),
    EnvFileKind("runtime.txt", None, "Python or R version (python-3.12, r-4.4-2025-01-01)"),
    EnvFileKind("apt.txt", None, "Ubuntu packages installed with apt-get"),
    EnvFileKind("postBuild", "bash", "script run after the repository is copied in"),
    EnvFileKind("start", "bash", "script run at container start; must end with exec \"$@\""),
    EnvFileKind("install.R", None, "R script run to install packages"),
    EnvFileKind("DESCRIPTION", None, "R package description (installs the package)"),
    EnvFileKind("Project.toml", "toml", "Julia project"),
    EnvFileKind("JuliaProject.toml", "toml", "Julia project"),
    EnvFileKind("Manifest.toml", "toml", "Julia manifest (exact versions)"),
    EnvFileKind("REQUIRE", None, "Julia REQUIRE (removed: repo2docker refuses to build it)"),
    EnvFileKind("Pipfile", "toml", "pipenv project"),
    EnvFileKind("Pipfile.lock", "json", "pipenv lock file"),
    EnvFileKind("default.nix", None, "Nix expression"),
    EnvFileKind("setup.py", "python", "Python package (installed with pip install .)"),
    EnvFileKind("pyproject.toml", "toml", "Python package / requires-python"),
    EnvFileKind(".dockerignore", None, "paths left out of the build context"),
    EnvFileKind(".containerignore", None, "paths left out of the build context"),
)

KIND_BY_NAME: dict[str, EnvFileKind] = {kind.name: kind for kind in ENV_FILE_KINDS}
ENV_FILE_NAMES: frozenset[str] = frozenset(KIND_BY_NAME)

#: Files that are only ever read from the repository root, never from a binder folder.
ROOT_ONLY_NAMES: frozenset[str] = frozenset({"setup.py", "pyproject.toml"})


def language_for(path: str | Path) -> str | None:
    """The TextArea language for an environment file, or ``None`` for plain text."""
    kind = KIND_BY_NAME.get(Path(path).name)
    return kind.language if kind else None


def candidate_paths(root: Path) -> list[str]:
    """Relative paths of every environment file present at the root or in a binder folder.

    Only regular files (or symlinks to them) count; a directory named ``environment.yml``
    is not an environment file. The order is root first, then ``binder/``, ``.binder/``.
    """
    found: list[str] = []
    for folder in ("", *BINDER_DIRS):
        base = root / folder if folder else root
        if folder and not base.is_dir():
            continue
        for kind in ENV_FILE_KINDS:
            candidate = base / kind.name
            try:
                if candidate.is_file():
                    found.append(f"{folder}/{kind.name}" if folder else kind.name)
            except OSError:
                continue
    return found
