"""Migration checks: code and configuration that relied on Docker's classic builder.

Since 2025 repo2docker builds with BuildKit (``docker buildx build``). Code that runs
*during the build* and assumed the classic builder behaves differently now: the classic
builder ran each ``RUN`` in a real container with an empty ``/.dockerenv`` file and
``docker`` in ``/proc/1/cgroup`` (on cgroup v1 hosts); BuildKit's sandbox has neither, so
"am I being built by Docker?" tests are now false and scripts silently take their other
branch. Unused Dockerfile stages are skipped, ``VOLUME`` no longer discards changes,
``WORKDIR`` is created by the current user, ``.dockerignore`` is matched differently, and
options that only the old builder honoured now fail or do nothing.

Only build-time code matters for the probes (see :mod:`r2d_tui.core.buildtime`, which
follows the calls from postBuild, install.R, setup.py and Dockerfile ``RUN`` lines through
the repository); the same probes in code that runs only when the container starts are
reported as ``runtime-container-detection`` (info).
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from r2d_tui.core import dockerfile as dockerfile_model
from r2d_tui.core.buildtime import (
    SEPARATORS,
    DockerfileVariables,
    Reached,
    build_time_files,
    code_text,
    dockerfile_instructions,
    expand_variables,
    run_shell,
)
from r2d_tui.core.checks import CheckContext, rule
from r2d_tui.core.codescan import (
    PRINTERS,
    Probe,
    language_of,
    probes_in,
    realign,
    shell_command_word,
    shell_probes,
    strip_shell_comment,
)
from r2d_tui.core.findings import Finding, Severity

__all__ = ["strip_shell_comment"]

#: Folders never scanned for run-time code.
SKIP_DIRS = frozenset({
    ".git", "node_modules", "__pycache__", ".ipynb_checkpoints", ".venv", "venv", ".tox",
    ".mypy_cache", ".pytest_cache", "site-packages", ".cache",
})
#: Run-time files larger than this are not scanned (data, not code).
MAX_RUNTIME_FILE = 1024 * 1024
NEEDLES = (b"/.dockerenv", b"/run/.containerenv", b"/proc/", b"is-docker",
           b"is-inside-container", b"hostname", b"HOSTNAME")


@dataclass(frozen=True)
class LocatedProbe:
    probe: Probe
    reached: Reached

    @property
    def chain(self) -> tuple[str, ...]:
        """The chain down to the probe's line. The last link keeps its label
        (``package.json#scripts.postinstall:3``), which is the file's path otherwise."""
        chain = self.reached.chain
        return (*chain[:-1], f"{chain[-1]}:{self.probe.line}")

    @property
    def chain_text(self) -> str:
        return " → ".join(self.chain)


#: Homebrew's installer (install.sh; the older Ruby ``install``; Linuxbrew's copy).
HOMEBREW_INSTALLER = re.compile(r"(?:Homebrew|Linuxbrew)/install/\S*?install(?:\.sh)?\b")
#: Running a command as another user inside a RUN (``su brew -c …``, ``sudo -u brew …``).
AS_OTHER_USER = re.compile(
    r"\b(?:su\s+(?:-\w*\s+)*(?!root\b)[\w$.-]+|sudo\s+(?:-\w+\s+)*-u\s*(?!root\b)[\w$.-]+"
    r"|runuser\s+(?:-\w+\s+)*-u\s*(?!root\b)[\w$.-]+|gosu\s+(?!root\b)[\w$.-]+"
    r"|setpriv\s+[^|;&]*--reuid)"
)


#: A RUN that creates the marker itself (``touch /.dockerenv``, ``> /.dockerenv``): the
#: usual workaround for Homebrew's installer, after which tests of it are true again.
CREATES_DOCKERENV = re.compile(r"(?:\btouch\s+(?:-\S+\s+)*|>\s*)['\"]?/\.dockerenv\b")


#: Variable values that name a marker: a RUN testing ``"$MARK"`` tests the marker.
MARKER_VALUE = re.compile(r"/\.dockerenv|/run/\.containerenv|/proc/")
#: Instructions whose command runs when the container starts (or is probed), not at build.
RUNTIME_INSTRUCTIONS = ("CMD", "ENTRYPOINT", "HEALTHCHECK")


def _instruction_shell(keyword: str, argument: str) -> str | None:
    """The shell code of a RUN, CMD, ENTRYPOINT or HEALTHCHECK CMD instruction."""
    if keyword == "HEALTHCHECK":
        words = argument.strip()
        while words.startswith("--"):
            words = words.split(None, 1)[1] if " " in words else ""
        head, _, rest = words.partition(" ")
        if head.upper() != "CMD":
            return None  # HEALTHCHECK NONE
        argument = rest
    return run_shell(argument)


def _dockerfile_probes(text: str, *, runtime: bool = False) -> list[Probe]:
    """Probes in the RUN lines of a Dockerfile (``runtime``: in CMD, ENTRYPOINT and
    HEALTHCHECK instead). ``ARG`` / ``ENV`` values naming a marker are followed into the
    commands that use them (``ARG MARK=/.dockerenv`` … ``RUN test -f "$MARK"``)."""
    probes: list[Probe] = []
    lines = text.split("\n")
    created: tuple[int, int] | None = None  # where this stage created /.dockerenv
    variables = DockerfileVariables()
    wanted = RUNTIME_INSTRUCTIONS if runtime else ("RUN",)
    for keyword, argument, line in dockerfile_instructions(text):
        variables.step(keyword, argument)
        if keyword == "FROM":
            created = None
        if keyword not in wanted:
            continue
        shell = _instruction_shell(keyword, argument)
        if shell is None:
            continue
        if keyword == "RUN" and created is None:
            for code_line, code in enumerate(shell.split("\n"), start=line):
                creation = CREATES_DOCKERENV.search(strip_shell_comment(code))
                if creation:
                    created = (code_line, creation.start())
                    break
        # column of the shell code's first line within the instruction's line
        raw = lines[line - 1] if 0 < line <= len(lines) else ""
        head = shell.split("\n", 1)[0]
        offset = raw.find(head) if head else -1
        if offset < 0:
            offset = len(raw) - len(raw.lstrip()) + len(keyword) + 1
        markers = {name: value for name, value in variables.values.items()
                   if MARKER_VALUE.search(value)}
        for probe in _expanded_shell_probes(shell, markers, line):
            if probe.kind == "dockerenv" and created and (probe.line, probe.column) > created:
                continue  # tests the file this Dockerfile made: true under BuildKit too
            column = probe.column + (offset if probe.line == line else 0)
            probes.append(Probe(probe.kind, probe.line, column, probe.text))
        if keyword != "RUN":
            continue
        for match in HOMEBREW_INSTALLER.finditer(shell):
            # the installer refuses root; run as another user, it is fine
            statement = shell[: match.start()].rsplit("&&", 1)[-1].rsplit(";", 1)[-1]
            if AS_OTHER_USER.search(statement):
                continue
            if shell_command_word(shell[: match.start()]) in PRINTERS:
                continue  # the address is only printed (``echo "see …/install.sh"``)
            number = line + shell.count("\n", 0, match.start())
            if created and created[0] <= number:
                continue  # ``touch /.dockerenv`` first: the installer sees a container
            column = match.start() - (shell.rfind("\n", 0, match.start()) + 1) + 1
            if number == line:
                column += offset
            probes.append(Probe("homebrew", number, column, shell.split("\n")[0].strip()))
            break
    return realign(probes, text)


def _expanded_shell_probes(shell: str, values: dict[str, str], first_line: int) -> list[Probe]:
    """:func:`shell_probes` of ``shell`` with the variables of ``values`` substituted, each
    probe placed at the original line and column (a substituted value: its reference)."""
    if not values:
        return shell_probes(shell, first_line=first_line, skip_shebang=False)
    one_line = {name: value.replace("\n", " ") for name, value in values.items()}
    expanded, origin = expand_variables(shell, one_line)
    expanded_starts = _line_starts(expanded)
    original_starts = _line_starts(shell)
    original_lines = shell.split("\n")
    probes: list[Probe] = []
    for probe in shell_probes(expanded, first_line=first_line, skip_shebang=False):
        index = expanded_starts[probe.line - first_line] + probe.column - 1
        source = origin[index] if index < len(origin) else len(shell)
        number = max(i for i, start in enumerate(original_starts) if start <= source)
        probes.append(Probe(probe.kind, first_line + number, source - original_starts[number] + 1,
                            original_lines[number].strip()))
    return probes


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for line in text.split("\n")[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    return starts


def build_time_probes(context: CheckContext) -> list[LocatedProbe]:
    """Every probe in code that runs at build time (cached on the context)."""
    cached = context.cache.get("build_time_probes")
    if isinstance(cached, list):
        return cached
    located: list[LocatedProbe] = []
    seen: set[tuple[str, int, int, str]] = set()
    reached_files = build_time_files(context.workspace, context.detection)
    for reached in reached_files:
        text = reached.text_override
        if text is None:
            text = code_text(context.workspace, reached.path)
        if text is None:
            continue
        if reached.language == "dockerfile":
            probes = _dockerfile_probes(text)
        else:
            probes = probes_in(reached.language, text)
        if reached.text_override is not None:
            probes = _in_file(probes, reached, context.text(reached.path) or "")
        for probe in probes:
            if reached.lines is not None and probe.line not in reached.lines:
                continue
            # a file reached twice (two make targets sharing lines outside recipes, two
            # npm scripts) reports each probe once, with the first chain found
            key = (reached.path, probe.line, probe.column, probe.kind)
            if key in seen:
                continue
            seen.add(key)
            located.append(LocatedProbe(probe, reached))
    context.cache["build_time_probes"] = located
    # files reached at build time (wholly or in part) are not run-time code
    context.cache["build_time_paths"] = {r.path for r in reached_files}
    return located


def _in_file(probes: list[Probe], reached: Reached, text: str) -> list[Probe]:
    """Columns of probes found in a package.json script, as columns of package.json (the
    script is a JSON string on its line; escapes before the probe shift it)."""
    override = reached.text_override or ""
    lines = text.split("\n")
    code_lines = override.split("\n")
    out: list[Probe] = []
    for probe in probes:
        raw = lines[probe.line - 1] if 0 < probe.line <= len(lines) else ""
        code = code_lines[probe.line - 1] if 0 < probe.line <= len(code_lines) else ""
        encoded = json.dumps(code)[1:-1]
        start = raw.find(encoded) if encoded else -1
        if start < 0:
            out.append(probe)
            continue
        before = json.dumps(code[: probe.column - 1])[1:-1]
        out.append(replace(probe, column=start + len(before) + 1))
    return out


def _fix_hint(context: CheckContext) -> str:
    if context.detection.buildpack == "docker":
        return "set an explicit ENV in the Dockerfile (e.g. ENV IN_IMAGE_BUILD=1) and test it"
    return 'test for "$REPO_DIR" (repo2docker sets it in every image) instead'


@rule(
    "R2D401",
    "dockerenv-reliance",
    Severity.ERROR,
    "build-time code tests for /.dockerenv, which BuildKit does not create",
    """\
The classic Docker builder ran every build step in a real container, and Docker creates an
empty /.dockerenv file in containers. Scripts used it to ask "am I being built by Docker
(repo2docker, Binder)?". Since 2025, repo2docker builds with BuildKit (docker buildx build),
whose build sandbox has no /.dockerenv. The test is now false during the build, so the
script silently takes its other branch (scikit-learn's .binder/postBuild had to change for
this). The check follows what the build runs: postBuild and the scripts, Makefile targets,
npm scripts, Python/R/Julia/Node files it calls, setup.py, install.R, and a Dockerfile's RUN
lines and the scripts they run. Containers started later still have the file under
`docker run` but not on Kubernetes, so it is a poor signal at run time too.

Fix: test something repo2docker sets on purpose. Every generated image has REPO_DIR set
with ENV, so `if [ -n "${REPO_DIR:-}" ]; then ...` works in postBuild; in your own
Dockerfile set a variable (ENV IN_IMAGE_BUILD=1) and test that.""",
    "migration",
)
def dockerenv_reliance(context: CheckContext) -> Iterator[Finding]:
    for item in build_time_probes(context):
        if item.probe.kind != "dockerenv":
            continue
        where = "RUN" if item.reached.language == "dockerfile" else "build-time code"
        if item.probe.printed:
            yield dockerenv_reliance.finding(
                item.reached.path, item.probe.line, item.probe.column,
                f"{where} prints a test for /.dockerenv ({item.chain_text}): the value is now "
                "False under BuildKit; it only changes the output, unless something reads it",
                severity=Severity.WARNING, chain=item.chain, fix=_fix_hint(context),
            )
            continue
        yield dockerenv_reliance.finding(
            item.reached.path,
            item.probe.line,
            item.probe.column,
            f"{where} tests for /.dockerenv ({item.chain_text}): BuildKit builds have no "
            "/.dockerenv, so this test is now false and the build takes the other branch",
            chain=item.chain,
            fix=_fix_hint(context),
        )


DETECTION_TEXT = {
    "cgroup": (
        "reads /proc/*/cgroup looking for docker: BuildKit's sandbox (and any cgroup v2 "
        "host) shows no 'docker' there, so this is now false",
        Severity.ERROR,
    ),
    "containerenv": (
        "tests for /run/.containerenv (podman's marker), which no Docker build has",
        Severity.WARNING,
    ),
    "is-docker": (
        "uses the npm is-docker / is-inside-container check, which looks for /.dockerenv "
        "and docker cgroups: false during a BuildKit build",
        Severity.ERROR,
    ),
    "hostname": (
        "compares the host name: BuildKit build steps run as 'buildkitsandbox', the classic "
        "builder used the container id",
        Severity.WARNING,
    ),
    "homebrew": (
        "runs Homebrew's installer as root: it refuses root unless it detects a container, "
        "and BuildKit's build sandbox is not detected as one",
        Severity.ERROR,
    ),
}


@rule(
    "R2D402",
    "container-detection-reliance",
    Severity.ERROR,
    "build-time code detects a container in a way BuildKit no longer satisfies",
    "Besides /.dockerenv, build scripts detect Docker by grepping 'docker' in "
    "/proc/1/cgroup or /proc/self/cgroup (empty under BuildKit and on cgroup v2 hosts), by "
    "/run/.containerenv (podman only), with the npm packages is-docker or "
    "is-inside-container (which check exactly those files), or by the host name (BuildKit "
    "steps run as 'buildkitsandbox'). Installers that refuse root outside a detected "
    "container, like Homebrew's install.sh, now abort when a Dockerfile runs them as root. "
    "Test an explicit variable instead (REPO_DIR in repo2docker images, your own ENV in a "
    "Dockerfile), and run installers as a normal user.",
    "migration",
)
def container_detection_reliance(context: CheckContext) -> Iterator[Finding]:
    for item in build_time_probes(context):
        kind = item.probe.kind
        if kind == "dockerenv":
            continue
        if kind == "homebrew" and not _runs_as_root(context, item):
            continue
        text, severity = DETECTION_TEXT.get(kind, ("detects a container", Severity.WARNING))
        yield container_detection_reliance.finding(
            item.reached.path,
            item.probe.line,
            item.probe.column,
            f"build-time code ({item.chain_text}) {text}",
            severity=severity,
            chain=item.chain,
            fix=_fix_hint(context) if kind != "homebrew" else
            "install Homebrew as a non-root USER (or use apt/conda packages)",
        )


def _runs_as_root(context: CheckContext, item: LocatedProbe) -> bool:
    text = context.text(item.reached.path) or ""
    return dockerfile_model.is_root_user(dockerfile_model.user_at(text, item.probe.line))


def iter_code_files(root: str) -> Iterator[str]:
    """Repository-relative paths of the files that may hold code or configuration
    (:data:`SCANNED_SUFFIXES`, :data:`SCANNED_NAMES`), skipping tool folders.

    A data-heavy repository has thousands of files: the name is tested before anything
    else is done with an entry, and ``DirEntry.is_dir`` costs no system call."""
    suffixes, names, skipped = SCANNED_SUFFIXES, SCANNED_NAMES, SKIP_DIRS
    stack = [""]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(os.path.join(root, folder) if folder else root) as entries:
                listed = list(entries)
        except OSError:
            continue
        prefix = f"{folder}/" if folder else ""
        for entry in listed:
            name = entry.name
            dot = name.rfind(".")
            wanted = (dot > 0 and name[dot:] in suffixes) or name in names
            try:
                if entry.is_dir(follow_symlinks=False):
                    if name not in skipped:
                        stack.append(prefix + name)
                elif wanted and entry.is_file(follow_symlinks=False):
                    yield prefix + name
            except OSError:
                continue


#: Suffixes and names of files that may hold code or builder configuration.
SCANNED_SUFFIXES = frozenset({
    ".sh", ".bash", ".zsh", ".py", ".r", ".R", ".jl", ".js", ".mjs", ".cjs", ".ts", ".ipynb",
    ".mk", ".yml", ".yaml", ".toml", ".cfg", ".ini", ".json",
})
SCANNED_NAMES = frozenset({"start", "postBuild", "Makefile", "makefile", "GNUmakefile",
                           "Dockerfile", ".env", "install.R"})


def repo_files(context: CheckContext) -> list[str]:
    """Files of the repository that may hold code or configuration, walked once per run."""
    cached = context.cache.get("repo_files")
    if isinstance(cached, list):
        return cached
    files = list(iter_code_files(str(context.workspace.root)))
    context.cache["repo_files"] = files
    return files


@rule(
    "R2D403",
    "runtime-container-detection",
    Severity.INFO,
    "container detection in code that runs only at run time",
    "The same tests (/.dockerenv, docker in /proc/1/cgroup, is-docker…) in code that runs "
    "only when the container starts (start, notebooks, modules they import) are not "
    "affected by the builder. But they are fragile: on Binder, containers run on "
    "Kubernetes, where /.dockerenv does not exist and cgroups do not say docker. Prefer an "
    "explicit variable (REPO_DIR, or your own in start).",
    "migration",
)
def runtime_container_detection(context: CheckContext) -> Iterator[Finding]:
    build_time_probes(context)
    cached_paths = context.cache.get("build_time_paths")
    build_paths = cached_paths if isinstance(cached_paths, set) else set()
    root = str(context.workspace.root)
    for rel in repo_files(context):
        if rel in build_paths:
            continue
        language = language_of(rel)
        name = rel.rsplit("/", 1)[-1]
        if language in (None, "dockerfile", "package.json") and name != "start":
            continue
        if context.detection.buildpack == "docker" and rel in context.detection.deciding_files:
            continue
        try:
            if os.path.getsize(os.path.join(root, rel)) > MAX_RUNTIME_FILE:
                continue
            with open(os.path.join(root, rel), "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        if not any(needle in data for needle in NEEDLES):
            continue
        text = context.text(rel)
        if text is None:
            continue
        language = language or language_of(rel, text) or "sh"
        for probe in probes_in(language, text):
            if probe.kind != "homebrew":
                yield _runtime_finding(rel, probe, "code that runs")
    dockerfile = _user_dockerfile(context)
    if dockerfile is not None:
        # CMD, ENTRYPOINT and HEALTHCHECK commands run in the started container
        for probe in _dockerfile_probes(context.text(dockerfile) or "", runtime=True):
            yield _runtime_finding(dockerfile, probe,
                                   "a command (CMD, ENTRYPOINT or HEALTHCHECK) that runs")


def _runtime_finding(path: str, probe: Probe, what: str) -> Finding:
    return runtime_container_detection.finding(
        path, probe.line, probe.column,
        f"container detection ({probe.kind}) in {what} only when the container starts: not "
        "a builder problem, but unreliable on Kubernetes (mybinder.org)",
        fix="test an explicit environment variable instead",
    )


@rule(
    "R2D404",
    "unused-stage-skipped",
    Severity.WARNING,
    "a Dockerfile stage with RUN steps the final stage does not need: BuildKit skips it",
    "The classic builder ran every stage of a multi-stage Dockerfile, top to bottom. "
    "BuildKit builds only the stages the final stage (or --target) depends on through "
    "FROM <stage>, COPY --from=<stage> or RUN --mount=from=<stage>. A stage that only ran "
    "tests or checks, downloaded something, or had side effects is now silently skipped, "
    "so it no longer gates the build. Make the final stage depend on it (e.g. COPY "
    "--from=test /ok /tmp/ok) or delete it.",
    "migration",
)
def unused_stage_skipped(context: CheckContext) -> Iterator[Finding]:
    path = _user_dockerfile(context)
    if path is None:
        return
    stages = dockerfile_model.parse(context.text(path) or "")
    needed = dockerfile_model.needed_stages(stages)
    for stage in stages:
        if stage.index in needed or not stage.runs:
            continue
        label = f"'{stage.name}'" if stage.name else f"#{stage.index}"
        yield unused_stage_skipped.finding(
            path, stage.line, 1,
            f"stage {label} has {len(stage.runs)} RUN step(s) but the final stage does not "
            "use it: BuildKit skips the whole stage (the classic builder ran it)",
            fix=f"COPY --from={stage.name or stage.index} something into the final stage, "
            "or remove the stage",
        )


def _user_dockerfile(context: CheckContext) -> str | None:
    detection = context.detection
    if detection.buildpack != "docker" or not detection.deciding_files:
        return None
    return detection.deciding_files[0]


#: Commands that write the paths they name (or, run inside a folder, write there).
WRITE_COMMANDS = re.compile(
    r"(?:mkdir|touch|cp|mv|rm|chown|chmod|ln|tee|install|git\s+clone|wget|curl|tar|unzip|"
    r"sed\s+-i|pip3?\s+install|conda\s+(?:create|install)|mamba\s+(?:create|install)|"
    r"npm\s+(?:install|ci)|dd|rsync|python3?|bash|sh|make)\b"
)
#: Of those, the ones that do not write into the current folder unless told to.
NOT_INTO_CWD = re.compile(r"(?:pip3?|conda|mamba|chown|chmod|python3?|bash|sh)\b")


def _under(path: str, volume: str) -> bool:
    return volume == "/" or path == volume or path.startswith(volume.rstrip("/") + "/")


def _writes_under(shell: str, volume: str, workdir: str) -> bool:
    """Does this RUN's shell code write below ``volume``? (A redirect into it, a writing
    command naming a path below it, or a writing command run in a folder below it.)"""
    root = re.escape(volume.rstrip("/"))
    mention = re.compile(rf"(?<![\w./$-]){root}(?=[/\s'\";&|)]|$)")
    redirect = re.compile(rf">>?\s*['\"]?{root}(?=[/\s'\"]|$)")
    cwd = workdir
    for segment in SEPARATORS.split(shell):
        words = segment.strip().lstrip("(!{").strip().split()
        while words and (re.fullmatch(r"[A-Za-z_]\w*=\S*", words[0])
                         or words[0] in ("sudo", "env", "exec", "then", "do", "if")):
            words.pop(0)
        if not words:
            continue
        if words[0] == "cd" and len(words) > 1 and "$" not in words[1]:
            cwd = posixpath.normpath(posixpath.join(cwd, words[1].strip("'\"")))
            continue
        code = " ".join([posixpath.basename(words[0]), *words[1:]])
        if redirect.search(code):
            return True
        if not WRITE_COMMANDS.match(code):
            continue
        if mention.search(code):
            return True
        if _under(cwd, volume) and not NOT_INTO_CWD.match(code):
            return True
    return False


@rule(
    "R2D405",
    "volume-then-modify",
    Severity.WARNING,
    "a RUN step writes under a path declared VOLUME earlier",
    "With the classic builder, a path declared with VOLUME got a fresh volume in every "
    "later build step, so changes RUN made below it were thrown away (COPY was kept). "
    "BuildKit treats VOLUME as image metadata only and keeps those changes, so the same "
    "Dockerfile now produces a different (often larger) image, and files you expected to "
    "be empty are not. Move the VOLUME instruction after the steps that fill the path.",
    "migration",
)
def volume_then_modify(context: CheckContext) -> Iterator[Finding]:
    path = _user_dockerfile(context)
    if path is None:
        return
    stages = dockerfile_model.parse(context.text(path) or "")
    declared_by: dict[int, list[tuple[str, int]]] = {}
    for stage in stages:
        # a stage built FROM an earlier one inherits its volumes
        base = dockerfile_model.stage_ref(stage.base, stages[: stage.index])
        volumes: list[tuple[str, int]] = list(declared_by.get(base, [])) if base is not None else []
        workdir = "/"
        for instruction in stage.instructions:
            if instruction.keyword == "WORKDIR":
                workdir = posixpath.normpath(
                    posixpath.join(workdir, instruction.argument.strip().strip("'\""))
                )
            elif instruction.keyword == "VOLUME":
                volumes.extend((v, instruction.line)
                               for v in dockerfile_model.volume_paths(instruction.argument))
            elif instruction.keyword == "RUN" and volumes:
                shell = run_shell(instruction.argument)
                for volume, declared in volumes:
                    if _writes_under(shell, volume, workdir):
                        yield volume_then_modify.finding(
                            path, instruction.line, 1,
                            f"RUN writes under {volume}, declared VOLUME on line {declared}: "
                            "the classic builder discarded these changes, BuildKit keeps them",
                            fix=f"move 'VOLUME {volume}' after this step",
                        )
                        break
        declared_by[stage.index] = volumes


KNOWN_DIRS = re.compile(r"^(?:/tmp|/home(?:/[^/]+)?|/root|/srv|/opt|/usr(?:/.*)?|/var(?:/.*)?|"
                        r"/etc(?:/.*)?|\$\{?HOME\}?|\$\{?REPO_DIR\}?|~)/?$")


@rule(
    "R2D406",
    "workdir-owner-changed",
    Severity.WARNING,
    "WORKDIR creates a directory after a non-root USER; later steps depend on its owner",
    "When WORKDIR names a directory that does not exist yet, BuildKit creates it owned by "
    "the current USER; the classic builder created it owned by root. A Dockerfile that "
    "switches to a non-root USER, then uses WORKDIR to create a directory and writes "
    "into it, works only with BuildKit (and fails with the classic builder, podman or "
    "kaniko); one that relied on root ownership now gets a user-owned directory. Create "
    "the directory explicitly (RUN mkdir -p … && chown …) before switching user.",
    "migration",
)
def workdir_owner_changed(context: CheckContext) -> Iterator[Finding]:
    path = _user_dockerfile(context)
    if path is None:
        return
    for stage, user in dockerfile_model.stage_users(context.text(path) or ""):
        root_user = dockerfile_model.is_root_user(user)
        created: list[str] = []
        pending: tuple[int, str] | None = None
        workdir = "/"
        for instruction in stage.instructions:
            keyword, argument = instruction.keyword, instruction.argument.strip()
            if keyword == "USER":
                root_user = dockerfile_model.is_root_user(argument)
                user = argument
                pending = None
            elif keyword in ("COPY", "ADD"):
                words = [w for w in argument.split() if not w.startswith("--")]
                if words:
                    created.append(words[-1].rstrip("/"))
            elif keyword == "RUN":
                shell = run_shell(argument)
                created.extend(m.group(1).rstrip("/") for m in
                               re.finditer(r"mkdir\s+(?:-\w+\s+)*(\S+)", shell))
                if pending is not None and not root_user:
                    line, directory = pending
                    yield workdir_owner_changed.finding(
                        path, line, 1,
                        f"WORKDIR {directory} is created as user {user} by BuildKit (root by "
                        "the classic builder) and the RUN steps after it depend on that owner",
                        fix=f"RUN mkdir -p {directory} && chown {user} {directory} before "
                        f"USER {user}",
                    )
                    pending = None
            elif keyword == "WORKDIR":
                directory = argument.strip("'\"").rstrip("/") or "/"
                if not directory.startswith(("/", "$", "~")):
                    # relative to the current WORKDIR
                    directory = posixpath.normpath(posixpath.join(workdir, directory))
                workdir = directory
                exists = KNOWN_DIRS.match(directory) or any(
                    c == directory or c.startswith(directory + "/") for c in created
                )
                pending = None
                if not root_user and not exists and directory.startswith(("/", "$")):
                    pending = (instruction.line, directory)
                created.append(directory)


@rule(
    "R2D407",
    "dockerignore-semantics",
    Severity.WARNING,
    ".dockerignore patterns whose meaning differs between the builders",
    "BuildKit reads <Dockerfile>.dockerignore (for example Dockerfile.dockerignore) before "
    "the root .dockerignore; the classic builder only knew .dockerignore. Exception "
    "patterns ('!keep/this') are matched differently by the two (BuildKit applies the "
    "last matching pattern and can re-include files inside excluded folders; the "
    "docker-py matcher repo2docker uses for generated Dockerfiles does not always), so the "
    "set of files sent to the build can change. Check what gets in with "
    "'r2d-tui build' and prefer plain exclusions.",
    "migration",
)
def dockerignore_semantics(context: CheckContext) -> Iterator[Finding]:
    root = context.workspace.root
    folders = ["", *(f for f in ("binder", ".binder") if (root / f).is_dir())]
    for folder in folders:
        base = root / folder if folder else root
        try:
            names = sorted(os.listdir(base))
        except OSError:
            continue
        for name in names:
            rel = f"{folder}/{name}" if folder else name
            if name.endswith(".dockerignore") and name != ".dockerignore":
                yield dockerignore_semantics.finding(
                    rel, 1, 1,
                    f"{rel} is a Dockerfile-specific ignore file: BuildKit uses it instead of "
                    ".dockerignore, the classic builder ignored it",
                    fix="make sure it and .dockerignore agree, or keep only one",
                )
            if name in (".dockerignore", ".containerignore") or name.endswith(".dockerignore"):
                text = context.text(rel) or ""
                for number, line in enumerate(text.split("\n"), start=1):
                    if line.strip().startswith("!"):
                        yield dockerignore_semantics.finding(
                            rel, number, 1,
                            f"exception pattern {line.strip()!r}: BuildKit and the classic "
                            "matcher re-include files differently",
                            fix="replace the exception with explicit exclusions",
                        )


LEGACY_OPTIONS = (
    (re.compile(r"--build-memory-limit\b|\bbuild_memory_limit\b"), Severity.ERROR,
     "sets a build memory limit: repo2docker ≥ 2025.08 exits with an error ('no longer "
     "supported'); limits belong to the buildx builder now"),
    (re.compile(r"\bDOCKER_BUILDKIT[\"']?\s*[:=]\s*[\"']?0\b"), Severity.WARNING,
     "turns BuildKit off with DOCKER_BUILDKIT=0: repo2docker always builds with buildx, so "
     "this has no effect (and the classic builder is deprecated)"),
    (re.compile(r"(?:docker\s+(?:image\s+)?build|buildx\s+build)\b[^\n]*\s--squash\b"),
     Severity.WARNING, "uses --squash, which BuildKit does not implement"),
)
CONFIG_SUFFIXES = (".py", ".yml", ".yaml", ".toml", ".cfg", ".ini", ".json", ".sh", ".mk")
CONFIG_NAMES = frozenset({"Makefile", "postBuild", "start", "Dockerfile", ".env"})


@rule(
    "R2D408",
    "legacy-builder-option",
    Severity.WARNING,
    "configuration that only the classic builder honoured",
    "repo2docker ≥ 2025.08 builds with 'docker buildx build'. --build-memory-limit (and "
    "Repo2Docker.build_memory_limit in a repo2docker or BinderHub config) now makes "
    "repo2docker exit with an error: memory limits are set on the buildx builder instead "
    "('docker buildx create --driver docker-container --driver-opt memory=…'). "
    "DOCKER_BUILDKIT=0 no longer selects the classic builder for repo2docker, and "
    "'--squash' is not implemented by BuildKit.",
    "migration",
)
def legacy_builder_option(context: CheckContext) -> Iterator[Finding]:
    root = str(context.workspace.root)
    for rel in repo_files(context):
        name = rel.rsplit("/", 1)[-1]
        if not (name.endswith(CONFIG_SUFFIXES) or name in CONFIG_NAMES):
            continue
        try:
            if os.path.getsize(os.path.join(root, rel)) > MAX_RUNTIME_FILE:
                continue
            with open(os.path.join(root, rel), "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        if not (b"memory" in data or b"BUILDKIT" in data or b"squash" in data):
            continue
        text = context.text(rel) or ""
        for number, raw in enumerate(text.split("\n"), start=1):
            code = raw if name.endswith(".json") else strip_shell_comment(raw)
            if re.match(r"\s*(?:echo|printf|print)\b", code):
                continue
            for pattern, severity, message in LEGACY_OPTIONS:
                match = pattern.search(code)
                if match:
                    yield legacy_builder_option.finding(
                        rel, number, match.start() + 1, f"{rel} {message}", severity=severity,
                        fix="remove it (set limits on the buildx builder instead)"
                        if severity is Severity.ERROR else "remove it",
                    )
