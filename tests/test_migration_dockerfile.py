"""Migration checks on a user Dockerfile: probes in ``RUN`` lines (shell, exec form,
heredocs, continuation lines), scripts copied in and run, Homebrew's installer run as root,
stages BuildKit skips, ``VOLUME`` then writes, and ``WORKDIR`` created after a non-root
``USER``."""

from __future__ import annotations

from pathlib import Path

import pytest
from migration_support import (
    _overlays_under_tmp_path,  # noqa: F401 - autouse fixture
    check,
    col,
    migration_findings,
    names,
)

from r2d_tui.core.findings import Severity

DOCKERENV = "dockerenv-reliance"
DETECTION = "container-detection-reliance"
RUNTIME = "runtime-container-detection"
UNUSED = "unused-stage-skipped"
VOLUME = "volume-then-modify"
WORKDIR = "workdir-owner-changed"

# --- probes in RUN ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "run",
    [
        "RUN if test -e /.dockerenv; then echo present; else echo absent; fi",
        "RUN [ -f /.dockerenv ] && echo classic",
        "run test -f /.dockerenv || exit 1",
        "  RUN [[ -e /.dockerenv ]] && echo classic",
        'RUN ["sh", "-c", "[ -f /.dockerenv ] && echo classic"]',
        "RUN --mount=type=cache,target=/root/.cache [ -f /.dockerenv ] || pip install x",
        "RUN --network=none test -e /.dockerenv",
    ],
)
def test_run_line(tmp_path: Path, run: str) -> None:
    dockerfile = "FROM python:3.12\n" + run + "\n"
    findings = migration_findings(tmp_path, {"Dockerfile": dockerfile})
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DOCKERENV, "Dockerfile", 2, col(run))
    ]
    assert findings[0].chain == ("Dockerfile:2",)
    assert "RUN" in findings[0].message
    assert findings[0].fix is not None and "ENV" in findings[0].fix


def test_continued_run(tmp_path: Path) -> None:
    dockerfile = (
        "FROM python:3.12\n"
        "RUN set -e && \\\n"
        "    # [ -f /.dockerenv ] (a Dockerfile comment line)\n"
        "    apt-get update && \\\n"
        "    if [ -e /.dockerenv ]; then echo classic; fi\n"
    )
    assert check(tmp_path, {"Dockerfile": dockerfile}) == [(DOCKERENV, "Dockerfile", 5, 13)]


def test_heredoc_run(tmp_path: Path) -> None:
    dockerfile = (
        "# syntax=docker/dockerfile:1\n"
        "FROM python:3.12\n"
        "RUN <<EOF\n"
        "set -e\n"
        "if [ -e /.dockerenv ]; then\n"
        "  echo classic\n"
        "fi\n"
        "EOF\n"
        "RUN echo done\n"
    )
    findings = migration_findings(tmp_path, {"Dockerfile": dockerfile})
    assert [(f.name, f.line, f.column) for f in findings] == [(DOCKERENV, 5, 9)]
    assert findings[0].chain == ("Dockerfile:5",)


def test_heredoc_that_writes_a_file_is_data(tmp_path: Path) -> None:
    dockerfile = (
        "FROM python:3.12\n"
        "RUN cat > /usr/local/bin/entry <<'EOF'\n"
        "[ -f /.dockerenv ] && echo docker\n"
        "EOF\n"
    )
    assert check(tmp_path, {"Dockerfile": dockerfile}) == []


def test_dockerfile_negatives(tmp_path: Path) -> None:
    dockerfile = (
        "# RUN [ -f /.dockerenv ] && echo commented out\n"
        "FROM python:3.12\n"
        "ENV MARKER=/.dockerenv\n"
        'LABEL note="[ -f /.dockerenv ]"\n'
        "RUN touch /.dockerenv\n"
        'RUN echo "/.dockerenv" > /tmp/note  # [ -f /.dockerenv ]\n'
        'RUN if [ -n "$REPO_DIR" ]; then echo repo2docker; fi\n'
        "RUN test -f $MARKER_FILE\n"  # not the variable that holds the marker
        'RUN echo "$MARKER"\n'
        "HEALTHCHECK NONE\n"
        'CMD ["jupyter", "lab", "--ip=0.0.0.0"]\n'
    )
    assert check(tmp_path, {"Dockerfile": dockerfile}) == []


