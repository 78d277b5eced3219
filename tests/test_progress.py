"""The rawjson progress decoder and step tracker: hand-written edge cases and real output."""

from __future__ import annotations

import base64
import json
import random
import subprocess
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from r2d_tui.core.progress import (
    BuildWarning,
    ExpectedStep,
    JSONStreamDecoder,
    OutputLine,
    ProgressEvent,
    ProgressTracker,
    Step,
    StepFinished,
    StepLog,
    StepStarted,
    StepStatus,
    parse_timestamp,
)
from r2d_tui.core.sources import expected_steps

BUSYBOX = "r2d-tui-test/busybox:latest"
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def pretty(*objects: dict[str, Any]) -> str:
    """Objects as buildx 0.13 writes them: indented, one after another."""
    return "".join(json.dumps(o, indent=2) + "\n" for o in objects)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def vertex(digest: str, name: str, **fields: Any) -> dict[str, Any]:
    return {"vertexes": [{"digest": digest, "name": name, **fields}]}


def log(digest: str, data: bytes, stream: int = 1) -> dict[str, Any]:
    return {
        "logs": [
            {
                "vertex": digest,
                "stream": stream,
                "data": b64(data),
                "timestamp": "2026-01-01T00:00:01Z",
            }
        ]
    }


T0 = "2026-01-01T00:00:00.100000000Z"
T1 = "2026-01-01T00:00:01.600000000Z"


def feed_in_chunks(
    text: str, sizes: list[int], expected: tuple[ExpectedStep, ...] = ()
) -> tuple[ProgressTracker, list[ProgressEvent]]:
    tracker = ProgressTracker(expected=expected)
    events: list[ProgressEvent] = []
    pos = 0
    for size in sizes:
        events += tracker.feed_text(text[pos : pos + size])
        pos += size
    events += tracker.feed_text(text[pos:])
    events += tracker.finish()
    return tracker, events


# --- decoder ---------------------------------------------------------------------------------


def test_decoder_objects_survive_every_chunk_boundary() -> None:
    objects: list[dict[str, Any]] = [
        {"a": 1, "b": {"c": [1, 2, "x}{"]}},
        {"d": "e\nf"},
        {"g": True},
    ]
    text = pretty(*objects)
    for cut in range(1, len(text)):
        decoder = JSONStreamDecoder()
        out = decoder.feed(text[:cut]) + decoder.feed(text[cut:]) + decoder.close()
        assert out == objects, cut


def test_decoder_one_character_at_a_time() -> None:
    objects: list[dict[str, Any]] = [
        {"vertexes": [{"digest": D1, "name": "[1/2] FROM x"}]},
        {"logs": []},
    ]
    decoder = JSONStreamDecoder()
    out: list[dict[str, Any] | str] = []
    for char in pretty(*objects):
        out += decoder.feed(char)
    assert out + decoder.close() == objects


def test_decoder_passes_text_lines_through_with_indentation() -> None:
    text = (
        pretty({"a": 1})
        + "Dockerfile:2\n   2 | >>> RUN false\n"
        + "{not json\n"
        + "ERROR: failed to solve: boom\n"
    )
    decoder = JSONStreamDecoder()
    assert decoder.feed(text) + decoder.close() == [
        {"a": 1},
        "Dockerfile:2",
        "   2 | >>> RUN false",
        "{not json",
        "ERROR: failed to solve: boom",
    ]


def test_decoder_keeps_indentation_split_across_chunks() -> None:
    decoder = JSONStreamDecoder()
    assert decoder.feed('{"a": 1}\n   ') == [{"a": 1}]
    assert decoder.feed("2 | >>> RUN false\n") == ["   2 | >>> RUN false"]
    assert decoder.close() == []


def test_decoder_holds_an_incomplete_line_until_close() -> None:
    decoder = JSONStreamDecoder()
    assert decoder.feed('{"a": tr') == []
    assert decoder.feed("ue}\nERROR: no newl") == [{"a": True}]
    assert decoder.close() == ["ERROR: no newl"]


