"""``r2d-tui run`` and ``r2d-tui test``: run the built image, and verify it, headless.

``run`` builds the image (incrementally, as ``r2d-tui build``; ``--no-build`` skips it),
starts it as repo2docker would (see :mod:`r2d_tui.core.run`), prints the URL on stdout once
the server answers, streams the container's log to stderr, and stops and removes the
container on Ctrl+C (or SIGTERM). ``test`` builds, then runs the repository's ``verify``
script and ``image-tests/`` in the image (see :mod:`r2d_tui.core.verify`) and prints one
line per test on stdout; the exit status is 1 when a test fails. ``test --watch`` rebuilds
and re-tests whenever a file that affects the image changes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from r2d_tui.core.build import BuildResult, BuildSpec
    from r2d_tui.core.render import RenderOptions
    from r2d_tui.core.run import RunOptions
    from r2d_tui.core.verify import CaseResult, SuiteName, VerifyReport
    from r2d_tui.core.workspace import Workspace

#: Exit status after Ctrl+C (as ``build --watch``).
INTERRUPTED = 130

SUITES = ("verify", "image-tests", "server")


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- the parsers ---------------------------------------------------------------------------


def _add_image_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=".", help="repository folder (default: .)")
    parser.add_argument("--no-build", action="store_true",
                        help="use the image as it is (default: build it first, incrementally)")
    parser.add_argument("--image", metavar="IMAGE",
                        help="use this image instead of building the repository's")
    parser.add_argument("--tag", help="image tag (default: r2d-tui/<folder name>:latest)")
    parser.add_argument("--builder", help="buildx builder to use (docker buildx ls)")
    parser.add_argument("-e", "--env", action="append", default=[], metavar="KEY=VALUE",
                        help="environment variable in the container (repeatable; "
                        "repo2docker's -e)")


def add_parsers(
    sub: Any, add_render_options: Callable[[argparse.ArgumentParser], None]
) -> None:
    """Add ``run`` and ``test`` to the ``r2d-tui`` sub-command parsers."""
    run = sub.add_parser(
        "run", help="build, then run the image as repo2docker does; prints the URL",
        description="Build the image (unless --no-build), start it the way repo2docker "
        "runs it (its user, working directory, entrypoint and repo2docker's jupyter "
        "command; a repository's own Dockerfile keeps its CMD), published on 127.0.0.1 "
        "with a token. The URL goes to stdout once the server answers, the container's "
        "log to stderr. Ctrl+C stops and removes the container.",
        usage="r2d-tui run [PATH] [options] [-- CMD ...]",
        epilog="A command after -- runs instead of the server, as with repo2docker: "
        "r2d-tui run . -- python -c 'import numpy'.",
    )
    _add_image_options(run)
    run.add_argument("--editable", action="store_true",
                     help="mount the repository at the image's working directory, so "
                     "edits made in the container land on disk (repo2docker --editable)")
    run.add_argument("--port", type=int, metavar="PORT",
                     help="the port the server listens on inside the container (default: "
                     "repo2docker's; the EXPOSEd port or 8888 for a Dockerfile)")
    run.add_argument("--jupyter", action="store_true",
                     help="run repo2docker's `jupyter notebook` command also for an image "
                     "built from the repository's own Dockerfile")
    run.add_argument("--open", action="store_true", help="open the URL in a web browser")
    run.add_argument("--ready-timeout", type=float, default=120.0, metavar="SECONDS",
                     help="how long to wait for the server to answer (default: 120)")
    run.set_defaults(cmd=[])
    add_render_options(run)

    test = sub.add_parser(
        "test", help="build, then run verify and image-tests/ in the image (exit 1 on failure)",
        description="Build the image (unless --no-build), then run the repository's tests "
        "inside it: an executable `verify` at the root (repo2docker's convention, run as "
        "./verify) and an image-tests/ folder (the repo2docker GitHub Action's convention: "
        "*.py with pytest, notebooks re-executed with pytest-notebook). Without either, "
        "checks that the server starts and answers. One line per test on stdout.",
    )
    _add_image_options(test)
    test.add_argument("--suite", action="append", choices=SUITES, default=[],
                      help="run only this suite (repeatable; default: verify and/or "
                      "image-tests as present, else server)")
    test.add_argument("--json", action="store_true", help="print the report as JSON")
    test.add_argument("--timeout", type=float, default=1800.0, metavar="SECONDS",
                      help="time limit of each suite (default: 1800)")
    test.add_argument("--watch", action="store_true",
                      help="rebuild and test again whenever a file that affects the image "
                      "changes (Ctrl+C stops)")
    add_render_options(test)


def split_command(argv: list[str]) -> tuple[list[str], list[str]]:
    """``r2d-tui run PATH [options] -- CMD…``: split the command off before parsing (argparse
    cannot take options after a sub-command's positional ``--``)."""
    if argv[:1] == ["run"] and "--" in argv:
        cut = argv.index("--")
        return argv[:cut], argv[cut + 1:]
    return argv, []


# --- building first -------------------------------------------------------------------------


def _build_spec(
    args: argparse.Namespace, options: RenderOptions, workspace: Workspace,
    prepare: Callable[[BuildSpec], None] | None = None,
) -> Callable[[], BuildSpec]:
    from r2d_tui.core.build import BuildSpec
    from r2d_tui.core.render import options_for_build

    build_options, note = options_for_build(options)
    if note:
        _err(f"r2d-tui: note: {note}")

    def make() -> BuildSpec:
        spec = BuildSpec.from_workspace(
            workspace, build_options, tag=args.tag, builder=args.builder
        )
        if prepare is not None:
            prepare(spec)
        return spec

    return make


def image_for(
    args: argparse.Namespace, options: RenderOptions, workspace: Workspace
) -> str | None:
    """The image to run: ``--image``, the tag as it is (``--no-build``), or a fresh build
    (step lines on stderr, as ``r2d-tui build --progress plain``; stdout stays clean).

    Returns ``None`` when the build failed (already explained on stderr).
    """
    from r2d_tui.buildcli import make_reporter
    from r2d_tui.core.build import default_tag, run_build_sync

    if args.image:
        return str(args.image)
    if args.no_build:
        return str(args.tag or default_tag(workspace.root))
    reporter = make_reporter("plain", workspace)
    result = run_build_sync(_build_spec(args, options, workspace, reporter.prepare)(),
                            reporter.event)
    if not result.success:
        reporter.result(result)  # a failure goes to stderr only
        return None
    _err(f"built {result.tag} in {result.duration_s:.2f} s ({result.steps_cached} step(s) "
         "cached)")
    return result.image_id or result.tag


def _clean_orphans() -> None:
    from r2d_tui.core.run import RunError, cleanup_orphans

    with contextlib.suppress(RunError):
        removed = cleanup_orphans()
        if removed:
            _err(f"r2d-tui: removed {len(removed)} container(s) left by an earlier r2d-tui "
                 f"that did not exit cleanly: {', '.join(removed)}")


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM (and SIGHUP) take the same path as Ctrl+C: stop, remove, exit."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous: dict[signal.Signals, Any] = {}
    for signum in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError, OSError):
            previous[signum] = signal.signal(signum, interrupt)
    try:
        yield
    finally:
        for number, handler in previous.items():
            with contextlib.suppress(ValueError, OSError):
                signal.signal(number, handler)


