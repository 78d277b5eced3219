"""Byte-order marks and UTF-16 (``utf8-bom``, issue #3).

Checked: repo2docker reads a BOM'd runtime.txt as '\\ufeffpython-3.12' and silently builds
Python 3.10; a BOM'd apt.txt fails its package-name check; dash runs a BOM'd postBuild as a
shell script ('#!/bin/bash: not found'); the entrypoint cannot exec a BOM'd start ('Exec
format error'); BuildKit accepts a BOM'd Dockerfile (built with docker buildx); ruamel
(repo2docker's YAML parser) accepts a BOM'd environment.yml; pip decodes UTF-8 and UTF-16
requirement files itself.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from rules_support import (  # noqa: F401 - the fixture is autouse
    Case,
    Want,
    _overlays_under_tmp_path,
    params,
    run_case,
)

from r2d_tui.core.findings import Severity

RULE = "utf8-bom"
BOM = codecs.BOM_UTF8


def utf16(text: str) -> bytes:
    return codecs.BOM_UTF16_LE + text.encode("utf-16-le")


CASES = [
    Case("runtime-bom", {"runtime.txt": BOM + b"python-3.12\n", "requirements.txt": "x\n"},
         want=(Want(RULE, "runtime.txt", 1, 1, Severity.ERROR),),
         forbid=("invalid-runtime-txt",)),
    Case("apt-bom", {"apt.txt": BOM + b"vim\n", "runtime.txt": "python-3.11\n"},
         want=(Want(RULE, "apt.txt", 1, 1, Severity.ERROR),), forbid=("render-failed",)),
    Case("postbuild-bom", {"postBuild": BOM + b"#!/bin/bash\nset -e\necho\n",
                           "runtime.txt": "python-3.11\n"},
         want=(Want(RULE, "postBuild", 1, 1, Severity.ERROR),)),
    Case("start-bom", {"binder/start": BOM + b"#!/bin/bash\nexec \"$@\"\n",
                       "binder/runtime.txt": "python-3.11\n"},
         want=(Want(RULE, "binder/start", 1, 1, Severity.ERROR),)),
    Case("environment-bom-is-cosmetic",
         {"environment.yml": BOM + b"dependencies:\n  - python=3.11\n"},
         want=(Want(RULE, "environment.yml", 1, 1, Severity.WARNING),),
         forbid=("invalid-yaml", "python-version-unpinned")),
    Case("requirements-bom-is-cosmetic",
         {"requirements.txt": BOM + b"numpy\n", "runtime.txt": "python-3.11\n"},
         want=(Want(RULE, "requirements.txt", 1, 1, Severity.WARNING),),
         forbid=("invalid-requirement",)),
    Case("dockerfile-bom-is-cosmetic", {"Dockerfile": BOM + b"FROM scratch\n"},
         want=(Want(RULE, "Dockerfile", 1, 1, Severity.WARNING),), forbid=("empty-dockerfile",)),
    Case("environment-utf16", {"environment.yml": utf16("dependencies:\n  - python=3.11\n")},
         want=(Want(RULE, "environment.yml", 1, 1, Severity.ERROR),), forbid=("render-failed",)),
    Case("runtime-utf16", {"runtime.txt": utf16("python-3.11\n")},
         want=(Want(RULE, "runtime.txt", 1, 1, Severity.ERROR),), forbid=("render-failed",)),
    Case("requirements-utf16-pip-reads-it",
         {"requirements.txt": utf16("numpy\n"), "runtime.txt": "python-3.11\n"},
         want=(Want(RULE, "requirements.txt", 1, 1, Severity.WARNING),)),
    Case("shadowed-root-file-too", {"binder/requirements.txt": "x\n", "runtime.txt": BOM + b"x"},
         want=(Want(RULE, "runtime.txt", 1),)),
    # negatives
    Case("plain-utf8", {"runtime.txt": "python-3.11\n", "requirements.txt": "numpy\n"},
         forbid=(RULE,)),
    Case("utf8-non-ascii", {"environment.yml": "name: café\ndependencies:\n  - python=3.11\n"},
         forbid=(RULE,)),
    Case("bom-in-middle", {"requirements.txt": "numpy\n\ufeffpandas\n".encode(),
                           "runtime.txt": "python-3.11\n"}, forbid=(RULE,)),
    Case("bom-in-non-config-file", {"notes.txt": BOM + b"x\n", "runtime.txt": "python-3.11\n"},
         forbid=(RULE,)),
]


@pytest.mark.parametrize("case", params(CASES))
def test_encoding_rule(tmp_path: Path, case: Case) -> None:
    run_case(tmp_path / "repo", case)
