"""What :mod:`r2d_tui.core.lazy` skips while it imports repo2docker, and that the skipped
modules are whole when they are used (issue #9).

``docker.utils.build`` is imported without the ``docker`` package's ``__init__`` (which
imports the SDK client, requests and urllib3), and ``requests`` is put in place as a
deferred module whose body runs on first use. Each test runs in a fresh interpreter:
the test process has imported both for real long ago.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path


def _run(script: str, *, site: Path | None = None) -> str:
    env = dict(os.environ)
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], env=env,
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_repo2docker_is_imported_without_the_sdk_or_requests_body() -> None:
    out = _run("""
        import sys
        from r2d_tui.core import lazy
        lazy.load("repo2docker.buildpacks")
        from repo2docker.buildpacks import base, r
        print(sorted(m for m in ("docker", "docker.utils", "docker.api", "urllib3")
                     if m in sys.modules))
        print(type(sys.modules["requests"]).__name__, r.requests is sys.modules["requests"])
        print(base.exclude_paths.__module__)
    """)
    assert out.splitlines() == ["[]", "_DeferredModule True", "docker.utils.build"]


def test_the_real_sdk_imports_whole_after_the_stand_ins() -> None:
    """The stand-ins are gone after the import: ``docker`` is the real package, with its
    client, its ``docker.utils.build`` and requests (which the SDK uses) all there."""
    out = _run("""
        import sys
        from r2d_tui.core import lazy
        lazy.load("repo2docker.buildpacks")
        build = lazy.load("docker.utils.build")  # the watcher's matcher, still standalone
        print("docker" in sys.modules, hasattr(build, "PatternMatcher"))
        docker = lazy.load("docker")
        import docker.utils.build
        print(callable(docker.from_env), callable(docker.utils.build.exclude_paths),
              docker.utils.build is not build)
        import requests
        print(type(requests).__name__, issubclass(docker.APIClient, requests.Session))
        print(lazy.load("docker.utils.build") is docker.utils.build)
    """)
    assert out.splitlines() == ["False True", "True True True", "module True", "True"]


def test_a_deferred_module_runs_on_first_use_not_on_import(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "heavy_thing.py").write_text("import sys\nsys.RUNS = getattr(sys, 'RUNS', 0) + 1\n"
                                         "VALUE = 42\n")
    out = _run("""
        import sys
        from r2d_tui.core import lazy
        with lazy.IMPORT_LOCK:
            lazy._defer("heavy_thing")
        import heavy_thing
        import heavy_thing as again
        print(getattr(sys, "RUNS", 0), heavy_thing.__name__)
        print(heavy_thing.VALUE, getattr(sys, "RUNS", 0), type(heavy_thing).__name__)
        from heavy_thing import VALUE
        print(VALUE, sys.RUNS, again is heavy_thing)
    """, site=site)
    assert out.splitlines() == ["0 heavy_thing", "42 1 module", "42 1 True"]


def test_a_deferred_module_used_by_many_threads_at_once_runs_once_and_whole(
    tmp_path: Path,
) -> None:
    """Python 3.11's LazyLoader lets a second thread see the module half-run; the deferred
    module makes it wait for the lock instead."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "slow_thing.py").write_text(
        "import sys, time\nsys.RUNS = getattr(sys, 'RUNS', 0) + 1\n"
        "FIRST = 1\ntime.sleep(0.3)\nLAST = 2\n"
    )
    out = _run("""
        import sys, threading
        from r2d_tui.core import lazy
        with lazy.IMPORT_LOCK:
            lazy._defer("slow_thing")
        slow_thing = sys.modules["slow_thing"]  # not yet run (an import would not run it)
        start = threading.Barrier(8)
        seen = []
        def use():
            start.wait()
            seen.append(slow_thing.LAST)
        threads = [threading.Thread(target=use) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(sys.RUNS, seen)
    """, site=site)
    assert out.split(maxsplit=1) == ["1", str([2] * 8) + "\n"]


def test_an_sdk_whose_build_helpers_need_their_package_is_imported_normally(
    tmp_path: Path,
) -> None:
    """A docker package whose ``utils/build.py`` uses its package's ``__init__``: the
    stand-ins cannot serve it, so it is imported as it is, ``__init__`` and all."""
    site = tmp_path / "site"
    (site / "docker" / "utils").mkdir(parents=True)
    (site / "docker" / "__init__.py").write_text("INIT_RAN = True\n")
    (site / "docker" / "utils" / "__init__.py").write_text("def helper():\n    return 7\n")
    (site / "docker" / "utils" / "build.py").write_text(
        "from docker.utils import helper\n\n"
        "class PatternMatcher:\n    pass\n\n"
        "def exclude_paths(root, patterns, dockerfile=None):\n    return {helper()}\n"
    )
    out = _run("""
        import sys
        from r2d_tui.core import lazy
        base = lazy.load("repo2docker.buildpacks.base")
        print(base.exclude_paths(".", []), sys.modules["docker"].INIT_RAN)
        build = lazy.load("docker.utils.build")
        print(sys.modules["docker.utils.build"] is build, build.exclude_paths is base.exclude_paths)
    """, site=site)
    assert out.split() == ["{7}", "True", "True", "True"]
