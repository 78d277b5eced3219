"""Build a repository's image the way repo2docker does, but incrementally.

repo2docker 2026.4 shells out to ``docker buildx build``. For generated Dockerfiles it
first tars the whole repository into memory and extracts it into a *new* temporary
directory, so BuildKit sees a new context path and re-sends every byte on every build
(209.8 MB on each rebuild of a 200 MB repo, about 3.4x slower than a stable context; see
``repo2docker-internals.md`` §1d and §2). This module keeps the same context layout and the
same ``buildx`` argument order, but:

* the context lives in a **stable directory** per repository
  (``$R2D_TUI_CACHE_DIR/contexts/<sha256(path)[:16]>``), which :class:`BuildContext` keeps in
  sync **incrementally** (only changed files are rewritten), so BuildKit's own incremental
  context transfer works;
* a Dockerfile repository is built straight from the repository, as repo2docker does;
* progress comes from ``--progress rawjson`` through :mod:`r2d_tui.core.progress`, so the UI
  gets steps, cache hits and logs instead of text;
* the build runs in its own process group, so cancelling it (a newer edit superseded it, the
  user quit) terminates ``docker`` and its ``docker-buildx`` plugin and nothing keeps
  running; BuildKit then cancels the solve;
* builds of one repository take turns (a lock file beside the context folder), so a CLI
  ``--watch`` and the TUI never sync into a context another build is reading, or race to
  tag the same image.

Engine problems (no docker CLI, no buildx plugin, daemon down) come back as a
:class:`BuildResult` with ``error_kind == "engine"`` and a sentence for the user, never as a
traceback. :func:`engine_status` answers the same questions up front for a status bar.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

from r2d_tui.core import lazy
from r2d_tui.core.buildlog import BuildLog
from r2d_tui.core.paths import cache_dir as cache_dir  # re-exported
from r2d_tui.core.progress import ExpectedStep, ProgressEvent, ProgressTracker, Step
from r2d_tui.core.render import RenderOptions, RenderResult
from r2d_tui.core.workspace import Workspace

#: How long a cancelled build gets to exit after SIGTERM before SIGKILL.
TERMINATE_GRACE_SECONDS = 3.0

#: Timeout of each ``docker`` call made by :func:`engine_status`.
ENGINE_PROBE_TIMEOUT = 5.0

#: Lines of output kept in :attr:`BuildResult.log_tail`.
LOG_TAIL_LINES = 30

#: The docker CLI r2d-tui runs.
DOCKER = "docker"

ErrorKind = Literal["render", "context", "engine", "build"]


class EngineError(Exception):
    """The Docker engine cannot be used; the message is worded for the user."""


# --- where things live -----------------------------------------------------------------------



def context_dir_for(root: Path) -> Path:
    """The stable build-context folder of the repository at ``root``."""
    digest = hashlib.sha256(str(Path(root).resolve()).encode("utf-8")).hexdigest()[:16]
    return cache_dir() / "contexts" / digest


def slugify(name: str) -> str:
    """A Docker repository path component from a folder name (``My Repo`` → ``my-repo``)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower())
    slug = re.sub(r"-{2,}", "-", slug).strip("-._")
    return slug or "repo"


def default_tag(root: Path) -> str:
    """The tag r2d-tui gives a repository's image: ``r2d-tui/<folder name>:latest``."""
    return f"r2d-tui/{slugify(Path(root).resolve().name)}:latest"


# --- the build context -----------------------------------------------------------------------

#: Context folder of repo2docker's own files, named by their path inside the package.
STABLE_SCRIPTS_DIR = "build_script_files/repo2docker"


