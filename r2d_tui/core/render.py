"""The Dockerfile, exactly as repo2docker renders it, for a workspace with unsaved buffers.

repo2docker is the renderer: this module only drives its buildpacks (``detect()`` then
``render()``), the way ``Repo2Docker.build()`` does for ``repo2docker --no-build``, so the
text is byte-identical for the same version and options. What it adds around them:

* **Working directory.** Buildpacks resolve every path against ``os.getcwd()``, which is
  process-global. All buildpack calls happen under :data:`RENDER_LOCK` inside
  :func:`_chdir`, so renders from worker threads never interleave.
* **Unsaved buffers.** The workspace materialises an overlay directory with the buffers
  written over the on-disk files (:meth:`Workspace.materialized`).
* **Network look-ups.** R renders ask Posit's package manager for a snapshot URL and Julia
  renders download the list of Julia versions, without a timeout. :mod:`lookups` bounds
  them in time, caches them, and falls back (with a note) when offline.
* **Speed.** repo2docker compiles the same Jinja template on every render (about 75 % of a
  render). The compiled template is cached; the output is unchanged.
* **Messages.** The ``repo2docker`` logger's warnings (for example "Python version
  unspecified") are collected as notes instead of going to stderr.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from r2d_tui.core import lazy
from r2d_tui.core.paths import cache_dir
from r2d_tui.core.workspace import Workspace

#: Serialises every call into repo2docker's buildpacks (they depend on the process cwd).
RENDER_LOCK = threading.RLock()

#: Held while a thread imports repo2docker or the Docker SDK for the first time: two
#: threads importing the same packages at once (a render and the TUI's start-up clean-up of
#: orphaned containers both import ``docker``) can fail with ``KeyError: 'docker'``. The one
#: lock of :mod:`r2d_tui.core.lazy`, so every guarded import waits for every other.
IMPORT_LOCK = lazy.IMPORT_LOCK

#: Buildpack class name → the short name used by ``r2d-tui detect``.
BUILDPACK_KEYS: dict[str, str] = {
    "DockerBuildPack": "docker",
    "JuliaProjectTomlBuildPack": "julia",
    "JuliaRequireBuildPack": "julia-require",
    "NixBuildPack": "nix",
    "RBuildPack": "r",
    "CondaBuildPack": "conda",
    "PipfileBuildPack": "pipfile",
    "PythonBuildPack": "python",
}


def repo2docker_defaults() -> dict[str, Any]:
    """repo2docker's own defaults for the options r2d-tui shares with it."""
    import getpass

    lazy.load("repo2docker.utils")  # first import: one thread at a time
    from repo2docker.utils import get_platform

    return {
        "base_image": app_defaults().base_image,
        "user_id": os.geteuid(),
        "user_name": getpass.getuser(),
        "platform": get_platform(),
    }


@dataclass(frozen=True)
class RenderOptions:
    """The repo2docker options that change the generated Dockerfile.

    ``None`` means "repo2docker's default" (its base image, the invoking user's id and name,
    the host platform), so that ``r2d-tui dockerfile`` and ``repo2docker --no-build`` agree
    when given the same options.
    """

    base_image: str | None = None
    user_id: int | None = None
    user_name: str | None = None
    appendix: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    target_repo_dir: str = ""
    build_args: tuple[tuple[str, str], ...] = ()
    platform: str | None = None

    def resolved(self) -> RenderOptions:
        """These options with every default filled in from repo2docker."""
        defaults = repo2docker_defaults()
        return RenderOptions(
            base_image=self.base_image if self.base_image is not None else defaults["base_image"],
            user_id=self.user_id if self.user_id is not None else defaults["user_id"],
            user_name=self.user_name if self.user_name is not None else defaults["user_name"],
            appendix=self.appendix,
            labels=self.labels,
            target_repo_dir=self.target_repo_dir,
            build_args=self.build_args,
            platform=self.platform or defaults["platform"],
        )

    def docker_build_args(self) -> dict[str, str]:
        """The ``--build-arg`` values repo2docker passes to the build (after :meth:`resolved`)."""
        args = {"NB_USER": str(self.user_name), "NB_UID": str(self.user_id)}
        if self.target_repo_dir:
            args["REPO_DIR"] = self.target_repo_dir
        args.update(dict(self.build_args))
        return args


