"""Patrol logs into the store: a finished log at once, or a growing one window by window.

The patrol log is what crosses from boat to station, so live ingest and import read it the same
way: ``LogTail.read(until)`` returns every record in the next time window as store rows, with sonde
samples placed on the track and classed by GB 3838 as they come. The analysis (QC, segments,
findings) runs once a patrol is complete and its results are stored beside the rows.
"""

from __future__ import annotations

import json
import math
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import JSON, Table, delete, insert
from sqlalchemy.orm import Session

from riverpatrol.analysis.pipeline import AnalysisResult, analyze
from riverpatrol.analysis.standards import classify
from riverpatrol.analysis.track import river_frame
from riverpatrol.patrollog import PatrolLog
from riverpatrol.patrollog.reader import Columns
from riverpatrol.records import RangeScan
from riverpatrol.scenario import PARAMETERS
from riverpatrol.station import models
from riverpatrol.station.anomalies import AnomalyWatch
from riverpatrol.station.store import Store, data_dir

FRAME_KEEP_S = 1.0  # keyframes kept in the store at most this often; the live video sees them all
_EARTH_M = 6_371_008.8


@dataclass
class Window:
    """Store rows (without ``patrol_id``) of one time window of the log, with the anomaly signals
    raised on them, and what only the live view needs: every keyframe and the newest ranging scan
    as obstacle points."""

    until: float | None
    positions: list[dict[str, Any]] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    frames: list[dict[str, Any]] = field(default_factory=list)
    video: list[dict[str, Any]] = field(default_factory=list)
    anomalies: list[dict[str, Any]] = field(default_factory=list)
    obstacles: list[list[float]] | None = None

    def empty(self) -> bool:
        return not (self.positions or self.samples or self.events or self.video or self.anomalies)


