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
from riverpatrol.autonomy.water import BANK_HARD_M, NearWater

FloatArray = NDArray[np.float64]

LOOKAHEAD_S = 15.0  # runs that will overlap within this are an encounter
PASSED_M = 4.0  # an encounter ends once the vessel is this far behind the boat (or ahead, receding)
AIM_AHEAD_M = 6.0  # the aim point lies this far ahead of the boat along the river
MIN_BEAM_M = 3.5  # a hull seen end-on shows less than its beam: a lane is at least this wide
SAME_LANE_M = 2.0  # a new track this near a lost one's lane, going the same way, is the same vessel
REMEMBER_S = 3.0  # ... if the lost one was seen this recently
COMMIT_M = 20.0  # a side is kept once the vessel is this near; farther, a 5 degree sector smears its
# lane over metres and its speed is rough, so the side is chosen afresh on every scan
BANK_KEEP_M = 1.2  # the aim keeps the boat's circle this far from the bank (BANK_HARD_M if it must)
RETHINK_M = 15.0  # a kept side with no room left (the lane was misjudged from afar) is dropped and
# chosen afresh while the vessel is this far off; nearer, ``_reconciled`` moves it to a side with room


@dataclass(frozen=True)
class _Run:
    """A moving vessel seen in river coordinates: its points' extent across, where along, speed."""

    id: int
    n_lo: float
    n_hi: float
    s_lo: float
    s_hi: float
    along_mps: float
    distance_m: float  # from the boat to its nearest point

    def gaps(self, s0: float, direction: float) -> tuple[float, float]:
        """Its near and far ends along the boat's way, from the boat (ahead positive)."""
        a, b = direction * (self.s_lo - s0), direction * (self.s_hi - s0)
        return min(a, b), max(a, b)


