"""Run a built image the way ``repo2docker`` runs it, and never leave a container behind.

What repo2docker 2026.4 does when it runs an image (``Repo2Docker.start_container``):

* the command is ``jupyter notebook --ip=0.0.0.0 --port=P
  --ServerApp.custom_display_url=http://127.0.0.1:P --ServerApp.default_url=/lab``, with the
  same free port ``P`` inside and outside the container (or the user's command, after ``--``);
* no user and no working directory are given, so the image's ``USER`` and ``WORKDIR`` apply
  (``${NB_USER}`` and ``${REPO_DIR}`` for a generated Dockerfile), and the command goes
  through the image's ``ENTRYPOINT`` (``repo2docker-entrypoint``, which runs ``start``);
* environment variables come only from ``-e KEY=VALUE``;
* ``--editable`` bind-mounts the repository at ``"."`` resolved against the image's
  ``WorkingDir``.

r2d-tui does the same through the Docker SDK, with these differences, each on purpose:

* the port is published on **127.0.0.1 only** (repo2docker publishes on every interface);
* a **token** is generated and passed as ``JUPYTER_TOKEN`` (read by jupyter_server's
  ``ServerApp.token`` and the classic ``NotebookApp.token``), so the URL can be shown and
  opened without fishing it out of the log; the command line stays repo2docker's;
* for an image built from the repository's **own Dockerfile**, the image's own ``CMD`` runs
  and the port it ``EXPOSE``\\ s (else 8888) is published: repo2docker would replace the
  command with ``jupyter notebook``, which only works when the image has Jupyter
  (``RunOptions.jupyter=True`` asks for exactly that);
* every container carries labels naming the process that owns it
  (:data:`LABEL_OWNER`, :data:`LABEL_OWNER_START`, :data:`LABEL_HOST`), is removed when it
  is stopped, when its server exits, and when the owning process exits (``atexit`` and
  SIGTERM/SIGHUP); :func:`cleanup_orphans` removes containers whose owner died without
  cleaning up (killed with SIGKILL, a crashed interpreter).

Everything here is blocking (the Docker SDK is); call it from worker threads in a UI.
"""

from __future__ import annotations

import atexit
import codecs
import contextlib
import os
import posixpath
import secrets
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Literal

from r2d_tui.core import lazy

#: Label on every container r2d-tui starts: the id of the process that owns it.
LABEL_OWNER = "r2d-tui.owner"
#: The owner's start time (from ``/proc/<pid>/stat``), so a reused process id is not
#: mistaken for a live owner.
LABEL_OWNER_START = "r2d-tui.owner-start"
#: The host name of the owner (only containers of this host are judged by their owner pid).
LABEL_HOST = "r2d-tui.host"
#: A random id per r2d-tui process.
LABEL_SESSION = "r2d-tui.session"
#: ``run`` (a server) or ``test`` (a verification).
LABEL_ROLE = "r2d-tui.role"
#: The repository folder the container was started for.
LABEL_REPO = "r2d-tui.repo"

#: The port repo2docker's images expose and mybinder.org's Dockerfile guide asks for.
DEFAULT_PORT = 8888

#: Where the server is published (never on every interface).
HOST_IP = "127.0.0.1"

#: Seconds a stopped server gets to exit after SIGTERM before it is killed.
STOP_GRACE_SECONDS = 3

#: Seconds of each readiness probe (one HTTP request).
PROBE_TIMEOUT = 2.0

#: The process-wide session id written into :data:`LABEL_SESSION`.
SESSION_ID = uuid.uuid4().hex[:12]

Role = Literal["run", "test"]


class RunError(Exception):
    """The image cannot be run; the message is worded for the user."""


# --- the engine --------------------------------------------------------------------------------


_CLIENTS: dict[str, Any] = {}
_CLIENTS_LOCK = threading.Lock()