@dataclass(frozen=True)
class RenderProblem:
    """Why a render failed, located in a file when the error says where."""

    message: str
    path: str | None = None
    line: int | None = None
    column: int | None = None

    @property
    def location(self) -> str:
        """``file:line:col`` as far as it is known (``""`` when no file is known)."""
        if self.path is None:
            return ""
        parts = [self.path]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def located(self) -> str:
        """The message with its location first, as every front end prints it."""
        return f"{self.location}: {self.message}" if self.location else self.message


@dataclass(frozen=True)
class ContextPlan:
    """What the build context of this render holds, besides the Dockerfile text.

    For generated Dockerfiles repo2docker builds a context of ``Dockerfile``,
    ``build_script_files/<name>`` (files shipped with repo2docker), the entrypoint scripts,
    and ``src/`` (the repository minus its ignore patterns). For a Dockerfile repository the
    context is the repository itself.
    """

    docker_buildpack: bool
    dockerfile_path: str
    """Repository-relative path of the user's Dockerfile (Dockerfile repos only)."""
    extra_files: tuple[tuple[str, str], ...] = ()
    """``(context name, absolute source path)`` of repo2docker's own files."""
    ignore_patterns: tuple[str, ...] = ()
    """``.dockerignore`` / ``.containerignore`` patterns repo2docker applies to ``src/``."""
    labels: tuple[tuple[str, str], ...] = ()
    """Labels repo2docker passes as ``--label`` (Dockerfile repos only)."""


@dataclass(frozen=True)
class RenderResult:
    """The outcome of one render."""

    buildpack: str | None
    """Short buildpack name (``conda``, ``python``, …), or ``None`` when detection failed."""
    buildpack_class: str | None
    dockerfile: str | None
    """The Dockerfile text (without the newline ``print`` adds), or ``None`` on failure."""
    options: RenderOptions
    notes: tuple[str, ...] = ()
    """repo2docker's log messages and r2d-tui's notes (unresolved look-ups, …)."""
    problem: RenderProblem | None = None
    context: ContextPlan | None = None
    offline_placeholders: bool = False
    """True when a network look-up could not be made and a placeholder was used."""

    @property
    def ok(self) -> bool:
        return self.dockerfile is not None


# --- repo2docker integration -------------------------------------------------------------

_installed = False


def prepare_renderer() -> None:
    """Import repo2docker and install r2d-tui's patches now (0.3–0.5 s, idempotent).

    For a front end that showed a cached preview without importing repo2docker: doing this
    in a worker thread right after means the first edit's preview does not pay for it.
    """
    _install_patches()


def _install_patches() -> None:
    """Cache repo2docker's compiled template and bound its network look-ups (idempotent)."""
    if _installed:
        return
    with RENDER_LOCK, IMPORT_LOCK:  # two threads' first renders must not patch twice
        _install_patches_once()


def _install_patches_once() -> None:
    global _installed
    if _installed:
        return
    import jinja2
    lazy.load("repo2docker.buildpacks")  # first import: one thread at a time
    from repo2docker.buildpacks import base

    class _CachedJinja:
        """Stands in for the ``jinja2`` module inside ``repo2docker.buildpacks.base``."""

        _cache: dict[str, jinja2.Template] = {}

        def __getattr__(self, name: str) -> Any:
            return getattr(jinja2, name)

        def Template(self, source: str) -> jinja2.Template:  # noqa: N802 - mirrors jinja2
            template = self._cache.get(source)
            if template is None:
                template = self._cache[source] = _compiled_template(source)
            return template

    base.jinja2 = _CachedJinja()
    _memoize_environment_yaml()
    from r2d_tui.core import lookups

    lookups.install()
    _installed = True


def _compiled_template(source: str) -> Any:
    """``jinja2.Template(source)``, with the compiled code kept on disk between runs.

    Compiling repo2docker's Dockerfile template is 10–15 ms of every first render, and the
    template is the same for every repository. Jinja's own bytecode cache keeps the code
    object (checked against the template source, Jinja's and Python's versions); the
    template is then made exactly as ``jinja2.Template`` makes it, in the same kind of
    environment (taken from a template of an empty source), so it renders the same bytes.
    Without a usable cache folder it compiles, as repo2docker does.
    """
    import hashlib

    import jinja2
    from jinja2.bccache import FileSystemBytecodeCache

    from r2d_tui.core.paths import cache_dir

    environment = jinja2.Template("").environment  # the one jinja2.Template(source) uses
    name = "repo2docker-" + hashlib.sha256(source.encode()).hexdigest()[:24]
    code = None
    try:
        folder = cache_dir() / "jinja"
        folder.mkdir(parents=True, exist_ok=True)
        bytecode_cache = FileSystemBytecodeCache(str(folder))
        bucket = bytecode_cache.get_bucket(environment, name, None, source)
        code = bucket.code
        if code is None:
            code = bucket.code = environment.compile(source)
            bytecode_cache.set_bucket(bucket)
    except Exception:  # noqa: BLE001 - a cache that cannot be used is only slower
        if code is None:
            code = environment.compile(source)
    return jinja2.Template.from_code(environment, code, environment.make_globals(None), None)


