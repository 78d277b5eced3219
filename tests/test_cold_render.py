"""A render of a repository never seen before: what it may skip, and that it still prints
repo2docker's exact bytes.

Four things make it cheaper than ``repo2docker --no-build`` (issue #9): ``repo2docker.app``
is not imported (its package ``__init__`` is stood in for, and the app's defaults are kept
per installation), neither is the Docker SDK client nor requests (``docker.utils.build``
is imported without its packages' ``__init__``; requests runs on first use), and the
compiled Dockerfile template is kept between runs. Each is checked here in a fresh
interpreter, against repo2docker's own output.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from app_support import make_repo

from r2d_tui.core import lazy, render

BIN = Path(sys.executable).parent

#: Renders argv[1] through the CLI in this interpreter; reports on stderr which heavy
#: modules were imported.
_RENDER_AND_REPORT = r"""
import json, sys
from r2d_tui.cli import main
code = main(["dockerfile", sys.argv[1]])
sys.stdout.flush()
heavy = ["repo2docker.app", "repo2docker.contentproviders", "traitlets.config.application",
         "docker", "urllib3", "http.client"]
package = sys.modules.get("repo2docker")
sys.stderr.write("\nPACKAGE=" + json.dumps([getattr(package, "__file__", None),
                                           getattr(package, "CHANGED", False)]))
sys.stderr.write("\nIMPORTED=" + json.dumps([m for m in heavy if m in sys.modules]) + "\n")
raise SystemExit(code)
"""


def _env(cache: Path, site: Path | None = None) -> dict[str, str]:
    env = dict(os.environ, R2D_TUI_CACHE_DIR=str(cache))
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")])
    return env


def _render(repo: Path, cache: Path, site: Path | None = None,
            prelude: str = "") -> tuple[bytes, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", prelude + _RENDER_AND_REPORT, str(repo)],
        env=_env(cache, site), capture_output=True, check=False, timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()
    report = done.stderr.decode().rsplit("IMPORTED=", 1)[1]
    return done.stdout, list(json.loads(report))


def _repo2docker(repo: Path, cache: Path, site: Path | None = None) -> bytes:
    done = subprocess.run(
        [sys.executable, "-m", "repo2docker", "--no-build", str(repo)],
        env=_env(cache, site), capture_output=True, check=False, timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def test_a_new_repository_renders_without_importing_repo2docker_app(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = make_repo(tmp_path / "first", {"requirements.txt": "numpy\n"})
    new = make_repo(tmp_path / "new", {"environment.yml": "dependencies:\n  - python=3.11\n"})
    out, imported = _render(first, cache)
    assert out == _repo2docker(first, cache)
    assert "repo2docker.app" in imported, "the first run learns the app's defaults from it"
    assert (cache / render.APP_DEFAULTS_FILE).is_file()

    out, imported = _render(new, cache)
    assert out == _repo2docker(new, cache)
    assert imported == [], (
        "a new repository imported repo2docker's application; if repo2docker's "
        "__init__.py changed, check r2d_tui.core.lazy's stand-in and its "
        "REPO2DOCKER_INIT_SHA256"
    )


def test_the_stand_in_package_offers_what_repo2docker_init_does() -> None:
    script = r"""
import importlib.metadata, sys
from r2d_tui.core import lazy
lazy.load("repo2docker.buildpacks")
assert "repo2docker.app" not in sys.modules
import repo2docker
assert repo2docker.__version__ == importlib.metadata.version("jupyter-repo2docker")
assert repo2docker.__all__ == ["__version__", "Repo2Docker"]
try:
    repo2docker.no_such_name
except AttributeError as error:
    assert "no_such_name" in str(error)
else:
    raise AssertionError("a missing name must raise AttributeError")
from repo2docker import Repo2Docker
import repo2docker.app
assert Repo2Docker is repo2docker.app.Repo2Docker
assert Repo2Docker().buildpacks
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ok\n"


