"""Which environment file produced each Dockerfile step, and which steps an edit reruns.

Two questions the build panel and the preview answer with this module:

* **Where did this step come from?** For a generated Dockerfile, repo2docker is asked, not
  imitated: the repository is rendered again with one environment file hidden
  (:func:`r2d_tui.core.render.render_hidden`), and the lines that disappear or change are
  the lines that file produced (``apt.txt`` → the ``apt-get install`` RUN,
  ``requirements.txt`` → its early ``COPY`` and ``pip install``, ``runtime.txt`` → the lock
  file of its Python version, …). What no file claims is repo2docker's own: its base
  steps, the base image (``FROM``), the copy of the whole repository (``COPY src/``), the
  labels and the ``--appendix``. For a repository with its own Dockerfile every step comes
  from that file, at its line.
* **What will saving rerun?** BuildKit reuses a step's cache while the step's text and
  everything it reads are unchanged, and reruns every later step of the stage once one
  step reruns. :func:`plan_rebuild` compares the Dockerfile of the saved files with the
  Dockerfile of the edited buffers (the first instruction whose text changes) and the
  ``COPY``/``ADD`` steps that read an edited file (``COPY src/requirements.txt …``, or
  ``COPY src/`` for every file of the repository), and takes the earliest. Steps are
  numbered as BuildKit numbers them in its progress (``[k/n]``, per stage; ``FROM`` of an
  image, ``RUN``, ``COPY``, ``ADD`` and ``WORKDIR`` make steps; ``ENV``, ``ARG``,
  ``LABEL``, ``USER`` and the like do not).

The model is deliberately conservative: a changed ``ENV`` line counts as rerunning the next
step, which BuildKit may still take from its cache when that step does not read the
variable.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
import shlex
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from r2d_tui.core import lazy
from r2d_tui.core.progress import ExpectedStep
from r2d_tui.core.render import RenderOptions, RenderResult, render_hidden
from r2d_tui.core.workspace import Workspace

#: Instructions that make a BuildKit step (besides ``FROM`` of an image).
STEP_KEYWORDS = frozenset({"RUN", "COPY", "ADD", "WORKDIR"})

#: Environment files whose absence never changes the Dockerfile text (only the context).
_CONTEXT_ONLY = frozenset({".dockerignore", ".containerignore"})

#: A repo2docker lock file name carries the Python version: ``environment.py-3.10-…``, or
#: escaped in its build-context name, ``environment-2epy-2d3-2e10-2d…``.
_LOCK_PYTHON = re.compile(r"environment(?:\.py-|-2epy-2d)(\d+)(?:\.|-2e)(\d+)(?:-|-2d)")

#: Where each kind of file pins the Python version (the first group is the version).
_PYTHON_PINS: dict[str, re.Pattern[str]] = {
    "runtime.txt": re.compile(r"^\s*python-(\d+(?:\.\d+)*)", re.M),
    "environment.yml": re.compile(r"^\s*-\s*[\"']?python\s*(?:[=<>~!]=?\s*)(\d+(?:\.\d+)*)", re.M),
    "environment.yaml": re.compile(r"^\s*-\s*[\"']?python\s*(?:[=<>~!]=?\s*)(\d+(?:\.\d+)*)", re.M),
    "Pipfile": re.compile(r"^\s*python_(?:full_)?version\s*=\s*[\"'](\d+(?:\.\d+)*)", re.M),
    "pyproject.toml": re.compile(
        r"^\s*requires-python\s*=\s*[\"'][^\d\"']*(\d+(?:\.\d+)*)", re.M
    ),
}


#: Which files can pin the Python version, per buildpack, in the order repo2docker reads them.
_PINNING_FILES: dict[str, tuple[str, ...]] = {
    "conda": ("environment.yml", "environment.yaml"),
    "python": ("runtime.txt", "pyproject.toml"),
    "pipfile": ("Pipfile", "runtime.txt"),
}


def lock_python(text: str) -> str | None:
    """The Python version of a repo2docker lock file an instruction copies, if it does."""
    match = _LOCK_PYTHON.search(text)
    return f"{match.group(1)}.{match.group(2)}" if match else None


# --- Dockerfile instructions and BuildKit's step numbers -------------------------------------


@dataclass(frozen=True)
class StepRef:
    """A step as BuildKit names it in its progress: ``[k/n]`` or ``[stage k/n]``."""

    index: int
    total: int
    stage: str | None = None
    """The stage label (``builder``, ``stage-1``) in Dockerfiles with several stages."""

    @property
    def label(self) -> str:
        prefix = f"{self.stage} " if self.stage else ""
        return f"[{prefix}{self.index}/{self.total}]"

    @property
    def key(self) -> tuple[str | None, int]:
        return (self.stage, self.index)


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction with the lines it spans (1-based, inclusive)."""

    keyword: str
    text: str
    """The instruction as written: its lines without comment lines, joined by newlines."""
    first_line: int
    last_line: int
    stage: int
    """Index of its stage (``-1`` for an ``ARG`` before the first ``FROM``)."""
    step: StepRef | None = None
    """BuildKit's number when the instruction makes a step in a stage that is built."""

    @property
    def argument(self) -> str:
        return self.text.split(None, 1)[1] if " " in self.text.strip() else ""


