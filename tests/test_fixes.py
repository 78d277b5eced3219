"""Machine fixes: each fixer, YAML preservation over the corpus, byte-level saves, the CLI.

Most tests build their findings by hand (:func:`finding`), so a fixer is tested on exactly
the lines it is pointed at; the integration tests run the real checks, so the fixers stay
in step with the rules' names and line numbers.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import corpus
import pytest
from ruamel.yaml import YAML

from r2d_tui.core.checks import run_checks
from r2d_tui.core.findings import Finding, Severity
from r2d_tui.core.fixes import (
    FIXERS,
    FileFix,
    FileText,
    apply_fixes,
    apt_packages,
    conda_dependencies,
    fix_description,
    fix_file,
    fixable,
    plan_fixes,
    python_pin,
    replace_dependencies,
    strip_build_string,
)
from r2d_tui.core.workspace import TextFormat, Workspace, decode, encode

CORPUS = corpus.corpus_root()
LF = TextFormat()
CRLF = TextFormat(newline="\r\n")


def finding(name: str, path: str, line: int = 1, column: int = 1) -> Finding:
    return Finding(
        code="R2D999", name=name, severity=Severity.WARNING, path=path, line=line,
        column=column, message="test",
    )


def fix_text(text: str, name: str, lines: list[int], path: str = "environment.yml",
             fmt: TextFormat = LF) -> FileText:
    result, _names = fix_file(
        FileText(path, text, fmt), [finding(name, path, line) for line in lines]
    )
    return result


def write(path: Path, data: bytes, mode: int = 0o644) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)
    return path


# -- the registry ---------------------------------------------------------------------------------


def test_registry_names() -> None:
    assert set(FIXERS) == {
        "postbuild-crlf", "start-crlf", "utf8-bom", "conda-export-build-strings",
        "python-version-unrecognized", "apt-txt-invalid-line", "dockerenv-reliance",
    }
    assert fixable(finding("postbuild-crlf", "postBuild"))
    assert not fixable(finding("invalid-yaml", "environment.yml"))
    assert fix_description(finding("utf8-bom", "apt.txt")) == (
        "save as UTF-8 without byte-order mark"
    )
    assert fix_description(finding("invalid-yaml", "environment.yml")) is None


def test_findings_of_other_files_and_names_are_ignored() -> None:
    file = FileText("environment.yml", "dependencies:\n  - numpy=1=py_0\n", LF)
    others = [
        finding("conda-export-build-strings", "binder/environment.yml", 2),
        finding("dockerenv-reliance", "environment.yml", 2),
    ]
    assert fix_file(file, others) == (file, ())


# -- line endings and byte-order marks ------------------------------------------------------------


def test_crlf_file_becomes_lf() -> None:
    text, fmt = decode(b"#!/bin/bash\r\necho hi\r\n")
    result = fix_text(text, "postbuild-crlf", [1], "postBuild", fmt)
    assert encode(result.text, result.format) == b"#!/bin/bash\necho hi\n"


def test_mixed_endings_with_lf_majority_lose_their_stray_cr() -> None:
    data = b"#!/bin/bash\r\necho a\necho b\necho c\n"
    text, fmt = decode(data)
    assert fmt.newline == "\n" and "\r" in text  # decoded as LF, the \r stays in the text
    result = fix_text(text, "start-crlf", [1], "start", fmt)
    assert encode(result.text, result.format) == b"#!/bin/bash\necho a\necho b\necho c\n"


def test_mixed_endings_with_crlf_majority_become_lf() -> None:
    text, fmt = decode(b"a\r\nb\r\nc\n")
    assert fmt.newline == "\r\n"
    result = fix_text(text, "postbuild-crlf", [1], "postBuild", fmt)
    assert encode(result.text, result.format) == b"a\nb\nc\n"


def test_crlf_fix_keeps_a_carriage_return_inside_a_line_and_drops_one_at_the_end() -> None:
    result = fix_text("printf 'a\rb'\r\necho\r", "postbuild-crlf", [1], "postBuild")
    assert result.text == "printf 'a\rb'\necho"


def test_bom_is_dropped() -> None:
    text, fmt = decode(codecs.BOM_UTF8 + b"python-3.12\n")
    result = fix_text(text, "utf8-bom", [1], "runtime.txt", fmt)
    assert encode(result.text, result.format) == b"python-3.12\n"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_become_utf8_keeping_line_endings(codec: str) -> None:
    original = "vim\r\ngit ✓\r\n"
    data = original.encode(codec)
    if codec == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    text, fmt = decode(data)
    assert fmt.encoding != "utf-8"
    result = fix_text(text, "utf8-bom", [1], "apt.txt", fmt)
    assert result.format == TextFormat("utf-8", b"", "\r\n")
    assert encode(result.text, result.format) == original.encode("utf-8")


def test_a_second_bom_left_in_the_text_goes_too() -> None:
    text, fmt = decode(codecs.BOM_UTF8 * 2 + b"numpy\n")
    result = fix_text(text, "utf8-bom", [1], "requirements.txt", fmt)
    assert encode(result.text, result.format) == b"numpy\n"


def test_format_fixes_do_nothing_on_a_clean_file() -> None:
    file = FileText("postBuild", "#!/bin/bash\n", LF)
    findings = [finding("postbuild-crlf", "postBuild"), finding("utf8-bom", "postBuild")]
    assert fix_file(file, findings) == (file, ())


# -- environment.yml: build strings ---------------------------------------------------------------

ENV = """\
name: demo   # the name
channels:
  - conda-forge