def docker_client(timeout: int = 60) -> Any:
    """A Docker SDK client for the same engine the ``docker`` CLI uses (one per process and
    ``DOCKER_HOST``, shared by threads).

    ``DOCKER_HOST`` wins (as for repo2docker, which uses ``docker.from_env()``); without it,
    the endpoint of the CLI's current ``docker context`` is used when it is not the default
    socket. Raises :class:`RunError` when no engine answers.
    """
    lazy.load("docker")  # first import: one thread at a time
    import docker
    from docker.errors import DockerException

    key = os.environ.get("DOCKER_HOST", "")
    with _CLIENTS_LOCK:
        if key in _CLIENTS:
            return _CLIENTS[key]
        try:
            client = docker.from_env(timeout=timeout)
            client.ping()
        except DockerException as error:
            client = None
            endpoint = None if key else _context_endpoint()
            if endpoint:
                with contextlib.suppress(DockerException):
                    client = docker.DockerClient(base_url=endpoint, timeout=timeout)
                    client.ping()
            if client is None:
                raise RunError(f"The Docker engine is not reachable: {_short(error)}") from error
        _CLIENTS[key] = client
        return client


def _context_endpoint() -> str | None:
    import shutil
    import subprocess

    cli = shutil.which("docker")
    if cli is None:
        return None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(
            [cli, "context", "inspect", "--format", "{{.Endpoints.docker.Host}}"],
            capture_output=True, text=True, timeout=5, check=False, stdin=subprocess.DEVNULL,
        )
        host = done.stdout.strip()
        if done.returncode == 0 and host and host != "unix:///var/run/docker.sock":
            return host
    return None


def _short(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:300]


# --- what the image says about itself -------------------------------------------------------


@dataclass(frozen=True)
class ImageConfig:
    """The parts of ``docker image inspect`` that decide how the image is run."""

    id: str
    working_dir: str = ""
    user: str = ""
    env: tuple[tuple[str, str], ...] = ()
    exposed_ports: tuple[int, ...] = ()
    """Exposed TCP ports, in ascending order."""
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_attrs(cls, attrs: Mapping[str, Any]) -> ImageConfig:
        config = attrs.get("Config") or {}
        env = []
        for item in config.get("Env") or []:
            key, _, value = str(item).partition("=")
            env.append((key, value))
        ports = []
        for spec in config.get("ExposedPorts") or {}:
            number, _, proto = str(spec).partition("/")
            if (proto or "tcp") == "tcp" and number.isdigit():
                ports.append(int(number))
        return cls(
            id=str(attrs.get("Id", "")),
            working_dir=str(config.get("WorkingDir") or ""),
            user=str(config.get("User") or ""),
            env=tuple(env),
            exposed_ports=tuple(sorted(set(ports))),
            entrypoint=tuple(str(p) for p in config.get("Entrypoint") or ()),
            cmd=tuple(str(p) for p in config.get("Cmd") or ()),
            labels=tuple(sorted((str(k), str(v)) for k, v in (config.get("Labels") or {}).items())),
        )

    @property
    def generated(self) -> bool:
        """Built from a Dockerfile repo2docker generated (its entrypoint is repo2docker's)."""
        return any(part.endswith("repo2docker-entrypoint") for part in self.entrypoint)

    @property
    def runs_jupyter(self) -> bool:
        """The image's own command starts Jupyter (so a token means something)."""
        return self.generated or any("jupyter" in part for part in (*self.entrypoint, *self.cmd))

    @property
    def default_port(self) -> int:
        """The port the image serves on: 8888 when exposed, else the lowest exposed, else
        8888."""
        if DEFAULT_PORT in self.exposed_ports or not self.exposed_ports:
            return DEFAULT_PORT
        return self.exposed_ports[0]

    def env_value(self, key: str) -> str | None:
        for name, value in self.env:
            if name == key:
                return value
        return None


def inspect_image(client: Any, image: str) -> ImageConfig:
    """Inspect ``image`` (a tag or id). Raises :class:`RunError` when it does not exist."""
    lazy.load("docker")  # first import: one thread at a time
    from docker.errors import DockerException, ImageNotFound

    try:
        return ImageConfig.from_attrs(client.images.get(image).attrs)
    except ImageNotFound as error:
        raise RunError(f"There is no image {image!r}: build it first.") from error
    except DockerException as error:
        raise RunError(f"Cannot inspect {image}: {_short(error)}") from error


# --- the plan -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunOptions:
    """How to run the image (the ``r2d-tui run`` options)."""

    command: tuple[str, ...] = ()
    """A command instead of the default (repo2docker's ``repo2docker IMAGE -- CMD``)."""
    jupyter: bool | None = None
    """Run repo2docker's ``jupyter notebook`` command: ``None`` decides from the image (yes for
    generated Dockerfiles, no for a repository's own Dockerfile, which keeps its ``CMD``)."""
    port: int | None = None
    """The port the server listens on inside the container (default: see :func:`plan_run`)."""
    editable: bool = False
    """Bind-mount the repository at the image's working directory (``--editable``)."""
    environment: tuple[tuple[str, str], ...] = ()
    """Extra environment variables (``-e KEY=VALUE``)."""
    token: str | None = None
    """The Jupyter token (default: a new random one; ``JUPYTER_TOKEN`` in ``environment``
    also sets it)."""


