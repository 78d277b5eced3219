"""Why a build failed, in the author's terms: the step, its last lines, the file and line.

A failed :class:`~r2d_tui.core.build.BuildResult` says *what* BuildKit reported (``process
"/bin/sh -c ./postBuild" did not complete successfully: exit code: 1``). Authors need to
know which of *their* files that was, where in it, and what to do. :func:`explain_failure`
answers with a :class:`FailureExplanation`:

* the failing step as BuildKit numbered it (``[17/19] RUN ./postBuild``), its last log
  lines, and the environment file (and line) that produced it, from
  :mod:`r2d_tui.core.sources`;
* for the failures authors meet most, a :class:`~r2d_tui.core.findings.Finding` with a code,
  a name, the place in the file and a fix: a package the solver or apt cannot find, a step
  killed for lack of memory, a builder out of disk space, a failing postBuild (at the line
  the shell or ``set -x`` names), a base image that cannot be pulled, and an engine that
  cannot build at all.

Everything here reads text; nothing runs. The recognisers are written against the messages
of the tools repo2docker runs (conda and mamba/micromamba 1.x and 2.x, pip, apt-get,
BuildKit and the docker CLI).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from r2d_tui.core.findings import Finding, Severity
from r2d_tui.core.sources import Origin, SourcedInstruction, StepSources

if TYPE_CHECKING:
    from r2d_tui.core.build import BuildResult
    from r2d_tui.core.progress import Step
    from r2d_tui.core.workspace import Workspace

#: Log lines of the failing step shown with an explanation.
TAIL_LINES = 12


@dataclass(frozen=True)
class FailureKind:
    """A kind of build failure r2d-tui recognises (the ``code``/``name`` of its finding)."""

    code: str
    name: str
    summary: str
    explanation: str


_KINDS: tuple[FailureKind, ...] = (
    FailureKind(
        "R2D501", "build-package-not-found",
        "a package the installer cannot find (conda/mamba, pip or apt)",
        "The solver (conda, mamba), pip or apt-get did not find a package the environment "
        "files ask for: a typo, a name that differs between package managers (conda-forge "
        "vs the Python package index vs Ubuntu), a version that does not exist, a package "
        "for another platform, or a missing channel. Check the name on "
        "https://anaconda.org (conda), https://pypi.org (pip) or "
        "https://packages.ubuntu.com (apt, for the base image's Ubuntu release), then fix "
        "the line named in the finding.",
    ),
    FailureKind(
        "R2D502", "build-out-of-memory",
        "a build step was killed (exit code 137), usually for lack of memory",
        "Exit code 137 means the process got SIGKILL, which during a build almost always "
        "is the kernel's out-of-memory killer (a large solve, a compile, loading data). "
        "Since repo2docker builds with BuildKit, memory limits belong to the builder: "
        "repo2docker's --build-memory-limit is gone. Give the builder more memory (Docker "
        "Desktop: Settings → Resources; a docker-container builder: `docker buildx create "
        "--name big --driver docker-container --driver-opt memory=8g` and `r2d-tui build "
        "--builder big`), or make the step need less: pin versions so the solver does less "
        "work, install fewer packages, move data processing out of postBuild. mybinder.org "
        "builds have limited memory too.",
    ),
    FailureKind(
        "R2D503", "build-postbuild-failed",
        "postBuild exited with an error",
        "repo2docker runs postBuild as `RUN ./postBuild` after copying the repository; a "
        "command in it failed. The finding points at the line the shell reported (or the "
        "last command `set -x` traced). Run the script in the built image to debug it "
        "(`docker run -it --rm <image> bash`, then `./postBuild`), and start postBuild with "
        "`set -ex` so the log shows each command and the script stops at the first error.",
    ),
    FailureKind(
        "R2D504", "base-image-pull-failed",
        "the base image cannot be pulled",
        "BuildKit could not resolve the FROM image: it does not exist under that name, the "
        "registry refuses access (a private image needs `docker login`), or the registry "
        "cannot be reached (no network, DNS). BuildKit looks a name up in the registry "
        "unless an image with exactly that name is in the engine's image store; "
        "`docker image ls` shows what is there. Fix the FROM line of your Dockerfile, or "
        "the --base-image option for generated Dockerfiles.",
    ),
    FailureKind(
        "R2D505", "buildx-missing",
        "the docker buildx plugin is missing",
        "repo2docker (since 2025.08) and r2d-tui build with `docker buildx build`, so the "
        "docker CLI needs the buildx plugin. Without it docker reports `unknown flag: "
        "--progress` or that `buildx` is not a docker command. Install it (Debian/Ubuntu: "
        "the docker-buildx or docker-buildx-plugin package; Docker Desktop ships it) and "
        "check with `docker buildx version`.",
    ),
    FailureKind(
        "R2D507", "builder-unavailable",
        "the buildx builder cannot start or does not exist",
        "The build was sent to a buildx builder (--builder, or the current one from "
        "`docker buildx use`) that could not run it: no builder has that name, or it "
        "could not start. A docker-container or kubernetes builder starts by pulling its "
        "BuildKit image (moby/buildkit), which needs the network the first time; a remote "
        "builder needs its endpoint to answer. `docker buildx ls` lists the builders and "
        "their status; `docker buildx inspect --bootstrap NAME` starts one and shows why it "
        "fails. Pick another builder (ctrl+t in the TUI, --builder on the command line), "
        "or fix this one.",
    ),
    FailureKind(
        "R2D508", "cache-export-unsupported",
        "--cache-to needs a builder that can export cache",
        "The engine's own builder (driver `docker`) cannot export build cache unless the "
        "engine uses the containerd image store, so `--cache-to` fails there. Build on a "
        "docker-container builder (`docker buildx create --name cache --driver "
        "docker-container`, then --builder cache), turn on the containerd image store, or "
        "drop --cache-to. --cache-from works with every driver.",
    ),
    FailureKind(
        "R2D509", "build-disk-full",
        "the builder ran out of disk space (no space left on device)",
        "A step wrote more than the builder's storage can hold: the engine's data root "
        "(/var/lib/docker, or the disk image of Docker Desktop) or the builder's own "
        "volume is full, or the step writes into a size-limited mount. Old images and "
        "build cache are the usual culprits: `docker system df` shows what uses the space, "
        "`docker builder prune` and `docker image prune` free it (Docker Desktop: also "
        "Settings → Resources → disk size). If the environment itself is that large, make "
        "it smaller (fewer packages, no data downloaded at build time): mybinder.org "
        "limits image sizes too.",
    ),
    FailureKind(
        "R2D506", "engine-unreachable",
        "the Docker engine cannot be reached",
        "The docker CLI could not talk to a daemon: it is not running, the socket needs "
        "permissions you do not have (join the docker group, or use rootless Docker), or "
        "DOCKER_HOST / the docker context points somewhere else. `docker version` shows the "
        "same error; start the engine (Docker Desktop, `sudo systemctl start docker`) and "
        "build again.",
    ),
)

#: Every kind, by name, in code order.
FAILURE_KINDS: dict[str, FailureKind] = {
    kind.name: kind for kind in sorted(_KINDS, key=lambda k: k.code)
}


def failure_kind(key: str) -> FailureKind | None:
    """A failure kind by name or code."""
    if key in FAILURE_KINDS:
        return FAILURE_KINDS[key]
    for kind in FAILURE_KINDS.values():
        if kind.code == key.upper():
            return kind
    return None


@dataclass(frozen=True)
class FailureExplanation:
    """Why one build failed."""

    summary: str
    """One line: ``step [17/19] RUN ./postBuild (from postBuild) failed with exit code 1``."""
    step_label: str | None = None
    """The failing step as BuildKit names it (``[17/19] RUN ./postBuild``)."""
    origin: Origin | None = None
    """What produced the failing step (an environment file, the Dockerfile, repo2docker)."""
    exit_code: int | None = None
    last_lines: tuple[str, ...] = ()
    """The failing step's last log lines (or the build's, when no step failed)."""
    findings: tuple[Finding, ...] = ()
    """Recognised failures, located in the repository where possible, each with a fix."""

    @property
    def location(self) -> str | None:
        """``path:line`` (or ``path``) of the first finding, else of the step's origin."""
        for finding in self.findings:
            if finding.path:
                return f"{finding.path}:{finding.line}" if finding.line else finding.path
        origin = self.origin
        if origin is not None and origin.path:
            return f"{origin.path}:{origin.line}" if origin.line else origin.path
        return None

    def text_lines(self, *, tail: int = TAIL_LINES) -> list[str]:
        """The explanation as plain lines (the CLI prints them on stderr)."""
        lines = [self.summary]
        if self.last_lines:
            lines.append("last lines of its log:")
            lines.extend(f"  | {line}" for line in self.last_lines[-tail:])
        for finding in self.findings:
            where = f"{finding.path}:{finding.line}: " if finding.path and finding.line else (
                f"{finding.path}: " if finding.path else ""
            )
            lines.append(f"{where}{finding.code} [{finding.name}] {finding.message}")
            if finding.fix:
                lines.append(f"  fix: {finding.fix}")
        return lines

    def to_json(self) -> dict[str, object]:
        return {
            "summary": self.summary,
            "step": self.step_label,
            "origin": None if self.origin is None else {
                "kind": self.origin.kind, "path": self.origin.path, "line": self.origin.line,
                "label": self.origin.label,
            },
            "exit_code": self.exit_code,
            "last_lines": list(self.last_lines),
            "findings": [f.to_json() for f in self.findings],
        }


