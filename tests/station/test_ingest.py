"""A finished patrol log into the store: rows, GB 3838 classes on the track, the analysis."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from riverpatrol.patrollog import PatrolLog, PatrolLogError, PatrolLogWriter
from riverpatrol.station import models
from riverpatrol.station.ingest import LogTail, import_log
from riverpatrol.station.store import Store


def test_import_stores_every_fix_sample_and_event_and_the_findings(store: Store, patrol_log: Path) -> None:
    patrol_id = import_log(store, patrol_log, maps=())
    with PatrolLog(patrol_log) as log:
        expected = {kind: log.count(kind) for kind in ("position", "sonde", "event")}
    with store.session() as session:
        count = lambda model: session.scalar(select(func.count()).where(model.patrol_id == patrol_id))
        assert count(models.Position) == expected["position"]
        assert count(models.Sample) == expected["sonde"]
        assert count(models.Event) == expected["event"]
        assert 0 < count(models.Frame)
        findings = session.scalars(select(models.Finding).order_by(models.Finding.rank)).all()
        segments = session.scalars(select(models.Segment)).all()
        patrol = session.get_one(models.Patrol, patrol_id)
    assert patrol.status == "finished" and patrol.summary["patrol"]["samples"] == expected["sonde"]
    assert any(f.bank == "left" and abs(f.chainage_m - 150.0) <= 20 for f in findings)
    assert [f.confidence for f in findings] == sorted((f.confidence for f in findings), reverse=True)
    assert segments and all(1 <= s.water_class <= 6 and len(s.ring) > 3 for s in segments)


def test_samples_sit_on_the_track_with_their_class(store: Store, patrol_log: Path) -> None:
    patrol_id = import_log(store, patrol_log, maps=())
    with store.session() as session:
        samples = session.scalars(select(models.Sample).where(models.Sample.patrol_id == patrol_id)
                                  .order_by(models.Sample.t)).all()
        fixes = session.scalars(select(models.Position).order_by(models.Position.t)).all()
    lons = [f.lon for f in fixes]
    assert all(min(lons) <= s.lon <= max(lons) for s in samples)
    nh3n_class = lambda v: 1 + sum(v > limit for limit in (0.15, 0.5, 1.0, 1.5, 2.0))  # GB 3838 Table 1
    assert all(s.water_class >= nh3n_class(s.values["nh3n"]) for s in samples)
    plume = max(samples, key=lambda s: s.values["nh3n"])
    assert nh3n_class(plume.values["nh3n"]) > nh3n_class(samples[0].values["nh3n"])  # the boat crossed the plume


def test_reading_in_windows_gives_what_one_read_gives(patrol_log: Path) -> None:
    with PatrolLog(patrol_log) as log:
        whole = LogTail(log).read(None)
        tail = LogTail(log)
        parts = [tail.read(t) for t in (30.0, 60.5, 90.0)] + [tail.read(None)]
    assert [p["t"] for w in parts for p in w.positions] == [p["t"] for p in whole.positions]
    assert [s["values"] for w in parts for s in w.samples] == [s["values"] for s in whole.samples]
    assert [e["kind"] for w in parts for e in w.events] == [e["kind"] for e in whole.events]


def test_a_broken_log_is_refused_and_nothing_is_stored(store: Store, tmp_path: Path) -> None:
    bad = tmp_path / "patrol.sqlite"
    bad.write_bytes(b"not a database at all" * 100)
    with pytest.raises(PatrolLogError, match="patrol.sqlite"):
        import_log(store, bad, maps=())
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(models.Patrol)) == 0


def test_a_log_too_short_to_analyse_leaves_no_patrol(store: Store, patrol_log: Path, tmp_path: Path) -> None:
    import sqlite3

    short = tmp_path / "short.sqlite"
    shutil.copy(patrol_log, short)
    with sqlite3.connect(short) as db:
        db.execute("DELETE FROM sonde")
    with pytest.raises(ValueError, match="nothing to analyse"):
        import_log(store, short, maps=())
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(models.Patrol)) == 0


def test_a_growing_log_is_read_in_order_once_with_records_stamped_at_a_bound_read_late(
        tmp_path: Path, short_scenario: dict) -> None:
    from riverpatrol.scenario import parse_scenario
    from riverpatrol.simulate import log_metadata

    lon, lat = short_scenario["boat"]["home"]
    with PatrolLogWriter(tmp_path / "patrol.sqlite", log_metadata(parse_scenario(short_scenario))) as writer:
        tail = LogTail(PatrolLog(tmp_path / "patrol.sqlite"))
        windows = []
        for tick in range(1, 6):
            t = tick * 0.1
            with writer.batch():
                writer.positions([t], [lon], [lat], [1.0], [90.0], [90.0])
                writer.event(t, "tick")
            if tick == 3:  # committed after the station read up to 0.2, stamped 0.2
                writer.event(0.2, "mode", mode="HOLD")
            windows.append(tail.read(t))  # the writer has committed everything up to t
        writer.event(0.5, "patrol_end")
        windows.append(tail.read(None))
        tail.log.close()
    assert [[round(p["t"], 6) for p in w.positions] for w in windows] == [[0.1], [0.2], [0.3], [0.4], [0.5], []]
    assert [[e["kind"] for e in w.events] for w in windows] == [["tick"], ["tick"], ["mode", "tick"], ["tick"],
                                                                ["tick"], ["patrol_end"]]