def _memoize_environment_yaml() -> None:
    """Parse each environment.yml text once, not on every render.

    ``CondaBuildPack.environment_yaml`` parses the file with ruamel.yaml (about 70 % of a
    conda render) on every new buildpack, i.e. on every keystroke of the preview. We keep
    repo2docker's own property and cache its result keyed by the file's path and exact
    bytes; errors are not cached (they are raised again, as repo2docker would).
    """
    lazy.load("repo2docker.buildpacks")  # first import: one thread at a time
    from repo2docker.buildpacks.conda import CondaBuildPack

    original = CondaBuildPack.environment_yaml.fget
    cache: dict[tuple[str, bytes], Any] = {}

    def environment_yaml(self: Any) -> Any:
        if self._environment_yaml is not None:
            return self._environment_yaml
        path = self.environment_yaml_path
        if path is None:
            return original(self)
        try:
            with open(path, "rb") as handle:
                key = (path, handle.read())
        except OSError:
            return original(self)
        if key not in cache:
            if len(cache) > 64:
                cache.clear()
            cache[key] = original(self)
        self._environment_yaml = cache[key]
        return self._environment_yaml

    CondaBuildPack.environment_yaml = property(environment_yaml)


class _NoteHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage().strip()
        if message and message not in self.messages:
            self.messages.append(message)


@contextlib.contextmanager
def _chdir(path: Path) -> Iterator[None]:
    with RENDER_LOCK:
        old = os.getcwd()
        os.chdir(path)
        try:
            yield
        finally:
            os.chdir(old)


@contextlib.contextmanager
def collect_notes() -> Iterator[list[str]]:
    """Capture the ``repo2docker`` logger (and r2d-tui's look-up notes) into a list."""
    from r2d_tui.core import lookups

    logger = logging.getLogger("repo2docker")
    handler = _NoteHandler()
    logger.addHandler(handler)
    old_level = logger.level
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    notes: list[str] = []
    lookups.NOTES.clear()
    try:
        yield notes
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        notes.extend(handler.messages)
        notes.extend(n for n in lookups.NOTES if n not in notes)


def pick_buildpack(base_image: str) -> Any:
    """Detect the buildpack for the current directory exactly as ``Repo2Docker.build`` does.

    Call with the cwd set to the repository (under :data:`RENDER_LOCK`).
    """
    defaults = app_defaults()
    for buildpack_class in defaults.buildpacks:
        buildpack = buildpack_class(base_image=base_image)
        if buildpack.detect():
            return buildpack
    return defaults.default_buildpack(base_image=base_image)


@dataclass(frozen=True)
class AppDefaults:
    """The defaults of ``Repo2Docker`` that a render uses."""

    buildpacks: tuple[Any, ...]
    """``Repo2Docker.buildpacks``: the buildpack classes, in the order they are tried."""
    default_buildpack: Any
    """``Repo2Docker.default_buildpack``: used when no buildpack detects the repository."""
    base_image: str
    """``Repo2Docker.base_image``."""


_app_defaults: AppDefaults | None = None

#: The file in :func:`r2d_tui.core.paths.cache_dir` that keeps :class:`AppDefaults`.
APP_DEFAULTS_FILE = "repo2docker-defaults.json"


def app_defaults() -> AppDefaults:
    """``Repo2Docker``'s buildpack order, default buildpack and base image.

    They are read from a ``Repo2Docker()`` once per installation of repo2docker and kept in
    the cache folder, keyed by the text of ``repo2docker/app.py`` where they are written,
    so that rendering a repository never seen before does not import ``repo2docker.app``
    (with traitlets' Application and the content providers, a quarter of repo2docker's
    import time). A missing, stale or unreadable record is made again from the app.
    """
    global _app_defaults
    if _app_defaults is None:
        lazy.load("repo2docker.buildpacks")  # first import: one thread at a time
        import repo2docker

        app_source = os.path.join(os.path.dirname(str(repo2docker.__file__)), "app.py")
        key = _file_key(app_source)
        record = cache_dir() / APP_DEFAULTS_FILE
        _app_defaults = (_read_app_defaults(record, key) if key else None) or _app_defaults_from(
            record, key
        )
    return _app_defaults


