"""Project settings (``.r2d-tui.toml``, ``[tool.r2d-tui]``) and ``# r2d-tui: ignore`` comments.

Settings are tested through the real ``r2d-tui check`` command on small repositories, so
precedence (``.r2d-tui.toml`` over pyproject.toml, flags over both) is what users get;
suppressions are tested on real findings in each kind of file that takes ``#`` comments.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from check_support import (
    BROKEN_ENVIRONMENT,
    DOCKERENV_LINE,
    DOCKERENV_POSTBUILD,
    clean_repo,
    dockerenv_repo,
    findings_of,
    make_repo,
    names,
)

from r2d_tui.cli import main
from r2d_tui.core.checks import find_rule
from r2d_tui.core.config import (
    ConfigError,
    PerFileIgnore,
    Settings,
    apply_per_file_ignores,
    apply_suppressions,
    glob_regex,
    is_rule_key,
    load_settings,
    suppressed_rules,
)
from r2d_tui.core.findings import Finding, Severity
from r2d_tui.core.workspace import Workspace

DOCKERENV = "dockerenv-reliance"
UNPINNED = "python-version-unpinned"


@pytest.fixture(autouse=True)
def _overlays_under_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Render overlays (``tempfile.mkdtemp``) of unclosed workspaces go under tmp_path."""
    folder = tmp_path / "tempfiles"
    folder.mkdir(exist_ok=True)
    monkeypatch.setattr(tempfile, "tempdir", str(folder))


def code_of(name: str) -> str:
    found = find_rule(name)
    assert found is not None, name
    return found.code


