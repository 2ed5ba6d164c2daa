"""What the outfall search knows of the reach and the sonde: the hydrology from the log meta and
the sonde series on the boat's track, one row per measured channel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from riverpatrol.analysis.track import Fixes, Pass, Track
from riverpatrol.geo.frame import FloatArray, RiverFrame
from riverpatrol.patrollog import PatrolLog

# Which way a discharge moves each parameter: +1 up, -1 down (oxygen demand), 0 either way.
LOAD_SIGN = {"conductivity": 1, "turbidity": 1, "nh3n": 1, "codmn": 1, "cod": 1, "tp": 1,
             "do": -1, "temperature": 0, "ph": 0}
HEAD_M = 60.0  # the head of a plume, where its shape says where it starts: at least this, ...
HEAD_PEAKS = 2.5  # ... or this many times the distance at which it peaks in the boat's lane


@dataclass(frozen=True)
class Hydrology:
    """The reach as the boat's map has it: frame (W, h per s), current u, transverse dispersion Ey."""

    frame: RiverFrame
    u: float
    ey: float
    head_m: float = HEAD_M  # length of a plume's head in the boat's lane (``head_length``)


@dataclass(frozen=True)
class Sonde:
    """The sonde series on the track: readings (channels x samples), noise, lag, sign of a load."""

    names: tuple[str, ...]
    readings: FloatArray
    sigma: FloatArray
    tau: FloatArray
    sign: NDArray[np.int_]
    dt: float
    track: Track
    y: FloatArray  # lateral position from the right bank
    width: FloatArray
    depth: FloatArray
    taus: FloatArray  # the distinct time constants: lag groups, whose channels share model columns
    group: NDArray[np.intp]  # each channel's lag group (index into taus)


def sonde_series(log: PatrolLog, fixes: Fixes, frame: RiverFrame) -> Sonde:
    """The measured channels (meta ``sensors.sonde.params``), gaps interpolated, on the track."""
    cols = log.columns("sonde")
    t = np.asarray(cols["t"], float)
    params = log.meta.get("sensors", {}).get("sonde", {}).get("params", {})
    names, rows, sigma, tau = [], [], [], []
    for name, spec in params.items():
        values = np.asarray(cols.get(name, np.full(t.size, np.nan)), float)
        ok = np.isfinite(values)
        if ok.sum() < 2:
            continue
        names.append(name)
        rows.append(np.interp(t, t[ok], values[ok]))
        sigma.append(max(float(spec["sigma"]), 1e-9))
        tau.append(float(spec["tau_s"]))
    track = Track.at_times(fixes, frame, t)
    width = frame.width_at(track.s)
    dt = float(np.median(np.diff(t))) if t.size > 1 else 1.0
    taus = np.unique(tau)
    return Sonde(tuple(names), np.array(rows).reshape(len(names), t.size), np.array(sigma), np.array(tau),
                 np.array([LOAD_SIGN.get(n, 0) for n in names], int), dt, track, track.n + width / 2.0,
                 width, frame.depth_at(track.s), taus, np.searchsorted(taus, tau))


def head_length(hydro: Hydrology, sonde: Sonde, runs: list[Pass]) -> float:
    """How far downstream a plume's head reaches in the boat's lane along a bank: a plume first
    reaches a lane ``d`` off its bank, and peaks there, about ``u d^2 / (2 Ey)`` downstream
    (a fast current and slow mixing carry it a hundred metres and more before the boat sees it)."""
    banked = [r for r in runs if r.bank]
    if not banked:
        return HEAD_M
    index = np.concatenate([np.arange(r.start, r.stop) for r in banked])
    lane = float(np.median(sonde.width[index] / 2.0 - np.abs(sonde.track.n[index])))
    return max(HEAD_M, HEAD_PEAKS * hydro.u * max(lane, 0.0) ** 2 / (2.0 * hydro.ey))
