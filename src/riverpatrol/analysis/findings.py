"""Suspected outfalls as analysis output: the Finding record and the GeoJSON of spec section 6.

A finding is placed on its bank at its chainage. The point goes half a metre inside the bank line,
and closer to the centerline where a bend would otherwise make it project to another chainage, so
that whoever reads it back in the river frame (the scorer does) gets the chainage and bank meant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from riverpatrol.geo.frame import RiverFrame

KIND = "suspected_outfall"
INSET_M = 0.5  # inside the bank line, so the point is in the water on the right side
_ROUND_TRIP_M = 0.5  # largest chainage change tolerated when the point is read back


@dataclass(frozen=True)
class Finding:
    """A suspected outfall: chainage (m), bank, confidence 0..1, 1-sigma chainage uncertainty (m),
    and the evidence for it (parameters, sonar, notes)."""

    s: float
    bank: str
    confidence: float
    uncertainty_m: float
    evidence: dict[str, Any] = field(default_factory=dict)


def place(frame: RiverFrame, s: float, bank: str) -> tuple[float, float]:
    """Local (x, y) of a point for chainage ``s`` on ``bank`` that reads back as the same (s, bank)."""
    side = 1.0 if bank == "left" else -1.0
    half = float(frame.width_at(s)) / 2.0
    for share in (1.0, 0.75, 0.5, 0.25, 0.1):
        n = side * max(half * share - INSET_M, 0.05)
        x, y = frame.from_river(s, n)
        back_s, back_n = frame.to_river(x, y)
        if abs(back_s[0] - s) <= _ROUND_TRIP_M and back_n[0] * side > 0:
            break
    return float(x[0]), float(y[0])


def findings_geojson(findings: list[Finding], frame: RiverFrame) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of ``findings`` (Point [lon, lat], spec section 6 properties)."""
    features = []
    for f in findings:
        x, y = place(frame, f.s, f.bank)
        lon, lat = frame.local.to_lonlat(x, y)
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(float(lon), 8), round(float(lat), 8)]},
            "properties": {
                "kind": KIND,
                "confidence": round(float(np.clip(f.confidence, 0.0, 1.0)), 3),
                "chainage_m": round(f.s, 1),
                "bank": f.bank,
                "uncertainty_m": round(f.uncertainty_m, 1),
                "evidence": f.evidence,
            },
        })
    return {"type": "FeatureCollection", "features": features}