def _repo2docker_package_dir() -> Path | None:
    """Where the repo2docker package is installed, found without importing it."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("repo2docker")
    except (ImportError, ValueError):
        return None
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]).resolve() if locations else None


def stable_context_names(
    dockerfile: str, extra_files: tuple[tuple[str, str], ...]
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Rename repo2docker's helper files in the context so the names survive reinstalls.

    repo2docker names each file it adds (the lock file, ``install-base-env.bash``,
    ``activate-conda.sh``, nix's scripts) after the escaped *absolute path* of its install
    (``build_script_files/-2fhome-2fme-2f-2evenv-2flib-…-install-2dbase-2denv-2dbash-3f1a2b``).
    Those names are in the ``COPY`` lines, so a second venv, another machine or a CI runner
    with the same repo2docker version writes a different Dockerfile, and BuildKit reruns
    every step from the first of those ``COPY`` lines on, the conda bootstrap included
    (measured in ``repo2docker-internals.md`` §1b). For builds, each such file is named by
    its path inside the repo2docker package instead
    (``build_script_files/repo2docker/buildpacks/conda/install-base-env.bash``) and the
    Dockerfile's references are rewritten to match; BuildKit still checks the files'
    content, so a repo2docker version whose script changed reruns the step, as it should.

    Files outside the package (a custom buildpack's) keep repo2docker's name. The preview
    and ``r2d-tui dockerfile`` are not affected: they print repo2docker's text.
    """
    package = _repo2docker_package_dir()
    if package is None:
        return dockerfile, extra_files
    renamed: list[tuple[str, str]] = []
    replacements: dict[str, str] = {}
    for name, source in extra_files:
        new_name = name
        if name.startswith("build_script_files/"):
            try:
                inside = Path(source).resolve().relative_to(package)
            except ValueError:
                inside = None
            if inside is not None:
                new_name = f"{STABLE_SCRIPTS_DIR}/{inside.as_posix()}"
                replacements[name] = new_name
        renamed.append((new_name, source))
    if len({name for name, _ in renamed}) != len(renamed):
        return dockerfile, extra_files  # two files would share a name: keep repo2docker's
    for old in sorted(replacements, key=len, reverse=True):
        dockerfile = dockerfile.replace(old, replacements[old])
    return dockerfile, tuple(renamed)



@dataclass(frozen=True)
class SyncStats:
    """What one :meth:`BuildContext.sync` changed."""

    files_written: int = 0
    """Regular files and symlinks (re)written."""
    deleted: int = 0
    """Files, symlinks and folders removed (a removed folder counts its contents)."""
    bytes_written: int = 0
    dirs_created: int = 0
    entries: int = 0
    """Entries the context holds after the sync (0 for a Dockerfile repository)."""
    seconds: float = 0.0


@dataclass(frozen=True)
class _Want:
    kind: Literal["dir", "file", "link", "data"]
    source: str = ""
    """Absolute source path (``file``) or link target (``link``)."""
    data: bytes = b""
    mode: int = 0o755


class BuildContext:
    """The build context of one repository, kept in a stable folder and synced incrementally.

    For a generated Dockerfile the folder holds what repo2docker's tar holds: ``Dockerfile``
    (the rendered text, with :func:`stable_context_names`), repo2docker's own files
    (:attr:`ContextPlan.extra_files`, under those stable names), and ``src/``, the
    repository minus the ignore
    patterns, selected with the same ``docker.utils.build.exclude_paths`` repo2docker uses
    (so ``.git`` is included, as it is for repo2docker). Files are copies, not hard links,
    because the user keeps editing the repository. A file is rewritten only when its size,
    modification time or mode differ; symlinks stay symlinks; everything else is removed.

    For a Dockerfile repository the context is the repository itself and nothing is copied.
    """

    def __init__(self, root: str | Path, directory: Path | None = None) -> None:
        self.root = Path(root).resolve()
        self.directory = directory if directory is not None else context_dir_for(self.root)
        if self.directory.resolve().is_relative_to(self.root):
            raise ValueError(
                f"the build context folder {self.directory} is inside the repository; "
                "set R2D_TUI_CACHE_DIR to a folder outside it"
            )

    def path_for(self, result: RenderResult) -> Path:
        """The folder ``docker buildx build`` is given for this render."""
        plan = result.context
        if plan is not None and plan.docker_buildpack:
            return self.root
        return self.directory

    @property
    def lock_path(self) -> Path:
        """The lock that serialises syncs and builds of this repository (across processes)."""
        return self.directory.with_name(self.directory.name + ".lock")

    def sync(self, result: RenderResult, *, lock: bool = True) -> SyncStats:
        """Bring the context folder up to date with the repository and this render.

        With ``lock`` (the default) the sync holds :attr:`lock_path`; pass ``False`` when the
        caller already holds it (as :func:`run_build` does for the whole build).

        Raises:
            ValueError: the render failed (there is no Dockerfile to build).
            OSError: the folder could not be written.
        """
        plan = result.context
        if plan is None or result.dockerfile is None:
            raise ValueError("the Dockerfile could not be rendered")
        if plan.docker_buildpack:
            return SyncStats()
        started = time.perf_counter()
        dockerfile, extra_files = stable_context_names(result.dockerfile, plan.extra_files)
        wanted: dict[str, _Want] = {
            "Dockerfile": _Want("data", data=dockerfile.encode("utf-8"), mode=0o644),
        }
        for name, source in extra_files:
            _add_parents(wanted, name)
            wanted[name] = _want_for(Path(source)) or _Want("file", source, mode=0o644)
        wanted["src"] = _Want("dir", mode=_dir_mode(self.root))
        for rel in sorted(_included_paths(self.root, plan.ignore_patterns)):
            want = _want_for(self.root / rel)
            if want is not None:
                _add_parents(wanted, f"src/{rel}")
                wanted[f"src/{rel}"] = want
        self.directory.mkdir(parents=True, exist_ok=True)
        with _locked(self.lock_path) if lock else contextlib.nullcontext():
            stats = _reconcile(self.directory, wanted)
        return SyncStats(
            files_written=stats["written"],
            deleted=stats["deleted"],
            bytes_written=stats["bytes"],
            dirs_created=stats["dirs"],
            entries=len(wanted),
            seconds=time.perf_counter() - started,
        )

    def remove(self) -> None:
        """Delete the context folder (it is rebuilt in full by the next sync)."""
        shutil.rmtree(self.directory, ignore_errors=True)


