"""A model of a running BuildKit build, from ``docker buildx build --progress rawjson``.

Why rawjson: ``--progress plain`` (what repo2docker uses) is text meant for people; step
boundaries, cache hits and errors have to be guessed from ``#N`` prefixes and interleaved
lines. ``rawjson`` is BuildKit's own ``SolveStatus`` stream, so the TUI can show each step
with its state, duration, cache hit and log without guessing.

What the stream looks like (buildx 0.13, captured from the engine):

* **Pretty-printed, multi-line JSON objects**, one after another on stderr, not one per
  line. A pipe read can end anywhere inside an object, so :class:`JSONStreamDecoder`
  buffers text and decodes whole objects with :meth:`json.JSONDecoder.raw_decode`.
* **Plain text after the objects** when the build fails (the Dockerfile excerpt and
  ``ERROR: failed to solve: …``), or instead of them when buildx cannot start (``ERROR:
  Cannot connect to the Docker daemon …``). The decoder passes such lines through as text.
* Each object has optional lists ``vertexes`` (digest, name, started, completed, cached,
  error, inputs), ``statuses`` (transfer progress), ``logs`` (vertex, stream, base64
  ``data``, timestamp) and ``warnings``. A vertex is sent again on every change, always
  complete; a vertex may run more than once (``[internal] load build definition`` is
  reported started+completed, then started again, then completed).
* Log records cut output at arbitrary bytes: a line (or a UTF-8 character) can be split
  across records, and progress bars rewrite a line with ``\\r``.

:class:`ProgressTracker` turns the objects into :class:`Step` records and into events
(:class:`StepStarted`, :class:`StepLog`, :class:`StepStatus`, :class:`StepFinished`,
:class:`BuildWarning`) that a UI can apply one by one.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import json
import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: Lines kept per step; older lines are dropped (BuildKit itself clips logs at ~2 MiB).
MAX_LOG_LINES_PER_STEP = 5000

#: Lines kept in :attr:`ProgressTracker.recent_lines` across all steps.
RECENT_LINES = 200

#: ``[k/n] title`` or ``[stage k/n] title``: the names BuildKit gives Dockerfile steps. ``k`` is
#: padded to the width of ``n`` (``[ 2/21]``, ``[builder  2/21]``).
_STEP_NAME = re.compile(
    r"^\[\s*(?:(?P<stage>[^\]\s]+)\s+)?(?P<index>\d+)/(?P<total>\d+)\]\s*(?P<title>.*)$", re.S
)


def parse_timestamp(value: object) -> datetime | None:
    """An RFC 3339 timestamp from BuildKit (nanosecond precision, ``Z`` suffix) or ``None``."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    match = re.match(r"^(.*?\.\d{6})\d+(.*)$", text)  # more than microseconds: truncate
    if match:
        text = match.group(1) + match.group(2)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


class JSONStreamDecoder:
    """Split a text stream into JSON objects and the plain-text lines between them.

    Feed text as it arrives; each call returns what became complete: ``dict`` for a JSON
    object, ``str`` for a line of other text (without its newline). An object may span any
    number of chunks. A line that starts with ``{`` but cannot be JSON is passed on as
    text as soon as that is certain (the decoder failed before the last line of the buffer);
    call :meth:`close` at end of stream to flush what is left.
    """

    def __init__(self) -> None:
        self._buffer = ""
        self._decoder = json.JSONDecoder()
        self._need_more = False

    def feed(self, text: str) -> list[dict[str, Any] | str]:
        if not text:
            return []
        self._buffer += text
        if self._need_more and "}" not in text and "\n" not in text:
            return []  # an object can only complete at a brace, or turn out invalid at a newline
        return self._drain(final=False)

    def close(self) -> list[dict[str, Any] | str]:
        """Flush the rest of the stream (incomplete objects come out as text)."""
        items = self._drain(final=True)
        self._buffer = ""
        return items

    def _drain(self, *, final: bool) -> list[dict[str, Any] | str]:
        items: list[dict[str, Any] | str] = []
        buf = self._buffer
        pos = 0
        self._need_more = False
        while pos < len(buf):
            line_start = pos
            while pos < len(buf) and buf[pos] in " \t\r\n":
                if buf[pos] == "\n":
                    line_start = pos + 1
                pos += 1
            if pos >= len(buf):
                if not final:
                    pos = line_start  # keep the indentation of a line still arriving
                break
            if buf[pos] == "{":
                try:
                    obj, end = self._decoder.raw_decode(buf, pos)
                except json.JSONDecodeError as error:
                    # Still on the last (unfinished) line: more text may complete it.
                    if "\n" not in buf[error.pos :] and not final:
                        self._need_more = True
                        pos = line_start
                        break
                else:
                    items.append(obj)
                    pos = end
                    continue
            # Plain text: one whole line, with its indentation.
            end = buf.find("\n", pos)
            if end < 0 and not final:
                pos = line_start
                break
            stop = len(buf) if end < 0 else end
            items.append(buf[line_start:stop].rstrip("\r"))
            pos = stop + 1
        self._buffer = buf[pos:]
        return items


