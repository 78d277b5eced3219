"""Byte-order marks and UTF-16 in configuration files.

repo2docker opens configuration files as UTF-8 without BOM handling, so a BOM becomes
part of the first line: a BOM'd runtime.txt reads as '\\ufeffpython-3.12' and is silently
ignored, a BOM'd apt.txt fails the package-name check, a BOM'd postBuild loses its #! line.
UTF-16 files cannot be read at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from r2d_tui.core.checks import CheckContext, rule
from r2d_tui.core.findings import Finding, Severity

#: Files where a UTF-8 BOM changes what repo2docker does (not only cosmetic).
#: (A Dockerfile is not here: BuildKit strips a UTF-8 BOM, verified with docker buildx.)
BOM_BREAKS = {
    "runtime.txt": "repo2docker does not recognise the runtime and silently uses its default",
    "apt.txt": "the first package name is invalid and the build fails",
    "postBuild": "the #! line is not recognised, so /bin/sh runs the script",
    "start": (
        "the #! line is not recognised, so the entrypoint cannot run it ('Exec format "
        "error') and the container does not start"
    ),
}
#: Files read by pip, which decodes UTF-8 and UTF-16 byte-order marks itself.
READ_BY_PIP = frozenset({"requirements.txt", "requirements3.txt"})


@rule(
    "R2D331",
    "utf8-bom",
    Severity.WARNING,
    "a configuration file starts with a byte-order mark, or is UTF-16",
    "Editors on Windows may save files with a byte-order mark (BOM) or as UTF-16. "
    "repo2docker reads configuration files as plain UTF-8: the BOM becomes part of the "
    "first line (a BOM'd runtime.txt is silently ignored, a BOM'd apt.txt or postBuild "
    "breaks the build) and UTF-16 files cannot be read at all. Save them as UTF-8 without "
    "BOM.",
    "encoding",
)
def utf8_bom(context: CheckContext) -> Iterator[Finding]:
    for path in context.env_files():
        source = context.source(path)
        if source is None or not source.format.bom:
            continue
        name = PurePosixPath(path).name
        if source.format.encoding != "utf-8":
            if name in READ_BY_PIP:
                yield utf8_bom.finding(
                    path, 1, 1,
                    f"{path} is {source.format.encoding.upper()}: pip decodes it, but other "
                    "tools expect UTF-8",
                    severity=Severity.WARNING, fix="save it as UTF-8 (without BOM)",
                )
                continue
            yield utf8_bom.finding(
                path, 1, 1,
                f"{path} is {source.format.encoding.upper()}: repo2docker reads UTF-8 and "
                "cannot read it",
                severity=Severity.ERROR, fix="save it as UTF-8 (without BOM)",
            )
            continue
        effect = BOM_BREAKS.get(name)
        yield utf8_bom.finding(
            path, 1, 1,
            f"{path} starts with a UTF-8 byte-order mark"
            + (f": {effect}" if effect else ""),
            severity=Severity.ERROR if effect else Severity.WARNING,
            fix="save it as UTF-8 without BOM",
        )
