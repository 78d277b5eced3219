"""Byte-identity of ``render()`` with ``repo2docker --no-build`` on the real corpus.

Every corpus repository whose expected buildpack is conda, python, pipfile or docker is
copied to a temporary folder (with stubs for the files the corpus only recorded) and
rendered twice: by r2d-tui in-process, and by the ``repo2docker`` CLI in a subprocess
with the same options. The two must agree byte for byte (``print`` adds one newline).
Nothing here hard-codes a Dockerfile: repo2docker is the oracle.

repo2docker's CLI costs about 0.4 s per call, so the calls for all selected cases of the
parametrised identity test are started together, in a small thread pool, by the
module-scoped ``oracle`` fixture; the full option matrix runs on five repositories only.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import corpus
import pytest

from r2d_tui.core.render import RenderOptions, RenderResult, render, render_hidden
from r2d_tui.core.workspace import Workspace

pytestmark = pytest.mark.skipif(corpus.corpus_root() is None, reason="corpus not found")

IDENTITY_BUILDPACKS = {"conda", "python", "pipfile", "docker"}
ROWS = [row for row in corpus.manifest() if row.expected_buildpack in IDENTITY_BUILDPACKS]
#: Repositories repo2docker refuses to render: both tools must fail on them.
FAILING = {
    "AnuRuwan__conda_binder1": "invalid YAML",
    "Unidata__unidata-python-workshop": "legacy andrewosh/binder-base Dockerfile",
}
ERROR_ROWS = [row for row in corpus.manifest() if row.expected_buildpack == "error"]
#: (repository, option set) combinations repo2docker refuses.
FAILING_OPTIONS = {
    # "Python version 2.7 on linux-aarch64 is not supported!"
    ("binder-examples__python2_with_3", "platform-arm64"),
}


@pytest.fixture(autouse=True)
def _overlays_under_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Render overlays (``tempfile.mkdtemp``) of unclosed workspaces go under tmp_path."""
    folder = tmp_path / "tempfiles"
    folder.mkdir(exist_ok=True)
    monkeypatch.setattr(tempfile, "tempdir", str(folder))


# --- running repo2docker ------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: bytes
    stderr: str


def repo2docker_cmd() -> list[str]:
    return [sys.executable, "-m", "repo2docker"]


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONIOENCODING"] = "utf-8"  # print() of non-ASCII Dockerfile text, any locale
    return env


def run_repo2docker(cli_args: list[str], arg: str, cwd: Path) -> Run:
    proc = subprocess.run(
        [*repo2docker_cmd(), "--no-build", *cli_args, arg],
        cwd=cwd,
        capture_output=True,
        env=subprocess_env(),
        timeout=120,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace"))


def copy_repo(name: str, dest: Path) -> Path:
    """``corpus.materialise`` plus write permission on folders (the corpus is read-only)."""
    repo = corpus.materialise(name, dest)
    for folder in [repo, *(p for p in repo.rglob("*") if p.is_dir() and not p.is_symlink())]:
        folder.chmod(folder.stat().st_mode | 0o700)
    return repo


def assert_same_dockerfile(ours: str | None, theirs: Run, context: str) -> None:
    assert theirs.returncode == 0, f"{context}: repo2docker failed:\n{theirs.stderr[-2000:]}"
    assert ours is not None, f"{context}: r2d-tui did not render but repo2docker did"
    expected = theirs.stdout
    got = (ours + "\n").encode("utf-8")
    if got != expected:
        diff = "\n".join(
            difflib.unified_diff(
                expected.decode("utf-8", "replace").splitlines(),
                got.decode("utf-8", "replace").splitlines(),
                "repo2docker --no-build",
                "r2d-tui render",
                lineterm="",
                n=1,
            )
        )
        pytest.fail(f"{context}: Dockerfiles differ\n{diff[:4000]}")


def assert_same_failure(result: RenderResult, theirs: Run, context: str) -> None:
    """repo2docker failed; r2d-tui must fail too, with repo2docker's own message."""
    assert theirs.returncode != 0, f"{context}: repo2docker unexpectedly rendered"
    assert theirs.stdout == b""
    assert not result.ok and result.dockerfile is None, f"{context}: r2d-tui rendered"
    assert result.problem is not None
    # the traceback's last "ExceptionType: message" line
    raised = [line for line in theirs.stderr.splitlines() if _EXCEPTION_LINE.match(line)][-1]
    if result.problem.message.startswith("invalid YAML"):
        assert raised.startswith("ruamel.yaml.parser.ParserError: ")
        assert result.problem.message.removeprefix("invalid YAML: ") in theirs.stderr
    else:  # repo2docker's own sentence, without the Python class name in front of it
        assert result.problem.message == _EXCEPTION_LINE.sub("", raised)


_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception): ")