# --- ARG / ENV values in RUN ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dockerfile", "line", "needle"),
    [
        ('FROM python:3.11-slim\nARG MARK=/.dockerenv\nRUN if [ -f "$MARK" ]; then echo d; fi\n',
         3, "$MARK"),
        ("FROM python:3.11-slim\nENV MARK=/.dockerenv\nRUN test -e ${MARK} && echo d\n", 3,
         "${MARK}"),
        ("FROM python:3.11-slim\nENV MARK /.dockerenv\nRUN test -e $MARK\n", 3, "$MARK"),
        ('FROM python:3.11-slim\nENV A=1 MARK="/.dockerenv"\nRUN apt-get update && \\\n'
         "    [ -e $MARK ] || echo no\n", 4, "$MARK"),
        ("ARG MARK=/.dockerenv\nFROM python:3.11-slim\nARG MARK\nRUN test -e $MARK\n", 4, "$MARK"),
        ("FROM python:3.11-slim AS base\nENV MARK=/.dockerenv\nFROM base\nRUN test -e $MARK\n",
         4, "$MARK"),
        ("FROM python:3.11-slim\nENV ROOT=/\nENV MARK=${ROOT}.dockerenv\nRUN test -e $MARK\n",
         4, "$MARK"),
    ],
    ids=["arg", "env-braces", "env-legacy", "env-pairs-continued", "global-arg", "inherited",
         "expanded-value"],
)
def test_marker_in_a_dockerfile_variable(
    tmp_path: Path, dockerfile: str, line: int, needle: str
) -> None:
    findings = migration_findings(tmp_path, {"Dockerfile": dockerfile})
    text = dockerfile.split("\n")[line - 1]
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DOCKERENV, "Dockerfile", line, col(text, needle))
    ]


@pytest.mark.parametrize(
    "dockerfile",
    [
        # a global ARG is not visible in a stage that does not declare it again
        "ARG MARK=/.dockerenv\nFROM python:3.11-slim\nRUN test -e $MARK\n",
        # ARG values do not pass from one stage to the next (ENV values do)
        "FROM python:3.11-slim AS base\nARG MARK=/.dockerenv\nFROM base\nRUN test -e $MARK\n",
        # another stage's ENV
        "FROM alpine AS one\nENV MARK=/.dockerenv\nFROM python:3.11-slim\nRUN test -e $MARK\n",
        # set later than the RUN
        "FROM python:3.11-slim\nRUN test -e $MARK\nENV MARK=/.dockerenv\n",
        # an escaped dollar is not a reference
        "FROM python:3.11-slim\nENV MARK=/.dockerenv\nRUN test -e \\$MARK\n",
    ],
    ids=["global-arg-undeclared", "arg-not-inherited", "other-stage", "later", "escaped"],
)
def test_marker_variable_negatives(tmp_path: Path, dockerfile: str) -> None:
    assert check(tmp_path, {"Dockerfile": dockerfile}) == []


def test_variable_names_a_copied_script(tmp_path: Path) -> None:
    files = {
        "Dockerfile": "FROM debian:12\nARG DIR=/opt/tools\nCOPY scripts $DIR\n"
                      "RUN sh ${DIR}/check.sh\n",
        "scripts/check.sh": CHECK_SH,
    }
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line) for f in findings] == [(DOCKERENV, "scripts/check.sh", 2)]
    assert findings[0].chain == ("Dockerfile:4", "scripts/check.sh:2")


# --- CMD, ENTRYPOINT, HEALTHCHECK: run time ---------------------------------------------------


