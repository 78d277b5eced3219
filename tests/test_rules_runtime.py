"""runtime.txt rules (issue #3).

Checked with repo2docker 2026.4.0 (``--no-build``): 'python 3.11', 'python3.11', '3.11' →
"Invalid runtime.txt" (also next to an environment.yml or a Pipfile, because the R
buildpack parses runtime.txt first); 'python-3.11.4' → "must always be specified as 'x.y'";
'r-4.3-2024-1-10' → "Invalid runtime.txt date"; a comment line or 'Python-3.11' → no error,
silently Python 3.10; 'python-3.4' / 'python-3.15' → "Python version X on linux-64 is not
supported"; 'r-4.3' → the Python buildpack, no R.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rules_support import (  # noqa: F401 - the fixture is autouse
    Case,
    Want,
    _overlays_under_tmp_path,
    check_files,
    params,
    run_case,
)

from r2d_tui.core.checks.runtime import parse_runtime
from r2d_tui.core.findings import Severity

RT = "runtime.txt"
REQ = {"requirements.txt": "numpy\n"}
ENV = {"environment.yml": "dependencies:\n  - python=3.11\n"}
INVALID = "invalid-runtime-txt"
R_DATE = "runtime-txt-r-missing-date"
UNSUPPORTED = "unsupported-python-version"

CASES = [
    # --- invalid-runtime-txt --------------------------------------------------------------
    Case("space", {RT: "python 3.11\n"}, want=(Want(INVALID, RT, 1, 1, Severity.ERROR),),
         forbid=("render-failed",)),
    Case("no-dash", {RT: "python3.11\n", **REQ}, want=(Want(INVALID, RT, 1, 1),)),
    Case("version-only", {RT: "3.11\n"}, want=(Want(INVALID, RT, 1),)),
    Case("patch-version", {RT: "python-3.11.4\n"}, want=(Want(INVALID, RT, 1),),
         forbid=("render-failed", UNSUPPORTED)),
    Case("bad-date", {RT: "r-4.3-2024-1-10\n"}, want=(Want(INVALID, RT, 1),)),
    Case("invalid-next-to-environment", {RT: "python 3.11\n", **ENV},
         want=(Want(INVALID, RT, 1),), forbid=("ignored-config-file",)),
    Case("invalid-next-to-pipfile", {RT: "python3.11\n", "Pipfile": "[packages]\n"},
         want=(Want(INVALID, RT, 1),)),
    Case("binder-runtime", {"binder/runtime.txt": "python 3.10\n"},
         want=(Want(INVALID, "binder/runtime.txt", 1),)),
    Case(
        "comment-line",  # repo2docker does not fail: it silently builds its default Python
        {RT: "# the Python version\npython-3.11\n", **REQ},
        want=(Want(INVALID, RT, 1, 1, Severity.ERROR),),
        forbid=("ignored-config-file",),
    ),
    Case("capital-p", {RT: "Python-3.11\n", **REQ}, want=(Want(INVALID, RT, 1),),
         forbid=("ignored-config-file",)),
    Case("capital-r", {RT: "R-4.3-2024-01-01\n"}, want=(Want(INVALID, RT, 1),),
         forbid=(R_DATE,)),
    Case("trailing-comment", {RT: "python-3.10 # pinned\n"}, want=(Want(INVALID, RT, 1),),
         forbid=("render-failed",)),
    Case("blank-lines-around", {RT: "\n\npython 3.11\n"}, want=(Want(INVALID, RT, 3),)),
    Case("valid", {RT: "python-3.11\n", **REQ}, forbid=(INVALID,)),
    Case("valid-crlf-no-newline", {RT: "python-3.12\r\n"}, forbid=(INVALID,)),
    Case("valid-surrounding-whitespace", {RT: "\n  python-3.11  \n\n"}, forbid=(INVALID,)),
    Case("valid-python-with-date", {RT: "python-3.11-2024-01-01\n"}, forbid=(INVALID,)),
    Case("valid-python-2", {RT: "python-2.7\n"}, forbid=(INVALID, UNSUPPORTED)),
    Case("valid-r-dated", {RT: "r-4.3-2024-01-10\n"}, forbid=(INVALID, R_DATE)),
    Case("ignored-when-dockerfile", {RT: "python3.11\n", "Dockerfile": "FROM scratch\n"},
         forbid=(INVALID,)),
    Case("comment-line-next-to-environment", {RT: "# py\npython-3.11\n", **ENV},
         want=(Want("ignored-config-file", RT, 1),), forbid=(INVALID,)),
    # --- runtime-txt-r-missing-date -------------------------------------------------------
    Case("r-minor", {RT: "r-4.3\n"}, want=(Want(R_DATE, RT, 1, 1, Severity.ERROR),),
         forbid=(INVALID,)),
    Case("r-patch", {RT: "r-4.3.2\n", **REQ}, want=(Want(R_DATE, RT, 1),)),
    Case("r-major", {"binder/runtime.txt": "r-4\n"}, want=(Want(R_DATE, "binder/runtime.txt", 1),)),
    Case("r-with-environment", {RT: "r-4.3\n", **ENV}, want=(Want(R_DATE, RT, 1),)),
    Case("r-with-blank-first-line", {RT: "\nr-4.1\n"}, want=(Want(R_DATE, RT, 2),)),
    Case("r-date-only", {RT: "r-2024-01-10\n"}, forbid=(R_DATE,)),
    Case("r-version-and-date", {RT: "r-4.3.2-2024-01-10\n"}, forbid=(R_DATE,)),
    Case("python", {RT: "python-3.11\n"}, forbid=(R_DATE,)),
    Case("r-with-dockerfile", {RT: "r-4.3\n", "Dockerfile": "FROM scratch\n"}, forbid=(R_DATE,)),
    # --- unsupported-python-version -------------------------------------------------------
    Case("too-old", {RT: "python-3.4\n"}, want=(Want(UNSUPPORTED, RT, 1, 8, Severity.ERROR),),
         forbid=("render-failed", INVALID)),
    Case("too-new", {RT: "python-3.15\n", **REQ}, want=(Want(UNSUPPORTED, RT, 1, 8),)),
    Case("minor-typo", {RT: "python-3.1\n"}, want=(Want(UNSUPPORTED, RT, 1, 8),)),
    Case("conda-too-new", {"environment.yml": "dependencies:\n  - numpy\n  - python=3.15\n"},
         want=(Want(UNSUPPORTED, "environment.yml", 3, 12),), forbid=("render-failed",)),
    Case("pipfile-too-old", {"Pipfile": "[packages]\n\n[requires]\npython_version = \"3.4\"\n"},
         want=(Want(UNSUPPORTED, "Pipfile", 4, 19),)),
    Case("supported-3-12", {RT: "python-3.12\n"}, forbid=(UNSUPPORTED,)),
    Case("supported-legacy-3-6", {RT: "python-3.6\n"}, forbid=(UNSUPPORTED,)),
    Case("supported-conda", {"environment.yml": "dependencies:\n  - python=3.13\n"},
         forbid=(UNSUPPORTED,)),
]


@pytest.mark.parametrize("case", params(CASES))
def test_runtime_rule(tmp_path: Path, case: Case) -> None:
    run_case(tmp_path / "repo", case)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("python-3.11\n", ("python", "3.11", None)),
        ("r-4.3-2024-01-10", ("r", "4.3", "2024-01-10")),
        ("r-2024-01-10", ("r", None, "2024-01-10")),
        ("# c\npython-3.11", ("# c\npython", "3.11", None)),
        ("Python-3.11", ("Python", "3.11", None)),
    ],
)
def test_parse_runtime_matches_repo2docker(text: str, expected: tuple[str, str, str]) -> None:
    assert parse_runtime(text) == expected


@pytest.mark.parametrize("text", ["python 3.11", "python3.11", "3.11", "r-4.3-2024-1-10", "a--b"])
def test_parse_runtime_rejects_what_repo2docker_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="Invalid runtime.txt"):
        parse_runtime(text)


@pytest.mark.parametrize(
    ("text", "fix"),
    [("python 3.10\n", "write python-3.10"), ("Python-3.11\n", "write python-3.11"),
     ("R-4.3-2024-01-01\n", "write r-4.3-2024-01-01")],
)
def test_invalid_runtime_fix(tmp_path: Path, text: str, fix: str) -> None:
    findings = check_files(tmp_path / "repo", {RT: text, **REQ})
    (finding,) = [f for f in findings if f.name == INVALID]
    assert finding.fix == fix
