"""``r2d-tui build [--watch]``: builds in a plain terminal.

Three progress styles (``--progress``):

* ``auto`` (default): ``rich`` on a terminal (stderr is a TTY), else ``plain``.
* ``rich``-style live view on stderr: one line per step with a spinner while it runs, ⚡
  for cached steps, its duration and the file it came from. Rich is imported only here,
  only for this style (the core stays free of it).
* ``plain``: one stderr line per finished step (cached or its duration, the step as
  BuildKit names it, the file it came from), so CI logs read well.
* ``json``: one JSON object per event on **stdout** (JSON Lines: ``context-synced``,
  ``build-started``, ``step-started``, ``step-log``, ``step-finished``, ``warning``,
  ``output``, ``build-cancelled``, ``build-finished``); stderr keeps the notes.

stdout carries data only: ``<tag>\\t<image id>`` after a successful build (``plain`` and
``rich``), or the JSON events. A failed build exits 1 with the explanation on stderr
(:mod:`r2d_tui.core.explain_failure`: the failing step, its last lines, the file and line
it came from and, for known failures, a finding with a fix). With ``--watch`` the same core
:class:`~r2d_tui.core.watch.WatchBuilder` the TUI uses rebuilds whenever a file that
affects the image changes; Ctrl+C cancels the running build (its buildx process group is
ended) and exits.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import signal
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from r2d_tui.core.build import BuildEvent, BuildResult, BuildSpec
    from r2d_tui.core.explain_failure import FailureExplanation
    from r2d_tui.core.progress import Step
    from r2d_tui.core.render import RenderOptions
    from r2d_tui.core.sources import StepSources
    from r2d_tui.core.workspace import Workspace

PROGRESS_STYLES = ("auto", "plain", "json")


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def summary_line(result: BuildResult) -> str:
    """``built TAG in 12.3 s: 17 of 22 steps cached, 5 run; image 1.2 GB``."""
    from r2d_tui.core.build import format_size

    total = result.steps_run + result.steps_cached
    size = format_size(result.image_size)
    return (
        f"built {result.tag} in {result.duration_s:.2f} s: {result.steps_cached} of {total} "
        f"steps cached, {result.steps_run} run" + (f"; image {size}" if size else "")
    )


def _step_json(step: Step, sources: StepSources | None) -> dict[str, Any]:
    item = sources.for_step(step.stage, step.index) if sources is not None else None
    return {
        "digest": step.digest,
        "name": step.name,
        "index": step.index,
        "total": step.total,
        "stage": step.stage,
        "internal": step.internal,
        "source": item.label if item is not None else None,
        "source_files": list(item.files) if item is not None else [],
    }


def result_json(
    result: BuildResult, explanation: FailureExplanation | None
) -> dict[str, Any]:
    """The ``build-finished`` payload."""
    return {
        "success": result.success,
        "tag": result.tag,
        "image_id": result.image_id,
        "image_size": result.image_size,
        "duration": round(result.duration_s, 3),
        "steps_run": result.steps_run,
        "steps_cached": result.steps_cached,
        "error": result.error,
        "error_kind": result.error_kind,
        "explanation": explanation.to_json() if explanation is not None else None,
    }


class Reporter:
    """Turns build events into terminal output; one instance serves every build of a run."""

    def __init__(self, workspace: Workspace | None) -> None:
        self.workspace = workspace
        self.sources: StepSources | None = None
        self._explained: dict[int, FailureExplanation | None] = {}

    def prepare(self, spec: BuildSpec) -> None:
        """Tie the spec's steps to their files (runs in the thread that makes the spec)."""
        from r2d_tui.core.sources import attribute_saved

        if self.workspace is None:
            return
        try:
            self.sources = attribute_saved(self.workspace, spec.render)
        except Exception:  # attribution is a nicety; never let it stop a build
            self.sources = None

    def source_of(self, step: Step) -> str:
        sources = self.sources
        item = sources.for_step(step.stage, step.index) if sources is not None else None
        return item.label if item is not None else ""

    def explain(self, result: BuildResult) -> FailureExplanation | None:
        from r2d_tui.core.explain_failure import explain_failure

        if id(result) in self._explained:
            return self._explained[id(result)]
        sources = self.sources
        if sources is not None and result.render is not None and (
            sources.dockerfile != (result.render.dockerfile or "")
        ):
            sources = None  # made for another render
        explanation = explain_failure(result, sources, self.workspace)
        self._explained = {id(result): explanation}
        return explanation

    def event(self, event: BuildEvent) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def result(self, result: BuildResult) -> None:
        """Print the outcome: the summary, or the error and its explanation."""
        if result.success:
            _err(summary_line(result))
            print(f"{result.tag}\t{result.image_id or ''}", flush=True)
            return
        self.failure(result, self.explain(result))

    def failure(self, result: BuildResult, explanation: FailureExplanation | None) -> None:
        _err(f"r2d-tui: error: build failed: {result.error or 'unknown error'}")
        if explanation is not None:
            lines = explanation.text_lines()
            _err(f"why: {lines[0]}")
            for line in lines[1:]:
                _err(line)

    def close(self) -> None:
        """Release the terminal (the live view) at the end of the run."""


