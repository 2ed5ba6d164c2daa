"""Pipe mouths in side-scan pings: a bright return, then an acoustic shadow, then the bottom or bank again.

A pipe standing out of the bank returns far more sound than seabed or wall (it saturates the
receiver) and hides what lies behind it, so a ping across it shows a run of near-saturated bins,
then bins at the noise floor, then returns again (the wall behind it). The last part tells a mouth
from the bank itself, which is also bright with silence behind it (air), but nothing beyond. Each
detection is placed with the boat's pose at the ping (beam square to the bow, range taken as
horizontal, as the twin's sonar model does) and kept only if it lies at a bank; detections within
a few metres along one bank are one target.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from riverpatrol.analysis.running import running_max
from riverpatrol.analysis.track import Fixes
from riverpatrol.geo.frame import FloatArray, RiverFrame
from riverpatrol.patrollog import PatrolLog

BRIGHT = 200  # near saturation: seabed (mean <= 112) and wall (170) reach it only now and then
BRIGHT_SHARE = 0.7  # of the bins in the target length that must be bright
TARGET_M = 0.4  # range extent of a mouth's bright face
SHADOW_M = 0.4  # shadow at least this long behind it ...
SHADOW_LEVEL = 12.0  # ... at no more than this mean (noise floor 3, seabed 30-110)
RETURN_M = 0.5  # then returns again (mean above RETURN_LEVEL over this range) ...
RETURN_LEVEL = 40.0
RETURN_WITHIN_M = 4.0  # ... starting within this range past that shadow
BANK_BAND_M = 2.5  # a mouth lies within this distance inside the bank line
CLUSTER_M = 3.0  # detections closer than this along one bank are one target
NEW_PASS_S = 30.0  # detections of one target further apart in time are separate passes
POSITION_M = 0.8  # spread of one detection along the river (pose, beam footprint)
_CHUNK = 4096


@dataclass(frozen=True)
class SonarTarget:
    """A suspected pipe mouth: where (chainage, bank), how often and how surely it was seen."""

    s: float
    bank: str
    pings: int
    passes: int
    range_m: float
    sigma_m: float

    @property
    def confidence(self) -> float:
        """Sure when seen again (more pings, a second pass), never certain from sonar alone."""
        return float(min(0.9, 0.4 + 0.1 * (self.pings - 1) + 0.2 * (self.passes - 1)))

    def evidence(self) -> dict[str, Any]:
        return {"chainage_m": round(self.s, 1), "pings": self.pings, "passes": self.passes,
                "median_range_m": round(self.range_m, 1)}


def mouth_ranges(pings: NDArray[np.uint8], bin_m: float) -> FloatArray:
    """Range (m) of the nearest bright-then-shadow-then-return pattern in each ping, NaN where none.

    Pings with no bright run at all (most of them) are passed over after one cheap integer count.
    """
    nb = max(2, round(TARGET_M / bin_m))
    ns = max(2, round(SHADOW_M / bin_m))
    nr = max(2, round(RETURN_M / bin_m))
    within = max(1, round(RETURN_WITHIN_M / bin_m))
    out = np.full(pings.shape[0], np.nan)
    starts = pings.shape[1] - nb - ns - nr
    if starts <= 0:
        return out
    need = BRIGHT_SHARE * nb
    for lo in range(0, pings.shape[0], _CHUNK):
        chunk = pings[lo : lo + _CHUNK]
        lit = (chunk >= BRIGHT).view(np.uint8)
        bright = lit[:, :starts].copy()
        for k in range(1, nb):  # bright bins in each target-long window: nb shifted adds of bytes
            bright += lit[:, k : k + starts]
        rows = np.flatnonzero((bright >= need).any(axis=1))
        if rows.size == 0:
            continue
        a = chunk[rows].astype(np.float32)
        level = _window_sum(a, ns)[:, nb : nb + starts] / ns
        later = _window_sum(a, nr) / nr
        # the best return starting anywhere up to RETURN_WITHIN_M past the shortest shadow
        ahead = running_max(np.pad(later, ((0, 0), (0, within - 1))), within)
        hit = (bright[rows] >= need) & (level <= SHADOW_LEVEL) & (ahead[:, nb + ns : nb + ns + starts] >= RETURN_LEVEL)
        found = hit.any(axis=1)
        out[lo + rows[found]] = np.argmax(hit[found], axis=1) * bin_m
    return out


def _window_sum(a: NDArray[Any], width: int) -> NDArray[Any]:
    """Sums over ``width`` consecutive bins starting at each bin (the last ones run short)."""
    c = np.cumsum(a, axis=1)
    out = np.empty_like(c)
    out[:, 0] = c[:, width - 1]
    out[:, 1 : c.shape[1] - width + 1] = c[:, width:] - c[:, : c.shape[1] - width]
    out[:, c.shape[1] - width + 1 :] = c[:, -1:] - c[:, c.shape[1] - width : -1]
    return out


def find_targets(log: PatrolLog, fixes: Fixes, frame: RiverFrame) -> list[SonarTarget]:
    """Pipe mouths seen in the log's side-scan pings, placed on the river."""
    sonar = log.columns("sonar")
    t = np.asarray(sonar["t"], float)
    if t.size == 0:
        return []
    bin_m = float(np.median(sonar["range_m"])) / np.asarray(sonar["port"]).shape[1]
    s_all, n_all, t_all, r_all = [], [], [], []
    for side, key in ((1.0, "port"), (-1.0, "starboard")):
        r = mouth_ranges(np.asarray(sonar[key]), bin_m)
        hit = np.isfinite(r)
        x, y, heading = fixes.at(t[hit])
        ax, ay = -np.sin(heading), np.cos(heading)  # port beam: bow turned 90 degrees left
        s, n = frame.to_river(x + side * r[hit] * ax, y + side * r[hit] * ay)
        s_all.append(s)
        n_all.append(n)
        t_all.append(t[hit])
        r_all.append(r[hit])
    s, n, when, rng = (np.concatenate(v) for v in (s_all, n_all, t_all, r_all))
    at_bank = np.abs(n) >= frame.width_at(s) / 2.0 - BANK_BAND_M
    return _cluster(s[at_bank], n[at_bank], when[at_bank], rng[at_bank])


def _cluster(s: FloatArray, n: FloatArray, t: FloatArray, rng: FloatArray) -> list[SonarTarget]:
    targets = []
    for bank, on_bank in (("left", n >= 0), ("right", n < 0)):
        order = np.flatnonzero(on_bank)[np.argsort(s[on_bank])]
        if order.size == 0:
            continue
        groups = np.split(order, np.flatnonzero(np.diff(s[order]) > CLUSTER_M) + 1)
        for g in groups:
            times = np.sort(t[g])
            passes = 1 + int(np.sum(np.diff(times) > NEW_PASS_S))
            spread = float(np.std(s[g])) if g.size > 1 else POSITION_M
            targets.append(SonarTarget(s=float(np.median(s[g])), bank=bank, pings=int(g.size), passes=passes,
                                       range_m=float(np.median(rng[g])),
                                       sigma_m=max(spread, POSITION_M) / np.sqrt(g.size)))
    return sorted(targets, key=lambda tg: tg.s)