# --- option sets --------------------------------------------------------------------------

COMBINED_APPENDIX = "RUN echo hi\nENV R2D_TUI_TEST=1 \\\n    OTHER=two"

OPTION_SETS: dict[str, tuple[list[str], RenderOptions]] = {
    "default": ([], RenderOptions()),
    "user": (
        ["--user-id", "1000", "--user-name", "jovyan"],
        RenderOptions(user_id=1000, user_name="jovyan"),
    ),
    "base-image": (
        ["--Repo2Docker.base_image=r2d-tui-test/r2d-shim-base:latest"],
        RenderOptions(base_image="r2d-tui-test/r2d-shim-base:latest"),
    ),
    "appendix": (["--appendix", "RUN echo hi"], RenderOptions(appendix="RUN echo hi")),
    "label": (["--label", "a=b"], RenderOptions(labels=(("a", "b"),))),
    "target-repo-dir": (
        ["--target-repo-dir", "/srv/repo"],
        RenderOptions(target_repo_dir="/srv/repo"),
    ),
    "platform-arm64": (
        ["--Repo2Docker.platform=linux/arm64"],
        RenderOptions(platform="linux/arm64"),
    ),
    # a --build-arg NB_UID overrides the user id repo2docker uses in COPY --chown
    "build-arg-nb-uid": (
        ["--build-arg", "NB_UID=2000"],
        RenderOptions(build_args=(("NB_UID", "2000"),)),
    ),
    "combined": (
        [
            "--user-id",
            "1000",
            "--user-name",
            "jovyan",
            "--Repo2Docker.base_image=r2d-tui-test/r2d-shim-base:latest",
            "--appendix",
            COMBINED_APPENDIX,
            "--label",
            "org.example.note=hello world",
            "--label",
            "a=b=c",
            "--label",
            "repo2docker.repo=overridden",
            "--target-repo-dir",
            "/srv/repo",
        ],
        RenderOptions(
            base_image="r2d-tui-test/r2d-shim-base:latest",
            user_id=1000,
            user_name="jovyan",
            appendix=COMBINED_APPENDIX,
            labels=(
                ("org.example.note", "hello world"),
                ("a", "b=c"),
                ("repo2docker.repo", "overridden"),
            ),
            target_repo_dir="/srv/repo",
        ),
    ),
}

#: One repository per buildpack and config-folder layout gets the whole option matrix.
MATRIX_REPOS = [
    "binder-examples__conda",  # conda, root
    "binder-examples__python2_with_3",  # python 2.7 kernel env + requirements3.txt
    "lballabio__ab-notebook",  # pipfile in binder/
    "CryoInTheCloud__hub-image",  # conda in .binder/ with apt.txt, postBuild, start
    "pangeo-data__pangeo-ocean-examples",  # docker in binder/
]

#: How the repository path is passed; repo2docker's ``repo2docker.repo`` label depends on it.
#: Each style maps the repository folder to (working directory, path argument).
ARG_STYLES: dict[str, Callable[[Path], tuple[Path, str]]] = {
    "relative": lambda repo: (repo.parent, repo.name),
    "absolute": lambda repo: (repo.parent.parent, str(repo)),
    "dot": lambda repo: (repo, "."),
    "dot-slash": lambda repo: (repo.parent, f"./{repo.name}"),
    "trailing-slash": lambda repo: (repo.parent, f"{repo.name}/"),
    "parent-relative": lambda repo: (repo.parent.parent, f"{repo.parent.name}/{repo.name}"),
    # run from inside binder/: the argument ".." is the repository
    "dot-dot": lambda repo: (repo / "binder", ".."),
}
ARG_STYLE_CASES = [
    *(("binder-examples__conda", style) for style in ARG_STYLES if style != "dot-dot"),
    *(("lballabio__ab-notebook", style) for style in ARG_STYLES),
]


@dataclass(frozen=True)
class Case:
    repo: str
    options: str
    style: str

    @property
    def id(self) -> str:
        return f"{self.repo}-{self.options}-{self.style}"


CASES: list[Case] = [Case(row.name, "default", "relative") for row in ROWS]
CASES += [Case(row.name, "default", "relative") for row in ERROR_ROWS]
CASES += [
    Case(name, key, "relative") for name in MATRIX_REPOS for key in OPTION_SETS if key != "default"
]
CASES += [Case(name, "default", style) for name, style in ARG_STYLE_CASES if style != "relative"]


