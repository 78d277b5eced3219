"""The ``r2d-tui`` command line: the headless front end over the same core as the TUI.

Output is an API. stdout carries data only (the Dockerfile, JSON, findings); stderr carries
notes and one-line errors (``r2d-tui: error: …``); the exit status is an :class:`ExitCode`.
Textual is imported only when the TUI is started, and repo2docker only by commands that
render, so ``r2d-tui --help`` stays fast.
"""

from __future__ import annotations

import argparse
import enum
import json
import os
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from r2d_tui import __version__

if TYPE_CHECKING:
    from r2d_tui.core.findings import Finding
    from r2d_tui.core.render import RenderOptions, RenderProblem
    from r2d_tui.core.workspace import Workspace


class ExitCode(enum.IntEnum):
    """Exit statuses of every ``r2d-tui`` command."""

    OK = 0
    """Success: no findings at or above ``--fail-on``; the build succeeded."""
    FAILED = 1
    """Findings were reported, the build failed, or a test of the image failed."""
    USAGE = 2
    """Bad arguments or input r2d-tui cannot work with (no such repo, unrenderable repo)."""
    INTERRUPTED = 130
    """Stopped by Ctrl+C or SIGTERM (the running build or container was cleaned up)."""


COMMANDS = ("dockerfile", "detect", "check", "build", "run", "test", "explain", "tui")


class InputError(Exception):
    """A problem with the user's input, reported as one line on stderr with exit 2."""


def _add_render_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "repo2docker options (same names and meaning as repo2docker's)"
    )
    group.add_argument(
        "--base-image",
        metavar="IMAGE",
        help="base image of generated Dockerfiles (repo2docker's Repo2Docker.base_image; "
        "default: repo2docker's, docker.io/library/buildpack-deps:24.04)",
    )
    group.add_argument("--user-id", type=int, metavar="UID", help="user id in the image "
                       "(default: yours, as repo2docker)")
    group.add_argument("--user-name", metavar="NAME", help="user name in the image "
                       "(default: yours, as repo2docker)")
    group.add_argument("--appendix", default="", metavar="TEXT",
                       help="Dockerfile lines appended to generated Dockerfiles")
    group.add_argument("--label", action="append", default=[], metavar="KEY=VALUE",
                       help="extra image label (repeatable)")
    group.add_argument("--build-arg", action="append", default=[], metavar="KEY=VALUE",
                       help="extra build argument (repeatable)")
    group.add_argument("--target-repo-dir", default="", metavar="DIR",
                       help="where the repository is copied in the image (default: home)")
    group.add_argument("--platform", metavar="PLATFORM",
                       help="linux/amd64 or linux/arm64 (default: this machine's)")


def parse_pairs(values: list[str], flag: str) -> tuple[tuple[str, str], ...]:
    """``KEY=VALUE`` option values as pairs; a value without ``=`` is an input error."""
    pairs = []
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise InputError(f"{flag} {value!r}: expected KEY=VALUE")
        pairs.append((key, rest))
    return tuple(pairs)


def render_options(args: argparse.Namespace) -> RenderOptions:
    from r2d_tui.core.render import RenderOptions

    return RenderOptions(
        base_image=args.base_image,
        user_id=args.user_id,
        user_name=args.user_name,
        appendix=args.appendix,
        labels=parse_pairs(args.label, "--label"),
        target_repo_dir=args.target_repo_dir,
        build_args=parse_pairs(args.build_arg, "--build-arg"),
        platform=args.platform,
    )


