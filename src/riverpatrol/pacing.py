"""Paced patrols: what the sensors saw reaches the patrol log when the patrol clock reaches it.

The twin works a little ahead of the clock (a control tick, or the second of sensing before
preflight), but a real boat's record exists only once its time has come. A paced run therefore
commits every record at the wall-clock instant its patrol time falls on, ``start_unix + t /
speedup``, camera frames between ticks included, and tells ``progress`` each time: a station
reading the log sees the records as it would from a boat streaming them one by one. The clock
starts when the first block is ready, and the log's ``paced`` metadata says when that was.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from riverpatrol.records import MissionEvent
from riverpatrol.twin.twin import TICK_S, SensedBatch

RELEASE_S = 0.01  # wall-clock seconds a record may wait to go with later ones (at high speedups)


@dataclass(frozen=True)
class PatrolClock:
    """Patrol time on the wall clock: time 0 at ``start_unix``, ``speedup`` patrol seconds a second."""

    start_unix: float
    speedup: float

    def due(self, t: float) -> float:
        """The Unix time at which patrol time ``t`` is reached."""
        return self.start_unix + t / self.speedup

    def wait(self, t: float) -> None:
        """Sleep until patrol time ``t`` is reached (at once if it has been)."""
        ahead = self.due(t) - time.time()
        if ahead > 0:
            time.sleep(ahead)


def block_s(speedup: float) -> float:
    """Patrol time the twin may work ahead: a control tick, or what RELEASE_S covers if longer."""
    return max(TICK_S, speedup * RELEASE_S)


def release(clock: PatrolClock, now: float, sensed: SensedBatch, events: list[MissionEvent],
            write: Callable[[SensedBatch, list[MissionEvent], float], None]) -> None:
    """Hand ``write`` the block's records up to patrol time ``now`` in time order, each once its time
    is reached (with those due within RELEASE_S after it), and the time reached; the last group
    (``now``) takes anything stamped later."""
    times = sorted(t for t in {*sensed.positions["t"].tolist(), *sensed.sonde_t.tolist(), *sensed.scan_t.tolist(),
                               *sensed.ping_t.tolist(), *sensed.frame_t, *(e.t for e in events), now} if t <= now)
    before, k = -math.inf, 0
    while k < len(times):
        first = times[k]
        while k + 1 < len(times) and (times[k + 1] - first) / clock.speedup <= RELEASE_S:
            k += 1
        t, k = times[k], k + 1
        upto = t if t < now else math.inf
        clock.wait(t)
        write(between(sensed, before, upto), [e for e in events if before < e.t <= upto], t)
        before = t


def between(sensed: SensedBatch, t0: float, t1: float) -> SensedBatch:
    """The records of ``sensed`` with ``t0 < t <= t1``."""
    def pick(t: np.ndarray) -> np.ndarray:
        return (t > t0) & (t <= t1)

    p, s, r, g = pick(sensed.positions["t"]), pick(sensed.sonde_t), pick(sensed.scan_t), pick(sensed.ping_t)
    frames = [k for k, t in enumerate(sensed.frame_t) if t0 < t <= t1]
    return replace(
        sensed,
        positions={k: v[p] for k, v in sensed.positions.items()},
        sonde_t=sensed.sonde_t[s], sonde={k: v[s] for k, v in sensed.sonde.items()},
        scan_t=sensed.scan_t[r], scan_heading=sensed.scan_heading[r], scans=sensed.scans[r],
        ping_t=sensed.ping_t[g], port=sensed.port[g], starboard=sensed.starboard[g],
        frame_t=[sensed.frame_t[k] for k in frames], frames=[sensed.frames[k] for k in frames],
    )