# --- run ------------------------------------------------------------------------------------


def run_options(args: argparse.Namespace) -> RunOptions:
    from r2d_tui.cli import parse_pairs
    from r2d_tui.core.run import RunOptions

    command = list(getattr(args, "cmd", None) or [])
    return RunOptions(
        command=tuple(command),
        jupyter=True if getattr(args, "jupyter", False) else None,
        port=getattr(args, "port", None),
        editable=bool(getattr(args, "editable", False)),
        environment=parse_pairs(args.env, "--env"),
    )


def cmd_run(args: argparse.Namespace, options: RenderOptions, workspace: Workspace) -> int:
    from r2d_tui.cli import InputError
    from r2d_tui.core.run import RunError, install_exit_cleanup, start_server

    if args.port is not None and not 0 < args.port < 65536:
        raise InputError(f"--port {args.port}: expected a port number (1-65535)")
    opts = run_options(args)
    install_exit_cleanup()
    with _sigterm_interrupts():
        _clean_orphans()
        image = image_for(args, options, workspace)
        if image is None:
            return 1
        try:
            server = start_server(image, opts, root=workspace.root)
        except RunError as error:
            _err(f"r2d-tui: error: {error}")
            return 1
        try:
            return _serve(server, args)
        except KeyboardInterrupt:
            _err(f"r2d-tui: stopping {server.name}…")
            server.stop()
            _err(f"r2d-tui: stopped and removed {server.name}")
            return INTERRUPTED
        finally:
            server.stop()