def test_decoder_close_returns_a_truncated_object_as_text_lines() -> None:
    decoder = JSONStreamDecoder()
    assert decoder.feed('{\n  "vertexes": [') == []
    assert decoder.close() == ["{", '  "vertexes": [']


def test_timestamps_with_nanoseconds() -> None:
    parsed = parse_timestamp("2026-12-03T18:49:57.299637758Z")
    assert parsed is not None
    assert parsed.microsecond == 299637
    assert parsed.utcoffset() == timedelta(0)
    assert parse_timestamp("nonsense") is None
    assert parse_timestamp(None) is None


# --- step names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "index", "total", "stage", "internal", "instruction"),
    [
        ("[2/3] RUN echo hi", 2, 3, None, False, "RUN"),
        ("[ 2/21] COPY src/ /srv/", 2, 21, None, False, "COPY"),
        ("[stage-1 3/3] RUN cat /b", 3, 3, "stage-1", False, "RUN"),
        ("[builder  2/12] RUN make", 2, 12, "builder", False, "RUN"),
        ("[internal] load build definition from Dockerfile", None, None, None, True, None),
        ("exporting to image", None, None, None, True, None),
    ],
)
def test_step_names(
    name: str,
    index: int | None,
    total: int | None,
    stage: str | None,
    internal: bool,
    instruction: str | None,
) -> None:
    step = Step.from_name(D1, name)
    assert (step.index, step.total, step.stage, step.internal) == (index, total, stage, internal)
    assert step.instruction == instruction


# --- tracker ---------------------------------------------------------------------------------


def test_log_line_split_across_records_and_carriage_returns() -> None:
    text = pretty(
        vertex(D1, "[2/3] RUN echo hi", started=T0),
        log(D1, b"first\nsec"),
        log(D1, b"ond\n10%\r50%"),
        log(D1, b"\r100%\n"),
        log(D1, b"no newline at end"),
        vertex(D1, "[2/3] RUN echo hi", started=T0, completed=T1),
    )
    tracker, events = feed_in_chunks(text, [7, 50, 3, 200])
    step = tracker.steps[0]
    assert step.logs == ["first", "second", "100%", "no newline at end"]
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "StepStarted" and kinds[-1] == "StepFinished"
    logged = [line for e in events if isinstance(e, StepLog) for line in e.lines]
    assert logged == step.logs
    assert step.duration == pytest.approx(1.5)


def test_partial_line_is_visible_while_running() -> None:
    tracker = ProgressTracker()
    tracker.feed(vertex(D1, "[1/1] RUN pip install", started=T0))
    tracker.feed(log(D1, b"Downloading 10%\rDownloading 40%"))
    step = tracker.steps[0]
    assert step.running and step.logs == []
    assert step.current_line == "Downloading 40%"


def test_utf8_character_split_across_records() -> None:
    snowman = "☃".encode()
    tracker = ProgressTracker()
    tracker.feed(vertex(D1, "[1/1] RUN x", started=T0))
    tracker.feed(log(D1, b"a" + snowman[:1]))
    tracker.feed(log(D1, snowman[1:] + b"b\n"))
    assert tracker.steps[0].logs == ["a☃b"]


def test_stdout_and_stderr_partials_do_not_mix() -> None:
    tracker = ProgressTracker()
    tracker.feed(vertex(D1, "[1/1] RUN x", started=T0))
    tracker.feed(log(D1, b"out-", 1))
    tracker.feed(log(D1, b"err-", 2))
    tracker.feed(log(D1, b"1\n", 1))
    tracker.feed(log(D1, b"2\n", 2))
    assert tracker.steps[0].logs == ["out-1", "err-2"]


