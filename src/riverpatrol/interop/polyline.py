"""A polyline from a file: GeoJSON (a LineString, or a Feature or FeatureCollection holding one) or
CSV ``lon,lat`` per line, as operators draw corridors in QGIS or type them out."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from riverpatrol.interop.lonlat_csv import LonLatError, parse_lonlat_csv


class PolylineError(ValueError):
    """The file is not a usable polyline; the message names the file and, where it can, the line."""


def read_polyline(path: Path) -> list[tuple[float, float]]:
    """The (lon, lat) vertices, at least two, all finite and on the globe."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolylineError(f"{path}: cannot read: {exc.strerror or exc}") from None
    points = _geojson(path, text) if text.lstrip().startswith("{") else _csv(path, text)
    if len(points) < 2:
        raise PolylineError(f"{path}: a polyline needs at least two points, got {len(points)}")
    for k, (lon, lat) in enumerate(points):
        if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            raise PolylineError(f"{path}: point {k + 1} ({lon}, {lat}) is not a longitude/latitude")
    return points


def _geojson(path: Path, text: str) -> list[tuple[float, float]]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolylineError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    lines = [g for g in _geometries(doc) if g.get("type") == "LineString"]
    if len(lines) != 1:
        raise PolylineError(f"{path}: expected exactly one LineString, found {len(lines)}")
    try:
        return [(float(c[0]), float(c[1])) for c in lines[0]["coordinates"]]
    except (KeyError, TypeError, ValueError, IndexError):
        raise PolylineError(f"{path}: the LineString's coordinates are not [lon, lat] pairs") from None


def _geometries(doc: Any) -> list[dict[str, Any]]:
    if not isinstance(doc, dict):
        return []
    if doc.get("type") == "FeatureCollection":
        return [g for f in doc.get("features") or [] for g in _geometries(f)]
    if doc.get("type") == "Feature":
        return _geometries(doc.get("geometry"))
    return [doc]


def _csv(path: Path, text: str) -> list[tuple[float, float]]:
    uncommented = "\n".join("" if line.lstrip().startswith("#") else line for line in text.splitlines())
    try:
        return [(lon, lat) for _, lon, lat in parse_lonlat_csv(uncommented, str(path))]
    except LonLatError as exc:
        raise PolylineError(str(exc)) from None