@dataclass(frozen=True)
class RunPlan:
    """Everything ``docker run`` is given, decided before anything starts (pure data)."""

    image: str
    name: str
    command: tuple[str, ...] | None
    """``None``: the image's own ``CMD``."""
    container_port: int
    host_port: int
    token: str
    jupyter: bool
    """repo2docker's Jupyter command is run (or the image's own command starts Jupyter)."""
    environment: tuple[str, ...]
    labels: tuple[tuple[str, str], ...]
    volumes: tuple[tuple[str, str], ...] = ()
    """``(host path, container path)`` bind mounts, read-write."""
    notes: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        """What to open in a browser."""
        base = f"http://{HOST_IP}:{self.host_port}/"
        return f"{base}?token={self.token}" if self.jupyter else base

    @property
    def probe_url(self) -> str:
        """What the readiness probe asks (Jupyter's ``/api`` answers without a token)."""
        return f"http://{HOST_IP}:{self.host_port}/" + ("api" if self.jupyter else "")

    @property
    def display_command(self) -> str:
        import shlex

        return shlex.join(self.command) if self.command else "(the image's own command)"

    def create_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``client.containers.create`` (detached, as repo2docker)."""
        kwargs: dict[str, Any] = {
            "name": self.name,
            "detach": True,
            "environment": list(self.environment),
            "labels": dict(self.labels),
            "ports": {f"{self.container_port}/tcp": (HOST_IP, self.host_port)},
        }
        if self.command is not None:
            kwargs["command"] = list(self.command)
        if self.volumes:
            kwargs["volumes"] = {src: {"bind": dst, "mode": "rw"} for src, dst in self.volumes}
        return kwargs


def repo2docker_command(container_port: int, host_port: int) -> tuple[str, ...]:
    """The command ``Repo2Docker.start_container`` runs when none is given (2026.4.0)."""
    return (
        "jupyter",
        "notebook",
        "--ip=0.0.0.0",
        f"--port={container_port}",
        f"--ServerApp.custom_display_url=http://{HOST_IP}:{host_port}",
        "--ServerApp.default_url=/lab",
    )


def owner_labels(role: Role, root: Path | None = None) -> tuple[tuple[str, str], ...]:
    """The labels that tie a container to this process (see :func:`cleanup_orphans`)."""
    labels = [
        (LABEL_OWNER, str(os.getpid())),
        (LABEL_HOST, socket.gethostname()),
        (LABEL_SESSION, SESSION_ID),
        (LABEL_ROLE, role),
    ]
    start = process_start(os.getpid())
    if start is not None:
        labels.append((LABEL_OWNER_START, start))
    if root is not None:
        labels.append((LABEL_REPO, str(root)))
    return tuple(labels)


def container_name(role: Role, root: Path | None) -> str:
    """``r2d-tui-<run|test>-<folder>-<random>``: unique, and says what it is in ``docker ps``."""
    from r2d_tui.core.build import slugify

    folder = slugify(root.name) if root is not None else "image"
    return f"r2d-tui-{role}-{folder}-{uuid.uuid4().hex[:6]}"


def editable_target(image: ImageConfig) -> str:
    """Where ``--editable`` mounts the repository: ``"."`` against the image's working
    directory, as repo2docker does (``${REPO_DIR}`` for a generated Dockerfile)."""
    workdir = image.working_dir or image.env_value("REPO_DIR") or ""
    target = posixpath.normpath(posixpath.join(workdir, ".")) if workdir.startswith("/") else ""
    if target in ("", "/"):
        raise RunError(
            "The image has no working directory to mount the repository at (its WORKDIR is "
            f"{image.working_dir or 'unset'}); add a WORKDIR to the Dockerfile, or run "
            "without editable mode."
        )
    return target


def plan_run(
    image: ImageConfig,
    image_ref: str,
    options: RunOptions,
    *,
    host_port: int,
    root: Path | None = None,
    token: str | None = None,
    name: str | None = None,
) -> RunPlan:
    """Decide command, ports, environment, mounts and labels (no engine needed).

    The container port is ``options.port``; else, for repo2docker's Jupyter command, the
    host port (repo2docker uses one free port for both); else the port the image exposes
    (8888 when it exposes that or nothing).
    """
    env = list(options.environment)
    given_token = next((v for k, v in env if k == "JUPYTER_TOKEN"), None)
    token = given_token or options.token or token or secrets.token_hex(24)
    if given_token is None:
        env.append(("JUPYTER_TOKEN", token))
    notes: list[str] = []
    jupyter_command = options.jupyter if options.jupyter is not None else image.generated
    command: tuple[str, ...] | None
    if options.command:
        command = tuple(options.command)
        container_port = options.port or image.default_port
        jupyter = any("jupyter" in part for part in command)
    elif jupyter_command:
        container_port = options.port or host_port
        command = repo2docker_command(container_port, host_port)
        jupyter = True
    else:
        command = None
        container_port = options.port or image.default_port
        jupyter = image.runs_jupyter
        notes.append(
            "the repository's own Dockerfile: running the image's own command and publishing "
            f"port {container_port} (repo2docker would run `jupyter notebook`; use --jupyter "
            "for that)"
        )
    volumes: tuple[tuple[str, str], ...] = ()
    if options.editable:
        if root is None:
            raise RunError("Editable mode needs the repository folder.")
        target = editable_target(image)
        volumes = ((str(Path(root).resolve()), target),)
        notes.append(f"editable: {Path(root).resolve()} is mounted at {target}")
    return RunPlan(
        image=image_ref,
        name=name or container_name("run", root),
        command=command,
        container_port=container_port,
        host_port=host_port,
        token=token,
        jupyter=jupyter,
        environment=tuple(f"{k}={v}" for k, v in env),
        labels=owner_labels("run", root),
        volumes=volumes,
        notes=tuple(notes),
    )


def free_port() -> int:
    """A TCP port nothing on 127.0.0.1 listens on now (the engine binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST_IP, 0))
        return int(sock.getsockname()[1])