def check(root: Path, *flags: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    """Run ``r2d-tui check --format json``: the exit status and the names found."""
    import json

    status = main(["check", str(root), "--format", "json", *flags])
    out = capsys.readouterr().out
    return status, sorted(finding["name"] for finding in json.loads(out)) if out else []


# -- loading ------------------------------------------------------------------------------


def test_no_settings_file_gives_defaults(tmp_path: Path) -> None:
    root = clean_repo(tmp_path / "repo")
    assert load_settings(root) == Settings()
    assert load_settings(root).fail_threshold is Severity.WARNING
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    assert load_settings(root) == Settings()


def test_pyproject_table(tmp_path: Path) -> None:
    root = clean_repo(tmp_path / "repo")
    (root / "pyproject.toml").write_text(
        '[project]\nname = "demo"\n\n'
        "[tool.r2d-tui]\n"
        'select = ["migration", "R2D201"]\n'
        'ignore = ["python-version-unpinned"]\n'
        'fail-on = "error"\n'
        '[tool.r2d-tui.per-file-ignores]\n'
        '"binder/*" = ["dockerenv-reliance"]\n'
    )
    settings = load_settings(root)
    assert settings == Settings(
        select=("migration", "R2D201"),
        ignore=("python-version-unpinned",),
        fail_on=Severity.ERROR,
        per_file_ignores=(PerFileIgnore("binder/*", ("dockerenv-reliance",)),),
        source="pyproject.toml",
    )


def test_own_file_wins_over_pyproject(tmp_path: Path) -> None:
    root = clean_repo(tmp_path / "repo")
    (root / "pyproject.toml").write_text('[tool.r2d-tui]\nignore = ["R2D401"]\nfail-on = "info"\n')
    (root / ".r2d-tui.toml").write_text('ignore = ["python-version-unpinned"]\n')
    settings = load_settings(root)
    assert settings.source == ".r2d-tui.toml"
    assert settings.ignore == ("python-version-unpinned",)
    assert settings.fail_on is None  # the pyproject table is not read at all


def test_unsaved_buffer_of_the_settings_file_counts(tmp_path: Path) -> None:
    root = clean_repo(tmp_path / "repo")
    (root / ".r2d-tui.toml").write_text('fail-on = "error"\n')
    workspace = Workspace(root)
    workspace.set_text(".r2d-tui.toml", 'fail-on = "info"\n')
    assert load_settings(workspace).fail_on is Severity.INFO
    assert load_settings(root).fail_on is Severity.ERROR


BAD_SETTINGS = [
    (".r2d-tui.toml", 'selekt = ["R2D401"]\n', ".r2d-tui.toml: selekt: unknown key"),
    (".r2d-tui.toml", 'fail_on = "error"\n', "did you mean 'fail-on'?"),
    (".r2d-tui.toml", 'fail-on = "fatal"\n',
     ".r2d-tui.toml: fail-on: expected one of 'error', 'warning', 'info', got the string 'fatal'"),
    (".r2d-tui.toml", "fail-on = 1\n", ".r2d-tui.toml: fail-on: expected one of"),
    (".r2d-tui.toml", 'select = "R2D401"\n',
     ".r2d-tui.toml: select: expected a list of rule names or codes, got the string 'R2D401'"),
    (".r2d-tui.toml", "ignore = [401]\n",
     ".r2d-tui.toml: ignore: expected rule names or codes, got the number 401"),
    (".r2d-tui.toml", 'ignore = ["no-such-rule"]\n',
     ".r2d-tui.toml: ignore: unknown rule 'no-such-rule'"),
    (".r2d-tui.toml", 'per-file-ignores = ["R2D401"]\n',
     ".r2d-tui.toml: per-file-ignores: expected a table"),
    (".r2d-tui.toml", '[per-file-ignores]\n"binder/*" = ["nope"]\n',
     ".r2d-tui.toml: per-file-ignores.\"binder/*\": unknown rule 'nope'"),
    (".r2d-tui.toml", '[per-file-ignores]\npostBuild = "R2D401"\n',
     ".r2d-tui.toml: per-file-ignores.postBuild: expected a list"),
    (".r2d-tui.toml", "select = [\n", ".r2d-tui.toml: invalid TOML: "),
    ("pyproject.toml", '[tool.r2d-tui]\nfail-on = "never"\n',
     "pyproject.toml: tool.r2d-tui.fail-on: expected one of"),
    ("pyproject.toml", '[tool.r2d-tui]\nselect = ["R2D999"]\n',
     "pyproject.toml: tool.r2d-tui.select: unknown rule 'R2D999'"),
    ("pyproject.toml", '[tool]\nr2d-tui = "strict"\n',
     "pyproject.toml: tool.r2d-tui: expected a table, got the string 'strict'"),
]


@pytest.mark.parametrize(("file", "text", "message"), BAD_SETTINGS)
def test_bad_settings_name_the_file_and_key(
    file: str, text: str, message: str, tmp_path: Path
) -> None:
    root = clean_repo(tmp_path / "repo")
    (root / file).write_text(text)
    with pytest.raises(ConfigError) as error:
        load_settings(root)
    assert message in str(error.value)
    assert str(error.value).startswith(f"{file}: ")


def test_bad_settings_stop_the_cli_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = dockerenv_repo(tmp_path / "repo")
    (root / ".r2d-tui.toml").write_text('fail-on = "fatal"\n')
    assert main(["check", str(root)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("r2d-tui: error: .r2d-tui.toml: fail-on: expected one of")


@pytest.mark.parametrize(
    "content", [b"[project\nname = 'x'\n", b"[tool.r2d-tui]\nignore = [\xff]\n"],
    ids=["invalid-toml", "not-utf-8"],
)
def test_unparseable_pyproject_is_skipped_with_a_note(tmp_path: Path, content: bytes) -> None:
    """pyproject.toml is the project's file: the checks report it, the settings skip it."""
    root = clean_repo(tmp_path / "repo")
    (root / "pyproject.toml").write_bytes(content)
    settings = load_settings(root)
    assert settings.source is None and settings.ignore == ()
    assert len(settings.notes) == 1 and settings.notes[0].startswith("pyproject.toml: ")
    assert "[tool.r2d-tui] settings are not read" in settings.notes[0]


def test_own_settings_file_still_wins_over_a_broken_pyproject(tmp_path: Path) -> None:
    root = clean_repo(tmp_path / "repo")
    (root / "pyproject.toml").write_text("[project\n")
    (root / ".r2d-tui.toml").write_text('fail-on = "error"\n')
    settings = load_settings(root)
    assert settings.fail_on is Severity.ERROR and settings.notes == ()


@pytest.mark.parametrize(
    ("files", "found"),
    [
        # repo2docker parses the root pyproject.toml (Python buildpack, no binder folder)
        ({"requirements.txt": "numpy\n", "runtime.txt": "python-3.12\n"}, "render-failed"),
        # with a binder folder it does not: r2d-tui reports the file itself
        ({"binder/requirements.txt": "numpy\n", "binder/runtime.txt": "python-3.12\n"},
         "invalid-pyproject-toml"),
    ],
)
def test_broken_pyproject_is_reported_not_fatal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str], found: str
) -> None:
    import json

    root = make_repo(tmp_path / "repo", {**files, "pyproject.toml": "[project\nname = 'x'\n"})
    status = main(["check", str(root), "--format", "json"])
    out, err = capsys.readouterr()
    reported = json.loads(out)
    assert [(f["name"], f["path"], f["line"], f["column"]) for f in reported] == [
        (found, "pyproject.toml", 1, 9)
    ]
    assert status == 1
    assert err.count("r2d-tui: note: pyproject.toml: invalid TOML") == 1
    assert "Traceback" not in err


def test_settings_file_that_is_not_text(tmp_path: Path) -> None:
    root = clean_repo(tmp_path / "repo")
    (root / ".r2d-tui.toml").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError, match=r"^\.r2d-tui\.toml: "):
        load_settings(root)


