"""requirements.txt rules (issue #3).

Checked with pip 26 (``pip install --dry-run -r``) and repo2docker 2026.4.0: options after a
requirement on the same line ('torch==2 -f URL', '--hash=…') are accepted; relative paths
(and '-e ..') resolve against pip's working directory, which repo2docker sets to the
repository root (``WORKDIR ${REPO_DIR}``, ``pip install -r "binder/requirements.txt"``),
while a nested '-r file' resolves against the including file's folder; before the copy
only requirements.txt exists, so 'src/pkg' (no leading '.') is not found.
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

R = "requirements.txt"
INVALID = "invalid-requirement"
LOCAL = "local-reference-defeats-cache"
PIN = {"runtime.txt": "python-3.11\n"}
SETUP = "from setuptools import setup\nsetup(name='demo')\n"


def req(text: str, path: str = R, **extra: str) -> dict[str, str]:
    runtime = f"{path.rpartition('/')[0]}/runtime.txt" if "/" in path else "runtime.txt"
    return {path: text, runtime: "python-3.11\n", **extra}


CASES = [
    # --- invalid-requirement --------------------------------------------------------------
    Case("single-equals", req("numpy=1.26\n"), want=(Want(INVALID, R, 1, 1, Severity.ERROR),)),
    Case("single-equals-spaces", req("numpy\npandas = 2.0\n"), want=(Want(INVALID, R, 2, 1),)),
    Case("conda-build-string", req("numpy=1.26=py311h_0\n"), want=(Want(INVALID, R, 1, 1),)),
    Case("reversed-operator", req("numpy=>1.2\n"), want=(Want(INVALID, R, 1, 1),)),
    Case("pip-install-command", req("pip install numpy\n"), want=(Want(INVALID, R, 1, 1),)),
    Case("conda-install-command", req("# deps\nconda install -c conda-forge gdal\n"),
         want=(Want(INVALID, R, 2, 1),)),
    Case("indented-bad-line", req("numpy\n   scipy=1.11\n"), want=(Want(INVALID, R, 2, 4),)),
    Case("python-itself", req("numpy\npython>=3.9\n"), want=(Want(INVALID, R, 2, 1),)),
    Case("python-m-pip-command", req("python -m pip install numpy\n"),
         want=(Want(INVALID, R, 1, 1),)),
    Case("unknown-option", req("--foo bar\n"), want=(Want(INVALID, R, 1, 1),)),
    Case("unknown-option-after-requirement", req("numpy --frobnicate\n"),
         want=(Want(INVALID, R, 1, 1),)),
    Case("editable-without-target", req("-e\n"), want=(Want(INVALID, R, 1, 1),)),
    Case("continued-bad-line-reports-first-line", req("numpy=1.26 \\\n  --hash=sha256:abc\n"),
         want=(Want(INVALID, R, 1, 1),)),
    Case("path-without-dot-before-copy", req("src/mypkg\n", **{"src/mypkg/setup.py": SETUP}),
         want=(Want(INVALID, R, 1, 1),)),
    Case("missing-local-path", req("./mypkg\n"), want=(Want(INVALID, R, 1, 1),)),
    Case("binder-dot-dot-is-above-the-repo", req("-e ..\n", "binder/requirements.txt",
                                                  **{"setup.py": SETUP}),
         want=(Want(INVALID, "binder/requirements.txt", 1, 1),)),
    Case("missing-nested-file", req("-r base.txt\n"), want=(Want(INVALID, R, 1, 1),)),
    Case("nested-file-relative-to-the-including-file",
         req("-r binder/base.txt\n", "binder/requirements.txt", **{"binder/base.txt": "x\n"}),
         want=(Want(INVALID, "binder/requirements.txt", 1, 1),)),
    Case("requirements3-is-checked-for-python-2",
         {"runtime.txt": "python-2.7\n", R: "numpy\n", "requirements3.txt": "pandas=2\n"},
         want=(Want(INVALID, "requirements3.txt", 1, 1),)),
    # negatives: realistic lines pip accepts
    Case("names-and-specifiers",
         req("numpy\npandas>=2,<3\nscipy ~= 1.11\nDjango>=3.2; python_version >= '3.8'\n"
             "requests[security,socks]>=2.0\nzope.interface\nnumpy==1.*\nx===1.0\n"),
         forbid=(INVALID,)),
    Case("hashes-over-continuation-lines",
         req("numpy==1.26.4 \\\n    --hash=sha256:abc \\\n    --hash=sha256:def\n"),
         forbid=(INVALID,)),
    Case("urls-and-vcs",
         req("https://example.com/pkg-1.0-py3-none-any.whl\n"
             "git+https://github.com/org/b.git@main#egg=b\n"
             "-e git+https://github.com/org/c.git#egg=c\n"
             "pkg @ git+https://github.com/org/d.git@v1\n"
             "e @ https://example.com/e-1.0.tar.gz#sha256=abc\n"),
         forbid=(INVALID,)),
    Case("vcs-scp-style-is-not-a-path", req("git+git@github.com:org/repo.git\n"
                                            "https://github.com/u/r/archive/main.zip\n"),
         forbid=(INVALID,)),
    Case("global-options",
         req("--index-url https://x/simple\n-i https://x/simple\n--extra-index-url=https://y\n"
             "-f https://download.pytorch.org/whl/torch_stable.html\n--find-links https://x\n"
             "--trusted-host x\n--no-binary :all:\n--only-binary=:all:\n--pre\n"
             "--prefer-binary\n"),
         forbid=(INVALID,)),
    Case("option-after-requirement",
         req("torch==2.1.0+cpu -f https://download.pytorch.org/whl/torch_stable.html\n"
             "numpy --config-settings=setup-args=-Dblas=openblas\n"),
         forbid=(INVALID,)),
    Case("comments-blank-lines", req("# comment\nnumpy  # inline\n\n   \n\tpandas\n"),
         forbid=(INVALID,)),
    Case("crlf", req("numpy\r\npandas>=2\r\n"), forbid=(INVALID,)),
    Case("environment-variable", req("pkg @ https://${TOKEN}@example.com/pkg.whl\n"),
         forbid=(INVALID,)),
    Case("local-references-that-exist",
         req("-e .\n./src/mypkg\n-r other.txt\n-c constraints.txt\nfile:///tmp/x.whl\n",
             **{"setup.py": SETUP, "src/mypkg/setup.py": SETUP, "other.txt": "x\n",
                "constraints.txt": "x<2\n"}),
         forbid=(INVALID,)),
    Case("binder-nested-file-in-same-folder",
         req("-r base.txt\n", "binder/requirements.txt", **{"binder/base.txt": "x\n"}),
         forbid=(INVALID,)),
    Case("binder-editable-dot-is-the-repo",
         req("-e .\n", "binder/requirements.txt", **{"setup.py": SETUP}), forbid=(INVALID,)),
    Case("path-without-dot-after-copy",  # another local line moves the install after the copy
         req("-e .\nsrc/mypkg\n", **{"setup.py": SETUP, "src/mypkg/setup.py": SETUP}),
         forbid=(INVALID,)),
    Case("ignored-requirements-not-checked",
         {R: "numpy=1.26\n", "environment.yml": "dependencies:\n  - python=3.11\n"},
         forbid=(INVALID,)),
    Case("pip-reads-bom", {R: "\ufeffnumpy\n", **PIN}, forbid=(INVALID,)),
    # --- local-reference-defeats-cache ----------------------------------------------------
    Case("editable-dot", req("numpy\n-e .\n", **{"setup.cfg": ""}),
         want=(Want(LOCAL, R, 2, 1, Severity.WARNING),)),
    Case("relative-path", req("./mypkg\n", **{"mypkg/setup.py": SETUP}),
         want=(Want(LOCAL, R, 1, 1),)),
    Case("file-url", req("numpy\nfile:///srv/x.whl\n"), want=(Want(LOCAL, R, 2, 1),)),
    Case("nested-requirements", req("-r other.txt\n", **{"other.txt": "x\n"}),
         want=(Want(LOCAL, R, 1, 1),)),
    Case("long-requirement-option", req("--requirement=other.txt\n", **{"other.txt": "x\n"}),
         want=(Want(LOCAL, R, 1, 1),)),
    Case("constraints", req("-c constraints.txt\nnumpy\n", **{"constraints.txt": "x\n"}),
         want=(Want(LOCAL, R, 1, 1),)),
    Case("indented-editable", req("numpy\n  -e ./pkg  # local\n", **{"pkg/setup.py": SETUP}),
         want=(Want(LOCAL, R, 2, 3),)),
    Case("binder-requirements-editable",
         req("-e .\n", "binder/requirements.txt", **{"setup.py": SETUP}),
         want=(Want(LOCAL, "binder/requirements.txt", 1, 1),)),
    Case("poetry-pyproject-is-not-a-repo2docker-package",
         req("-e .\n", **{"pyproject.toml": "[tool.poetry]\nname='x'\n[build-system]\n"
                                             "requires=['poetry-core']\n"}),
         want=(Want(LOCAL, R, 1, 1),)),
    # a package repository installs after the copy anyway: still reported, with a way out
    Case("package-repo-installs-after-copy-anyway", req("numpy==1.26.4\n-e .\n",
                                                        **{"setup.py": SETUP}),
         want=(Want(LOCAL, R, 2, 1, Severity.WARNING),)),
    Case("pep621-package-installs-after-copy-anyway",
         req("-r other.txt\n", **{"other.txt": "x\n",
                                   "pyproject.toml": "[project]\nname='x'\nversion='1'\n"
                                                     "[build-system]\nrequires=['setuptools']\n"}),
         want=(Want(LOCAL, R, 1, 1),)),
    Case("package-repo-without-local-lines", req("numpy==1.26.4\n", **{"setup.py": SETUP}),
         forbid=(LOCAL,)),
    Case("remote-only", req("numpy\ngit+https://github.com/a/b.git\n-e git+https://x/y#egg=y\n"
                            "--index-url https://x\n"), forbid=(LOCAL,)),
    Case("comment-mentions-dot", req("numpy  # install with -e . locally\n"), forbid=(LOCAL,)),
    Case("conda-buildpack", {R: "-e .\n", "environment.yml": "dependencies:\n  - python=3.11\n"},
         forbid=(LOCAL,)),
]


@pytest.mark.parametrize("case", params(CASES))
def test_requirements_rule(tmp_path: Path, case: Case) -> None:
    run_case(tmp_path / "repo", case)


def test_package_repo_message_says_why_and_the_way_out(tmp_path: Path) -> None:
    findings = check_files(tmp_path / "repo", req("-e .\n", **{"setup.py": SETUP}))
    (finding,) = [f for f in findings if f.name == LOCAL]
    assert "already runs after the repository copy" in finding.message
    assert "setup.py makes the repository a Python package" in finding.message
    assert finding.fix is not None
    assert "binder/requirements.txt" in finding.fix and "binder/postBuild" in finding.fix
    assert "'pip install -e .'" in finding.fix


def test_plain_local_reference_message(tmp_path: Path) -> None:
    findings = check_files(tmp_path / "repo", req("-e .\n", **{"setup.cfg": ""}))
    (finding,) = [f for f in findings if f.name == LOCAL]
    assert "already runs" not in finding.message
    assert finding.fix == "install local packages in postBuild; inline -r/-c files"


def test_single_equals_fix(tmp_path: Path) -> None:
    findings = check_files(tmp_path / "repo", req("numpy=1.26\n"))
    (finding,) = [f for f in findings if f.name == INVALID]
    assert finding.fix == "use == (numpy==1.26)"