def _file_key(path: str) -> str | None:
    import hashlib

    try:
        with open(path, "rb") as handle:
            return f"{path}:{hashlib.sha256(handle.read()).hexdigest()}"
    except OSError:
        return None


def _read_app_defaults(record: Path, key: str) -> AppDefaults | None:
    import json

    try:
        data = json.loads(record.read_text(encoding="utf-8"))
        if data.get("key") != key:
            return None
        buildpacks = tuple(_class_named(name) for name in data["buildpacks"])
        default_buildpack = _class_named(data["default_buildpack"])
        base_image = data["base_image"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError, ImportError):
        return None
    if not isinstance(base_image, str) or not buildpacks:
        return None
    return AppDefaults(buildpacks, default_buildpack, base_image)


def _class_named(name: str) -> Any:
    module_name, _, qualname = name.partition(":")
    if not module_name.startswith("repo2docker."):
        raise ImportError(name)
    found: Any = lazy.load(module_name)
    for part in qualname.split("."):
        found = getattr(found, part)
    if not isinstance(found, type):
        raise TypeError(name)
    return found


def _class_name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _app_defaults_from(record: Path, key: str | None) -> AppDefaults:
    """Read the defaults off a ``Repo2Docker()``, and keep them in ``record``."""
    import json
    import tempfile

    app = lazy.load("repo2docker.app").Repo2Docker()
    defaults = AppDefaults(tuple(app.buildpacks), app.default_buildpack, str(app.base_image))
    if key is None:
        return defaults
    data = {
        "key": key,
        "buildpacks": [_class_name(c) for c in defaults.buildpacks],
        "default_buildpack": _class_name(defaults.default_buildpack),
        "base_image": defaults.base_image,
    }
    with contextlib.suppress(OSError):
        record.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=record.parent, prefix=".defaults-", delete=False
        ) as handle:
            json.dump(data, handle)
        try:
            os.replace(handle.name, record)
        except OSError:
            os.unlink(handle.name)
            raise
    return defaults


def repo_label(workspace: Workspace) -> str:
    """The ``repo2docker.repo`` label repo2docker would write for this path argument.

    repo2docker evaluates ``os.path.isdir(repo)`` *after* changing into the repository, so
    an absolute path (or ``.``) gives ``local`` while a relative path like ``myrepo`` gives
    ``myrepo``. We reproduce that quirk to stay byte-identical.
    """
    given = workspace.display_path
    return "local" if os.path.isdir(os.path.join(workspace.root, given)) else given


def problem_from_exception(error: BaseException, workspace_dir: Path) -> RenderProblem:
    """Turn a buildpack exception into a message with a file and line where possible."""
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    if mark is not None:
        name = str(getattr(mark, "name", "") or "")
        path = _relative(name, workspace_dir)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        return RenderProblem(
            f"invalid YAML: {problem}", path, int(mark.line) + 1, int(mark.column) + 1
        )
    lineno = getattr(error, "lineno", None)
    if lineno is not None and hasattr(error, "doc"):
        column = getattr(error, "colno", None)
        return RenderProblem(f"invalid TOML: {error}", None, int(lineno), column)
    if isinstance(error, OSError) and isinstance(error.filename, str | bytes):
        # repo2docker could not open a config file: name the file, not the exception
        rel = _relative(os.fsdecode(error.filename), workspace_dir)
        if isinstance(error, IsADirectoryError):
            message = (f"{rel} is a folder, but repo2docker reads it as a file and fails "
                       "(IsADirectoryError); rename or remove the folder")
        elif isinstance(error, PermissionError):
            message = (f"{rel} cannot be read (permission denied), and repo2docker must "
                       "read it; make it readable (chmod a+r)")
        else:
            message = f"{rel} cannot be read: {error.strerror or error}"
        return RenderProblem(message, rel, 1, 1)
    text = str(error).strip() or type(error).__name__
    if "both a 'binder' and a '.binder' directory" in text:
        return RenderProblem(text, ".binder")
    path, line, column = _locate_quoted_value(text, workspace_dir)
    return RenderProblem(_plain_message(error, text), path, line, column)


