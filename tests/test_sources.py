"""Steps tied to their files, BuildKit's step numbers, and which steps an edit reruns.

Attribution is checked against repo2docker's real renders of small repositories (no
engine); the step numbers against what BuildKit printed for the same Dockerfiles (the
engine tests in ``test_build_sources_engine.py`` check them on real builds).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from r2d_tui.core.render import RenderOptions, render, render_saved
from r2d_tui.core.sources import (
    Rebuild,
    StepRef,
    attribute,
    lock_python,
    parse_instructions,
    plan_rebuild,
    split_instructions,
)
from r2d_tui.core.workspace import Workspace

OPTIONS = RenderOptions(
    base_image="r2d-tui-test/r2d-shim-base:latest", user_id=1000, user_name="jovyan",
    platform="linux/amd64",
)


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def steps(text: str) -> list[tuple[str, str]]:
    """``(label, first line of the instruction)`` of every numbered step."""
    return [
        (i.step.label, i.text.split("\n")[0])
        for i in parse_instructions(text)
        if i.step is not None
    ]


# --- the Dockerfile model ---------------------------------------------------------------------


def test_step_numbers_follow_buildkit_single_stage() -> None:
    # What BuildKit printed for this file: FROM, RUN, WORKDIR, COPY, ADD make steps;
    # ARG, ENV, LABEL, USER, EXPOSE, VOLUME, SHELL, ENTRYPOINT, CMD do not.
    text = (
        "# syntax comment\nFROM busybox AS base\nARG A=1\nENV X=1\nLABEL a=b\nRUN echo one\n"
        "WORKDIR /w\nUSER root\nEXPOSE 80\nCOPY Dockerfile /d\nADD Dockerfile /e\nVOLUME /v\n"
        'SHELL ["/bin/sh", "-c"]\nHEALTHCHECK CMD true\nENTRYPOINT ["sh"]\nCMD ["x"]\n'
    )
    assert steps(text) == [
        ("[1/5]", "FROM busybox AS base"), ("[2/5]", "RUN echo one"), ("[3/5]", "WORKDIR /w"),
        ("[4/5]", "COPY Dockerfile /d"), ("[5/5]", "ADD Dockerfile /e"),
    ]


def test_step_numbers_per_stage_and_unused_stages_skipped() -> None:
    # BuildKit: "[base 1/3] FROM …", "[stage-1 1/2] RUN echo two" (FROM an earlier stage is
    # no step), and a stage the final one does not need is never built.
    text = (
        "FROM busybox AS base\nRUN echo one\nCOPY a /a\n"
        "FROM busybox AS unused\nRUN echo never\n"
        "FROM base\nRUN echo two\nCOPY --from=base /a /b\n"
    )
    assert steps(text) == [
        ("[base 1/3]", "FROM busybox AS base"), ("[base 2/3]", "RUN echo one"),
        ("[base 3/3]", "COPY a /a"),
        ("[stage-2 1/2]", "RUN echo two"), ("[stage-2 2/2]", "COPY --from=base /a /b"),
    ]


def test_from_scratch_is_no_step() -> None:
    assert steps("FROM scratch\nCOPY x /x\nWORKDIR /w\n") == [
        ("[1/2]", "COPY x /x"), ("[2/2]", "WORKDIR /w"),
    ]


def test_instruction_spans_continuations_comments_and_heredocs() -> None:
    text = (
        "FROM busybox\n"
        "RUN echo a && \\\n"
        "    # a comment inside the command\n"
        "\n"
        "    echo b\n"
        "COPY <<EOF /greeting\n"
        "hello\n"
        "EOF\n"
        "RUN true\n"
    )
    spans = [(k, first, last) for k, _text, first, last in split_instructions(text)]
    assert spans == [("FROM", 1, 1), ("RUN", 2, 5), ("COPY", 6, 8), ("RUN", 9, 9)]
    run = split_instructions(text)[1][1]
    assert "comment" not in run and run.endswith("echo b")


def test_escape_directive_changes_the_continuation_character() -> None:
    text = "# escape=`\nFROM busybox\nRUN echo a `\n    b\nRUN echo \\\n"
    spans = [(k, first, last) for k, _text, first, last in split_instructions(text)]
    assert spans == [("FROM", 2, 2), ("RUN", 3, 4), ("RUN", 5, 5)]


def test_lock_python_reads_plain_and_escaped_lock_names() -> None:
    assert lock_python("COPY x/environment.py-3.12-linux-64.lock /tmp/env") == "3.12"
    assert lock_python(
        "COPY build_script_files/-2fconda-2fenvironment-2epy-2d3-2e10-2dlinux-2d64-2elock-1 /t"
    ) == "3.10"
    assert lock_python("COPY src/ /home/jovyan/") is None


# --- attribution ------------------------------------------------------------------------------


def sourced(root: Path) -> dict[str, str]:
    """First line of every step → the label of what produced it."""
    workspace = Workspace(root)
    sources = attribute(workspace, render(workspace, OPTIONS))
    return {
        " ".join(i.instruction.text.split("\n")[0].split()[:3]): i.label
        for i in sources.steps
    }


def test_python_repo_steps_come_from_their_files(tmp_path: Path) -> None:
    root = write(tmp_path / "py", {
        "requirements.txt": "numpy\n",
        "runtime.txt": "python-3.12\n",
        "apt.txt": "curl\n",
        "postBuild": "#!/bin/sh\necho hi\n",
        "start": '#!/bin/sh\nexec "$@"\n',
        "small.py": "x = 1\n",
    })
    workspace = Workspace(root)
    result = render(workspace, OPTIONS)
    sources = attribute(workspace, result)
    by_file = {path: [i.instruction.text.split("\n")[0] for i in sources.steps_from(path)]
               for path in ("requirements.txt", "apt.txt", "postBuild", "start", "runtime.txt")}
    copy, install = by_file["requirements.txt"]
    assert copy.split()[2] == "src/requirements.txt" and "/bin/pip install" in install
    assert by_file["apt.txt"] == ["RUN apt-get -qq update && \\"]
    assert by_file["postBuild"] == ["RUN chmod +x postBuild", "RUN ./postBuild"]
    assert by_file["start"] == ['RUN chmod +x "${REPO_DIR}/start"']
    (lock,) = sources.steps_from("runtime.txt")
    assert lock.instruction.step == StepRef(8, 23)
    assert lock.label == "runtime.txt (Python 3.12)" and lock.origin.line == 1
    labels = [i.label for i in sources.steps]
    assert labels[0] == "base image" and labels.count("the repository (COPY src/)") == 1
    assert sources.for_step(None, 18) is not None
    assert sources.for_step(None, 18).label == "the repository (COPY src/)"  # type: ignore[union-attr]
    assert labels.count("repo2docker") == 23 - 1 - 2 - 1 - 2 - 1 - 1 - 1
    # every Dockerfile line of the preview maps to an instruction or is a comment/blank
    assert result.dockerfile is not None
    for number, line in enumerate(result.dockerfile.split("\n"), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            assert sources.for_line(number) is not None, (number, line)


def test_default_python_pin_and_conda_and_binder_folder(tmp_path: Path) -> None:
    # runtime.txt pinning repo2docker's default: hiding it changes nothing, yet it pins
    default = write(tmp_path / "default", {"runtime.txt": "python-3.10\n"})
    workspace = Workspace(default)
    locks = [i for i in attribute(workspace, render(workspace, OPTIONS)).steps
             if lock_python(i.instruction.text)]
    assert [i.label for i in locks] == ["runtime.txt (Python 3.10)"]
    # no pin at all: repo2docker's default
    empty = write(tmp_path / "empty", {"README.md": "hi\n"})
    workspace = Workspace(empty)
    locks = [i for i in attribute(workspace, render(workspace, OPTIONS)).steps
             if lock_python(i.instruction.text)]
    assert [i.label for i in locks] == ["repo2docker (default Python 3.10)"]

    conda = write(tmp_path / "conda", {
        "binder/environment.yml": "dependencies:\n  - numpy\n  - python=3.11\n",
        "binder/apt.txt": "curl\n",
        "runtime.txt": "python-3.12\n",  # in the root: ignored because of binder/
    })
    workspace = Workspace(conda)
    sources = attribute(workspace, render(workspace, OPTIONS))
    env = [i.instruction.text.split()[0] for i in sources.steps_from("binder/environment.yml")]
    assert env == ["COPY", "COPY", "RUN"]  # lock file, early copy, mamba env update
    (lock,) = [i for i in sources.steps if lock_python(i.instruction.text)]
    assert lock.origin.path == "binder/environment.yml" and lock.origin.line == 3
    assert sources.steps_from("binder/apt.txt")[0].instruction.keyword == "RUN"
    assert sources.steps_from("runtime.txt") == []


def test_dockerfile_repo_steps_point_at_their_lines(tmp_path: Path) -> None:
    root = write(tmp_path / "dock", {
        "binder/Dockerfile": "FROM busybox\n\n# set up\nRUN echo a \\\n  && echo b\nCOPY . /srv\n",
    })
    workspace = Workspace(root)
    sources = attribute(workspace, render(workspace, OPTIONS))
    assert sources.docker_buildpack
    assert [(i.instruction.step.label, i.label) for i in sources.steps if i.instruction.step] == [
        ("[1/3]", "binder/Dockerfile:1"), ("[2/3]", "binder/Dockerfile:4"),
        ("[3/3]", "binder/Dockerfile:6"),
    ]


def test_appendix_and_labels_are_the_options(tmp_path: Path) -> None:
    root = write(tmp_path / "app", {"requirements.txt": "numpy\n"})
    workspace = Workspace(root)
    options = RenderOptions(base_image=OPTIONS.base_image, user_id=1000, user_name="jovyan",
                            appendix="RUN echo appendix\nENV A=1", labels=(("k", "v"),))
    sources = attribute(workspace, render(workspace, options))
    last = sources.instructions[-2:]
    assert [i.label for i in last] == ["--appendix", "--appendix"]
    assert any(i.label == "labels" and "k=" in i.instruction.text for i in sources.instructions)


# --- which steps an edit reruns ---------------------------------------------------------------


@pytest.fixture
def py_repo(tmp_path: Path) -> Workspace:
    root = write(tmp_path / "py", {
        "requirements.txt": "numpy\n",
        "runtime.txt": "python-3.10\n",
        "apt.txt": "curl\n",
        "postBuild": "#!/bin/sh\necho hi\n",
        "small.py": "x = 1\n",
        ".dockerignore": "*.log\n",
        "run.log": "old\n",
    })
    return Workspace(root)


@pytest.mark.parametrize(
    ("path", "text", "expected", "why"),
    [
        # the invalidation table measured on the engine (repo2docker-internals.md §1e)
        ("requirements.txt", "numpy\npandas\n", "reruns steps 15–22 of 22", "copies"),
        ("apt.txt", "curl\nvim\n", "reruns steps 16–22 of 22", "text changes"),
        ("postBuild", "#!/bin/sh\necho bye\n", "reruns steps 18–22 of 22", "copies postBuild"),
        ("small.py", "x = 2\n", "reruns steps 18–22 of 22", "copies small.py"),
        ("runtime.txt", "python-3.12\n", "reruns steps 8–22 of 22", "text changes"),
        ("run.log", "new\n", "reruns no step: every step stays cached", ""),
    ],
)
def test_saving_an_edit_reruns_from_the_first_changed_step(
    py_repo: Workspace, path: str, text: str, expected: str, why: str
) -> None:
    py_repo.set_text(path, text)
    rebuild = plan_rebuild(
        render_saved(py_repo, OPTIONS), render(py_repo, OPTIONS), py_repo.dirty_paths(),
        py_repo.root,
    )
    assert rebuild is not None
    assert rebuild.describe() == f"saving {path} {expected}"
    assert why in rebuild.why


def test_dockerfile_repo_rebuild_follows_copy_sources(tmp_path: Path) -> None:
    root = write(tmp_path / "dock", {
        "Dockerfile": "FROM busybox\nRUN echo base\nCOPY requirements.txt /r.txt\n"
                      "RUN echo install\nCOPY src/ /app/src/\nCOPY *.cfg /etc/\n",
        "requirements.txt": "numpy\n", "src/a.py": "a\n", "notes.md": "n\n", "x.cfg": "c\n",
    })
    workspace = Workspace(root)
    saved = render_saved(workspace, OPTIONS)

    def reruns(path: str, text: str) -> str:
        workspace.set_text(path, text)
        try:
            rebuild = plan_rebuild(saved, render(workspace, OPTIONS), [path], root)
            assert rebuild is not None
            return rebuild.ranges() or "-"
        finally:
            workspace.revert(path)

    assert reruns("requirements.txt", "pandas\n") == "3–6"
    assert reruns("src/a.py", "b\n") == "5–6"
    assert reruns("x.cfg", "d\n") == "6"
    assert reruns("notes.md", "m\n") == "-"  # no COPY reads it
    assert reruns("Dockerfile", saved.dockerfile.replace("echo install", "echo again")  # type: ignore[union-attr]
                  ) == "4–6"


def test_multi_stage_rebuild_follows_stage_dependencies() -> None:
    from r2d_tui.core.render import RenderResult

    before = (
        "FROM busybox AS deps\nCOPY req.txt /r\nRUN echo deps\n"
        "FROM busybox AS docs\nRUN echo docs\n"
        "FROM busybox\nRUN echo final\nCOPY --from=deps /r /r\nRUN echo end\n"
    )
    after = before.replace("echo deps", "echo deps2")

    def result(text: str) -> RenderResult:
        return RenderResult("docker", "DockerBuildPack", text, OPTIONS)

    rebuild = plan_rebuild(result(before), result(after), [])
    assert rebuild is not None
    assert rebuild.ranges() == "[deps 3/3], [stage-2 3/4]–[stage-2 4/4]"
    assert rebuild.describe("saving Dockerfile") == (
        "saving Dockerfile reruns steps [deps 3/3], [stage-2 3/4]–[stage-2 4/4]"
    )


def test_rebuild_wording() -> None:
    one = Rebuild(("apt.txt",), (StepRef(4, 4),), 4)
    assert one.describe() == "saving apt.txt reruns step 4 of 4"
    many = Rebuild(("a", "b", "c", "d"), (StepRef(2, 4), StepRef(3, 4)), 4)
    assert many.describe() == "saving a, b and 2 more files reruns steps 2–3 of 4"
    two = Rebuild(("a", "b"), (), 4)
    assert two.describe() == "saving a and b reruns no step: every step stays cached"


def test_copies_reads_sources_not_heredoc_bodies_or_other_stages() -> None:
    from r2d_tui.core.sources import copies

    text = (
        "FROM busybox AS base\nCOPY <<EOF /greeting\nhello\nEOF\n"
        "COPY a.txt \\\n  data/ /dst/\nCOPY --from=base /greeting /g\n"
        'ADD ["b c.txt", "/x/"]\nADD https://example.org/f.tgz /f\nCOPY ${SRC} /s\n'
    )
    found = {i.first_line: i for i in parse_instructions(text)}
    assert not copies(found[2], "hello") and not copies(found[2], "EOF")
    assert copies(found[5], "a.txt") and copies(found[5], "data/x/y.csv")
    assert not copies(found[5], "dst") and not copies(found[7], "greeting")
    assert copies(found[8], "b c.txt") and not copies(found[9], "f.tgz")
    assert copies(found[10], "anything")  # an unresolved variable: assume it does
