"""``r2d-tui build [--watch]``: builds in a plain terminal.

Progress goes to stderr, one line per finished step (cached or run, with its duration),
so the output reads well in CI logs; stdout gets only the result (``<tag>\\t<image id>``).
With ``--watch`` the same core :class:`~r2d_tui.core.watch.WatchBuilder` the TUI uses
rebuilds whenever a file that affects the image changes; Ctrl+C cancels the running build
(its buildx process group is ended) and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from r2d_tui.core.build import BuildEvent, BuildResult
    from r2d_tui.core.render import RenderOptions
    from r2d_tui.core.workspace import Workspace


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


_printed_steps: set[str] = set()


def print_event(event: BuildEvent) -> None:
    """One stderr line per meaningful build event."""
    import shlex

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
        _printed_steps.clear()
        _err(f"building {event.tag}: {shlex.join(event.argv)}")
    elif isinstance(event, StepFinished):
        step = event.step
        if step.internal or step.digest in _printed_steps:
            return
        # BuildKit reports FROM twice (metadata, then the layer): show it once
        if step.title.startswith("FROM ") and step.title in _printed_steps:
            return
        _printed_steps.update({step.digest, step.title})
        if event.error:
            state = "FAILED"
        elif event.cached:
            state = "cached"
        else:
            state = f"{event.duration or 0:6.2f}s" if event.duration is not None else "done"
        title = " ".join(step.title.split())
        _err(f"  {state:>8}  {title[:110] + '…' if len(title) > 111 else title}")
    elif isinstance(event, BuildCancelled):
        _err(f"cancelled build of {event.tag} after {event.duration_s:.2f} s")


def report(result: BuildResult) -> None:
    if result.success:
        _err(f"built {result.tag} in {result.duration_s:.2f} s: {result.steps_run} step(s) run, "
             f"{result.steps_cached} cached")
        print(f"{result.tag}\t{result.image_id or ''}", flush=True)
        return
    _err(f"r2d-tui: error: build failed: {result.error or 'unknown error'}")
    if result.failed_step is not None:
        _err(f"  in step: {result.failed_step.title}")
    for line in result.log_tail[-15:]:
        _err(f"  | {line}")


def run_build_command(
    args: argparse.Namespace, options: RenderOptions, workspace: Workspace
) -> int:
    from r2d_tui.core.build import BuildSpec, run_build_sync
    from r2d_tui.core.render import options_for_build

    build_options, note = options_for_build(options)
    if note:
        _err(f"r2d-tui: note: {note}")
    root = workspace.root

    def make_spec() -> BuildSpec:
        return BuildSpec.from_workspace(
            workspace, build_options, tag=args.tag, builder=args.builder
        )

    if not args.watch:
        result = run_build_sync(make_spec(), print_event)
        report(result)
        return 0 if result.success else 1
    return asyncio.run(_watch(root, make_spec))


async def _watch(root: object, make_spec: object) -> int:
    from pathlib import Path

    from r2d_tui.core.watch import WatchBuilder

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)

    def on_result(result: BuildResult) -> None:
        report(result)
        _err("watching for changes (Ctrl+C to stop)")

    def on_event(event: BuildEvent) -> None:
        from r2d_tui.core.build import BuildStarted

        if isinstance(event, BuildStarted) and builder.last_changes:
            changed = sorted(builder.last_changes)
            more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
            _err(f"changed: {', '.join(changed[:3])}{more}")
        print_event(event)

    builder = WatchBuilder(make_spec, on_event=on_event, on_result=on_result)  # type: ignore[arg-type]
    _err(f"watching {root} (Ctrl+C to stop)")
    await builder.run(Path(str(root)), stop_event=stop)
    if stop.is_set():
        _err("stopped (any running build was cancelled)")
        return 130
    last = builder.last_result
    return 0 if last is None or last.success else 1