def test_rule_keys() -> None:
    assert is_rule_key(DOCKERENV)
    assert is_rule_key(code_of(DOCKERENV))
    assert is_rule_key(code_of(DOCKERENV).lower())
    assert is_rule_key("migration")
    assert is_rule_key("Dockerenv-Reliance")
    assert not is_rule_key("no-such-rule")


# -- precedence through the CLI -------------------------------------------------------------


def test_without_settings_both_rules_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = dockerenv_repo(tmp_path / "repo")
    assert check(root, capsys=capsys) == (1, [DOCKERENV, UNPINNED])


def test_settings_ignore_and_cli_ignore_replaces_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = dockerenv_repo(tmp_path / "repo")
    (root / "pyproject.toml").write_text(f'[tool.r2d-tui]\nignore = ["{UNPINNED}"]\n')
    assert check(root, capsys=capsys) == (1, [DOCKERENV])
    assert check(root, "--ignore", code_of(DOCKERENV), capsys=capsys) == (1, [UNPINNED])


def test_settings_select_and_cli_select_replaces_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = dockerenv_repo(tmp_path / "repo")
    (root / ".r2d-tui.toml").write_text('select = ["migration"]\n')
    assert check(root, capsys=capsys) == (1, [DOCKERENV])
    assert check(root, "--select", UNPINNED, capsys=capsys) == (1, [UNPINNED])


def test_settings_fail_on_and_cli_fail_on_overrides_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = dockerenv_repo(tmp_path / "repo")  # the warning alone: python-version-unpinned
    (root / ".r2d-tui.toml").write_text(f'fail-on = "error"\nselect = ["{UNPINNED}"]\n')
    assert check(root, capsys=capsys) == (0, [UNPINNED])
    assert check(root, "--fail-on", "warning", capsys=capsys) == (1, [UNPINNED])
    (root / ".r2d-tui.toml").write_text(f'select = ["{UNPINNED}"]\n')
    assert check(root, capsys=capsys) == (1, [UNPINNED])  # default: warning


def test_own_file_wins_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = dockerenv_repo(tmp_path / "repo")
    (root / "pyproject.toml").write_text(f'[tool.r2d-tui]\nignore = ["{DOCKERENV}"]\n')
    (root / ".r2d-tui.toml").write_text(f'ignore = ["{UNPINNED}"]\n')
    assert check(root, capsys=capsys) == (1, [DOCKERENV])


