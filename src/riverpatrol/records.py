"""The typed records that flow from the boat's sensors to the station.

One vocabulary end to end: the twin produces them, the patrol log stores them, analysis and the
station read them back. Hot paths move them as columns (numpy arrays per field); these classes are
the one-at-a-time view that readers and tests use. Times are seconds since the patrol started.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, slots=True)
class Position:
    """A GNSS fix with the autopilot's course, speed and heading."""

    t: float
    lon: float
    lat: float
    sog_mps: float
    cog_deg: float
    heading_deg: float


@dataclass(frozen=True, slots=True)
class SondeSample:
    """One reading of the multi-parameter sonde: canonical parameter name -> value (spec units)."""

    t: float
    values: dict[str, float]


@dataclass(frozen=True, slots=True)
class RangeScan:
    """A 360° obstacle-ranging ring shaped like MAVLink OBSTACLE_DISTANCE (body frame, clockwise).

    ``distances_cm[i]`` covers the sector centred ``i * increment_deg`` clockwise from the bow;
    ``max_cm + 1`` means no obstacle within range.
    """

    t: float
    heading_deg: float
    increment_deg: float
    min_cm: int
    max_cm: int
    distances_cm: NDArray[np.uint16]


@dataclass(frozen=True, slots=True)
class SonarPing:
    """One side-scan ping: backscatter intensity (0-255) over equal range bins, port and starboard."""

    t: float
    range_m: float
    port: NDArray[np.uint8]
    starboard: NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class Frame:
    """A forward camera keyframe, JPEG encoded."""

    t: float
    width: int
    height: int
    jpeg: bytes


@dataclass(frozen=True, slots=True)
class MissionEvent:
    """Something the boat side did or decided: mode change, waypoint reached, mission complete ..."""

    t: float
    kind: str
    detail: dict[str, Any] = field(default_factory=dict)


Record = Position | SondeSample | RangeScan | SonarPing | Frame | MissionEvent