def test_error_vertex_and_error_summary() -> None:
    text = pretty(
        vertex(D1, "[1/2] FROM docker.io/library/busybox", started=T0, completed=T0, cached=True),
        vertex(D2, "[2/2] RUN exit 3", started=T0),
        log(D2, b"about to fail\n", 2),
        vertex(
            D2,
            "[2/2] RUN exit 3",
            started=T0,
            completed=T1,
            error='process "/bin/sh -c exit 3" did not complete successfully: exit code: 3',
        ),
    ) + (
        "Dockerfile:2\n--------------------\n   2 | >>> RUN exit 3\n--------------------\n"
        'ERROR: failed to solve: process "/bin/sh -c exit 3" did not complete successfully\n'
    )
    tracker, events = feed_in_chunks(text, [100] * 20)
    failed = tracker.failed_step
    assert failed is not None and failed.index == 2
    assert failed.error is not None and "exit code: 3" in failed.error
    assert failed.logs == ["about to fail"]
    finished = [e for e in events if isinstance(e, StepFinished)]
    assert [(e.step.index, e.cached, e.error is not None) for e in finished] == [
        (1, True, False),
        (2, False, True),
    ]
    assert tracker.error_line == (
        'failed to solve: process "/bin/sh -c exit 3" did not complete successfully'
    )
    assert [e.text for e in events if isinstance(e, OutputLine)][2] == "   2 | >>> RUN exit 3"


def test_restarted_vertex_in_one_object_reports_two_runs_in_order() -> None:
    text = pretty(
        {
            "vertexes": [
                {
                    "digest": D1,
                    "name": "[internal] load build definition",
                    "started": T0,
                    "completed": T0,
                },
                {"digest": D1, "name": "[internal] load build definition", "started": T1},
            ]
        },
        vertex(D1, "[internal] load build definition", started=T1, completed=T1),
    )
    tracker, events = feed_in_chunks(text, [])
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["StepStarted", "StepFinished", "StepStarted", "StepFinished"]
    step = tracker.steps[0]
    assert step.internal and step.runs == 2 and step.done


def test_logs_in_the_same_object_come_before_the_finish() -> None:
    status = {
        "vertexes": [{"digest": D1, "name": "[1/1] RUN echo", "started": T0, "completed": T1}],
        "logs": [{"vertex": D1, "stream": 1, "data": b64(b"hello\nbye"), "timestamp": T1}],
    }
    events = ProgressTracker().feed(status)
    assert [type(e) for e in events] == [StepStarted, StepLog, StepLog, StepFinished]
    assert [e.lines for e in events if isinstance(e, StepLog)] == [("hello",), ("bye",)]


def test_statuses_and_warnings() -> None:
    tracker = ProgressTracker()
    tracker.feed(vertex(D1, "[internal] load build context", started=T0))
    events = tracker.feed(
        {
            "statuses": [
                {
                    "id": "transferring context:",
                    "vertex": D1,
                    "name": "transferring",
                    "current": 153,
                    "timestamp": T0,
                    "started": T0,
                    "completed": T1,
                }
            ],
            "warnings": [
                {
                    "vertex": D1,
                    "level": 1,
                    "short": b64(b"FromAsCasing: 'as' and 'FROM'"),
                    "detail": [b64(b"keywords should match")],
                    "url": "https://docs.docker.com/x",
                }
            ],
        }
    )
    status = next(e for e in events if isinstance(e, StepStatus))
    assert (status.current, status.completed, status.step.digest) == (153, True, D1)
    warning = next(e for e in events if isinstance(e, BuildWarning))
    assert warning.message == "FromAsCasing: 'as' and 'FROM'"
    assert warning.detail == ("keywords should match",)
    assert warning.step is not None and tracker.warnings == [warning]


def test_steps_are_ordered_by_start_then_index() -> None:
    tracker = ProgressTracker()
    tracker.feed(vertex(D2, "[2/2] RUN b"))
    tracker.feed(vertex(D1, "[1/2] RUN a", started=T0, completed=T0, cached=True))
    tracker.feed(vertex(D2, "[2/2] RUN b", started=T0, completed=T0, cached=True))
    assert [s.index for s in tracker.steps] == [1, 2]


