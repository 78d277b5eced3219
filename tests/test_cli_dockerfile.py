"""`r2d-tui dockerfile` equals `repo2docker --no-build`, also when served from the cache,
and the cache follows edits (its key covers every file repo2docker reads)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import corpus
import pytest

BIN = Path(sys.executable).parent


def _run(argv: list[str], cwd: Path, cache: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "R2D_TUI_CACHE_DIR": str(cache)}
    return subprocess.run(argv, cwd=cwd, capture_output=True, env=env, check=False)


@pytest.mark.skipif(corpus.corpus_root() is None, reason="the corpus is not next to the checkout")
@pytest.mark.parametrize("name", ["binder-examples__conda", "numpy__numpy-tutorials",
                                  "binder-examples__requirements", "lballabio__ab-notebook"])
def test_cli_dockerfile_matches_repo2docker_cold_and_cached(tmp_path: Path, name: str) -> None:
    repo = corpus.materialise(name, tmp_path)
    cache = tmp_path / "cache"
    args = ["--user-id", "1000", "--user-name", "jovyan", name]
    theirs = _run([str(BIN / "repo2docker"), "--no-build", *args], tmp_path, cache)
    assert theirs.returncode == 0, theirs.stderr.decode()
    cold = _run([str(BIN / "r2d-tui"), "dockerfile", *args], tmp_path, cache)
    assert list((cache / "detect").iterdir()), "the first run stores the detection"
    warm = _run([str(BIN / "r2d-tui"), "dockerfile", *args], tmp_path, cache)
    assert cold.returncode == warm.returncode == 0
    assert cold.stdout == theirs.stdout
    assert warm.stdout == theirs.stdout
    assert repo.is_dir()


def test_cache_follows_an_edit(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    (repo / "environment.yml").write_text("dependencies:\n  - python=3.11\n")
    cache = tmp_path / "cache"
    first = _run([str(BIN / "r2d-tui"), "dockerfile", "r"], tmp_path, cache)
    (repo / "environment.yml").write_text("dependencies:\n  - python=3.12\n")
    second = _run([str(BIN / "r2d-tui"), "dockerfile", "r"], tmp_path, cache)
    theirs = _run([str(BIN / "repo2docker"), "--no-build", "r"], tmp_path, cache)
    assert b"3-2e11" in first.stdout and b"3-2e12" in second.stdout
    assert second.stdout == theirs.stdout


_RENDER_CACHED = r"""
import sys
from r2d_tui.core.detection import render_cached
from r2d_tui.core.workspace import Workspace
workspace = Workspace(sys.argv[1])
if len(sys.argv) > 2:
    workspace.open("runtime.txt")
    workspace.set_text("runtime.txt", sys.argv[2])
result = render_cached(workspace)
sys.stdout.write(repr("repo2docker" in sys.modules) + "\n" + (result.dockerfile or ""))
"""


def test_render_cached_is_the_render_and_skips_repo2docker_once_detected(tmp_path: Path) -> None:
    """The TUI's first preview: served from the detection cache without importing
    repo2docker, identical to a render; unsaved edits are always rendered afresh."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "requirements.txt").write_text("numpy\n")
    cache = tmp_path / "cache"
    cold = _run([sys.executable, "-c", _RENDER_CACHED, str(repo)], tmp_path, cache)
    assert cold.returncode == 0, cold.stderr.decode()
    assert cold.stdout.startswith(b"True\n"), "nothing cached yet: a real render"
    _run([str(BIN / "r2d-tui"), "detect", str(repo)], tmp_path, cache)  # what the TUI's checks do
    warm = _run([sys.executable, "-c", _RENDER_CACHED, str(repo)], tmp_path, cache)
    assert warm.returncode == 0, warm.stderr.decode()
    assert warm.stdout == b"False\n" + cold.stdout.split(b"\n", 1)[1]
    edited = _run([sys.executable, "-c", _RENDER_CACHED, str(repo), "python-3.12\n"], tmp_path,
                  cache)
    assert edited.stdout.startswith(b"True\n")
    assert b"py-2d3-2e12-2d" in edited.stdout and b"py-2d3-2e12-2d" not in warm.stdout
