"""Whole-river maps as PNG: lon/lat beside the straightened reach, estimate and std."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from riverpatrol.analysis.map_png import MapFigure, plot_map
from riverpatrol.analysis.mapping import RiverGrid
from riverpatrol.geo.frame import RiverFrame


@pytest.mark.parametrize("classes", [None, (25.0, 15.0, 15.0, 20.0)])  # unsorted, repeated: as GB 3838 COD
def test_png_is_written(kriged: RiverGrid, straight_reach: RiverFrame, tmp_path: Path,
                        classes: tuple[float, ...] | None) -> None:
    path = tmp_path / "map.png"
    track = straight_reach.local.to_lonlat(*straight_reach.from_river(np.linspace(0, 580, 200), 11.0))
    plot_map(straight_reach, kriged, path, title="synthetic", classes=classes, param="cod", track=track)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as img:
        assert img.format == "PNG" and 800 <= img.width <= 4000 and 400 <= img.height <= 3000
        colours = img.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # a drawn map, not a blank canvas


def test_one_figure_draws_each_map_as_a_figure_of_its_own(kriged: RiverGrid, straight_reach: RiverFrame,
                                                           tmp_path: Path) -> None:
    other = replace(kriged, estimate=2.0 * kriged.estimate + 1.0, std=3.0 * kriged.std)
    figure = MapFigure(straight_reach, kriged)
    for k, grid in enumerate((kriged, other)):
        figure.save(grid, tmp_path / f"shared{k}.png", title=f"map {k}", param="nh3n")
        plot_map(straight_reach, grid, tmp_path / f"own{k}.png", title=f"map {k}", param="nh3n")
        with Image.open(tmp_path / f"shared{k}.png") as shared, Image.open(tmp_path / f"own{k}.png") as own:
            assert np.array_equal(np.asarray(shared.convert("RGB")), np.asarray(own.convert("RGB")))