# --- recognising the failure -------------------------------------------------------------------

_EXIT_CODE = re.compile(r"exit code: (\d+)")
_DOCKERFILE_LINE = re.compile(r"^Dockerfile:(\d+)\s*$")

# conda: PackagesNotFoundError, followed by "  - name" lines
_CONDA_NOT_FOUND = re.compile(
    r"PackagesNotFoundError: The following packages? (?:is|are) not available"
)
_CONDA_LIST_ITEM = re.compile(r"^\s*-\s+([A-Za-z0-9_.\-]+(?:::[A-Za-z0-9_.\-]+)?)")
# mamba / micromamba 1.x: "nothing provides requested X" / "nothing provides X needed by Y"
_MAMBA_REQUESTED = re.compile(r"nothing provides requested ([A-Za-z0-9_.\-]+)")
_MAMBA_NEEDED = re.compile(
    r"nothing provides ([A-Za-z0-9_.\-]+)[^\n]*? needed by ([A-Za-z0-9_.\-]+)"
)
# mamba / micromamba 2.x and libmamba: "└─ X =* * does not exist (perhaps a typo …)"
_MAMBA_DOES_NOT_EXIST = re.compile(
    r"^[\s│├└─]*([A-Za-z0-9_.\-]+)[^\n]*?\bdoes not exist \(perhaps a typo or a missing channel\)",
    re.M,
)
# pip
_PIP_NO_VERSION = re.compile(
    r"Could not find a version that satisfies the requirement ([^\s(]+)"
)
_PIP_NO_DISTRIBUTION = re.compile(r"No matching distribution found for ([^\s(]+)")
# apt-get
_APT_NOT_FOUND = re.compile(
    r"^E: (?:Unable to locate package (\S+)|Package '([^']+)' has no installation candidate"
    r"|Couldn't find any package by (?:glob|regex) '([^']+)')",
    re.M,
)
# postBuild errors as shells report them: bash "./postBuild: line 3: …", dash "./postBuild: 3: …"
_SCRIPT_LINE = re.compile(r"(?:^|[\s/])postBuild: (?:line )?(\d+): ")
# base image resolution
_PULL_PATTERNS = (
    "failed to resolve source metadata",
    "pull access denied",
    "repository does not exist or may require",
    "manifest unknown",
    "failed to authorize",
)
_NETWORK_PATTERNS = ("no such host", "i/o timeout", "connection refused", "network is unreachable",
                     "temporary failure in name resolution", "tls handshake timeout")
