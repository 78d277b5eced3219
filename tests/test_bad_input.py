"""Bad input never gives a traceback or a hang: a finding or a one-line message naming
the file, and every command still finishes (issue #7's bad-input suite, CLI level)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

R2D = str(Path(sys.executable).parent / "r2d-tui")


def _fifo(repo: Path) -> None:
    os.mkfifo(repo / "requirements.txt")


def _binary_env(repo: Path) -> None:
    (repo / "environment.yml").write_bytes(b"dependencies:\n  - \xff\xfe numpy\n")


def _utf16_env(repo: Path) -> None:
    (repo / "environment.yml").write_bytes("dependencies:\n  - numpy\n".encode("utf-16"))


def _dir_env(repo: Path) -> None:
    (repo / "environment.yml").mkdir()


def _huge_requirements(repo: Path) -> None:
    (repo / "requirements.txt").write_text("numpy\n" * 2_000_000)


def _symlink_loop(repo: Path) -> None:
    os.symlink("environment.yml", repo / "environment.yml")


def _yaml_bomb(repo: Path) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i, name in enumerate("bcdefghij"):
        prev = "abcdefghij"[i]
        lines.append(f"{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]")
    lines.append("dependencies:\n  - python=3.11\n  - numpy")
    (repo / "environment.yml").write_text("\n".join(lines) + "\n")


def _invalid_yaml(repo: Path) -> None:
    (repo / "environment.yml").write_text("dependencies:\n  - numpy\n - pip:\n    - x\n")


def _both_binder(repo: Path) -> None:
    (repo / "binder").mkdir()
    (repo / ".binder").mkdir()


CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "fifo": (_fifo, "requirements.txt"),
    "binary": (_binary_env, "environment.yml"),
    "utf16": (_utf16_env, "environment.yml"),
    "directory": (_dir_env, "environment.yml"),
    "huge": (_huge_requirements, "requirements.txt"),
    "symlink-loop": (_symlink_loop, ""),
    "yaml-bomb": (_yaml_bomb, ""),
    "invalid-yaml": (_invalid_yaml, "environment.yml"),
    "both-binder-dirs": (_both_binder, "binder"),
}


def _broken_pyproject(repo: Path) -> None:
    (repo / "requirements.txt").write_text("numpy\n")
    (repo / "pyproject.toml").write_text('[project\nname = "x"\n')


def _binary_requirements(repo: Path) -> None:
    (repo / "requirements.txt").write_bytes(b"numpy\x00\x01\x02")


def _fifo_settings(repo: Path) -> None:
    (repo / "requirements.txt").write_text("numpy\n")
    os.mkfifo(repo / ".r2d-tui.toml")


CASES.update({
    "broken-pyproject": (_broken_pyproject, "pyproject.toml"),
    "binary-requirements": (_binary_requirements, "requirements.txt"),
    "fifo-settings": (_fifo_settings, ""),
})


def _huge_environment_yml(repo: Path) -> None:
    """50 MB: the render refuses it by size, in bounded time (no 50 MB YAML parse)."""
    with open(repo / "environment.yml", "w", encoding="utf-8") as handle:
        handle.write("dependencies:\n")
        handle.write("  - numpy\n" * 5_000_000)


def _utf16_without_bom(repo: Path) -> None:
    (repo / "requirements.txt").write_bytes("numpy\npandas\n".encode("utf-16-le"))


def _fifo_environment_yml(repo: Path) -> None:
    os.mkfifo(repo / "environment.yml")  # opened for reading, it would block forever


def _device_environment_yml(repo: Path) -> None:
    os.symlink("/dev/zero", repo / "environment.yml")  # read to the end, it never ends


def _dir_loop(repo: Path) -> None:
    (repo / "requirements.txt").write_text("numpy\n")
    os.symlink(".", repo / "binder")  # binder/binder/binder/...


def _non_ascii_names(repo: Path) -> None:
    (repo / "binder").mkdir()
    (repo / "binder" / "requirements.txt").write_text("numpy  # données\n")
    (repo / "binder" / "postBuild").write_text("#!/bin/sh\ncp \"données é.csv\" /tmp/\n")
    (repo / "données é.csv").write_text("a,b\n")
    (repo / os.fsdecode(b"undecodable-\xff\xfe.txt")).write_text("not UTF-8 in its name\n")


CASES.update({
    "huge-environment-yml": (_huge_environment_yml, "environment.yml"),
    "utf16-without-bom": (_utf16_without_bom, "requirements.txt"),
    "fifo-environment-yml": (_fifo_environment_yml, "environment.yml"),
    "device-environment-yml": (_device_environment_yml, "environment.yml"),
    "binder-symlink-loop": (_dir_loop, ""),
    "non-ascii-names": (_non_ascii_names, ""),
})


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("command", ["dockerfile", "detect", "check"])
def test_bad_repository_gives_a_message_not_a_traceback(
    tmp_path: Path, case: str, command: str
) -> None:
    make, named = CASES[case]
    repo = tmp_path / "répo ü"  # non-ASCII and a space in the path, too
    repo.mkdir()
    make(repo)
    env = {**os.environ, "R2D_TUI_CACHE_DIR": str(tmp_path / "cache")}
    result = subprocess.run([R2D, command, str(repo)], capture_output=True, text=True,
                            timeout=60, env=env, check=False)
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert result.returncode in (0, 1, 2)
    if named and result.returncode != 0:
        assert named in output


@pytest.mark.parametrize("command", [["check"], ["detect"], ["dockerfile"], []])
@pytest.mark.parametrize("path", ["does-not-exist", "a-file", "ñon-ascii-missing"])
def test_bad_repository_path(tmp_path: Path, path: str, command: list[str]) -> None:
    """Also the TUI (no command): it says so on stderr instead of starting."""
    (tmp_path / "a-file").write_text("x")
    result = subprocess.run([R2D, *command, str(tmp_path / path)], capture_output=True,
                            text=True, timeout=60, check=False, stdin=subprocess.DEVNULL)
    assert result.returncode == 2
    assert result.stderr.startswith("r2d-tui: error: ")
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_fifo_postbuild_still_renders_like_repo2docker(tmp_path: Path) -> None:
    """repo2docker only checks that postBuild exists while rendering: so must we."""
    repo = tmp_path / "r"
    repo.mkdir()
    (repo / "requirements.txt").write_text("numpy\n")
    os.mkfifo(repo / "postBuild")
    ours = subprocess.run([R2D, "dockerfile", "r"], cwd=tmp_path, capture_output=True,
                          timeout=60, check=False)
    theirs = subprocess.run([str(Path(R2D).parent / "repo2docker"), "--no-build", "r"],
                            cwd=tmp_path, capture_output=True, timeout=60, check=False)
    assert ours.returncode == theirs.returncode == 0
    assert ours.stdout == theirs.stdout


def test_marker_lookalikes_are_not_dockerenv_tests(tmp_path: Path) -> None:
    from r2d_tui.core.checks import run_checks
    from r2d_tui.core.workspace import Workspace

    repo = tmp_path / "r"
    repo.mkdir()
    (repo / "requirements.txt").write_text("numpy\n")
    (repo / "postBuild").write_text(
        "#!/bin/bash\n# section\x0c\nsource $HOME/.dockerenv\n"
        "[ -f ./.dockerenv ] && . ./.dockerenv\n"
        "ls /.dockerenv-config\nif [ -f /.dockerenv ]; then echo real_line6; fi\n"
    )
    found = [(f.line, f.column) for f in run_checks(Workspace(repo))
             if f.name == "dockerenv-reliance"]
    assert found == [(6, 9)]


# --- unreadable files ----------------------------------------------------------------------

#: root reads every file whatever its mode: drop the two capabilities that allow that, so
#: a mode-000 file is unreadable to the command as it is to any other user.
WITHOUT_READ_OVERRIDE = (
    ["setpriv", "--bounding-set=-dac_override,-dac_read_search",
     "--inh-caps=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []
)


def _unreadable(repo: Path, rel: str) -> None:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if rel.endswith("environment.yml"):
        path.write_text("dependencies:\n  - numpy\n")
    else:
        path.write_text("numpy\n")
    path.chmod(0)


@pytest.mark.skipif(os.geteuid() == 0 and shutil.which("setpriv") is None,
                    reason="as root, needs setpriv to drop CAP_DAC_OVERRIDE")
@pytest.mark.parametrize("rel", ["requirements.txt", "environment.yml",
                                 "binder/requirements.txt"])
@pytest.mark.parametrize("command", ["dockerfile", "detect", "check"])
def test_unreadable_file_is_named_not_a_traceback(
    tmp_path: Path, rel: str, command: str
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _unreadable(repo, rel)
    # the command must be able to reach the repository and its own cache
    for folder in (tmp_path, repo, *(p for p in repo.rglob("*") if p.is_dir())):
        folder.chmod(0o755)
    result = subprocess.run(
        [*WITHOUT_READ_OVERRIDE, R2D, command, str(repo)], capture_output=True, text=True,
        timeout=60, check=False, env={**os.environ, "R2D_TUI_CACHE_DIR": str(tmp_path / "c")},
    )
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert result.returncode in (1, 2), output
    assert f"{rel} cannot be read (permission denied)" in output


@pytest.mark.parametrize(("target", "why"), [("environment.yml", "a loop"),
                                             ("gone/environment.yml", "its target is missing")])
def test_a_config_link_that_cannot_be_followed_is_a_finding(
    tmp_path: Path, target: str, why: str
) -> None:
    """repo2docker silently treats such a file as absent; r2d-tui says so."""
    repo = tmp_path / "repo"
    (repo / "binder").mkdir(parents=True)
    (repo / "binder" / "requirements.txt").write_text("numpy\n")
    os.symlink(target, repo / "binder" / "environment.yml")
    result = subprocess.run([R2D, "check", str(repo)], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 1
    assert (f"binder/environment.yml:1:1: R2D109 [config-link-broken] binder/environment.yml "
            f"is a symbolic link that cannot be followed ({why})") in result.stdout
