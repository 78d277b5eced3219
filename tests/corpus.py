"""Materialise repositories from ``../shared/corpus`` into temporary folders for tests.

The corpus holds real public Binder configurations (see its README). Tests copy a repo
into a temp dir and never touch the corpus itself. Files the corpus only *recorded*
(postBuild, Dockerfile, setup.py, …) are created as small stubs, as the corpus README
describes.
"""

from __future__ import annotations

import csv
import os
import shutil
from dataclasses import dataclass
from pathlib import Path


def corpus_root() -> Path | None:
    env = os.environ.get("R2D_TUI_CORPUS")
    candidates = [Path(env)] if env else []
    here = Path(__file__).resolve().parent.parent
    candidates.append(here.parent / "shared" / "corpus")  # shared/ beside the checkout
    for candidate in candidates:
        if (candidate / "MANIFEST.tsv").is_file():
            return candidate
    return None


@dataclass(frozen=True)
class CorpusRepo:
    name: str
    expected_buildpack: str
    binder_dir: str
    check: str


def manifest() -> list[CorpusRepo]:
    root = corpus_root()
    if root is None:
        return []
    with open(root / "MANIFEST.tsv", newline="", encoding="utf-8") as handle:
        return [
            CorpusRepo(
                row["dir"],
                row["expected_buildpack"],
                row["binder_dir"],
                row["repo2docker_2026.4.0_check"],
            )
            for row in csv.DictReader(handle, delimiter="\t")
        ]


def materialise(name: str, dest: Path, stubs: bool = True) -> Path:
    """Copy corpus repo ``name`` into ``dest/<name>`` (with stubs for recorded files)."""
    root = corpus_root()
    assert root is not None, "corpus not found"
    repo = dest / name
    src = root / "repos" / name
    if src.exists():
        shutil.copytree(src, repo, symlinks=True)
    else:
        repo.mkdir(parents=True)
    for path in repo.rglob("*"):
        if path.is_file() and not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o200)
    with open(root / "FILES.tsv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            # git symlinks may arrive as plain files holding the target: make them links again
            if row["dir"] == name and row["status"].startswith("symlink -> "):
                link = repo / row["path"]
                if link.exists() and not link.is_symlink():
                    link.unlink()
                    link.symlink_to(row["status"].removeprefix("symlink -> "))
    if stubs:
        with open(root / "FILES.tsv", newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                if row["dir"] != name or row["status"] != "not copied":
                    continue
                target = repo / row["path"]
                target.parent.mkdir(parents=True, exist_ok=True)
                body = ""
                if target.name == "Dockerfile":
                    body = (
                        "FROM andrewosh/binder-base\n"
                        if name == "Unidata__unidata-python-workshop"
                        else "FROM scratch\n"
                    )
                elif target.name in ("postBuild", "start"):
                    body = "#!/bin/bash\n"
                target.write_text(body)
                if row["git_mode"] == "100755":
                    target.chmod(0o755)
    return repo