# --- owners and orphans ---------------------------------------------------------------------


def process_start(pid: int) -> str | None:
    """The start time of process ``pid`` in clock ticks since boot (Linux), or ``None``."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return None
    # the command name (field 2) is in parentheses and may contain spaces
    fields = text.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None


def owner_alive(pid: int, start: str | None) -> bool:
    """Is the process that labelled a container still running (and the same process)?"""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    if start is not None:
        current = process_start(pid)
        if current is not None and current != start:
            return False  # the id was reused by a newer process
    return True


def cleanup_orphans(client: Any | None = None) -> list[str]:
    """Remove containers r2d-tui started on this host whose owner process is gone.

    Returns the names of the removed containers; raises :class:`RunError` when the engine
    cannot be asked. Containers of live r2d-tui processes, of
    other hosts sharing the engine, and containers without r2d-tui's labels are left alone.
    """
    lazy.load("docker")  # first import: one thread at a time
    from docker.errors import DockerException, NotFound

    client = client if client is not None else docker_client()
    host = socket.gethostname()
    removed: list[str] = []
    try:
        labelled = client.containers.list(all=True, filters={"label": LABEL_OWNER})
    except DockerException as error:
        raise RunError(f"Cannot list containers: {_short(error)}") from error
    for container in labelled:
        labels = container.labels or {}
        if labels.get(LABEL_HOST) != host:
            continue
        try:
            pid = int(labels.get(LABEL_OWNER, ""))
        except ValueError:
            pid = 0
        if owner_alive(pid, labels.get(LABEL_OWNER_START)):
            continue
        with contextlib.suppress(NotFound):
            try:
                container.remove(force=True)
            except DockerException:
                continue
            removed.append(str(container.name))
    return removed


_LIVE: dict[str, Any] = {}
"""Containers this process started and has not removed yet: id → container."""
_LIVE_LOCK = threading.Lock()
_exit_hooks_installed = False


def _track(container: Any) -> None:
    install_exit_cleanup()
    with _LIVE_LOCK:
        _LIVE[str(container.id)] = container


def _untrack(container: Any) -> None:
    with _LIVE_LOCK:
        _LIVE.pop(str(container.id), None)


def live_containers() -> list[str]:
    """Names of the containers this process started and still owns (for tests and UIs)."""
    with _LIVE_LOCK:
        return [str(c.name) for c in _LIVE.values()]


def remove_live_containers() -> None:
    """Force-remove every container this process still owns (exit and signal path)."""
    with _LIVE_LOCK:
        containers = list(_LIVE.values())
        _LIVE.clear()
    for container in containers:
        with contextlib.suppress(Exception):
            container.remove(force=True)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    remove_live_containers()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def install_exit_cleanup() -> None:
    """Remove this process's containers at exit, and on SIGTERM and SIGHUP.

    The signal handlers are installed only from the main thread and only where the default
    handler is in place (a UI's or a test runner's own handlers are kept). Idempotent.
    """
    global _exit_hooks_installed
    if not _exit_hooks_installed:
        atexit.register(remove_live_containers)
        _exit_hooks_installed = True
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError, OSError):
            if signal.getsignal(signum) == signal.SIG_DFL:
                signal.signal(signum, _on_signal)


# --- a running server -----------------------------------------------------------------------


@dataclass
class ServerExit:
    """How a server's container ended."""

    status: int | None
    """Exit status, or ``None`` when the container was removed before it could be read."""
    stopped: bool
    """Stopped on request (rather than exiting on its own)."""


