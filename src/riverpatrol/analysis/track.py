"""Where the boat was: GNSS fixes smoothed, interpolated to any sensor's sample times, in (s, n).

The plume at a bank lane changes by tens of per cent per metre across the river, so the lateral
position of each sonde sample matters; single fixes scatter by ``gnss_sigma_m`` while the hull
moves smoothly, so fixes are smoothed over a few seconds (a quadratic Savitzky-Golay fit, which
follows turns) before interpolation. Passes are the stretches where the boat runs steadily along
the river; a pass near one bank is where that bank's plumes show best.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import NDArray

from riverpatrol.geo.frame import FloatArray, RiverFrame
from riverpatrol.patrollog import PatrolLog

SMOOTH_S = 3.0  # GNSS smoothing window: shrinks fix noise ~2.5x at 5 Hz, short next to a 10 m turn
MIN_PASS_M = 30.0  # shorter runs along the river are manoeuvres, not passes
MIN_SPEED_MPS = 0.3  # slower than this along the river is not running along it
BANK_LANE = 0.15  # a pass is along a bank when it keeps |n| beyond this share of the width ...
MIN_LANE_M = 1.0  # ... and beyond this


def river_frame(meta: dict[str, Any]) -> RiverFrame:
    """The river frame of the map the boat carried (log meta ``river``), as the scorer builds it."""
    river = meta["river"]
    return RiverFrame(river["centerline"], river["width_m"], river["depth_m"])


@dataclass(frozen=True)
class Fixes:
    """Smoothed GNSS fixes in the local frame, with the bow's heading (maths radians, unwrapped)."""

    t: FloatArray
    x: FloatArray
    y: FloatArray
    heading: FloatArray

    @classmethod
    def from_log(cls, log: PatrolLog, frame: RiverFrame) -> Fixes:
        pos = log.columns("position")
        t = np.asarray(pos["t"], float)
        x, y = frame.local.to_xy(pos["lon"], pos["lat"])
        heading = np.unwrap(np.radians(90.0 - np.asarray(pos["heading"], float)))
        if t.size > 2:
            rate = 1.0 / float(np.median(np.diff(t)))
            window = int(SMOOTH_S * rate) | 1  # odd
            if t.size > window > 3:
                x, y = (_savgol_quadratic(v, window) for v in (x, y))
        return cls(t, x, y, heading)

    def at(self, t: NDArray[np.float64]) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(x, y, heading) at times ``t``, linearly interpolated between fixes."""
        return (np.interp(t, self.t, self.x), np.interp(t, self.t, self.y), np.interp(t, self.t, self.heading))


def _savgol_quadratic(values: FloatArray, window: int) -> FloatArray:
    """Quadratic Savitzky-Golay smoothing over an odd ``window``, the ends fitted on the first and
    last windows: ``scipy.signal.savgol_filter(values, window, 2)`` written out, because importing
    scipy.signal takes longer than ``analyze`` spends on everything before its outfall search."""
    half = window // 2
    offsets = np.arange(-half, half + 1)
    fit = np.linalg.pinv(np.vander(offsets, 3, increasing=True))  # window values -> quadratic's coefficients
    out = np.convolve(values, fit[0][::-1], mode="same")  # the quadratic at each window's centre
    out[:half] = np.vander(offsets[:half], 3, increasing=True) @ fit @ values[:window]
    out[-half:] = np.vander(offsets[-half:], 3, increasing=True) @ fit @ values[-window:]
    return out


@dataclass(frozen=True)
class Track:
    """Boat position at each sample time: local (x, y) and river (s, n)."""

    t: FloatArray
    x: FloatArray
    y: FloatArray
    s: FloatArray
    n: FloatArray

    @classmethod
    def at_times(cls, fixes: Fixes, frame: RiverFrame, t: NDArray[np.float64]) -> Track:
        x, y, _ = fixes.at(t)
        s, n = frame.to_river(x, y)
        return cls(np.asarray(t, float), x, y, s, n)


@dataclass(frozen=True)
class Pass:
    """A run along the river: samples ``start:stop`` of a track, moving ``direction`` (+1 down-,
    -1 upstream), along ``bank`` ("left", "right") or mid-river (None)."""

    start: int
    stop: int
    direction: int
    bank: str | None


def passes(track: Track, frame: RiverFrame, min_length_m: float = MIN_PASS_M) -> list[Pass]:
    """Contiguous runs of steady progress along the river, split where direction or lane changes.

    Progress and lane are judged over a few samples (noise would flip single steps); a run keeps
    one side of the centerline when it hugs a bank, so crossing the river ends a bank pass.
    """
    count = track.t.size
    if count < 3:
        return []
    dt = np.maximum(np.gradient(track.t), 1e-9)
    speed = _smooth(np.gradient(track.s) / dt, 5)
    direction = np.where(speed > MIN_SPEED_MPS, 1, np.where(speed < -MIN_SPEED_MPS, -1, 0))
    n = _smooth(track.n, 5)
    off = np.maximum(BANK_LANE * frame.width_at(track.s), MIN_LANE_M)
    side = np.where(n > off, 1, np.where(n < -off, -1, 0))
    gap = np.diff(track.t) > 3.0 * np.median(np.diff(track.t))
    key = direction * 3 + side
    cuts = np.flatnonzero((np.diff(key) != 0) | gap) + 1
    bounds = np.concatenate([[0], cuts, [count]])
    found = []
    for a, b in pairwise(bounds):
        if direction[a] == 0 or abs(track.s[b - 1] - track.s[a]) < min_length_m:
            continue
        bank = {1: "left", -1: "right"}.get(int(side[a]))
        found.append(Pass(int(a), int(b), int(direction[a]), bank))
    return found


def _smooth(values: FloatArray, width: int) -> FloatArray:
    """Centred running mean (edges use what is there): a judgement of progress, not a filter."""
    kernel = np.ones(width)
    return np.convolve(values, kernel, "same") / np.convolve(np.ones_like(values), kernel, "same")