def _serve(server: Any, args: argparse.Namespace) -> int:
    plan = server.plan
    for note in plan.notes:
        _err(f"r2d-tui: note: {note}")
    _err(f"r2d-tui: started {plan.name} from {plan.image}: {plan.display_command}")
    ended = threading.Event()

    def show(lines: list[str]) -> None:
        for line in lines:
            print(line, file=sys.stderr, flush=True)

    server.follow_logs(show, lambda _exit: ended.set())
    if plan.command and getattr(args, "cmd", None):
        _err("r2d-tui: running the command (Ctrl+C stops it)")
    else:
        _err(f"r2d-tui: waiting for the server on 127.0.0.1:{plan.host_port} (Ctrl+C stops)")
        if server.wait_ready(args.ready_timeout):
            print(server.url, flush=True)
            _err(f"r2d-tui: serving at {server.url} (Ctrl+C stops and removes the container)")
            if args.open:
                import webbrowser

                if not webbrowser.open(server.url):
                    _err("r2d-tui: note: no web browser found; open the URL yourself")
        elif not ended.wait(3):
            print(server.url, flush=True)
            _err(f"r2d-tui: warning: the server did not answer within "
                 f"{args.ready_timeout:g} s; it keeps running")
    while not ended.wait(0.5):
        pass
    status = server.exit_status()
    if server.stop_requested:
        return 0
    _err(f"r2d-tui: {plan.name} exited with status {status}; removed")
    if getattr(args, "cmd", None):
        return status if status is not None else 1  # the command's own status, as repo2docker
    return 0 if status == 0 else 1


# --- test -----------------------------------------------------------------------------------

LABELS = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "skipped": "SKIP"}


def print_case(case: CaseResult, *, output_lines: int = 40) -> None:
    """One stdout line per test; a failed test's output follows, indented."""
    took = f" ({case.duration_s:.1f}s)" if case.duration_s is not None else ""
    print(f"{LABELS[case.outcome]:<5} {case.name}{took}", flush=True)
    if case.outcome in ("failed", "error") and case.output:
        lines = case.output.splitlines()
        if len(lines) > output_lines:
            print(f"      | … {len(lines) - output_lines} earlier lines", flush=True)
        for line in lines[-output_lines:]:
            print(f"      | {line}", flush=True)


def print_report(report: VerifyReport, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.to_json(), indent=2), flush=True)
    for suite in report.suites:
        if suite.error:
            _err(f"r2d-tui: {suite.name}: {suite.error}")
    verdict = "ok" if report.ok else "FAILED"
    _err(f"r2d-tui: {verdict}: {report.summary()} ({report.image})")