class PlainReporter(Reporter):
    """One stderr line per meaningful event."""

    def __init__(self, workspace: Workspace | None) -> None:
        super().__init__(workspace)
        self._printed: set[str] = set()

    def event(self, event: BuildEvent) -> None:
        from r2d_tui.core.build import BuildCancelled, BuildStarted, ContextSynced
        from r2d_tui.core.progress import StepFinished

        if isinstance(event, ContextSynced):
            stats = event.stats
            if stats.entries or stats.files_written or stats.deleted:
                _err(f"context: {stats.files_written} file(s) written, {stats.deleted} deleted "
                     f"({stats.bytes_written} bytes, {stats.seconds:.2f} s) in {event.context_dir}")
            else:
                _err(f"context: the repository itself ({event.context_dir})")
        elif isinstance(event, BuildStarted):
            self._printed.clear()
            _err(f"building {event.tag}: {shlex.join(event.argv)}")
        elif isinstance(event, StepFinished):
            step = event.step
            if step.internal or step.digest in self._printed:
                return
            # BuildKit reports FROM twice (metadata, then the layer): show it once
            if step.title.startswith("FROM ") and step.name in self._printed:
                return
            self._printed.update({step.digest, step.name})
            if event.error:
                state = "FAILED"
            elif event.cached:
                state = "cached"
            else:
                state = f"{event.duration or 0:6.2f}s" if event.duration is not None else "done"
            name = " ".join(step.name.split())
            source = self.source_of(step)
            name = name[:100] + "…" if len(name) > 101 else name
            _err(f"  {state:>8}  {name}" + (f"  ({source})" if source else ""))
        elif isinstance(event, BuildCancelled):
            _err(f"cancelled build of {event.tag} after {event.duration_s:.2f} s")


class JSONReporter(Reporter):
    """JSON Lines on stdout, one object per event; notes and explanations on stderr."""

    def __init__(self, workspace: Workspace | None, out: TextIO | None = None) -> None:
        super().__init__(workspace)
        self.out = out or sys.stdout

    def emit(self, data: dict[str, Any]) -> None:
        self.out.write(json.dumps(data, ensure_ascii=False) + "\n")
        self.out.flush()

    def event(self, event: BuildEvent) -> None:
        from r2d_tui.core.build import (
            BuildCancelled,
            BuildFinished,
            BuildStarted,
            ContextSynced,
        )
        from r2d_tui.core.progress import (
            BuildWarning,
            OutputLine,
            StepFinished,
            StepLog,
            StepStarted,
        )

        sources = self.sources
        data: dict[str, Any] | None = None
        if isinstance(event, ContextSynced):
            stats = event.stats
            data = {"event": "context-synced", "context_dir": str(event.context_dir),
                    "files_written": stats.files_written, "deleted": stats.deleted,
                    "bytes_written": stats.bytes_written, "seconds": round(stats.seconds, 4)}
        elif isinstance(event, BuildStarted):
            data = {"event": "build-started", "tag": event.tag, "argv": list(event.argv)}
        elif isinstance(event, StepStarted):
            data = {"event": "step-started", "step": _step_json(event.step, sources)}
        elif isinstance(event, StepLog):
            data = {"event": "step-log", "step": event.step.digest, "name": event.step.name,
                    "stream": event.stream, "lines": list(event.lines)}
        elif isinstance(event, StepFinished):
            data = {"event": "step-finished", "step": _step_json(event.step, sources),
                    "cached": event.cached, "duration": event.duration, "error": event.error}
        elif isinstance(event, BuildWarning):
            data = {"event": "warning", "message": event.message, "detail": list(event.detail),
                    "url": event.url}
        elif isinstance(event, OutputLine):
            data = {"event": "output", "text": event.text}
        elif isinstance(event, BuildCancelled):
            data = {"event": "build-cancelled", "tag": event.tag,
                    "duration": round(event.duration_s, 3)}
        elif isinstance(event, BuildFinished):
            result = event.result
            explanation = None if result.success else self.explain(result)
            data = {"event": "build-finished", **result_json(result, explanation)}
        if data is not None:
            self.emit(data)

    def result(self, result: BuildResult) -> None:
        if result.success:
            _err(summary_line(result))
        else:
            self.failure(result, self.explain(result))