@dataclass(eq=False)
class RunningServer:
    """A started container and what is needed to reach, watch and stop it."""

    plan: RunPlan
    container: Any
    client: Any
    image: ImageConfig
    exited: ServerExit | None = None
    """How the container ended, once :meth:`follow_logs` saw it end."""
    _stopped: threading.Event = field(default_factory=threading.Event)
    _removed: bool = False

    @property
    def url(self) -> str:
        return self.plan.url

    @property
    def name(self) -> str:
        return self.plan.name

    @property
    def id(self) -> str:
        return str(self.container.id)

    @property
    def stop_requested(self) -> bool:
        return self._stopped.is_set()

    def status(self) -> str:
        """``running``, ``exited``, … as the engine says; ``removed`` once it is gone."""
        lazy.load("docker")  # first import: one thread at a time
        from docker.errors import NotFound

        try:
            self.container.reload()
        except NotFound:
            return "removed"
        return str(self.container.status)

    def exit_status(self) -> int | None:
        """The container's exit status (``None`` while it runs or once it is gone)."""
        lazy.load("docker")  # first import: one thread at a time
        from docker.errors import DockerException

        if self.exited is not None:
            return self.exited.status
        try:
            self.container.reload()
            state = self.container.attrs.get("State", {})
            return None if state.get("Running") else int(state.get("ExitCode"))
        except (DockerException, TypeError, ValueError):
            return None

    def wait_ready(self, timeout: float = 120.0, interval: float = 0.25) -> bool:
        """Wait until the server answers HTTP on its published port.

        Any HTTP answer counts (Jupyter's ``/api`` answers 200; another server may answer
        404). Returns ``False`` when the container exits, is stopped, or ``timeout`` passes.
        """
        deadline = time.monotonic() + timeout
        checks = 0
        while time.monotonic() < deadline and not self._stopped.is_set():
            if _http_answers(self.plan.probe_url):
                return True
            checks += 1
            if checks % 4 == 1 and self.status() not in ("running", "created", "restarting"):
                return False
            self._stopped.wait(interval)
        return False

    def follow_logs(
        self,
        on_lines: Callable[[list[str]], None],
        on_exit: Callable[[ServerExit], None] | None = None,
    ) -> threading.Thread:
        """Stream the container's output, line by line, from a daemon thread.

        ``on_lines`` gets batches of lines as they arrive (stdout and stderr together, as
        ``docker logs`` shows them). When the container ends (stopped or exited on its own),
        it is removed, and ``on_exit`` gets its exit status. Both callbacks run in the
        thread. A daemon thread, so a blocked stream never delays the interpreter's exit.
        """

        def pump() -> None:
            for lines in stream_lines(self.container):
                on_lines(lines)
            self.exited = ServerExit(self.exit_status(), self._stopped.is_set())
            self.remove()
            if on_exit is not None:
                on_exit(self.exited)

        thread = threading.Thread(target=pump, name=f"logs {self.name}", daemon=True)
        thread.start()
        return thread

    def stop(self, grace: int = STOP_GRACE_SECONDS) -> None:
        """Stop the server (SIGTERM, then SIGKILL after ``grace`` seconds) and remove its
        container. Idempotent and safe from any thread."""
        lazy.load("docker")  # first import: one thread at a time
        from docker.errors import DockerException

        self._stopped.set()
        with contextlib.suppress(DockerException):
            self.container.stop(timeout=grace)
        self.remove()

    def remove(self) -> None:
        """Force-remove the container (idempotent)."""
        lazy.load("docker")  # first import: one thread at a time
        from docker.errors import DockerException, NotFound

        if self._removed:
            return
        with contextlib.suppress(NotFound):
            try:
                self.container.remove(force=True)
            except DockerException:
                # "removal already in progress" (the log follower removes an ended
                # container too): wait for the other caller to finish, so that the
                # container is gone when this returns
                if not self._wait_gone(REMOVAL_WAIT_SECONDS):
                    return
        self._removed = True
        _untrack(self.container)

    def _wait_gone(self, timeout: float) -> bool:
        """Poll the engine until the container no longer exists; whether it went."""
        from docker.errors import DockerException, NotFound

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.container.reload()
            except NotFound:
                return True
            except DockerException:
                return False
            time.sleep(0.05)
        return False


