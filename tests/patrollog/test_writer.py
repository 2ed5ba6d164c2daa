"""PatrolLogWriter: creation, validation, failures (disk full, killed process, power loss)."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from riverpatrol.patrollog import PatrolLog, PatrolLogError, PatrolLogWriter

BATCH = 300  # rows per positions batch: spans several WAL frames, so a cut can land inside a batch


def write_position_batch(writer: PatrolLogWriter, i: int, n: int = BATCH) -> None:
    """Batch ``i``: times i*n .. i*n+n-1, lon = i everywhere, so a reader can tell batches apart."""
    t = i * n + np.arange(n, dtype=np.float64)
    writer.positions(t, np.full(n, float(i)), t / 7, t / 11, t / 13, t / 17)


def whole_batches(log: PatrolLog, n: int = BATCH) -> int:
    """How many leading batches the log holds; fails unless they are complete and in order."""
    cols = log.columns("position")
    count = len(cols["t"])
    assert count % n == 0, f"{count} rows is not a whole number of {n}-row batches"
    batches = count // n
    t = np.arange(batches * n, dtype=np.float64)
    np.testing.assert_array_equal(cols["t"], t)
    np.testing.assert_array_equal(cols["lon"], np.repeat(np.arange(batches, dtype=np.float64), n))
    np.testing.assert_array_equal(cols["heading"], t / 17)
    return batches


def index_names(path: Path) -> set[str]:
    db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
                if name.endswith("_t")}
    finally:
        db.close()


def test_writes_header_and_format(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    with PatrolLogWriter(path, {"scenario": "huangpu", "seed": np.int64(7), "gains": np.array([1.5, 2])}) as w:
        w.set_meta("end", {"state": "complete", "t": 12.5})
        w.set_meta("end", {"state": "aborted"})
    with PatrolLog(path) as log:
        assert log.meta == {"format": "riverpatrol.patrollog/1", "scenario": "huangpu", "seed": 7,
                            "gains": [1.5, 2.0], "end": {"state": "aborted"}}
        assert log.kinds() == []


def test_refuses_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    path.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="already exists"):
        PatrolLogWriter(path, {})
    assert path.read_bytes() == b"precious"


def test_refuses_stale_wal(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    (tmp_path / "p.db-wal").write_bytes(b"old")
    with pytest.raises(FileExistsError, match="p.db-wal"):
        PatrolLogWriter(path, {})
    assert not path.exists()


def test_format_key_is_reserved(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="reserved"):
        PatrolLogWriter(tmp_path / "p.db", {"format": "mine"})
    assert not (tmp_path / "p.db").exists()
    with PatrolLogWriter(tmp_path / "q.db", {}) as w, pytest.raises(ValueError, match="reserved"):
        w.set_meta("format", "mine")


def test_missing_sonde_parameters_are_null(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    with PatrolLogWriter(path, {}) as w:
        w.sonde([1.0, 2.0], {"ph": [7.1, 7.2], "do": [8.0, np.nan]})
    with PatrolLog(path) as log:
        assert [(s.t, s.values) for s in log.records("sonde")] == [
            (1.0, {"ph": 7.1, "do": 8.0}), (2.0, {"ph": 7.2})]
        assert np.isnan(log.columns("sonde")["turbidity"]).all()


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda w: w.positions([0, 1], [0], [0, 0], [0, 0], [0, 0], [0, 0]), ValueError, "lon: expected 2"),
    (lambda w: w.positions([[0, 1]], [0], [0], [0], [0], [0]), ValueError, "1-D"),
    (lambda w: w.positions([0, np.nan], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0]), ValueError, "finite"),
    (lambda w: w.sonde([0], {"ph": [7], "pH": [7]}), ValueError, "unknown sonde parameter"),
    (lambda w: w.scans([0, 1], [0, 0], np.zeros((2, 0), np.uint16), 5, 20, 5000), ValueError, "S >= 1"),
    (lambda w: w.scans([0], [0], np.full((1, 72), -1), 5, 20, 5000), ValueError, "uint16"),
    (lambda w: w.scans([0], [0], np.zeros((1, 72)), 5, 20, 5000), TypeError, "integer"),
    (lambda w: w.pings([0, 1], 30, np.zeros((2, 4), np.uint8), np.zeros((3, 4), np.uint8)),
     ValueError, "starboard"),
    (lambda w: w.pings([0], 30, np.full((1, 4), 256), np.zeros((1, 4), np.uint8)), ValueError, "uint8"),
    (lambda w: w.frames([0, 1], 4, 3, [b"x"]), ValueError, "jpegs"),
    (lambda w: w.event(0.0, "", a=1), ValueError, "kind"),
    (lambda w: w.event(0.0, "x", a=float("nan")), ValueError, "JSON"),
    (lambda w: w.event(0.0, "x", a=object()), TypeError, "object"),
])
def test_invalid_batches_are_rejected_before_writing(tmp_path: Path, call, error, message) -> None:
    path = tmp_path / "p.db"
    with PatrolLogWriter(path, {}) as w:
        with pytest.raises(error, match=message):
            call(w)
    with PatrolLog(path) as log:
        assert log.kinds() == []


def test_event_detail_may_use_any_name(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    with PatrolLogWriter(path, {}) as w:
        w.event(3.0, "waypoint", t=1, kind="x", index=np.int32(4))
        w.events([(1.0, "mode", {"mode": "AUTO"}), (2.0, "arm", {})])
    with PatrolLog(path) as log:
        assert [(e.t, e.kind, e.detail) for e in log.records("event")] == [
            (1.0, "mode", {"mode": "AUTO"}), (2.0, "arm", {}),
            (3.0, "waypoint", {"t": 1, "kind": "x", "index": 4})]


def test_close_builds_time_indexes_and_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    w = PatrolLogWriter(path, {})
    write_position_batch(w, 0)
    assert index_names(path) == set()  # writing stays index-free
    w.close()
    w.close()
    assert not (tmp_path / "p.db-wal").exists()  # checkpointed: the log is one file
    assert index_names(path) == {f"{k}_t" for k in ("position", "sonde", "ranging", "sonar", "frame", "event")}
    with pytest.raises(PatrolLogError, match="closed"):
        write_position_batch(w, 1)


def test_disk_full_rolls_back_the_batch_and_keeps_earlier_ones(tmp_path: Path) -> None:
    path = tmp_path / "small.db"
    with PatrolLogWriter(path, {}, max_bytes=256 * 1024) as w:
        write_position_batch(w, 0)
        big = np.full((1000, 500), 9, np.uint8)  # ~1 MB: cannot fit in 256 KiB
        with pytest.raises(PatrolLogError) as failure:
            w.pings(np.arange(1000.0), 30.0, big, big)
        message = str(failure.value)
        assert str(path) in message and "sonar pings" in message and "full" in message
        assert isinstance(failure.value.__cause__, sqlite3.OperationalError)
        write_position_batch(w, 1)  # the writer carries on after the failure
    with PatrolLog(path) as log:
        assert whole_batches(log) == 2
        assert log.count("sonar") == 0


def test_close_on_a_full_disk_still_closes_and_leaves_a_readable_log(tmp_path: Path) -> None:
    path = tmp_path / "full.db"
    w = PatrolLogWriter(path, {}, max_bytes=64 * 1024)
    committed = 0
    for n in (100, 1):  # fill to the last page: big batches, then single rows
        with contextlib.suppress(PatrolLogError):
            while True:
                w.positions(np.full(n, float(committed)), *np.zeros((5, n)))
                committed += n
    with pytest.raises(PatrolLogError, match="time indexes"):
        w.close()
    w.close()
    with pytest.raises(PatrolLogError, match="closed"):
        w.event(0.0, "late")
    with PatrolLog(path) as log:
        assert committed > 100 and log.count("position") == committed
    assert index_names(path) == set()


def test_too_small_for_the_header_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "tiny.db"
    with pytest.raises(PatrolLogError, match=f"{path}.*header.*full"):
        PatrolLogWriter(path, {}, max_bytes=4096)
    assert list(tmp_path.iterdir()) == []


def test_power_loss_mid_write_leaves_a_prefix_of_whole_batches(tmp_path: Path) -> None:
    """Cut the WAL at every frame boundary and inside frames: each cut reads as whole batches."""
    live = tmp_path / "live.db"
    batches = 8
    w = PatrolLogWriter(live, {"test": "power"})
    for i in range(batches):
        write_position_batch(w, i)
    saved_db = live.read_bytes()
    saved_wal = (tmp_path / "live.db-wal").read_bytes()  # copied while the writer is still open
    w.close()

    page = int.from_bytes(saved_db[16:18], "big")
    frame = 24 + page
    frames = (len(saved_wal) - 32) // frame
    assert len(saved_wal) == 32 + frames * frame and frames > batches  # batches span several frames
    cuts = [0, 17, *(32 + k * frame + d for k in range(frames) for d in (0, 10, 24 + page // 2)),
            len(saved_wal)]
    seen = []
    for cut in cuts:
        copy = tmp_path / f"cut{cut}"
        copy.mkdir()
        (copy / "p.db").write_bytes(saved_db)
        (copy / "p.db-wal").write_bytes(saved_wal[:cut])
        with PatrolLog(copy / "p.db") as log:
            assert log.meta["test"] == "power"
            seen.append(whole_batches(log))
    assert seen == sorted(seen)  # a longer WAL never holds fewer batches
    assert set(seen) == set(range(batches + 1))  # and every prefix length occurs


CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    from riverpatrol.patrollog import PatrolLogWriter

    w = PatrolLogWriter(sys.argv[1], {"test": "killed"})
    for i in range(5000):
        t = i * 300 + np.arange(300, dtype=np.float64)
        w.positions(t, np.full(300, float(i)), t / 7, t / 11, t / 13, t / 17)
        w.pings(t[:20], 30.0, np.full((20, 500), i % 256, np.uint8), np.zeros((20, 500), np.uint8))
        if i == 20:
            print("ready", flush=True)
""")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_log_of_a_killed_writer_holds_whole_batches(tmp_path: Path) -> None:
    path = tmp_path / "killed.db"
    with subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True) as child:
        try:
            assert child.stdout is not None and child.stdout.readline() == "ready\n"
            time.sleep(0.3)  # let it get well into the loop, so the kill lands mid-write
        finally:
            child.kill()
    assert child.returncode == -9
    assert (tmp_path / "killed.db-wal").exists() and index_names(path) == set()
    with PatrolLog(path) as log:
        assert log.meta["test"] == "killed"
        batches = whole_batches(log)
        assert batches > 20
        pings = log.columns("sonar")
        n_pings = len(pings["t"])
        assert n_pings % 20 == 0 and batches - 1 <= n_pings // 20 <= batches
        expected = np.repeat(np.arange(n_pings // 20) % 256, 20)
        np.testing.assert_array_equal(pings["port"], np.repeat(expected[:, None], 500, axis=1))


def test_a_batch_commits_every_kind_together_or_nothing(tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite"
    with PatrolLogWriter(path, {}) as writer:
        with writer.batch():
            write_position_batch(writer, 0)
            writer.event(1.0, "kept")
        with pytest.raises(ValueError), writer.batch():
            write_position_batch(writer, 1)
            writer.event(2.0, "lost")
            writer.positions([3.0], [1.0], [2.0], [0.0], [0.0], [float("inf")] * 2)  # wrong length
    with PatrolLog(path) as log:
        assert log.count("position") == BATCH
        assert [e.kind for e in log.records("event")] == ["kept"]