_BUILDX_MISSING = (
    "buildx plugin is missing",
    "unknown flag: --progress",
    "'buildx' is not a docker command",
    "docker: unknown command: docker buildx",
)
_ENGINE_DOWN = (
    "docker daemon is not reachable",
    "cannot connect to the docker daemon",
    "permission denied while trying to connect to the docker daemon",
    "error during connect",
    "the docker command was not found",
    "is the docker daemon running",
)


def _exit_code(text: str) -> int | None:
    codes = _EXIT_CODE.findall(text)
    return int(codes[-1]) if codes else None


def _requirement_name(spec: str) -> str:
    """``numpy==1.2`` → ``numpy``; ``conda-forge::foo=1`` → ``foo``."""
    spec = spec.split("::")[-1]
    return re.split(r"[\s=<>!~;\[@,]", spec.strip().strip("'\""), maxsplit=1)[0]


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _find_name(
    workspace: Workspace | None, paths: Iterable[str], name: str
) -> tuple[str, int, int] | None:
    """``(path, line, column)`` of the first non-comment line of ``paths`` naming ``name``."""
    if workspace is None or not name:
        return None
    wanted = _normal(name)
    token = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
    for path in paths:
        text = workspace.text(path)
        if text is None:
            continue
        for number, line in enumerate(text.split("\n"), start=1):
            code = line.split("#", 1)[0]
            for match in token.finditer(code):
                if _normal(match.group(0)) == wanted:
                    return path, number, match.start() + 1
    return None