def test_per_file_ignores(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = dockerenv_repo(tmp_path / "repo")
    settings = root / ".r2d-tui.toml"
    settings.write_text(f'[per-file-ignores]\n"postBuild" = ["{code_of(DOCKERENV)}"]\n')
    assert check(root, capsys=capsys) == (1, [UNPINNED])
    settings.write_text(f'[per-file-ignores]\n"binder/*" = ["{DOCKERENV}"]\n')
    assert check(root, capsys=capsys) == (1, [DOCKERENV, UNPINNED])  # other folder
    settings.write_text(f'[per-file-ignores]\n"*.txt" = ["{UNPINNED}"]\n')
    assert check(root, capsys=capsys) == (1, [DOCKERENV])
    # the CLI's --select does not undo a per-file ignore
    assert check(root, "--select", UNPINNED, capsys=capsys) == (0, [])


def test_per_file_ignores_apply_to_the_whole_category(tmp_path: Path) -> None:
    root = dockerenv_repo(tmp_path / "repo")
    findings = findings_of(root)
    settings = Settings(per_file_ignores=(PerFileIgnore("**/postBuild", ("migration",)),))
    assert names(apply_per_file_ignores(findings, settings)) == [UNPINNED]


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("postBuild", "postBuild", True),
        ("postBuild", "binder/postBuild", True),  # no slash: the file name anywhere
        ("binder/postBuild", "postBuild", False),
        ("binder/*", "binder/postBuild", True),
        ("binder/*", "binder/scripts/setup.sh", False),  # * stays in one folder
        ("binder/**", "binder/scripts/setup.sh", True),
        ("binder/", "binder/scripts/setup.sh", True),
        ("**/setup.sh", "setup.sh", True),
        ("**/setup.sh", "binder/scripts/setup.sh", True),
        ("./binder/apt.txt", "binder/apt.txt", True),
        ("*.txt", "binder/apt.txt", True),
        ("binder/*.txt", "apt.txt", False),
        ("binder/requirements?.txt", "binder/requirements2.txt", True),
        ("[ab]pt.txt", "apt.txt", True),
        ("[!ab]pt.txt", "apt.txt", False),
        ("a.txt", "abtxt", False),  # the dot is literal
    ],
)
def test_globs(pattern: str, path: str, matches: bool) -> None:
    assert PerFileIgnore(pattern, ()).matches_path(path) is matches, glob_regex(pattern).pattern


# -- inline suppressions ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("echo hi", None),
        ("if [ -f /.dockerenv ]; then  # r2d-tui: ignore", frozenset()),
        ("# r2d-tui: ignore[dockerenv-reliance]", frozenset({"dockerenv-reliance"})),
        ("x #r2d-tui:ignore[ R2D401 , python-version-unpinned ]",
         frozenset({"r2d401", "python-version-unpinned"})),
        ("x  # R2D-TUI: IGNORE[Dockerenv-Reliance]", frozenset({"dockerenv-reliance"})),
        ("x # some comment; r2d-tui: ignore", None),  # the directive must start the comment
        ("x # r2d-tui: ignore-next-line", None),
        ("x # r2d-tui: ignore[]", None),
        ("x # r2d-tui: ignore[unclosed", None),
        ("url#r2d-tui: ignore", None),  # not a comment: no space before '#'
        ("x # r2d-tui: ignore[a] # r2d-tui: ignore[b]", frozenset({"a", "b"})),
    ],
)
def test_suppression_comment_syntax(line: str, expected: frozenset[str] | None) -> None:
    assert suppressed_rules(line) == expected


def suppress_line(text: str, line: int, comment: str) -> str:
    lines = text.split("\n")
    lines[line - 1] += "  " + comment
    return "\n".join(lines)


@pytest.mark.parametrize(
    "comment",
    [
        f"# r2d-tui: ignore[{DOCKERENV}]",
        "# r2d-tui: ignore[R2D401]",
        "# r2d-tui: ignore[r2d401]",
        "# r2d-tui: ignore",
        f"# r2d-tui: ignore[{UNPINNED}, {DOCKERENV}]",
    ],
)
def test_suppression_in_postbuild(comment: str, tmp_path: Path) -> None:
    comment = comment.replace("R2D401", code_of(DOCKERENV)).replace(
        "r2d401", code_of(DOCKERENV).lower()
    )
    root = dockerenv_repo(
        tmp_path / "repo", suppress_line(DOCKERENV_POSTBUILD, DOCKERENV_LINE, comment)
    )
    workspace = Workspace(root)
    findings = findings_of(root)
    assert DOCKERENV in names(findings)  # the comment does not hide it from the rule itself
    assert names(apply_suppressions(findings, workspace)) == [UNPINNED]


@pytest.mark.parametrize(
    "comment",
    [
        f"# r2d-tui: ignore[{UNPINNED}]",  # another rule
        "# r2d-tui: ignore[invalid-yaml]",
        "# r2d-tui: ignore[]",
        "# r2d-tui ignore",  # no colon: not the directive
    ],
)
def test_suppression_of_other_rules_keeps_the_finding(comment: str, tmp_path: Path) -> None:
    root = dockerenv_repo(
        tmp_path / "repo", suppress_line(DOCKERENV_POSTBUILD, DOCKERENV_LINE, comment)
    )
    findings = findings_of(root)
    assert apply_suppressions(findings, Workspace(root)) == findings


