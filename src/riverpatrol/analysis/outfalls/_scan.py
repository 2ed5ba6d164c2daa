"""Step 1 of the search: where on either bank a plume head could start, scanned every few metres."""

from __future__ import annotations

import numpy as np

from riverpatrol.analysis.lag import respond
from riverpatrol.analysis.outfalls._model import SAME_M, Source, signed_chi2
from riverpatrol.analysis.outfalls._plume import plume
from riverpatrol.analysis.outfalls._series import Hydrology, Sonde
from riverpatrol.analysis.track import Pass
from riverpatrol.geo.frame import FloatArray

SCAN_STEPS = 30  # scan steps per plume head (at least SCAN_STEP_M): finer would find nothing new
SCAN_STEP_M = 2.0
SCAN_LEAD_M = 30.0  # clean water upstream of the head, for the scan's local baseline


def scan(sonde: Sonde, hydro: Hydrology, runs: list[Pass]) -> tuple[FloatArray, FloatArray]:
    """Chi-square of a plume head at each grid chainage on each bank: (grid, stat[side, grid])."""
    grid = np.arange(0.0, hydro.frame.length, scan_step(hydro))
    num = np.zeros((2, len(sonde.names), grid.size))
    den = np.zeros((2, len(sonde.names), grid.size))
    for run in runs:
        index = np.arange(run.start, run.stop)
        s = sonde.track.s[index]
        near = np.flatnonzero((grid >= s.min() - hydro.head_m) & (grid <= s.max() + SCAN_LEAD_M))
        key = np.maximum.accumulate(s * run.direction)  # progress along the run
        lo, hi = grid[near] - SCAN_LEAD_M, grid[near] + hydro.head_m
        first = np.searchsorted(key, lo if run.direction > 0 else -hi)
        last = np.searchsorted(key, hi if run.direction > 0 else -lo, side="right")
        span = int(np.max(last - first, initial=0))
        if span < 3:
            continue
        j = first[:, None] + np.arange(span)[None, :]
        valid = j < last[:, None]
        k = index[np.minimum(j, index.size - 1)]
        count = np.maximum(valid.sum(axis=1), 1)
        data = sonde.readings[:, k] * valid
        data -= (data.sum(axis=2) / count)[:, :, None] * valid
        for side_index, side in enumerate((-1, 1)):
            g = plume(sonde.track.s[k] - grid[near, None], sonde.y[k], side,
                      sonde.width[k], sonde.depth[k], hydro.u, hydro.ey, images=1) * valid
            for group, tau in enumerate(sonde.taus):
                rows = np.flatnonzero(sonde.group == group)
                v = respond(g, sonde.dt, tau, axis=1) * valid
                v -= (v.sum(axis=1) / count)[:, None] * valid
                num[side_index, rows[:, None], near] += np.einsum("pcj,cj->pc", data[rows], v)
                den[side_index, rows[:, None], near] += np.einsum("cj,cj->c", v, v)[None, :]
    stat = np.stack([signed_chi2(num[i], den[i], sonde) for i in range(2)])
    return grid, stat


def scan_step(hydro: Hydrology) -> float:
    return max(SCAN_STEP_M, hydro.head_m / SCAN_STEPS)


def peaks(grid: FloatArray, stat: FloatArray, floor: float) -> list[Source]:
    """Sources at the local maxima of the scan above ``floor``, with the scan's value as chi2."""
    radius = max(1, int(SAME_M / 2 / (grid[1] - grid[0]))) if grid.size > 1 else 1
    found = []
    for side_index, side in enumerate((-1, 1)):
        row = stat[side_index]
        windows = np.lib.stride_tricks.sliding_window_view(np.pad(row, radius, constant_values=-np.inf),
                                                           2 * radius + 1)
        top = (row >= windows.max(axis=1)) & (row > floor)
        found += [Source(float(grid[i]), side, chi2=float(row[i])) for i in np.flatnonzero(top)]
    return found
