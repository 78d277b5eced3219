"""A small, forgiving model of a Dockerfile: instructions, stages, users, volumes.

Enough structure for the migration checks (which stages the final one needs, what a
``VOLUME`` covers, who owns a ``WORKDIR``), built on the instruction splitter of
:mod:`r2d_tui.core.buildtime` so line numbers agree everywhere.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field

from r2d_tui.core.buildtime import (
    DockerfileVariables,
    dockerfile_instructions,
    expand_variables,
)


@dataclass(frozen=True)
class Instruction:
    keyword: str
    argument: str
    line: int


@dataclass
class Stage:
    index: int
    name: str | None
    base: str
    line: int
    instructions: list[Instruction] = field(default_factory=list)

    @property
    def runs(self) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == "RUN"]


def parse(text: str) -> list[Stage]:
    stages: list[Stage] = []
    for keyword, argument, line in dockerfile_instructions(text):
        instruction = Instruction(keyword, argument, line)
        if keyword == "FROM":
            words = [w for w in argument.split() if not w.startswith("--")]
            base = words[0] if words else ""
            name = words[2].lower() if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(len(stages), name, base, line))
        if stages:
            stages[-1].instructions.append(instruction)
    return stages


def stage_ref(reference: str, stages: list[Stage]) -> int | None:
    reference = reference.strip().lower()
    if reference.isdigit():
        index = int(reference)
        return index if index < len(stages) else None
    for stage in stages:
        if stage.name == reference:
            return stage.index
    return None


def dependencies(stage: Stage, stages: list[Stage]) -> set[int]:
    """Indices of the stages ``stage`` builds on (FROM, COPY --from, RUN --mount=from)."""
    found: set[int] = set()
    base = stage_ref(stage.base, stages[: stage.index])
    if base is not None:
        found.add(base)
    for instruction in stage.instructions:
        for match in re.finditer(r"--from=([^\s,]+)", instruction.argument):
            ref = stage_ref(match.group(1), stages)
            if ref is not None:
                found.add(ref)
        for match in re.finditer(r"--mount=[^\s]*\bfrom=([^\s,]+)", instruction.argument):
            ref = stage_ref(match.group(1), stages)
            if ref is not None:
                found.add(ref)
    return found


def needed_stages(stages: list[Stage], target: int | None = None) -> set[int]:
    """Stages BuildKit builds for ``target`` (default: the last stage)."""
    if not stages:
        return set()
    wanted = [len(stages) - 1 if target is None else target]
    seen: set[int] = set()
    while wanted:
        index = wanted.pop()
        if index in seen:
            continue
        seen.add(index)
        wanted.extend(dependencies(stages[index], stages))
    return seen


def volume_paths(argument: str) -> list[str]:
    text = argument.strip()
    if text.startswith("["):
        try:
            values = json.loads(text)
        except ValueError:
            values = []
        return [str(v).rstrip("/") or "/" for v in values if isinstance(v, str)]
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    return [w.rstrip("/") or "/" for w in words]


def is_root_user(argument: str) -> bool:
    user = argument.strip().split(":", 1)[0]
    return user in ("root", "0", "")


#: Base images known to switch to a non-root user, and that user: the Jupyter
#: docker-stacks (jupyter/*-notebook on Docker Hub and quay.io), JupyterHub's singleuser
#: image (built on them), micromamba's image and Homebrew's.
NON_ROOT_BASES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?:quay\.io/)?jupyter/[^/]+"), "jovyan"),
    (re.compile(r"(?:quay\.io/)?jupyterhub/singleuser"), "jovyan"),
    (re.compile(r"mambaorg/micromamba"), "mambauser"),
    (re.compile(r"homebrew/brew"), "linuxbrew"),
)


def base_image_user(image: str) -> str:
    """The user a base image runs its build steps as: ``root`` unless it is one of the
    images known to end with a non-root ``USER`` (:data:`NON_ROOT_BASES`)."""
    name = image.strip().lower().split("@", 1)[0]
    last = name.rsplit("/", 1)
    if ":" in last[-1]:
        name = name[: name.rindex(":")]  # the tag (not a registry's port)
    for prefix in ("docker.io/", "index.docker.io/", "registry-1.docker.io/"):
        name = name.removeprefix(prefix)
    for pattern, user in NON_ROOT_BASES:
        if pattern.fullmatch(name):
            return user
    return "root"


def stage_users(text: str) -> list[tuple[Stage, str]]:
    """Each stage with the user its first instruction runs as: the base image's user, or
    for ``FROM <earlier stage>`` the user that stage ended with. ``FROM $IMAGE`` uses the
    global ``ARG`` default."""
    stages = parse(text)
    variables = DockerfileVariables()
    for keyword, argument, _line in dockerfile_instructions(text):
        if keyword == "FROM":
            break
        variables.step(keyword, argument)
    final: list[str] = []
    out: list[tuple[Stage, str]] = []
    for stage in stages:
        reference = stage_ref(stage.base, stages[: stage.index])
        if reference is not None:
            user = final[reference]
        else:
            base = expand_variables(stage.base, variables.global_args)[0]
            user = base_image_user(base)
        out.append((stage, user))
        for instruction in stage.instructions:
            if instruction.keyword == "USER" and instruction.argument.strip():
                user = instruction.argument.strip()
        final.append(user)
    return out


def user_at(text: str, line: int) -> str:
    """The user the instruction on ``line`` runs as."""
    user = "root"
    for stage, initial in stage_users(text):
        if stage.line > line:
            break
        user = initial
        for instruction in stage.instructions:
            if instruction.line > line:
                break
            if instruction.keyword == "USER" and instruction.argument.strip():
                user = instruction.argument.strip()
    return user