def test_importing_the_app_module_directly_after_the_stand_in_works() -> None:
    script = r"""
from r2d_tui.core import lazy
lazy.load("repo2docker.utils")
app = lazy.load("repo2docker.app")
import repo2docker
print(app.Repo2Docker().base_image, repo2docker.Repo2Docker is app.Repo2Docker)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[1] == "True"


def test_an_unknown_repo2docker_init_is_imported_as_it_is(tmp_path: Path) -> None:
    """Another repo2docker whose ``__init__`` we do not know: imported normally (app and
    all), and the render is still that repo2docker's own."""
    import repo2docker

    site = tmp_path / "site-packages"
    shutil.copytree(Path(repo2docker.__file__).parent, site / "repo2docker")
    init = site / "repo2docker" / "__init__.py"
    init.write_text(init.read_text(encoding="utf-8") + "\nCHANGED = True\n", encoding="utf-8")
    assert hashlib.sha256(init.read_bytes()).hexdigest() != lazy.REPO2DOCKER_INIT_SHA256
    cache = tmp_path / "cache"
    _render(make_repo(tmp_path / "first", {"requirements.txt": "numpy\n"}), cache, site)
    repo = make_repo(tmp_path / "repo", {"environment.yml": "dependencies:\n  - python=3.12\n"})
    done = subprocess.run(
        [sys.executable, "-c", _RENDER_AND_REPORT, str(repo)],
        env=_env(cache, site), capture_output=True, check=False, timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()
    package = json.loads(done.stderr.decode().rsplit("PACKAGE=", 1)[1].split("\n", 1)[0])
    assert package == [str(init), True], "the copy's own __init__ ran"
    assert "repo2docker.app" in done.stderr.decode().rsplit("IMPORTED=", 1)[1]
    assert done.stdout == _repo2docker(repo, cache, site)


def test_app_defaults_are_repo2dockers_fresh_and_from_the_record(r2d_tui_cache_dir: Path,
                                                               monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    from repo2docker.app import Repo2Docker

    app = Repo2Docker()
    expected = render.AppDefaults(tuple(app.buildpacks), app.default_buildpack, app.base_image)
    monkeypatch.setattr(render, "_app_defaults", None)
    assert render.app_defaults() == expected  # made from the app, and written down
    record = r2d_tui_cache_dir / render.APP_DEFAULTS_FILE
    assert record.is_file()
    monkeypatch.setattr(render, "_app_defaults", None)
    monkeypatch.setattr(render, "_app_defaults_from", _must_not_be_called)
    assert render.app_defaults() == expected  # read back from the record


def _must_not_be_called(*args: object) -> None:
    raise AssertionError("the record should have been used")


@pytest.mark.parametrize("damage", ["garbage", "other-key", "unknown-class", "not-a-class",
                                    "outside-repo2docker"])
def test_a_stale_or_damaged_defaults_record_is_made_again(
    r2d_tui_cache_dir: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    monkeypatch.setattr(render, "_app_defaults", None)
    expected = render.app_defaults()
    record = r2d_tui_cache_dir / render.APP_DEFAULTS_FILE
    data = json.loads(record.read_text(encoding="utf-8"))
    good_key = data["key"]
    if damage == "garbage":
        record.write_text("{not json", encoding="utf-8")
    else:
        if damage == "other-key":
            data["key"] = "somewhere/else/app.py:0"
        elif damage == "unknown-class":
            data["buildpacks"][0] = "repo2docker.buildpacks.conda:NoSuchBuildPack"
        elif damage == "not-a-class":
            data["default_buildpack"] = "repo2docker.buildpacks.base:TEMPLATE"
        else:
            data["default_buildpack"] = "os:PathLike"
        record.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setattr(render, "_app_defaults", None)
    assert render.app_defaults() == expected
    assert json.loads(record.read_text(encoding="utf-8"))["key"] == good_key


def test_an_unwritable_cache_still_renders(tmp_path: Path) -> None:
    cache = tmp_path / "not-a-folder"
    cache.write_text("a file where the cache folder should be\n")
    repo = make_repo(tmp_path / "repo", {"requirements.txt": "numpy\n"})
    out, _ = _render(repo, cache)
    assert out == _repo2docker(repo, tmp_path / "cache-for-repo2docker")


def test_the_compiled_template_is_kept_and_renders_the_same(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    repo = make_repo(tmp_path / "repo", {"environment.yml": "dependencies:\n  - python=3.11\n"})
    expected = _repo2docker(repo, cache)
    out, _ = _render(repo, cache)
    assert out == expected
    kept = list((cache / "jinja").iterdir())
    assert len(kept) == 1

    no_compiling = (  # an empty template may compile: it gives the environment
        "import jinja2\n"
        "_compile = jinja2.Environment.compile\n"
        "def _refuse(self, source, *args, **kwargs):\n"
        "    assert not source, 'template compiled again'\n"
        "    return _compile(self, source, *args, **kwargs)\n"
        "jinja2.Environment.compile = _refuse\n"
    )
    shutil.rmtree(cache / "detect")  # not served from the detection cache
    out, _ = _render(repo, cache, prelude=no_compiling)
    assert out == expected

    kept[0].write_bytes(b"\x00not a jinja bytecode file")
    shutil.rmtree(cache / "detect")
    out, _ = _render(repo, cache)
    assert out == expected
    shutil.rmtree(cache / "detect")
    out, _ = _render(repo, cache, prelude=no_compiling)  # the damaged file was replaced
    assert out == expected
