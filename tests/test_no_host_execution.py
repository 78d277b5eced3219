"""r2d-tui never runs repository code on the host (issue #7, security).

Every file of this repository that something could execute — postBuild, start, setup.py,
install.R, a Makefile, npm scripts, verify, conftest.py, a Julia build script, a notebook
— writes a marker file outside the repository when it runs. The analysing commands
(``check``, ``check --fix``, ``check --diff``, ``detect``, ``dockerfile``) and the TUI
opening, analysing and fixing the repository only read these files: no marker appears.
(Building and running execute them inside a container only.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from app_support import SIZE, main_screen, make_app, settle

R2D = str(Path(sys.executable).parent / "r2d-tui")


def _booby_trapped(root: Path, markers: Path) -> Path:
    m = str(markers)
    sh = f'#!/bin/sh\ntouch "{m}/$(basename "$0")"\nif [ -f /.dockerenv ]; then echo x; fi\n'
    py = f"open({m + '/'!r} + __file__.split('/')[-1], 'w').close()\n"
    files = {
        "binder/postBuild": sh + "make all\nnpm install\npython setup_helper.py\n",
        "binder/start": sh + 'exec "$@"\n',
        "binder/requirements.txt": "numpy\n-e .\n",
        "binder/runtime.txt": "python-3.10\n",
        "setup.py": py + "from setuptools import setup\nsetup(name='trap')\n",
        "setup_helper.py": py,
        "conftest.py": py,
        "install.R": f'file.create("{m}/install.R")\n',
        "Makefile": f"all:\n\ttouch {m}/Makefile\n",
        "package.json": json.dumps({"name": "trap", "scripts": {
            "install": f"touch {m}/npm-install", "postinstall": f"touch {m}/npm-postinstall"}}),
        "verify": sh,
        "deps/build.jl": f'touch("{m}/build.jl")\n',
        "notebook.ipynb": json.dumps({"cells": [{"cell_type": "code", "metadata": {},
            "source": [f"open('{m}/notebook', 'w')"], "outputs": [], "execution_count": None}],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5}),
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for rel in ("binder/postBuild", "binder/start", "verify", "setup.py"):
        (root / rel).chmod(0o755)
    # the shell scripts work when run: the trap is armed
    subprocess.run([str(root / "verify")], check=True)
    assert (markers / "verify").exists()
    (markers / "verify").unlink()
    return root


@pytest.fixture
def trapped(tmp_path: Path) -> tuple[Path, Path]:
    markers = tmp_path / "markers"
    markers.mkdir()
    return _booby_trapped(tmp_path / "repo", markers), markers


@pytest.mark.parametrize("command", [["check"], ["check", "--fix"], ["check", "--diff"],
                                     ["detect", "--json"], ["dockerfile"]])
def test_cli_analysis_runs_no_repository_code(
    trapped: tuple[Path, Path], command: list[str]
) -> None:
    root, markers = trapped
    result = subprocess.run([R2D, *command, str(root)], capture_output=True, text=True,
                            timeout=120, check=False, cwd=root,
                            env={**os.environ, "R2D_TUI_LOOKUP_TIMEOUT": "1"})
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 1), result.stderr
    assert sorted(os.listdir(markers)) == []


async def test_tui_analysis_and_fixes_run_no_repository_code(
    trapped: tuple[Path, Path]
) -> None:
    root, markers = trapped
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        assert screen.analysed and screen.findings  # the /.dockerenv tests were read
        for path in ("binder/postBuild", "setup.py", "Makefile", "package.json"):
            screen.open_file(path)
            await settle(pilot)
        await pilot.press("ctrl+f")
        await settle(pilot)
        screen.workspace.revert("binder/postBuild")
    assert sorted(os.listdir(markers)) == []
