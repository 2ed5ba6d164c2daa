"""Fixtures shared by the map output tests: a straight reach and a map kriged on it."""

from __future__ import annotations

import numpy as np
import pytest

from riverpatrol.analysis.mapping import RiverGrid, river_map
from riverpatrol.geo.frame import RiverFrame


@pytest.fixture(scope="session")
def straight_reach() -> RiverFrame:
    return RiverFrame([[121.379, 28.3712], [121.385, 28.3712]], 28.0, 2.0)  # about 587 m long


@pytest.fixture(scope="session")
def scattered(straight_reach: RiverFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scattered samples of a field varying along and across the reach, with sonde-like noise."""
    rng = np.random.default_rng(3)
    s = rng.uniform(0.0, straight_reach.length, 2000)
    n = rng.uniform(-11.0, 11.0, s.size)
    return s, n, 20.0 + 3.0 * np.sin(2.0 * np.pi * s / 400.0) + 0.15 * n + rng.normal(0.0, 0.05, s.size)


@pytest.fixture(scope="session")
def kriged(straight_reach: RiverFrame, scattered: tuple[np.ndarray, ...]) -> RiverGrid:
    return river_map(straight_reach, *scattered)
