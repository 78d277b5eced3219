"""The workspace: file formats, atomic saves, failures, symlinks and the render overlay."""

from __future__ import annotations

import csv
import errno
import hashlib
import os
import stat
import tempfile
from pathlib import Path

import corpus
import pytest

from r2d_tui.core import workspace as workspace_mod
from r2d_tui.core.render import render
from r2d_tui.core.workspace import TextFormat, Workspace, WorkspaceError, decode, encode

CORPUS = corpus.corpus_root()
needs_corpus = pytest.mark.skipif(CORPUS is None, reason="corpus not found")


@pytest.fixture(autouse=True)
def _overlays_under_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Render overlays (``tempfile.mkdtemp``) of unclosed workspaces go under tmp_path."""
    folder = tmp_path / "tempfiles"
    folder.mkdir(exist_ok=True)
    monkeypatch.setattr(tempfile, "tempdir", str(folder))


def copy_repo(name: str, dest: Path) -> Path:
    repo = corpus.materialise(name, dest)
    for folder in [repo, *(p for p in repo.rglob("*") if p.is_dir() and not p.is_symlink())]:
        folder.chmod(folder.stat().st_mode | 0o700)
    return repo


def git_blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def corpus_files() -> list[dict[str, str]]:
    if CORPUS is None:
        return []
    with open(CORPUS / "FILES.tsv", newline="", encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle, delimiter="\t") if row["status"] == "copied"]


def listing(folder: Path) -> list[str]:
    """Every name in ``folder``: a save must leave no temporary file behind."""
    return sorted(os.listdir(folder))


BINDER_FILES = ["postBuild", "requirements.txt"]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "binder").mkdir(parents=True)
    (root / "binder" / "requirements.txt").write_text("numpy\n")
    post_build = root / "binder" / "postBuild"
    post_build.write_text("#!/bin/bash\necho hi\n")
    post_build.chmod(0o755)
    return root


# --- loading and saving real files --------------------------------------------------------


@needs_corpus
@pytest.mark.parametrize("row", corpus_files(), ids=lambda row: f"{row['dir']}/{row['path']}")
def test_corpus_file_round_trips_byte_for_byte(tmp_path: Path, row: dict[str, str]) -> None:
    """Open and save without an edit: the bytes (and the git blob sha) do not change."""
    repo = copy_repo(row["dir"], tmp_path)
    path = repo / row["path"]
    original = path.read_bytes()
    if not row["corpus_copy"].startswith("redacted"):
        assert git_blob_sha(original) == row["git_blob_sha"]
    workspace = Workspace(repo)
    buffer = workspace.open(row["path"])
    assert not buffer.dirty
    assert "\r" not in buffer.text or "CRLF" not in row["flags"]
    workspace.set_text(row["path"], buffer.text)
    workspace.save(row["path"])
    assert path.read_bytes() == original
    if row["git_mode"] == "100755":
        assert os.access(path, os.X_OK)


@needs_corpus
def test_crlf_corpus_file_keeps_crlf_after_edit(tmp_path: Path) -> None:
    repo = copy_repo("AndyMcCannNHS__Covid_Maps_01", tmp_path)
    rel = "binder/environment.yml"
    original = (repo / rel).read_bytes()
    assert b"\r\n" in original
    workspace = Workspace(repo)
    buffer = workspace.open(rel)
    assert buffer.format.newline == "\r\n"
    assert "\r" not in buffer.text
    workspace.set_text(rel, buffer.text + "  - requests\n")
    workspace.save(rel)
    data = (repo / rel).read_bytes()
    assert data == original + b"  - requests\r\n"
    assert data.count(b"\n") == data.count(b"\r\n")


@needs_corpus
def test_executable_environment_yml_keeps_its_mode(tmp_path: Path) -> None:
    """The corpus' one 100755 environment.yml stays executable after a save."""
    repo = copy_repo("binder-examples__r_with_python", tmp_path)
    rel = "binder/environment.yml"
    mode = stat.S_IMODE((repo / rel).stat().st_mode)
    assert mode & 0o111
    workspace = Workspace(repo)
    workspace.set_text(rel, workspace.open(rel).text + "# edited\n")
    workspace.save(rel)
    assert stat.S_IMODE((repo / rel).stat().st_mode) == mode