def _escape_char(lines: list[str]) -> str:
    """The ``# escape=`` parser directive (backslash unless set)."""
    for line in lines:
        match = re.match(r"^\s*#\s*(\w+)\s*=\s*(\S+)\s*$", line)
        if not match:
            break  # directives only come before anything else
        if match.group(1).lower() == "escape" and match.group(2) in ("\\", "`"):
            return match.group(2)
    return "\\"


def split_instructions(text: str) -> list[tuple[str, str, int, int]]:
    """``(KEYWORD, text, first line, last line)`` of each instruction of a Dockerfile.

    Continuation lines (ending in the escape character) are joined with newlines; comment
    and blank lines inside them are dropped, as Docker's parser does. Heredocs of ``RUN``,
    ``COPY`` and ``ADD`` (``<<EOF`` … ``EOF``) belong to their instruction.
    """
    lines = text.split("\n")
    escape = _escape_char(lines)
    out: list[tuple[str, str, int, int]] = []
    index = 0
    while index < len(lines):
        raw = lines[index]
        index += 1
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        first = last = index
        parts = [stripped]
        while parts[-1].rstrip().endswith(escape) and index < len(lines):
            following = lines[index]
            index += 1
            if not following.strip() or following.lstrip().startswith("#"):
                continue
            parts.append(following.rstrip())
            last = index
        keyword = parts[0].split(None, 1)[0].upper()
        if keyword in ("RUN", "COPY", "ADD"):
            for heredoc in re.finditer(r"<<(-?)\s*['\"]?([A-Za-z_]\w*)['\"]?", parts[0]):
                end = heredoc.group(2)
                while index < len(lines):
                    body = lines[index]
                    index += 1
                    parts.append(body)
                    last = index
                    if (body.strip() if heredoc.group(1) else body.rstrip("\r")) == end:
                        break
        out.append((keyword, "\n".join(parts), first, last))
    return out


def _from_words(argument: str) -> list[str]:
    return [w for w in argument.split() if not w.startswith("--")]