class RichReporter(Reporter):
    """A live view on stderr: one line per step, spinner, ⚡ cached, durations, sources."""

    def __init__(self, workspace: Workspace | None) -> None:
        super().__init__(workspace)
        from rich.console import Console

        self.console = Console(stderr=True)
        self._steps: list[Step] = []
        self._seen: set[str] = set()
        self._tag = ""
        self._started = 0.0
        self._live: Any = None
        self._context = ""

    def _renderable(self) -> Any:
        from rich.spinner import Spinner
        from rich.table import Table
        from rich.text import Text

        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(width=2, no_wrap=True)
        table.add_column(justify="right", width=7, no_wrap=True)
        table.add_column(ratio=3, no_wrap=True, overflow="ellipsis")
        table.add_column(ratio=1, no_wrap=True, overflow="ellipsis", style="cyan")
        elapsed = time.monotonic() - self._started if self._started else 0.0
        header = Text.assemble(("building ", "bold"), (self._tag, "bold magenta"),
                               (f"  {elapsed:5.1f}s", "dim"), (f"  {self._context}", "dim"))
        for step in list(self._steps):
            source = self.source_of(step)
            if step.error:
                icon: Any = Text("✗", style="bold red")
                when = Text("failed", style="red")
            elif step.done:
                icon = Text("⚡" if step.cached else "✓",
                            style="bold cyan" if step.cached else "bold green")
                when = Text("cached" if step.cached else f"{step.duration or 0:.1f}s",
                            style="dim" if step.cached else "")
            elif step.running:
                icon = Spinner("dots", style="yellow")
                started = step.started.timestamp() if step.started else time.time()
                when = Text(f"{max(0.0, time.time() - started):.1f}s", style="yellow")
            else:
                icon, when = Text("·", style="dim"), Text("")
            table.add_row(icon, when, Text(" ".join(step.name.split())), Text(source))
        from rich.console import Group

        return Group(header, table)

    def event(self, event: BuildEvent) -> None:
        from rich.live import Live

        from r2d_tui.core.build import (
            BuildCancelled,
            BuildFinished,
            BuildStarted,
            ContextSynced,
        )
        from r2d_tui.core.progress import StepFinished, StepStarted

        if isinstance(event, ContextSynced):
            stats = event.stats
            self._context = (f"context: {stats.files_written} file(s) written"
                             if stats.entries else "context: the repository")
        elif isinstance(event, BuildStarted):
            self._stop()
            self._steps, self._seen = [], set()
            self._tag, self._started = event.tag, time.monotonic()
            self._live = Live(self, console=self.console, refresh_per_second=10,
                              transient=True)
            self._live.start()
        elif isinstance(event, StepStarted | StepFinished):
            step = event.step
            if step.internal or step.digest in self._seen:
                return
            if step.title.startswith("FROM ") and any(s.name == step.name for s in self._steps):
                return  # BuildKit reports FROM twice: show it once
            self._seen.add(step.digest)
            self._steps.append(step)
        elif isinstance(event, BuildCancelled):
            self._stop()
            _err(f"cancelled build of {event.tag} after {event.duration_s:.2f} s")
        elif isinstance(event, BuildFinished):
            self._stop()

    def __rich__(self) -> Any:
        return self._renderable()

    def _stop(self) -> None:
        if self._live is not None:
            with contextlib.suppress(Exception):
                self._live.stop()
            self._live = None
            # the live view shows what fits the terminal; leave every step behind
            self.console.print(self._renderable())

    def close(self) -> None:
        self._stop()