@pytest.mark.parametrize(
    "instruction",
    [
        'CMD ["sh", "-c", "[ -f /.dockerenv ] && echo d; jupyter lab --ip=0.0.0.0"]',
        "CMD [ -f /.dockerenv ] && echo docker",
        "ENTRYPOINT test -f /.dockerenv && exec jupyter lab",
        'ENTRYPOINT ["/bin/bash", "-c", "test -f /.dockerenv"]',
        "HEALTHCHECK CMD test -f /.dockerenv || exit 1",
        "HEALTHCHECK --interval=30s --timeout=3s CMD [ -e /.dockerenv ]",
        'HEALTHCHECK CMD ["test", "-f", "/.dockerenv"]',
    ],
    ids=["cmd-exec-sh-c", "cmd-shell", "entrypoint-shell", "entrypoint-exec", "healthcheck",
         "healthcheck-options", "healthcheck-exec"],
)
def test_runtime_instructions(tmp_path: Path, instruction: str) -> None:
    dockerfile = f"FROM python:3.11-slim\nRUN pip install notebook\n{instruction}\n"
    findings = migration_findings(tmp_path, {"Dockerfile": dockerfile})
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (RUNTIME, "Dockerfile", 3, col(instruction))
    ]
    assert findings[0].severity is Severity.INFO


def test_runtime_instruction_with_a_marker_variable(tmp_path: Path) -> None:
    dockerfile = 'FROM python:3.11-slim\nENV MARK=/.dockerenv\nCMD test -f "$MARK" && echo d\n'
    assert check(tmp_path, {"Dockerfile": dockerfile}) == [
        (RUNTIME, "Dockerfile", 3, col(dockerfile.split("\n")[2], "$MARK"))
    ]


def test_dockerfile_ignored_because_binder_folder_exists(tmp_path: Path) -> None:
    files = {
        "Dockerfile": "FROM scratch\nRUN [ -f /.dockerenv ]\n",
        "binder/requirements.txt": "numpy\n",
    }
    assert check(tmp_path, files) == []


# --- scripts copied in and run ------------------------------------------------------------------

CHECK_SH = "#!/bin/sh\ntest -f \"/.dockerenv\" && echo classic\n"
CHECK_COLUMN = col('test -f "/.dockerenv" && echo classic')


@pytest.mark.parametrize(
    ("instructions", "run_line"),
    [
        ("COPY scripts/check.sh /tmp/\nRUN bash /tmp/check.sh", 3),
        ("COPY scripts/check.sh /usr/local/bin/check\nRUN check --all", 3),
        ("COPY scripts /opt/scripts\nRUN sh /opt/scripts/check.sh", 3),
        ("COPY scripts/ /opt/s/\nRUN /opt/s/check.sh", 3),
        ("WORKDIR /app\nCOPY . .\nRUN ./scripts/check.sh", 4),
        ("COPY . /src\nRUN cd /src/scripts && sh check.sh", 3),
        ("COPY scripts/*.sh /tmp/\nRUN bash /tmp/check.sh", 3),
        ('COPY ["scripts/check.sh", "/tmp/c.sh"]\nRUN ["bash", "/tmp/c.sh"]', 3),
        ("COPY --chmod=755 --chown=1000 scripts/check.sh /entry.sh\nRUN /entry.sh", 3),
        ("ADD scripts/check.sh /tmp/check.sh\nRUN sh /tmp/check.sh", 3),
        ("WORKDIR /tmp\nCOPY scripts/check.sh .\nRUN sh check.sh", 4),
    ],
)
def test_copied_script_is_followed(tmp_path: Path, instructions: str, run_line: int) -> None:
    files = {"Dockerfile": f"FROM debian:12\n{instructions}\n", "scripts/check.sh": CHECK_SH}
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DOCKERENV, "scripts/check.sh", 2, CHECK_COLUMN)
    ]
    assert findings[0].chain == (f"Dockerfile:{run_line}", "scripts/check.sh:2")


@pytest.mark.parametrize(
    "instructions",
    [
        "COPY scripts/check.sh /tmp/\nCMD bash /tmp/check.sh",
        "COPY scripts/check.sh /tmp/\nENTRYPOINT [\"/tmp/check.sh\"]",
        "FROM debian:12 AS tools\nRUN true\nFROM debian:12\n"
        "COPY --from=tools /scripts/check.sh /tmp/\nRUN bash /tmp/check.sh",
    ],
    ids=["cmd", "entrypoint", "copy-from-stage"],
)
def test_copied_script_not_run_at_build_time(tmp_path: Path, instructions: str) -> None:
    files = {"Dockerfile": f"FROM debian:12\n{instructions}\n", "scripts/check.sh": CHECK_SH}
    assert check(tmp_path, files) == [(RUNTIME, "scripts/check.sh", 2, CHECK_COLUMN)]