def parse_instructions(text: str) -> list[Instruction]:
    """The instructions of ``text`` with BuildKit's step numbers.

    Per stage, ``FROM`` of an image (not ``scratch``, not an earlier stage) is step 1, and
    each ``RUN``, ``COPY``, ``ADD`` and ``WORKDIR`` is the next step; ``n`` is the stage's
    count. Stages are labelled (name, else ``stage-N``) when the Dockerfile has more than
    one. Stages the final stage does not need get no numbers: BuildKit skips them.
    """
    from r2d_tui.core.dockerfile import needed_stages
    from r2d_tui.core.dockerfile import parse as parse_stages

    raw = split_instructions(text)
    # stage of each instruction, and stage names
    stage_of: list[int] = []
    names: list[str | None] = []
    bases: list[str] = []
    for keyword, body, _first, _last in raw:
        if keyword == "FROM":
            words = _from_words(body.split(None, 1)[1] if " " in body else "")
            names.append(words[2].lower() if len(words) >= 3 and words[1].upper() == "AS" else None)
            bases.append(words[0].lower() if words else "")
        stage_of.append(len(names) - 1)
    multi = len(names) > 1
    try:
        used = needed_stages(parse_stages(text))
    except Exception:  # a malformed Dockerfile: number every stage
        used = set(range(len(names)))
    earlier: set[str] = set()
    makes_step: list[bool] = []
    for (keyword, _body, _first, _last), stage in zip(raw, stage_of, strict=True):
        if keyword == "FROM":
            base = bases[stage]
            makes_step.append(base != "scratch" and base not in earlier)
            if names[stage]:
                earlier.add(str(names[stage]))
        else:
            makes_step.append(stage >= 0 and keyword in STEP_KEYWORDS)
    totals: dict[int, int] = {}
    for stage, step in zip(stage_of, makes_step, strict=True):
        if step:
            totals[stage] = totals.get(stage, 0) + 1
    counters: dict[int, int] = {}
    instructions: list[Instruction] = []
    for (keyword, body, first, last), stage, step in zip(raw, stage_of, makes_step, strict=True):
        ref: StepRef | None = None
        if step and stage in used:
            counters[stage] = counters.get(stage, 0) + 1
            label = (names[stage] or f"stage-{stage}") if multi else None
            ref = StepRef(counters[stage], totals[stage], label)
        instructions.append(Instruction(keyword, body, first, last, stage, ref))
    return instructions


def expected_steps(dockerfile: str) -> tuple[ExpectedStep, ...]:
    """The steps BuildKit makes of ``dockerfile``, for :class:`ProgressTracker` to number
    the steps of a build by (see :meth:`ProgressTracker._renumber`)."""
    return tuple(
        ExpectedStep(i.step.stage, i.step.index, i.step.total, i.text)
        for i in parse_instructions(dockerfile)
        if i.step is not None
    )


# --- where each instruction comes from -------------------------------------------------------

OriginKind = Literal[
    "file", "dockerfile", "repo", "base-image", "repo2docker", "labels", "appendix"
]


@dataclass(frozen=True)
class Origin:
    """What produced an instruction."""

    kind: OriginKind
    path: str | None = None
    """The environment file (``file``) or the user's Dockerfile (``dockerfile``)."""
    line: int | None = None
    """Line in ``path`` (the user's Dockerfile), when known."""
    detail: str = ""
    """More about it: ``Python 3.10`` for a lock file, the base image name…"""

    @property
    def label(self) -> str:
        """Short text for a table cell: ``apt.txt``, ``Dockerfile:4``, ``repo2docker``."""
        if self.kind == "file":
            return f"{self.path} ({self.detail})" if self.detail else str(self.path)
        if self.kind == "dockerfile":
            return f"{self.path}:{self.line}" if self.line else str(self.path)
        if self.kind == "repo2docker" and self.detail:
            return f"repo2docker ({self.detail})"
        return {
            "repo": "the repository (COPY src/)",
            "base-image": "base image",
            "repo2docker": "repo2docker",
            "labels": "labels",
            "appendix": "--appendix",
        }[self.kind]


@dataclass(frozen=True)
class SourcedInstruction:
    """An instruction and what produced it (several files can share one line)."""

    instruction: Instruction
    origins: tuple[Origin, ...]

    @property
    def origin(self) -> Origin:
        return self.origins[0]

    @property
    def files(self) -> tuple[str, ...]:
        """The repository files behind it (environment files or the Dockerfile)."""
        return tuple(o.path for o in self.origins if o.path)

    @property
    def label(self) -> str:
        return ", ".join(dict.fromkeys(o.label for o in self.origins))