def _verify(args: argparse.Namespace, image: str, root: Path) -> tuple[Any, Callable[[], Any]]:
    from r2d_tui.core.verify import Verification

    suites: list[SuiteName] = list(dict.fromkeys(args.suite))
    verification = Verification(
        image, root, suites=suites or None, timeout=args.timeout,
        run_options=run_options(args),
    )

    def on_output(suite: SuiteName, lines: list[str]) -> None:
        for line in lines:
            print(f"[{suite}] {line}", file=sys.stderr, flush=True)

    def on_suite(result: Any) -> None:
        if not args.json:
            for case in result.cases:
                print_case(case)

    def run() -> Any:
        _err(f"r2d-tui: testing {image}: {', '.join(verification.suites)} "
             f"({verification.plan.describe()})")
        return verification.run(on_output, on_suite)

    return verification, run


def cmd_test(args: argparse.Namespace, options: RenderOptions, workspace: Workspace) -> int:
    import asyncio  # here, not at the top: argument parsing must stay cheap

    from r2d_tui.core.run import RunError, install_exit_cleanup

    install_exit_cleanup()
    if args.watch:
        if args.image or args.no_build:
            from r2d_tui.cli import InputError

            raise InputError("--watch rebuilds the image: it cannot be combined with "
                             "--image or --no-build")
        return asyncio.run(_test_watch(args, options, workspace))
    with _sigterm_interrupts():
        _clean_orphans()
        image = image_for(args, options, workspace)
        if image is None:
            return 1
        verification, run = _verify(args, image, workspace.root)
        try:
            report = run()
        except RunError as error:
            _err(f"r2d-tui: error: {error}")
            return 1
        except KeyboardInterrupt:
            verification.cancel()
            _err("r2d-tui: interrupted; the test container was removed")
            return INTERRUPTED
    print_report(report, args.json)
    return 0 if report.ok else 1


async def _test_watch(
    args: argparse.Namespace, options: RenderOptions, workspace: Workspace
) -> int:
    import asyncio  # here, not at the top: argument parsing must stay cheap

    from r2d_tui.buildcli import make_reporter
    from r2d_tui.core.build import BuildEvent, BuildStarted
    from r2d_tui.core.run import RunError
    from r2d_tui.core.watch import WatchBuilder

    _clean_orphans()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    state: dict[str, Any] = {"verification": None, "task": None, "last": None}

    def cancel_tests() -> None:
        if state["verification"] is not None:
            state["verification"].cancel()

    async def test(image: str) -> None:
        verification, run = _verify(args, image, workspace.root)
        state["verification"] = verification
        try:
            report = await asyncio.to_thread(run)
        except RunError as error:
            _err(f"r2d-tui: error: {error}")
            return
        finally:
            state["verification"] = None
        state["last"] = report
        if report.cancelled:
            _err("r2d-tui: tests cancelled (a newer build started)")
        else:
            print_report(report, args.json)
        _err("watching for changes (Ctrl+C to stop)")

    reporter = make_reporter("plain", workspace)

    def on_event(event: BuildEvent) -> None:
        if isinstance(event, BuildStarted):
            cancel_tests()
        reporter.event(event)

    def on_result(result: BuildResult) -> None:
        if not result.success:
            reporter.result(result)
            _err("watching for changes (Ctrl+C to stop)")
            return
        _err(f"built {result.tag} in {result.duration_s:.2f} s")
        state["task"] = asyncio.ensure_future(test(result.image_id or result.tag))

    builder = WatchBuilder(
        _build_spec(args, options, workspace, reporter.prepare),
        on_event=on_event, on_result=on_result,
    )
    _err(f"watching {workspace.root}: build, then test, on every change (Ctrl+C to stop)")
    try:
        await builder.run(workspace.root, stop_event=stop)
    finally:
        cancel_tests()
        if state["task"] is not None:
            with contextlib.suppress(BaseException):
                await state["task"]
    if stop.is_set():
        _err("stopped (a running build or test was cancelled; its container removed)")
        return INTERRUPTED
    last = state["last"]
    return 0 if last is None or last.ok else 1