# --- real output -----------------------------------------------------------------------------


@pytest.fixture
def tag() -> Iterator[str]:
    name = f"r2d-tui-test-progress/{uuid.uuid4().hex[:12]}:latest"
    yield name
    subprocess.run(["docker", "image", "rm", "--force", name], capture_output=True, check=False)


def capture(context: Path, tag: str) -> tuple[int, str]:
    """Run buildx with rawjson progress the way the build module does, returning stderr."""
    done = subprocess.run(
        [
            "docker",
            "buildx",
            "build",
            "--progress",
            "rawjson",
            "--load",
            "--tag",
            tag,
            str(context),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stderr


@pytest.mark.engine
def test_real_buildx_output(tmp_path: Path, tag: str) -> None:
    nonce = uuid.uuid4().hex
    (tmp_path / "data.txt").write_text(nonce)
    (tmp_path / "Dockerfile").write_text(
        f"FROM {BUSYBOX}\n"
        "COPY data.txt /data.txt\n"
        f"RUN echo start-{nonce} && echo -n partial && sleep 0.2 && printf '1%%\\r99%%\\n'\n"
        "RUN cat /data.txt\n"
    )
    code, first = capture(tmp_path, tag)
    assert code == 0, first
    code, again = capture(tmp_path, tag)
    assert code == 0, again

    rng = random.Random(7)
    # as run_build does: a FROM shared with another build running meanwhile keeps our number
    expected = expected_steps((tmp_path / "Dockerfile").read_text())
    tracker, events = feed_in_chunks(first, [rng.randint(1, 300) for _ in range(400)], expected)
    assert tracker.text_lines == []
    steps = [s for s in tracker.steps if not s.internal]
    assert [(s.index, s.total, s.instruction) for s in steps] == [
        (1, 4, "FROM"),
        (2, 4, "COPY"),
        (3, 4, "RUN"),
        (4, 4, "RUN"),
    ]
    assert all(s.done and s.error is None for s in tracker.steps)
    assert not steps[1].cached and not steps[2].cached
    assert steps[2].logs == [f"start-{nonce}", "99%"]
    assert steps[3].logs == [nonce]
    assert any(s.internal and s.name == "exporting to image" for s in tracker.steps)
    started = {e.step.digest for e in events if isinstance(e, StepStarted)}
    finished = {e.step.digest for e in events if isinstance(e, StepFinished)}
    assert started == finished == {s.digest for s in tracker.steps}

    cached_run = ProgressTracker(expected=expected)
    cached_run.feed_text(again)
    cached_run.finish()
    user_steps = [s for s in cached_run.steps if not s.internal and s.instruction != "FROM"]
    assert len(user_steps) == 3 and all(s.cached for s in user_steps)
    assert all(s.logs == [] for s in user_steps)


@pytest.mark.engine
def test_real_buildx_failure_output(tmp_path: Path, tag: str) -> None:
    nonce = uuid.uuid4().hex
    (tmp_path / "Dockerfile").write_text(
        f"FROM {BUSYBOX}\nRUN echo out-{nonce}; echo err-{nonce} >&2; exit 3\n"
    )
    code, text = capture(tmp_path, tag)
    assert code != 0
    tracker = ProgressTracker()
    for i in range(0, len(text), 64):
        tracker.feed_text(text[i : i + 64])
    tracker.finish()
    failed = tracker.failed_step
    assert failed is not None and failed.index == 2
    assert failed.error is not None and "exit code: 3" in failed.error
    assert sorted(failed.logs) == sorted([f"out-{nonce}", f"err-{nonce}"])
    assert tracker.error_line is not None and tracker.error_line.startswith("failed to solve")
    assert any(">>> RUN" in line for line in tracker.text_lines)