class LogTail:
    """Reads a patrol log forward in time windows; the writer may still be appending to it.

    A log without a river map (a boat attached with no scenario) has no chainage and no signals."""

    def __init__(self, log: PatrolLog) -> None:
        self.log = log
        self._frame = river_frame(log.meta) if "river" in log.meta else None
        self._anomalies = AnomalyWatch.for_log(log.meta, self._frame)
        self.t = -math.inf
        self._at_t: dict[str, int] = {}  # rows of each kind stamped ``self.t`` already read
        self._last_fix: dict[str, Any] | None = None
        self._last_kept_frame = -math.inf

    def read(self, until: float | None = None) -> Window:
        """The records not read yet with ``t <= until`` (all that remain when ``until`` is None).

        A writer that has committed everything up to patrol time ``until`` has its last records read
        at once; one stamped at the previous ``until`` but committed after it was read (a mode change
        an operator's command caused) comes in this window, once.
        """
        t0 = None if self.t == -math.inf else self.t
        t1 = None if until is None else math.nextafter(until, math.inf)  # the log reads t0 <= t < t1
        window = Window(until)
        fresh = {kind: self._fresh(kind, self.log.columns(kind, t0, t1), until)
                 for kind in ("position", "sonde", "ranging")}
        before = [self._last_fix] if self._last_fix else []
        window.positions = self._positions(fresh["position"])
        window.samples = self._samples(fresh["sonde"], before + window.positions)
        if self._anomalies is not None:
            window.anomalies = self._anomalies.feed(window.positions, window.samples)
        window.events = [{"t": e.t, "kind": e.kind, "detail": e.detail}
                         for e in self._fresh_records("event", list(self.log.records("event", t0, t1)), until)]
        for frame in self._fresh_records("frame", list(self.log.records("frame", t0, t1)), until):
            row = {"t": frame.t, "width": frame.width, "height": frame.height, "jpeg": frame.jpeg}
            window.video.append(row)
            if frame.t >= self._last_kept_frame + FRAME_KEEP_S:
                window.frames.append(row)
                self._last_kept_frame = frame.t
        scans = fresh["ranging"]["t"]
        if len(scans) and self._last_fix:
            last = next(iter(self.log.records("ranging", float(scans[-1]), None)))
            assert isinstance(last, RangeScan)
            window.obstacles = obstacle_points(last, self._last_fix["lon"], self._last_fix["lat"])
        if until is not None:
            self.t = until
        return window

    def _fresh(self, kind: str, cols: Columns, until: float | None) -> Columns:
        """``cols`` (time-ordered, from ``self.t`` on) without the rows read before."""
        skip = self._skip(kind, cols["t"], until)
        return {name: column[skip:] for name, column in cols.items()} if skip else cols

    def _fresh_records(self, kind: str, records: list[Any], until: float | None) -> list[Any]:
        return records[self._skip(kind, [r.t for r in records], until):]

    def _skip(self, kind: str, t: Sequence[float] | np.ndarray, until: float | None) -> int:
        """How many leading rows of ``t`` were read before (rows at ``self.t``: ties come in write
        order), noting how many rows at ``until`` will have been read after this one."""
        t = np.asarray(t, float)
        skip = min(self._at_t.get(kind, 0), int(np.count_nonzero(t == self.t)))
        if until is not None:
            self._at_t[kind] = int(np.count_nonzero(t == until))
        return skip

    def _positions(self, cols: Columns) -> list[dict[str, Any]]:
        names = ("t", "lon", "lat", "sog", "cog", "heading")
        rows = [{name: _finite(v) for name, v in zip(names, values)}
                for values in zip(*(np.asarray(cols[n]).tolist() for n in names))]
        if rows:
            self._last_fix = rows[-1]
        return rows

    def _samples(self, sonde: Columns, fixes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        t = np.asarray(sonde["t"], float)
        if not len(t):
            return []
        values = {p: np.asarray(sonde[p], float) for p in PARAMETERS}
        classes = classify(values)
        water_class = classes.water_class
        lon, lat = self._place(t, fixes)
        placed = [i for i, x in enumerate(lon) if x is not None]
        chainage: list[float | None] = [None] * len(t)
        if placed and self._frame is not None:
            s, _ = self._frame.lonlat_to_river([lon[i] for i in placed], [lat[i] for i in placed])
            for i, value in zip(placed, s.tolist()):
                chainage[i] = round(value, 2)
        rows = []
        for i in range(len(t)):
            measured = {p: float(v[i]) for p, v in values.items() if np.isfinite(v[i])}
            by_item = {p: int(c[i]) for p, c in classes.by_parameter.items() if c[i]}
            rows.append({"t": float(t[i]), "lon": lon[i], "lat": lat[i], "chainage_m": chainage[i],
                         "water_class": int(water_class[i]), "values": measured, "classes": by_item})
        return rows

    def _place(self, t: np.ndarray, fixes: list[dict[str, Any]]) -> tuple[list[float | None], list[float | None]]:
        """Where the boat was at each sample time: linear between the fixes around it."""
        known = [f for f in fixes if f["lon"] is not None and f["lat"] is not None]
        if not known:
            return [None] * len(t), [None] * len(t)
        ft = [f["t"] for f in known]
        lon = np.interp(t, ft, [f["lon"] for f in known])
        lat = np.interp(t, ft, [f["lat"] for f in known])
        return lon.tolist(), lat.tolist()


def obstacle_points(scan: RangeScan, lon: float, lat: float) -> list[list[float]]:
    """Lon/lat of every sector that sees something, from the boat's position and heading."""
    d = scan.distances_cm.astype(float)
    seen = (d >= scan.min_cm) & (d <= scan.max_cm)
    bearing = np.radians(scan.heading_deg + scan.increment_deg * np.flatnonzero(seen))
    metres = d[seen] / 100.0
    dlat = np.degrees(metres * np.cos(bearing) / _EARTH_M)
    dlon = np.degrees(metres * np.sin(bearing) / (_EARTH_M * math.cos(math.radians(lat))))
    return [[round(lon + a, 7), round(lat + b, 7)] for a, b in zip(dlon.tolist(), dlat.tolist())]


def write_window(session: Session, patrol_id: int, window: Window) -> None:
    """Append a window's rows in the caller's transaction (COPY on PostgreSQL: ten times faster
    than INSERT for a whole patrol; a Core INSERT elsewhere: half the CPU of an ORM one per window)."""
    copy = session.bind is not None and session.bind.dialect.name == "postgresql"
    for model, rows in ((models.Position, window.positions), (models.Sample, window.samples),
                        (models.Event, window.events), (models.Frame, window.frames),
                        (models.Anomaly, window.anomalies)):
        if rows and copy:
            _copy(session, model.__table__, patrol_id, rows)
        elif rows:
            session.execute(insert(model.__table__), [{**row, "patrol_id": patrol_id} for row in rows])


def _copy(session: Session, table: Table, patrol_id: int, rows: list[dict[str, Any]]) -> None:
    names = list(rows[0])
    as_json = {name for name in names if isinstance(table.c[name].type, JSON)}
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    quoted = ", ".join(f'"{name}"' for name in ["patrol_id", *names])
    with cursor.copy(f"COPY {table.name} ({quoted}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([patrol_id, *(json.dumps(row[n]) if n in as_json else row[n] for n in names)])


def write_analysis(session: Session, patrol_id: int, result: AnalysisResult, segments: dict[str, Any]) -> None:
    """Store findings, segments and the summary of a patrol (replacing an earlier analysis)."""
    session.execute(delete(models.Finding).where(models.Finding.patrol_id == patrol_id))
    session.execute(delete(models.Segment).where(models.Segment.patrol_id == patrol_id))
    for rank, feature in enumerate(result.findings["features"], start=1):
        props = feature["properties"]
        lon, lat = feature["geometry"]["coordinates"]
        session.add(models.Finding(
            patrol_id=patrol_id, rank=rank, kind=props["kind"], chainage_m=props["chainage_m"], bank=props["bank"],
            confidence=props["confidence"], uncertainty_m=props["uncertainty_m"], lon=lon, lat=lat,
            evidence=props["evidence"], status="open"))
    for feature in segments["features"]:
        props = feature["properties"]
        session.add(models.Segment(
            patrol_id=patrol_id, start_m=props["start_m"], end_m=props["end_m"], water_class=props["class"],
            limiting=props["limiting"], mean=props["mean"], samples=props["samples"],
            ring=feature["geometry"]["coordinates"][0]))
    patrol = session.get_one(models.Patrol, patrol_id)
    patrol.summary = result.summary


def run_analysis(log_path: Path, out_dir: Path, maps: tuple[str, ...]) -> tuple[AnalysisResult, dict[str, Any]]:
    """The analysis pipeline's products for a finished log, with its segments document."""
    from riverpatrol.report.figures import DRAWING

    with DRAWING:  # the analysis draws its maps with matplotlib
        result = analyze(log_path, out_dir, maps=maps)
    return result, json.loads(result.files["segments"].read_text(encoding="utf-8"))


def import_log(store: Store, log_path: Path, *, name: str | None = None,
               maps: tuple[str, ...] = ("conductivity", "nh3n", "do")) -> int:
    """Import a finished patrol log with its analysis; returns the new patrol's id.

    Everything is read and analysed before anything is written, in one transaction, so a log
    that cannot be read or analysed leaves no partial patrol behind.
    """
    with PatrolLog(log_path) as log:
        window = LogTail(log).read(None)
        meta = log.meta
    with store.session() as session:
        patrol = models.Patrol(name=name or log_path.parent.name or log_path.stem, source="import",
                               status="finished", started_utc=meta.get("started_utc"),
                               log_path=str(log_path.resolve()), meta=meta)
        session.add(patrol)
        session.flush()
        out_dir = new_patrol_dir(patrol.id) / "analysis"
        patrol.products_dir = str(out_dir.resolve())
        try:
            result, segments = run_analysis(log_path, out_dir, maps)
        except BaseException:
            shutil.rmtree(out_dir.parent, ignore_errors=True)
            raise
        write_window(session, patrol.id, window)
        write_analysis(session, patrol.id, result, segments)
        return patrol.id


def new_patrol_dir(patrol_id: int) -> Path:
    """A directory of its own for a patrol's log (live patrols) and analysis products; unique, so
    a new database beside an old data directory never meets an earlier patrol's files."""
    path = data_dir() / "patrols" / f"{patrol_id}-{uuid.uuid4().hex[:8]}"
    path.mkdir(parents=True)
    return path


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