def test_suppression_on_another_line_does_nothing(tmp_path: Path) -> None:
    text = suppress_line(DOCKERENV_POSTBUILD, DOCKERENV_LINE + 1, "# r2d-tui: ignore")
    root = dockerenv_repo(tmp_path / "repo", text)
    findings = findings_of(root)
    assert apply_suppressions(findings, Workspace(root)) == findings


def suppressed_in(root: Path, rel: str, name: str) -> list[Finding]:
    """Check ``root``, add ``# r2d-tui: ignore[name]`` on the line of ``name``'s finding in
    ``rel``, and return what is left after suppression (the finding must be gone)."""
    findings = findings_of(root)
    target = [f for f in findings if f.name == name and f.path == rel]
    assert target, (name, rel, findings)
    path = root / rel
    path.write_text(suppress_line(path.read_text(), target[0].line, f"# r2d-tui: ignore[{name}]"))
    again = findings_of(root)
    assert [(f.name, f.path, f.line) for f in again if f.name == name] == [
        (f.name, f.path, f.line) for f in target
    ], "the comment changed what the rule reports"
    left = apply_suppressions(again, Workspace(root))
    assert name not in names(left)
    return left


def test_suppression_in_environment_yml(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {"environment.yml": BROKEN_ENVIRONMENT})
    suppressed_in(root, "environment.yml", "invalid-yaml")


def test_suppression_in_requirements_txt(tmp_path: Path) -> None:
    root = make_repo(
        tmp_path / "repo",
        {"requirements.txt": "numpy\nnot a requirement ===\n", "runtime.txt": "python-3.12\n"},
    )
    assert suppressed_in(root, "requirements.txt", "invalid-requirement") == []


def test_suppression_in_apt_txt(tmp_path: Path) -> None:
    root = make_repo(
        tmp_path / "repo",
        {"apt.txt": "curl\nbad line!\n", "requirements.txt": "numpy\n",
         "runtime.txt": "python-3.12\n"},
    )
    assert suppressed_in(root, "apt.txt", "apt-txt-invalid-line") == []


def test_suppression_in_dockerfile(tmp_path: Path) -> None:
    root = make_repo(
        tmp_path / "repo",
        {"Dockerfile": "FROM busybox\nRUN test -f /.dockerenv && echo classic\n"},
    )
    suppressed_in(root, "Dockerfile", DOCKERENV)


def test_suppression_reads_unsaved_buffers_once_per_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = dockerenv_repo(tmp_path / "repo")
    findings = findings_of(root)
    workspace = Workspace(root)
    workspace.set_text(
        "postBuild",
        suppress_line(DOCKERENV_POSTBUILD, DOCKERENV_LINE, f"# r2d-tui: ignore[{DOCKERENV}]"),
    )
    reads: list[str] = []
    original = workspace.text

    def counting_text(rel: str) -> str | None:
        reads.append(rel)
        return original(rel)

    monkeypatch.setattr(workspace, "text", counting_text)
    doubled = findings + [f for f in findings if f.name == DOCKERENV]
    assert names(apply_suppressions(doubled, workspace)) == [UNPINNED]
    assert sorted(reads) == ["postBuild", "requirements.txt"]


def test_findings_without_a_readable_line_are_kept(tmp_path: Path) -> None:
    root = clean_repo(tmp_path / "repo")
    odd = [
        Finding("R2D001", "render-failed", Severity.ERROR, ".", 1, 1, "whole repository"),
        Finding("R2D311", "apt-txt-invalid-line", Severity.ERROR, "missing.txt", 1, 1, "gone"),
        Finding("R2D341", "invalid-requirement", Severity.ERROR, "requirements.txt", 99, 1, "x"),
    ]
    assert apply_suppressions(odd, Workspace(root)) == odd


def test_cli_applies_suppressions_and_says_how_many(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = suppress_line(DOCKERENV_POSTBUILD, DOCKERENV_LINE, "# r2d-tui: ignore")
    root = dockerenv_repo(tmp_path / "repo", text)
    assert main(["check", str(root), "--select", DOCKERENV]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "r2d-tui: 0 findings (0 errors, 0 warnings, 0 infos); 1 suppressed\n"


def test_the_readme_example_is_valid(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    root = clean_repo(tmp_path / "repo")
    (root / ".r2d-tui.toml").write_text(example)
    settings = load_settings(root)
    assert settings.fail_on is Severity.ERROR
    assert len(settings.per_file_ignores) == 2