@dataclass(frozen=True)
class StepSources:
    """Every instruction of one Dockerfile with its origin, and look-ups by step."""

    dockerfile: str
    instructions: tuple[SourcedInstruction, ...]
    docker_buildpack: bool = False
    _by_step: dict[tuple[str | None, int], SourcedInstruction] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for item in self.instructions:
            if item.instruction.step is not None:
                self._by_step[item.instruction.step.key] = item

    def for_step(self, stage: str | None, index: int | None) -> SourcedInstruction | None:
        """The instruction BuildKit reported as ``[stage index/…]``."""
        if index is None:
            return None
        return self._by_step.get((stage, index))

    def for_line(self, line: int) -> SourcedInstruction | None:
        """The instruction that spans Dockerfile line ``line`` (1-based)."""
        for item in self.instructions:
            if item.instruction.first_line <= line <= item.instruction.last_line:
                return item
        return None

    @property
    def steps(self) -> list[SourcedInstruction]:
        return [i for i in self.instructions if i.instruction.step is not None]

    def steps_from(self, path: str) -> list[SourcedInstruction]:
        """The steps ``path`` produced."""
        return [i for i in self.steps if path in i.files]


def _changed_lines(base: str, other: str) -> set[int]:
    """1-based lines of ``base`` that are new or different compared with ``other``."""
    matcher = difflib.SequenceMatcher(a=other.split("\n"), b=base.split("\n"), autojunk=False)
    changed: set[int] = set()
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "insert"):
            changed.update(range(j1 + 1, j2 + 1))
    return changed


def _copy_sources(instruction: Instruction) -> tuple[list[str], bool]:
    """The context sources of a ``COPY``/``ADD`` and whether it reads the build context
    (``--from`` copies from a stage or an image; a URL is downloaded)."""
    text = instruction.text
    if "<<" in text.split("\n", 1)[0]:
        text = text.split("\n", 1)[0]  # a heredoc: its body is file content, not sources
    argument = text.split(None, 1)[1] if " " in text else ""
    words: list[str]
    flags: list[str] = []
    rest = argument.replace("\\\n", " ").replace("\n", " ").strip()
    while rest.startswith("--"):
        flag, _, rest = rest.partition(" ")
        flags.append(flag)
        rest = rest.strip()
    if any(f.startswith("--from=") for f in flags):
        return [], False
    if rest.startswith("["):
        import json

        try:
            parsed = json.loads(rest)
        except ValueError:
            parsed = None
        words = [str(w) for w in parsed] if isinstance(parsed, list) else rest.split()
    else:
        try:
            words = shlex.split(rest)
        except ValueError:
            words = rest.split()
    words = [w for w in words if not w.startswith("<<")]
    sources = words[:-1] if len(words) > 1 else []
    sources = [s for s in sources if "://" not in s and not s.startswith("git@")]
    return sources, bool(sources)


def _is_repo_copy(instruction: Instruction) -> bool:
    if instruction.keyword != "COPY":
        return False
    sources, from_context = _copy_sources(instruction)
    return from_context and sources == ["src/"]


def attribute(
    workspace: Workspace,
    result: RenderResult,
    options: RenderOptions | None = None,
) -> StepSources:
    """Tie every instruction of ``result``'s Dockerfile to what produced it.

    ``result`` is a render of ``workspace`` (as :func:`render` or
    :func:`render_saved` made it, with the same ``options``); each environment file of
    the config folder is hidden in turn and the Dockerfile rendered again. Costs one render
    per environment file (about 5–20 ms each): call it from a worker thread in a UI.
    """
    text = result.dockerfile
    if text is None:
        return StepSources("", ())
    instructions = parse_instructions(text)
    plan = result.context
    if plan is not None and plan.docker_buildpack:
        path = plan.dockerfile_path.replace("\\", "/")
        return StepSources(
            text,
            tuple(
                SourcedInstruction(i, (Origin("dockerfile", path, i.first_line),))
                for i in instructions
            ),
            docker_buildpack=True,
        )
    render_options = options if options is not None else result.options
    claims: dict[int, list[Origin]] = {}
    files = _attributable_files(workspace)
    for path in files:
        hidden = render_hidden(workspace, render_options, frozenset({path}))
        if hidden.dockerfile is None:
            continue
        lines = _changed_lines(text, hidden.dockerfile)
        if not lines:
            continue
        for number, instruction in enumerate(instructions):
            span = range(instruction.first_line, instruction.last_line + 1)
            if any(line in lines for line in span):
                claims.setdefault(number, []).append(Origin("file", path))
    _attribute_python(workspace, result.buildpack, files, instructions, claims)
    appendix = _appendix_range(instructions, result.options.appendix)
    sourced: list[SourcedInstruction] = []
    for number, instruction in enumerate(instructions):
        origins = claims.get(number)
        if not origins:
            origins = [_own_origin(instruction, number in appendix)]
        sourced.append(SourcedInstruction(instruction, tuple(origins)))
    return StepSources(text, tuple(sourced))