def test_binder_dockerfile_copies_from_the_repository_root(tmp_path: Path) -> None:
    files = {
        "binder/Dockerfile": "FROM debian:12\nCOPY scripts/check.sh /tmp/\nRUN sh /tmp/check.sh\n",
        "scripts/check.sh": CHECK_SH,
    }
    findings = migration_findings(tmp_path, files)
    assert [(f.path, f.line) for f in findings] == [("scripts/check.sh", 2)]
    assert findings[0].chain == ("binder/Dockerfile:3", "scripts/check.sh:2")


def test_pip_install_of_the_copied_repository(tmp_path: Path) -> None:
    files = {
        "Dockerfile": (
            "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir .\n"
        ),
        "setup.py": "import os\nIN_DOCKER = os.path.exists('/.dockerenv')\n",
    }
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line) for f in findings] == [(DOCKERENV, "setup.py", 2)]
    assert findings[0].chain == ("Dockerfile:4", "setup.py:2")


def test_npm_ci_in_a_dockerfile_runs_postinstall(tmp_path: Path) -> None:
    package = '{\n  "scripts": {\n    "postinstall": "is-docker || echo not-docker"\n  }\n}\n'
    files = {
        "Dockerfile": "FROM node:20\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\n",
        "package.json": package,
    }
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DETECTION, "package.json", 3, col(package.splitlines()[2], "is-docker"))
    ]
    assert findings[0].chain == ("Dockerfile:4", "package.json#scripts.postinstall:3")


# --- Homebrew's installer -----------------------------------------------------------------------

BREW = '/bin/bash -c "$(curl -fsSL https://raw.githubusercontent.com/Homebrew/install/HEAD/install.sh)"'


@pytest.mark.parametrize(
    "dockerfile",
    [
        f"FROM ubuntu:24.04\nRUN {BREW}\n",
        f"FROM ubuntu:24.04\nENV NONINTERACTIVE=1\nRUN apt-get update && \\\n    {BREW}\n",
        "FROM ubuntu:24.04\nUSER brew\nRUN true\nUSER root\nRUN curl -fsSL "
        "https://raw.githubusercontent.com/Homebrew/install/HEAD/install.sh | bash\n",
        f"FROM ubuntu:24.04\nUSER 0\nRUN NONINTERACTIVE=1 {BREW}\n",
        'FROM ubuntu:24.04\nRUN ruby -e "$(curl -fsSL '
        'https://raw.githubusercontent.com/Homebrew/install/master/install)"\n',
        'FROM ubuntu:24.04\nRUN sh -c "$(curl -fsSL '
        'https://raw.githubusercontent.com/Linuxbrew/install/master/install.sh)"\n',
        # the docker-stacks images run as jovyan, until told otherwise
        f"FROM quay.io/jupyter/base-notebook:latest\nUSER root\nRUN {BREW}\n",
        f"FROM jupyter/base-notebook AS base\nUSER 0\nFROM base\nRUN {BREW}\n",
        f"FROM quay.io/jupyter/base-notebook AS nb\nFROM ubuntu:24.04\nRUN {BREW}\n",
        f"FROM example.org/jupyter/base-notebook\nRUN {BREW}\n",  # not the docker-stacks
    ],
    ids=["default-root", "continued", "back-to-root", "uid-0", "ruby-installer", "linuxbrew",
         "jupyter-user-root", "stage-ended-as-root", "other-stage-is-jupyter",
         "other-registry"],
)
def test_homebrew_installer_as_root(tmp_path: Path, dockerfile: str) -> None:
    lines = dockerfile.splitlines()
    number = next(i for i, line in enumerate(lines, 1) if "brew/install" in line)
    findings = migration_findings(tmp_path, {"Dockerfile": dockerfile})
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DETECTION, "Dockerfile", number,
         col(lines[number - 1], "raw.githubusercontent.com/") + len("raw.githubusercontent.com/"))
    ]
    assert findings[0].severity is Severity.ERROR
    assert "Homebrew" in findings[0].message and "root" in findings[0].message