def _included_paths(root: Path, patterns: tuple[str, ...]) -> set[str]:
    """Repository paths repo2docker puts under ``src/`` (files and folders, relative)."""

    exclude_paths = lazy.load("docker.utils.build").exclude_paths

    # exclude_paths appends "!Dockerfile" to the list it is given: pass a copy.
    return {str(p) for p in exclude_paths(str(root), list(patterns))}


def _dir_mode(path: Path) -> int:
    # The owner keeps rwx on mirrored folders, or the next sync could not write into them.
    return stat.S_IMODE(path.stat().st_mode) | 0o700


def _want_for(path: Path) -> _Want | None:
    try:
        st = path.lstat()
    except OSError:
        return None  # vanished since it was listed
    if stat.S_ISLNK(st.st_mode):
        return _Want("link", os.readlink(path))
    if stat.S_ISDIR(st.st_mode):
        return _Want("dir", mode=stat.S_IMODE(st.st_mode) | 0o700)
    if stat.S_ISREG(st.st_mode):
        return _Want("file", str(path), mode=stat.S_IMODE(st.st_mode))
    return None  # sockets, FIFOs, devices: nothing a build can COPY


def _add_parents(wanted: dict[str, _Want], rel: str) -> None:
    parts = rel.split("/")[:-1]
    for i in range(1, len(parts) + 1):
        wanted.setdefault("/".join(parts[:i]), _Want("dir"))


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """An exclusive ``flock`` (blocking): one sync per context, across threads and processes."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextlib.asynccontextmanager
async def _locked_async(lock_path: Path, poll: float = 0.1) -> AsyncIterator[None]:
    """:func:`_locked` for coroutines: polls, so waiting for it can be cancelled."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(poll)
        yield
    finally:
        os.close(fd)


def _scan(directory: Path) -> dict[str, os.stat_result]:
    found: dict[str, os.stat_result] = {}

    def walk(folder: Path, prefix: str) -> None:
        with os.scandir(folder) as entries:
            for entry in entries:
                rel = f"{prefix}{entry.name}"
                st = entry.stat(follow_symlinks=False)
                found[rel] = st
                if stat.S_ISDIR(st.st_mode):
                    walk(Path(entry.path), f"{rel}/")

    walk(directory, "")
    return found


def _kind(st: os.stat_result) -> str:
    if stat.S_ISDIR(st.st_mode):
        return "dir"
    if stat.S_ISLNK(st.st_mode):
        return "link"
    return "file"


