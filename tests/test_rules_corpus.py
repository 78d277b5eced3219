"""Issue #3 rules on the real repositories of the shared corpus (copied into tmp_path).

1. Every corpus repository gives exactly the issue-#3 findings listed here (name, path,
   line, severity): nothing more (no false alarm on a real repository) and nothing less.
   Files the corpus only recorded (postBuild, start, Dockerfile, setup.py…) are stubs (see
   ``corpus.materialise``), so script rules see a bare ``#!/bin/bash``.
2. Realistic breakages applied to copies of corpus repositories (the corpus README records
   several of them in the repositories' own history) give the right finding at the right
   line.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import corpus
import pytest
from rules_support import (  # noqa: F401 - the fixture is autouse
    Want,
    _overlays_under_tmp_path,
    assert_findings,
)

from r2d_tui.core.checks import iter_rules, run_checks
from r2d_tui.core.findings import Finding
from r2d_tui.core.workspace import Workspace

pytestmark = pytest.mark.skipif(corpus.corpus_root() is None, reason="shared corpus not found")

#: The issue-#3 rules (the builder-migration rules have their own tests).
ISSUE3 = frozenset(
    r.name for r in iter_rules() if not r.run.__module__.endswith(".migration")
)

E, W, I = "error", "warning", "info"  # noqa: E741

#: (severity, name, path, line) per repository; each judged against repo2docker 2026.4.0.
EXPECTED: dict[str, set[tuple[str, str, str, int]]] = {
    # REQUIRE is not read: the root Dockerfile is built as-is (its real content only does
    # COPY . ${HOME})
    "binder-examples__jupyter-sos": {(W, "dockerfile-overrides-config", "REQUIRE", 1)},
    # binder/requirements.txt without runtime.txt: the default Python 3.10 is used
    "binder-examples__jupyterlab": {(W, "python-version-unpinned", "binder/requirements.txt", 1)},
    # postBuild is mode 100644 in git
    "binder-examples__multi-language-demo": {(I, "postbuild-not-executable", "postBuild", 1)},
    # environment.yml lists no python
    "binder-examples__octave": {(W, "python-version-unpinned", "binder/environment.yml", 3)},
    # repo2docker 2026.4.0 raises for R snapshot dates before 2018-12-07 (MRAN is gone)
    "binder-examples__r_with_python": {(E, "render-failed", "binder/runtime.txt", 1)},
    "ADACS-Australia__hackweek-materials": {(E, "render-failed", "binder/runtime.txt", 1)},
    # pip sub-list indented 3 spaces: ruamel stops at line 15, column 4
    "AnuRuwan__conda_binder1": {(E, "invalid-yaml", "binder/environment.yml", 15)},
    # REQUIRE beats R and pip; repo2docker refuses REQUIRE ('no longer supported')
    "CBIOMES__bayesian_cbiomes": {
        (E, "julia-require-unsupported", "binder/REQUIRE", 1),
        (I, "postbuild-not-executable", "binder/postBuild", 1),
        (W, "ignored-config-file", "binder/runtime.txt", 1),
    },
    "CryoInTheCloud__hub-image": {
        (I, "postbuild-not-executable", ".binder/postBuild", 1),
        (W, "binder-dir-shadows-root", "environment.yml", 1),
    },
    "dask__dask-tutorial": {(W, "binder-dir-shadows-root", "Dockerfile", 1)},
    "GLAM-Workbench__trove-newspapers": {
        (W, "binder-dir-shadows-root", "requirements.txt", 1),
        (W, "binder-dir-shadows-root", "runtime.txt", 1),
    },
    # the conda buildpack does not install requirements.txt (the corpus notes say so too)
    "jupyter-widgets__tutorial": {
        (I, "postbuild-not-executable", "postBuild", 1),
        (W, "ignored-config-file", "requirements.txt", 1),
    },
    # the stub binder/postBuild does not install the package (the real one runs
    # 'pip install .', see test_nbgrader_real_postbuild_installs_the_package)
    "jupyter__nbgrader": {
        (W, "binder-dir-shadows-root", "requirements.txt", 1),
        (W, "local-package-not-installed", "setup.py", 1),
    },
    "lballabio__ab-notebook": {
        (W, "binder-dir-shadows-root", "Pipfile", 1),
        (W, "binder-dir-shadows-root", "Pipfile.lock", 1),
    },
    # a bare '- python' at line 21
    "mlpack__examples": {
        (W, "python-version-unpinned", "binder/environment.yml", 21),
        (I, "postbuild-not-executable", "binder/postBuild", 1),
    },
    "nsidc__earthaccess": {(W, "binder-dir-shadows-root", "environment.yml", 1)},
    "numpy__numpy-tutorials": {
        (W, "python-version-unpinned", "environment.yml", 4),
        (W, "ignored-config-file", "requirements.txt", 1),
    },
    # the real binder/Dockerfile only does COPY . ${HOME}: requirements.txt is not installed
    "pangeo-data__pangeo-ocean-examples": {
        (W, "dockerfile-overrides-config", "binder/requirements.txt", 1),
    },
    "PraCTES__MIT-PraCTES": {(I, "postbuild-not-executable", "binder/postBuild", 1)},
    "tobydriscoll__fnc-extras": {
        (W, "binder-dir-shadows-root", "Manifest.toml", 1),
        (W, "binder-dir-shadows-root", "Project.toml", 1),
        (E, "julia-require-unsupported", "binder/REQUIRE", 1),
    },
    # FROM andrewosh/binder-base selects the removed legacy buildpack: repo2docker raises
    "Unidata__unidata-python-workshop": {(E, "render-failed", "Dockerfile", 1)},
    # 'python >=3.10' is not read: repo2docker says "Python version unspecified"
    "xarray-contrib__xarray-tutorial": {
        (W, "python-version-unrecognized", ".binder/environment.yml", 43),
    },
}


def corpus_names() -> list[str]:
    return [repo.name for repo in corpus.manifest()]


def findings_of(root: Path) -> list[Finding]:
    workspace = Workspace(root)
    try:
        return run_checks(workspace)
    finally:
        workspace.close()


def test_expectations_name_corpus_repositories() -> None:
    assert set(EXPECTED) <= set(corpus_names())
    assert len(corpus_names()) >= 30


@pytest.mark.parametrize("name", corpus_names())
def test_corpus_findings(tmp_path: Path, name: str) -> None:
    root = corpus.materialise(name, tmp_path)
    got = {
        (f.severity.value, f.name, f.path, f.line)
        for f in findings_of(root) if f.name in ISSUE3
    }
    assert got == EXPECTED.get(name, set())


# --- realistic breakages on copies of corpus repositories -----------------------------------

Mutation = Callable[[Path], None]


def write(rel: str, text: str | bytes, mode: int | None = None) -> Mutation:
    def apply(root: Path) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
        if mode is not None:
            path.chmod(mode)

    return apply


def edit(rel: str, old: str, new: str) -> Mutation:
    def apply(root: Path) -> None:
        path = root / rel
        text = path.read_text()
        assert old in text, f"{old!r} not in {rel}"
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
        path.write_text(text.replace(old, new, 1))

    return apply


MUTATIONS: list[tuple[str, str, Mutation, tuple[Want, ...], tuple[str, ...]]] = [
    # binder-examples/conda at f63911e (2020): '   - pip:' one space too far
    ("binder-examples__conda", "pip-one-space-too-far",
     edit("environment.yml", "  - dask\n", "  - dask\n   - pip:\n    - requests\n"),
     (Want("invalid-yaml", "environment.yml", 15, 9),), ("render-failed",)),
    # ADACS hackweek at 31b5106: a top-level '- pip:' at column 1 after the list
    ("ADACS-Australia__hackweek-materials", "top-level-pip",
     edit("binder/environment.yml", "  - pip:\n", "- pip:\n"),
     (Want("invalid-yaml", "binder/environment.yml", 26, 1),), ()),
    ("binder-examples__conda", "python-range",
     edit("environment.yml", "python=3.11", "python>=3.11"),
     (Want("python-version-unrecognized", "environment.yml", 5, 5),),
     ("python-version-unpinned",)),
    ("binder-examples__conda", "conda-env-export-on-a-mac",
     edit("environment.yml", "  - numpy\n", "  - numpy=1.26.4=py311he598dae_0\n  - appnope\n"),
     (Want("conda-export-build-strings", "environment.yml", 6, 5),
      Want("platform-specific-package", "environment.yml", 7, 5)), ()),
    ("binder-examples__requirements", "runtime-with-space",
     write("runtime.txt", "python 3.10"),
     (Want("invalid-runtime-txt", "runtime.txt", 1, 1),), ("render-failed",)),
    ("binder-examples__requirements", "runtime-too-old",
     write("runtime.txt", "python-3.4"),
     (Want("unsupported-python-version", "runtime.txt", 1, 8),), ("render-failed",)),
    ("binder-examples__requirements", "conda-pin-in-requirements",
     edit("requirements.txt", "\n", "\nnumpy=1.26\n"),
     (Want("invalid-requirement", "requirements.txt", 2, 1),), ()),
    ("binder-examples__r", "r-version-without-date",
     write("runtime.txt", "r-4.3\n"),
     (Want("runtime-txt-r-missing-date", "runtime.txt", 1, 1),
      Want("install-r-ignored", "install.R", 1)), ()),
    ("binder-examples__apt_install", "apt-command-with-continuations",
     write("apt.txt", "apt-get install -y \\\n    lolcat \\\n    cowsay\n"),
     (Want("apt-txt-invalid-line", "apt.txt", 1, 1), Want("apt-txt-invalid-line", "apt.txt", 2, 5)),
     ()),
    ("binder-examples__apt_install", "apt-crlf-is-fine",
     write("apt.txt", b"lolcat\r\ncowsay\r\n"), (), ("apt-txt-invalid-line",)),
    ("binder-examples__jupyterlab", "postbuild-saved-on-windows",
     write("binder/postBuild", b"#!/bin/bash\r\njupyter labextension install x\r\n", 0o755),
     (Want("postbuild-crlf", "binder/postBuild", 1, 1),), ()),
    ("CryoInTheCloud__hub-image", "start-without-exec",
     write(".binder/start", "#!/bin/bash\nexport TZ=UTC\n"),
     (Want("start-no-exec", ".binder/start", 2, 1),), ()),
    ("CryoInTheCloud__hub-image", "start-exec-in-if",
     write(".binder/start", '#!/bin/bash\nif [ -d /srv ]; then exec "$@"; else exec "$@"; fi\n'),
     (), ("start-no-exec",)),
    ("jupyter-widgets__tutorial", "environment-pip-includes-requirements",
     edit("environment.yml", "dependencies:\n",
          "dependencies:\n  - pip:\n    - -r requirements.txt\n"),
     (), ("ignored-config-file",)),
    ("numpy__numpy-tutorials", "bom-runtime-next-to-environment",
     write("runtime.txt", b"\xef\xbb\xbfpython-3.12\n"),
     (Want("utf8-bom", "runtime.txt", 1, 1), Want("ignored-config-file", "runtime.txt", 1)), ()),
]


@pytest.mark.parametrize(
    ("name", "mutate", "want", "forbid"),
    [pytest.param(n, m, w, f, id=f"{n}-{i}") for n, i, m, w, f in MUTATIONS],
)
def test_corpus_breakage(
    tmp_path: Path, name: str, mutate: Mutation, want: tuple[Want, ...], forbid: tuple[str, ...]
) -> None:
    root = corpus.materialise(name, tmp_path)
    mutate(root)
    findings = findings_of(root)
    assert_findings(findings, want, forbid)
    if not want:  # the unbroken repository's findings for this rule stay as they were
        assert not [f for f in findings if f.name in forbid]


def test_nbgrader_real_postbuild_installs_the_package(tmp_path: Path) -> None:
    """With nbgrader's real binder/postBuild ('pip install .') the package is installed."""
    root = corpus.materialise("jupyter__nbgrader", tmp_path)
    write("binder/postBuild", "#!/bin/bash\n\npip install .\n\nnbgrader quickstart x\n",
          0o755)(root)
    findings = findings_of(root)
    assert_findings(findings, (Want("binder-dir-shadows-root", "requirements.txt", 1),),
                    ("local-package-not-installed",))


def test_corpus_is_not_modified(tmp_path: Path) -> None:
    """Mutations work on copies: the corpus files stay read-only and unchanged."""
    root = corpus.corpus_root()
    assert root is not None
    original = (root / "repos" / "binder-examples__conda" / "environment.yml").read_bytes()
    copy = corpus.materialise("binder-examples__conda", tmp_path)
    edit("environment.yml", "  - dask\n", "  - dask=\n")(copy)
    assert (root / "repos" / "binder-examples__conda" / "environment.yml").read_bytes() == original
    assert not os.path.samefile(copy / "environment.yml",
                                root / "repos" / "binder-examples__conda" / "environment.yml")
