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

from r2d_tui.core.buildtime import dockerfile_instructions


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