def test_save_keeps_exec_bit_and_is_atomic(repo: Path) -> None:
    rel = "binder/postBuild"
    path = repo / rel
    inode = path.stat().st_ino
    workspace = Workspace(repo)
    workspace.set_text(rel, "#!/bin/bash\necho edited\n")
    assert workspace.is_dirty(rel)
    saved = workspace.save(rel)
    assert saved == repo / rel
    assert path.read_text() == "#!/bin/bash\necho edited\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o755
    # replaced by rename, not rewritten in place, and no temporary file left behind
    assert path.stat().st_ino != inode
    assert listing(path.parent) == BINDER_FILES
    assert not workspace.is_dirty(rel)
    assert workspace.dirty_paths() == []


def test_save_keeps_restrictive_mode(repo: Path) -> None:
    rel = "binder/requirements.txt"
    (repo / rel).chmod(0o600)
    workspace = Workspace(repo)
    workspace.set_text(rel, "pandas\n")
    workspace.save(rel)
    assert stat.S_IMODE((repo / rel).stat().st_mode) == 0o600


def test_save_new_file_uses_umask_and_creates_folders(repo: Path) -> None:
    workspace = Workspace(repo)
    workspace.set_text("binder/nested/new.txt", "x\n")
    assert workspace.open("binder/nested/new.txt").disk_text is None
    workspace.save("binder/nested/new.txt")
    umask = os.umask(0)
    os.umask(umask)
    path = repo / "binder" / "nested" / "new.txt"
    assert path.read_bytes() == b"x\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_utf8_bom_is_kept(repo: Path) -> None:
    rel = "binder/environment.yml"
    (repo / rel).write_bytes(b"\xef\xbb\xbfname: x\ndependencies:\n  - numpy\n")
    workspace = Workspace(repo)
    buffer = workspace.open(rel)
    assert buffer.text == "name: x\ndependencies:\n  - numpy\n"
    assert buffer.format == TextFormat("utf-8", b"\xef\xbb\xbf", "\n")
    workspace.set_text(rel, buffer.text + "  - pandas\n")
    workspace.save(rel)
    assert (repo / rel).read_bytes() == (
        b"\xef\xbb\xbfname: x\ndependencies:\n  - numpy\n  - pandas\n"
    )


@pytest.mark.parametrize(
    ("encoding", "bom"), [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")]
)
def test_utf16_with_bom_and_crlf_is_kept(repo: Path, encoding: str, bom: bytes) -> None:
    rel = "binder/requirements.txt"
    text = "numpy\r\nscipy  # café\r\n"
    (repo / rel).write_bytes(bom + text.encode(encoding))
    workspace = Workspace(repo)
    buffer = workspace.open(rel)
    assert buffer.text == "numpy\nscipy  # café\n"
    assert buffer.format == TextFormat(encoding, bom, "\r\n")
    workspace.set_text(rel, buffer.text + "pandas ✓\n")
    workspace.save(rel)
    assert (repo / rel).read_bytes() == bom + (text + "pandas ✓\r\n").encode(encoding)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"no final newline",
        b"a\nb\n",
        b"a\r\nb\r\n",
        b"lf majority\nkeeps a literal\r\ninside\n",
        b"\xef\xbb\xbf",
        b"\xff\xfe" + "x\r\ny".encode("utf-16-le"),
        "ünïcödé\n".encode(),
    ],
)
def test_decode_encode_round_trip(data: bytes) -> None:
    text, fmt = decode(data)
    assert encode(text, fmt) == data


# --- failed saves ------------------------------------------------------------------------


def test_failed_save_when_parent_is_a_file(repo: Path) -> None:
    rel = "binder/requirements.txt/extra.txt"
    workspace = Workspace(repo)
    workspace.set_text(rel, "numpy\n")
    with pytest.raises(WorkspaceError) as info:
        workspace.save(rel)
    message = str(info.value)
    assert rel in message and "not saved" in message
    assert workspace.is_dirty(rel)
    assert (repo / "binder" / "requirements.txt").read_text() == "numpy\n"


