"""Migration checks on JavaScript build-time code: ``node x.js`` from postBuild, npm/yarn
lifecycle scripts (``npm install`` runs preinstall/install/postinstall/prepare, ``npm run x``
runs prex/x/postx), what those scripts run, and the npm ``is-docker`` packages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from migration_support import (
    _overlays_under_tmp_path,  # noqa: F401 - autouse fixture
    check,
    col,
    migration_findings,
    post_build,
)

DOCKERENV = "dockerenv-reliance"
DETECTION = "container-detection-reliance"
RUNTIME = "runtime-container-detection"


def package_json(**scripts: str) -> str:
    return json.dumps({"name": "demo", "version": "1.0.0", "scripts": scripts}, indent=2) + "\n"


def line_of(text: str, needle: str) -> tuple[int, int]:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number, col(line, needle)
    raise AssertionError(needle)


POSITIVES = {
    "exists-sync": "if (fs.existsSync('/.dockerenv')) {",
    "template-literal": "const inDocker = fs.existsSync(`/.dockerenv`);",
    "stat-sync": 'try { fs.statSync("/.dockerenv"); docker = true; } catch (e) {}',
    "access-sync": "fs.accessSync('/.dockerenv');",
    "exec-sync-test": "execSync('test -f /.dockerenv');",
}


@pytest.mark.parametrize("line", POSITIVES.values(), ids=list(POSITIVES))
def test_node_script_positive(tmp_path: Path, line: str) -> None:
    script = "const fs = require('fs');\n" + line + "\n"
    files = {"postBuild": post_build("node scripts/build.js"), "scripts/build.js": script}
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DOCKERENV, "scripts/build.js", 2, col(line))
    ]
    assert findings[0].chain == ("postBuild:3", "scripts/build.js:2")


NEGATIVES = {
    "line-comment": "// fs.existsSync('/.dockerenv')",
    "block-comment": "/* if (fs.existsSync('/.dockerenv')) {} */",
    "console-log": "console.log('/.dockerenv');",
    "message": "const msg = 'BuildKit has no /.dockerenv';",
    "write-file": "fs.writeFileSync('/.dockerenv', '');",
    "unlink": "fs.unlinkSync('/.dockerenv');",
    "env": "if (process.env.REPO_DIR) {}",
}


@pytest.mark.parametrize("line", NEGATIVES.values(), ids=list(NEGATIVES))
def test_node_script_negative(tmp_path: Path, line: str) -> None:
    files = {"postBuild": post_build("node build.mjs"), "build.mjs": line + "\n"}
    assert check(tmp_path, files) == []


@pytest.mark.parametrize("install", ["npm install", "npm ci", "npm i", "yarn", "yarn install",
                                     "pnpm install", "npm install --prefix web"])
def test_postinstall_via_npm_install(tmp_path: Path, install: str) -> None:
    folder = "web/" if "--prefix web" in install else ""
    text = package_json(test="jest", postinstall="node scripts/postinstall.js")
    script = (
        "const fs = require('fs');\nif (fs.existsSync('/.dockerenv')) {\n  process.exit(0);\n}\n"
    )
    files = {
        "postBuild": post_build(install),
        f"{folder}package.json": text,
        f"{folder}scripts/postinstall.js": script,
    }
    findings = migration_findings(tmp_path, files)
    line, _ = line_of(text, '"postinstall"')
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DOCKERENV, f"{folder}scripts/postinstall.js", 2, 20)
    ]
    assert findings[0].chain == (
        "postBuild:3",
        f"{folder}package.json#scripts.postinstall:{line}",
        f"{folder}scripts/postinstall.js:2",
    )


def test_npm_run_runs_the_script_and_its_pre_and_post(tmp_path: Path) -> None:
    text = package_json(
        prebuild="bash scripts/pre.sh", build="webpack", postbuild="bash scripts/post.sh",
        test="bash scripts/test.sh",
    )
    probe = "[ -f /.dockerenv ] || exit 1\n"
    files = {
        "postBuild": post_build("npm run build"),
        "package.json": text,
        "scripts/pre.sh": probe,
        "scripts/post.sh": probe,
        "scripts/test.sh": probe,
    }
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DOCKERENV, "scripts/post.sh", 1, 6),
        (DOCKERENV, "scripts/pre.sh", 1, 6),
        (RUNTIME, "scripts/test.sh", 1, 6),
    ]


def test_is_docker_imported_by_postinstall(tmp_path: Path) -> None:
    """The is-docker package checks /.dockerenv and docker cgroups: false under BuildKit."""
    text = json.dumps({
        "name": "demo",
        "scripts": {"postinstall": "node scripts/postinstall.mjs"},
        "dependencies": {"is-docker": "^3.0.0"},
    }, indent=2)
    script = "import isDocker from 'is-docker';\n\nif (!isDocker()) {\n  process.exit(1);\n}\n"
    files = {"binder/postBuild": post_build("npm ci"), "package.json": text,
             "scripts/postinstall.mjs": script}
    findings = migration_findings(tmp_path, files)
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DETECTION, "scripts/postinstall.mjs", 1, col(script, "is-docker"))
    ]
    line, _ = line_of(text, '"postinstall"')
    assert findings[0].chain == (
        "binder/postBuild:3", f"package.json#scripts.postinstall:{line}",
        "scripts/postinstall.mjs:1",
    )
    assert "is-docker" in findings[0].message


@pytest.mark.parametrize(
    "code",
    ["const isDocker = require('is-docker');",
     "const isInside = require(\"is-inside-container\");",
     "const { default: isDocker } = await import('is-docker');"],
)
def test_is_docker_requires(tmp_path: Path, code: str) -> None:
    files = {"postBuild": post_build("node build.js"), "build.js": code + "\n"}
    needle = "is-inside-container" if "inside" in code else "is-docker"
    assert check(tmp_path, files) == [(DETECTION, "build.js", 1, col(code, needle))]


def test_is_docker_command_in_a_package_json_script(tmp_path: Path) -> None:
    text = package_json(postinstall="is-docker || husky install")
    files = {"postBuild": post_build("npm install"), "package.json": text}
    findings = migration_findings(tmp_path, files)
    line, column = line_of(text, "is-docker")
    assert [(f.name, f.path, f.line, f.column) for f in findings] == [
        (DETECTION, "package.json", line, column)
    ]
    assert findings[0].chain == ("postBuild:3", f"package.json#scripts.postinstall:{line}")


def test_package_json_script_columns_count_json_escapes(tmp_path: Path) -> None:
    text = package_json(postinstall='echo "hi" && [ -f /.dockerenv ] && echo docker')
    files = {"postBuild": post_build("npm install"), "package.json": text}
    line, column = line_of(text, "/.dockerenv")
    assert check(tmp_path, files) == [(DOCKERENV, "package.json", line, column)]


@pytest.mark.parametrize(
    "line",
    ["npm install is-docker", "echo is-docker", "npm run is-docker-check-docs"],
)
def test_is_docker_mentioned_but_not_run(tmp_path: Path, line: str) -> None:
    assert check(tmp_path, {"postBuild": post_build(line)}) == []


def test_lifecycle_script_not_run_by_the_build(tmp_path: Path) -> None:
    """No npm install/run in the build: package.json scripts are not build-time code, and
    package.json itself is not scanned as run-time code."""
    text = package_json(postinstall="[ -f /.dockerenv ] && echo docker")
    files = {"requirements.txt": "numpy\n", "package.json": text}
    assert check(tmp_path, files) == []


def test_is_docker_required_by_inline_node_code(tmp_path: Path) -> None:
    text = package_json(postinstall="node -e \"require('is-docker')() || process.exit(1)\"")
    files = {"postBuild": post_build("npm install"), "package.json": text}
    line, column = line_of(text, "is-docker")
    assert check(tmp_path, files) == [(DETECTION, "package.json", line, column)]


@pytest.mark.parametrize("call", ["npm test", "npm t", "pnpm test", "yarn test"])
def test_npm_test_shorthand(tmp_path: Path, call: str) -> None:
    text = package_json(pretest="node scripts/check.js", test="jest")
    files = {
        "Dockerfile": f"FROM node:20\nWORKDIR /app\nCOPY . .\nRUN {call}\n",
        "package.json": text,
        "scripts/check.js": "if (require('fs').existsSync('/.dockerenv')) {}\n",
    }
    findings = migration_findings(tmp_path, files)
    line, _ = line_of(text, '"pretest"')
    assert [(f.name, f.path, f.line) for f in findings] == [(DOCKERENV, "scripts/check.js", 1)]
    assert findings[0].chain == (
        "Dockerfile:4", f"package.json#scripts.pretest:{line}", "scripts/check.js:1",
    )


def test_empty_lifecycle_script(tmp_path: Path) -> None:
    """An empty script is nothing to run (not the whole package.json read as shell)."""
    text = '{"scripts": {"postinstall": ""}, "x": "[ -f /.dockerenv ]"}'
    files = {"postBuild": post_build("npm install"), "package.json": text}
    assert check(tmp_path, files) == []
