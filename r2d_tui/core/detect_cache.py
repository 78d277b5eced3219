"""A content-addressed cache of detection results, so repeated checks skip repo2docker.

Importing repo2docker costs 0.25–0.7 s (most of it ``requests``, pulled in by its content
providers), more than everything else ``r2d-tui check`` does on a large repository. A
detection (and the render inside it) depends only on: the environment files repo2docker
can read (root, ``binder/``, ``.binder/``, plus root ``setup.py``, ``pyproject.toml`` and
``DESCRIPTION``), the options, the invoking user (repo2docker's defaults), the machine's
platform, the path argument (for the ``repo2docker.repo`` label), repo2docker's version
and install path (helper file names), r2d-tui's version, and today's date (R snapshots of
undated repositories). The key hashes all of these; entries with offline placeholders are
never stored, so a later online run resolves them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import getpass
import hashlib
import importlib.util
import json
import os
import platform
from pathlib import Path
from typing import Any

from r2d_tui import __version__
from r2d_tui.core.detection import Detection, IgnoredFile
from r2d_tui.core.envfiles import BINDER_DIRS, ENV_FILE_NAMES
from r2d_tui.core.paths import cache_dir
from r2d_tui.core.render import ContextPlan, RenderOptions, RenderProblem, RenderResult
from r2d_tui.core.workspace import Workspace

#: Bump when the cached format or the detection logic changes.
FORMAT = 2
MAX_HASHED_BYTES = 8 * 1024 * 1024


def _repo2docker_identity() -> str:
    """repo2docker's install path and version file (cheaper than importlib.metadata)."""
    spec = importlib.util.find_spec("repo2docker")
    if spec is None or spec.origin is None:
        return "?"
    version_file = os.path.join(os.path.dirname(spec.origin), "_version.py")
    try:
        with open(version_file, encoding="utf-8") as handle:
            version = handle.read()
    except OSError:
        version = "?"
    return f"{spec.origin}:{hashlib.sha256(version.encode()).hexdigest()[:16]}"


def _code_identity() -> str:
    """The newest modification time of r2d-tui's core modules, so a changed checkout (an
    editable install, a development tree) never reads results of older code."""
    folder = Path(__file__).resolve().parent
    newest = 0
    for path in (*folder.glob("*.py"), *folder.glob("checks/*.py")):
        with contextlib.suppress(OSError):
            newest = max(newest, path.stat().st_mtime_ns)
    return str(newest)


def key_for(workspace: Workspace, options: RenderOptions | None) -> str | None:
    """The cache key for detecting ``workspace`` as it is on disk, or ``None`` when a file
    cannot be hashed (then nothing is cached)."""
    digest = hashlib.sha256()
    parts: list[Any] = [
        FORMAT, __version__, _code_identity(), _repo2docker_identity(),
        dataclasses.asdict(options or RenderOptions()),
        os.geteuid(), _user(), platform.machine(), workspace.display_path,
        os.path.isdir(os.path.join(workspace.root, workspace.display_path)),
        datetime.date.today().isoformat(), os.environ.get("R2D_TUI_LOOKUP_TIMEOUT", ""),
    ]
    digest.update(json.dumps(parts, sort_keys=True, default=str).encode())
    root = workspace.root
    for folder in ("", *BINDER_DIRS):
        base = root / folder if folder else root
        if folder:
            if not base.is_dir():
                continue
            digest.update(f"dir:{folder}\n".encode())
        try:
            names = sorted(n for n in os.listdir(base) if n in ENV_FILE_NAMES)
        except OSError:
            return None
        for name in names:
            path = base / name
            try:
                if path.is_dir():
                    digest.update(f"isdir:{folder}/{name}\n".encode())
                    continue
                if not path.is_file() or path.stat().st_size > MAX_HASHED_BYTES:
                    return None
                digest.update(f"file:{folder}/{name}:{os.stat(path).st_mode:o}\n".encode())
                digest.update(path.read_bytes())
            except OSError:
                return None
    return digest.hexdigest()


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.geteuid())


def _file(key: str) -> Path:
    return cache_dir() / "detect" / f"{key}.json"


def store(key: str, detection: Detection) -> None:
    result = detection.render
    if result is None or result.offline_placeholders:
        return
    data = {
        "detection": {
            "config_dir": detection.config_dir,
            "buildpack": detection.buildpack,
            "buildpack_class": detection.buildpack_class,
            "deciding_files": list(detection.deciding_files),
            "used_files": list(detection.used_files),
            "ignored": [[i.path, i.reason] for i in detection.ignored],
            "error": detection.error,
            "default_python": detection.default_python,
        },
        "render": {
            "buildpack": result.buildpack,
            "buildpack_class": result.buildpack_class,
            "dockerfile": result.dockerfile,
            "options": dataclasses.asdict(result.options),
            "notes": list(result.notes),
            "problem": dataclasses.asdict(result.problem) if result.problem else None,
            "context": dataclasses.asdict(result.context) if result.context else None,
        },
    }
    path = _file(key)
    with contextlib.suppress(OSError):
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        # the options may hold build arguments (tokens): readable by the user alone
        descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(data))
        os.replace(tmp, path)


def _tuples(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def load(key: str) -> Detection | None:
    try:
        data = json.loads(_file(key).read_text(encoding="utf-8"))
        d, r = data["detection"], data["render"]
        options = RenderOptions(**{k: _tuples(v) for k, v in r["options"].items()})
        context = ContextPlan(**{k: _tuples(v) for k, v in r["context"].items()}) \
            if r["context"] else None
        result = RenderResult(
            buildpack=r["buildpack"],
            buildpack_class=r["buildpack_class"],
            dockerfile=r["dockerfile"],
            options=options,
            notes=tuple(r["notes"]),
            problem=RenderProblem(**r["problem"]) if r["problem"] else None,
            context=context,
        )
        return Detection(
            config_dir=d["config_dir"],
            buildpack=d["buildpack"],
            buildpack_class=d["buildpack_class"],
            deciding_files=tuple(d["deciding_files"]),
            used_files=tuple(d["used_files"]),
            ignored=tuple(IgnoredFile(p, reason) for p, reason in d["ignored"]),
            error=d["error"],
            render=result,
            default_python=d["default_python"],
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