def _postbuild_line(script: str, logs: list[str]) -> int | None:
    """The line of ``script`` that failed, from the shell's message or the ``set -x`` trace."""
    for line in reversed(logs):
        match = _SCRIPT_LINE.search(line)
        if match:
            return int(match.group(1))
    traced = [line.lstrip("+").strip() for line in logs if line.startswith("+")]
    if not traced:
        return None
    lines = script.split("\n")
    position = 0
    found: int | None = None
    for command in traced:
        first = command.split(None, 1)[0] if command.split() else ""
        for number in range(position, len(lines)):
            stripped = lines[number].strip()
            if not stripped or stripped.startswith("#"):
                continue
            if stripped == command or (first and stripped.split(None, 1)[0] == first):
                found, position = number + 1, number + 1
                break
    return found


@dataclass(frozen=True)
class _Context:
    result: BuildResult
    step: Step | None
    sourced: SourcedInstruction | None
    workspace: Workspace | None
    sources: StepSources | None
    text: str
    """Everything the failure printed: the step's log, buildx's output, the error."""
    exit_code: int | None

    @property
    def step_files(self) -> list[str]:
        return list(self.sourced.files) if self.sourced else []

    def env_files(self) -> list[str]:
        """The failing step's files first, then every other file the Dockerfile came from."""
        files = self.step_files
        if self.sources is not None:
            for item in self.sources.instructions:
                files.extend(p for p in item.files if p not in files)
        return files


def _finding(kind: str, path: str, line: int, column: int, message: str, fix: str) -> Finding:
    registered = FAILURE_KINDS[kind]
    return Finding(registered.code, registered.name, Severity.ERROR, path, line, column,
                   message, fix=fix)


