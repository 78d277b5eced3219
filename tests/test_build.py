"""The build context mirror, the buildx command line and engine-problem reporting (no engine).

The context tests compare against repo2docker itself: its ``BuildPack.build`` is run with a
client that only captures the tar it would send, and the stable folder must hold the same
entries with the same bytes, modes, link targets and mtimes, apart from the one documented
difference: repo2docker's helper files are named by their path inside the package
(:func:`~r2d_tui.core.build.stable_context_names`), not by the path of the install.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from r2d_tui.core.build import (
    BuildContext,
    BuildResult,
    BuildSpec,
    buildx_argv,
    context_dir_for,
    default_tag,
    run_build,
    slugify,
    stable_context_names,
)
from r2d_tui.core.render import (
    RENDER_LOCK,
    RenderOptions,
    configure_and_render,
    pick_buildpack,
)

SHIM = "r2d-tui-test/r2d-shim-base:latest"
OPTIONS = RenderOptions(base_image=SHIM, user_id=1000, user_name="jovyan", platform="linux/amd64")


def make_repo(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(
        tmp_path / "My Repo",
        {
            "requirements.txt": "numpy\n",
            "postBuild": "#!/bin/sh\necho hi\n",
            "analysis/notebook.ipynb": "{}\n",
            "analysis/data/values.csv": "a,b\n1,2\n",
            ".git/HEAD": "ref: refs/heads/main\n",
            "secret/token.txt": "hunter2\n",
            "notes.tmp": "scratch\n",
            ".dockerignore": "secret\n*.tmp\n",
        },
    )
    (root / "postBuild").chmod(0o755)
    os.symlink("analysis/data/values.csv", root / "latest.csv")
    os.symlink("does-not-exist", root / "dangling")
    return root


def repo2docker_tar(root: Path, options: RenderOptions) -> tarfile.TarFile:
    """The context tar repo2docker's BuildPack.build would hand to the engine."""
    captured: dict[str, Any] = {}

    class CaptureClient:
        def build(self, **kwargs: Any) -> Any:
            captured.update(kwargs)
            return iter(())

    opts = options.resolved()
    with RENDER_LOCK:
        old = os.getcwd()
        os.chdir(root)
        try:
            buildpack = pick_buildpack(str(opts.base_image))
            configure_and_render(buildpack, opts, "local")
            generator = buildpack.build(
                CaptureClient(), "t", 0, opts.docker_build_args(), [], {}, platform="linux/amd64"
            )
            list(generator)
        finally:
            os.chdir(old)
    data = captured["fileobj"].read()
    return tarfile.open(fileobj=io.BytesIO(data))


def describe_tar(tar: tarfile.TarFile) -> dict[str, tuple[str, object]]:
    out: dict[str, tuple[str, object]] = {}
    for member in tar.getmembers():
        name = member.name.rstrip("/")
        if member.isdir():
            out[name] = ("dir", member.mode & 0o777)
        elif member.issym():
            out[name] = ("link", member.linkname)
        else:
            handle = tar.extractfile(member)
            assert handle is not None
            mode = member.mode & 0o777 if name.startswith(("src/", "build_script_files/")) else None
            mtime = int(member.mtime) if name.startswith("src/") else None
            out[name] = ("file", (handle.read(), mode, mtime))
    return out


def describe_dir(directory: Path) -> dict[str, tuple[str, object]]:
    out: dict[str, tuple[str, object]] = {}
    for path in sorted(directory.rglob("*")):
        name = path.relative_to(directory).as_posix()
        if path.is_symlink():
            out[name] = ("link", os.readlink(path))
        elif path.is_dir():
            out[name] = ("dir", path.stat().st_mode & 0o777)
        else:
            st = path.stat()
            mode = st.st_mode & 0o777 if name.startswith(("src/", "build_script_files/")) else None
            mtime = int(st.st_mtime) if name.startswith("src/") else None
            out[name] = ("file", (path.read_bytes(), mode, mtime))
    return out


def spec_for(root: Path, **kwargs: Any) -> BuildSpec:
    return BuildSpec.from_disk(root, OPTIONS, **kwargs)


# --- the context mirror ----------------------------------------------------------------------