class Oracle:
    """repo2docker's output for every case, computed concurrently and on demand."""

    def __init__(self, base: Path, pool: ThreadPoolExecutor) -> None:
        self.base = base
        self.pool = pool
        self.repos: dict[str, Path] = {}
        self.futures: dict[str, Future[Run]] = {}

    def repo(self, name: str) -> Path:
        if name not in self.repos:
            self.repos[name] = copy_repo(name, self.base / "corpus")
        return self.repos[name]

    def where(self, case: Case) -> tuple[Path, str]:
        return ARG_STYLES[case.style](self.repo(case.repo))

    def submit(self, case: Case) -> None:
        cwd, arg = self.where(case)
        self.futures[case.id] = self.pool.submit(
            run_repo2docker, OPTION_SETS[case.options][0], arg, cwd
        )

    def result(self, case: Case) -> Run:
        if case.id not in self.futures:
            self.submit(case)
        return self.futures[case.id].result()


@pytest.fixture(scope="module")
def oracle(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Oracle]:
    base = tmp_path_factory.mktemp("identity")
    # start repo2docker for the selected cases only (``-k`` runs stay quick)
    selected = [
        item.callspec.params["case"]
        for item in request.session.items
        if item.module is request.module
        and isinstance(getattr(item, "callspec", None) and item.callspec.params.get("case"), Case)
    ]
    with ThreadPoolExecutor(max_workers=3) as pool:
        runner = Oracle(base, pool)
        for case in selected:
            runner.submit(case)
        yield runner


def test_corpus_has_the_expected_repositories() -> None:
    # guards against a manifest change silently shrinking the parametrisation below
    counts = {bp: sum(row.expected_buildpack == bp for row in ROWS) for bp in IDENTITY_BUILDPACKS}
    assert counts == {"conda": 16, "python": 5, "pipfile": 2, "docker": 4}
    assert {row.name for row in ERROR_ROWS} == {"Unidata__unidata-python-workshop"}
    assert all(name in {row.name for row in ROWS} for name in MATRIX_REPOS)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_render_matches_repo2docker(oracle: Oracle, case: Case) -> None:
    cwd, arg = oracle.where(case)
    options = OPTION_SETS[case.options][1]
    result = render(Workspace(cwd / arg, display_path=arg), options)
    theirs = oracle.result(case)
    if case.repo in FAILING or (case.repo, case.options) in FAILING_OPTIONS:
        assert_same_failure(result, theirs, case.id)
        return
    assert_same_dockerfile(result.dockerfile, theirs, case.id)
    assert result.problem is None


def test_concurrent_renders_match_repo2docker(oracle: Oracle) -> None:
    """Renders from worker threads (the live preview) do not mix up the process cwd."""
    cases = [Case(name, "default", "relative") for name in MATRIX_REPOS]
    workspaces = []
    for case in cases:
        cwd, arg = oracle.where(case)
        workspaces.append(Workspace(cwd / arg, display_path=arg))
    cwd_before = os.getcwd()
    with ThreadPoolExecutor(max_workers=len(cases)) as pool:
        results = list(pool.map(render, workspaces * 4))
    assert os.getcwd() == cwd_before
    for index, result in enumerate(results):
        case = cases[index % len(cases)]
        assert_same_dockerfile(result.dockerfile, oracle.result(case), f"thread {case.id}")


def test_default_options_are_repo2dockers(oracle: Oracle) -> None:
    """``RenderOptions()`` resolves to what the CLI uses when given no options."""
    case = Case("binder-examples__conda", "default", "relative")
    cwd, arg = oracle.where(case)
    result = render(Workspace(cwd / arg, display_path=arg))
    assert_same_dockerfile(result.dockerfile, oracle.result(case), case.id)
    import getpass

    assert result.options.user_id == os.geteuid()
    assert result.options.user_name == getpass.getuser()
    assert result.options.base_image and result.options.platform


# --- repo2docker.repo label quirk ---------------------------------------------------------


def _label(dockerfile: bytes) -> str:
    match = re.search(rb'^LABEL repo2docker\.repo="(.*)"$', dockerfile, re.M)
    assert match, "no repo2docker.repo label in the Dockerfile"
    return match.group(1).decode()


def test_repo_label_quirk_relative_vs_absolute(oracle: Oracle) -> None:
    """The quirk the identity depends on, stated against repo2docker's own output."""
    name = "binder-examples__conda"
    relative = oracle.result(Case(name, "default", "relative"))
    absolute = oracle.result(Case(name, "default", "absolute"))
    dot = oracle.result(Case(name, "default", "dot"))
    assert _label(relative.stdout) == name
    assert _label(absolute.stdout) == "local"
    assert _label(dot.stdout) == "local"