def _package_findings(ctx: _Context) -> list[Finding]:
    text = ctx.text
    found: list[tuple[str, str, str | None]] = []  # (manager, package, needed by)
    conda_list = _CONDA_NOT_FOUND.search(text)
    if conda_list is not None:
        for item in text[conda_list.end():].split("\n")[1:]:
            if not item.strip():
                if found:
                    break
                continue
            match = _CONDA_LIST_ITEM.match(item)
            if not match:
                break
            found.append(("conda", _requirement_name(match.group(1)), None))
    for match in _MAMBA_REQUESTED.finditer(text):
        found.append(("conda", match.group(1), None))
    for match in _MAMBA_NEEDED.finditer(text):
        # "needed by tensorflow-2.9.1-cuda112py310h_0": the package name without version-build
        dependent = re.sub(r"-\d[^-]*-[^-]+$", "", match.group(2))
        found.append(("conda", match.group(1), dependent))
    for match in _MAMBA_DOES_NOT_EXIST.finditer(text):
        found.append(("conda", match.group(1), None))
    for pattern in (_PIP_NO_DISTRIBUTION, _PIP_NO_VERSION):
        for match in pattern.finditer(text):
            found.append(("pip", match.group(1), None))
    for match in _APT_NOT_FOUND.finditer(text):
        found.append(("apt", next(g for g in match.groups() if g), None))
    findings: list[Finding] = []
    seen: set[str] = set()
    for manager, spec, needed_by in found:
        name = _requirement_name(spec)
        if not name or _normal(name) in seen:
            continue
        seen.add(_normal(name))
        where = _find_name(ctx.workspace, ctx.env_files(), needed_by or name)
        if where is not None:
            path, line, column = where
        else:
            path, line, column = _first(ctx.step_files), 0, 0
        tool = {"conda": "the conda solver", "pip": "pip", "apt": "apt-get"}[manager]
        if needed_by:
            message = (f"{tool} finds nothing that provides {name}, which {needed_by} needs: "
                       f"{needed_by} cannot be installed here")
        else:
            message = f"{tool} cannot find the package {spec.strip()!r}"
        fix = {
            "conda": f"check the name and version on https://anaconda.org/search?q={name} "
                     "(and the channels: most packages are on conda-forge); a package that is "
                     "only on the Python package index goes under `- pip:`",
            "pip": f"check the name and version on https://pypi.org/project/{name}/ (a version "
                   "may not exist for this Python version or platform)",
            "apt": "check the name on https://packages.ubuntu.com for the base image's Ubuntu "
                   "release; apt.txt takes one Ubuntu package name per line",
        }[manager]
        findings.append(_finding("build-package-not-found", path, line, column, message, fix))
    return findings


def _first(paths: list[str]) -> str:
    return paths[0] if paths else ""


def _step_place(ctx: _Context) -> tuple[str, int, str]:
    """The failing step's file and line (``""``, 0 when unknown) and its name."""
    origin = ctx.sourced.origin if ctx.sourced else None
    path = origin.path if origin and origin.path else ""
    line = origin.line if origin and origin.line else 0
    return path, line, ctx.step.name if ctx.step else "a step"


def _oom_findings(ctx: _Context) -> list[Finding]:
    killed = ctx.exit_code == 137 or any(
        line.strip() in ("Killed", "killed") for line in (ctx.step.logs[-5:] if ctx.step else [])
    )
    if not killed:
        return []
    path, line, step = _step_place(ctx)
    return [_finding(
        "build-out-of-memory", path, line, 1,
        f"{step} was killed (exit code 137): the builder most likely ran out of memory",
        "give the builder more memory (`docker buildx create --name big --driver "
        "docker-container --driver-opt memory=8g`, then `r2d-tui build --builder big`), "
        "or make the step use less",
    )]


_DISK_FULL = ("no space left on device", "disk quota exceeded", "enospc")


def _disk_full_findings(ctx: _Context) -> list[Finding]:
    lowered = ctx.text.lower()
    if not any(p in lowered for p in _DISK_FULL):
        return []
    path, line, step = _step_place(ctx)
    return [_finding(
        "build-disk-full", path, line, 1 if line else 0,
        f"{step} ran out of disk space (no space left on device)",
        "free the builder's space (`docker system df`, then `docker builder prune` or "
        "`docker image prune`), or make the step write less",
    )]


