"""The claims the issue-#3 rules make, checked against repo2docker itself.

Each case runs ``repo2docker --no-build`` (the real CLI, no Docker needed) on a small
repository and checks what repo2docker does (its log, its exit status, the Dockerfile it
prints), then checks that ``run_checks`` reports the matching finding. If a repo2docker
upgrade changes the behaviour, the first half fails and the rule needs revisiting.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from rules_support import (  # noqa: F401 - the fixture is autouse
    Want,
    _overlays_under_tmp_path,
    assert_findings,
    check_files,
    repo2docker_cli,
    write_repo,
)

from r2d_tui.core.findings import Severity

CLI = repo2docker_cli()
pytestmark = pytest.mark.skipif(CLI is None, reason="repo2docker CLI not installed")


@dataclass(frozen=True)
class Run:
    returncode: int
    dockerfile: str
    log: str

    @property
    def python(self) -> str | None:
        match = re.search(r"Building conda environment for python=(\S+)", self.log)
        return match.group(1) if match else None

    @property
    def unspecified(self) -> bool:
        return "Python version unspecified" in self.log


def repo2docker(root: Path) -> Run:
    assert CLI is not None
    done = subprocess.run(
        [CLI, "--no-build", str(root)], capture_output=True, text=True, timeout=120
    )
    return Run(done.returncode, done.stdout, done.stderr)


def run_after_copy(run: Run, needle: str) -> bool:
    """Does ``needle`` appear in the Dockerfile after the repository is copied in?"""
    copy = run.dockerfile.find("src/ ${REPO_DIR}/")
    return copy != -1 and run.dockerfile.find(needle, copy) != -1


ENV = "dependencies:\n  - python=3.11\n"


def env(*lines: str) -> dict[str, str]:
    return {"environment.yml": "dependencies:\n" + "".join(f"  - {x}\n" for x in lines)}


Check = Callable[[Run], None]


def ok_default_python(run: Run) -> None:
    assert run.returncode == 0, run.log
    assert run.unspecified and run.python == "3.10", run.log


def ok_python(version: str) -> Check:
    def check(run: Run) -> None:
        assert run.returncode == 0, run.log
        assert run.python == version and not run.unspecified, run.log

    return check


def fails(pattern: str) -> Check:
    def check(run: Run) -> None:
        assert run.returncode != 0
        assert re.search(pattern, run.log), run.log[-2000:]

    return check


def dockerfile_has(pattern: str, present: bool = True) -> Check:
    def check(run: Run) -> None:
        assert run.returncode == 0, run.log
        assert bool(re.search(pattern, run.dockerfile, re.M)) == present, run.dockerfile

    return check


def r_selected(run: Run) -> None:
    """The R buildpack: it renders R_HOME, or (offline) fails asking Posit for a snapshot."""
    if run.returncode == 0:
        assert "R_HOME" in run.dockerfile
    else:
        assert "packagemanager.posit.co" in run.log, run.log[-2000:]


def after_copy(needle: str) -> Check:
    def check(run: Run) -> None:
        assert run.returncode == 0, run.log
        assert run_after_copy(run, needle), run.dockerfile

    return check


CLAIMS: list[tuple[str, dict[str, str | bytes], Check, tuple[Want, ...], tuple[str, ...]]] = [
    # environment.yml: what repo2docker reads as the Python version
    ("range-not-read", env("python >= 3.9"), ok_default_python,
     (Want("python-version-unrecognized", "environment.yml", 2, 5),), ()),
    ("channel-prefix-not-read", env("conda-forge::python=3.11"), ok_default_python,
     (Want("python-version-unrecognized", "environment.yml", 2, 5),), ("python-version-unpinned",)),
    ("capital-p-not-read", env("Python=3.11"), ok_default_python,
     (Want("python-version-unrecognized", "environment.yml", 2, 5),), ()),
    ("pip-python-not-read",
     {"environment.yml": "dependencies:\n  - pip\n  - pip:\n    - python=3.9\n"},
     ok_default_python, (Want("python-version-unrecognized", "environment.yml", 4, 7),),
     ("python-version-unpinned",)),
    ("patch-star-read", env("python=3.10.*"), ok_python("3.10"), (),
     ("python-version-unrecognized", "python-version-unpinned")),
    ("range-then-pin-read", env("python>=3.9", "python=3.11"), ok_python("3.11"), (),
     ("python-version-unrecognized",)),
    ("major-only-is-the-default", env("python=3"), ok_python("3.10"),
     (Want("python-version-unpinned", "environment.yml", 2, 5),), ()),
    ("minor-star-fails", env("python=3.*"), fails(r"3\.\.0 is not valid SemVer"),
     (Want("python-version-unrecognized", "environment.yml", 2, 5),), ("render-failed",)),
    ("no-python-is-the-default", env("numpy"), ok_default_python,
     (Want("python-version-unpinned", "environment.yml", 1),), ()),
    ("duplicate-key-fails", {"environment.yml": "dependencies:\n  - numpy\ndependencies:\n"
                                                "  - python=3.11\n"},
     fails(r"DuplicateKeyError[\s\S]*line 3, column 1"),
     (Want("invalid-yaml", "environment.yml", 3, 1),), ()),
    ("bad-indent-fails-at-the-same-place",
     {"environment.yml": "name: demo\ndependencies:\n  - numpy\n - pip:\n    - requests\n"},
     fails(r"line 4, column 2"), (Want("invalid-yaml", "environment.yml", 4, 2),), ()),
    ("list-fails", {"environment.yml": "- numpy\n"}, fails("should contain a dictionary"),
     (Want("environment-yml-not-mapping", "environment.yml", 1),), ()),
    ("empty-builds-default", {"environment.yml": ""}, ok_default_python,
     (Want("empty-environment-yml", "environment.yml", 1),), ()),
    ("bom-environment-is-read", {"environment.yml": b"\xef\xbb\xbf" + ENV.encode()},
     ok_python("3.11"), (Want("utf8-bom", "environment.yml", 1),), ("invalid-yaml",)),
    ("unsupported-conda-python", env("python=3.15"), fails(r"3\.15 on linux-64 is not supported"),
     (Want("unsupported-python-version", "environment.yml", 2, 12),), ("render-failed",)),
    ("pipfile-range-not-read", {"Pipfile": "[packages]\n[requires]\npython_version = '>=3.9'\n"},
     ok_default_python, (Want("python-version-unrecognized", "Pipfile", 3, 19),),
     ("python-version-unpinned",)),
    ("requirements-python-not-read", {"requirements.txt": "python==3.11\n"}, ok_default_python,
     (Want("python-version-unrecognized", "requirements.txt", 1),), ()),
    # runtime.txt
    ("runtime-space-fails-even-with-env", {"runtime.txt": "python 3.11\n", **env("python=3.11")},
     fails("Invalid runtime.txt: python 3.11"), (Want("invalid-runtime-txt", "runtime.txt", 1),),
     ()),
    ("runtime-patch-fails", {"runtime.txt": "python-3.11.4\n"},
     fails("must always be specified as 'x.y'"), (Want("invalid-runtime-txt", "runtime.txt", 1),),
     ()),
    ("runtime-comment-silently-default", {"runtime.txt": "# py\npython-3.11\n",
                                          "requirements.txt": "numpy\n"},
     ok_default_python, (Want("invalid-runtime-txt", "runtime.txt", 1),), ()),
    ("runtime-capital-r-silently-python", {"runtime.txt": "R-4.3-2024-01-01\n"},
     ok_default_python, (Want("invalid-runtime-txt", "runtime.txt", 1),), ()),
    ("runtime-trailing-comment-fails", {"runtime.txt": "python-3.10 # pinned\n"},
     fails("InvalidVersion"), (Want("invalid-runtime-txt", "runtime.txt", 1),),
     ("render-failed",)),
    ("runtime-bom-silently-default", {"runtime.txt": b"\xef\xbb\xbfpython-3.12\n",
                                      "requirements.txt": "numpy\n"},
     ok_default_python, (Want("utf8-bom", "runtime.txt", 1),), ()),
    ("runtime-major-only-default", {"runtime.txt": "python-3\n"}, ok_default_python,
     (Want("python-version-unpinned", "runtime.txt", 1),), ("invalid-runtime-txt",)),
    ("runtime-r-without-date-is-python", {"runtime.txt": "r-4.3\n", "install.R": "1\n"},
     dockerfile_has(r"Rscript|install\.R|R_HOME", present=False),
     (Want("runtime-txt-r-missing-date", "runtime.txt", 1),
      Want("install-r-ignored", "install.R", 1)), ()),
    ("runtime-too-new", {"runtime.txt": "python-3.15\n"},
     fails("3.15 on linux-64 is not supported"),
     (Want("unsupported-python-version", "runtime.txt", 1, 8),), ()),
    # apt.txt
    ("apt-capital-fails", {"apt.txt": "Vim\n"}, fails("invalid package name Vim in apt.txt"),
     (Want("apt-txt-invalid-line", "apt.txt", 1, 1),), ("render-failed",)),
    ("apt-command-pasted", {"apt.txt": "apt-get install -y vim\n"},
     dockerfile_has(r"--no-install-recommends apt-get install -y vim"),
     (Want("apt-txt-invalid-line", "apt.txt", 1, 1),), ()),
    ("apt-crlf-clean", {"apt.txt": "vim\r\ngit\r\n"},
     dockerfile_has(r"--no-install-recommends git vim && \\$"), (), ("apt-txt-invalid-line",)),
    ("apt-bom-fails", {"apt.txt": b"\xef\xbb\xbfvim\n"}, fails("invalid package name"),
     (Want("utf8-bom", "apt.txt", 1),), ("render-failed", "apt-txt-invalid-line")),
    # precedence
    ("both-binder-dirs-fail", {"binder/requirements.txt": "x\n", ".binder/requirements.txt": "x\n"},
     fails("both a 'binder' and a '.binder' directory"), (Want("both-binder-dirs", ".binder", 1),),
     ("render-failed",)),
    ("conda-ignores-requirements", {**env("python=3.11"), "requirements.txt": "numpy\n"},
     dockerfile_has(r"requirements\.txt", present=False),
     (Want("ignored-config-file", "requirements.txt", 1),), ()),
    ("conda-pip-r-reads-requirements",
     {"environment.yml": ENV + "  - pip\n  - pip:\n    - -r requirements.txt\n",
      "requirements.txt": "numpy\n"},
     after_copy("env update"), (), ("ignored-config-file",)),
    ("conda-does-not-install-package", {**env("python=3.11"), "setup.py": "setup()\n"},
     dockerfile_has(r"pip install --no-cache-dir \.$", present=False),
     (Want("local-package-not-installed", "setup.py", 1),), ()),
    ("python-installs-package", {"requirements.txt": "numpy\n", "runtime.txt": "python-3.11\n",
                                 "setup.py": "setup()\n"},
     dockerfile_has(r"pip install --no-cache-dir \.$"), (), ("local-package-not-installed",)),
    ("binder-dir-no-package", {"binder/requirements.txt": "numpy\n", "setup.py": "setup()\n"},
     dockerfile_has(r"pip install --no-cache-dir \.$", present=False),
     (Want("local-package-not-installed", "setup.py", 1),), ()),
    ("dockerfile-used-as-is", {"Dockerfile": "FROM scratch\nLABEL x=1\n", **env("numpy")},
     dockerfile_has(r"^FROM scratch$"),
     (Want("dockerfile-overrides-config", "environment.yml", 1),),
     ()),
    ("r-dated-runtime-beats-environment",
     {"runtime.txt": "r-4.3-2024-01-10\n", **env("python=3.11")},
     lambda run: r_selected(run),
     (), ("ignored-config-file",)),
    # scripts and requirements
    ("postbuild-run-by-sh-after-chmod", {"requirements.txt": "numpy\n", "runtime.txt":
                                         "python-3.11\n", "postBuild": "echo hi\n"},
     dockerfile_has(r"^RUN chmod \+x postBuild\nRUN \./postBuild$"),
     (Want("postbuild-no-shebang", "postBuild", 1),), ()),
    ("local-requirement-after-copy", {"requirements.txt": "-r other.txt\n", "other.txt": "x\n",
                                      "runtime.txt": "python-3.11\n"},
     after_copy('-r "requirements.txt"'),
     (Want("local-reference-defeats-cache", "requirements.txt", 1),), ()),
    ("plain-requirements-before-copy", {"requirements.txt": "numpy\n", "runtime.txt":
                                        "python-3.11\n"},
     lambda run: (None if not run_after_copy(run, '-r "requirements.txt"')
                  else pytest.fail(run.dockerfile)),
     (), ("local-reference-defeats-cache",)),
    # an invalid root pyproject.toml: repo2docker parses it only for the Python buildpack
    # without a binder folder
    ("invalid-pyproject-stops-python", {"requirements.txt": "numpy\n",
                                        "pyproject.toml": "[project\nname = 'x'\n"},
     fails(r"TOMLDecodeError|Expected ']'"), (Want("render-failed", "pyproject.toml", 1, 9),),
     ("invalid-pyproject-toml",)),
    ("invalid-pyproject-not-read-with-binder-dir",
     {"binder/requirements.txt": "numpy\n", "pyproject.toml": "[project\nname = 'x'\n"},
     dockerfile_has(r"binder/requirements\.txt"),
     (Want("invalid-pyproject-toml", "pyproject.toml", 1, 9, Severity.WARNING),),
     ("render-failed",)),
    ("invalid-pyproject-not-read-by-conda",
     {**env("python=3.11"), "pyproject.toml": "[tool.x]\na = \n"},
     dockerfile_has(r"environment\.yml"), (Want("invalid-pyproject-toml", "pyproject.toml", 2, 5),),
     ("render-failed",)),
    ("valid-pyproject-is-quiet", {**env("python=3.11"), "pyproject.toml": "[tool.x]\na = 1\n"},
     dockerfile_has(r"environment\.yml"), (), ("invalid-pyproject-toml", "render-failed")),
    ("pip-runs-in-the-repository-root", {"binder/requirements.txt": "-e ..\n",
                                         "binder/runtime.txt": "python-3.11\n",
                                         "setup.py": "setup()\n"},
     dockerfile_has(r"^WORKDIR \$\{REPO_DIR\}[\s\S]*pip install --no-cache-dir -r "
                    r"\"binder/requirements\.txt\""),
     (Want("invalid-requirement", "binder/requirements.txt", 1),), ()),
]


@pytest.mark.parametrize(
    ("files", "check", "want", "forbid"),
    [pytest.param(f, c, w, x, id=i) for i, f, c, w, x in CLAIMS],
)
def test_claim(
    tmp_path: Path,
    files: dict[str, str | bytes],
    check: Check,
    want: tuple[Want, ...],
    forbid: tuple[str, ...],
) -> None:
    root = write_repo(tmp_path / "repo", files)
    check(repo2docker(root))
    assert_findings(check_files(root, {}), want, forbid)
