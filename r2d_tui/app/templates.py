"""Starting text for a new environment file (the palette's ``new: <file>``).

Each template is the smallest file repo2docker reads correctly, with a comment saying what
goes in it, so a new user starts from something that builds rather than from an empty
buffer: ``postBuild`` and ``start`` start with a shebang and ``set -euo pipefail`` (a failing
command stops the build instead of being ignored), and ``start`` ends with ``exec "$@"``,
without which the notebook server never starts. Nothing is written until ctrl+s.
"""

from __future__ import annotations

from pathlib import PurePosixPath

TEMPLATES: dict[str, str] = {
    "environment.yml": (
        "# conda packages repo2docker installs (mamba env update)\n"
        "channels:\n"
        "  - conda-forge\n"
        "dependencies:\n"
        "  - python=3.11\n"
        "  - numpy\n"
    ),
    "requirements.txt": (
        "# pip packages, one per line; pin versions for reproducible builds\n"
        "numpy\n"
    ),
    "runtime.txt": "python-3.11\n",
    "apt.txt": (
        "# Ubuntu packages repo2docker installs with apt-get, one per line\n"
        "curl\n"
    ),
    "postBuild": (
        "#!/bin/bash\n"
        "# Runs once at build time, in the repository folder, as the notebook user.\n"
        "set -euo pipefail\n"
        "\n"
    ),
    "start": (
        "#!/bin/bash\n"
        "# Runs every time the container starts, before the notebook server.\n"
        "set -euo pipefail\n"
        "\n"
        "# keep this last: it starts the notebook server\n"
        'exec "$@"\n'
    ),
}


def template_for(path: str) -> str:
    """The starting text of a new file at ``path`` (empty when there is no template)."""
    return TEMPLATES.get(PurePosixPath(path).name, "")
