"""What a report shows, gathered once: from a patrol in the store, or from a patrol directory
(its log, and its analysis products, made by the analysis pipeline when they are missing)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from riverpatrol.analysis.pipeline import analyze, resolve_log
from riverpatrol.patrollog import PatrolLog
from riverpatrol.station.ingest import LogTail

CAMERA_LEAD_S = 5.0  # the camera looks ahead: the frame that shows a spot is taken before passing it
SONAR_SPAN_S = 15.0  # side-scan shown either side of the moment the boat passes a finding


@dataclass
class ReportData:
    title: str
    meta: dict[str, Any]
    summary: dict[str, Any]
    track: np.ndarray                 # N x 2 lon, lat
    samples: list[dict[str, Any]]     # t, lon, lat, chainage_m, water_class, values, classes
    segments: list[dict[str, Any]]    # start_m, end_m, class, limiting, mean, samples, ring
    findings: list[dict[str, Any]]    # rank, chainage_m, bank, confidence, uncertainty_m, lon, lat, evidence, status
    frame_at: Callable[[float], bytes | None]
    log_path: Path | None

    def passing_time(self, lon: float, lat: float) -> float | None:
        """When the boat came closest to a point (from the sample positions)."""
        placed = [s for s in self.samples if s["lon"] is not None]
        if not placed:
            return None
        scale = np.cos(np.radians(lat))
        nearest = min(placed, key=lambda s: ((s["lon"] - lon) * scale) ** 2 + (s["lat"] - lat) ** 2)
        return float(nearest["t"])

    def snapshot(self, finding: dict[str, Any]) -> bytes | None:
        t = self.passing_time(finding["lon"], finding["lat"])
        return None if t is None else self.frame_at(max(0.0, t - CAMERA_LEAD_S))

    def sonar(self, finding: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, float] | None:
        """(port, starboard, range_m) pings around the passing, from the log, if it is at hand."""
        t = self.passing_time(finding["lon"], finding["lat"])
        if t is None or self.log_path is None or not self.log_path.is_file():
            return None
        with PatrolLog(self.log_path) as log:
            pings = log.columns("sonar", t - SONAR_SPAN_S, t + SONAR_SPAN_S)
        if not len(pings["t"]):
            return None
        return pings["port"], pings["starboard"], float(pings["range_m"][0])


def from_store(store: Any, patrol_id: int) -> ReportData:
    """A patrol of the station's store (``riverpatrol.station.store.Store``)."""
    from riverpatrol.analysis.standards import CLASS_NAMES_EN, CLASS_NAMES_ZH
    from riverpatrol.station import queries

    with store.session() as s:
        patrol = queries.patrol(s, patrol_id)
        window = queries.since(s, patrol_id, None)
        segments = [{"start_m": g.start_m, "end_m": g.end_m, "class": g.water_class, "limiting": g.limiting,
                     "class_zh": CLASS_NAMES_ZH[g.water_class], "class_en": CLASS_NAMES_EN[g.water_class],
                     "mean": g.mean, "samples": g.samples, "ring": g.ring} for g in queries.segments(s, patrol_id)]
        findings = [{"rank": f.rank, "chainage_m": f.chainage_m, "bank": f.bank, "confidence": f.confidence,
                     "uncertainty_m": f.uncertainty_m, "lon": f.lon, "lat": f.lat, "evidence": f.evidence,
                     "status": f.status} for f in queries.findings(s, patrol_id)]
        title, meta, summary, log_path = patrol.name, patrol.meta, patrol.summary or {}, patrol.log_path

    def frame_at(t: float) -> bytes | None:
        with store.session() as s:
            found = queries.nearest_frame(s, patrol_id, t)
            return found.jpeg if found else None

    return ReportData(title, meta, summary, _track(window.positions), window.samples, segments, findings, frame_at,
                      Path(log_path) if log_path else None)


def from_directory(path: Path) -> ReportData:
    """A patrol directory (or log file); its ``analysis/`` products are made if missing."""
    log_path = resolve_log(path)
    products = log_path.parent / "analysis"
    if not all((products / name).is_file() for name in ("summary.json", "findings.geojson", "segments.geojson")):
        analyze(log_path, products, maps=())
    summary = json.loads((products / "summary.json").read_text(encoding="utf-8"))
    findings_doc = json.loads((products / "findings.geojson").read_text(encoding="utf-8"))
    segments_doc = json.loads((products / "segments.geojson").read_text(encoding="utf-8"))
    with PatrolLog(log_path) as log:
        window = LogTail(log).read(None)
        meta = log.meta
    frames = sorted(window.frames, key=lambda f: f["t"])
    times = np.array([f["t"] for f in frames])

    def frame_at(t: float) -> bytes | None:
        return frames[int(np.argmin(np.abs(times - t)))]["jpeg"] if frames else None

    findings = [{**f["properties"], "rank": k, "lon": f["geometry"]["coordinates"][0],
                 "lat": f["geometry"]["coordinates"][1], "status": "open"}
                for k, f in enumerate(findings_doc["features"], start=1)]
    segments = [{**f["properties"], "ring": f["geometry"]["coordinates"][0]} for f in segments_doc["features"]]
    return ReportData(log_path.parent.name, meta, summary, _track(window.positions), window.samples, segments,
                      findings, frame_at, log_path)


def _track(positions: list[dict[str, Any]]) -> np.ndarray:
    rows = [(p["lon"], p["lat"]) for p in positions if p["lon"] is not None]
    return np.array(rows, dtype=float).reshape(-1, 2)