def _clean_line(raw: str) -> str:
    """What a terminal would show for one line: the text after the last carriage return."""
    if "\r" not in raw:
        return raw
    parts = [part for part in raw.split("\r") if part]
    return parts[-1] if parts else ""


def _instruction_words(text: str) -> tuple[str, ...]:
    """An instruction's words, with line continuations and runs of blanks folded, as
    BuildKit's step names and the Dockerfile both spell it."""
    return tuple(text.replace("\\\n", " ").split())


@dataclass(frozen=True)
class ExpectedStep:
    """A step of the Dockerfile being built, with BuildKit's number for it."""

    stage: str | None
    index: int
    total: int
    text: str
    """The instruction as written in the Dockerfile."""

    @property
    def words(self) -> tuple[str, ...]:
        return _instruction_words(self.text)

    @property
    def keyword(self) -> str:
        words = self.words
        return words[0].upper() if words else ""


@dataclass
class Step:
    """One BuildKit vertex: a Dockerfile step (``[2/5] RUN …``) or internal work."""

    digest: str
    name: str
    index: int | None = None
    """``k`` of ``[k/n]`` / ``[stage k/n]``, when the name has it."""
    total: int | None = None
    stage: str | None = None
    """The stage name of a multi-stage step (``builder`` in ``[builder 2/3]``)."""
    internal: bool = False
    """Context loading, metadata resolution, export: not a Dockerfile instruction."""
    started: datetime | None = None
    completed: datetime | None = None
    cached: bool = False
    error: str | None = None
    inputs: tuple[str, ...] = ()
    logs: list[str] = field(default_factory=list)
    dropped_lines: int = 0
    """Lines removed from the front of :attr:`logs` to respect the per-step cap."""
    runs: int = 0
    """How often the vertex started (BuildKit restarts some internal vertices)."""
    _partial: dict[int, str] = field(default_factory=dict, repr=False)
    _decoders: dict[int, codecs.IncrementalDecoder] = field(default_factory=dict, repr=False)

    @classmethod
    def from_name(cls, digest: str, name: str) -> Step:
        step = cls(digest=digest, name=name)
        step._set_name(name)
        return step

    def _set_name(self, name: str) -> None:
        self.name = name
        match = _STEP_NAME.match(name)
        if match:
            self.index = int(match.group("index"))
            self.total = int(match.group("total"))
            self.stage = match.group("stage")
            self.internal = False
        else:
            self.index = self.total = None
            self.stage = None
            self.internal = True  # "[internal] …", "[auth] …", "exporting to image", …

    @property
    def title(self) -> str:
        """The name without its ``[k/n]`` prefix (``RUN echo hi``)."""
        match = _STEP_NAME.match(self.name)
        return match.group("title") if match else self.name

    @property
    def instruction(self) -> str | None:
        """The Dockerfile instruction (``RUN``, ``COPY``, ``FROM``…) of a non-internal step."""
        if self.internal:
            return None
        word = self.title.split(None, 1)
        return word[0].upper() if word else None

    @property
    def running(self) -> bool:
        return self.started is not None and self.completed is None

    @property
    def done(self) -> bool:
        return self.completed is not None

    @property
    def duration(self) -> float | None:
        """Seconds of the latest run, or ``None`` before it completed."""
        if self.started is None or self.completed is None:
            return None
        return max(0.0, (self.completed - self.started).total_seconds())

    @property
    def current_line(self) -> str:
        """The unfinished last line of output (a progress bar, a prompt), if any."""
        for stream in sorted(self._partial):
            text = _clean_line(self._partial[stream])
            if text:
                return text
        return ""

    def _add_log(self, stream: int, data: bytes) -> list[str]:
        decoder = self._decoders.get(stream)
        if decoder is None:
            decoder = self._decoders[stream] = codecs.getincrementaldecoder("utf-8")("replace")
        text = self._partial.get(stream, "") + decoder.decode(data)
        *complete, rest = text.split("\n")
        self._partial[stream] = rest
        lines = [_clean_line(line) for line in complete]
        self._append(lines)
        return lines

    def _flush_logs(self) -> list[tuple[int, str]]:
        """End every unfinished line (the step completed, or the stream ended)."""
        lines: list[tuple[int, str]] = []
        for stream in sorted(self._partial):
            text = self._partial[stream] + self._decoders[stream].decode(b"", final=True)
            if text:
                lines.append((stream, _clean_line(text)))
        self._partial.clear()
        self._append([line for _, line in lines])
        return lines

    def _append(self, lines: list[str]) -> None:
        self.logs.extend(lines)
        excess = len(self.logs) - MAX_LOG_LINES_PER_STEP
        if excess > 0:
            del self.logs[:excess]
            self.dropped_lines += excess


