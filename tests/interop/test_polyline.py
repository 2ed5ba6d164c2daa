"""Corridor polylines read from GeoJSON or CSV; bad files name the problem and where."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from riverpatrol.interop.polyline import PolylineError, read_polyline


def test_reads_a_feature_collection_linestring(tmp_path: Path) -> None:
    path = tmp_path / "c.geojson"
    line = {"type": "LineString", "coordinates": [[121.38, 28.37], [121.381, 28.372, 4.0]]}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": line}]}))
    assert read_polyline(path) == [(121.38, 28.37), (121.381, 28.372)]


def test_reads_csv_with_comments(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("# corridor\n121.38,28.37\n\n121.381,28.372\n")
    assert read_polyline(path) == [(121.38, 28.37), (121.381, 28.372)]


@pytest.mark.parametrize(("text", "message"), [
    ("121.38,28.37\n121.38;28.372\n", r"c.txt:2: expected 'lon,lat'"),
    ("121.38,28.37\n", "at least two points"),
    ("121.38,28.37\n500,28.372\n", "point 2 .* not a longitude/latitude"),
    ('{"type": "Point", "coordinates": [1, 2]}', "exactly one LineString, found 0"),
    ('{"type": "LineString", "coordinates": [[1, 2], ["x"]]}', "not \\[lon, lat\\] pairs"),
    ('{"type": "LineString",\n "coordinates": [[1, 2]', r"c.txt:2: not valid JSON"),
])
def test_bad_files_are_named_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.txt"
    path.write_text(text)
    with pytest.raises(PolylineError, match=message):
        read_polyline(path)