def _reconcile(directory: Path, wanted: dict[str, _Want]) -> dict[str, int]:
    stats = {"written": 0, "deleted": 0, "bytes": 0, "dirs": 0}
    existing = _scan(directory)
    # 1. Remove what should not be there, or is there as the wrong kind of entry.
    removed_dirs: set[str] = set()
    for rel in sorted(existing, key=lambda r: r.split("/")):
        if any(parent in removed_dirs for parent in _parents(rel)):
            del existing[rel]  # went with its folder
            stats["deleted"] += 1
            continue
        want = wanted.get(rel)
        st = existing[rel]
        kind = _kind(st)
        if want is not None and _KIND_ON_DISK[want.kind] == kind:
            continue
        path = directory / rel
        stats["deleted"] += 1
        if kind == "dir":
            shutil.rmtree(path)
            removed_dirs.add(rel)
        else:
            path.unlink()
        del existing[rel]
    # 2. Create and update, parents first (a parent's path sorts before its children's).
    for rel in sorted(wanted):
        want = wanted[rel]
        path = directory / rel
        current = existing.get(rel)
        if want.kind == "dir":
            if current is None:
                path.mkdir(mode=0o700)
                stats["dirs"] += 1
            if current is None or stat.S_IMODE(current.st_mode) != want.mode:
                os.chmod(path, want.mode)
        elif want.kind == "link":
            if current is None or os.readlink(path) != want.source:
                _replace_with(path, partial(_make_link, want.source))
                stats["written"] += 1
        elif want.kind == "data":
            same = current is not None and current.st_size == len(want.data)
            if not same or path.read_bytes() != want.data:
                _replace_with(path, partial(_write, want.data, 0o644))
                stats["written"] += 1
                stats["bytes"] += len(want.data)
        else:
            written = _sync_file(Path(want.source), path, current)
            if written is not None:
                stats["written"] += 1
                stats["bytes"] += written
    return stats


_KIND_ON_DISK = {"dir": "dir", "link": "link", "file": "file", "data": "file"}


def _parents(rel: str) -> Iterator[str]:
    parts = rel.split("/")
    for i in range(1, len(parts)):
        yield "/".join(parts[:i])


def _make_link(target: str, path: Path) -> None:
    os.symlink(target, path)


def _write(data: bytes, mode: int, path: Path) -> None:
    path.write_bytes(data)
    os.chmod(path, mode)


def _sync_file(source: Path, target: Path, current: os.stat_result | None) -> int | None:
    """Copy ``source`` over ``target`` unless size, mtime and mode already match.

    Returns the bytes written, or ``None`` when nothing (or only the mode) changed. The copy
    gets the mtime ``source`` had *before* copying, so a file edited during the copy looks
    changed to the next sync.
    """
    try:
        before = source.stat()
    except OSError:
        return None  # vanished since it was listed; the next sync removes it
    mode = stat.S_IMODE(before.st_mode)
    if (
        current is not None
        and current.st_size == before.st_size
        and current.st_mtime_ns == before.st_mtime_ns
    ):
        if stat.S_IMODE(current.st_mode) != mode:
            os.chmod(target, mode)
        return None

    def copy(tmp: Path) -> None:
        shutil.copyfile(source, tmp)
        os.chmod(tmp, mode)
        os.utime(tmp, ns=(before.st_atime_ns, before.st_mtime_ns))

    _replace_with(target, copy)
    return before.st_size