def test_context_matches_repo2docker_tar(repo: Path) -> None:
    spec = spec_for(repo)
    assert spec.render.dockerfile is not None and spec.render.context is not None
    context = BuildContext(repo)
    context.sync(spec.render)
    expected = describe_tar(repo2docker_tar(repo, OPTIONS))
    # repo2docker's tar, with its helper files under the stable names r2d-tui builds with
    original = spec.render.context.extra_files
    _, renamed = stable_context_names(spec.render.dockerfile, original)
    new_name = {old: new for (old, _), (new, _) in zip(original, renamed, strict=True)}
    assert any(old != new for old, new in new_name.items())
    expected = {new_name.get(name, name): entry for name, entry in expected.items()}
    kind, (dockerfile, mode, mtime) = expected["Dockerfile"]  # type: ignore[misc]
    stable_text, _ = stable_context_names(dockerfile.decode(), original)
    expected["Dockerfile"] = (kind, (stable_text.encode(), mode, mtime))
    actual = describe_dir(context.directory)
    # The tar has no entries for the folders holding src/ and build_script_files/.
    for name in [n for n, (kind, _) in actual.items() if kind == "dir"]:
        if name == "src" or name.startswith("build_script_files"):
            actual.pop(name)
    assert actual == expected
    assert "src/.git/HEAD" in actual and "src/secret" not in actual
    assert actual["src/latest.csv"] == ("link", "analysis/data/values.csv")


_BUILD_DOCKERFILE = """
import json, sys
import repo2docker
from r2d_tui.core.build import stable_context_names
from r2d_tui.core.render import RenderOptions, render
from r2d_tui.core.workspace import Workspace
options = RenderOptions(base_image=sys.argv[2], user_id=1000, user_name="jovyan",
                        platform="linux/amd64")
result = render(Workspace(sys.argv[1]), options)
text, files = stable_context_names(result.dockerfile, result.context.extra_files)
print(json.dumps({"package": repo2docker.__file__, "preview": result.dockerfile,
                  "build": text, "files": [name for name, _ in files]}))
"""


def _dockerfiles_from(site: Path | None, repo: Path, cache: Path) -> dict[str, Any]:
    """Render ``repo`` in a fresh interpreter, importing repo2docker from ``site`` if given."""
    env = dict(os.environ, R2D_TUI_CACHE_DIR=str(cache))
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")])
    out = subprocess.run(
        [sys.executable, "-c", _BUILD_DOCKERFILE, str(repo), SHIM],
        env=env, capture_output=True, text=True, check=True, timeout=120,
    )
    return dict(json.loads(out.stdout))


def test_helper_script_names_survive_a_reinstall(tmp_path: Path) -> None:
    """A second install of the same repo2docker (another venv, machine or CI runner) builds
    the same Dockerfile, so BuildKit's cache of the conda bootstrap survives; the preview
    still prints repo2docker's own text, install path and all."""
    import repo2docker

    repo = make_repo(tmp_path / "repo", {"environment.yml": "dependencies:\n  - python=3.11\n"})
    other_site = tmp_path / "other-venv" / "site-packages"
    shutil.copytree(Path(repo2docker.__file__).parent, other_site / "repo2docker")
    here = _dockerfiles_from(None, repo, tmp_path / "cache-1")
    there = _dockerfiles_from(other_site, repo, tmp_path / "cache-2")
    assert there["package"].startswith(str(other_site))  # really the second install
    assert here["preview"] != there["preview"]  # repo2docker's names carry the install path
    assert here["build"] == there["build"]
    assert "build_script_files/repo2docker/buildpacks/conda/install-base-env.bash" in here["build"]
    assert "-2f" not in here["build"]  # no escaped absolute path is left
    for name in here["files"]:
        if name.startswith("build_script_files/"):
            assert f"COPY --chown=1000:1000 {name} " in here["build"]


def test_files_outside_the_package_keep_repo2docker_names() -> None:
    dockerfile = "COPY build_script_files/-2fopt-2fmine-2fhook-2esh-abc123 /tmp/hook.sh\n"
    files = (("build_script_files/-2fopt-2fmine-2fhook-2esh-abc123", "/opt/mine/hook.sh"),)
    assert stable_context_names(dockerfile, files) == (dockerfile, files)