@dataclass
class Encounters:
    """Sides chosen for the vessels met so far, kept for as long as each encounter lasts."""

    water: NearWater
    radius_m: float
    keep_m: float  # from a vessel's side to the boat's centre, at the least
    clearance_m: float  # ... and as the boat would have it
    sides: dict[int, float] = field(default_factory=dict)  # track id -> +1 left, -1 right of it
    _lost: list[tuple[float, float, float, float]] = field(default_factory=list)  # (t, lane n, along, side)
    _lanes: dict[int, tuple[float, float]] = field(default_factory=dict)  # track id -> (lane n, along)
    _now: float = 0.0

    def aim(self, pos: FloatArray, direction: float, cruise_mps: float, lane_n: float,
            tracks: list[Track]) -> FloatArray | None:
        """Where to head (local metres) to pass the vessels whose lanes block the boat's, or None.

        ``direction`` is +1 going downstream, -1 upstream; ``lane_n`` the offset of the route the
        boat follows.
        """
        moving = [k for k in tracks if k.velocity != (0.0, 0.0)]
        now = self._now = max((k.t for k in tracks), default=self._now)  # no tracks: time as last seen
        if not moving or direction == 0.0:
            self._remember_lost(now, [])
            self.sides = {}
            return None
        here_s, here_n, _ = self.water.river_coords(pos[:1], pos[1:])
        s0, n0 = float(here_s[0]), float(here_n[0])
        half = float(self.water.river.width_at(s0)) / 2.0 - self.radius_m
        runs = self._runs(pos, moving)
        active = [r for r in runs if _overlapping(*r.gaps(s0, direction), cruise_mps - direction * r.along_mps)]
        active.sort(key=lambda r: max(r.s_lo - s0, s0 - r.s_hi, 0.0))
        self._remember_lost(now, runs)
        committed = [r for r in active if r.distance_m <= COMMIT_M]  # far off, a side is only a first guess
        self.sides = {r.id: self.sides[r.id] for r in committed if r.id in self.sides
                      and not self._misjudged(r, self.sides[r.id], half)}
        aim_n = lane_n
        for _ in range(len(active)):  # each pass may put the aim into another vessel's lane
            blocking = [r for r in active if r.id not in self.sides and (
                r.n_lo - self.clearance_m < aim_n < r.n_hi + self.clearance_m
                or r.n_lo - self.clearance_m < n0 < r.n_hi + self.clearance_m)]
            if not blocking:
                break
            first = blocking[0]
            self.sides[first.id] = self._recalled(now, first) or self._side(first, n0, half, direction)
            aim_n = self._offset(active, lane_n, half)
        if self.sides and self._gap(active, self.sides, half) is None:
            self.sides = self._reconciled(active, half)
        self._lanes = {r.id: ((r.n_lo + r.n_hi) / 2.0, r.along_mps) for r in active if r.id in self.sides}
        if not self.sides:
            return None
        aim_n = self._offset(active, lane_n, half)
        x, y = self.water.river.from_river(s0 + direction * AIM_AHEAD_M, aim_n)
        return np.array([x[0], y[0]])

    def _runs(self, pos: FloatArray, moving: list[Track]) -> list[_Run]:
        """Each vessel's extent in river coordinates, its speed along the river and its distance."""
        points = np.vstack([k.points for k in moving])
        distance = np.hypot(points[:, 0] - pos[0], points[:, 1] - pos[1])
        s, n, _ = self.water.river_coords(points[:, 0], points[:, 1])
        starts = np.concatenate([[0], np.cumsum([len(k.points) for k in moving])[:-1]])
        counts = np.diff(np.append(starts, len(points)))
        n_mid = np.add.reduceat(n, starts) / counts
        units = self.water.river.downstream_unit(np.add.reduceat(s, starts) / counts)
        along = np.einsum("kj,kj->k", units, np.array([k.velocity for k in moving]))
        n_lo = np.minimum(np.minimum.reduceat(n, starts), n_mid - MIN_BEAM_M / 2.0)
        n_hi = np.maximum(np.maximum.reduceat(n, starts), n_mid + MIN_BEAM_M / 2.0)
        columns = (n_lo, n_hi, np.minimum.reduceat(s, starts), np.maximum.reduceat(s, starts), along,
                   np.minimum.reduceat(distance, starts))
        return [_Run(k.id, *values) for k, values in zip(moving, zip(*(c.tolist() for c in columns)))]

    def _remember_lost(self, now: float, runs: list[_Run]) -> None:
        """Keep the sides of vessels whose tracks were just lost, for a new track of the same one."""
        seen = {r.id for r in runs}
        self._lost = [m for m in self._lost if now - m[0] <= REMEMBER_S]
        self._lost += [(now, *self._lanes[i], side) for i, side in self.sides.items() if i not in seen and i in self._lanes]

    def _recalled(self, now: float, run: _Run) -> float | None:
        centre = (run.n_lo + run.n_hi) / 2.0
        for _, lane, along, side in reversed(self._lost):
            if abs(lane - centre) <= SAME_LANE_M and along * run.along_mps > 0.0:
                return side
        return None

    def _side(self, run: _Run, n0: float, half: float, direction: float) -> float:
        """+1 to pass on the vessel's left (higher n), -1 on its right: where there is room at all."""
        room = self._room(run, half)
        if direction * run.along_mps < 0.0 and room[-direction] >= 0.0:
            return -direction  # head-on: starboard (the right bank going downstream)
        if min(room.values()) >= 0.0:  # either will do: stay on the side the boat is on
            return 1.0 if n0 >= (run.n_lo + run.n_hi) / 2.0 else -1.0
        return max(room, key=lambda side: room[side])

    def _room(self, run: _Run, half: float) -> dict[float, float]:
        """Water left beside the vessel's lane on each side (+1 higher n), its keep-out distance
        and the bank's keep taken off: negative where the boat does not fit."""
        limit = half - BANK_KEEP_M
        return {1.0: limit - (run.n_hi + self.keep_m), -1.0: (run.n_lo - self.keep_m) + limit}

    def _misjudged(self, run: _Run, side: float, half: float) -> bool:
        """Whether a kept side has turned out to have no room while the other has, with the vessel
        still far enough off to cross over (RETHINK_M)."""
        room = self._room(run, half)
        return run.distance_m >= RETHINK_M and room[side] < 0.0 <= room[-side]

    def _gap(self, active: list[_Run], sides: dict[int, float], half: float) -> tuple[float, float] | None:
        """The offsets that keep the keep-out distance from every vessel on its chosen side and the
        bank's keep, or None if there are none."""
        bank = half - BANK_KEEP_M
        chosen = [r for r in active if r.id in sides]
        low = max([-bank] + [r.n_hi + self.keep_m for r in chosen if sides[r.id] > 0])
        high = min([bank] + [r.n_lo - self.keep_m for r in chosen if sides[r.id] < 0])
        return (low, high) if low <= high else None

    def _reconciled(self, active: list[_Run], half: float) -> dict[int, float]:
        """Kept sides can leave no way past: one vessel's side turned out to have no room once its
        lane firmed up, or sides chosen one vessel at a time pass one on its left and the one
        beside it on its right. The fewest changes of side, each to a side with room, that leave
        a way; the sides as they were if none does. A change may undo a kept side at any distance:
        held, it squeezes the boat against the bank or between two hulls, while the velocity
        choice keeps the boat off a vessel's bow as it crosses over."""
        ids = [r.id for r in active if r.id in self.sides]
        runs = {r.id: r for r in active}
        best: tuple[int, dict[int, float]] | None = None
        for flips in range(1, 1 << len(ids)):
            trial = {i: -self.sides[i] if flips >> k & 1 else self.sides[i] for k, i in enumerate(ids)}
            if any(self._room(runs[i], half)[trial[i]] < 0.0 for k, i in enumerate(ids) if flips >> k & 1):
                continue
            changes = bin(flips).count("1")
            if self._gap(active, trial, half) is not None and (best is None or changes < best[0]):
                best = (changes, trial)
        return best[1] if best else self.sides

    def _offset(self, active: list[_Run], lane_n: float, half: float) -> float:
        """The offset nearest the lane that keeps every chosen side: with the boat's own margin
        from the vessels if it fits, else in the middle of what the keep-out distance leaves."""
        chosen = [r for r in active if r.id in self.sides]
        bank = half - BANK_KEEP_M
        for margin in (self.clearance_m, self.keep_m):
            low = max([-bank] + [r.n_hi + margin for r in chosen if self.sides[r.id] > 0])
            high = min([bank] + [r.n_lo - margin for r in chosen if self.sides[r.id] < 0])
            if low <= high:
                return min(max(lane_n, low), high) if margin == self.clearance_m else (low + high) / 2.0
        first = chosen[0]  # no way past them all: clear the nearest
        edge = first.n_hi + self.clearance_m if self.sides[first.id] > 0 else first.n_lo - self.clearance_m
        return min(max(edge, -(half - BANK_HARD_M)), half - BANK_HARD_M)


def _overlapping(gap_near: float, gap_far: float, closing: float) -> bool:
    """Whether a vessel spanning ``gap_near..gap_far`` along the boat's way (ahead positive)
    comes alongside the boat within ``LOOKAHEAD_S``, the boat gaining ``closing`` m/s on it."""
    swept_near = gap_near - max(closing, 0.0) * LOOKAHEAD_S
    swept_far = gap_far + max(-closing, 0.0) * LOOKAHEAD_S
    return swept_near < PASSED_M and swept_far > -PASSED_M