#: Exception classes whose name adds nothing to repo2docker's own sentence.
_SELF_EXPLAINING_ERRORS = frozenset({"Exception", "RuntimeError", "ValueError", "OSError"})


def _plain_message(error: BaseException, text: str) -> str:
    """repo2docker's sentence, with the exception's class only where it says something
    (``InvalidVersion`` → "invalid version: …"), never a bare Python class name first."""
    name = type(error).__name__
    if name in _SELF_EXPLAINING_ERRORS or isinstance(error, OSError):
        return text
    # InvalidVersion → invalid version, IsADirectory → is a directory
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name).lower()
    return text if text.lower().startswith(words) else f"{words}: {text}"


#: Read at most this much of an environment file when looking for a value.
_LOCATE_LIMIT = 1 << 20


def _locate_quoted_value(
    text: str, workspace_dir: Path
) -> tuple[str | None, int | None, int | None]:
    """The environment file, line and column of the value an error message quotes.

    repo2docker's errors quote the value they choke on (``Invalid version: '3.x'`` from
    ``runtime.txt``, ``Python version 3.4 on linux-64 is not supported!`` from
    ``environment.yml``) but not the file. The value is looked up in the environment files
    repo2docker reads (the binder folder's first, then the root's); the first line that
    holds it names the file.
    """
    from r2d_tui.core.envfiles import BINDER_DIRS, candidate_paths

    values = [v for v in re.findall(r"'([^'\n]{2,})'|\"([^\"\n]{2,})\"", text) for v in v if v]
    values += re.findall(r"\bversion (\d+(?:\.\d+)+)\b", text)
    if not values:
        return None, None, None
    paths = candidate_paths(workspace_dir)
    paths.sort(key=lambda rel: not rel.startswith(tuple(f"{d}/" for d in BINDER_DIRS)))
    for rel in paths:
        try:
            with open(workspace_dir / rel, encoding="utf-8", errors="replace") as handle:
                lines = handle.read(_LOCATE_LIMIT).splitlines()
        except OSError:
            continue
        for value in values:
            for number, line in enumerate(lines, start=1):
                if value in line:
                    return rel, number, line.index(value) + 1
    return None, None, None


def _relative(name: str, workspace_dir: Path) -> str | None:
    if not name or name.startswith("<"):
        return None
    path = Path(name)
    if not path.is_absolute():
        return path.as_posix()
    with contextlib.suppress(ValueError):
        return path.relative_to(workspace_dir).as_posix()
    return path.as_posix()


def configure_and_render(buildpack: Any, options: RenderOptions, label: str) -> str:
    """Set up a detected buildpack as ``Repo2Docker.build`` does and render it.

    Call with the cwd set to the repository (under :data:`RENDER_LOCK`).
    """
    lazy.load("repo2docker.buildpacks")  # first import: one thread at a time
    from repo2docker import __version__ as r2d_version

    buildpack.platform = options.platform
    buildpack.appendix = options.appendix
    buildpack.labels["repo2docker.version"] = r2d_version
    buildpack.labels["repo2docker.repo"] = label
    buildpack.labels["repo2docker.ref"] = None
    buildpack.labels.update(dict(options.labels))
    # repo2docker walks the whole tree on every render only to log that Stencila support was
    # removed; that walk dominates renders of large repositories and changes no output.
    buildpack._check_stencila = lambda: None
    return str(buildpack.render(options.docker_build_args()))


def _context_plan(buildpack: Any) -> ContextPlan:
    lazy.load("repo2docker.buildpacks")  # first import: one thread at a time
    from repo2docker.buildpacks import base

    name = type(buildpack).__name__
    if name == "DockerBuildPack":
        return ContextPlan(
            docker_buildpack=True,
            dockerfile_path=os.path.normpath(buildpack.binder_path("Dockerfile")),
            labels=tuple((k, str(v)) for k, v in buildpack.get_labels().items()),
        )
    extra: list[tuple[str, str]] = []
    for src in sorted(buildpack.get_build_script_files()):
        extra.append(buildpack.generate_build_context_filename(src))
    for fname in ("repo2docker-entrypoint", "python3-login"):
        extra.append((fname, os.path.join(base.HERE, fname)))
    patterns: list[str] = []
    for ignore_name in (".dockerignore", ".containerignore"):
        ignore_path = buildpack.binder_path(ignore_name)
        if os.path.isfile(ignore_path):
            with open(ignore_path, encoding="utf-8", errors="replace") as handle:
                lines = [line.strip() for line in handle.read().splitlines()]
            patterns.extend(line for line in lines if line and not line.startswith("#"))
    return ContextPlan(
        docker_buildpack=False,
        dockerfile_path="Dockerfile",
        extra_files=tuple(extra),
        ignore_patterns=tuple(patterns),
    )


