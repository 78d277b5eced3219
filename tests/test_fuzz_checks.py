"""Property tests: no checker, parser or fixer raises on any file, and every finding
points into its file.

Repositories are made of environment.yml, requirements.txt, apt.txt, runtime.txt,
postBuild, start and Dockerfile with arbitrary text (control characters, every line
ending, BOMs, UTF-16, undecodable bytes) or text built from tokens of the file's own
syntax (YAML, pip, apt, shell, Dockerfile), on disk or as unsaved buffers, in the root,
``binder/`` or ``.binder/``. ``run_checks`` (detection and repo2docker's render included)
must not raise; every finding names a path in the repository, a line ≥ 1 that the file
has (lines split at ``\\n``, as ``git``, editors' ``path:line`` and the editor's gutter
count) and a column ≥ 1 within that line (one past its end at most). Planning and
applying the machine fixes, and checking again, must not raise either.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import tempfile
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from r2d_tui.core.checks import run_checks
from r2d_tui.core.checks.apt import package_names
from r2d_tui.core.checks.requirements import logical_lines, problem_with, split_options
from r2d_tui.core.checks.runtime import parse_runtime
from r2d_tui.core.codescan import language_of, probes_in
from r2d_tui.core.findings import Finding
from r2d_tui.core.fixes import (
    apply_fixes,
    apt_packages,
    conda_dependencies,
    plan_fixes,
    python_pin,
    strip_build_string,
)
from r2d_tui.core.workspace import TextFormat, Workspace, encode

SETTINGS = settings(
    deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@pytest.fixture(autouse=True)
def _fast_offline_lookups(monkeypatch: pytest.MonkeyPatch) -> None:
    """R runtimes look up a package snapshot online: keep a failing look-up short."""
    monkeypatch.setenv("R2D_TUI_LOOKUP_TIMEOUT", "0.1")


def _document(tokens: list[str]) -> st.SearchStrategy[str]:
    """Lines of ``tokens`` (and a little noise), indented and ended at random."""
    line = st.tuples(
        st.sampled_from(["", "", "  ", "    ", "\t", " "]),
        st.one_of(st.sampled_from(tokens), st.text(max_size=6)),
        st.sampled_from(["\n"] * 6 + ["\r\n", "\r", "", " \\\n", "\x0c\n", "\u2028"]),
    )
    return st.lists(line, max_size=14).map(lambda ls: "".join(a + b + c for a, b, c in ls))


YAML_TOKENS = [
    "name: env",
    "channels:",
    "- conda-forge",
    "- defaults",
    "dependencies:",
    "- python=3.11",
    "- python>=3.10",
    "- python 3.11",
    "- python3.12",
    "- conda-forge::python=3.9",
    "- Python=3.11",
    "- python=3.*",
    "- python=3",
    "- python",
    "- 'python>=3.9,<3.13'",
    "- numpy=1.21.2=py39h20f2e39_0",
    "- 'numpy=1.2=h_0'",
    '- "scipy=1.7.1=py39hee8e79c_0"',
    "- pip",
    "- pip:",
    "- requests==2",
    "- python==3.9",
    "- pywin32; sys_platform == 'win32'",
    "- appnope",
    "- [a, b]",
    "dependencies: [numpy, python>=3.9]",
    "- numpy",
    "&a x",
    "*a",
    "!!str x",
    "? key",
    "---",
    "...",
    "-",
    ":",
    "dependencies: null",
    "dependencies: 3",
    "name: &n x",
    "prefix: /opt/env",
    "'",
    '"',
    "{",
    "- {pip: [x]}",
    "- pip: null",
    "- pip: [a, {b: c}]",
    "%YAML 1.2",
    "# comment",
    "x: !!binary aGVsbG8=",
    "- m2w64-gcc",
    "- vs2015_runtime",
    "- pyobjc-framework-Cocoa",
    "dependencies: {a: b}",
    "- 3.5",
    "- null",
    "- pip: [python=3.11]",
    "dependencies:\n- python=3.1\n- python=3.11",
]
REQUIREMENT_TOKENS = [
    "numpy",
    "numpy==1.26",
    "numpy=1.26",
    "numpy>=1,<2",
    "-e .",
    "-e",
    "-r other.txt",
    "-r",
    "-c constraints.txt",
    "./pkg",
    "../up",
    "/abs/path",
    "src/pkg",
    "git+https://x/y",
    "https://x/y.whl",
    "file:///tmp/x",
    "pkg @ https://x/y",
    "pkg @ file:///x",
    "python>=3.9",
    "python",
    "Python==3.10",
    "pip install numpy",
    "conda install x",
    "--hash=sha256:abc",
    "numpy --hash=sha256:00",
    "--unknown-option",
    "-i https://x",
    "--index-url=https://x",
    "${VAR}",
    "pkg[extra]==1",
    "pkg; python_version < '3.8'",
    "pkg ;",
    "# comment",
    "\\",
    "numpy # trailing",
    "x.whl",
    "--config-settings a=b",
    "-e git+https://x#egg=y",
    "-e ./local[dev]",
    "requirements3.txt",
]
APT_TOKENS = [
    "vim",
    "git",
    "sudo apt-get install -y vim git",
    "apt-get update && apt-get install -y x",
    "--no-install-recommends",
    "Vim",
    "vim=1.*",
    "vim/jammy-backports",
    "libc6:amd64",
    "libc6:bogus",
    "vim git",
    "# comment",
    "apt install -o Dpkg::Options=x vim",
    "\\",
    "ACCEPT_EULA=Y apt-get install -y msodbcsql17",
    "sudo -E apt-get install x",
    "-y",
    "install",
    "apt-get",
    "curl=7.*",
    "x;y",
    "$(echo vim)",
]
RUNTIME_TOKENS = [
    "python-3.11",
    "python-3.12",
    "python-3",
    "python-2.7",
    "python-3.99",
    "python 3.11",
    "Python-3.12",
    "3.12",
    "# python-3.11",
    "r-4.3-2024-01-01",
    "r-2024-01-01",
    "r-4.3",
    "julia-1.9",
    "python-3.11.4",
    "-",
    "--",
    "python-",
    "r-4.3-2024-13-45",
    "python-3.10-2024-01-01",
]
SHELL_TOKENS = [
    "#!/bin/bash",
    "#!/bin/sh",
    "#!/usr/bin/env bash",
    "set -e",
    "set -euo pipefail",
    'exec "$@"',
    "exec jupyter lab",
    "if [ -f /.dockerenv ]; then",
    "fi",
    "then",
    "else",
    "[[ ! -e '/.dockerenv' ]] && echo x",
    "test -f /.dockerenv",
    "cat > f <<EOF",
    "EOF",
    "bash <<'EOF'",
    "python x.py",
    "python -m mod",
    "pip install .",
    "pip install -e .",
    "bash scripts/s.sh",
    "source scripts/env.sh",
    ". ./x.sh",
    "cd sub",
    "make all",
    "npm install",
    "npm run build",
    "Rscript install.R",
    "julia -e 'using Pkg'",
    "jupyter nbconvert --execute --to notebook x.ipynb",
    "papermill a.ipynb b.ipynb",
    "grep -q docker /proc/1/cgroup",
    "cat /proc/1/cgroup | grep docker",
    "`hostname`",
    '[ "$(hostname)" == x ]',
    "npx is-docker",
    "touch /.dockerenv",
    "rm -f /.dockerenv",
    "echo '/.dockerenv'",
    'echo "',
    "'",
    "$(",
    "${REPO_DIR:-}",
    "source $HOME/.dockerenv",
    "ls /.dockerenv-config",
    "[ -f /run/.containerenv ]",
    "case $(hostname) in",
    "x=$(cat /proc/self/mountinfo | grep docker)",
    "python3 - <<EOF",
    "import os; os.path.exists('/.dockerenv')",
    "EOF",
]
DOCKERFILE_TOKENS = [
    "FROM ubuntu:24.04",
    "FROM x AS build",
    "FROM build",
    "FROM scratch",
    "RUN echo hi",
    "RUN [ -f /.dockerenv ] && echo x",
    "RUN <<EOF",
    "EOF",
    "COPY . .",
    "COPY --from=build /a /b",
    "COPY postBuild /tmp/",
    "RUN /tmp/postBuild",
    "VOLUME /data",
    'VOLUME ["/x"]',
    "RUN touch /data/x",
    "USER 1000",
    "USER root",
    "WORKDIR /work",
    "WORKDIR /data",
    "ARG X=1",
    "ENV A=B",
    "# syntax=docker/dockerfile:1",
    "# escape=`",
    "RUN a \\",
    "  && b",
    'CMD ["jupyter"]',
    "ENTRYPOINT x",
    "ONBUILD RUN x",
    "RUN --mount=type=cache x",
    "EXPOSE 8888",
    "HEALTHCHECK NONE",
    "RUN grep docker /proc/1/cgroup",
]

FILES: dict[str, list[str]] = {
    "environment.yml": YAML_TOKENS,
    "requirements.txt": REQUIREMENT_TOKENS,
    "apt.txt": APT_TOKENS,
    "runtime.txt": RUNTIME_TOKENS,
    "postBuild": SHELL_TOKENS,
    "start": SHELL_TOKENS,
    "Dockerfile": DOCKERFILE_TOKENS,
}
FORMATS = [
    TextFormat("utf-8", b"", "\n"),
    TextFormat("utf-8", b"", "\r\n"),
    TextFormat("utf-8", codecs.BOM_UTF8, "\n"),
    TextFormat("utf-16-le", codecs.BOM_UTF16_LE, "\r\n"),
    TextFormat("utf-16-be", codecs.BOM_UTF16_BE, "\n"),
]


@st.composite
def files(draw: st.DrawFn, name: str) -> tuple[str, bytes | str, bool]:
    """``(path, content, on_disk)``: bytes written to disk, or text for a buffer."""
    folder = draw(st.sampled_from(["", "", "binder/", ".binder/"]))
    text = draw(st.one_of(_document(FILES[name]), st.text(max_size=80)))
    kind = draw(st.sampled_from(["disk", "disk", "disk", "buffer", "binary"]))
    if kind == "buffer":
        return folder + name, text, False
    if kind == "binary":
        return folder + name, draw(st.binary(max_size=40)), True
    fmt = draw(st.sampled_from(FORMATS))
    try:
        return folder + name, encode(text, fmt), True
    except UnicodeEncodeError:
        return folder + name, text.encode("utf-8", "surrogatepass"), True


repositories = st.lists(
    st.sampled_from(sorted(FILES)).flatmap(files),
    min_size=1,
    max_size=5,
    unique_by=lambda entry: entry[0],
)


def make_workspace(
    root: Path, entries: list[tuple[str, bytes | str, bool]], executable: bool
) -> Workspace:
    buffers: dict[str, str] = {}
    for rel, content, on_disk in entries:
        if not on_disk:
            assert isinstance(content, str)
            buffers[rel] = content
            continue
        assert isinstance(content, bytes)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        if executable and path.name in ("postBuild", "start"):
            path.chmod(0o755)
    workspace = Workspace(root)
    for rel, text in buffers.items():
        workspace.set_text(rel, text)
    return workspace


def assert_points_into_its_file(workspace: Workspace, finding: Finding) -> None:
    where = f"{finding.format_text()!r}"
    assert isinstance(finding.line, int) and isinstance(finding.column, int), where
    assert finding.line >= 1 and finding.column >= 1, where
    parts = PurePosixPath(finding.path).parts
    assert finding.path and not finding.path.startswith("/") and ".." not in parts, where
    path = workspace.root / finding.path
    assert os.path.lexists(path) or finding.path in workspace.dirty_paths(), where
    text = workspace.text(finding.path)
    if text is None and not path.is_file():  # a folder: the finding is about all of it
        assert (finding.line, finding.column) == (1, 1), where
        return
    # a file that is not text is placed by its bytes (the line of an undecodable byte)
    lines: list[str] | list[bytes] = (
        text.split("\n") if text is not None else path.read_bytes().split(b"\n")
    )
    assert finding.line <= len(lines), f"{where}: the file has {len(lines)} lines"
    line = lines[finding.line - 1]
    assert finding.column <= len(line) + 1, f"{where}: line {finding.line} is {line!r}"


@settings(SETTINGS, max_examples=250)
@given(entries=repositories, executable=st.booleans())
def test_checks_and_fixes_never_raise_and_findings_point_into_the_file(
    entries: list[tuple[str, bytes | str, bool]], executable: bool
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "repo"
        root.mkdir()
        workspace = make_workspace(root, entries, executable)
        try:
            findings = run_checks(workspace)
            for finding in findings:
                assert_points_into_its_file(workspace, finding)
            plan = plan_fixes(workspace, findings)
            apply_fixes(workspace, plan, save=False)
            for finding in run_checks(workspace):
                assert_points_into_its_file(workspace, finding)
        finally:
            workspace.close()


# -- the parsers alone, on many more inputs ------------------------------------------------------

any_line = st.one_of(st.text(max_size=60), st.sampled_from(REQUIREMENT_TOKENS + APT_TOKENS))


@settings(SETTINGS, max_examples=400)
@given(text=st.one_of(st.text(), _document(REQUIREMENT_TOKENS)))
def test_requirement_lines_never_raise(text: str) -> None:
    lines = text.split("\n")
    for number, column, content in logical_lines(text):
        assert 1 <= number <= len(lines)
        assert column >= 1
        problem_with(content)
        problem_with(content, check_path=lambda target: None)
        problem_with(content, check_path=lambda target: f"{target} missing")
        split_options(content)


@settings(SETTINGS, max_examples=400)
@given(line=any_line)
def test_apt_and_runtime_parsers_never_raise(line: str) -> None:
    package_names(line)
    packages = apt_packages(line)
    assert packages is None or all(isinstance(p, str) and p for p in packages)
    with contextlib.suppress(ValueError):
        parse_runtime(line)


@settings(SETTINGS, max_examples=400)
@given(spec=st.one_of(st.text(max_size=30), st.sampled_from(YAML_TOKENS).map(lambda t: t[2:])))
def test_spec_rewriters_never_raise(spec: str) -> None:
    pin = python_pin(spec)
    assert pin is None or pin.endswith(pin.rsplit("=", 1)[-1]) and "python=" in pin
    stripped = strip_build_string(spec)
    assert stripped is None or spec.startswith(stripped)


@settings(SETTINGS, max_examples=150)
@given(text=st.one_of(st.text(), _document(YAML_TOKENS)))
def test_yaml_dependency_finder_never_raises(text: str) -> None:
    found = conda_dependencies(text)
    if found is None:
        return
    lines = text.split("\n")
    for scalar in found[1]:
        assert lines[scalar.line][scalar.start : scalar.start + len(scalar.value)] == scalar.value


LANGUAGE_FILES = [
    "postBuild",
    "x.sh",
    "setup.py",
    "install.R",
    "build.jl",
    "x.js",
    "Makefile",
    "x.ipynb",
    "package.json",
    "Dockerfile",
]


@settings(SETTINGS, max_examples=300)
@given(
    name=st.sampled_from(LANGUAGE_FILES),
    text=st.one_of(st.text(), _document(SHELL_TOKENS), _document(DOCKERFILE_TOKENS)),
)
def test_code_scanners_never_raise_and_probes_point_into_the_text(name: str, text: str) -> None:
    language = language_of(name, text)
    if language is None:
        return
    lines = text.split("\n")
    for probe in probes_in(language, text):
        assert 1 <= probe.line <= len(lines), probe
        assert 1 <= probe.column <= len(lines[probe.line - 1]) + 1, probe