def test_context_folder_is_stable_and_outside_the_repo(repo: Path, r2d_tui_cache_dir: Path) -> None:
    context = BuildContext(repo)
    assert context.directory == context_dir_for(repo)
    assert context.directory.parent == r2d_tui_cache_dir / "contexts"
    assert len(context.directory.name) == 16
    assert BuildContext(str(repo) + "/.").directory == context.directory
    with pytest.raises(ValueError, match="inside the repository"):
        BuildContext(repo, directory=repo / ".cache" / "ctx")


def test_incremental_sync_writes_only_what_changed(repo: Path) -> None:
    context = BuildContext(repo)
    first = context.sync(spec_for(repo).render)
    assert first.files_written >= 10 and first.bytes_written > 0

    unchanged = context.sync(spec_for(repo).render)
    assert (unchanged.files_written, unchanged.deleted, unchanged.bytes_written) == (0, 0, 0)
    assert unchanged.entries == first.entries

    data = repo / "analysis/data/values.csv"
    data.write_text("a,b\n1,2\n3,4\n")
    os.utime(data, ns=(data.stat().st_atime_ns, data.stat().st_mtime_ns + 1_000_000))
    changed = context.sync(spec_for(repo).render)
    assert (changed.files_written, changed.deleted) == (1, 0)
    assert changed.bytes_written == data.stat().st_size
    mirrored = context.directory / "src/analysis/data/values.csv"
    assert mirrored.read_text() == "a,b\n1,2\n3,4\n"
    assert mirrored.stat().st_mtime_ns == data.stat().st_mtime_ns


def test_sync_removes_deleted_files_and_folders(repo: Path) -> None:
    context = BuildContext(repo)
    context.sync(spec_for(repo).render)
    (repo / "analysis/notebook.ipynb").unlink()
    (repo / "analysis/data/values.csv").unlink()
    (repo / "analysis/data").rmdir()
    stats = context.sync(spec_for(repo).render)
    assert stats.deleted == 3  # the notebook, the folder and the file inside it
    assert stats.files_written == 0
    assert sorted(p.name for p in (context.directory / "src/analysis").iterdir()) == []
    # the symlink to the deleted file is still mirrored, as a dangling link
    assert os.readlink(context.directory / "src/latest.csv") == "analysis/data/values.csv"


def test_sync_follows_ignore_file_changes_and_kind_swaps(repo: Path) -> None:
    context = BuildContext(repo)
    context.sync(spec_for(repo).render)
    (repo / ".dockerignore").write_text("*.tmp\n")  # secret/ is no longer ignored
    (repo / "notes.tmp").unlink()
    (repo / "notes.tmp").mkdir()  # file → folder (still ignored)
    os.unlink(repo / "dangling")
    (repo / "dangling").write_text("now a file\n")  # link → file
    stats = context.sync(spec_for(repo).render)
    src = context.directory / "src"
    assert (src / "secret/token.txt").read_text() == "hunter2\n"
    assert not (src / "notes.tmp").exists()
    assert not (src / "dangling").is_symlink() and (src / "dangling").read_text() == "now a file\n"
    assert stats.deleted == 1  # the old dangling link
    assert stats.files_written == 3  # .dockerignore, token.txt, dangling


def test_mode_change_is_applied_without_a_copy(repo: Path) -> None:
    context = BuildContext(repo)
    context.sync(spec_for(repo).render)
    (repo / "postBuild").chmod(0o644)
    stats = context.sync(spec_for(repo).render)
    assert stats.files_written == 0
    assert (context.directory / "src/postBuild").stat().st_mode & 0o777 == 0o644


def test_dockerfile_rewritten_only_when_the_render_changes(repo: Path) -> None:
    context = BuildContext(repo)
    context.sync(spec_for(repo).render)
    dockerfile = context.directory / "Dockerfile"
    before = dockerfile.stat().st_mtime_ns
    assert context.sync(spec_for(repo).render).files_written == 0
    assert dockerfile.stat().st_mtime_ns == before
    other = RenderOptions(base_image=SHIM, user_id=1001, user_name="jovyan", platform="linux/amd64")
    result = BuildSpec.from_disk(repo, other).render
    stats = context.sync(result)
    assert stats.files_written == 1
    assert result.dockerfile is not None and result.context is not None
    built, _ = stable_context_names(result.dockerfile, result.context.extra_files)
    assert dockerfile.read_text() == built