def render(workspace: Workspace, options: RenderOptions | None = None) -> RenderResult:
    """Render the Dockerfile repo2docker would generate for ``workspace`` (buffers included).

    Never raises for problems in the repository: they come back as ``result.problem``.
    Safe to call from any thread.
    """
    return render_hidden(workspace, options, frozenset())


def render_saved(workspace: Workspace, options: RenderOptions | None = None) -> RenderResult:
    """:func:`render` of the files as saved on disk, ignoring unsaved buffers."""
    on_disk = Workspace(workspace.root, display_path=workspace.display_path)
    try:
        return render(on_disk, options)
    finally:
        on_disk.close()


#: Environment files larger than this are not handed to repo2docker (its YAML parser
#: needs minutes for tens of megabytes; a preview must not hang on them).
MAX_ENV_FILE_BYTES = 10 * 1024 * 1024


def unreadable_env_file(
    workspace: Workspace, hide: frozenset[str] = frozenset()
) -> RenderProblem | None:
    """A config file repo2docker would open but must not: a FIFO, socket or device would
    block or misbehave (repo2docker opens it unconditionally), an oversized file would
    stall the render, and an undecodable one fails with a message naming no file."""
    import stat as stat_module

    from r2d_tui.core.envfiles import BINDER_DIRS, ENV_FILE_NAMES

    overrides = workspace.overrides()
    for folder in ("", *BINDER_DIRS):
        base = workspace.root / folder if folder else workspace.root
        try:
            names = [n for n in os.listdir(base)
                     if n in ENV_FILE_NAMES and n not in NOT_READ_AT_RENDER]
        except OSError:
            continue
        for name in names:
            rel = f"{folder}/{name}" if folder else name
            if rel in hide or rel in overrides:
                continue
            try:
                info = os.stat(base / name)
            except OSError:
                continue  # a dangling link or a loop: repo2docker treats it as absent
            if stat_module.S_ISDIR(info.st_mode):
                continue  # repo2docker fails on it with IsADirectoryError, reported as is
            if not stat_module.S_ISREG(info.st_mode):
                kind = "a FIFO" if stat_module.S_ISFIFO(info.st_mode) else "not a regular file"
                return RenderProblem(
                    f"{rel} is {kind}: repo2docker would block reading it; replace it with "
                    "a regular file", rel, 1, 1,
                )
            if name.startswith("requirements") and _is_binary(base / name):
                return RenderProblem(
                    f"{rel} is a binary file, not a list of requirements: repo2docker "
                    "fails on it", rel, 1, 1,
                )
            if info.st_size > MAX_ENV_FILE_BYTES:
                return RenderProblem(
                    f"{rel} is {info.st_size // (1024 * 1024)} MB: too large to render "
                    f"(limit {MAX_ENV_FILE_BYTES // (1024 * 1024)} MB)", rel, 1, 1,
                )
    return None


#: Files repo2docker only checks for existence while rendering (it reads them at build
#: time, or never): a FIFO or binary one must not stop the preview.
NOT_READ_AT_RENDER = frozenset({
    "postBuild", "start", ".dockerignore", ".containerignore", "setup.py", "Manifest.toml",
})