def _python_pin(workspace: Workspace, path: str) -> tuple[int, str] | None:
    """``(line, version)`` where ``path`` pins the Python version, if it does."""
    pattern = _PYTHON_PINS.get(PurePosixPath(path).name)
    text = workspace.text(path) if pattern is not None else None
    if pattern is None or text is None:
        return None
    match = pattern.search(text)
    if match is None:
        return None
    return text.count("\n", 0, match.start(1)) + 1, match.group(1)


def _attribute_python(
    workspace: Workspace,
    buildpack: str | None,
    files: list[str],
    instructions: list[Instruction],
    claims: dict[int, list[Origin]],
) -> None:
    """Tie the lock-file COPY (the Python version) to the file and line that pin it.

    Hiding a file that pins repo2docker's default version changes nothing, so a pin the
    buildpack reads is also credited when its version is the one the lock file has.
    """
    readers = _PINNING_FILES.get(buildpack or "", ())
    pinning = sorted(
        (f for f in files if PurePosixPath(f).name in readers),
        key=lambda f: readers.index(PurePosixPath(f).name),
    )
    for number, instruction in enumerate(instructions):
        version = lock_python(instruction.text)
        if version is None:
            continue
        claimed = [o.path for o in claims.get(number, []) if o.path]
        origins: list[Origin] = []
        for path in claimed:
            pin = _python_pin(workspace, path)
            origins.append(Origin("file", path, pin[0] if pin else None, f"Python {version}"))
        if not claimed:
            for path in pinning:
                pin = _python_pin(workspace, path)
                if pin is not None and (version + ".").startswith(pin[1] + "."):
                    origins.append(Origin("file", path, pin[0], f"Python {version}"))
                    break
        if origins:
            claims[number] = origins


def attribute_saved(workspace: Workspace, result: RenderResult) -> StepSources:
    """:func:`attribute` for a render of the files as saved (a build's render), ignoring the
    workspace's unsaved buffers."""
    on_disk = Workspace(workspace.root, display_path=workspace.display_path)
    try:
        return attribute(on_disk, result)
    finally:
        on_disk.close()


def _attributable_files(workspace: Workspace) -> list[str]:
    """Environment files that can produce Dockerfile lines: those of the config folder (and
    the root-only Python package files when there is no config folder)."""
    from r2d_tui.core.detection import config_dir_of
    from r2d_tui.core.envfiles import ROOT_ONLY_NAMES

    config_dir, _error = config_dir_of(workspace)
    out: list[str] = []
    for path in workspace.env_files():
        pure = PurePosixPath(path)
        folder = "" if str(pure.parent) == "." else str(pure.parent)
        if pure.name in _CONTEXT_ONLY or pure.name == "Dockerfile":
            continue
        if folder != config_dir and not (pure.name in ROOT_ONLY_NAMES and folder == ""):
            continue
        if workspace.text(path) is None and not workspace.abspath(path).exists():
            continue
        out.append(path)
    return out


def _appendix_range(instructions: list[Instruction], appendix: str) -> set[int]:
    """Indices of the trailing instructions that came from ``--appendix``."""
    if not appendix.strip():
        return set()
    count = len(split_instructions(appendix))
    return set(range(max(0, len(instructions) - count), len(instructions)))