def test_repo_label_when_repo_contains_a_folder_of_its_own_name(tmp_path: Path) -> None:
    """``myrepo`` gives ``local`` if ``myrepo/myrepo`` is a folder (isdir after chdir)."""
    repo = copy_repo("binder-examples__conda", tmp_path)
    (repo / repo.name).mkdir()
    theirs = run_repo2docker([], repo.name, tmp_path)
    assert _label(theirs.stdout) == "local"
    result = render(Workspace(repo, display_path=repo.name))
    assert_same_dockerfile(result.dockerfile, theirs, "nested-same-name")


# --- failures must agree ------------------------------------------------------------------

_YAML_MARK = re.compile(r'in "([^"]+)", line (\d+), column (\d+)')


def test_invalid_yaml_fails_in_both_at_the_same_place(oracle: Oracle) -> None:
    case = Case("AnuRuwan__conda_binder1", "default", "relative")
    cwd, arg = oracle.where(case)
    theirs = oracle.result(case)
    result = render(Workspace(cwd / arg, display_path=arg))
    assert theirs.returncode != 0 and "ParserError" in theirs.stderr
    assert result.problem is not None and result.problem.message.startswith("invalid YAML")
    # ruamel prints the context mark, then the problem mark (where it gave up)
    path, line, column = _YAML_MARK.findall(theirs.stderr)[-1]
    assert (result.problem.path, result.problem.line, result.problem.column) == (
        path,
        int(line),
        int(column),
    )


def test_legacy_dockerfile_fails_in_both(oracle: Oracle) -> None:
    case = Case("Unidata__unidata-python-workshop", "default", "relative")
    cwd, arg = oracle.where(case)
    theirs = oracle.result(case)
    result = render(Workspace(cwd / arg, display_path=arg))
    assert theirs.returncode != 0
    assert "legacy buildpack has been removed" in theirs.stderr
    assert result.problem is not None
    assert "legacy buildpack has been removed" in result.problem.message
    assert result.buildpack is None


# --- unsaved buffers ----------------------------------------------------------------------


def _replace(old: str, new: str) -> Callable[[str | None], str]:
    def edit(text: str | None) -> str:
        assert text is not None and old in text, f"{old!r} not in the file"
        return text.replace(old, new, 1)

    return edit


def _new(text: str) -> Callable[[str | None], str]:
    def edit(current: str | None) -> str:
        assert current is None, "expected a new file"
        return text

    return edit


def _append(extra: str) -> Callable[[str | None], str]:
    def edit(text: str | None) -> str:
        assert text is not None
        return text + extra

    return edit


@dataclass(frozen=True)
class BufferCase:
    id: str
    repo: str
    edits: tuple[tuple[str, Callable[[str | None], str]], ...]
    changes_output: bool = True
    """The edit changes the Dockerfile (so the test shows buffers are seen at all)."""
    setup: Callable[[Path], None] | None = None
    """Prepares both copies before the edit (for formats the corpus lacks)."""


def _write_bytes(rel: str, data: bytes) -> Callable[[Path], None]:
    def setup(repo: Path) -> None:
        target = repo / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    return setup