# --- events --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepStarted:
    """A step started running (again, for a restarted vertex)."""

    step: Step


@dataclass(frozen=True)
class StepLog:
    """Complete output lines of a step (``stream`` 1 is stdout, 2 is stderr)."""

    step: Step
    lines: tuple[str, ...]
    stream: int


@dataclass(frozen=True)
class StepStatus:
    """Progress of a sub-task of a step (context transfer, layer export…)."""

    step: Step
    id: str
    name: str
    current: int
    total: int | None
    completed: bool


@dataclass(frozen=True)
class StepFinished:
    """A step completed: from cache, by running, or with an error."""

    step: Step
    cached: bool
    duration: float | None
    error: str | None


@dataclass(frozen=True)
class OutputLine:
    """A line of output that is not progress JSON (buildx's error summary, notices)."""

    text: str


@dataclass(frozen=True)
class BuildWarning:
    """A warning BuildKit attached to the build (Dockerfile lint checks, deprecations)."""

    message: str
    detail: tuple[str, ...] = ()
    url: str | None = None
    step: Step | None = None


ProgressEvent = StepStarted | StepLog | StepStatus | StepFinished | BuildWarning | OutputLine


def _b64text(value: object) -> str:
    if not isinstance(value, str):
        return ""
    try:
        return base64.b64decode(value).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return value