@pytest.mark.parametrize(
    "dockerfile",
    [
        f"FROM ubuntu:24.04\nRUN useradd -m brew\nUSER brew\nRUN {BREW}\n",
        f"FROM ubuntu:24.04\nRUN useradd -m brew && su brew -c '{BREW}'\n",
        f"FROM ubuntu:24.04\nRUN sudo -u linuxbrew {BREW}\n",
        f"FROM ubuntu:24.04\nUSER ${{NB_USER}}\nRUN {BREW}\n",
        f"FROM quay.io/jupyter/base-notebook:latest\nRUN NONINTERACTIVE=1 {BREW}\n",
        f"FROM jupyter/scipy-notebook\nRUN {BREW}\n",
        f"FROM docker.io/jupyter/minimal-notebook:2023-10-20\nRUN {BREW}\n",
        f"FROM quay.io/jupyter/base-notebook AS base\nFROM base\nRUN {BREW}\n",
        f"ARG BASE=jupyter/base-notebook\nFROM $BASE\nRUN {BREW}\n",
        f"FROM ubuntu:24.04 AS base\nUSER brew\nFROM base\nRUN {BREW}\n",
        "FROM ubuntu:24.04\n# RUN " + BREW + "\n"
        'RUN echo "see https://raw.githubusercontent.com/Homebrew/install/HEAD/install.sh"\n',
    ],
    ids=["user", "su", "sudo-u", "nb-user", "quay-jupyter", "jupyter", "docker-io-jupyter",
         "stage-of-jupyter", "arg-base", "stage-with-user", "comment-and-echo"],
)
def test_homebrew_installer_not_as_root(tmp_path: Path, dockerfile: str) -> None:
    assert check(tmp_path, {"Dockerfile": dockerfile}) == []


def test_homebrew_in_postbuild_runs_as_the_notebook_user(tmp_path: Path) -> None:
    files = {"requirements.txt": "numpy\n", "postBuild": f"#!/bin/bash\n{BREW}\n"}
    assert check(tmp_path, files) == []


# --- stages BuildKit skips ----------------------------------------------------------------------

MULTI_STAGE = """\
FROM python:3.12 AS base
RUN pip install numpy

FROM base AS test
COPY . /src
RUN pytest /src

FROM base
COPY . /app
"""


def test_unused_test_stage(tmp_path: Path) -> None:
    findings = migration_findings(tmp_path, {"Dockerfile": MULTI_STAGE})
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (UNUSED, "Dockerfile", 4, 1)
    ]
    assert findings[0].severity is Severity.WARNING
    assert "'test'" in findings[0].message
    assert findings[0].fix is not None and "--from=test" in findings[0].fix


@pytest.mark.parametrize(
    "final",
    [
        "FROM base\nCOPY --from=test /src/report.xml /report.xml\n",
        "FROM test\n",
        "FROM base\nCOPY --from=1 /src /src\n",
        "FROM base\nRUN --mount=type=bind,from=test,source=/src,target=/x ls /x\n",
        "FROM base\nCOPY --from=TEST /src /src\n",
    ],
    ids=["copy-from-name", "from-stage", "copy-from-index", "mount-from", "name-case"],
)
def test_stage_used_by_the_final_one(tmp_path: Path, final: str) -> None:
    dockerfile = MULTI_STAGE.split("FROM base\nCOPY . /app\n")[0] + final
    assert check(tmp_path, {"Dockerfile": dockerfile}) == []


def test_transitively_used_stage_and_stage_without_run(tmp_path: Path) -> None:
    dockerfile = (
        "FROM alpine AS fetch\nRUN wget -O /x https://example.org/x\n"
        "FROM alpine AS build\nCOPY --from=fetch /x /x\nRUN make\n"
        "FROM alpine AS docs\nCOPY README.md /\n"
        "FROM alpine\nCOPY --from=build /x /x\n"
    )
    assert check(tmp_path, {"Dockerfile": dockerfile}) == []