def test_failed_save_when_disk_is_full_keeps_original(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rel = "binder/requirements.txt"
    path = repo / rel
    original = path.read_bytes()
    workspace = Workspace(repo)
    workspace.set_text(rel, "pandas\n")

    def full(src: object, dst: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(WorkspaceError) as info:
        workspace.save(rel)
    assert rel in str(info.value)
    assert os.strerror(errno.ENOSPC) in str(info.value)
    assert "not saved" in str(info.value)
    assert path.read_bytes() == original
    assert workspace.is_dirty(rel)
    assert workspace.text(rel) == "pandas\n"
    assert listing(path.parent) == BINDER_FILES
    # once the disk has room again the same buffer saves
    monkeypatch.undo()
    workspace.save(rel)
    assert path.read_text() == "pandas\n"
    assert not workspace.is_dirty(rel)


def test_failed_fsync_keeps_original(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rel = "binder/postBuild"
    path = repo / rel
    original = path.read_bytes()
    workspace = Workspace(repo)
    workspace.set_text(rel, "#!/bin/bash\n")

    def broken(fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(WorkspaceError, match="not saved"):
        workspace.save(rel)
    assert path.read_bytes() == original
    assert stat.S_IMODE(path.stat().st_mode) == 0o755
    assert workspace.is_dirty(rel)
    assert listing(path.parent) == BINDER_FILES


def test_failed_save_when_file_became_a_directory(repo: Path) -> None:
    rel = "binder/requirements.txt"
    workspace = Workspace(repo)
    workspace.set_text(rel, "pandas\n")
    (repo / rel).unlink()
    (repo / rel).mkdir()
    (repo / rel / "keep").write_text("k")
    with pytest.raises(WorkspaceError, match="not saved"):
        workspace.save(rel)
    assert (repo / rel / "keep").read_text() == "k"
    assert workspace.is_dirty(rel)
    assert listing(repo / "binder") == BINDER_FILES


def test_save_of_unopened_file_is_refused(repo: Path) -> None:
    with pytest.raises(WorkspaceError, match="not open"):
        Workspace(repo).save("binder/requirements.txt")


def test_unencodable_text_is_refused(repo: Path) -> None:
    rel = "binder/requirements.txt"
    workspace = Workspace(repo)
    workspace.set_text(rel, "bad \udc80 surrogate\n")
    with pytest.raises(WorkspaceError, match="cannot be saved"):
        workspace.save(rel)
    assert (repo / rel).read_text() == "numpy\n"
    assert workspace.is_dirty(rel)


# --- symlinks ----------------------------------------------------------------------------


def test_save_through_symlink_outside_repo_is_refused(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("secret\n")
    link = repo / "binder" / "apt.txt"
    link.symlink_to(outside)
    workspace = Workspace(repo)
    assert workspace.open("binder/apt.txt").text == "secret\n"
    workspace.set_text("binder/apt.txt", "curl\n")
    with pytest.raises(WorkspaceError, match="outside the repository"):
        workspace.save("binder/apt.txt")
    assert outside.read_text() == "secret\n"
    assert link.is_symlink()
    assert workspace.is_dirty("binder/apt.txt")


def test_save_through_dangling_symlink_outside_is_refused(repo: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "apt.txt"
    (repo / "binder" / "apt.txt").symlink_to(target)
    workspace = Workspace(repo)
    workspace.set_text("binder/apt.txt", "curl\n")
    with pytest.raises(WorkspaceError, match="outside the repository"):
        workspace.save("binder/apt.txt")
    assert not target.exists()


def test_save_into_folder_symlinked_outside_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    root = tmp_path / "repo"
    root.mkdir()
    (root / "binder").symlink_to(elsewhere)
    workspace = Workspace(root)
    workspace.set_text("binder/requirements.txt", "numpy\n")
    with pytest.raises(WorkspaceError, match="outside the repository"):
        workspace.save("binder/requirements.txt")
    assert list(elsewhere.iterdir()) == []


@needs_corpus
def test_save_through_symlink_inside_repo_writes_the_target(tmp_path: Path) -> None:
    repo = copy_repo("NASA-Openscapes__corn", tmp_path)
    link = repo / "binder" / "environment.yml"
    assert link.is_symlink()
    workspace = Workspace(repo)
    text = workspace.open("binder/environment.yml").text
    workspace.set_text("binder/environment.yml", text + "  - requests\n")
    workspace.save("binder/environment.yml")
    assert link.is_symlink() and os.readlink(link) == "../ci/environment.yml"
    assert (repo / "ci" / "environment.yml").read_text().endswith("  - requests\n")
    assert listing(repo / "binder") == listing(repo / "ci") == ["apt.txt", "environment.yml"]


# --- the overlay renders see ----------------------------------------------------------------


def test_materialized_without_buffers_is_the_repository(repo: Path) -> None:
    workspace = Workspace(repo)
    with workspace.materialized() as directory:
        assert directory == repo.resolve()
    workspace.open("binder/requirements.txt")  # open but unchanged: still the repository
    with workspace.materialized() as directory:
        assert directory == repo.resolve()


def test_materialized_sees_buffers_and_leaves_disk_alone(repo: Path) -> None:
    (repo / "README.md").write_text("readme\n")
    (repo / "data").mkdir()
    (repo / "data" / "x.csv").write_text("1,2\n")
    workspace = Workspace(repo)
    workspace.set_text("binder/requirements.txt", "pandas\n")
    workspace.set_text("binder/postBuild", "#!/bin/bash\necho buffer\n")
    workspace.set_text("binder/apt.txt", "curl\n")  # new file
    with workspace.materialized() as directory:
        assert directory != repo.resolve()
        assert (directory / "binder" / "requirements.txt").read_text() == "pandas\n"
        assert (directory / "binder" / "postBuild").read_text() == "#!/bin/bash\necho buffer\n"
        assert os.access(directory / "binder" / "postBuild", os.X_OK)
        assert (directory / "binder" / "apt.txt").read_text() == "curl\n"
        assert (directory / "README.md").read_text() == "readme\n"
        assert (directory / "data" / "x.csv").read_text() == "1,2\n"
    assert (repo / "binder" / "requirements.txt").read_text() == "numpy\n"
    assert not (repo / "binder" / "apt.txt").exists()
    workspace.close()


def test_materialized_hides_paths(repo: Path) -> None:
    (repo / "requirements.txt").write_text("root\n")
    workspace = Workspace(repo)
    with workspace.materialized(hide=frozenset({"binder/requirements.txt"})) as directory:
        assert not (directory / "binder" / "requirements.txt").exists()
        assert (directory / "binder" / "postBuild").exists()
        assert (directory / "requirements.txt").read_text() == "root\n"
    with workspace.materialized(hide=frozenset({"binder"})) as directory:
        assert not (directory / "binder").exists()
    assert (repo / "binder" / "requirements.txt").exists()
    workspace.close()


def test_materialized_new_binder_folder_from_buffer(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "requirements.txt").write_text("numpy\n")
    workspace = Workspace(root)
    workspace.set_text(".binder/environment.yml", "dependencies: []\n")
    assert ".binder/environment.yml" in workspace.env_files()
    with workspace.materialized() as directory:
        assert (directory / ".binder" / "environment.yml").read_text() == "dependencies: []\n"
    assert not (root / ".binder").exists()
    assert render(workspace).buildpack == "conda"
    workspace.close()


def test_materialized_sees_buffer_in_existing_subfolder(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "ci").mkdir(parents=True)
    (root / "binder").mkdir()
    (root / "ci" / "environment.yml").write_text("dependencies:\n  - python=3.11\n")
    (root / "binder" / "environment.yml").symlink_to("../ci/environment.yml")
    workspace = Workspace(root)
    workspace.set_text("ci/environment.yml", "dependencies:\n  - python=3.12\n")
    with workspace.materialized() as directory:
        assert (directory / "ci" / "environment.yml").read_text().endswith("python=3.12\n")
    workspace.close()


def test_revert_drops_the_buffer(repo: Path) -> None:
    workspace = Workspace(repo)
    workspace.set_text("binder/requirements.txt", "pandas\n")
    workspace.revert("binder/requirements.txt")
    assert not workspace.is_dirty("binder/requirements.txt")
    assert workspace.text("binder/requirements.txt") == "numpy\n"
    assert workspace.overrides() == {}


# --- files that are not text ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
        ("nul-in-ascii", b"numpy\x00\n"),
        ("latin-1", "café\n".encode("latin-1")),
        ("truncated-utf16", b"\xff\xfe\x61"),
        ("utf16-without-bom", "numpy\n".encode("utf-16-le")),
    ],
)
def test_non_text_file_gives_workspace_error(repo: Path, name: str, data: bytes) -> None:
    rel = "binder/requirements.txt"
    (repo / rel).write_bytes(data)
    workspace = Workspace(repo)
    with pytest.raises(WorkspaceError) as info:
        workspace.open(rel)
    assert str(info.value).startswith(f"{rel}: ")
    assert "not text" in str(info.value)
    assert workspace.text(rel) is None  # the non-raising accessor
    assert rel not in workspace.overrides()


def test_directory_named_like_a_file_gives_workspace_error(repo: Path) -> None:
    (repo / "binder" / "environment.yml").mkdir()
    with pytest.raises(WorkspaceError, match="a directory"):
        Workspace(repo).open("binder/environment.yml")


def test_too_large_file_gives_workspace_error(repo: Path) -> None:
    path = repo / "binder" / "requirements.txt"
    with open(path, "wb") as handle:
        handle.truncate(workspace_mod.MAX_EDITABLE_BYTES + 1)  # sparse: no real 8 MB write
    with pytest.raises(WorkspaceError, match="too large"):
        Workspace(repo).open("binder/requirements.txt")


def test_binary_environment_file_renders_to_a_problem(repo: Path) -> None:
    (repo / "binder" / "environment.yml").write_bytes(b"\xff\xfe\xfd\x00\x01garbage")
    result = render(Workspace(repo))
    assert not result.ok
    assert result.problem is not None and result.problem.message


# --- the repository path -------------------------------------------------------------------


def test_missing_repository_gives_workspace_error(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="no such directory"):
        Workspace(tmp_path / "missing")


def test_repository_that_is_a_file_gives_workspace_error(tmp_path: Path) -> None:
    path = tmp_path / "file.txt"
    path.write_text("x")
    with pytest.raises(WorkspaceError, match="not a directory"):
        Workspace(path)


def test_display_path_defaults_to_the_argument(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo.parent)
    workspace = Workspace("repo")
    assert workspace.display_path == "repo"
    assert workspace.root == repo.resolve()


def test_save_refuses_to_overwrite_an_external_change(tmp_path: Path) -> None:
    """An edit made on disk after the buffer was loaded is never silently overwritten."""
    from r2d_tui.core.workspace import ExternalChangeError

    (tmp_path / "postBuild").write_text("#!/bin/bash\necho mine\n")
    workspace = Workspace(tmp_path)
    workspace.set_text("postBuild", "#!/bin/bash\necho edited in r2d-tui\n")
    (tmp_path / "postBuild").write_text("#!/bin/bash\necho edited elsewhere\n")
    assert workspace.disk_changed("postBuild")
    with pytest.raises(ExternalChangeError, match="changed on disk"):
        workspace.save("postBuild")
    assert (tmp_path / "postBuild").read_text() == "#!/bin/bash\necho edited elsewhere\n"
    assert workspace.is_dirty("postBuild")
    workspace.save("postBuild", force=True)  # "keep mine"
    assert (tmp_path / "postBuild").read_text() == "#!/bin/bash\necho edited in r2d-tui\n"
    assert not workspace.disk_changed("postBuild")


def test_save_of_a_file_deleted_on_disk_asks_first(tmp_path: Path) -> None:
    from r2d_tui.core.workspace import ExternalChangeError

    (tmp_path / "apt.txt").write_text("vim\n")
    workspace = Workspace(tmp_path)
    workspace.set_text("apt.txt", "vim\ngit\n")
    (tmp_path / "apt.txt").unlink()
    with pytest.raises(ExternalChangeError, match="deleted"):
        workspace.save("apt.txt")
    workspace.revert("apt.txt")  # "take theirs": the file stays deleted
    assert not (tmp_path / "apt.txt").exists()


def test_typing_into_a_file_that_became_unreadable_keeps_the_text(tmp_path: Path) -> None:
    """The open file was rewritten in another encoding (or replaced by a folder) while the
    editor showed it: the keystrokes are kept, and saving asks before writing over it."""
    from r2d_tui.core.workspace import ExternalChangeError

    (tmp_path / "requirements.txt").write_text("numpy\n")
    (tmp_path / "apt.txt").write_text("vim\n")
    workspace = Workspace(tmp_path)
    (tmp_path / "requirements.txt").write_bytes(b"numpy # caf\xe9\n")  # latin-1 now
    workspace.set_text("requirements.txt", "numpy\nx\n")
    (tmp_path / "apt.txt").unlink()
    (tmp_path / "apt.txt").mkdir()
    workspace.set_text("apt.txt", "vim\ncurl\n")
    for path, typed in (("requirements.txt", "numpy\nx\n"), ("apt.txt", "vim\ncurl\n")):
        assert workspace.text(path) == typed and workspace.is_dirty(path)
        with pytest.raises(ExternalChangeError):
            workspace.save(path)
    assert (tmp_path / "requirements.txt").read_bytes() == b"numpy # caf\xe9\n"