def _postbuild_findings(ctx: _Context) -> list[Finding]:
    step = ctx.step
    if step is None or ctx.exit_code == 137:
        return []
    title = step.title
    if not re.search(r"^RUN \S*postBuild\s*$", title):
        return []
    script = next((p for p in ctx.step_files if PurePosixPath(p).name == "postBuild"), None)
    if script is None:
        match = re.search(r"RUN \.?/?(\S*postBuild)", title)
        script = match.group(1) if match else "postBuild"
    text = ctx.workspace.text(script) if ctx.workspace is not None else None
    line = _postbuild_line(text, step.logs) if text is not None else None
    command = ""
    if text is not None and line is not None and 0 < line <= len(text.split("\n")):
        command = text.split("\n")[line - 1].strip()
    code = f" with exit code {ctx.exit_code}" if ctx.exit_code is not None else ""
    if line is not None:
        message = f"postBuild failed{code} at line {line}" + (f": {command}" if command else "")
    else:
        message = f"postBuild failed{code} (add `set -ex` at its top to see which command)"
    return [_finding(
        "build-postbuild-failed", script, line or 0, 1, message,
        "run it in the image to debug (`docker run -it --rm <image> bash`, then ./postBuild); "
        "`set -ex` at the top stops at the first error and logs every command",
    )]


def _pull_findings(ctx: _Context) -> list[Finding]:
    lowered = ctx.text.lower()
    if not any(p in lowered for p in _PULL_PATTERNS):
        return []
    image = ""
    match = re.search(r"(?:load metadata for|resolve source metadata for) (\S+?):?(?:\s|$)",
                      ctx.text)
    if match:
        image = match.group(1).rstrip(":")
    offline = any(p in lowered for p in _NETWORK_PATTERNS)
    if offline:
        why = "the registry cannot be reached (no network or DNS) and no local image has that name"
    elif "pull access denied" in lowered or "may require" in lowered or "authorize" in lowered:
        why = "the registry refuses it: the image does not exist or needs `docker login`"
    else:
        why = "the registry does not have it"
    path, line = "", 0
    from_step = _from_instruction(ctx.sources)
    if from_step is not None and from_step.origin.kind == "dockerfile":
        path = from_step.origin.path or ""
        line = from_step.instruction.first_line
        fix = ("fix the FROM line (`docker image ls` lists local images; a local image must "
               "have exactly this name), or pull it while online")
    else:
        fix = ("pass --base-image with an image the engine has or can pull "
               "(`docker image ls` lists local images), or pull it while online")
    return [_finding(
        "base-image-pull-failed", path, line, 1,
        f"the base image {image or '(FROM)'} cannot be pulled: {why}", fix,
    )]


def _builder_findings(ctx: _Context) -> list[Finding]:
    step = ctx.step
    lowered = ctx.text.lower()
    booting = step is not None and step.internal and "booting buildkit" in step.name
    missing = re.search(r'no builder "?([^"\s]+)"? found', ctx.text)
    if not booting and missing is None and "failed to find driver" not in lowered:
        return []
    argv = ctx.result.argv
    name = argv[argv.index("--builder") + 1] if "--builder" in argv[:-1] else ""
    if missing is not None:
        name = missing.group(1)
        message = f"there is no buildx builder named {name}"
    else:
        detail = (step.error if step is not None and step.error else ctx.result.error) or ""
        message = f"the builder {name or '(current)'} could not start: {detail}".rstrip(": ")
    return [_finding(
        "builder-unavailable", "", 0, 0, message,
        "pick another builder (`docker buildx ls`; ctrl+t in the TUI, --builder NAME), or start "
        "this one while online (`docker buildx inspect --bootstrap NAME`)",
    )]


def _cache_findings(ctx: _Context) -> list[Finding]:
    if "cache export is not supported" not in ctx.text.lower():
        return []
    return [_finding(
        "cache-export-unsupported", "", 0, 0,
        "the builder's driver cannot export build cache (--cache-to)",
        "build with --builder on a docker-container builder (`docker buildx create --name "
        "cache --driver docker-container`), or drop --cache-to",
    )]


def _from_instruction(sources: StepSources | None) -> SourcedInstruction | None:
    if sources is None:
        return None
    froms = [i for i in sources.instructions if i.instruction.keyword == "FROM"]
    return froms[-1] if froms else None