def test_two_unused_stages_and_an_unnamed_one(tmp_path: Path) -> None:
    dockerfile = (
        "ARG BASE=alpine:3.20\n"
        "FROM ${BASE}\nRUN echo lint\n"
        "FROM ${BASE} AS check\nRUN echo check\nRUN echo more\n"
        "FROM ${BASE}\nRUN echo final\n"
    )
    findings = migration_findings(tmp_path, {"Dockerfile": dockerfile})
    assert [(f.name, f.line) for f in findings] == [(UNUSED, 2), (UNUSED, 4)]
    assert "#0" in findings[0].message and "'check'" in findings[1].message
    assert "2 RUN" in findings[1].message


def test_single_stage_is_never_unused(tmp_path: Path) -> None:
    assert UNUSED not in names(tmp_path, {"Dockerfile": "FROM alpine\nRUN echo hi\n"})


# --- VOLUME then RUN ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dockerfile", "line"),
    [
        ("FROM ubuntu\nVOLUME /data\nRUN mkdir -p /data/cache && echo hi > /data/cache/f\n", 3),
        ('FROM ubuntu\nVOLUME ["/home/jovyan/work"]\nRUN touch /home/jovyan/work/a\n', 3),
        ("FROM ubuntu\nVOLUME /var/lib/db /data\nRUN echo x\nRUN git clone https://x/y /data/y\n",
         4),
        ("FROM ubuntu\nVOLUME /data\nWORKDIR /data\nRUN wget https://example.org/file\n", 4),
        ("FROM ubuntu\nVOLUME /data\nRUN cd /data && tar xf /tmp/a.tar\n", 3),
        ("FROM ubuntu\nVOLUME /data/\nRUN chown -R 1000 /data\n", 3),
        ("FROM ubuntu AS base\nVOLUME /data\nFROM base\nRUN cp /etc/hosts /data/\n", 4),
        ("FROM ubuntu\nVOLUME /home/$NB_USER/work\nRUN mkdir -p /home/$NB_USER/work/data\n", 3),
        ("FROM busybox\nVOLUME /foo\nRUN touch /foo/bar\n", 3),
    ],
    ids=["mkdir-redirect", "json", "second-volume", "workdir-inside", "cd-inside",
         "trailing-slash", "inherited", "variable-in-path", "buildkit-issue-880"],
)
def test_volume_then_write(tmp_path: Path, dockerfile: str, line: int) -> None:
    findings = migration_findings(tmp_path, {"Dockerfile": dockerfile})
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (VOLUME, "Dockerfile", line, 1)
    ]
    assert "VOLUME" in findings[0].message


@pytest.mark.parametrize(
    "dockerfile",
    [
        "FROM ubuntu\nRUN mkdir -p /data/x\nVOLUME /data\n",
        "FROM ubuntu\nVOLUME /data\nRUN mkdir -p /database /data-old\n",
        "FROM ubuntu\nVOLUME /data\nCOPY x /data/x\n",
        "FROM ubuntu\nVOLUME /data\nRUN ls /data && cat /data/x\n",
        "FROM ubuntu\nVOLUME /data\nRUN pip install numpy && ls /data\n",
        'FROM ubuntu\nVOLUME /data\nRUN echo "/data is a volume"\n',
        "FROM ubuntu AS a\nVOLUME /data\nFROM ubuntu\nRUN mkdir /data\n",
    ],
    ids=["volume-after", "other-paths", "copy", "reads", "writer-elsewhere", "echo",
         "other-stage"],
)
def test_volume_negatives(tmp_path: Path, dockerfile: str) -> None:
    assert VOLUME not in names(tmp_path, {"Dockerfile": dockerfile})


# --- WORKDIR after a non-root USER --------------------------------------------------------------


@pytest.mark.parametrize(
    ("dockerfile", "line"),
    [
        ("FROM ubuntu\nUSER 1000\nWORKDIR /app\nRUN touch x\n", 3),
        ("FROM ubuntu\nUSER jovyan\nWORKDIR /home/jovyan\nWORKDIR project\nRUN make\n", 4),
        ("FROM ubuntu\nUSER ${NB_USER}\nWORKDIR ${HOME}/work\nRUN git clone https://x/y\n", 3),
        ("FROM ubuntu\nUSER jovyan:users\nWORKDIR /opt/project/\nRUN echo hi > notes\n", 3),
        ("FROM quay.io/jupyter/base-notebook\nWORKDIR /opt/project\nRUN touch x\n", 2),
        ("FROM ubuntu AS base\nUSER 1000\nFROM base\nWORKDIR /app\nRUN touch x\n", 4),
    ],
    ids=["uid", "relative", "variables", "user-group", "jupyter-base", "inherited-user"],
)
def test_workdir_after_non_root_user(tmp_path: Path, dockerfile: str, line: int) -> None:
    findings = migration_findings(tmp_path, {"Dockerfile": dockerfile})
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (WORKDIR, "Dockerfile", line, 1)
    ]


