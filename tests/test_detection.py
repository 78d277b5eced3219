"""``detect()`` on the real corpus and on small synthetic repositories.

The expected buildpack of every corpus repository comes from its ``MANIFEST.tsv`` (which
was itself checked against repo2docker 2026.4.0). Which files are ignored is checked
against the corpus README's "precedence traps", and for two of them against repo2docker's
own output with and without the file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import corpus
import pytest

from r2d_tui.core.detection import detect
from r2d_tui.core.render import BUILDPACK_KEYS
from r2d_tui.core.workspace import Workspace

pytestmark = pytest.mark.skipif(corpus.corpus_root() is None, reason="corpus not found")

ROWS = corpus.manifest()


@pytest.fixture(autouse=True)
def _overlays_under_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Render overlays (``tempfile.mkdtemp``) of unclosed workspaces go under tmp_path."""
    folder = tmp_path / "tempfiles"
    folder.mkdir(exist_ok=True)
    monkeypatch.setattr(tempfile, "tempdir", str(folder))


@pytest.fixture(autouse=True)
def _offline_lookups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """R and Julia rows look things up on the network: keep it short and the cache private."""
    monkeypatch.setenv("R2D_TUI_LOOKUP_TIMEOUT", "1")
    monkeypatch.setenv("R2D_TUI_CACHE_DIR", str(tmp_path / "cache"))


def copy_repo(name: str, dest: Path) -> Path:
    repo = corpus.materialise(name, dest)
    for folder in [repo, *(p for p in repo.rglob("*") if p.is_dir() and not p.is_symlink())]:
        folder.chmod(folder.stat().st_mode | 0o700)
    return repo


