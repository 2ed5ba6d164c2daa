"""``analyze``: a patrol log in, the station's products out.

One pass over the log: positions of every sonde sample, quality control, GB 3838 classes per
sample and per river segment, the whole-river map of every measured parameter, suspected outfalls,
then the files a station hands on (findings and segments as GeoJSON, the gridded map as NetCDF, a
PNG overview and a summary.json). Reads the log alone, so a real boat's log goes the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from riverpatrol.analysis.camera_evidence import Sighting, camera_sightings, with_camera
from riverpatrol.analysis.findings import Finding, findings_geojson
from riverpatrol.analysis.segments import segments_geojson
from riverpatrol.analysis.standards import CLASS_NAMES_EN, CLASS_NAMES_ZH, classify, classify_segments
from riverpatrol.analysis.track import Fixes, Track, river_frame
from riverpatrol.geo.frame import RiverFrame
from riverpatrol.jsonfile import write_json
from riverpatrol.patrollog import PatrolLog
from riverpatrol.scenario import UNITS

# Mapped by default: the tracer that shows plumes best and the items that set most classes. The
# parameters share one kriging system, but each adds a PNG, so ``maps=ALL`` is the caller's choice.
DEFAULT_MAPS = ("conductivity", "nh3n", "do")
ALL = ("temperature", "ph", "do", "conductivity", "turbidity", "nh3n", "codmn", "cod", "tp")
SHARED_LOSS = 0.01  # share of a parameter's valid samples its map may lose to share the others' system


@dataclass(frozen=True)
class AnalysisResult:
    findings: dict[str, Any]  # the GeoJSON FeatureCollection of spec section 6, ranked
    summary: dict[str, Any]
    files: dict[str, Path]


class NothingToAnalyse(ValueError):
    """The log holds too little to analyse (a patrol stopped before it sampled the water)."""


def resolve_log(path: Path) -> Path:
    """A patrol directory (holding patrol.sqlite) or the log file itself."""
    return path / "patrol.sqlite" if path.is_dir() else path


def analyze(log_path: Path, out_dir: Path, *, maps: tuple[str, ...] = DEFAULT_MAPS,
            progress: Callable[[str], None] | None = None) -> AnalysisResult:
    """Write findings.geojson, segments.geojson, map.nc and maps/*.png (for ``maps``), overview.png
    and summary.json.

    The outfall search and the camera, the longest steps after the maps, each run in a worker
    process (forked, so they start at once with everything imported) while this one classifies
    and draws the maps: on two cores the three take about as long as the longest.
    """
    step = progress or (lambda _: None)
    out_dir.mkdir(parents=True, exist_ok=True)
    with PatrolLog(log_path) as log, ProcessPoolExecutor(2, mp_context=get_context("fork")) as worker:
        meta = log.meta
        frame = river_frame(meta)
        step("positions")
        if log.count("sonde") < 2 or log.count("position") < 2:
            raise NothingToAnalyse(f"{log_path}: the log holds {log.count('sonde')} sonde samples and "
                                   f"{log.count('position')} GNSS fixes: nothing to analyse")
        sonde = log.columns("sonde")
        fixes = Fixes.from_log(log, frame)
        searched = worker.submit(_outfalls, log_path, fixes)
        seen = worker.submit(_camera, log_path, frame, fixes)
        track = Track.at_times(fixes, frame, sonde["t"])
        step("quality control")
        from riverpatrol.analysis.qc import quality_control_sonde  # scipy: imported while the search runs

        qc = quality_control_sonde(sonde, meta)
        measured = {p: np.asarray(sonde[p], float) for p in qc.flags}
        step("GB 3838 classes")
        per_sample = classify(measured, qc.valid)
        segments = classify_segments(track.s, measured, qc.valid)
        files = {
            "findings": out_dir / "findings.geojson",
            "segments": out_dir / "segments.geojson",
            "overview": out_dir / "overview.png",
            "summary": out_dir / "summary.json",
        }
        segments_doc = segments_geojson(frame, segments)
        write_json(files["segments"], segments_doc)
        lon, lat = frame.local.to_lonlat(track.x, track.y)  # the track at the sonde's samples: enough to draw
        mapped = [name for name in maps if name in measured]
        if mapped:
            step("whole-river maps")
            files.update(_maps(frame, track, {name: measured[name] for name in mapped},
                               {name: qc.valid[name] for name in mapped}, out_dir, (lon, lat)))
        step("suspected outfalls")
        findings = with_camera(searched.result(), seen.result())
    findings_doc = findings_geojson(findings, frame)
    write_json(files["findings"], findings_doc)
    step("overview")
    from riverpatrol.analysis.overview import plot_overview  # matplotlib: imported after the fork

    plot_overview(segments_doc, (lon, lat), findings_doc, files["overview"], title="Patrol overview: GB 3838 class by segment")
    summary = _summary(meta, sonde, qc, per_sample, segments, findings)
    write_json(files["summary"], summary)
    return AnalysisResult(findings_doc, summary, files)


def _outfalls(log_path: Path, fixes: Fixes) -> list[Finding]:
    """The outfall search on its own connection to the log (the worker process's)."""
    from riverpatrol.analysis.outfalls import detect_outfalls  # scipy.signal: imported by the worker only

    with PatrolLog(log_path) as log:
        return detect_outfalls(log, fixes)


def _camera(log_path: Path, frame: RiverFrame, fixes: Fixes) -> list[Sighting]:
    """Camera sightings on the worker's own connection to the log."""
    with PatrolLog(log_path) as log:
        return camera_sightings(log, frame, fixes)


def _maps(frame: RiverFrame, track: Track, fields: dict[str, np.ndarray], valid: dict[str, np.ndarray],
          out_dir: Path, track_lonlat: tuple[np.ndarray, np.ndarray]) -> dict[str, Path]:
    """map.nc and maps/<parameter>.png of ``fields``, each from its ``valid`` samples."""
    from riverpatrol.analysis.map_netcdf import write_netcdf  # imported here, while the search runs
    from riverpatrol.analysis.map_png import MapFigure
    from riverpatrol.analysis.mapping import river_maps

    grids = {}
    for group in _map_groups(valid):
        grids.update(river_maps(frame, track.s, track.n,
                                {name: np.where(valid[name], fields[name], np.nan) for name in group}))
    files = {"map": out_dir / "map.nc"}
    write_netcdf(grids, files["map"])
    (out_dir / "maps").mkdir(exist_ok=True)
    figure = MapFigure(frame, next(iter(grids.values())), track=track_lonlat, track_sn=(track.s, track.n))
    for name, grid in grids.items():
        files[f"map_{name}"] = out_dir / "maps" / f"{name}.png"
        figure.save(grid, files[f"map_{name}"], title=f"{name} ({UNITS[name]})", param=name)
    return files


def _map_groups(valid: dict[str, np.ndarray]) -> list[list[str]]:
    """Parameters mapped together share one kriging system but only the samples valid in all of
    them: together while that leaves out at most SHARED_LOSS of any one's valid samples, else each
    on its own (a sensor flagged for half the patrol must not take half of every map with it)."""
    together = np.logical_and.reduce(list(valid.values()))
    if all(together.sum() >= (1.0 - SHARED_LOSS) * mask.sum() for mask in valid.values()):
        return [list(valid)]
    return [[name] for name in valid]


def _summary(meta: dict[str, Any], sonde: dict[str, Any], qc: Any, per_sample: Any, segments: Any,
             findings: list[Finding]) -> dict[str, Any]:
    classes = per_sample.water_class
    return {
        "patrol": {"started_utc": meta.get("started_utc"), "source": meta.get("source"),
                   "samples": int(len(sonde["t"])),
                   "duration_s": float(sonde["t"][-1] - sonde["t"][0]) if len(sonde["t"]) else 0.0},
        "classes": {
            "samples": {CLASS_NAMES_EN[c]: int(np.count_nonzero(classes == c)) for c in np.unique(classes)},
            "segments": [
                {"start_m": float(a), "end_m": float(b), "class": int(c), "class_zh": CLASS_NAMES_ZH[int(c)],
                 "class_en": CLASS_NAMES_EN[int(c)], "limiting": str(lim)}
                for a, b, c, lim in zip(segments.start_m, segments.end_m, segments.classification.water_class,
                                        segments.classification.limiting)
            ],
        },
        "data_quality": qc.summary(),
        "findings": len(findings),
    }