def _engine_findings(ctx: _Context) -> list[Finding]:
    lowered = ctx.text.lower()
    if any(p in lowered for p in _BUILDX_MISSING):
        return [_finding(
            "buildx-missing", "", 0, 0,
            "the docker buildx plugin is missing; repo2docker and r2d-tui build with it",
            "install docker-buildx (or docker-buildx-plugin), then check `docker buildx version`",
        )]
    if ctx.result.error_kind == "engine" or any(p in lowered for p in _ENGINE_DOWN):
        detail = ctx.result.error or "the Docker daemon is not reachable"
        return [_finding(
            "engine-unreachable", "", 0, 0, detail.rstrip("."),
            "start the Docker engine (or fix DOCKER_HOST / `docker context`), check with "
            "`docker version`, and build again",
        )]
    return []


def _failed_instruction(
    result: BuildResult, step: Step | None, sources: StepSources | None
) -> SourcedInstruction | None:
    if sources is None:
        return None
    if step is not None and step.index is not None:
        found = sources.for_step(step.stage, step.index)
        if found is not None:
            return found
    for line in result.output:  # buildx prints "Dockerfile:151" above the failing line
        match = _DOCKERFILE_LINE.match(line.strip())
        if match:
            return sources.for_line(int(match.group(1)))
    return None


def explain_failure(
    result: BuildResult,
    sources: StepSources | None = None,
    workspace: Workspace | None = None,
) -> FailureExplanation | None:
    """Explain a failed build (``None`` for a successful one).

    ``sources`` ties steps to files (:func:`r2d_tui.core.sources.attribute` of the render
    that was built); ``workspace`` lets findings point at the line of a file (the
    package name in environment.yml, the failing line of postBuild). Both are optional:
    without them the explanation still names the step, its log and the failure kind.
    """
    if result.success:
        return None
    step = result.failed_step
    sourced = _failed_instruction(result, step, sources)
    logs = list(step.logs) if step is not None else []
    text = "\n".join([*logs, *result.output, result.error or ""])
    exit_code = _exit_code(result.error or "") or (
        _exit_code(step.error or "") if step is not None else None
    )
    ctx = _Context(result, step, sourced, workspace, sources, text, exit_code)
    findings: list[Finding] = []
    stops = (_engine_findings, _builder_findings, _cache_findings, _pull_findings)
    for recogniser in (*stops, _package_findings, _disk_full_findings, _oom_findings,
                       _postbuild_findings):
        findings.extend(recogniser(ctx))
        if findings and recogniser in stops:
            break  # nothing else ran
    origin = sourced.origin if sourced is not None else None
    last = tuple(logs[-TAIL_LINES:]) if logs else tuple(result.log_tail[-TAIL_LINES:])
    label: str | None = None
    if step is not None and not step.internal:
        label = step.name
    elif sourced is not None and sourced.instruction.step is not None:
        first_line = sourced.instruction.text.split("\n")[0]
        label = f"{sourced.instruction.step.label} {first_line}"
    return FailureExplanation(
        summary=_summary(result, label, origin, exit_code),
        step_label=label,
        origin=origin,
        exit_code=exit_code,
        last_lines=last,
        findings=tuple(findings),
    )


def _summary(
    result: BuildResult, label: str | None, origin: Origin | None, exit_code: int | None
) -> str:
    if result.error_kind in ("engine", "render", "context") or label is None:
        kind = {"engine": "the engine cannot build", "render": "the Dockerfile cannot be "
                "rendered", "context": "the build context cannot be prepared"}.get(
                    result.error_kind or "", "the build failed")
        return f"{kind}: {result.error or 'unknown error'}"
    source = f" (from {origin.label})" if origin is not None else ""
    how = f"with exit code {exit_code}" if exit_code is not None else ""
    if not how:
        how = f": {result.error}" if result.error else ""
        return f"step {label}{source} failed{how}"
    return f"step {label}{source} failed {how}"


def explain_saved(
    result: BuildResult, sources: StepSources | None, workspace: Workspace
) -> FailureExplanation | None:
    """:func:`explain_failure` against the files as saved (what the build read), ignoring
    the workspace's unsaved buffers."""
    from r2d_tui.core.workspace import Workspace as DiskWorkspace

    on_disk = DiskWorkspace(workspace.root, display_path=workspace.display_path)
    try:
        return explain_failure(result, sources, on_disk)
    finally:
        on_disk.close()