def _own_origin(instruction: Instruction, in_appendix: bool) -> Origin:
    if in_appendix:
        return Origin("appendix")
    if instruction.keyword == "FROM":
        words = _from_words(instruction.argument)
        return Origin("base-image", detail=words[0] if words else "")
    if _is_repo_copy(instruction):
        return Origin("repo")
    if instruction.keyword == "LABEL":
        return Origin("labels")
    version = lock_python(instruction.text)
    return Origin("repo2docker", detail=f"default Python {version}" if version else "")


# --- which steps an edit reruns ----------------------------------------------------------------


@dataclass(frozen=True)
class Rebuild:
    """The steps a build of the edited files reruns, compared with a build of the saved ones."""

    changed: tuple[str, ...]
    """The edited files."""
    steps: tuple[StepRef, ...]
    """Steps that rerun, in Dockerfile order."""
    total: int
    """Steps BuildKit runs or takes from its cache for the whole build."""
    first: Instruction | None = None
    """The first instruction that makes the steps rerun."""
    why: str = ""
    """Why it reruns: ``its text changes`` or ``it copies requirements.txt``."""

    @property
    def reruns(self) -> bool:
        return bool(self.steps)

    def ranges(self) -> str:
        """``12–19`` (one stage) or ``[builder 2/3]–[builder 3/3], [stage-1 1/2]``."""
        groups: list[list[StepRef]] = []
        for step in self.steps:
            last = groups[-1][-1] if groups else None
            if last is not None and last.stage == step.stage and step.index == last.index + 1:
                groups[-1].append(step)
            else:
                groups.append([step])
        multi = any(s.stage for s in self.steps)
        parts: list[str] = []
        for group in groups:
            start, end = group[0], group[-1]
            if multi:
                parts.append(start.label if start == end else f"{start.label}–{end.label}")
            else:
                parts.append(str(start.index) if start == end else f"{start.index}–{end.index}")
        return ", ".join(parts)

    def describe(self, verb: str = "saving") -> str:
        """``saving environment.yml reruns steps 12–19 of 19``."""
        names = _join_names(self.changed)
        subject = f"{verb} {names}" if names else verb
        if not self.steps:
            return f"{subject} reruns no step: every step stays cached"
        if any(s.stage for s in self.steps):
            return f"{subject} reruns steps {self.ranges()}"
        noun = "step" if len(self.steps) == 1 else "steps"
        return f"{subject} reruns {noun} {self.ranges()} of {self.total}"


def _join_names(paths: Sequence[str]) -> str:
    names = list(paths)
    if len(names) <= 1:
        return "".join(names)
    if len(names) > 3:
        return f"{', '.join(names[:2])} and {len(names) - 2} more files"
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _ignore_matcher(result: RenderResult, root: Path | None) -> Callable[[str], bool] | None:
    """True for paths the build context leaves out (its ignore patterns)."""

    PatternMatcher = lazy.load("docker.utils.build").PatternMatcher  # noqa: N806

    plan = result.context
    if plan is None:
        return None
    if plan.docker_buildpack:
        if root is None:
            return None
        from r2d_tui.core.watch import repo_ignore_patterns

        patterns = repo_ignore_patterns(root)
    else:
        patterns = list(plan.ignore_patterns)
    if not patterns:
        return None
    matcher = PatternMatcher([*patterns, "!Dockerfile"])
    return lambda path: bool(matcher.matches(path))


def _source_matches(source: str, context_path: str) -> bool:
    """Does the COPY/ADD source ``source`` take ``context_path`` (a context-relative file)?"""
    if "$" in source:
        return True  # a variable we cannot resolve: assume it does
    clean = source.strip()
    while clean.startswith("./"):
        clean = clean[2:]
    clean = clean.strip("/")
    if clean in ("", "."):
        return True
    parts = context_path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    if any(ch in clean for ch in "*?["):
        return any(fnmatch.fnmatchcase(prefix, clean) for prefix in prefixes)
    return clean in prefixes