def _replace_with(target: Path, make: Callable[[Path], None]) -> None:
    """Create the new entry beside ``target`` with ``make`` and rename it over ``target``."""
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".r2d-tui.tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        tmp.unlink()
        make(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


# --- what to build ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildSpec:
    """Everything one build needs: the repository, its render, and the buildx options."""

    root: Path
    render: RenderResult
    """Rendered from the repository *on disk* (unsaved buffers are not built)."""
    tag: str | None = None
    """Image tag; ``None`` means :func:`default_tag`."""
    builder: str | None = None
    cache_from: tuple[str, ...] = ()
    cache_to: tuple[str, ...] = ()
    platform: str | None = None
    """``None`` means the platform the Dockerfile was rendered for."""
    extra_args: tuple[str, ...] = ()
    """More ``docker buildx build`` flags, placed just before the context path."""

    @classmethod
    def from_disk(
        cls,
        root: str | Path,
        options: RenderOptions | None = None,
        *,
        tag: str | None = None,
        builder: str | None = None,
        cache_from: tuple[str, ...] = (),
        cache_to: tuple[str, ...] = (),
        platform: str | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> BuildSpec:
        """Render the repository as it is on disk into a spec (blocking: ~20 ms, more for
        repositories whose render needs a network look-up; use a worker thread in a UI)."""
        path = Path(root).resolve()
        return cls(
            root=path,
            render=render_on_disk(Workspace(path), options),
            tag=tag,
            builder=builder,
            cache_from=cache_from,
            cache_to=cache_to,
            platform=platform,
            extra_args=extra_args,
        )

    @classmethod
    def from_workspace(
        cls,
        workspace: Workspace,
        options: RenderOptions | None = None,
        **buildx: Any,
    ) -> BuildSpec:
        """Like :meth:`from_disk`, keeping the workspace's path as the user gave it (which
        repo2docker writes into the ``repo2docker.repo`` label). Unsaved buffers are not
        built: the render reads the files on disk."""
        on_disk = Workspace(workspace.root, display_path=workspace.display_path)
        try:
            return cls(root=workspace.root, render=render_on_disk(on_disk, options), **buildx)
        finally:
            on_disk.close()

    @property
    def image_tag(self) -> str:
        return self.tag or default_tag(self.root)

    @property
    def image_platform(self) -> str | None:
        return self.platform or self.render.options.platform


def render_on_disk(workspace: Workspace, options: RenderOptions | None) -> RenderResult:
    """The render of ``workspace``'s files on disk, through :func:`detect` so that it is
    cached: a rebuild whose environment files did not change (an edit of the code or the
    data) needs no repo2docker import and no render, in a fresh ``r2d-tui build`` too."""
    from r2d_tui.core.detection import detect

    result = detect(workspace, options).render
    assert result is not None  # detect always renders
    return result


def buildx_argv(spec: BuildSpec, context_dir: Path, *, iidfile: Path | None = None) -> list[str]:
    """The ``docker buildx build`` command line, in repo2docker 2026.4.0's order.

    repo2docker: ``buildx build --progress plain --load --build-arg K=V… --cache-from X…
    [--file F] --tag T [--label k=v…] --platform P <extra args> <context>``. r2d-tui uses
    ``rawjson`` progress and adds ``--builder``, ``--cache-to`` and ``--iidfile`` just before
    the extra arguments. ``--file`` is relative to the context (the run's working folder),
    as in repo2docker, which runs from inside the repository.
    """
    result = spec.render
    plan = result.context
    argv = [DOCKER, "buildx", "build", "--progress", "rawjson", "--load"]
    for key, value in result.options.docker_build_args().items():
        argv += ["--build-arg", f"{key}={value}"]
    for ref in spec.cache_from:
        argv += ["--cache-from", ref]
    if plan is not None and plan.docker_buildpack:
        argv += ["--file", plan.dockerfile_path]
    argv += ["--tag", spec.image_tag]
    if plan is not None and plan.docker_buildpack:
        for key, value in plan.labels:
            argv += ["--label", f"{key}={value}"]
    if spec.image_platform:
        argv += ["--platform", spec.image_platform]
    if spec.builder:
        argv += ["--builder", spec.builder]
    for ref in spec.cache_to:
        argv += ["--cache-to", ref]
    if iidfile is not None:
        argv += ["--iidfile", str(iidfile)]
    argv += list(spec.extra_args)
    argv.append(str(context_dir))
    return argv


# --- events and results ----------------------------------------------------------------------


@dataclass(frozen=True)
class ContextSynced:
    """The build context is up to date; ``stats`` says what had to change."""

    stats: SyncStats
    context_dir: Path


@dataclass(frozen=True)
class BuildStarted:
    """``docker buildx build`` was started with this command line."""

    argv: tuple[str, ...]
    tag: str
    log_path: Path | None = None
    """Where the build's full log is written (:mod:`r2d_tui.core.buildlog`)."""


@dataclass(frozen=True)
class BuildCancelled:
    """The build was cancelled (superseded or stopped); its processes are gone."""

    tag: str
    duration_s: float


@dataclass(frozen=True)
class BuildFinished:
    """The build ended; ``result`` is also what :func:`run_build` returns."""

    result: BuildResult


BuildEvent = ProgressEvent | ContextSynced | BuildStarted | BuildCancelled | BuildFinished


@dataclass
class BuildResult:
    """The outcome of one build."""

    success: bool
    tag: str
    image_id: str | None = None
    duration_s: float = 0.0
    steps: list[Step] = field(default_factory=list)
    steps_run: int = 0
    """Dockerfile steps executed (internal steps and ``FROM`` are not counted)."""
    steps_cached: int = 0
    """Dockerfile steps taken from the cache (internal steps and ``FROM`` are not counted)."""
    error: str | None = None
    """What went wrong, worded for the user."""
    error_kind: ErrorKind | None = None
    failed_step: Step | None = None
    log_tail: list[str] = field(default_factory=list)
    """The last output lines: of the failed step when there is one, else of the build."""
    output: list[str] = field(default_factory=list)
    """Non-progress text buildx printed (its error summary with the Dockerfile excerpt)."""
    returncode: int | None = None
    sync: SyncStats | None = None
    argv: list[str] = field(default_factory=list)
    image_size: int | None = None
    """Bytes of the built image as the engine stores it (``docker image inspect``)."""
    render: RenderResult | None = None
    """The render that was built (for :mod:`r2d_tui.core.sources` and failure explanations)."""
    log_path: Path | None = None
    """The build's full log on disk (front ends keep only its last lines)."""


def count_steps(steps: list[Step]) -> tuple[int, int]:
    """``(run, cached)`` over finished Dockerfile steps, leaving out internal work and FROM.

    ``FROM`` only resolves the base image; BuildKit marks it cached or not at random.
    """
    run = cached = 0
    for step in steps:
        if step.internal or step.instruction == "FROM" or not step.done:
            continue
        if step.cached:
            cached += 1
        elif step.error is None:
            run += 1
    return run, cached


# --- the engine ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EngineStatus:
    """Can r2d-tui build? For a status bar, and to explain failed builds."""

    cli: str | None = None
    """Path of the docker CLI, or ``None`` when it is not on PATH."""
    buildx_version: str | None = None
    server_version: str | None = None
    problem: str | None = None
    """The first thing that is wrong, worded for the user."""

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def summary(self) -> str:
        if self.problem:
            return self.problem
        return f"Docker {self.server_version} · buildx {self.buildx_version}"


def _probe(argv: list[str]) -> tuple[int, str, str]:
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=ENGINE_PROBE_TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return -1, "", f"no answer within {ENGINE_PROBE_TIMEOUT:g} s"
    except OSError as error:
        return -1, "", str(error)
    return done.returncode, done.stdout.strip(), done.stderr.strip()


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip().removeprefix("ERROR: ").strip()
    return ""


def engine_status() -> EngineStatus:
    """Check the docker CLI, the buildx plugin and the daemon (blocking; up to ~10 s).

    The daemon is asked through the CLI (``docker version``), not the Python SDK, so the
    answer follows the same ``docker context`` / ``DOCKER_HOST`` the build will use.
    Call it from a worker thread in a UI (``await asyncio.to_thread(engine_status)``).
    """
    cli = shutil.which(DOCKER)
    if cli is None:
        return EngineStatus(
            problem="The docker command was not found. Install Docker (or put docker on PATH)."
        )
    code, out, err = _probe([cli, "buildx", "version"])
    if code != 0 or not out.startswith("github.com/docker/buildx"):
        detail = _first_line(err or out)
        return EngineStatus(
            cli=cli,
            problem="The docker buildx plugin is missing; repo2docker builds need it "
            "(install docker-buildx)." + (f" ({detail})" if detail else ""),
        )
    parts = out.split()
    buildx_version = parts[1] if len(parts) > 1 else out
    code, out, err = _probe([cli, "version", "--format", "{{.Server.Version}}"])
    if code != 0 or not out:
        detail = _first_line(err) or "no server version"
        return EngineStatus(
            cli=cli,
            buildx_version=buildx_version,
            problem=f"The Docker daemon is not reachable: {detail}",
        )
    return EngineStatus(cli=cli, buildx_version=buildx_version, server_version=out)


def check_engine() -> EngineStatus:
    """:func:`engine_status`, raising :class:`EngineError` when something is wrong."""
    status = engine_status()
    if status.problem:
        raise EngineError(status.problem)
    return status


# --- running a build -------------------------------------------------------------------------


async def run_build(
    spec: BuildSpec, on_event: Callable[[BuildEvent], None] | None = None
) -> BuildResult:
    """Sync the context and run ``docker buildx build``, reporting progress to ``on_event``.

    Returns a :class:`BuildResult` for every outcome, including a failed render, an
    unwritable context and an unusable engine (see ``error_kind``). Builds of the same
    repository run one at a time, also across processes (a CLI watch and the TUI): a build
    waits for the previous one before touching the context. Cancelling the task terminates
    the build's whole process group (SIGTERM, then SIGKILL after
    :data:`TERMINATE_GRACE_SECONDS`), emits :class:`BuildCancelled` and re-raises
    :class:`asyncio.CancelledError`. ``on_event`` runs on the event loop and must not raise.
    """
    started = time.monotonic()
    tag = spec.image_tag
    log = BuildLog.create(spec.root) if spec.render.ok else None
    given = on_event or (lambda event: None)

    def emit(event: BuildEvent) -> None:
        if log is not None and not isinstance(
            event, ContextSynced | BuildStarted | BuildCancelled | BuildFinished
        ):
            log.event(event)
        given(event)

    def finish(result: BuildResult) -> BuildResult:
        result.duration_s = time.monotonic() - started
        result.render = spec.render
        if log is not None:
            result.log_path = log.path
            log.write_text(f"{'done' if result.success else 'failed'}: "
                           f"{result.error or result.image_id or ''}".rstrip())
            log.close()
        given(BuildFinished(result))
        return result

    if not spec.render.ok or spec.render.context is None:
        problem = spec.render.problem
        message = problem.located() if problem else "the Dockerfile could not be rendered"
        return finish(BuildResult(False, tag, error=message, error_kind="render"))

    context = BuildContext(spec.root)
    try:
        async with _locked_async(context.lock_path):
            return finish(await _sync_and_build(spec, context, emit, log))
    except asyncio.CancelledError:
        if log is not None:
            log.write_text("cancelled")
            log.close()
        given(BuildCancelled(tag, time.monotonic() - started))
        raise


async def _sync_and_build(
    spec: BuildSpec, context: BuildContext, emit: Callable[[BuildEvent], None],
    log: BuildLog | None = None,
) -> BuildResult:
    tag = spec.image_tag
    # The copy runs in a thread, which cancellation cannot stop: let it finish before the
    # lock is released, so that the next build never syncs into a folder being written.
    sync = asyncio.ensure_future(asyncio.to_thread(context.sync, spec.render, lock=False))
    try:
        stats = await asyncio.shield(sync)
    except asyncio.CancelledError:
        with contextlib.suppress(BaseException):
            await sync
        raise
    except (OSError, ValueError) as error:
        message = f"could not prepare the build context: {error}"
        return BuildResult(False, tag, error=message, error_kind="context")
    context_path = context.path_for(spec.render)
    emit(ContextSynced(stats, context_path))

    if shutil.which(DOCKER) is None:
        status = await asyncio.to_thread(engine_status)
        return BuildResult(False, tag, error=status.problem, error_kind="engine", sync=stats)

    with tempfile.TemporaryDirectory(prefix="r2d-tui-build-") as scratch:
        iidfile = Path(scratch) / "iid"
        argv = buildx_argv(spec, context_path, iidfile=iidfile)
        if log is not None:
            log.write_text("$ " + " ".join(argv))
        result = await _run_buildx(argv, context_path, emit, tag,
                                   log.path if log is not None else None,
                                   expected_steps(spec.render))
        image_id = iidfile.read_text().strip() if iidfile.exists() else ""
    result.image_id = image_id or None
    result.sync = stats
    result.argv = argv
    if result.success and result.image_id:
        result.image_size = await image_size(result.image_id)
    if not result.success and result.error_kind == "build" and (
        not result.steps or result.failed_step is None
    ):
        # Nothing reached BuildKit, or no step failed (the daemon stopped mid-build and
        # buildx lost it: "failed to receive status: … EOF"): is the engine the problem?
        status = await asyncio.to_thread(engine_status)
        if status.problem:
            lost = f" (the build stopped: {result.error})" if result.steps else ""
            result.error, result.error_kind = status.problem + lost, "engine"
    return result


def expected_steps(result: RenderResult) -> tuple[ExpectedStep, ...]:
    """The steps of the Dockerfile a build of ``result`` sends to BuildKit, numbered as
    BuildKit numbers them (see :meth:`ProgressTracker._renumber`)."""
    from r2d_tui.core import sources

    plan = result.context
    if result.dockerfile is None or plan is None:
        return ()
    text = result.dockerfile
    if not plan.docker_buildpack:
        text, _ = stable_context_names(text, plan.extra_files)
    return sources.expected_steps(text)


async def _run_buildx(
    argv: list[str], cwd: Path, emit: Callable[[BuildEvent], None], tag: str,
    log_path: Path | None = None,
    expected: tuple[ExpectedStep, ...] = (),
) -> BuildResult:
    tracker = ProgressTracker(expected=expected)
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # own process group: cancel kills docker *and* the plugin
        )
    except OSError as error:
        return BuildResult(
            False, tag, error=f"could not run {argv[0]}: {error}", error_kind="engine"
        )
    emit(BuildStarted(tuple(argv), tag, log_path))

    async def read_progress() -> None:
        assert proc.stderr is not None
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        while chunk := await proc.stderr.read(65536):
            _emit_all(tracker.feed_text(decoder.decode(chunk)), emit)
        _emit_all(tracker.feed_text(decoder.decode(b"", final=True)), emit)
        _emit_all(tracker.finish(), emit)

    async def read_stdout() -> None:  # empty with --load; read so the pipe never fills
        assert proc.stdout is not None
        pending = b""
        while chunk := await proc.stdout.read(65536):
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                _emit_all(tracker.add_text(line.decode("utf-8", "replace").rstrip("\r")), emit)
        _emit_all(tracker.add_text(pending.decode("utf-8", "replace")), emit)

    try:
        await asyncio.gather(read_progress(), read_stdout())
        returncode = await proc.wait()
    except BaseException:  # cancelled (superseded, Ctrl-C) or a failing event handler
        await _terminate(proc)
        raise
    return _result(tracker, tag, returncode)


def _emit_all(events: list[ProgressEvent], emit: Callable[[BuildEvent], None]) -> None:
    for event in events:
        emit(event)


async def _terminate(proc: asyncio.subprocess.Process) -> None:
    """Stop the build's process group: SIGTERM, a grace period, then SIGKILL.

    The group is signalled before the leader is reaped, so its id cannot have been reused.
    A second cancellation during the grace period goes straight to SIGKILL.
    """
    if proc.returncode is None:
        _signal_group(proc.pid, signal.SIGTERM)
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(proc.wait()), TERMINATE_GRACE_SECONDS)
    # Anything left in the group (a plugin that outlived the CLI) is killed as well.
    _signal_group(proc.pid, signal.SIGKILL)
    if proc.returncode is None:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(proc.wait())


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _result(tracker: ProgressTracker, tag: str, returncode: int) -> BuildResult:
    steps = tracker.steps
    run, cached = count_steps(steps)
    failed = tracker.failed_step
    if failed is not None and failed.logs:
        tail = failed.logs[-LOG_TAIL_LINES:]
    else:
        tail = [line for _, line in list(tracker.recent_lines)[-LOG_TAIL_LINES:]]
    result = BuildResult(
        success=returncode == 0,
        tag=tag,
        steps=steps,
        steps_run=run,
        steps_cached=cached,
        failed_step=failed,
        log_tail=tail,
        output=list(tracker.text_lines),
        returncode=returncode,
    )
    if returncode != 0:
        result.error_kind = "build"
        if tracker.error_line:
            result.error = tracker.error_line
        elif failed is not None:
            result.error = f"{failed.name}: {failed.error}"
        else:  # buildx's own complaint ("unknown flag: --foo") comes first
            lines = [line.strip() for line in tracker.text_lines if line.strip()]
            result.error = (
                lines[0] if lines else f"docker buildx build exited with status {returncode}"
            )
    return result


