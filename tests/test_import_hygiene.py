"""The core (and the headless CLI) must not import Textual or Rich.

Checked in a fresh interpreter, so modules other tests imported do not hide a leak.
"""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("textual", "rich")

CORE = [
    "r2d_tui.core.workspace",
    "r2d_tui.core.render",
    "r2d_tui.core.detection",
    "r2d_tui.core.checks",
]
OPTIONAL_CORE = [
    "r2d_tui.core.build",
    "r2d_tui.core.progress",
    "r2d_tui.core.watch",
    "r2d_tui.core.run",
    "r2d_tui.core.verify",
]


def all_core_modules() -> list[str]:
    """Every module under r2d_tui/core, found on disk (new ones are covered automatically)."""
    names = ["r2d_tui.core"]
    for info in pkgutil.walk_packages([str(ROOT / "r2d_tui" / "core")], "r2d_tui.core."):
        names.append(info.name)
    return sorted(names)


def imported_after(modules: list[str]) -> dict[str, list[str]]:
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps({{p: sorted(m for m in sys.modules if m == p or m.startswith(p + '.'))"
        f" for p in {list(FORBIDDEN)!r}}}))\n"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def assert_clean(modules: list[str]) -> None:
    leaked = imported_after(modules)
    assert leaked == {name: [] for name in FORBIDDEN}, f"{modules} imported {leaked}"


def test_core_modules_do_not_import_textual_or_rich() -> None:
    present = [m for m in OPTIONAL_CORE if (ROOT / Path(*m.split("."))).with_suffix(".py").exists()]
    assert_clean(CORE + present)


@pytest.mark.parametrize("module", all_core_modules())
def test_each_core_module_alone(module: str) -> None:
    assert_clean([module])


def test_core_stays_clean_after_rendering(tmp_path: Path) -> None:
    """Running a render, detection and checks (lazy imports included) pulls in neither."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "requirements.txt").write_text("numpy\n")
    (repo / "postBuild").write_text("#!/bin/bash\n[ -f /.dockerenv ] && echo hi\n")
    code = (
        "import json, sys\n"
        "from r2d_tui.core.workspace import Workspace\n"
        "from r2d_tui.core.checks import run_checks\n"
        f"findings = run_checks(Workspace({str(repo)!r}))\n"
        "assert any(f.name == 'dockerenv-reliance' for f in findings), findings\n"
        f"roots = {list(FORBIDDEN)!r}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in roots)))\n"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["R2D_TUI_CACHE_DIR"] = str(tmp_path / "cache")
    env["TMPDIR"] = str(tmp_path)  # the render overlay
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


@pytest.mark.skipif(
    not (ROOT / "r2d_tui" / "cli.py").exists(), reason="r2d_tui/cli.py not written yet"
)
def test_cli_does_not_import_textual_or_rich() -> None:
    assert_clean(["r2d_tui.cli"])


def test_run_and_test_commands_do_not_import_textual_or_rich() -> None:
    """``r2d-tui run`` / ``r2d-tui test`` and everything they import at start-up."""
    assert_clean(["r2d_tui.runcli", "r2d_tui.core.run", "r2d_tui.core.verify", "docker"])


def test_the_check_can_fail() -> None:
    """Guard against a vacuous test: importing Textual itself is detected."""
    pytest.importorskip("textual")
    assert imported_after(["textual"])["textual"]