@pytest.mark.parametrize(
    "dockerfile",
    [
        "FROM ubuntu\nWORKDIR /app\nUSER 1000\nRUN touch x\n",
        "FROM ubuntu\nRUN mkdir -p /app && chown 1000 /app\nUSER 1000\nWORKDIR /app\nRUN touch x\n",
        "FROM ubuntu\nUSER jovyan\nWORKDIR /home/jovyan\nRUN touch x\n",
        "FROM ubuntu\nUSER jovyan\nWORKDIR /tmp\nRUN touch x\n",
        'FROM ubuntu\nUSER jovyan\nWORKDIR /app\nCMD ["python"]\n',
        "FROM ubuntu\nUSER jovyan\nWORKDIR /app\nUSER root\nRUN touch x\n",
        "FROM ubuntu\nUSER root\nWORKDIR /app\nRUN touch x\n",
        "FROM ubuntu\nCOPY . /app\nUSER jovyan\nWORKDIR /app\nRUN ls\n",
        "FROM quay.io/jupyter/base-notebook\nUSER root\nWORKDIR /opt/project\nRUN touch x\n",
        "FROM ubuntu AS base\nUSER 1000\nFROM ubuntu\nWORKDIR /app\nRUN touch x\n",
    ],
    ids=["before-user", "created-first", "home", "tmp", "no-run-after", "root-again", "root",
         "copied-first", "jupyter-as-root", "other-stage-user"],
)
def test_workdir_negatives(tmp_path: Path, dockerfile: str) -> None:
    assert WORKDIR not in names(tmp_path, {"Dockerfile": dockerfile})


def test_dockerfile_rules_only_apply_to_a_dockerfile_repo(tmp_path: Path) -> None:
    """A Dockerfile next to a binder/ folder (or in a repository repo2docker builds with
    another buildpack) is not what gets built."""
    files = {
        "binder/requirements.txt": "numpy\n",
        "Dockerfile": (
            MULTI_STAGE + "VOLUME /data\nRUN touch /data/x\nUSER 1000\nWORKDIR /w\nRUN ls\n"
        ),
    }
    assert check(tmp_path, files) == []


HOMEBREW_URL = "https://raw.githubusercontent.com/Homebrew/install/HEAD/install.sh"


def test_creating_the_marker_first_is_the_workaround(tmp_path: Path) -> None:
    """``touch /.dockerenv`` before Homebrew's installer (and tests after it) is the known
    workaround: the file exists under BuildKit too, so nothing relies on the old builder."""
    dockerfile = (
        "FROM fedora:41\n"
        "RUN touch /.dockerenv && \\\n"
        f"    curl --retry 3 -Lo /tmp/brew-install {HOMEBREW_URL} && \\\n"
        "    chmod +x /tmp/brew-install && /tmp/brew-install && \\\n"
        "    rm -f /.dockerenv\n"
        "RUN touch /.dockerenv\n"
        "RUN [ -f /.dockerenv ] && echo yes\n"
    )
    assert check(tmp_path, {"Dockerfile": dockerfile}) == []


def test_marker_created_in_another_stage_does_not_count(tmp_path: Path) -> None:
    dockerfile = (
        "FROM fedora:41 AS tools\nRUN touch /.dockerenv\n"
        "FROM fedora:41\nRUN [ -f /.dockerenv ] || touch /.dockerenv\n"
    )
    assert check(tmp_path, {"Dockerfile": dockerfile}) == [
        (UNUSED, "Dockerfile", 1, 1),
        (DOCKERENV, "Dockerfile", 4, 10),
    ]
