"""River segments coloured by GB 3838 class, as GeoJSON polygons of the water they cover.

Each segment is the water between two chainages (both banks), so a map shows the class of the
whole river width, the way river chiefs read a water-quality map, not only the boat's track.
Colours follow the usual Chinese convention for class maps (I blue to V red, worse than V purple).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from riverpatrol.analysis.standards import CLASS_NAMES_EN, CLASS_NAMES_ZH, SegmentClasses
from riverpatrol.geo.frame import RiverFrame

CLASS_COLOURS = ("#9e9e9e", "#1e88e5", "#43a047", "#fdd835", "#fb8c00", "#e53935", "#6a1b9a")
_STEP_M = 5.0


def segment_ring(frame: RiverFrame, start: float, end: float) -> list[list[float]]:
    """Closed lon/lat ring of the water between chainages ``start`` and ``end``."""
    start, end = max(start, 0.0), min(end, frame.length)
    s = np.linspace(start, end, max(2, int(np.ceil((end - start) / _STEP_M)) + 1))
    half = frame.width_at(s) / 2.0
    lx, ly = frame.from_river(s, half)
    rx, ry = frame.from_river(s[::-1], -half[::-1])
    lon, lat = frame.local.to_lonlat(np.concatenate([lx, rx, lx[:1]]), np.concatenate([ly, ry, ly[:1]]))
    return [[round(float(a), 7), round(float(b), 7)] for a, b in zip(lon, lat)]


def segments_geojson(frame: RiverFrame, segments: SegmentClasses) -> dict[str, Any]:
    """FeatureCollection: one polygon per segment with its class, limiting items and means."""
    features = []
    cls = segments.classification
    for k, (start, end) in enumerate(zip(segments.start_m.tolist(), segments.end_m.tolist())):
        water_class = int(cls.water_class[k])
        means = {p: round(float(v[k]), 4) for p, v in segments.mean.items() if np.isfinite(v[k])}
        features.append({
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [segment_ring(frame, start, end)]},
            "properties": {
                "start_m": start, "end_m": end,
                "class": water_class,
                "class_zh": CLASS_NAMES_ZH[water_class], "class_en": CLASS_NAMES_EN[water_class],
                "limiting": str(cls.limiting[k]),
                "fill": CLASS_COLOURS[water_class],
                "mean": means,
                "samples": int(segments.samples[k]),
            },
        })
    return {"type": "FeatureCollection", "features": features}