def test_stale_entries_are_removed_and_empty_src_kept(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "empty", {})
    context = BuildContext(root)
    context.directory.mkdir(parents=True)
    (context.directory / "leftover.txt").write_text("old")
    (context.directory / "build_script_files").mkdir()
    (context.directory / "build_script_files/old-script-abc123").write_text("old")
    stats = context.sync(spec_for(root).render)
    assert not (context.directory / "leftover.txt").exists()
    assert not (context.directory / "build_script_files/old-script-abc123").exists()
    assert stats.deleted == 2
    src = context.directory / "src"
    assert src.is_dir() and list(src.iterdir()) == []


def test_dockerfile_repo_uses_the_repo_itself(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "dock", {"binder/Dockerfile": "FROM scratch\n"})
    spec = spec_for(root)
    context = BuildContext(root)
    stats = context.sync(spec.render)
    assert stats.files_written == 0 and not context.directory.exists()
    assert context.path_for(spec.render) == root.resolve()


# --- the command line ------------------------------------------------------------------------


def test_argv_for_generated_dockerfile_mirrors_repo2docker(repo: Path) -> None:
    spec = spec_for(
        repo,
        tag="me/img:1",
        cache_from=("type=local,src=/c",),
        cache_to=("type=local,dest=/c",),
        builder="mybuilder",
        extra_args=("--network=none",),
    )
    argv = buildx_argv(spec, Path("/ctx"), iidfile=Path("/tmp/iid"))
    assert argv == [
        "docker", "buildx", "build", "--progress", "rawjson", "--load",
        "--build-arg", "NB_USER=jovyan", "--build-arg", "NB_UID=1000",
        "--cache-from", "type=local,src=/c",
        "--tag", "me/img:1",
        "--platform", "linux/amd64",
        "--builder", "mybuilder",
        "--cache-to", "type=local,dest=/c",
        "--iidfile", "/tmp/iid",
        "--network=none",
        "/ctx",
    ]  # fmt: skip


def test_argv_for_dockerfile_repo_has_file_and_labels(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "dock", {"binder/Dockerfile": "FROM scratch\n"})
    options = RenderOptions(
        user_id=1000,
        user_name="jovyan",
        platform="linux/amd64",
        target_repo_dir="/srv/repo",
        build_args=(("FOO", "bar"),),
    )
    spec = BuildSpec.from_disk(root, options)
    argv = buildx_argv(spec, root)
    assert argv[:6] == ["docker", "buildx", "build", "--progress", "rawjson", "--load"]
    assert argv[6:14] == [
        "--build-arg", "NB_USER=jovyan", "--build-arg", "NB_UID=1000",
        "--build-arg", "REPO_DIR=/srv/repo", "--build-arg", "FOO=bar",
    ]  # fmt: skip
    assert argv[14:18] == ["--file", "binder/Dockerfile", "--tag", "r2d-tui/dock:latest"]
    labels = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--label"]
    assert labels[0].startswith("repo2docker.version=")
    assert "repo2docker.ref=None" in labels
    assert argv.index("--label") > argv.index("--tag") and argv[-3:-1] == [
        "--platform",
        "linux/amd64",
    ]
    assert argv[-1] == str(root)


def test_default_tag_and_slug() -> None:
    assert slugify("My Repo (v2)") == "my-repo-v2"
    assert slugify("...") == "repo"
    assert default_tag(Path("/x/Data_Analysis")) == "r2d-tui/data-analysis:latest"


# --- problems reported without an engine -----------------------------------------------------


async def test_render_failure_is_a_result(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "bad", {"environment.yml": "name: [unclosed\n"})
    result = await run_build(BuildSpec.from_disk(root, OPTIONS))
    assert isinstance(result, BuildResult)
    assert not result.success and result.error_kind == "render"
    assert result.error is not None and "environment.yml" in result.error


async def test_missing_docker_cli_is_a_clear_error(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = spec_for(repo)
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = await run_build(spec)
    assert not result.success and result.error_kind == "engine"
    assert result.error is not None and "docker command was not found" in result.error
