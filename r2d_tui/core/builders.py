"""The buildx builders a build can run on (``docker buildx ls``).

Since repo2docker builds with BuildKit, *where* an image is built is a builder: the engine's
own (driver ``docker``), a BuildKit container with its own limits (``docker-container``,
where ``--driver-opt memory=…`` sets the memory limit repo2docker's
``--build-memory-limit`` used to), a BuildKit in a Kubernetes cluster (``kubernetes``), or any
remote BuildKit daemon (``remote``). r2d-tui passes the chosen one as ``--builder``.

:func:`list_builders` reads ``docker buildx ls --format json`` (buildx ≥ 0.13) and the
table ``docker buildx ls`` prints (every version; it also marks the current builder with
``*``), so it works with old and new buildx alike.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass

#: Seconds each ``docker buildx ls`` may take (an unreachable remote builder is slow).
LIST_TIMEOUT = 10.0


@dataclass(frozen=True)
class BuilderInfo:
    """One buildx builder."""

    name: str
    driver: str
    """``docker``, ``docker-container``, ``kubernetes``, ``remote``…"""
    status: str
    """Its first node's status: ``running``, ``inactive``, ``stopped``, ``error``…"""
    current: bool = False
    """The builder ``docker buildx build`` uses without ``--builder``."""
    endpoint: str = ""
    platforms: tuple[str, ...] = ()
    buildkit: str = ""
    """BuildKit version of its first node (empty while inactive)."""

    @property
    def summary(self) -> str:
        """``name (driver, status)``, as the picker shows it."""
        mark = " ← current" if self.current else ""
        return f"{self.name} ({self.driver}, {self.status or 'unknown'}){mark}"


class BuildersError(Exception):
    """``docker buildx ls`` could not be run; the message is worded for the user."""


def _run(argv: list[str]) -> tuple[int, str, str]:
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=LIST_TIMEOUT,
            stdin=subprocess.DEVNULL, check=False,
        )
    except subprocess.TimeoutExpired:
        return -1, "", f"no answer within {LIST_TIMEOUT:g} s"
    except OSError as error:
        return -1, "", str(error)
    return done.returncode, done.stdout, done.stderr


def parse_json(text: str) -> list[BuilderInfo]:
    """Builders from ``docker buildx ls --format json`` (one object per line)."""
    builders: list[BuilderInfo] = []
    seen: set[str] = set()
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if not isinstance(data, dict) or not data.get("Name") or data["Name"] in seen:
            continue  # buildx 0.13 prints every builder twice
        seen.add(str(data["Name"]))
        nodes = [n for n in data.get("Nodes") or () if isinstance(n, dict)]
        node = nodes[0] if nodes else {}
        builders.append(BuilderInfo(
            name=str(data["Name"]),
            driver=str(data.get("Driver") or ""),
            status=str(node.get("Status") or ("error" if data.get("Err") else "")),
            endpoint=str(node.get("Endpoint") or ""),
            platforms=tuple(str(p) for p in node.get("Platforms") or ()),
            buildkit=str(node.get("Version") or ""),
        ))
    return builders


def parse_table(text: str) -> list[BuilderInfo]:
    """Builders from the ``docker buildx ls`` table (old and new layouts).

    Builder lines start in column 0 (``name*  driver`` in buildx ≥ 0.13, ``name * driver``
    before); node lines are indented (and start with ``\\_`` in buildx ≥ 0.13): ``node
    endpoint status buildkit platforms…``.
    """
    builders: list[dict[str, object]] = []
    for raw in text.splitlines():
        if not raw.strip() or raw.startswith("NAME/NODE"):
            continue
        if not raw[0].isspace():
            words = raw.split()
            name = words[0]
            current = name.endswith("*")
            rest = words[1:]
            if rest and rest[0] == "*":
                current, rest = True, rest[1:]
            builders.append({
                "name": name.rstrip("*"), "driver": rest[0] if rest else "",
                "current": current, "status": "", "endpoint": "", "platforms": (),
                "buildkit": "",
            })
        elif builders and not builders[-1]["status"]:
            words = [w for w in raw.split() if w != "\\_"]
            if len(words) >= 3:
                builder = builders[-1]
                builder["endpoint"] = words[1]
                builder["status"] = words[2]
                builder["buildkit"] = words[3] if len(words) > 3 else ""
                platforms = " ".join(words[4:])
                builder["platforms"] = tuple(
                    p.strip().rstrip("*") for p in platforms.split(",") if p.strip()
                )
    return [
        BuilderInfo(
            name=str(b["name"]), driver=str(b["driver"]), status=str(b["status"]),
            current=bool(b["current"]), endpoint=str(b["endpoint"]),
            platforms=tuple(b["platforms"]),  # type: ignore[arg-type]
            buildkit=str(b["buildkit"]),
        )
        for b in builders
    ]


def list_builders(docker: str = "docker") -> list[BuilderInfo]:
    """The builders ``docker buildx`` knows, the current one marked (blocking; use a thread).

    Raises:
        BuildersError: the docker CLI or its buildx plugin cannot list them.
    """
    code, table, err = _run([docker, "buildx", "ls"])
    if code != 0:
        detail = (err or table).strip().splitlines()
        raise BuildersError(
            "docker buildx ls failed" + (f": {detail[0]}" if detail else "")
        )
    from_table = parse_table(table)
    current = {b.name for b in from_table if b.current}
    code, text, _err = _run([docker, "buildx", "ls", "--format", "json"])
    builders = parse_json(text) if code == 0 else []
    if not builders:
        return from_table
    return [
        BuilderInfo(b.name, b.driver, b.status, b.name in current, b.endpoint, b.platforms,
                    b.buildkit)
        for b in builders
    ]