def make_repo(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def manifest_class(row: corpus.CorpusRepo) -> str | None:
    """The buildpack class repo2docker picked when the corpus was made (``detect=X``)."""
    head = row.check.split(";")[0].strip()
    if head.startswith("detect=") and head.endswith("BuildPack"):
        return head.removeprefix("detect=")
    return None


def expected_key(row: corpus.CorpusRepo) -> str | None:
    """The manifest's buildpack in r2d-tui's vocabulary.

    The manifest says ``julia`` for both Julia formats; r2d-tui reports the removed
    ``REQUIRE`` format as ``julia-require``. ``error`` means "no buildpack".
    """
    if row.expected_buildpack == "error":
        return None
    if row.expected_buildpack == "julia" and manifest_class(row) == "JuliaRequireBuildPack":
        return "julia-require"
    return row.expected_buildpack


def test_manifest_mapping_is_what_we_think() -> None:
    assert len(ROWS) == 40
    require_rows = {row.name for row in ROWS if expected_key(row) == "julia-require"}
    assert require_rows == {"CBIOMES__bayesian_cbiomes", "tobydriscoll__fnc-extras"}
    assert {row.name for row in ROWS if expected_key(row) is None} == {
        "Unidata__unidata-python-workshop"
    }


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_detect_picks_expected_buildpack(tmp_path: Path, row: corpus.CorpusRepo) -> None:
    repo = copy_repo(row.name, tmp_path)
    detection = detect(Workspace(repo))
    expected = expected_key(row)
    if expected is None:
        assert detection.buildpack is None
        assert detection.buildpack_class is None
        assert detection.error, "an error row must come with an error message"
        assert "legacy buildpack" in detection.error
        assert detection.used_files == () and detection.deciding_files == ()
        return
    assert detection.error is None
    assert detection.buildpack == expected
    assert detection.buildpack_class == manifest_class(row)
    assert BUILDPACK_KEYS[detection.buildpack_class] == expected
    binder_dir = "" if row.binder_dir == "(none)" else row.binder_dir
    assert detection.config_dir == binder_dir
    # every present environment file is classified exactly once
    classified = list(detection.used_files) + [item.path for item in detection.ignored]
    assert sorted(classified) == sorted(Workspace(repo).env_files())
    assert set(detection.deciding_files) <= set(detection.used_files)
    if expected != "python":
        assert detection.deciding_files, f"{expected} is never the default buildpack"
    for rel in detection.deciding_files:
        assert rel.startswith(f"{binder_dir}/" if binder_dir else "")


# --- precedence traps from the corpus README ----------------------------------------------


def test_root_dockerfile_ignored_because_of_binder(tmp_path: Path) -> None:
    detection = detect(Workspace(copy_repo("dask__dask-tutorial", tmp_path)))
    assert detection.buildpack == "conda"
    assert detection.config_dir == "binder"
    assert detection.deciding_files == ("binder/environment.yml",)
    reason = detection.reason_ignored("Dockerfile")
    assert reason is not None and "binder/" in reason
    assert "Dockerfile" not in detection.used_files


def test_requirements_ignored_beside_environment_yml(tmp_path: Path) -> None:
    detection = detect(Workspace(copy_repo("numpy__numpy-tutorials", tmp_path)))
    assert detection.buildpack == "conda"
    assert detection.used_files == ("environment.yml",)
    reason = detection.reason_ignored("requirements.txt")
    assert reason is not None and "environment.yml" in reason


def test_root_pipfile_ignored_in_favour_of_binder_pipfile(tmp_path: Path) -> None:
    detection = detect(Workspace(copy_repo("lballabio__ab-notebook", tmp_path)))
    assert detection.buildpack == "pipfile"
    assert detection.deciding_files == ("binder/Pipfile.lock",)
    for root_file in ("Pipfile", "Pipfile.lock"):
        reason = detection.reason_ignored(root_file)
        assert reason is not None and "binder/" in reason, root_file
    assert "Pipfile" not in detection.used_files


def test_root_environment_ignored_beside_dot_binder_stub(tmp_path: Path) -> None:
    detection = detect(Workspace(copy_repo("CryoInTheCloud__hub-image", tmp_path)))
    assert detection.buildpack == "conda"
    assert detection.config_dir == ".binder"
    assert detection.deciding_files == (".binder/environment.yml",)
    reason = detection.reason_ignored("environment.yml")
    assert reason is not None and ".binder/" in reason


def test_binder_require_beats_root_project_toml(tmp_path: Path) -> None:
    detection = detect(Workspace(copy_repo("tobydriscoll__fnc-extras", tmp_path)))
    assert detection.buildpack == "julia-require"
    assert detection.deciding_files == ("binder/REQUIRE",)
    assert detection.reason_ignored("Project.toml") is not None
    assert detection.reason_ignored("Manifest.toml") is not None


def test_require_beats_r_runtime(tmp_path: Path) -> None:
    detection = detect(Workspace(copy_repo("CBIOMES__bayesian_cbiomes", tmp_path)))
    assert detection.buildpack == "julia-require"
    assert detection.reason_ignored("binder/runtime.txt") is not None


def _repo2docker_stdout(repo: Path) -> bytes:
    proc = subprocess.run(
        [sys.executable, "-m", "repo2docker", "--no-build", repo.name],
        cwd=repo.parent,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    return proc.stdout


@pytest.mark.parametrize(
    ("name", "rel"),
    [
        ("numpy__numpy-tutorials", "requirements.txt"),
        ("jupyter-widgets__tutorial", "requirements.txt"),
    ],
)
def test_ignored_file_really_is_ignored_by_repo2docker(tmp_path: Path, name: str, rel: str) -> None:
    """Independent check of detection's verdict: the CLI's output does not change without it."""
    repo = copy_repo(name, tmp_path / "with")
    assert detect(Workspace(repo)).reason_ignored(rel) is not None
    without = copy_repo(name, tmp_path / "without")
    (without / rel).unlink()
    assert _repo2docker_stdout(repo) == _repo2docker_stdout(without)


def test_used_file_really_is_used_by_repo2docker(tmp_path: Path) -> None:
    name, rel = "binder-examples__requirements", "requirements.txt"
    repo = copy_repo(name, tmp_path / "with")
    assert rel in detect(Workspace(repo)).used_files
    without = copy_repo(name, tmp_path / "without")
    (without / rel).unlink()
    assert _repo2docker_stdout(repo) != _repo2docker_stdout(without)


# --- synthetic repositories ---------------------------------------------------------------


def test_both_binder_folders_is_an_error(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "both",
        {"binder/requirements.txt": "numpy\n", ".binder/environment.yml": "dependencies: []\n"},
    )
    detection = detect(Workspace(repo))
    assert detection.buildpack is None
    assert detection.buildpack_class is None
    assert detection.error and "binder/" in detection.error and ".binder/" in detection.error
    assert detection.used_files == ()
    assert {item.path for item in detection.ignored} == {
        "binder/requirements.txt",
        ".binder/environment.yml",
    }


def test_root_dockerignore_ignored_when_binder_exists(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "r",
        {".dockerignore": "data/\n", "binder/requirements.txt": "numpy\n"},
    )
    detection = detect(Workspace(repo))
    assert detection.buildpack == "python"
    assert ".dockerignore" not in detection.used_files
    reason = detection.reason_ignored(".dockerignore")
    assert reason is not None and "binder/" in reason


def test_binder_dockerignore_used_for_generated_dockerfile(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "r",
        {"binder/.dockerignore": "data/\n", "binder/requirements.txt": "numpy\n"},
    )
    detection = detect(Workspace(repo))
    assert "binder/.dockerignore" in detection.used_files
    assert detection.render is not None and detection.render.context is not None
    assert detection.render.context.ignore_patterns == ("data/",)


def test_root_dockerignore_used_for_binder_dockerfile(tmp_path: Path) -> None:
    """For a Dockerfile build the context is the repository root: its .dockerignore counts."""
    repo = make_repo(
        tmp_path / "r",
        {".dockerignore": "data/\n", "binder/Dockerfile": "FROM scratch\n"},
    )
    detection = detect(Workspace(repo))
    assert detection.buildpack == "docker"
    assert ".dockerignore" in detection.used_files


def test_r_runtime_without_date_does_not_select_r(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r43", {"runtime.txt": "r-4.3\n", "install.R": "1\n"})
    detection = detect(Workspace(repo))
    assert detection.buildpack == "python"
    assert detection.buildpack_class == "PythonBuildPack"
    assert detection.error is None
    assert detection.reason_ignored("install.R") is not None


def test_r_runtime_without_date_is_not_a_deciding_file(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r43", {"runtime.txt": "r-4.3\n"})
    detection = detect(Workspace(repo))
    assert detection.deciding_files == ()
    assert detection.reason_ignored("runtime.txt") is not None


def test_r_runtime_with_date_selects_r(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"runtime.txt": "r-4.3-2024-01-10\n"})
    detection = detect(Workspace(repo))
    assert detection.buildpack == "r"
    assert detection.deciding_files == ("runtime.txt",)


def test_empty_repo_is_default_python(tmp_path: Path) -> None:
    repo = tmp_path / "empty"
    repo.mkdir()
    detection = detect(Workspace(repo))
    assert detection.buildpack == "python"
    assert detection.buildpack_class == "PythonBuildPack"
    assert detection.config_dir == ""
    assert detection.deciding_files == ()
    assert detection.used_files == ()
    assert detection.ignored == ()
    assert detection.error is None


def test_empty_binder_folder_hides_root_requirements(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"requirements.txt": "numpy\n"})
    (repo / "binder").mkdir()
    detection = detect(Workspace(repo))
    assert detection.buildpack == "python"
    assert detection.config_dir == "binder"
    assert detection.deciding_files == ()
    assert detection.reason_ignored("requirements.txt") is not None


def test_unsaved_buffer_changes_detection(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"requirements.txt": "numpy\n"})
    workspace = Workspace(repo)
    assert detect(workspace).buildpack == "python"
    workspace.set_text("environment.yml", "dependencies:\n  - python=3.12\n")
    detection = detect(workspace)
    assert detection.buildpack == "conda"
    assert detection.deciding_files == ("environment.yml",)
    assert detection.reason_ignored("requirements.txt") is not None
    assert not (repo / "environment.yml").exists()


# --- JSON shape ---------------------------------------------------------------------------

JSON_KEYS = {
    "config_dir",
    "buildpack",
    "buildpack_class",
    "deciding_files",
    "used_files",
    "ignored_files",
    "error",
}


def test_to_json_keys_and_values(tmp_path: Path) -> None:
    detection = detect(Workspace(copy_repo("numpy__numpy-tutorials", tmp_path)))
    data = detection.to_json()
    assert set(data) == JSON_KEYS
    assert data["config_dir"] == "."
    assert data["buildpack"] == "conda"
    assert data["buildpack_class"] == "CondaBuildPack"
    assert data["deciding_files"] == ["environment.yml"]
    assert data["used_files"] == ["environment.yml"]
    assert data["error"] is None
    ignored = data["ignored_files"]
    assert isinstance(ignored, list) and len(ignored) == 1
    assert set(ignored[0]) == {"path", "reason"}
    assert ignored[0]["path"] == "requirements.txt"
    assert json.loads(json.dumps(data)) == data


def test_to_json_for_binder_dir_and_error(tmp_path: Path) -> None:
    data = detect(Workspace(copy_repo("dask__dask-tutorial", tmp_path))).to_json()
    assert data["config_dir"] == "binder"
    error = detect(Workspace(copy_repo("Unidata__unidata-python-workshop", tmp_path))).to_json()
    assert set(error) == JSON_KEYS
    assert error["buildpack"] is None and error["buildpack_class"] is None
    assert isinstance(error["error"], str) and error["error"]
    json.dumps(error)