dependencies:
  - numpy=1.21.2=py39h20f2e39_0   # numerics
  - "scipy=1.7.1=py39hee8e79c_0"
  - 'pandas=1.3.3=py39h51133e4_0'
  - conda-forge::xarray=0.19.0=pyhd8ed1ab_1
  - matplotlib
  - pip
  - pip:
    - somepkg=1=2
    - requests==2.26.0
"""


def test_build_strings_are_stripped_in_place() -> None:
    result = fix_text(ENV, "conda-export-build-strings", [5, 6, 7, 8])
    assert result.text == ENV.replace("=py39h20f2e39_0", "").replace(
        "=py39hee8e79c_0", ""
    ).replace("=py39h51133e4_0", "").replace("=pyhd8ed1ab_1", "")
    assert "    - somepkg=1=2\n" in result.text  # pip section untouched


def test_only_the_findings_lines_are_edited() -> None:
    result = fix_text(ENV, "conda-export-build-strings", [6])
    assert result.text == ENV.replace("=py39hee8e79c_0", "")


def test_a_pip_line_is_never_edited_even_when_pointed_at() -> None:
    file = FileText("environment.yml", ENV, LF)
    assert fix_file(file, [finding("conda-export-build-strings", "environment.yml", 12)]) == (
        file, ()
    )


def test_build_strings_in_a_flow_sequence() -> None:
    text = "dependencies: [numpy=1.2=py_0, \"scipy=1.7=py_1\" , matplotlib]  # flow\n"
    result = fix_text(text, "conda-export-build-strings", [1])
    assert result.text == "dependencies: [numpy=1.2, \"scipy=1.7\" , matplotlib]  # flow\n"


def test_yaml_that_cannot_be_edited_in_place_is_left_alone() -> None:
    texts = [
        "dependencies:\n  - \"numpy=1.2=py\\x5f0\"\n",  # an escape: not verbatim in the text
        "x: &n numpy=1.2=py_0\ndependencies:\n  - *n\n",  # an alias
        "dependencies:\n  - numpy=1.2\n    =py_0\n",  # a multi-line plain scalar
        "dependencies: [numpy=1.2=py_0\n",  # not YAML
        "- numpy=1.2=py_0\n",  # not a mapping
    ]
    for text in texts:
        lines = list(range(1, text.count("\n") + 1))
        assert fix_text(text, "conda-export-build-strings", lines).text == text, text


def test_replace_dependencies_refuses_an_edit_that_changes_the_document() -> None:
    text = "dependencies:\n  - numpy\n"
    parsed = conda_dependencies(text)
    assert parsed is not None
    _data, scalars = parsed
    assert replace_dependencies(text, {scalars[0]: "numpy: 1"}) is None
    assert replace_dependencies(text, {scalars[0]: "numpy=1"}) == "dependencies:\n  - numpy=1\n"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("numpy=1.21.2=py39h20f2e39_0", "numpy=1.21.2"),
        ("conda-forge::numpy=1.2=py_0", "conda-forge::numpy=1.2"),
        ("_libgcc_mutex=0.1=conda_forge", "_libgcc_mutex=0.1"),
        ("numpy=1.21.2", None),
        ("numpy==1.2", None),
        ("numpy>=1.2=py_0", None),
        ("numpy", None),
    ],
)
def test_strip_build_string(spec: str, expected: str | None) -> None:
    assert strip_build_string(spec) == expected


# -- environment.yml: the Python pin --------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("python>=3.10", "python=3.10"),
        ("python>=3.10,<3.13", "python=3.10"),
        ("python >= 3.10 , < 3.13", "python=3.10"),
        ("python>=3.10.4", "python=3.10"),
        ("python~=3.10", "python=3.10"),
        ("python=>3.10", "python=3.10"),
        ("python 3.11", "python=3.11"),
        ("python 3.11.*", "python=3.11"),
        ("python 3.11.4", "python=3.11.4"),
        ("python3.12", "python=3.12"),
        ("conda-forge::python>=3.9", "conda-forge::python=3.9"),
        ("python>3.9", None),
        ("python<3.12", None),
        ("python<=3.12", None),
        ("python>=3.8|>=3.10", None),
        ("python>=3.8,>=3.10", None),
        ("python>=3", None),
        ("python3", None),
        ("python", None),
        ("python=3.10", None),
        ("python==3.10", None),
        ("python 3.11 *_cpython", None),
        ("python_abi=3.9", None),
        ("python-dateutil>=2.8", None),
        ("ipython>=7", None),
    ],
)
def test_python_pin(spec: str, expected: str | None) -> None:
    assert python_pin(spec) == expected


def test_python_pin_keeps_quotes_and_comments() -> None:
    text = 'dependencies:\n  - "python>=3.10,<3.13"   # keep me\n  - numpy\n'
    result = fix_text(text, "python-version-unrecognized", [2])
    assert result.text == 'dependencies:\n  - "python=3.10"   # keep me\n  - numpy\n'


def test_python_without_a_single_version_is_not_fixed() -> None:
    text = "dependencies:\n  - python>3.9\n"
    assert fix_text(text, "python-version-unrecognized", [2]).text == text


# -- apt.txt --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("sudo apt-get install -y --no-install-recommends vim git", ["vim", "git"]),
        ("apt install vim", ["vim"]),
        ("aptitude install -y htop", ["htop"]),
        ("apt-get -y install vim", ["vim"]),
        ("/usr/bin/apt-get install -y vim", ["vim"]),
        ("apt-get update && apt-get install -y vim", ["vim"]),
        ("apt-get update; apt-get install -qq vim=2:8.2.3995-1", ["vim=2:8.2.3995-1"]),
        ("DEBIAN_FRONTEND=noninteractive sudo -E apt-get install -y tzdata", ["tzdata"]),
        ("apt-get install -y -o Dpkg::Options::=--force-confnew -t jammy-backports vim",
         ["vim"]),
        ("apt-get install -y libc6:i386", ["libc6:i386"]),
        ("apt-get update", []),
        ("vim git", ["vim", "git"]),
        ("apt-get upgrade -y", None),
        ("apt-get install -y $PACKAGES", None),
        ("apt-get install", None),
        ("curl -sL https://example.org/setup | bash", None),
        ("install vim", None),
        ("add-apt-repository ppa:x/y", None),
        ("apt-key add key.asc", None),
        ("Vim", None),
    ],
)
def test_apt_packages(line: str, expected: list[str] | None) -> None:
    assert apt_packages(line) == expected


def test_apt_command_line_becomes_package_lines() -> None:
    text = "# tools\ncurl\nsudo apt-get install -y --no-install-recommends vim git  # eds\nzip\n"
    result = fix_text(text, "apt-txt-invalid-line", [3], "apt.txt")
    assert result.text == "# tools\ncurl\nvim  # eds\ngit\nzip\n"


def test_apt_continuation_lines_and_duplicates() -> None:
    text = "git\napt-get install -y \\\n    vim \\\n    git\nzip\n"
    result = fix_text(text, "apt-txt-invalid-line", [2, 3, 4], "apt.txt")
    assert result.text == "git\nvim\nzip\n"


def test_apt_housekeeping_line_is_removed_and_other_findings_stay() -> None:
    text = "apt-get update\nvim\ncurl https://x | sh\n"
    result = fix_text(text, "apt-txt-invalid-line", [1, 3], "apt.txt")
    assert result.text == "vim\ncurl https://x | sh\n"


def test_apt_line_with_a_bom_in_the_text() -> None:
    text = "\ufeffapt-get install -y vim\n"
    result = fix_text(text, "apt-txt-invalid-line", [1], "apt.txt")
    assert result.text == "vim\n"


# -- idempotence ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "data", "name", "lines"),
    [
        ("postBuild", b"#!/bin/bash\r\necho hi\r\n", "postbuild-crlf", [1]),
        ("apt.txt", codecs.BOM_UTF8 + b"vim\n", "utf8-bom", [1]),
        ("environment.yml", ENV.encode(), "conda-export-build-strings", [5, 6, 7, 8]),
        ("environment.yml", b"dependencies:\n  - python>=3.10\n",
         "python-version-unrecognized", [2]),
        ("apt.txt", b"apt-get install -y vim git\n", "apt-txt-invalid-line", [1]),
    ],
)
def test_fixing_twice_changes_nothing(path: str, data: bytes, name: str, lines: list[int]) -> None:
    text, fmt = decode(data)
    findings = [finding(name, path, line) for line in lines]
    once, names = fix_file(FileText(path, text, fmt), findings)
    assert names == (name,)
    twice, again = fix_file(once, findings)
    assert (twice, again) == (once, ())


# -- through the workspace: byte-level results after save -----------------------------------------


def test_apply_fixes_saves_bytes_and_keeps_the_mode(tmp_path: Path) -> None:
    write(tmp_path / "postBuild", b"#!/bin/bash\r\necho hi\r\n", 0o755)
    write(tmp_path / "apt.txt", codecs.BOM_UTF8 + b"sudo apt-get install -y vim git\r\n")
    write(tmp_path / "runtime.txt", "python-3.12\r\n".encode("utf-16"))
    workspace = Workspace(tmp_path)
    findings = [
        finding("postbuild-crlf", "postBuild"),
        finding("utf8-bom", "apt.txt"),
        finding("apt-txt-invalid-line", "apt.txt"),
        finding("utf8-bom", "runtime.txt"),
    ]
    plan = plan_fixes(workspace, findings)
    assert [fix.path for fix in plan] == ["apt.txt", "postBuild", "runtime.txt"]
    assert plan[0].names == ("utf8-bom", "apt-txt-invalid-line")
    assert (tmp_path / "postBuild").read_bytes() == b"#!/bin/bash\r\necho hi\r\n"  # planned only
    assert apply_fixes(workspace, plan) == ["apt.txt", "postBuild", "runtime.txt"]
    assert (tmp_path / "postBuild").read_bytes() == b"#!/bin/bash\necho hi\n"
    assert (tmp_path / "postBuild").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "apt.txt").read_bytes() == b"vim\r\ngit\r\n"  # the BOM fix keeps CRLF
    assert (tmp_path / "runtime.txt").read_bytes() == b"python-3.12\r\n"
    assert workspace.dirty_paths() == []
    assert plan_fixes(Workspace(tmp_path), findings) == []  # nothing left to do


def test_apply_fixes_without_saving_leaves_dirty_buffers(tmp_path: Path) -> None:
    write(tmp_path / "start", b"#!/bin/bash\r\nexec \"$@\"\r\n", 0o755)
    workspace = Workspace(tmp_path)
    plan = plan_fixes(workspace, [finding("start-crlf", "start")])
    assert apply_fixes(workspace, plan, save=False) == ["start"]
    # only the format changed, and that is an unsaved change too
    assert workspace.dirty_paths() == ["start"]
    assert workspace.override_bytes() == {"start": b"#!/bin/bash\nexec \"$@\"\n"}
    assert (tmp_path / "start").read_bytes() == b"#!/bin/bash\r\nexec \"$@\"\r\n"
    workspace.save("start")
    assert workspace.dirty_paths() == []
    assert (tmp_path / "start").read_bytes() == b"#!/bin/bash\nexec \"$@\"\n"


def test_set_format_back_to_the_disk_format_is_clean(tmp_path: Path) -> None:
    write(tmp_path / "start", b"#!/bin/bash\r\n")
    workspace = Workspace(tmp_path)
    workspace.set_format("start", LF)
    assert workspace.is_dirty("start")
    workspace.set_format("start", CRLF)
    assert not workspace.is_dirty("start")
    workspace.set_format("start", LF)
    workspace.revert("start")
    assert not workspace.is_dirty("start")
    assert workspace.open("start").format == CRLF


def test_a_stale_fix_is_skipped(tmp_path: Path) -> None:
    write(tmp_path / "environment.yml", b"dependencies:\n  - numpy=1=py_0\n")
    workspace = Workspace(tmp_path)
    plan = plan_fixes(workspace, [finding("conda-export-build-strings", "environment.yml", 2)])
    assert len(plan) == 1
    workspace.set_text("environment.yml", "dependencies:\n  - numpy=1=py_0\n  - scipy\n")
    assert apply_fixes(workspace, plan) == []
    assert (tmp_path / "environment.yml").read_bytes() == b"dependencies:\n  - numpy=1=py_0\n"


def test_unsaved_edits_are_what_gets_fixed(tmp_path: Path) -> None:
    write(tmp_path / "environment.yml", b"dependencies:\n  - numpy\n")
    workspace = Workspace(tmp_path)
    workspace.set_text("environment.yml", "dependencies:\n  - numpy=1=py_0\n")
    plan = plan_fixes(workspace, [finding("conda-export-build-strings", "environment.yml", 2)])
    assert [fix.new_text for fix in plan] == ["dependencies:\n  - numpy=1\n"]


def test_files_that_are_not_text_are_not_planned(tmp_path: Path) -> None:
    write(tmp_path / "apt.txt", b"\x00\x01binary")
    workspace = Workspace(tmp_path)
    assert plan_fixes(workspace, [finding("apt-txt-invalid-line", "apt.txt")]) == []
    assert plan_fixes(workspace, [finding("postbuild-crlf", "postBuild")]) == []  # absent


# -- the diff -------------------------------------------------------------------------------------


def test_diff_shows_stored_lines() -> None:
    fix = FileFix("binder/postBuild", "a\nb", "a\nb", CRLF, LF, ("postbuild-crlf",))
    assert fix.diff() == (
        "# binder/postBuild: convert line endings to LF [postbuild-crlf] "
        "(UTF-8, CRLF -> UTF-8, LF)\n"
        "--- a/binder/postBuild\n"
        "+++ b/binder/postBuild\n"
        "@@ -1,2 +1,2 @@\n"
        "-a\r\n"
        "+a\n"
        " b\n"
        "\\ No newline at end of file\n"
    )


def test_diff_of_an_encoding_change_has_a_note_and_no_hunk() -> None:
    fix = FileFix("apt.txt", "vim\n", "vim\n", TextFormat("utf-16-le", codecs.BOM_UTF16_LE),
                  LF, ("utf8-bom",))
    assert fix.diff().splitlines()[0].endswith("(UTF-16-LE with BOM, LF -> UTF-8, LF)")
    assert "-\ufeffvim\n+vim\n" in fix.diff()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_diff_applies_with_git(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo / "binder" / "postBuild", b"#!/bin/bash\r\necho hi\r\n", 0o755)
    write(repo / "binder" / "environment.yml", ENV.encode())
    write(repo / "binder" / "apt.txt", b"curl\napt-get install -y vim\n")
    findings = [
        finding("postbuild-crlf", "binder/postBuild"),
        finding("conda-export-build-strings", "binder/environment.yml", 5),
        finding("apt-txt-invalid-line", "binder/apt.txt", 2),
    ]
    plan = plan_fixes(Workspace(repo), findings)
    patch = tmp_path / "fix.patch"
    patch.write_bytes("".join(fix.diff() for fix in plan).encode())
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "apply", str(patch)], cwd=repo, check=True)
    assert (repo / "binder" / "postBuild").read_bytes() == b"#!/bin/bash\necho hi\n"
    assert (repo / "binder" / "apt.txt").read_bytes() == b"curl\nvim\n"
    assert (repo / "binder" / "environment.yml").read_text() == ENV.replace(
        "=py39h20f2e39_0", ""
    )


# -- YAML preservation over every environment file of the corpus ----------------------------------

#: ``  - name=version`` in the conda list (plain or quoted, with an optional comment).
VERSIONED = re.compile(
    r"""^(?P<lead>\s*-\s+)(?P<q>["']?)(?P<spec>[A-Za-z0-9_][\w.+-]*(?:::[\w.+-]+)?=\d[^\s="',#\]]*)"""
    r"""(?P=q)(?P<tail>\s*(?:#.*)?)$"""
)
#: ``  - name`` without a version.
BARE = re.compile(
    r"""^(?P<lead>\s*-\s+)(?P<q>["']?)(?P<spec>[A-Za-z0-9_][\w.+-]*)(?P=q)(?P<tail>\s*(?:#.*)?)$"""
)
PYTHON_EQ = re.compile(
    r"""^(?P<head>\s*-\s+["']?)python=(?P<version>\d+\.\d+(?:\.\d+)?)"""
    r"""(?P<tail>["']?\s*(?:#.*)?)$"""
)


def corpus_environment_files() -> list[str]:
    if CORPUS is None:
        return []
    found = [
        *(CORPUS / "repos").glob("*/**/environment*.yml"),
        *(CORPUS / "repos").glob("*/environment*.yml"),
        *(CORPUS / "repos").glob("*/**/environment*.yaml"),
    ]
    return sorted({str(path.relative_to(CORPUS / "repos")) for path in found if path.is_file()})


def conda_list_lines(text: str) -> set[int]:
    """0-based lines of the top-level ``dependencies:`` list's own items (not pip's)."""
    lines = text.split("\n")
    items: set[int] = set()
    inside = False
    key_indent = 0
    indent: str | None = None
    for number, line in enumerate(lines):
        key = re.match(r"^(\s*)dependencies:\s*(#.*)?$", line)
        if key:
            inside, indent, key_indent = True, None, len(key.group(1))
            continue
        if not inside:
            continue
        stripped = line.lstrip()
        if stripped and len(line) - len(stripped) <= key_indent and stripped[0] not in "-#":
            inside = False
            continue
        match = re.match(r"^(\s*)-\s", line)
        if match:
            if indent is None:
                indent = match.group(1)
            if match.group(1) == indent:
                items.add(number)
    return items


def inject(text: str, kind: str) -> tuple[str, str, dict[int, str]]:
    """Break the conda list's lines of ``text`` with plain text edits (no YAML library):
    add build strings (``numpy=1.2`` → ``numpy=1.2=h1a2b3c4_0``, ``numpy`` →
    ``numpy=1.0=h1a2b3c4_0``) or loosen the Python pin (``python=3.9`` → ``python>=3.9``,
    ``python=3.9.7`` → ``python 3.9.7``).

    Returns the broken text, the text the fixes should give, and finding names by line.
    """
    lines = text.split("\n")
    expected = list(lines)
    names: dict[int, str] = {}
    for number in sorted(conda_list_lines(text)):
        line = lines[number]
        python = PYTHON_EQ.match(line)
        if python:
            if kind in ("python", "both"):
                version = python.group("version")
                loose = f"python>={version}" if version.count(".") == 1 else f"python {version}"
                lines[number] = f"{python.group('head')}{loose}{python.group('tail')}"
                names[number + 1] = "python-version-unrecognized"
            continue
        if kind not in ("build", "both"):
            continue
        versioned = VERSIONED.match(line)
        bare = BARE.match(line)
        if versioned:
            spec, fixed = versioned.group("spec"), versioned.group("spec")
            match = versioned
        elif bare and not bare.group("spec").startswith("python"):
            spec, fixed = bare.group("spec"), f"{bare.group('spec')}=1.0"
            match = bare
        else:
            continue
        quote, lead, tail = match.group("q"), match.group("lead"), match.group("tail")
        lines[number] = f"{lead}{quote}{fixed}=h1a2b3c4_0{quote}{tail}"
        expected[number] = f"{lead}{quote}{fixed}{quote}{tail}"
        names[number + 1] = "conda-export-build-strings"
        assert spec
    return "\n".join(lines), "\n".join(expected), names


def safe_load(text: str) -> object:
    return YAML(typ="safe", pure=True).load(text)


@pytest.mark.skipif(CORPUS is None, reason="corpus not found")
def test_the_corpus_has_environment_files() -> None:
    assert len(corpus_environment_files()) >= 20


@pytest.mark.parametrize("kind", ["build", "python", "both"])
@pytest.mark.parametrize("rel", corpus_environment_files())
def test_corpus_yaml_edits_change_only_the_edited_scalars(
    rel: str, kind: str, tmp_path: Path
) -> None:
    assert CORPUS is not None
    original = (CORPUS / "repos" / rel).read_bytes()
    text, fmt = decode(original)
    injected, expected, names = inject(text, kind)
    repo = tmp_path / "repo"
    write(repo / "environment.yml", encode(injected, fmt))
    workspace = Workspace(repo)
    findings = [finding(name, "environment.yml", line) for line, name in names.items()]
    # findings on the lines outside the conda list too: the fixers must leave those alone
    findings += [
        finding(name, "environment.yml", line)
        for line in range(1, injected.count("\n") + 2)
        if line - 1 not in conda_list_lines(injected)
        for name in ("conda-export-build-strings", "python-version-unrecognized")
    ]
    plan = plan_fixes(workspace, findings)
    if not names or conda_dependencies(text) is None:
        assert plan == []  # nothing to fix, or not YAML repo2docker could read either
        return
    assert len(plan) == 1
    fixed = plan[0]
    # every line that was not edited is byte-identical, the edited ones are as expected
    before, after = injected.split("\n"), fixed.new_text.split("\n")
    assert len(before) == len(after)
    for number, (old_line, new_line) in enumerate(zip(before, after, strict=True), start=1):
        if number not in names:
            assert new_line == old_line, number
    assert fixed.new_text == expected
    assert safe_load(fixed.new_text) == safe_load(expected)
    assert apply_fixes(workspace, plan) == ["environment.yml"]
    assert (repo / "environment.yml").read_bytes() == encode(expected, fmt)
    if expected == text:
        assert (repo / "environment.yml").read_bytes() == original


@pytest.mark.parametrize("rel", corpus_environment_files())
def test_corpus_files_as_they_are_need_no_yaml_fix(rel: str, tmp_path: Path) -> None:
    assert CORPUS is not None
    text, fmt = decode((CORPUS / "repos" / rel).read_bytes())
    lines = range(1, text.count("\n") + 2)
    findings = [
        finding(name, "environment.yml", line)
        for line in lines
        for name in ("conda-export-build-strings", "python-version-unrecognized")
    ]
    file = FileText("environment.yml", text, fmt)
    result, _names = fix_file(file, findings)
    # the corpus pins Python as python=X.Y and exports no build strings, except where the
    # fix is a real improvement; either way nothing but the conda list's lines may change
    changed = {
        number
        for number, (a, b) in enumerate(
            zip(text.split("\n"), result.text.split("\n"), strict=True), start=1
        )
        if a != b
    }
    assert changed <= {n + 1 for n in conda_list_lines(text)}


# -- with the real checks -------------------------------------------------------------------------

BROKEN = {
    "binder/environment.yml": (
        b"name: demo  # keep\n"
        b"channels:\n"
        b"  - conda-forge\n"
        b"dependencies:\n"
        b"  - python>=3.10,<3.13   # pin\n"
        b"  - \"numpy=1.21.2=py39h20f2e39_0\"\n"
        b"  - scipy=1.7.1=py39hee8e79c_0\n"
        b"  - pip\n"
        b"  - pip:\n"
        b"    - requests==2.26.0\n"
    ),
    "binder/postBuild": b"#!/bin/bash\r\nset -euo pipefail\r\necho hi\r\n",
    "binder/apt.txt": codecs.BOM_UTF8 + b"sudo apt-get install -y --no-install-recommends vim\n",
}
FIXED_NAMES = {
    "python-version-unrecognized", "conda-export-build-strings", "postbuild-crlf",
    "utf8-bom", "apt-txt-invalid-line",
}


def broken_repo(root: Path) -> Path:
    for rel, data in BROKEN.items():
        write(root / rel, data, 0o755 if rel.endswith("postBuild") else 0o644)
    return root


def test_real_findings_are_fixed(tmp_path: Path) -> None:
    repo = broken_repo(tmp_path / "repo")
    findings = run_checks(Workspace(repo))
    assert {f.name for f in findings} >= FIXED_NAMES
    workspace = Workspace(repo)
    plan = plan_fixes(workspace, findings)
    apply_fixes(workspace, plan)
    after = run_checks(Workspace(repo))
    assert not FIXED_NAMES & {f.name for f in after}, after
    assert plan_fixes(Workspace(repo), findings) == []
    assert (repo / "binder" / "environment.yml").read_text() == (
        BROKEN["binder/environment.yml"].decode()
        .replace("python>=3.10,<3.13", "python=3.10")
        .replace("=py39h20f2e39_0", "")
        .replace("=py39hee8e79c_0", "")
    )
    assert (repo / "binder" / "apt.txt").read_bytes() == b"vim\n"
    assert (repo / "binder" / "postBuild").read_bytes() == (
        b"#!/bin/bash\nset -euo pipefail\necho hi\n"
    )


# -- the CLI --------------------------------------------------------------------------------------


def r2d_tui(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["TMPDIR"] = str(cwd)  # render overlays
    proc = subprocess.run(
        [sys.executable, "-m", "r2d_tui", *args], cwd=cwd, env=env, capture_output=True,
        timeout=300,
    )
    # decoded by hand: text=True would turn the diff's \r\n into \n
    return subprocess.CompletedProcess(
        proc.args, proc.returncode, proc.stdout.decode(), proc.stderr.decode()
    )


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*")) if path.is_file()
    }


def test_cli_diff_prints_the_fixes_and_changes_nothing(tmp_path: Path) -> None:
    repo = broken_repo(tmp_path / "repo")
    before = snapshot(repo)
    proc = r2d_tui("check", "--diff", "repo", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert snapshot(repo) == before
    assert "+++ b/binder/environment.yml\n" in proc.stdout
    assert "-  - python>=3.10,<3.13   # pin\n" in proc.stdout
    assert "+  - python=3.10   # pin\n" in proc.stdout
    assert "-#!/bin/bash\r\n" in proc.stdout
    assert "+vim\n" in proc.stdout
    assert "R2D" not in proc.stdout  # no findings mixed into the diff
    assert "r2d-tui: 5 fixes in 3 files (--fix applies them)" in proc.stderr


def test_cli_fix_applies_and_reports_what_remains(tmp_path: Path) -> None:
    repo = broken_repo(tmp_path / "repo")
    (repo / "binder" / "postBuild").write_bytes(
        b"#!/bin/bash\r\nset -euo pipefail\r\nls /.dockerenv >/dev/null && echo x\r\n"
    )
    proc = r2d_tui("check", "--fix", "repo", cwd=tmp_path)
    assert "r2d-tui: fixed binder/postBuild: convert line endings to LF [postbuild-crlf]" in (
        proc.stderr
    )
    assert "r2d-tui: fixed binder/environment.yml: " in proc.stderr
    assert "r2d-tui: fixed binder/apt.txt: " in proc.stderr
    # what cannot be fixed by machine is still reported, and decides the exit status
    assert "[dockerenv-reliance]" in proc.stdout
    assert not any(f"[{name}]" in proc.stdout for name in FIXED_NAMES), proc.stdout
    assert proc.returncode == 1
    assert (repo / "binder" / "postBuild").stat().st_mode & 0o777 == 0o755
    assert b"\r" not in (repo / "binder" / "postBuild").read_bytes()
    again = r2d_tui("check", "--diff", "repo", cwd=tmp_path)
    assert (again.returncode, again.stdout) == (0, "")


def test_cli_fix_with_json_keeps_stdout_json(tmp_path: Path) -> None:
    broken_repo(tmp_path / "repo")
    proc = r2d_tui("check", "--fix", "--format", "json", "repo", cwd=tmp_path)
    remaining = json.loads(proc.stdout)
    assert not FIXED_NAMES & {item["name"] for item in remaining}
    assert "r2d-tui: fixed " in proc.stderr


def test_cli_fix_respects_select(tmp_path: Path) -> None:
    repo = broken_repo(tmp_path / "repo")
    proc = r2d_tui("check", "--fix", "--select", "postbuild-crlf", "repo", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert b"\r" not in (repo / "binder" / "postBuild").read_bytes()
    assert (repo / "binder" / "apt.txt").read_bytes() == BROKEN["binder/apt.txt"]
    assert (repo / "binder" / "environment.yml").read_bytes() == BROKEN["binder/environment.yml"]


def test_cli_fix_and_diff_are_exclusive(tmp_path: Path) -> None:
    proc = r2d_tui("check", "--fix", "--diff", ".", cwd=tmp_path)
    assert proc.returncode == 2
    assert "not allowed with argument" in proc.stderr


def test_cli_fix_that_cannot_save_stops_with_exit_2(tmp_path: Path) -> None:
    repo = broken_repo(tmp_path / "repo")
    outside = write(tmp_path / "outside" / "postBuild", BROKEN["binder/postBuild"], 0o755)
    (repo / "binder" / "postBuild").unlink()
    (repo / "binder" / "postBuild").symlink_to(outside)
    proc = r2d_tui("check", "--fix", "repo", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "r2d-tui: fixed binder/environment.yml: " in proc.stderr  # before the failure
    assert "binder/postBuild: links outside the repository" in proc.stderr
    assert outside.read_bytes() == BROKEN["binder/postBuild"]


def test_cli_fix_leaves_suppressed_findings_alone(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    env = (
        "dependencies:\n"
        "  - python=3.10\n"
        "  - numpy=1.21.2=py39h20f2e39_0  # r2d-tui: ignore[conda-export-build-strings]\n"
        "  - scipy=1.7.1=py39hee8e79c_0\n"
    )
    write(repo / "environment.yml", env.encode())
    proc = r2d_tui("check", "--fix", "repo", cwd=tmp_path)
    assert (repo / "environment.yml").read_text() == env.replace("=py39hee8e79c_0", "")
    assert "1 suppressed" in proc.stderr