def _is_binary(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            head = handle.read(8192)
    except OSError:
        return False
    return b"\0" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff"))


def toml_error_place(error: Exception) -> tuple[str, int, int]:
    """``(message without the place, line, column)`` of a TOML parse error."""
    match = re.search(r"\((?:at )?line (\d+), column (\d+)\)", str(error))
    line, column = (int(match.group(1)), int(match.group(2))) if match else (1, 1)
    return re.sub(r"\s*\((?:at )?line \d+, column \d+\)", "", str(error)), line, column


def _bad_toml(directory: Path, error: Exception) -> RenderProblem:
    """Name the TOML config file repo2docker could not parse, with its line."""
    import tomllib

    from r2d_tui.core.envfiles import BINDER_DIRS

    for folder in ("", *BINDER_DIRS):
        for name in ("pyproject.toml", "Project.toml", "JuliaProject.toml", "Pipfile"):
            rel = f"{folder}/{name}" if folder else name
            path = directory / rel
            try:
                if not path.is_file():
                    continue
                tomllib.loads(path.read_text(encoding="utf-8", errors="replace"))
            except tomllib.TOMLDecodeError as bad:
                detail, line, column = toml_error_place(bad)
                return RenderProblem(f"invalid TOML in {rel}: {detail}", rel, line, column)
            except OSError:
                continue
    return RenderProblem(f"invalid TOML: {error}")


def _undecodable(directory: Path, error: UnicodeDecodeError) -> RenderProblem:
    """Name the config file repo2docker could not decode as UTF-8, with its line."""
    from r2d_tui.core.envfiles import BINDER_DIRS, ENV_FILE_NAMES

    for folder in ("", *BINDER_DIRS):
        base = directory / folder if folder else directory
        for name in sorted(ENV_FILE_NAMES):
            path = base / name
            try:
                data = path.read_bytes() if path.is_file() else None
            except OSError:
                continue
            if data is None:
                continue
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as bad:
                rel = f"{folder}/{name}" if folder else name
                line = data[: bad.start].count(b"\n") + 1
                return RenderProblem(
                    f"{rel} is not UTF-8 text (byte 0x{data[bad.start]:02x}): repo2docker "
                    "cannot read it; save it as UTF-8", rel, line, 1,
                )
    return RenderProblem(f"UnicodeDecodeError: {error}")


def render_hidden(
    workspace: Workspace, options: RenderOptions | None, hide: frozenset[str]
) -> RenderResult:
    """:func:`render` as if the repository-relative paths in ``hide`` did not exist."""
    _install_patches()
    opts = (options or RenderOptions()).resolved()
    blocked = unreadable_env_file(workspace, hide)
    if blocked is not None:
        return RenderResult(None, None, None, opts, problem=blocked)
    label = repo_label(workspace)
    buildpack: Any = None
    problem: RenderProblem | None = None
    text: str | None = None
    plan: ContextPlan | None = None
    with (
        RENDER_LOCK,
        workspace.materialized(hide=hide) as directory,
        _chdir(directory),
        collect_notes() as notes,
    ):
        try:
            buildpack = pick_buildpack(str(opts.base_image))
            text = configure_and_render(buildpack, opts, label)
            plan = _context_plan(buildpack)
        except UnicodeDecodeError as error:
            problem = _undecodable(directory, error)
            text, plan = None, None
        except Exception as error:  # repo2docker raises many kinds: report, don't crash
            if "TOMLDecodeError" in type(error).__name__ or "TomlDecodeError" in type(
                error
            ).__name__:
                problem = _bad_toml(directory, error)
            else:
                problem = problem_from_exception(error, directory)
            text, plan = None, None

    from r2d_tui.core import lookups

    class_name = type(buildpack).__name__ if buildpack is not None else None
    return RenderResult(
        buildpack=BUILDPACK_KEYS.get(class_name or ""),
        buildpack_class=class_name,
        dockerfile=text,
        options=opts,
        notes=tuple(notes),
        problem=problem,
        context=plan,
        offline_placeholders=any(n.startswith(lookups.PLACEHOLDER_NOTE) for n in notes),
    )


#: mybinder.org's user, used for builds when repo2docker's default (you) would be root.
BINDER_USER_ID = 1000
BINDER_USER_NAME = "jovyan"


def options_for_build(options: RenderOptions) -> tuple[RenderOptions, str | None]:
    """The options to build with, and a note when they differ from ``options``.

    repo2docker refuses to build with user id 0 ("Root as the primary user in the image is
    not permitted"), and its default user id is the invoking user's. So when r2d-tui runs
    as root and no user id was given, builds use mybinder.org's ``1000``/``jovyan``.
    """
    if options.user_id is not None or os.geteuid() != 0:
        return options, None
    from dataclasses import replace

    adjusted = replace(
        options,
        user_id=BINDER_USER_ID,
        user_name=options.user_name or BINDER_USER_NAME,
    )
    return adjusted, (
        "running as root: building with --user-id 1000 --user-name jovyan "
        "(repo2docker refuses user id 0; mybinder.org uses these)"
    )
