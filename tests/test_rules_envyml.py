"""environment.yml rules (issue #3).

What repo2docker reads was checked with repo2docker 2026.4.0 (``--no-build``):
``CondaBuildPack.python_version`` takes the first conda dependency matching
``python\\s*=+\\s*([\\d\\.]*)`` at its start, so 'python >= 3.9', 'conda-forge::python=3.11',
'Python=3.11' and a 'python=3.9' under pip: all give "Python version unspecified, using
current default Python version 3.10"; 'python=3.10.*' gives 3.10; 'python=3' silently gives
the default 3.10; 'python=3.*' makes the render fail ('3..0 is not valid SemVer string');
a duplicate key makes ruamel raise DuplicateKeyError.
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

from r2d_tui.core.findings import Severity

E = "environment.yml"
INVALID = "invalid-yaml"
NOT_MAPPING = "environment-yml-not-mapping"
EMPTY = "empty-environment-yml"
UNRECOGNIZED = "python-version-unrecognized"
UNPINNED = "python-version-unpinned"
BUILDS = "conda-export-build-strings"
PLATFORM = "platform-specific-package"
PIP = "pip-without-pip"
MALFORMED = "malformed-dependencies"


def deps(*lines: str) -> str:
    return "dependencies:\n" + "".join(f"  - {line}\n" for line in lines)


CASES = [
    # --- invalid-yaml ---------------------------------------------------------------------
    Case(
        "pip-list-indented-one-too-far-left",
        {E: "name: demo\ndependencies:\n  - numpy\n - pip:\n    - requests\n"},
        want=(Want(INVALID, E, 4, 2, Severity.ERROR),),
        forbid=(NOT_MAPPING, EMPTY, "render-failed"),
    ),
    Case(
        "pip-sublist-not-under-pip",  # the corpus' AnuRuwan__conda_binder1 shape
        {E: "dependencies:\n  - pip\n  - pip:\n   - pandas\n   - numpy\n"},
        want=(Want(INVALID, E, 4, 4),),
    ),
    Case("tab-indentation", {E: "dependencies:\n\t- numpy\n"}, want=(Want(INVALID, E, 2, 1),)),
    Case("missing-space-after-colon-in-flow", {E: "dependencies: [numpy, pandas\n"},
         want=(Want(INVALID, E, 2, 1),)),
    Case(
        "duplicate-key",  # repo2docker's YAML() raises DuplicateKeyError
        {E: "dependencies:\n  - numpy\nchannels:\n  - conda-forge\ndependencies:\n  - scipy\n"},
        want=(Want(INVALID, E, 5, 1),),
    ),
    Case(
        "binder-environment-invalid",
        {"binder/environment.yml": "dependencies:\n  - numpy\n    pandas: 1\n"},
        want=(Want(INVALID, "binder/environment.yml", 3, 11),),
    ),
    Case("valid-flow-style", {E: "dependencies: [python=3.11, numpy]\n"}, forbid=(INVALID,)),
    Case("valid-crlf", {E: "dependencies:\r\n  - python=3.11\r\n"}, forbid=(INVALID,)),
    Case("valid-comments-and-blank-lines",
         {E: "# env\nname: x\n\ndependencies:\n  # core\n  - python=3.11  # pin\n\n"},
         forbid=(INVALID, UNPINNED, UNRECOGNIZED)),
    Case("invalid-but-dockerfile-wins",
         {E: "dependencies:\n\t- numpy\n", "Dockerfile": "FROM scratch\n"}, forbid=(INVALID,)),
    Case("invalid-but-shadowed-by-binder",
         {E: "dependencies:\n\t- numpy\n", "binder/requirements.txt": "numpy\n"},
         forbid=(INVALID,)),
    # --- environment-yml-not-mapping ------------------------------------------------------
    Case("top-level-list", {E: "- python=3.11\n- numpy\n"},
         want=(Want(NOT_MAPPING, E, 1, 1, Severity.ERROR),), forbid=(INVALID, "render-failed")),
    Case("plain-words", {E: "numpy\npandas\n"}, want=(Want(NOT_MAPPING, E, 1),)),
    Case("symlink-stored-as-text", {E: "../ci/environment.yml"}, want=(Want(NOT_MAPPING, E, 1),)),
    Case("mapping", {E: deps("python=3.11")}, forbid=(NOT_MAPPING,)),
    Case("empty-is-not-a-list", {E: ""}, forbid=(NOT_MAPPING,)),
    # --- empty-environment-yml ------------------------------------------------------------
    Case("empty-file", {E: ""}, want=(Want(EMPTY, E, 1, 1, Severity.WARNING),), forbid=(INVALID,)),
    Case("comments-only", {E: "# TODO: add packages\n"}, want=(Want(EMPTY, E, 1),)),
    Case("name-and-channels-only", {E: "name: x\nchannels:\n  - conda-forge\n"},
         want=(Want(EMPTY, E, 1),)),
    Case("dependencies-null",  # repo2docker: 'NoneType' object is not iterable
         {E: "name: x\ndependencies:\n"}, want=(Want("render-failed", E, 1),),
         forbid=(EMPTY,)),
    Case("dependencies-empty-list", {E: "dependencies: []\n"}, want=(Want(EMPTY, E, 1),)),
    Case("one-dependency", {E: deps("numpy")}, forbid=(EMPTY,)),
    Case("pip-only-dependencies", {E: deps("pip", "pip:") + "    - requests\n"}, forbid=(EMPTY,)),
    # --- python-version-unrecognized ------------------------------------------------------
    Case("greater-equal", {E: deps("numpy", "python>=3.9")},
         want=(Want(UNRECOGNIZED, E, 3, 5, Severity.WARNING),), forbid=(UNPINNED,)),
    Case("greater-equal-with-spaces", {E: deps("python >= 3.9")},
         want=(Want(UNRECOGNIZED, E, 2, 5),), forbid=(UNPINNED,)),
    Case("less-than", {E: deps("python<3.13")}, want=(Want(UNRECOGNIZED, E, 2, 5),)),
    Case("compatible-release", {E: deps("python~=3.11")}, want=(Want(UNRECOGNIZED, E, 2, 5),)),
    Case("range", {E: deps("python>=3.9,<3.12")}, want=(Want(UNRECOGNIZED, E, 2, 5),)),
    Case("space-instead-of-equals", {E: deps("python 3.11")}, want=(Want(UNRECOGNIZED, E, 2, 5),)),
    Case("python3-dot-12", {E: deps("python3.12")}, want=(Want(UNRECOGNIZED, E, 2, 5),)),
    Case("channel-prefix", {E: deps("conda-forge::python=3.11")},
         want=(Want(UNRECOGNIZED, E, 2, 5),), forbid=(UNPINNED,)),
    Case("capital-p", {E: deps("Python=3.11")}, want=(Want(UNRECOGNIZED, E, 2, 5),),
         forbid=(UNPINNED,)),
    Case("bracket-spec", {E: deps("python[version='>=3.9']")}, want=(Want(UNRECOGNIZED, E, 2, 5),)),
    Case("quoted-range", {E: 'dependencies:\n  - "python>=3.10"\n'},
         want=(Want(UNRECOGNIZED, E, 2, 5),)),
    Case(
        "star-minor-fails-render",  # python=3.* → '3.' → repo2docker's semver parse raises
        {E: deps("python=3.*")},
        want=(Want(UNRECOGNIZED, E, 2, 5, Severity.ERROR),),
        forbid=("render-failed", UNPINNED),
    ),
    Case(
        "python-under-pip",  # never read; pip cannot install Python
        {E: deps("numpy", "pip", "pip:") + "    - python=3.9\n"},
        want=(Want(UNRECOGNIZED, E, 5, 7, Severity.ERROR),),
        forbid=(UNPINNED,),
    ),
    Case(
        "python-under-pip-besides-a-pin",
        {E: deps("python=3.11", "pip", "pip:") + "    - python==3.11\n"},
        want=(Want(UNRECOGNIZED, E, 5, 7),),
    ),
    Case("requirements-python-line",  # pip cannot install Python: the install fails
         {"requirements.txt": "numpy\npython==3.8\n"},
         want=(Want(UNRECOGNIZED, "requirements.txt", 2, 1, Severity.ERROR),
               Want("invalid-requirement", "requirements.txt", 2, 1)),
         forbid=(UNPINNED,)),
    Case("requirements-python-range-with-runtime",
         {"requirements.txt": "Python >= 3.9\n", "runtime.txt": "python-3.11\n"},
         want=(Want(UNRECOGNIZED, "requirements.txt", 1, 1),)),
    Case("pipfile-range", {"Pipfile": "[packages]\nnumpy = '*'\n\n[requires]\n"
                                      "python_version = \">=3.9\"\n"},
         want=(Want(UNRECOGNIZED, "Pipfile", 5, 19),), forbid=(UNPINNED,)),
    Case("pipfile-star", {"Pipfile": "[packages]\n[requires]\npython_version = \"3.9.*\"\n"},
         forbid=(UNRECOGNIZED, UNPINNED)),
    Case("pipfile-full-version", {"Pipfile": "[requires]\npython_full_version = '3.11.4'\n"},
         forbid=(UNRECOGNIZED, UNPINNED)),
    Case("requirements-python-dateutil", {"requirements.txt": "python-dateutil\npython_jose\n",
                                          "runtime.txt": "python-3.11\n"},
         forbid=(UNRECOGNIZED,)),
    Case("exact-pin", {E: deps("python=3.11")}, forbid=(UNRECOGNIZED, UNPINNED)),
    Case("double-equals", {E: deps("python==3.11")}, forbid=(UNRECOGNIZED, UNPINNED)),
    Case("patch-star", {E: deps("python=3.10.*")}, forbid=(UNRECOGNIZED, UNPINNED)),
    Case("spaces-around-equals", {E: deps("python = 3.11")}, forbid=(UNRECOGNIZED, UNPINNED)),
    Case("patch-version", {E: deps("python=3.11.4")}, forbid=(UNRECOGNIZED, UNPINNED)),
    Case("export-build-string-pins-python", {E: deps("python=3.9.7=h12debd9_1")},
         forbid=(UNRECOGNIZED, UNPINNED)),
    Case(
        "range-then-pin",  # repo2docker reads the pin (its first match): nothing to say
        {E: deps("python>=3.9", "python=3.11")},
        forbid=(UNRECOGNIZED, UNPINNED),
    ),
    Case("python-dateutil-is-not-python", {E: deps("python=3.11", "python-dateutil>=2")},
         forbid=(UNRECOGNIZED,)),
    Case("python-app-is-not-python", {E: deps("python=3.11", "python.app")},
         forbid=(UNRECOGNIZED,)),
    Case("pythonnet-is-not-python", {E: deps("python=3.11", "pythonnet")},
         forbid=(UNRECOGNIZED,)),
    # --- python-version-unpinned ----------------------------------------------------------
    Case("no-python-at-all", {E: "name: x\ndependencies:\n  - numpy\n"},
         want=(Want(UNPINNED, E, 2, 1, Severity.WARNING),), forbid=(UNRECOGNIZED,)),
    Case("bare-python", {E: deps("numpy", "python")}, want=(Want(UNPINNED, E, 3, 5),),
         forbid=(UNRECOGNIZED,)),
    Case("major-only", {E: deps("python=3")}, want=(Want(UNPINNED, E, 2, 5),),
         forbid=(UNRECOGNIZED,)),
    Case("binder-environment", {"binder/environment.yml": deps("numpy")},
         want=(Want(UNPINNED, "binder/environment.yml", 1),)),
    Case("requirements-without-runtime", {"requirements.txt": "numpy\n"},
         want=(Want(UNPINNED, "requirements.txt", 1, 1),)),
    Case("pipfile-without-requires", {"Pipfile": "[packages]\nnumpy = '*'\n"},
         want=(Want(UNPINNED, "Pipfile", 1),)),
    Case("runtime-major-only", {"requirements.txt": "numpy\n", "runtime.txt": "python-3\n"},
         want=(Want(UNPINNED, "runtime.txt", 1),), forbid=("invalid-runtime-txt",)),
    Case("requirements-with-runtime", {"requirements.txt": "numpy\n",
                                       "runtime.txt": "python-3.12\n"}, forbid=(UNPINNED,)),
    Case("pipfile-with-requires", {"Pipfile": "[packages]\nnumpy = '*'\n"
                                   "[requires]\npython_version = '3.11'\n"}, forbid=(UNPINNED,)),
    Case(
        "pyproject-requires-python",
        {"pyproject.toml": "[project]\nname = 'x'\nversion = '1'\nrequires-python = '>=3.11'\n"
                           "[build-system]\nrequires = ['setuptools']\n"},
        forbid=(UNPINNED,),
    ),
    Case("pinned", {E: deps("python=3.12", "numpy")}, forbid=(UNPINNED,)),
    Case("dockerfile", {"Dockerfile": "FROM scratch\n"}, forbid=(UNPINNED,)),
    # --- conda-export-build-strings -------------------------------------------------------
    Case(
        "conda-env-export",
        {E: "name: x\nchannels:\n  - defaults\ndependencies:\n  - _libgcc_mutex=0.1=main\n"
            "  - numpy=1.21.2=py39h20f2e39_0\n  - python=3.9.7=h12debd9_1\n"},
        want=(Want(BUILDS, E, 5, 5, Severity.WARNING), Want(BUILDS, E, 6, 5),
              Want(BUILDS, E, 7, 5)),
    ),
    Case("build-with-channel-prefix",
         {E: deps("python=3.11", "conda-forge::zlib=1.2.13=hd590300_5")},
         want=(Want(BUILDS, E, 3, 5),)),
    Case("build-number-only", {E: deps("python=3.11", "libgfortran=3.0.0=1")},
         want=(Want(BUILDS, E, 3, 5),)),
    Case("version-only", {E: deps("python=3.11", "numpy=1.26")}, forbid=(BUILDS,)),
    Case("wildcard-build", {E: deps("python=3.11", "numpy=1.26=*", "scipy=1.11.*=py311*")},
         forbid=(BUILDS,)),
    Case("double-equals-not-build", {E: deps("python=3.11", "numpy==1.26")}, forbid=(BUILDS,)),
    Case("range-not-build", {E: deps("python=3.11", "numpy>=1.2,<2")}, forbid=(BUILDS,)),
    Case("pip-entries-not-checked",
         {E: deps("python=3.11", "pip", "pip:") + "    - pkg==1.0\n"}, forbid=(BUILDS,)),
    # --- platform-specific-package --------------------------------------------------------
    Case(
        "macos-and-windows-from-export",
        {E: deps("python=3.11", "appnope=0.1.2", "pywin32", "python.app", "m2w64-toolchain",
                 "clang_osx-64", "vs2015_runtime")},
        want=(Want(PLATFORM, E, 3, 5, Severity.ERROR), Want(PLATFORM, E, 4, 5),
              Want(PLATFORM, E, 5, 5), Want(PLATFORM, E, 6, 5), Want(PLATFORM, E, 7, 5),
              Want(PLATFORM, E, 8, 5)),
    ),
    Case("pyobjc-framework", {E: deps("python=3.11", "pyobjc-framework-cocoa")},
         want=(Want(PLATFORM, E, 3, 5),)),
    Case("pywinpty-under-pip", {E: deps("python=3.11", "pip", "pip:") + "    - pywinpty\n"},
         want=(Want(PLATFORM, E, 5, 7),)),
    Case("pywin32-under-pip", {E: deps("python=3.11", "pip", "pip:") + "    - pywin32==306\n"},
         want=(Want(PLATFORM, E, 5, 7),)),
    Case("pip-portable-appnope", {E: deps("python=3.11", "pip", "pip:") + "    - appnope\n"},
         forbid=(PLATFORM,)),
    Case(
        "pip-marker-skips-windows",
        {E: deps("python=3.11", "pip", "pip:") + "    - pywin32; sys_platform == 'win32'\n"
                                                 "    - pywinpty ; platform_system=='Windows'\n"},
        forbid=(PLATFORM,),
    ),
    Case("linux-packages", {E: deps("python=3.11", "libcxx", "llvm-openmp", "clang", "gcc")},
         forbid=(PLATFORM,)),
    Case("similar-names", {E: deps("python=3.11", "pywinauto-docs", "vcrpy", "m2r2")},
         forbid=(PLATFORM,)),
    # --- pip-without-pip ------------------------------------------------------------------
    Case("pip-section-without-pip", {E: deps("python=3.11", "pip:") + "    - requests\n"},
         want=(Want(PIP, E, 3, 5, Severity.WARNING),)),
    Case("pip-section-first", {E: "dependencies:\n  - pip:\n    - requests\n  - python=3.11\n"},
         want=(Want(PIP, E, 2, 5),)),
    Case("pip-only-under-pip", {E: deps("python=3.11", "pip:") + "    - pip\n"},
         want=(Want(PIP, E, 3, 5),)),
    Case("pip-listed", {E: deps("python=3.11", "pip", "pip:") + "    - requests\n"},
         forbid=(PIP,)),
    Case("pip-pinned", {E: deps("python=3.11", "pip>=23", "pip:") + "    - requests\n"},
         forbid=(PIP,)),
    Case("pip-with-channel", {E: deps("python=3.11", "conda-forge::pip", "pip:") + "    - x\n"},
         forbid=(PIP,)),
    Case("no-pip-section", {E: deps("python=3.11", "numpy")}, forbid=(PIP,)),
    # --- malformed-dependencies -----------------------------------------------------------
    Case("dependencies-a-string", {E: "dependencies: numpy pandas\n"},
         want=(Want(MALFORMED, E, 1, 15, Severity.ERROR),)),
    Case("dependencies-a-mapping", {E: "dependencies:\n  numpy: 1.26\n  pandas: 2\n"},
         want=(Want(MALFORMED, E, 2, 3),)),
    Case("dependency-name-colon-version", {E: deps("python=3.11", "numpy: 1.26")},
         want=(Want(MALFORMED, E, 3, 5),)),
    Case("dependency-a-number", {E: deps("python=3.11", "3.9")},
         want=(Want(MALFORMED, E, 3, 5),)),
    Case("dependency-nested-list", {E: deps("python=3.11", "- numpy")},
         want=(Want(MALFORMED, E, 3, 5),)),
    Case("dependency-empty-entry", {E: "dependencies:\n  - python=3.11\n  -\n  - numpy\n"},
         want=(Want(MALFORMED, E, 3),)),
    Case("pip-a-string", {E: deps("python=3.11", "pip", "pip: requests")},
         want=(Want(MALFORMED, E, 4, 10),)),
    Case("pip-entry-with-a-package-key",
         {E: "dependencies:\n  - pip\n  - pip:\n      - requests\n    numpy: 1\n"},
         want=(Want(MALFORMED, E, 3, 5),)),
    Case("pip-list-entries-not-strings",
         {E: deps("python=3.11", "pip", "pip:") + "    - requests: 2\n    - 5\n    - ok\n"},
         want=(Want(MALFORMED, E, 5, 7), Want(MALFORMED, E, 6, 7))),
    Case("tagged-and-date-entries", {E: deps("python=3.11", "!!str numpy", "2024-01-01")},
         want=(Want(MALFORMED, E, 3, 5), Want(MALFORMED, E, 4, 5))),
    Case("malformed-in-binder-folder", {"binder/environment.yml": "dependencies: numpy\n"},
         want=(Want(MALFORMED, "binder/environment.yml", 1, 15),)),
    Case("well-formed", {E: deps("python=3.11", "'numpy>=1.26'", "pip", "pip:")
                         + "    - requests\n"}, forbid=(MALFORMED,)),
    Case("well-formed-flow-style", {E: "dependencies: [python=3.11, numpy, {pip: [x]}]\n"},
         forbid=(MALFORMED,)),
    Case("no-dependencies-key", {E: "name: demo\nchannels: [conda-forge]\n"},
         forbid=(MALFORMED,)),
    Case("malformed-but-dockerfile-wins",
         {E: "dependencies: numpy\n", "Dockerfile": "FROM scratch\n"}, forbid=(MALFORMED,)),
]


@pytest.mark.parametrize("case", params(CASES))
def test_environment_rule(tmp_path: Path, case: Case) -> None:
    run_case(tmp_path / "repo", case)


def test_unrecognized_names_the_python_used(tmp_path: Path) -> None:
    """The message says which Python repo2docker builds instead (its default)."""
    from repo2docker.buildpacks.conda import CondaBuildPack

    findings = run_case(tmp_path / "repo", Case("x", {E: deps("python>=3.9")},
                                                want=(Want(UNRECOGNIZED, E, 2, 5),)))
    (finding,) = [f for f in findings if f.name == UNRECOGNIZED]
    assert f"Python {CondaBuildPack.major_pythons['3']}" in finding.message


def test_unpinned_names_the_default(tmp_path: Path) -> None:
    from repo2docker.buildpacks.conda import CondaBuildPack

    findings = run_case(tmp_path / "repo", Case("x", {E: deps("numpy")},
                                                want=(Want(UNPINNED, E, 1),)))
    (finding,) = [f for f in findings if f.name == UNPINNED]
    assert f"Python {CondaBuildPack.major_pythons['3']}" in finding.message


@pytest.mark.parametrize(
    ("files", "hinted"),
    [
        ({"binder/environment.yml": "../ci/environment.yml\n",
          "ci/environment.yml": "dependencies:\n  - python=3.11\n"}, True),
        ({"binder/environment.yml": "../ci/environment.yml\n"}, False),
        ({"environment.yml": "numpy\n", "numpy": "x\n"}, False),  # a word, not a path
    ],
    ids=["target-exists", "no-target", "plain-word"],
)
def test_environment_symlink_checked_out_as_a_file(
    tmp_path: Path, files: dict[str, str], hinted: bool
) -> None:
    findings = [f for f in check_files(tmp_path / "repo", files)
                if f.name == "environment-yml-not-mapping"]
    assert len(findings) == 1
    assert ("a symlink checked out as a plain file (core.symlinks=false)?"
            in findings[0].message) is hinted


@pytest.mark.parametrize(
    ("text", "fix"),
    [
        (deps("python=3.11", "numpy: 1.26"), "'- numpy=1.26'"),
        (deps("python=3.11", "\"numpy: '>=1.2'\""), None),  # a quoted string: well-formed
        ("dependencies:\n  - python=3.11\n  - numpy: '>=1.2'\n", "'- numpy>=1.2'"),
        ("dependencies: numpy pandas\n", "'  - numpy'"),
        (deps("python: 3.10"), "'- python=3.10'"),  # the parsed float would say 3.1
        (deps("bokeh: 1.0e3  # pinned"), "'- bokeh=1.0e3'"),
        ("dependencies:\n  - a: 1\n    b: 2\n", "'- a=1', '- b=2'"),
        (deps("pandas: [1, 2]"), "'- pandas=<version>'"),
    ],
    ids=["name-version", "quoted-string", "operator-kept", "string-list", "as-written",
         "comment-dropped", "two-packages", "no-version-to-copy"],
)
def test_malformed_dependency_fix_names_the_spec(tmp_path: Path, text: str,
                                                 fix: str | None) -> None:
    """The fix spells the entry as conda reads it, from what the author wrote."""
    findings = [f for f in check_files(tmp_path / "repo", {E: text}) if f.name == MALFORMED]
    if fix is None:
        assert findings == []
        return
    (finding,) = findings
    assert finding.fix is not None and fix in finding.fix


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("{\nname: env\rname: env\n", 2, 15),  # hypothesis' case: a lone \r mid-file
        ("'\r", 1, 3),  # an unterminated quote, the error at the end of the stream
        ("a: 1\u2028b: [\n", 1, 7),  # YAML 1.2: U+2028 is not a line break
        ("dependencies:\r\n  - numpy\r\n  - [\r\n", 4, 1),
    ],
    ids=["lone-cr", "cr-at-end", "line-separator-is-no-break", "crlf"],
)
def test_yaml_errors_point_at_lines_as_editors_count_them(
    tmp_path: Path, text: str, line: int, column: int,
) -> None:
    """ruamel starts a new line at a lone \\r; findings count lines at \\n only (as git
    and editors do), so the place is translated."""
    (finding,) = [f for f in check_files(tmp_path / "repo", {E: text}) if f.name == INVALID]
    assert (finding.line, finding.column) == (line, column)
    lines = text.split("\n")
    assert finding.line <= len(lines) and finding.column <= len(lines[finding.line - 1]) + 1


def test_dependency_places_are_translated_too(tmp_path: Path) -> None:
    text = "name: x\rdependencies:\r  - python=3.11\r  - numpy: 1.2\r"
    (finding,) = [f for f in check_files(tmp_path / "repo", {E: text}) if f.name == MALFORMED]
    assert finding.line == 1  # one line for git: no \n in the file
    assert text[finding.column - 1:].startswith("numpy: 1.2")