def copies(instruction: Instruction, context_path: str) -> bool:
    """Does ``instruction`` (a ``COPY``/``ADD``) read ``context_path`` from the context?"""
    if instruction.keyword not in ("COPY", "ADD"):
        return False
    sources, from_context = _copy_sources(instruction)
    return from_context and any(_source_matches(s, context_path) for s in sources)


def plan_rebuild(
    saved: RenderResult,
    edited: RenderResult,
    changed: Iterable[str],
    root: Path | None = None,
) -> Rebuild | None:
    """The steps a build of ``edited`` reruns after a build of ``saved``.

    ``changed`` are the repository paths whose content differs between the two (the
    unsaved buffers); ``root`` is the repository, for a Dockerfile repository's
    ``.dockerignore``. ``None`` when ``edited`` has no Dockerfile (the render fails).
    """
    if edited.dockerfile is None:
        return None
    paths = tuple(sorted(set(changed)))
    after = parse_instructions(edited.dockerfile)
    before = parse_instructions(saved.dockerfile) if saved.dockerfile is not None else []
    total = sum(1 for i in after if i.step is not None)
    stages = sorted({i.stage for i in after if i.stage >= 0})
    # earliest rerun per stage: (instruction position in ``after``, why)
    start: dict[int, tuple[int, str]] = {}

    def mark(stage: int, position: int, why: str) -> None:
        if stage not in start or position < start[stage][0]:
            start[stage] = (position, why)

    # 1. Instructions whose text changes (per stage, the first one that differs).
    for stage in stages:
        new = [(n, i) for n, i in enumerate(after) if i.stage == stage]
        old = [i for i in before if i.stage == stage]
        for offset, (position, instruction) in enumerate(new):
            if offset >= len(old) or old[offset].text != instruction.text:
                mark(stage, position, "its text changes")
                break
    # 2. COPY/ADD steps that read an edited file.
    plan = edited.context
    matcher = _ignore_matcher(edited, root)
    generated = plan is not None and not plan.docker_buildpack
    for path in paths:
        if matcher is not None and matcher(path):
            continue  # left out of the build context
        context_path = f"src/{path}" if generated else path
        for position, instruction in enumerate(after):
            if instruction.stage >= 0 and copies(instruction, context_path):
                mark(instruction.stage, position, f"it copies {path}")
                break  # later COPYs of the same stage rerun anyway
    # 3. Stages that build on a stage that reruns (FROM it, COPY --from it).
    _propagate(after, start)

    steps: list[StepRef] = []
    first: tuple[int, str] | None = None
    for position, instruction in enumerate(after):
        begin = start.get(instruction.stage)
        if begin is None or position < begin[0]:
            continue
        if first is None or begin[0] < first[0]:
            first = begin
        if instruction.step is not None:
            steps.append(instruction.step)
    first_instruction = after[first[0]] if first is not None else None
    return Rebuild(paths, tuple(steps), total, first_instruction, first[1] if first else "")


def _propagate(after: list[Instruction], start: dict[int, tuple[int, str]]) -> None:
    names: dict[str, int] = {}
    for instruction in after:
        if instruction.keyword == "FROM":
            words = _from_words(instruction.argument)
            if len(words) >= 3 and words[1].upper() == "AS":
                names[words[2].lower()] = instruction.stage

    def ref(value: str) -> int | None:
        value = value.strip().lower()
        if value.isdigit():
            return int(value)
        return names.get(value)

    changed = True
    while changed:
        changed = False
        for position, instruction in enumerate(after):
            stage = instruction.stage
            if stage < 0:
                continue
            sources: list[int | None] = []
            if instruction.keyword == "FROM":
                words = _from_words(instruction.argument)
                if words:
                    sources.append(ref(words[0]))
            for match in re.finditer(r"--from=([^\s,]+)", instruction.text):
                sources.append(ref(match.group(1)))
            for source in sources:
                if source is None or source == stage or source not in start:
                    continue
                current = start.get(stage)
                if current is None or position < current[0]:
                    start[stage] = (position, f"it uses stage {source}, which reruns")
                    changed = True
