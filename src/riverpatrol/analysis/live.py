"""The live analyser: sonde samples in as they arrive, anomaly signals out.

Runs beside a patrol (the supervisor can send the boat back to look; the dashboard can flag the
spot) and on a finished log alike. Each channel's mean over the last few samples is compared with
its own recent background (the median of the last minutes, ignoring the newest samples so a plume
does not hide itself), in units of the mean's noise, signed so that pollution counts positive (DO
falls, the rest rise). Averaging a few samples matters: a weak plume lasts tens of samples while
noise does not, so it stands out of the averaged noise long before it stands out of one sample's.
A signal starts when the combined score crosses ``start`` and ends when it falls below ``stop``;
its position is where the boat was when the water changed, the sample time less the fastest
responding channel's lag. The background median slides with the samples (sorted windows kept by
bisection), so the work per sample stays small and constant: it keeps up with any replay speed we
need, and runs inside fast simulations at no noticeable cost.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from riverpatrol.geo.frame import RiverFrame
from riverpatrol.records import Position, SondeSample

POLLUTION_SIGN = {"conductivity": 1.0, "nh3n": 1.0, "cod": 1.0, "codmn": 1.0, "turbidity": 1.0,
                  "temperature": 1.0, "tp": 1.0, "do": -1.0}
BACKGROUND_S = 180.0  # the background is the median of this much recent water ...
RECENT_S = 20.0  # ... leaving out the newest samples, which may be the plume itself
START_SCORE = 8.0  # combined score (root sum of squared positive z) that starts a signal
STOP_SCORE = 4.0
MEAN_OF = 5  # samples averaged before comparing with the background


@dataclass(frozen=True)
class AnomalySignal:
    """Water that looks polluted: where it began, how strongly, and which parameters say so."""

    t: float
    lon: float
    lat: float
    chainage_m: float
    bank: str  # the bank the boat was nearer: plumes hug their own bank
    score: float
    z: dict[str, float]  # per parameter, in sigmas above (below, for DO) the background


class LiveAnalyser:
    def __init__(self, frame: RiverFrame, sonde_meta: Mapping[str, Any]) -> None:
        params = sonde_meta["params"]
        self._frame = frame
        self._names = [p for p in POLLUTION_SIGN if p in params]
        self._sigma = np.array([max(params[p]["sigma"], 1e-9) for p in self._names])
        self._sign = np.array([POLLUTION_SIGN[p] for p in self._names])
        fastest = min(params[p]["tau_s"] for p in self._names) if self._names else 0.0
        self._lead = fastest + (MEAN_OF - 1) / 2.0 / float(sonde_meta.get("rate_hz", 1.0))
        self._newest: deque[tuple[float, list[float]]] = deque()  # the last RECENT_S: not background yet
        self._background: deque[tuple[float, list[float]]] = deque()
        self._sorted: list[list[float]] = [[] for _ in self._names]  # background values, per channel
        self._recent: deque[list[float]] = deque(maxlen=MEAN_OF)
        self._fixes: deque[Position] = deque(maxlen=64)
        self._active = False

    def position(self, fix: Position) -> None:
        self._fixes.append(fix)

    def sample(self, sample: SondeSample) -> AnomalySignal | None:
        """Feed one sample; returns a signal when an anomaly starts, else None."""
        values = [float(sample.values.get(p, np.nan)) for p in self._names]
        self._slide(sample.t, values)
        if len(self._background) < 10:
            return None
        background = np.array([_median(column) for column in self._sorted])
        recent = np.array(self._recent)
        z = self._sign * (np.nanmean(recent, axis=0) - background) / (self._sigma / np.sqrt(len(recent)))
        score = float(np.sqrt(np.nansum(np.clip(z, 0.0, None) ** 2)))
        if self._active:
            self._active = score > STOP_SCORE
            return None
        if score < START_SCORE or not self._fixes:
            return None
        self._active = True
        return self._signal(sample.t, score, z)

    def _slide(self, t: float, values: list[float]) -> None:
        """Take in a sample: samples older than RECENT_S join the background, older than
        BACKGROUND_S leave it."""
        self._recent.append(values)
        self._newest.append((t, values))
        while self._newest and self._newest[0][0] <= t - RECENT_S:
            entry = self._newest.popleft()
            self._background.append(entry)
            for column, v in zip(self._sorted, entry[1]):
                if v == v:  # NaN (a parameter not measured) stays out
                    insort(column, v)
        while self._background and self._background[0][0] < t - BACKGROUND_S:
            for column, v in zip(self._sorted, self._background.popleft()[1]):
                if v == v:
                    del column[bisect_left(column, v)]

    def run(self, positions: Iterable[Position], samples: Iterable[SondeSample]) -> list[AnomalySignal]:
        """Replay a patrol: fixes and samples merged in time order, signals in the order raised."""
        merged = sorted([(p.t, 0, p) for p in positions] + [(s.t, 1, s) for s in samples], key=lambda r: (r[0], r[1]))
        signals = []
        for _, kind, record in merged:
            if kind == 0:
                self.position(record)  # type: ignore[arg-type]
            elif (signal := self.sample(record)) is not None:  # type: ignore[arg-type]
                signals.append(signal)
        return signals

    def _signal(self, t: float, score: float, z: np.ndarray) -> AnomalySignal:
        when = t - self._lead
        fix = min(self._fixes, key=lambda f: abs(f.t - when))
        x, y = self._frame.local.to_xy(fix.lon, fix.lat)
        s, n = self._frame.to_river(x, y)
        return AnomalySignal(
            t=t, lon=fix.lon, lat=fix.lat, chainage_m=float(s[0]), bank="left" if n[0] > 0 else "right",
            score=round(score, 2), z={p: round(float(v), 1) for p, v in zip(self._names, z) if np.isfinite(v)},
        )


def _median(column: list[float]) -> float:
    """Median of a sorted list; NaN when empty."""
    n = len(column)
    return (column[(n - 1) // 2] + column[n // 2]) / 2.0 if n else math.nan
