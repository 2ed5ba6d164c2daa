"""Encounters with moving vessels, in the river's own coordinates: which side to pass on.

Vessels on a river follow the channel, so across the river (offset ``n``) a vessel holds its lane
while it runs along it (chainage ``s``). When a vessel's lane, widened by the boat's keep-out
distance and a near-pass margin, covers the boat's own lane where their runs will overlap (met
head-on, caught up, or being caught up), no velocity held for a few seconds solves it: the boat must
leave its lane for as long as the two overlap along the river. The encounter picks a side once and
keeps it until the vessel is past, so the boat commits early instead of hesitating between two
equally good gaps as the vessel's tracked velocity jitters. Head-on, the starboard side (pass port
to port, COLREGs rule 14) is taken when it has room; otherwise, and when overtaking or being
overtaken (rule 13, and a vessel that does not give way), the side with more room.

The answer is an aim point beside the vessel's lane, ahead of the boat along the river; the
velocity choice (``avoidance``) steers there round everything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from riverpatrol.autonomy.tracker import Track
from riverpatrol.autonomy.water import NearWater

FloatArray = NDArray[np.float64]

LOOKAHEAD_S = 15.0  # runs that will overlap within this are an encounter
PASSED_M = 4.0  # an encounter ends once the vessel is this far behind the boat (or ahead, receding)
AIM_AHEAD_M = 6.0  # the aim point lies this far ahead of the boat along the river
BANK_KEEP_M = 1.2  # the aim keeps the boat's centre this far plus its radius from the bank


@dataclass
class Encounters:
    """Sides chosen for the vessels met so far, kept for as long as each encounter lasts."""

    water: NearWater
    radius_m: float
    clearance_m: float  # from a vessel's side to the boat's centre
    sides: dict[int, float] = field(default_factory=dict)  # track id -> +1 left, -1 right of it

    def aim(self, pos: FloatArray, direction: float, cruise_mps: float, lane_n: float,
            tracks: list[Track]) -> FloatArray | None:
        """Where to head (local metres) to pass the vessels whose lanes block the boat's, or None.

        ``direction`` is +1 going downstream, -1 upstream; ``lane_n`` the offset of the route the
        boat follows.
        """
        moving = [k for k in tracks if k.velocity != (0.0, 0.0)]
        self.sides = {k: v for k, v in self.sides.items() if any(t.id == k for t in moving)}
        if not moving or direction == 0.0:
            return None
        here_s, here_n, _ = self.water.river_coords(pos[:1], pos[1:])
        s0, n0 = float(here_s[0]), float(here_n[0])
        half = float(self.water.river.width_at(s0)) / 2.0 - self.radius_m - BANK_KEEP_M
        aim_n: float | None = None
        for track, s, n, along in sorted(self._runs(moving), key=lambda r: abs(r[1].mean() - s0)):
            lo, hi = float(n.min()) - self.clearance_m, float(n.max()) + self.clearance_m
            closing = cruise_mps - direction * along  # how fast the boat gains on it along the river
            gap_near = float(np.min(direction * (s - s0)))
            gap_far = float(np.max(direction * (s - s0)))
            if not _overlapping(gap_near, gap_far, closing):
                self.sides.pop(track.id, None)
                continue
            wanted = lane_n if aim_n is None else aim_n
            if track.id not in self.sides and not (lo < wanted < hi or lo < n0 < hi):
                continue  # not in the way
            side = self.sides.get(track.id) or self._side(lo, hi, n0, half, direction, along)
            self.sides[track.id] = side
            aim_n = min(max(hi if side > 0 else lo, -half), half)
        if aim_n is None:
            return None
        x, y = self.water.river.from_river(s0 + direction * AIM_AHEAD_M, aim_n)
        return np.array([x[0], y[0]])

    def _runs(self, moving: list[Track]) -> list[tuple[Track, FloatArray, FloatArray, float]]:
        """Each vessel's points in river coordinates and its speed along the river."""
        points = np.vstack([k.points for k in moving])
        s, n, _ = self.water.river_coords(points[:, 0], points[:, 1])
        cuts = np.cumsum([len(k.points) for k in moving])[:-1]
        s_parts, n_parts = np.split(s, cuts), np.split(n, cuts)
        units = self.water.river.downstream_unit(np.array([part.mean() for part in s_parts]))
        velocity = np.array([k.velocity for k in moving])
        along = np.einsum("kj,kj->k", units, velocity)
        return list(zip(moving, s_parts, n_parts, along.tolist()))

    def _side(self, lo: float, hi: float, n0: float, half: float, direction: float, along: float) -> float:
        """+1 to pass on the vessel's left (higher n), -1 on its right."""
        room_left, room_right = half - hi, lo + half
        if direction * along < 0.0:  # head-on: starboard is the right bank going downstream
            starboard = -direction
            room = room_left if starboard > 0 else room_right
            if room >= 0.0:
                return starboard
        if min(room_left, room_right) >= 0.0:  # both will do: stay on the side the boat is on
            return 1.0 if n0 >= (lo + hi) / 2.0 else -1.0
        return 1.0 if room_left >= room_right else -1.0


def _overlapping(gap_near: float, gap_far: float, closing: float) -> bool:
    """Whether a vessel spanning ``gap_near..gap_far`` along the boat's way (ahead positive)
    comes alongside the boat within ``LOOKAHEAD_S``, the boat gaining ``closing`` m/s on it."""
    swept_near = gap_near - max(closing, 0.0) * LOOKAHEAD_S
    swept_far = gap_far + max(-closing, 0.0) * LOOKAHEAD_S
    return swept_near < PASSED_M and swept_far > -PASSED_M