class ProgressTracker:
    """Apply ``SolveStatus`` objects to a set of :class:`Step` records, producing events.

    Use :meth:`feed_text` with raw stderr text (it runs a :class:`JSONStreamDecoder`), or
    :meth:`feed` with already decoded objects. Call :meth:`finish` at end of stream.
    Text that is not JSON is kept in :attr:`text_lines` (buildx's error summary lives there)
    and reported as :class:`OutputLine`.
    """

    def __init__(
        self,
        *,
        recent_lines: int = RECENT_LINES,
        expected: Iterable[ExpectedStep] = (),
    ) -> None:
        self._expected = tuple(expected)
        """The steps of the Dockerfile being built, to correct BuildKit's shared names."""
        self._claimed: dict[str, ExpectedStep] = {}
        self._steps: dict[str, Step] = {}
        self._order: dict[str, int] = {}
        self._decoder = JSONStreamDecoder()
        self.text_lines: list[str] = []
        self.warnings: list[BuildWarning] = []
        self.objects_seen = 0
        self.recent_lines: deque[tuple[Step, str]] = deque(maxlen=recent_lines)

    # -- input ------------------------------------------------------------------------------
    def feed_text(self, text: str) -> list[ProgressEvent]:
        return self._consume(self._decoder.feed(text))

    def finish(self) -> list[ProgressEvent]:
        """Flush the decoder and every partial log line."""
        events = self._consume(self._decoder.close())
        for step in self._steps.values():
            events.extend(self._flush(step))
        return events

    def _flush(self, step: Step) -> list[ProgressEvent]:
        events: list[ProgressEvent] = []
        for stream, line in step._flush_logs():
            self.recent_lines.append((step, line))
            events.append(StepLog(step, (line,), stream))
        return events

    def _consume(self, items: Iterable[dict[str, Any] | str]) -> list[ProgressEvent]:
        events: list[ProgressEvent] = []
        for item in items:
            if isinstance(item, str):
                events.extend(self.add_text(item))
            else:
                events.extend(self.feed(item))
        return events

    def add_text(self, line: str) -> list[ProgressEvent]:
        """Record a line of plain output (blank lines are dropped)."""
        if not line.strip():
            return []
        self.text_lines.append(line)
        return [OutputLine(line)]

    def feed(self, status: Mapping[str, Any]) -> list[ProgressEvent]:
        """Apply one ``SolveStatus`` object."""
        self.objects_seen += 1
        # A vertex can appear several times in one object (a quick run, then a restart):
        # apply its updates in order. Only the completion from a vertex's last update is
        # held back until after the object's logs, so that logs carried by the same object
        # land between that step's StepStarted and its StepFinished.
        vertexes = [v for v in status.get("vertexes") or () if isinstance(v, Mapping)]
        last_update = {str(v.get("digest") or ""): i for i, v in enumerate(vertexes)}
        events: list[ProgressEvent] = []
        finishes: list[StepFinished] = []
        for i, vertex in enumerate(vertexes):
            for event in self._vertex(vertex):
                if isinstance(event, StepFinished):
                    if last_update.get(event.step.digest) == i:
                        finishes.append(event)
                        continue
                    events.extend(self._flush(event.step))
                events.append(event)
        for item in status.get("statuses") or ():
            if isinstance(item, Mapping):
                status_event = self._status(item)
                if status_event is not None:
                    events.append(status_event)
        for log in status.get("logs") or ():
            if isinstance(log, Mapping):
                log_event = self._log(log)
                if log_event is not None:
                    events.append(log_event)
        for finish in finishes:
            events.extend(self._flush(finish.step))
            events.append(finish)
        for warning in status.get("warnings") or ():
            if isinstance(warning, Mapping):
                built = BuildWarning(
                    message=_b64text(warning.get("short")).strip(),
                    detail=tuple(_b64text(d).strip() for d in warning.get("detail") or ()),
                    url=warning.get("url") if isinstance(warning.get("url"), str) else None,
                    step=self._steps.get(str(warning.get("vertex") or "")),
                )
                self.warnings.append(built)
                events.append(built)
        return events

    def _step(self, digest: str, name: str = "") -> Step:
        step = self._steps.get(digest)
        if step is None:
            step = self._steps[digest] = Step.from_name(digest, name or digest[:19])
            self._order[digest] = len(self._order)
            self._renumber(step)
        elif name and name != step.name:
            step._set_name(name)
            self._renumber(step)
        return step

    def _renumber(self, step: Step) -> None:
        """Give ``step`` its number in the Dockerfile being built.

        BuildKit names a vertex once: a build that shares a step with a build running at the
        same time (the same instruction on the same parent: a CLI build beside the TUI's,
        or two branches of one repository) reports that step under the *other* build's
        ``[k/n]``, e.g. ``[2/2]`` inside a build of four steps. The step's instruction text
        is the same in both, so it is looked up among the expected steps: the one at the
        reported number when its text agrees, else the first step with that text not yet
        taken by another vertex (a ``FROM`` matches its stage's ``FROM``, whose image name
        BuildKit writes out in full).
        """
        if step.internal or not self._expected or step.index is None:
            return
        words = _instruction_words(step.title)
        keyword = words[0].upper() if words else ""

        def agrees(candidate: ExpectedStep) -> bool:
            if keyword == "FROM":
                return candidate.keyword == "FROM" and candidate.stage == step.stage
            theirs = candidate.words
            return len(theirs) == len(words) and all(  # BuildKit expands ${VAR} in names
                a == b or "$" in a for a, b in zip(theirs, words, strict=True)
            )

        taken = {id(c) for d, c in self._claimed.items() if d != step.digest}
        at_number = [c for c in self._expected
                     if c.stage == step.stage and c.index == step.index and c.total == step.total]
        matches = at_number if at_number and agrees(at_number[0]) else [
            c for c in self._expected if agrees(c)
        ]
        if not matches:
            return
        free = [c for c in matches if id(c) not in taken]
        chosen = (free or matches)[0]
        self._claimed[step.digest] = chosen
        step.index, step.total, step.stage = chosen.index, chosen.total, chosen.stage

    def _vertex(self, vertex: Mapping[str, Any]) -> list[StepStarted | StepFinished]:
        digest = str(vertex.get("digest") or "")
        if not digest:
            return []
        step = self._step(digest, str(vertex.get("name") or ""))
        inputs = vertex.get("inputs")
        if isinstance(inputs, list):
            step.inputs = tuple(str(i) for i in inputs)
        previous_started, previous_completed = step.started, step.completed
        started = parse_timestamp(vertex.get("started"))
        completed = parse_timestamp(vertex.get("completed"))
        error = vertex.get("error")
        step.started, step.completed = started, completed
        step.cached = bool(vertex.get("cached"))
        step.error = str(error) if error else None
        events: list[StepStarted | StepFinished] = []
        new_run = started is not None and started != previous_started
        if new_run:
            step.runs += 1
            events.append(StepStarted(step))
        if completed is not None and (previous_completed is None or new_run):
            events.append(StepFinished(step, step.cached, step.duration, step.error))
        return events

    def _status(self, item: Mapping[str, Any]) -> StepStatus | None:
        digest = str(item.get("vertex") or "")
        if not digest or digest not in self._steps:
            return None
        total = item.get("total")
        return StepStatus(
            step=self._steps[digest],
            id=str(item.get("id") or ""),
            name=str(item.get("name") or ""),
            current=int(item.get("current") or 0),
            total=int(total) if isinstance(total, int) and total > 0 else None,
            completed=item.get("completed") is not None,
        )

    def _log(self, log: Mapping[str, Any]) -> StepLog | None:
        digest = str(log.get("vertex") or "")
        if not digest:
            return None
        step = self._step(digest)
        try:
            data = base64.b64decode(str(log.get("data") or ""))
        except (binascii.Error, ValueError):
            return None
        stream = int(log.get("stream") or 1)
        lines = step._add_log(stream, data)
        if not lines:
            return None
        self.recent_lines.extend((step, line) for line in lines)
        return StepLog(step, tuple(lines), stream)

    # -- output -----------------------------------------------------------------------------
    @property
    def steps(self) -> list[Step]:
        """Every step, in the order they started (steps not started yet last, by index)."""

        def key(step: Step) -> tuple[float, int, int]:
            started = step.started.timestamp() if step.started else float("inf")
            return (started, step.index or 0, self._order[step.digest])

        return sorted(self._steps.values(), key=key)

    def step(self, digest: str) -> Step | None:
        return self._steps.get(digest)

    @property
    def failed_step(self) -> Step | None:
        """The first step that reported an error."""
        failed = [s for s in self.steps if s.error]
        return failed[0] if failed else None

    @property
    def error_line(self) -> str | None:
        """buildx's own summary of the failure (``failed to solve: …``), if it printed one."""
        for line in reversed(self.text_lines):
            stripped = line.strip()
            if stripped.startswith("ERROR:"):
                return stripped[len("ERROR:") :].strip()
        return None
