"""postBuild and start rules (issue #3).

Checked: repo2docker's Dockerfile runs ``RUN chmod +x postBuild`` then ``RUN ./postBuild``
(shell form, so a script without ``#!`` is run by /bin/sh, dash); the entrypoint starts
``start`` with ``subprocess.Popen([start, *cmd])``, so start must exec the command it is
given. What dash 0.5.12 does with bash syntax was run locally: arrays, ``function f {``,
``${x//a/b}`` and ``<<<`` are syntax errors that stop the script; ``[[``, ``source``,
``pushd`` fail as 'not found' and the script carries on.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rules_support import (  # noqa: F401 - the fixture is autouse
    Case,
    Mode,
    Want,
    _overlays_under_tmp_path,
    params,
    run_case,
)

from r2d_tui.core.findings import Severity

PB = "postBuild"
ST = "start"
ENV = {"environment.yml": "dependencies:\n  - python=3.11\n"}
PB_CRLF = "postbuild-crlf"
ST_CRLF = "start-crlf"
SHEBANG = "postbuild-no-shebang"
NOT_EXEC = "postbuild-not-executable"
NO_EXEC = "start-no-exec"
ERRORS = "postbuild-errors-ignored"


def post(text: str | bytes | Mode, path: str = PB) -> dict[str, str | bytes | Mode]:
    return {path: text, **ENV}


def start(text: str | bytes | Mode, path: str = ST) -> dict[str, str | bytes | Mode]:
    return {path: text, **ENV}


CASES = [
    # --- postbuild-crlf / start-crlf ------------------------------------------------------
    Case("postbuild-crlf", post(b"#!/bin/bash\r\nset -e\r\npip install x\r\n"),
         want=(Want(PB_CRLF, PB, 1, 1, Severity.ERROR),), forbid=(SHEBANG,)),
    Case("postbuild-crlf-from-line-3", post(b"#!/bin/bash\nset -e\npip install x\r\necho\n"),
         want=(Want(PB_CRLF, PB, 3, 1),)),
    Case("binder-postbuild-crlf", {"binder/postBuild": b"#!/bin/sh\r\necho hi\r\n",
                                   "binder/requirements.txt": "x\n"},
         want=(Want(PB_CRLF, "binder/postBuild", 1),)),
    Case("postbuild-lf", post("#!/bin/bash\nset -e\necho\n"), forbid=(PB_CRLF,)),
    Case("postbuild-cr-in-string", post('#!/bin/bash\nset -e\nprintf "a\\r\\n"\n'),
         forbid=(PB_CRLF,)),
    Case("start-crlf", start(b"#!/bin/bash\r\nexec \"$@\"\r\n"),
         want=(Want(ST_CRLF, ST, 1, 1, Severity.ERROR),), forbid=(NO_EXEC,)),
    Case("binder-start-crlf", {".binder/start": b"#!/bin/bash\nexport A=1\r\nexec \"$@\"\n",
                               ".binder/environment.yml": "dependencies: [python=3.11]\n"},
         want=(Want(ST_CRLF, ".binder/start", 2),)),
    Case("start-lf", start("#!/bin/bash\nexec \"$@\"\n"), forbid=(ST_CRLF,)),
    Case("crlf-scripts-ignored-with-dockerfile",
         {PB: b"#!/bin/bash\r\necho\r\n", ST: b"#!/bin/bash\r\nexec \"$@\"\r\n",
          "Dockerfile": "FROM scratch\n"},
         forbid=(PB_CRLF, ST_CRLF)),
    Case("crlf-environment-is-fine", {"environment.yml": "dependencies:\r\n  - python=3.11\r\n"},
         forbid=(PB_CRLF, ST_CRLF)),
    # --- postbuild-no-shebang -------------------------------------------------------------
    Case("no-shebang-plain-commands", post("pip install x\njupyter lab build\n"),
         want=(Want(SHEBANG, PB, 1, 1, Severity.WARNING),)),
    Case("no-shebang-double-brackets", post("set -e\nif [[ -f x ]]; then echo; fi\n"),
         want=(Want(SHEBANG, PB, 2, 4, Severity.ERROR),)),
    Case("no-shebang-source", post("set -e\nsource activate base\n"),
         want=(Want(SHEBANG, PB, 2, 1, Severity.ERROR),)),
    Case("no-shebang-array", post("pkgs=(a b c)\npip install ${pkgs[@]}\n"),
         want=(Want(SHEBANG, PB, 1, 1, Severity.ERROR),)),
    Case("no-shebang-function-keyword", post("echo start\nfunction setup {\n  echo\n}\n"),
         want=(Want(SHEBANG, PB, 2, 1, Severity.ERROR),)),
    Case("no-shebang-here-string", post("cat <<< hello\n"),
         want=(Want(SHEBANG, PB, 1, 5, Severity.ERROR),)),
    Case("no-shebang-python", post("import os\nprint('hi')\n"),
         want=(Want(SHEBANG, PB, 1, 1, Severity.ERROR),), forbid=(ERRORS,)),
    Case("shebang-after-blank-line", post("\n#!/bin/bash\nset -e\necho\n"),
         want=(Want(SHEBANG, PB, 1, 1),)),
    Case("bash-syntax-only-in-comment", post("# use [[ ]] later\necho hi\n"),
         want=(Want(SHEBANG, PB, 1, 1, Severity.WARNING),)),
    Case("shebang-bash", post("#!/bin/bash\nset -e\n[[ -f x ]] && source y\n"), forbid=(SHEBANG,)),
    Case("shebang-env-bash", post("#!/usr/bin/env bash\nset -e\nif [[ 1 ]]; then :; fi\n"),
         forbid=(SHEBANG,)),
    Case("shebang-env-python", post("#!/usr/bin/env python3\nimport os\n"), forbid=(SHEBANG,)),
    Case("shebang-with-space", post("#! /bin/sh\necho\n"), forbid=(SHEBANG,)),
    Case("empty-postbuild", post(""), forbid=(SHEBANG, ERRORS)),
    Case("no-shebang-start-is-not-postbuild", start("exec \"$@\"\n"), forbid=(SHEBANG,)),
    # --- postbuild-not-executable ---------------------------------------------------------
    Case("not-executable", post(Mode("#!/bin/bash\nset -e\necho\n", 0o644)),
         want=(Want(NOT_EXEC, PB, 1, 1, Severity.INFO),)),
    Case("binder-not-executable", {"binder/postBuild": Mode("#!/bin/bash\necho\n", 0o600),
                                   "binder/requirements.txt": "x\n"},
         want=(Want(NOT_EXEC, "binder/postBuild", 1),)),
    Case("executable", post(Mode("#!/bin/bash\necho\n", 0o755)), forbid=(NOT_EXEC,)),
    Case("owner-executable-only", post(Mode("#!/bin/bash\necho\n", 0o744)), forbid=(NOT_EXEC,)),
    Case("not-executable-but-shadowed", {PB: Mode("echo\n", 0o644), "binder/requirements.txt": "x"},
         forbid=(NOT_EXEC,)),
    # --- start-no-exec --------------------------------------------------------------------
    Case("start-without-exec", start("#!/bin/bash\nexport A=1\n"),
         want=(Want(NO_EXEC, ST, 2, 1, Severity.ERROR),)),
    Case("start-runs-args-without-exec", start("#!/bin/bash\nexport A=1\n\"$@\"\n"),
         want=(Want(NO_EXEC, ST, 3, 1, Severity.WARNING),)),
    Case("start-only-echoes-args", start("#!/bin/bash\necho \"starting $@\"\n"),
         want=(Want(NO_EXEC, ST, 2, 1, Severity.ERROR),)),
    Case("start-runs-args-in-if", start("#!/bin/bash\nif true; then \"$@\"; fi\n"),
         want=(Want(NO_EXEC, ST, 2, 1, Severity.WARNING),)),
    Case("start-exec-only-in-comment", start("#!/bin/bash\n# exec \"$@\"\nexport A=1\n"),
         want=(Want(NO_EXEC, ST, 3, 1, Severity.ERROR),)),
    Case("start-exec-other-command", start("#!/bin/bash\nexec jupyter lab --ip 0.0.0.0\n"),
         want=(Want(NO_EXEC, ST, 2, 1, Severity.ERROR),)),
    Case("start-python-without-exec", start("#!/usr/bin/env python3\nimport os\nprint(1)\n"),
         want=(Want(NO_EXEC, ST, 3, 1, Severity.ERROR),)),
    Case("start-python-subprocess", start("#!/usr/bin/env python3\nimport subprocess, sys\n"
                                          "subprocess.run(sys.argv[1:])\n"),
         want=(Want(NO_EXEC, ST, 3, 1, Severity.WARNING),)),
    Case("start-exec", start("#!/bin/bash\nexport A=1\nexec \"$@\"\n"), forbid=(NO_EXEC,)),
    Case("start-exec-braces", start("#!/bin/bash\nexec \"${@}\"\n"), forbid=(NO_EXEC,)),
    Case("start-exec-unquoted", start("#!/bin/sh\nexec $@\n"), forbid=(NO_EXEC,)),
    Case("start-exec-inside-if-block",
         start("#!/bin/bash\nif [ -n \"$X\" ]; then\n  exec \"$@\" --debug\nfi\nexec \"$@\"\n"),
         forbid=(NO_EXEC,)),
    Case("start-exec-one-line-if", start("#!/bin/bash\nif [ -f x ]; then exec \"$@\"; fi\n"),
         forbid=(NO_EXEC,)),
    Case("start-exec-after-and", start("#!/bin/bash\nsource /srv/env.sh && exec \"$@\"\n"),
         forbid=(NO_EXEC,)),
    Case("start-exec-with-extra-args", start("#!/bin/bash\nexec \"$@\" --NotebookApp.x=1\n"),
         forbid=(NO_EXEC,)),
    Case("start-exec-with-wrapper", start("#!/bin/bash\nexec tini -- \"$@\"\n"),
         forbid=(NO_EXEC,)),
    Case("start-python-execvp",
         start("#!/usr/bin/env python3\nimport os, sys\n"
               "os.environ['A'] = '1'\nos.execvp(sys.argv[1], sys.argv[1:])\n"),
         forbid=(NO_EXEC,)),
    Case("start-shebang-only-placeholder", start("#!/bin/bash\n"), forbid=(NO_EXEC,)),
    Case("start-ignored-with-dockerfile", {ST: "#!/bin/bash\necho\n", "Dockerfile": "FROM x\n"},
         forbid=(NO_EXEC,)),
    # --- postbuild-errors-ignored ---------------------------------------------------------
    Case("no-set-e", post("#!/bin/bash\npip install a\npip install b\n"),
         want=(Want(ERRORS, PB, 1, 1, Severity.INFO),)),
    Case("no-set-e-sh", post("#!/bin/sh\njupyter labextension install x\necho done\n"),
         want=(Want(ERRORS, PB, 1, 1),)),
    Case("set-e-only-in-comment", post("#!/bin/bash\n# set -e\npip install a\npip install b\n"),
         want=(Want(ERRORS, PB, 1, 1),)),
    Case("set-plus-e", post("#!/bin/bash\nset +e\npip install a\npip install b\n"),
         want=(Want(ERRORS, PB, 1, 1),)),
    Case("set-e", post("#!/bin/bash\nset -e\npip install a\npip install b\n"), forbid=(ERRORS,)),
    Case("set-euxo", post("#!/bin/bash\nset -euxo pipefail\npip install a\npip install b\n"),
         forbid=(ERRORS,)),
    Case("set-x-then-e", post("#!/bin/bash\nset -x -e\npip install a\npip install b\n"),
         forbid=(ERRORS,)),
    Case("set-o-errexit", post("#!/bin/bash\nset -o pipefail -o errexit\na\nb\n"),
         forbid=(ERRORS,)),
    Case("shebang-e", post("#!/bin/bash -xe\npip install a\npip install b\n"), forbid=(ERRORS,)),
    Case("env-shebang-e", post("#!/usr/bin/env -S bash -e\na\nb\n"), forbid=(ERRORS,)),
    Case("single-command", post("#!/bin/bash\npip install a\n"), forbid=(ERRORS,)),
    Case("one-and-chain", post("#!/bin/bash\npip install a && \\\n  pip install b &&\n"
                               "  jupyter lab build\n"), forbid=(ERRORS,)),
    Case("one-if-block", post("#!/bin/bash\nif [ -f /.dockerenv ]; then\n  echo docker\nfi\n"),
         forbid=(ERRORS,)),
    Case("one-line-if-else", post("#!/bin/bash\nif [ -f x ]; then a; else b; fi\n"),
         forbid=(ERRORS,)),
    Case("loop-with-one-command", post("#!/bin/bash\nfor p in a b; do\n  pip install $p\n"
                                       "done\n"), forbid=(ERRORS,)),
    Case("two-commands-in-if", post("#!/bin/bash\nif true; then\n  pip install a\n"
                                    "  pip install b\nfi\n"),
         want=(Want(ERRORS, PB, 1, 1),)),
    Case("command-then-if", post("#!/bin/bash\npip install a\nif [ -d x ]; then\n  b\nfi\n"),
         want=(Want(ERRORS, PB, 1, 1),)),
    Case("python-postbuild", post("#!/usr/bin/env python3\nimport os\nos.system('a')\nprint()\n"),
         forbid=(ERRORS,)),
]


@pytest.mark.parametrize("case", params(CASES))
def test_script_rule(tmp_path: Path, case: Case) -> None:
    run_case(tmp_path / "repo", case)
