"""The full build log on disk: every line of a build that prints more than any front end
keeps, on the real engine; and only the newest logs of a repository are kept."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_build_engine import BUSYBOX, OPTIONS, Images, write

from r2d_tui.core import buildlog, progress
from r2d_tui.core.build import BuildSpec, BuildStarted, run_build
from r2d_tui.core.buildlog import BuildLog, log_dir_for


@pytest.fixture
def images() -> Iterator[Images]:
    janitor = Images()
    yield janitor
    janitor.remove()


@pytest.mark.engine
async def test_the_log_on_disk_has_every_line_the_tracker_dropped(
    tmp_path: Path, images: Images, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress, "MAX_LOG_LINES_PER_STEP", 100)
    nonce = uuid.uuid4().hex[:12]
    root = write(tmp_path / "chatty", {
        "Dockerfile": f"FROM {BUSYBOX}\n"
        f"RUN i=1; while [ $i -le 1500 ]; do echo {nonce}-$i; i=$((i+1)); done\n"
    })
    started: list[BuildStarted] = []
    result = await run_build(
        BuildSpec.from_disk(root, OPTIONS, tag=images.tag()),
        lambda event: started.append(event) if isinstance(event, BuildStarted) else None,
    )
    assert result.success, result.error
    step = next(s for s in result.steps if s.title and s.title.startswith("RUN"))
    assert len(step.logs) == 100 and step.dropped_lines == 1400  # the cap in memory
    assert result.log_path is not None and started[0].log_path == result.log_path
    assert result.log_path.parent == log_dir_for(root)
    text = result.log_path.read_text(encoding="utf-8")
    lines = [line.split(" ", 1)[1] for line in text.splitlines()
             if line.startswith("#") and nonce + "-" in line and " RUN " not in line]
    assert lines == [f"{nonce}-{i}" for i in range(1, 1501)]
    assert "RUN i=1" in text and "DONE" in text and text.rstrip().endswith(result.image_id or "?")


def test_only_the_newest_logs_are_kept(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    folder = log_dir_for(root)
    folder.mkdir(parents=True)
    for index in range(buildlog.LOGS_KEPT + 5):
        (folder / f"build-20260101-0000{index:02d}-1-000001.log").write_text("old\n")
    log = BuildLog.create(root)
    assert log is not None
    log.write_text("new")
    log.close()
    kept = sorted(p.name for p in folder.iterdir())
    assert len(kept) == buildlog.LOGS_KEPT
    assert log.path.name in kept and log.path.read_text() == "new\n"
    assert "build-20260101-000000-1-000001.log" not in kept  # the oldest went first


def test_an_unwritable_log_folder_means_no_log_not_a_failure(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("R2D_TUI_CACHE_DIR", str(blocker))
    assert BuildLog.create(tmp_path) is None