BUFFER_CASES = [
    BufferCase(
        "conda-python-version",
        "binder-examples__conda",
        (("environment.yml", _replace("python=3.11", "python=3.10")),),
    ),
    BufferCase(
        "crlf-environment",
        "AndyMcCannNHS__Covid_Maps_01",
        (("binder/environment.yml", _replace("python=3.8.11", "python=3.12")),),
    ),
    BufferCase(
        "symlinked-environment",
        "NASA-Openscapes__corn",
        (("binder/environment.yml", _replace("python=3.13", "python=3.12")),),
    ),
    BufferCase(
        "new-environment-switches-buildpack",
        "binder-examples__requirements",
        (("environment.yml", _new("dependencies:\n  - python=3.12\n  - numpy\n")),),
    ),
    BufferCase(
        "new-binder-folder",
        "binder-examples__requirements",
        (("binder/requirements.txt", _new("numpy\n")),),
    ),
    BufferCase(
        "runtime-and-new-postbuild",
        "binder-examples__requirements",
        (
            ("runtime.txt", lambda text: "python-3.12\n"),
            ("postBuild", _new("#!/bin/bash\necho hi\n")),
            ("apt.txt", _new("curl\n")),
        ),
    ),
    BufferCase(
        "edit-executable-postbuild",
        "binder-examples__jupyterlab",
        (("binder/postBuild", _append("echo edited\n")),),
        changes_output=False,
    ),
    BufferCase(
        "pipfile-lock",
        "lballabio__ab-notebook",
        (
            (
                "binder/Pipfile.lock",
                _replace('"python_full_version": "3.11.13"', '"python_full_version": "3.12.4"'),
            ),
        ),
    ),
    BufferCase(
        "dockerfile",
        "GLAM-Workbench__trove-newspapers",
        (("binder/Dockerfile", lambda text: "FROM python:3.12\nRUN echo hi \\\n && true\n"),),
    ),
    BufferCase(
        "invalid-yaml-fixed-in-buffer",
        "AnuRuwan__conda_binder1",
        (("binder/environment.yml", lambda text: "dependencies:\n  - python=3.9\n"),),
        changes_output=False,  # the disk version does not render at all
    ),
    BufferCase(
        "yaml-broken-in-buffer",
        "binder-examples__conda",
        (("environment.yml", _append("  - [unclosed\n")),),
        changes_output=False,
    ),
    BufferCase(
        "utf8-bom-runtime",
        "binder-examples__requirements",
        (("runtime.txt", lambda text: "python-3.12\n"),),
        # repo2docker reads the BOM as part of the name, ignores the file either way
        changes_output=False,
        setup=_write_bytes("runtime.txt", b"\xef\xbb\xbfpython-3.11\n"),
    ),
    BufferCase(
        "utf16-environment",
        "binder-examples__conda",
        (("environment.yml", _replace("python=3.11", "python=3.12")),),
        setup=_write_bytes(
            "environment.yml",
            b"\xff\xfe" + "dependencies:\r\n  - python=3.11\r\n".encode("utf-16-le"),
        ),
    ),
]



def _snapshot(root: Path) -> dict[str, bytes | str]:
    out: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            out[rel] = path.read_bytes()
    return out


@pytest.mark.parametrize(
    "case",
    [
        c
        for c in BUFFER_CASES
    ],
    ids=lambda c: c.id,
)
def test_unsaved_buffers_render_like_the_saved_file(tmp_path: Path, case: BufferCase) -> None:
    options_args, options = OPTION_SETS["user"]
    unsaved = copy_repo(case.repo, tmp_path / "unsaved")
    saved = copy_repo(case.repo, tmp_path / "saved")
    if case.setup:
        case.setup(unsaved)
        case.setup(saved)
    before = _snapshot(unsaved)
    disk_result = render(Workspace(unsaved, display_path=unsaved.name), options)

    workspace = Workspace(unsaved, display_path=unsaved.name)
    on_disk = Workspace(saved)
    for rel, edit in case.edits:
        text = edit(workspace.text(rel))
        workspace.set_text(rel, text)
        on_disk.set_text(rel, text)
        on_disk.save(rel)
    assert workspace.dirty_paths() == sorted(rel for rel, _ in case.edits)
    result = render(workspace, options)
    theirs = run_repo2docker(options_args, saved.name, saved.parent)

    assert _snapshot(unsaved) == before, "rendering buffers wrote to the repository"
    if theirs.returncode != 0:
        assert not result.ok, f"repo2docker failed but the preview rendered:\n{theirs.stderr}"
        return
    assert_same_dockerfile(result.dockerfile, theirs, case.id)
    if case.changes_output:
        assert result.dockerfile != disk_result.dockerfile, "the buffer made no difference"


# --- "what if this file were absent" (detection's probe) ----------------------------------

HIDE_CASES = [
    ("numpy__numpy-tutorials", "requirements.txt"),
    ("binder-examples__requirements", "requirements.txt"),
    ("binder-examples__requirements", "runtime.txt"),
    ("jupyter-widgets__tutorial", "postBuild"),
    ("binder-examples__jupyter-sos", "Dockerfile"),
    ("CryoInTheCloud__hub-image", ".binder/environment.yml"),
]


@pytest.mark.parametrize(("name", "rel"), HIDE_CASES, ids=lambda v: v)
def test_render_hidden_matches_repo2docker_without_the_file(
    tmp_path: Path, name: str, rel: str
) -> None:
    repo = copy_repo(name, tmp_path / "hidden")
    copy = copy_repo(name, tmp_path / "removed")
    target = copy / rel
    if target.is_dir():
        shutil.rmtree(target)
    else:
        target.unlink()
    result = render_hidden(Workspace(repo, display_path=name), RenderOptions(), frozenset({rel}))
    theirs = run_repo2docker([], name, copy.parent)
    assert (repo / rel).exists(), "hiding a file removed it from the repository"
    assert_same_dockerfile(result.dockerfile, theirs, f"{name} without {rel}")