#: How long :meth:`RunningServer.remove` waits for a removal another thread started.
REMOVAL_WAIT_SECONDS = 10.0


def _http_answers(url: str) -> bool:
    import urllib.error  # here, not at the top: the TUI imports this module at start-up
    import urllib.request

    request = urllib.request.Request(url, method="GET")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    try:
        with opener.open(request, timeout=PROBE_TIMEOUT) as response:
            response.read(1)
        return True
    except urllib.error.HTTPError:
        return True  # an HTTP answer: something serves
    except (OSError, ValueError):
        return False


def stream_lines(container: Any) -> Iterator[list[str]]:
    """The container's output (following it until it ends) in batches of whole lines."""
    lazy.load("docker")  # first import: one thread at a time
    from docker.errors import DockerException

    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    pending = ""
    try:
        for chunk in container.logs(stream=True, follow=True, stdout=True, stderr=True):
            pending += decoder.decode(chunk)
            *lines, pending = pending.split("\n")
            if lines:
                yield [line.rstrip("\r") for line in lines]
    except DockerException:
        pass  # removed while streaming
    except OSError:
        pass  # the connection closed (the engine went away)
    pending += decoder.decode(b"", final=True)
    if pending:
        yield [pending.rstrip("\r")]


def create_container(client: Any, image: str, kwargs: dict[str, Any]) -> Any:
    """Create a container and track it for cleanup before anything else can fail."""
    lazy.load("docker")  # first import: one thread at a time
    from docker.errors import DockerException, ImageNotFound

    try:
        container = client.containers.create(image, **kwargs)
    except ImageNotFound as error:
        raise RunError(f"There is no image {image!r}: build it first.") from error
    except DockerException as error:
        raise RunError(f"Cannot create a container from {image}: {_short(error)}") from error
    _track(container)
    return container


def start_server(
    image: str,
    options: RunOptions | None = None,
    *,
    root: str | Path | None = None,
    client: Any | None = None,
    attempts: int = 3,
) -> RunningServer:
    """Start ``image`` as a server (see the module docstring for how) and return at once.

    Call :meth:`RunningServer.wait_ready` to wait for the URL to answer and
    :meth:`RunningServer.stop` to stop and remove it. Raises :class:`RunError`.
    """
    lazy.load("docker")  # first import: one thread at a time
    from docker.errors import APIError

    options = options or RunOptions()
    client = client if client is not None else docker_client()
    repo = Path(root).resolve() if root is not None else None
    config = inspect_image(client, image)
    last: Exception | None = None
    token = options.token or secrets.token_hex(24)
    for _ in range(max(1, attempts)):
        plan = plan_run(config, image, options, host_port=free_port(), root=repo, token=token)
        container = create_container(client, image, plan.create_kwargs())
        server = RunningServer(plan=plan, container=container, client=client, image=config)
        try:
            container.start()
        except APIError as error:
            server.remove()
            last = error
            if "port is already allocated" in str(error) or "address already in use" in str(
                error
            ):
                continue  # another process took the free port first: pick another
            raise RunError(f"Cannot start {image}: {_short(error)}") from error
        return server
    raise RunError(f"Cannot start {image}: {_short(last or RuntimeError('no free port'))}")


# --- one-off commands (verification) --------------------------------------------------------