async def _reap(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.shield(proc.wait())


async def image_size(image: str) -> int | None:
    """Size in bytes of a local image (``docker image inspect``), or ``None`` if unknown."""
    try:
        proc = await asyncio.create_subprocess_exec(
            DOCKER, "image", "inspect", "--format", "{{.Size}}", image,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
    except OSError:
        return None
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), ENGINE_PROBE_TIMEOUT)
    except TimeoutError:
        await _reap(proc)
        return None
    except BaseException:  # cancelled: do not leave the process behind
        await _reap(proc)
        raise
    text = out.decode("ascii", "replace").strip()
    return int(text) if proc.returncode == 0 and text.isdigit() else None


def format_size(size: int | None) -> str:
    """``1.2 GB``, ``340.0 MB``, ``12 kB`` (decimal units, as docker prints them)."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "kB", "MB"):
        if value < 1000:
            return f"{value:.0f} {unit}" if unit != "MB" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def run_build_sync(
    spec: BuildSpec, on_event: Callable[[BuildEvent], None] | None = None
) -> BuildResult:
    """:func:`run_build` for callers without an event loop (the CLI).

    Ctrl-C cancels the build (its processes are stopped) and raises ``KeyboardInterrupt``.
    """
    return asyncio.run(run_build(spec, on_event))