_plain = PlainReporter(None)


def print_event(event: BuildEvent) -> None:
    """One stderr line per meaningful build event (the ``plain`` style, without sources)."""
    _plain.event(event)


def report(result: BuildResult) -> None:
    """The outcome of a build: summary and ``<tag>\t<image id>``, or the explanation."""
    _plain.result(result)


def resolve_progress(style: str, stream: TextIO | None = None) -> str:
    """``rich`` or ``plain`` for ``auto`` (rich when ``stream``, stderr by default, is a TTY)."""
    if style != "auto":
        return style
    stream = stream or sys.stderr
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return "rich" if tty else "plain"


def make_reporter(style: str, workspace: Workspace | None) -> Reporter:
    resolved = resolve_progress(style)
    if resolved == "json":
        return JSONReporter(workspace)
    if resolved == "rich":
        return RichReporter(workspace)
    return PlainReporter(workspace)


def add_build_options(parser: argparse.ArgumentParser) -> None:
    """``--progress``, ``--cache-from`` and ``--cache-to`` (the build command's own options)."""
    parser.add_argument(
        "--progress", choices=PROGRESS_STYLES, default="auto",
        help="auto: a live view on a terminal, else plain; plain: one stderr line per step; "
        "json: one JSON object per event on stdout (default: auto)",
    )
    parser.add_argument(
        "--cache-from", action="append", default=[], metavar="REF",
        help="passed to docker buildx build --cache-from (repeatable), e.g. "
        "type=registry,ref=ghcr.io/me/repo:cache",
    )
    parser.add_argument(
        "--cache-to", action="append", default=[], metavar="REF",
        help="passed to docker buildx build --cache-to (repeatable), e.g. "
        "type=registry,ref=ghcr.io/me/repo:cache,mode=max",
    )


def run_build_command(
    args: argparse.Namespace, options: RenderOptions, workspace: Workspace
) -> int:
    import asyncio  # here, not at the top: argument parsing must stay cheap

    from r2d_tui.core.build import BuildSpec, run_build_sync
    from r2d_tui.core.render import options_for_build

    build_options, note = options_for_build(options)
    if note:
        _err(f"r2d-tui: note: {note}")
    reporter = make_reporter(getattr(args, "progress", "plain"), workspace)
    cache_from = tuple(getattr(args, "cache_from", None) or ())
    cache_to = tuple(getattr(args, "cache_to", None) or ())

    def make_spec() -> BuildSpec:
        spec = BuildSpec.from_workspace(
            workspace, build_options, tag=args.tag, builder=args.builder,
            cache_from=cache_from, cache_to=cache_to,
        )
        reporter.prepare(spec)
        return spec

    try:
        if not args.watch:
            result = run_build_sync(make_spec(), reporter.event)
            reporter.close()
            reporter.result(result)
            if result.success:
                return 0
            return 2 if result.error_kind == "render" else 1  # bad input, as `dockerfile`
        return asyncio.run(_watch(workspace, make_spec, reporter))
    finally:
        reporter.close()


async def _watch(
    workspace: Workspace, make_spec: Callable[[], BuildSpec], reporter: Reporter
) -> int:
    import asyncio  # here, not at the top: argument parsing must stay cheap

    from r2d_tui.core.build import BuildStarted
    from r2d_tui.core.watch import WatchBuilder

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)

    def on_result(result: BuildResult) -> None:
        reporter.close()
        reporter.result(result)
        _err("watching for changes (Ctrl+C to stop)")

    def on_event(event: BuildEvent) -> None:
        if isinstance(event, BuildStarted) and builder.last_changes:
            changed = sorted(builder.last_changes)
            more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
            _err(f"changed: {', '.join(changed[:3])}{more}")
        reporter.event(event)

    builder = WatchBuilder(make_spec, on_event=on_event, on_result=on_result)
    root = workspace.root
    _err(f"watching {root} (Ctrl+C to stop)")
    await builder.run(root, stop_event=stop)
    if stop.is_set():
        reporter.close()
        _err("stopped (any running build was cancelled)")
        return 130
    last = builder.last_result
    return 0 if last is None or last.success else 1
