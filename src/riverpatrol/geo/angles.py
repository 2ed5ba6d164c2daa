"""Heading conventions: maths angles (rad, counter-clockwise from east) inside, compass degrees
(clockwise from north) on the wire, as MAVLink and GNSS receivers report them."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def compass_deg(psi: ArrayLike) -> NDArray[np.float64]:
    return (90.0 - np.degrees(np.asarray(psi, float))) % 360.0