@dataclass
class CommandRun:
    """A command run to completion in a fresh container from an image."""

    status: int | None
    """Exit status (``None`` when the run was cancelled or the container vanished)."""
    lines: list[str]
    """Its output (capped at ``max_lines``; the earliest lines are dropped)."""
    dropped: int = 0
    files: dict[str, bytes] = field(default_factory=dict)
    """Files copied out of the container after it ended (``fetch``: paths, or a function of
    the output that returns them)."""
    cancelled: bool = False
    timed_out: bool = False
    duration_s: float = 0.0


class OneShot:
    """Run one command in a new container (image's user, working directory, entrypoint),
    stream its output, copy files out, then remove the container. :meth:`cancel` (from any
    thread) removes the container, which ends the run at once."""

    def __init__(
        self,
        client: Any,
        image: str,
        command: Sequence[str],
        *,
        root: Path | None = None,
        environment: Sequence[str] = (),
        role: Role = "test",
    ) -> None:
        self.client = client
        self.image = image
        self.command = list(command)
        self.root = root
        self.environment = list(environment)
        self.role = role
        self._container: Any = None
        self._cancelled = threading.Event()
        self._timed_out = False
        self._lock = threading.Lock()

    def cancel(self) -> None:
        self._cancelled.set()
        with self._lock:
            container = self._container
        if container is not None:
            with contextlib.suppress(Exception):
                container.remove(force=True)

    def run(
        self,
        on_lines: Callable[[list[str]], None] | None = None,
        *,
        fetch: Sequence[str] | Callable[[list[str]], Sequence[str]] = (),
        timeout: float | None = None,
        max_lines: int = 5000,
    ) -> CommandRun:
        lazy.load("docker")  # first import: one thread at a time
        from docker.errors import DockerException

        started = time.monotonic()
        if self._cancelled.is_set():
            return CommandRun(None, [], cancelled=True)
        container = create_container(self.client, self.image, {
            "command": self.command,
            "detach": True,
            "environment": self.environment,
            "labels": dict(owner_labels(self.role, self.root)),
            "name": container_name(self.role, self.root),
        })
        with self._lock:
            self._container = container
        timer: threading.Timer | None = None
        lines: list[str] = []
        dropped = 0
        try:
            if self._cancelled.is_set():
                return CommandRun(None, [], cancelled=True)
            try:
                container.start()
            except DockerException as error:
                raise RunError(f"Cannot start {self.image}: {_short(error)}") from error
            if timeout is not None:
                timer = threading.Timer(timeout, self._time_out)
                timer.daemon = True
                timer.start()
            for batch in stream_lines(container):
                lines.extend(batch)
                if len(lines) > max_lines:
                    dropped += len(lines) - max_lines
                    del lines[: len(lines) - max_lines]
                if on_lines is not None:
                    on_lines(batch)
            status: int | None = None
            files: dict[str, bytes] = {}
            if not self._cancelled.is_set():
                with contextlib.suppress(DockerException):
                    status = int(container.wait(timeout=30).get("StatusCode"))
                paths = fetch(lines) if callable(fetch) else fetch
                for path in paths:
                    data = _fetch_file(container, path)
                    if data is not None:
                        files[path] = data
            cancelled = self._cancelled.is_set() and not self._timed_out
            return CommandRun(
                None if cancelled or self._timed_out else status,
                lines,
                dropped,
                files,
                cancelled=cancelled,
                timed_out=self._timed_out,
                duration_s=time.monotonic() - started,
            )
        finally:
            if timer is not None:
                timer.cancel()
            with contextlib.suppress(Exception):
                container.remove(force=True)
            _untrack(container)
            with self._lock:
                self._container = None

    def _time_out(self) -> None:
        self._timed_out = True
        self.cancel()


def _fetch_file(container: Any, path: str, limit: int = 20 * 1024 * 1024) -> bytes | None:
    """One regular file from a (stopped) container, or ``None`` when it is not there."""
    import io
    import tarfile

    lazy.load("docker")  # first import: one thread at a time
    from docker.errors import DockerException

    try:
        stream, _stat = container.get_archive(path)
        data = b"".join(stream)
    except DockerException:
        return None
    if len(data) > limit:
        return None
    with contextlib.suppress(tarfile.TarError), tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            if member.isfile():
                handle = tar.extractfile(member)
                if handle is not None:
                    return handle.read()
    return None
