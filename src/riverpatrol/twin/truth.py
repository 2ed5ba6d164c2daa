"""Ground truth of a run (spec section 5): true track, collisions and clearance.

Only the twin writes this; it is what evaluators score against and never enters the patrol log.
Clearance is checked at every control tick (10 Hz).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from riverpatrol.geo.frame import RiverFrame
from riverpatrol.scenario import Scenario
from riverpatrol.twin.ticks import TickBlock
from riverpatrol.twin.traffic import Traffic

BANK = "bank"
_CHECK_TICKS = 300


class TruthRecorder:
    def __init__(self, scenario: Scenario, river: RiverFrame, traffic: Traffic, track_every: int) -> None:
        self._scenario = scenario
        self._river = river
        self._traffic = traffic
        self._radius = scenario.boat.radius_m
        self._track_every = track_every
        self._track: list[NDArray[np.float64]] = []
        self._length = 0.0
        self._last: tuple[float, float] | None = None
        self._in_contact: set[str] = set()
        self._collisions: list[dict[str, Any]] = []
        self._min_clearance = np.inf
        self.duration = 0.0
        self._pending: list[TickBlock] = []
        self._pending_ticks = 0

    def observe(self, block: TickBlock) -> None:
        """Take a block of true states; short ones (a boat avoiding, tick by tick) are gathered and
        checked together, as the per-check cost is in the call, not the ticks."""
        self._pending.append(block)
        self._pending_ticks += len(block.t)
        if self._pending_ticks >= _CHECK_TICKS:
            self._check_pending()

    @property
    def collisions(self) -> list[dict[str, Any]]:
        """Contacts so far, one per episode: where and when each began, and with what."""
        self._check_pending()
        return sorted(self._collisions, key=lambda c: c["t"])  # checked obstacle by obstacle

    @property
    def min_clearance(self) -> float:
        """The least clearance so far (boat's circle to anything; negative in contact)."""
        self._check_pending()
        return float(self._min_clearance)

    def _check_pending(self) -> None:
        if not self._pending:
            return
        block = TickBlock.concat(self._pending)
        self._pending, self._pending_ticks = [], 0
        t, x, y = block.t, block.x, block.y
        keep = block.ticks % self._track_every == 0
        self._track.append(np.column_stack([t[keep], x[keep], y[keep]]))
        px = np.concatenate([[self._last[0]], x]) if self._last else x
        py = np.concatenate([[self._last[1]], y]) if self._last else y
        self._length += float(np.hypot(np.diff(px), np.diff(py)).sum())
        self._last = (float(x[-1]), float(y[-1]))
        self.duration = float(t[-1])
        gaps = {BANK: self._river.water_clearance(block.s, block.n, block.inside)}
        # exact wherever a contact or a new minimum could be; a lower bound is enough elsewhere
        least = min(self._min_clearance, float(gaps[BANK].min()) - self._radius)
        gaps.update(self._traffic.clearances(t, x, y, exact_within=self._radius + max(least, 0.0)))
        for name, gap in gaps.items():
            clearance = gap - self._radius
            self._min_clearance = min(self._min_clearance, float(clearance.min()))
            self._contacts(name, clearance < 0.0, t, x, y)

    def _contacts(self, name: str, touching: NDArray[np.bool_], t: NDArray[np.float64], x: NDArray[np.float64], y: NDArray[np.float64]) -> None:
        """One collision per contact episode, stamped where it began (episodes span chunks)."""
        before = np.concatenate([[name in self._in_contact], touching[:-1]])
        for k in np.flatnonzero(touching & ~before):
            lon, lat = self._river.local.to_lonlat(x[k], y[k])
            self._collisions.append({"t": round(float(t[k]), 3), "with": name, "lon": float(lon), "lat": float(lat)})
        if touching[-1]:
            self._in_contact.add(name)
        else:
            self._in_contact.discard(name)

    def document(self, mission_complete: bool) -> dict[str, Any]:
        self._check_pending()
        track = np.concatenate(self._track) if self._track else np.empty((0, 3))
        lon, lat = self._river.local.to_lonlat(track[:, 1], track[:, 2])
        frame = self._river
        outfalls = []
        for o in self._scenario.outfalls:
            side = 1.0 if o.bank == "left" else -1.0
            ox, oy = frame.from_river(o.chainage_m, side * frame.width_at(o.chainage_m) / 2.0)
            olon, olat = frame.local.to_lonlat(ox, oy)
            outfalls.append({
                "id": o.id, "lon": float(olon[0]), "lat": float(olat[0]), "chainage_m": o.chainage_m,
                "bank": o.bank, "submerged": o.submerged, "active": o.active,
            })
        return {
            "scenario": self._scenario.name,
            "outfalls": outfalls,
            "collisions": self.collisions,
            "min_clearance_m": round(float(self.min_clearance), 4),
            "track": [[round(float(a), 3), float(b), float(c)] for a, b, c in zip(track[:, 0], lon, lat)],
            "track_length_m": round(self._length, 2),
            "duration_s": round(self.duration, 3),
            "mission_complete": bool(mission_complete),
        }