def _workspace(path: str) -> Workspace:
    from r2d_tui.core.workspace import Workspace, WorkspaceError

    try:
        return Workspace(path, display_path=path)
    except WorkspaceError as error:
        raise InputError(str(error)) from error


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The ``r2d-tui`` parser; with ``only``, just that sub-command's parser is added.

    Building every sub-command's options costs more than a cached ``r2d-tui dockerfile``
    does otherwise (argparse formats and checks each option as it is added), so
    :func:`main` builds only the command it was given. Help and errors are the same either
    way: a sub-command's help never lists its siblings.
    """

    def wanted(name: str) -> bool:
        return only is None or only == name

    parser = argparse.ArgumentParser(
        prog="r2d-tui",
        description="Author and test Binder (repo2docker) environments on your machine. "
        "Without a command, opens the TUI on PATH.",
        epilog="Commands: dockerfile, detect, check, build, run, test, explain. "
        "Run `r2d-tui COMMAND --help` for details. Exit status: 0 ok, 1 findings, failed "
        "build or failed test, 2 usage or input error, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"r2d-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    if wanted("tui"):
        tui = sub.add_parser("tui", help="open the TUI (the default when no command is given)")
        tui.add_argument("path", nargs="?", default=".", help="repository folder (default: .)")
        tui.add_argument("--watch", action="store_true", help="start with build-on-save on")
        tui.add_argument("--tag", help="image tag for builds")
        tui.add_argument("--builder", help="buildx builder to use (docker buildx ls)")
        tui.add_argument("--editable", action="store_true",
                         help="run (F5) with the repository mounted in the container")
        tui.add_argument("--test-on-build", action="store_true",
                         help="start with test-after-each-successful-build on (F9 tests once)")
        _add_render_options(tui)

    if wanted("dockerfile"):
        dockerfile = sub.add_parser(
            "dockerfile", help="print the Dockerfile repo2docker would generate",
            description="Print the Dockerfile repo2docker would generate, byte for byte what "
            "`repo2docker --no-build` prints for the same options.",
        )
        dockerfile.add_argument("path", nargs="?", default=".", help="repository folder")
        _add_render_options(dockerfile)

    if wanted("detect"):
        detect = sub.add_parser(
            "detect", help="show the buildpack, the deciding files and the ignored files",
        )
        detect.add_argument("path", nargs="?", default=".", help="repository folder")
        detect.add_argument("--json", action="store_true", help="print JSON")
        _add_render_options(detect)

    if wanted("check"):
        check = sub.add_parser(
            "check", help="find environment-file mistakes and migration hazards",
            description="Find environment-file mistakes and builder-migration hazards. Settings "
            "are read from .r2d-tui.toml or [tool.r2d-tui] in pyproject.toml at the repository "
            "root (select, ignore, fail-on, per-file-ignores); a flag given here replaces the "
            "file's value. A '# r2d-tui: ignore[rule,...]' comment (or a bare "
            "'# r2d-tui: ignore') on a finding's line suppresses it.",
        )
        check.add_argument("path", nargs="?", default=".", help="repository folder")
        check.add_argument("--format", choices=("text", "json", "sarif", "github"), default="text",
                           help="output format: text (path:line:col: CODE [name] message), json, "
                           "sarif (SARIF 2.1.0, for code scanning), github (GitHub Actions "
                           "annotations) (default: text)")
        check.add_argument("--select", action="append", default=[], metavar="CODE|NAME",
                           help="run only these rules (repeatable; a category such as "
                           "'migration' works too; replaces the settings file's select)")
        check.add_argument("--ignore", action="append", default=[], metavar="CODE|NAME",
                           help="skip these rules (repeatable; replaces the settings "
                           "file's ignore)")
        check.add_argument("--fail-on", choices=("error", "warning", "info"), default=None,
                           help="lowest severity that makes the exit status 1 (default: the "
                           "settings file's fail-on, else warning)")
        check.add_argument("--only", action="append", default=[], metavar="CATEGORY",
                           help="run only one category of rules: migration, precedence, "
                           "environment.yml, runtime.txt, apt.txt, scripts, encoding, "
                           "requirements.txt, python, render (same as --select CATEGORY)")
        fixing = check.add_mutually_exclusive_group()
        fixing.add_argument("--fix", action="store_true",
                            help="apply the machine fixes (CRLF, BOM, conda build strings, "
                            "python=X.Y, apt.txt command lines), say what was fixed on stderr, "
                            "then report the findings that remain")
        fixing.add_argument("--diff", action="store_true",
                            help="print the fixes --fix would apply as a unified diff and change "
                            "nothing (exit status 1 when there is something to fix)")
        _add_render_options(check)

    if wanted("build"):
        build = sub.add_parser(
            "build",
            help="build the image with docker buildx (incremental; --watch rebuilds on save)",
        )
        build.add_argument("path", nargs="?", default=".", help="repository folder")
        build.add_argument("--watch", action="store_true",
                           help="rebuild whenever a file that affects the image changes "
                           "(Ctrl+C stops)")
        build.add_argument("--tag", help="image tag (default: r2d-tui/<folder name>:latest)")
        build.add_argument("--builder", help="buildx builder to use (docker buildx ls)")
        from r2d_tui.buildcli import add_build_options

        add_build_options(build)
        _add_render_options(build)

    if only in (None, "run", "test"):
        from r2d_tui.runcli import add_parsers as add_run_parsers

        add_run_parsers(sub, _add_render_options)

    if wanted("explain"):
        explain = sub.add_parser("explain", help="explain a check: what it finds, why, how to fix")
        explain.add_argument("rule", nargs="?", help="rule name or code (omit to list all)")

    return parser


def _split_argv(argv: list[str]) -> list[str]:
    """Make ``r2d-tui [PATH] [options]`` mean ``r2d-tui tui [PATH] [options]``."""
    if not argv:
        return ["tui"]
    first = argv[0]
    if first in COMMANDS or first in ("-h", "--help", "--version"):
        return argv
    if not first.startswith("-") and not os.path.exists(first) and "/" not in first:
        import difflib

        close = difflib.get_close_matches(first, COMMANDS, n=1, cutoff=0.6)
        if close:
            fail(f"unknown command {first!r} (did you mean `r2d-tui {close[0]}`?); "
                 "to open a folder of that name, write ./" + first)
    return ["tui", *argv]


def fail(message: str, code: ExitCode = ExitCode.USAGE) -> NoReturn:
    print(f"r2d-tui: error: {message}", file=sys.stderr)
    raise SystemExit(int(code))


def cmd_dockerfile(args: argparse.Namespace) -> ExitCode:
    from r2d_tui.core.detection import detect

    workspace = _workspace(args.path)
    # detect() renders through repo2docker and caches the result keyed by every file
    # repo2docker reads, so a repeated call prints the same bytes without importing it
    result = detect(workspace, render_options(args)).render
    assert result is not None
    for note in result.notes:
        for line in note.splitlines():
            print(f"r2d-tui: note: {line}", file=sys.stderr)
    if result.dockerfile is None:
        raise InputError(_problem_text(result.problem))
    sys.stdout.write(result.dockerfile + "\n")
    return ExitCode.OK


def _problem_text(problem: RenderProblem | None) -> str:
    return problem.located() if problem else "repo2docker could not render this repository"


def cmd_detect(args: argparse.Namespace) -> ExitCode:
    from r2d_tui.core.detection import detect

    detection = detect(_workspace(args.path), render_options(args))
    if detection.error is not None:  # exit status 2 always comes with its one-line reason
        print(f"r2d-tui: error: repo2docker cannot detect a buildpack: {detection.error}",
              file=sys.stderr)
    if args.json:
        print(json.dumps(detection.to_json(), indent=2))
        if detection.error is None and detection.problem is not None:
            print(f"r2d-tui: error: repo2docker cannot render it: {detection.problem}",
                  file=sys.stderr)
        return ExitCode.OK if detection.problem is None else ExitCode.USAGE
    if detection.error:
        print(f"buildpack: none ({detection.error})")
    else:
        folder = detection.config_dir + "/" if detection.config_dir else ". (repository root)"
        print(f"config folder: {folder}")
        deciding = ", ".join(detection.deciding_files) or "no environment file (the default)"
        print(f"buildpack: {detection.buildpack} (decided by {deciding})")
        if detection.used_files:
            print("used: " + ", ".join(detection.used_files))
    for item in detection.ignored:
        print(f"ignored: {item.path}: {item.reason}")
    if detection.error is None and detection.problem is not None:
        print(f"r2d-tui: error: repo2docker cannot render it: {detection.problem}",
              file=sys.stderr)
    return ExitCode.OK if detection.problem is None else ExitCode.USAGE


def _fix_findings(
    args: argparse.Namespace, workspace: Workspace, findings: Sequence[Finding]
) -> ExitCode:
    """``check --diff``: print the planned fixes. ``check --fix``: apply them, say so on
    stderr, then check again and report what remains as a plain ``check`` does."""
    from r2d_tui.core.fixes import apply_fixes, plan_fixes
    from r2d_tui.core.workspace import WorkspaceError

    plan = plan_fixes(workspace, findings)
    if args.diff:
        sys.stdout.write("".join(fix.diff() for fix in plan))
        sys.stdout.flush()
        changes = sum(len(fix.names) for fix in plan)
        print(f"r2d-tui: {changes} fix{'es' if changes != 1 else ''} in {len(plan)} "
              f"file{'s' if len(plan) != 1 else ''} (--fix applies them)", file=sys.stderr)
        return ExitCode.FAILED if plan else ExitCode.OK
    for fix in plan:
        try:
            fixed = apply_fixes(workspace, [fix])
        except WorkspaceError as error:
            raise InputError(str(error)) from error
        if fixed:
            print(f"r2d-tui: fixed {fix.summary()}", file=sys.stderr)
    return cmd_check(argparse.Namespace(**{**vars(args), "fix": False, "diff": False}))


def cmd_check(args: argparse.Namespace) -> ExitCode:
    from r2d_tui.core.checks import run_checks
    from r2d_tui.core.config import (
        ConfigError,
        apply_per_file_ignores,
        apply_suppressions,
        is_rule_key,
        load_settings,
    )
    from r2d_tui.core.findings import Severity
    from r2d_tui.core.report import format_findings

    args.select = [*args.select, *args.only]
    for key in (*args.select, *args.ignore):
        if not is_rule_key(key):
            raise InputError(f"unknown rule {key!r} (see `r2d-tui explain`)")
    workspace = _workspace(args.path)
    try:
        settings = load_settings(workspace)
    except ConfigError as error:
        raise InputError(str(error)) from error
    for note in settings.notes:
        print(f"r2d-tui: note: {note}", file=sys.stderr)
    settings = settings.overridden(select=args.select, ignore=args.ignore, fail_on=args.fail_on)
    reported = run_checks(
        workspace,
        options=render_options(args),
        select=settings.select,
        ignore=settings.ignore,
    )
    findings = apply_suppressions(apply_per_file_ignores(reported, settings), workspace)
    if args.fix or args.diff:
        return _fix_findings(args, workspace, findings)
    sys.stdout.write(format_findings(findings, args.format, root=workspace.root))
    sys.stdout.flush()
    threshold = settings.fail_threshold.rank
    failing = [f for f in findings if f.severity.rank <= threshold]
    counts = {s: sum(1 for f in findings if f.severity is s) for s in Severity}
    summary = ", ".join(f"{n} {s.value}{'s' if n != 1 else ''}" for s, n in counts.items())
    suppressed = len(reported) - len(findings)
    print(f"r2d-tui: {len(findings)} finding{'s' if len(findings) != 1 else ''} ({summary})"
          + (f"; {suppressed} suppressed" if suppressed else ""), file=sys.stderr)
    return ExitCode.FAILED if failing else ExitCode.OK


def cmd_explain(args: argparse.Namespace) -> ExitCode:
    from r2d_tui.core.checks import find_rule, iter_rules

    if not args.rule:
        for registered in iter_rules():
            print(f"{registered.code}  {registered.name:<28} {registered.severity.value:<8} "
                  f"{registered.summary}")
        from r2d_tui.core.explain_failure import FAILURE_KINDS

        for failure in FAILURE_KINDS.values():
            print(f"{failure.code}  {failure.name:<28} {'build':<8} {failure.summary}")
        return ExitCode.OK
    found = find_rule(args.rule)
    if found is None:
        from r2d_tui.core.explain_failure import failure_kind

        kind = failure_kind(args.rule)  # a build failure (R2D5xx), from `r2d-tui build`
        if kind is not None:
            print(f"{kind.code} [{kind.name}] (build failure): {kind.summary}\n")
            print(kind.explanation)
            return ExitCode.OK
        raise InputError(f"unknown rule {args.rule!r} (run `r2d-tui explain` for the list)")
    print(f"{found.code} [{found.name}] ({found.severity.value}): {found.summary}\n")
    print(found.explanation)
    return ExitCode.OK


#: A Docker image reference: [registry/]name[:tag] in lower case (docker's own grammar,
#: simplified).
IMAGE_REFERENCE = re.compile(
    r"^(?:[a-z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._-]+[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$"
)


def cmd_build(args: argparse.Namespace) -> ExitCode:
    from r2d_tui.buildcli import run_build_command

    if args.tag is not None and not IMAGE_REFERENCE.match(args.tag):
        raise InputError(
            f"--tag {args.tag!r} is not a valid image name (lower-case name[:tag], "
            "e.g. myrepo:dev)"
        )

    return ExitCode(run_build_command(args, render_options(args), _workspace(args.path)))


def cmd_tui(args: argparse.Namespace) -> ExitCode:
    workspace = _workspace(args.path)  # validate before starting the terminal UI
    workspace.close()
    options = render_options(args)
    from r2d_tui.core import prefetch

    # detect in a second process while this one imports Textual: the first preview of a
    # new repository then comes from the detection cache (see r2d_tui.core.prefetch)
    head_start = prefetch.start(args.path, options)
    try:
        from r2d_tui.app import run_app

        return ExitCode(run_app(
            args.path, options, builder=args.builder, tag=args.tag, watch=args.watch,
            editable=args.editable, test_on_build=args.test_on_build, prefetch=head_start,
        ))
    finally:
        if head_start is not None:
            head_start.cancel()


def _check_tag(tag: str | None) -> None:
    if tag is not None and not IMAGE_REFERENCE.match(tag):
        raise InputError(
            f"--tag {tag!r} is not a valid image name (lower-case name[:tag], e.g. myrepo:dev)"
        )


def cmd_run(args: argparse.Namespace) -> int:
    """``run``: 0 when the server ended normally, 1 on failure, 130 after Ctrl+C."""
    from r2d_tui.runcli import cmd_run as run

    _check_tag(args.tag)
    return run(args, render_options(args), _workspace(args.path))


def cmd_test(args: argparse.Namespace) -> int:
    """``test``: 0 when every test passed, 1 when one failed or the build failed."""
    from r2d_tui.runcli import cmd_test as test

    _check_tag(args.tag)
    return test(args, render_options(args), _workspace(args.path))


HANDLERS = {
    "dockerfile": cmd_dockerfile,
    "detect": cmd_detect,
    "check": cmd_check,
    "build": cmd_build,
    "run": cmd_run,
    "test": cmd_test,
    "explain": cmd_explain,
    "tui": cmd_tui,
}


def main(argv: Sequence[str] | None = None) -> int:
    words = _split_argv(list(sys.argv[1:] if argv is None else argv))
    command: list[str] = []
    if words[0] == "run":
        from r2d_tui.runcli import split_command

        words, command = split_command(words)
    parser = build_parser(only=words[0] if words[0] in COMMANDS else None)
    args = parser.parse_args(words)
    if command:
        args.cmd = command
    if args.command is None:
        parser.print_help()
        return int(ExitCode.USAGE)
    from r2d_tui.core.stack import call_with_headroom

    try:
        # every command's imports and renders run deep; see r2d_tui.core.stack
        return int(call_with_headroom(HANDLERS[args.command], args))
    except InputError as error:
        print(f"r2d-tui: error: {error}", file=sys.stderr)
        return int(ExitCode.USAGE)
    except KeyboardInterrupt:
        print("r2d-tui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # stdout closed early (e.g. `| head`): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return int(ExitCode.OK)


if __name__ == "__main__":
    raise SystemExit(main())
