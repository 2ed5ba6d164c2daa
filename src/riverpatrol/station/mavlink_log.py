"""What an attached boat sends over MAVLink, written into its patrol log.

The station keeps a patrol log for a boat it attaches to, as the boat side keeps one for a twin
patrol, so the same ``LogTail`` stores and publishes it and the analysis runs on it at the end.
Fixes come from GLOBAL_POSITION_INT, sonde samples from the NAMED_VALUE_FLOAT readings sharing
one ``time_boot_ms`` (docs/mavlink.md), ranging rings and events from the autopilot client (which
turns each OBSTACLE_DISTANCE to the heading of its instant). Times are the autopilot's clock, as
in its messages.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from riverpatrol.patrollog import PatrolLogWriter
from riverpatrol.records import MissionEvent, Position, RangeScan
from riverpatrol.vehicle.mavlink_client import position_of
from riverpatrol.vehicle.named_values import PARAMETER_OF

TAPPED = ("GLOBAL_POSITION_INT", "NAMED_VALUE_FLOAT")


class MavlinkRecorder:
    """Appends batches of received messages to a patrol log; ``newest`` is the latest time written."""

    def __init__(self, log: PatrolLogWriter) -> None:
        self._log = log
        self._readings: dict[float, dict[str, float]] = {}  # sonde readings by time, until complete
        self.newest = -math.inf

    def record(self, messages: Iterable[Any], scans: list[RangeScan], events: Iterable[MissionEvent], *,
               final: bool = False) -> None:
        """Write one batch in one transaction. The readings of the newest sample time wait for the
        next batch (more of them may be on their way) unless ``final``."""
        fixes: list[Position] = []
        for msg in messages:
            kind = msg.get_type()
            if kind == "GLOBAL_POSITION_INT":
                fixes.append(position_of(msg))
            elif kind == "NAMED_VALUE_FLOAT" and msg.name in PARAMETER_OF:
                self._readings.setdefault(msg.time_boot_ms / 1000.0, {})[PARAMETER_OF[msg.name]] = msg.value
        done = sorted(self._readings) if final else sorted(self._readings)[:-1]
        samples = [(t, self._readings.pop(t)) for t in done]
        rows = [(e.t, e.kind, e.detail) for e in events]
        with self._log.batch():
            if fixes:
                self._log.positions(*zip(*((f.t, f.lon, f.lat, f.sog_mps, f.cog_deg, f.heading_deg) for f in fixes)))
            for scan in scans:
                self._log.scans([scan.t], [scan.heading_deg], scan.distances_cm[None, :], scan.increment_deg,
                                scan.min_cm, scan.max_cm)
            if samples:
                names = sorted({p for _, values in samples for p in values})
                self._log.sonde([t for t, _ in samples],
                                {p: [values.get(p, math.nan) for _, values in samples] for p in names})
            if rows:
                self._log.events(rows)
        times = [f.t for f in fixes] + [s.t for s in scans] + [t for t, _ in samples] + [t for t, _, _ in rows]
        self.newest = max([self.newest, *times])
