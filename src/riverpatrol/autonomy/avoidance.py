"""Obstacle avoidance from the ranging ring and the river map, by sampled velocity obstacles.

Each scan, returns the map explains (the banks) are set aside; the rest are grouped into objects
and tracked (``tracker``). A few hundred candidate ground velocities are scored at once: time to
the first contact with any object (its points moving at the track's velocity, kept
``radius + margin`` away), the water the candidate keeps from the bank on the map over the next
seconds, how far it strays from the preferred velocity (along the route), and, for a vessel met
head-on, whether it passes the vessel port to port. Why velocity obstacles: see docs/autonomy.md.

``Avoidance`` is the boat-side controller: it lets the autopilot run the mission in AUTO while
the route ahead is clear, takes over in GUIDED with velocity targets when it is not, and hands
back to AUTO at the first route point ahead once the way there is clear, through the keeper of
the mission (the supervisor), which re-uploads the rest of it if the detour passed some of its
waypoints (unlike BendyRuler, which does not come back to the route). It sees only scans, GNSS
fixes and the map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from riverpatrol.autonomy import _kernels
from riverpatrol.autonomy.encounter import Encounters
from riverpatrol.autonomy.ownship import OwnShip
from riverpatrol.autonomy.tracker import ObstacleTracker, Track
from riverpatrol.autonomy.water import BANK_HARD_M, NearWater
from riverpatrol.geo.frame import RiverFrame
from riverpatrol.records import MissionEvent
from riverpatrol.vehicle.autopilot import Autopilot
from riverpatrol.vehicle.mission import Mode

FloatArray = NDArray[np.float64]

_HEADINGS = np.radians(np.arange(0.0, 360.0, 7.5))
_SPEED_SHARES = np.array([0.35, 0.7, 1.0])
BANK_CHECK_S = 3.0  # candidates must keep clear of the bank this far ahead
TURN_RATE = math.radians(30.0)  # how fast the boat swings round to a new course
_NO_CONTACT = 1e9
WHAT_IF_S = 4.0  # how far ahead a vessel stopping or turning back is allowed for
NEAR_PASS_M = 1.0  # beyond the keep-out distance, passing nearer than this costs ...
NEAR_PASS_COST = 3.0  # ... this much a metre
TRACK_ALL_S = 3.0  # blocks up to this long have every scan tracked, not only the last
RECHECK_S = 0.5  # with something near and the route clear, decide at least this often ...
REACTION_S = 1.0  # ... and this long before anything could have closed to its keep-out distance


@dataclass(frozen=True)
class AvoidanceConfig:
    """Distances in metres, speeds in m/s, times in seconds."""

    radius_m: float  # the boat's own radius
    cruise_mps: float
    margin_m: float = 1.2  # kept between the boat's circle and any object
    bank_margin_m: float = 1.0  # kept between the boat's circle and the bank
    bank_tolerance_m: float = 0.6  # a return this close to the mapped bank (plus sector width) is the bank
    watch_m: float = 20.0  # objects nearer than this are checked on every scan
    max_vessel_mps: float = 2.5  # the fastest vessel expected on the river, for the scan-free blocks
    horizon_s: float = 10.0  # contacts later than this are ignored
    hard_s: float = 3.0  # a candidate with a contact sooner than this is refused
    clear_scans: int = 10  # scans the way back to the route must stay clear before AUTO resumes
    rejoin_ahead_m: float = 6.0  # resume at the first route point at least this far ahead
    head_on_deg: float = 35.0  # reciprocal courses within this are head-on
    colregs_weight: float = 0.6  # cost of passing a head-on vessel starboard to starboard
    steadiness: float = 0.8  # cost of straying from the velocity being followed, against the preferred

    @property
    def keep_m(self) -> float:
        return self.radius_m + self.margin_m


@dataclass(frozen=True)
class Obstacles:
    """What one scan shows beyond the banks: points with velocities, and the tracks they came from."""

    points: FloatArray  # k x 2 local metres
    velocity: FloatArray  # k x 2 ground velocity of each point's track
    tracks: list[Track]
    nearest_m: float
    # points before this index are predictions, after it what-ifs (a vessel as if it stopped or
    # turned back); None: all are predictions
    predicted: int | None = None


def scan_points(x: float, y: float, heading_deg: float, distances_cm: NDArray[np.uint16], increment_deg: float,
                max_cm: int) -> FloatArray:
    """Local points (k x 2, bearing order) of the sectors that saw something."""
    return _kernels.scan_points(x, y, heading_deg, np.ascontiguousarray(distances_cm, np.uint16), increment_deg,
                                max_cm)


def unexplained(water: NearWater, x: float, y: float, points: FloatArray, increment_deg: float,
                tolerance_m: float) -> FloatArray:
    """The points the mapped banks cannot explain.

    A sector reports its nearest return on its centre line, but the return may lie anywhere across
    the sector and a beam spreads a little beyond it: a point within ``tolerance + d sin(sector)``
    of the water's edge (or on land) may be the bank itself.
    """
    if len(points) == 0:
        return points
    return water.off_the_banks(x, y, points, tolerance_m, math.sin(math.radians(increment_deg)))


def _pair_terms(pos: FloatArray, velocities: FloatArray, points: FloatArray,
                point_velocity: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Relative motion of each candidate (c) and point (k): |r(t)|^2 = a t^2 + b t + r2.

    r(t) = r0 + (u - v) t; the c x k products come from two small matrix products instead of
    c x k x 2 intermediates.
    """
    r0 = points - pos  # k x 2
    r2 = np.einsum("kj,kj->k", r0, r0)
    a = np.einsum("kj,kj->k", point_velocity, point_velocity)[None, :] - 2.0 * velocities @ point_velocity.T
    a += np.einsum("cj,cj->c", velocities, velocities)[:, None]
    b = 2.0 * (np.einsum("kj,kj->k", r0, point_velocity)[None, :] - velocities @ r0.T)
    return a, b, r2


def contact_times(pos: FloatArray, velocities: FloatArray, points: FloatArray, point_velocity: FloatArray,
                  keep_m: float) -> FloatArray:
    """Time (c x k) until each candidate velocity comes within ``keep_m`` of each moving point.

    Straight lines for both: the relative position r0 + (u - v) t. Already inside the keep-out
    distance counts as contact now if closing, as none if opening.
    """
    return _contact_times(*_pair_terms(pos, velocities, points, point_velocity), keep_m)


def _contact_times(a: FloatArray, b: FloatArray, r2: FloatArray, keep_m: float) -> FloatArray:
    c = r2 - keep_m * keep_m
    disc = b * b - 4.0 * a * c[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (-b - np.sqrt(np.maximum(disc, 0.0))) / (2.0 * a)
    hit = (disc > 0.0) & (b < 0.0) & (a > 1e-12)
    out = np.where(hit, np.maximum(t, 0.0), _NO_CONTACT)
    return np.where(c[None, :] <= 0.0, np.where(b < 0.0, 0.0, _NO_CONTACT), out)


def _closest(a: FloatArray, b: FloatArray, r2: FloatArray, start_s: float, end_s: float) -> FloatArray:
    """Least distance (c x k) between each candidate and each point from ``start_s`` to ``end_s``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.minimum(np.maximum(-b / (2.0 * a), start_s), end_s)
    t = np.where(a > 1e-12, t, start_s)
    return np.sqrt(np.maximum((a * t + b) * t + r2[None, :], 0.0))


@dataclass(frozen=True)
class _Verdict:
    """What each candidate velocity meets: first contacts, the bank, a head-on vessel's wrong side."""

    ttc: FloatArray  # first contact with what is predicted
    what_if: FloatArray  # first contact with what a vessel might do
    crowding: FloatArray  # cost of passing close to what is predicted
    ashore: FloatArray  # metres short of the bank's hard limit (0: clear of it)
    intrusion: FloatArray  # cost of eating into the bank margin
    wrong_side: FloatArray  # 1 where a head-on vessel would be passed starboard to starboard

    def clear(self, k: int, cfg: AvoidanceConfig, factor: float) -> bool:
        """Candidate ``k`` meets nothing for ``factor`` horizons and keeps every rule."""
        return bool(self.ttc[k] >= cfg.horizon_s * factor and self.what_if[k] >= WHAT_IF_S
                    and self.ashore[k] == 0.0 and not self.wrong_side[k] and self.intrusion[k] == 0.0
                    and self.crowding[k] == 0.0)


class VelocityChooser:
    """Scores candidate ground velocities against obstacles, the banks and the preferred velocity."""

    def __init__(self, water: NearWater, config: AvoidanceConfig) -> None:
        self.water = water
        self.config = config
        speeds = config.cruise_mps * _SPEED_SHARES
        unit = np.column_stack([np.cos(_HEADINGS), np.sin(_HEADINGS)])
        self._grid = np.vstack([[0.0, 0.0], (unit[None, :, :] * speeds[:, None, None]).reshape(-1, 2)])

    def choose(self, pos: FloatArray, preferred: FloatArray, obstacles: Obstacles, head_on: list[Track],
               current: FloatArray, clear_factor: float = 1.0) -> tuple[FloatArray, bool]:
        """The best velocity, and whether the preferred one is clear for ``clear_factor`` horizons.

        ``current`` is the velocity the boat is following now: straying from it costs too, so the
        boat holds one course round an obstacle instead of dithering between equally good ones
        it could never reach in time (it turns at 30 degrees a second).
        """
        cfg = self.config
        candidates = np.vstack([preferred, self._grid])
        verdict = self._verdict(pos, candidates, obstacles, head_on, current)
        ttc, what_if = verdict.ttc, verdict.what_if
        cost = np.hypot(*(candidates - preferred).T) / cfg.cruise_mps
        cost += cfg.steadiness * np.hypot(*(candidates - current).T) / cfg.cruise_mps
        # A contact within the horizon outweighs any detour (the velocity obstacle proper); among
        # such candidates, the later contact is the lesser evil. A vessel that might stop or turn
        # back weighs less: it is a possibility, not a prediction.
        cost += np.where(ttc < cfg.horizon_s, 3.0 + 5.0 * (cfg.horizon_s - ttc) / cfg.horizon_s, 0.0)
        cost += np.where(what_if < WHAT_IF_S, 1.5 + 1.5 * (WHAT_IF_S - what_if) / WHAT_IF_S, 0.0)
        cost += verdict.crowding + verdict.intrusion + cfg.colregs_weight * verdict.wrong_side
        # Never the bank; a contact sooner than hard_s only if nothing else is left, the latest one.
        cost += np.where(ttc < cfg.hard_s, 100.0 + 10.0 * (cfg.hard_s - ttc), 0.0) + 1000.0 * (verdict.ashore > 0.0)
        cost += 1000.0 * verdict.ashore  # once short of the limit (squeezed there), back out, never deeper
        return candidates[int(np.argmin(cost))], verdict.clear(0, cfg, clear_factor)

    def is_clear(self, pos: FloatArray, preferred: FloatArray, obstacles: Obstacles, head_on: list[Track]) -> bool:
        """Whether the preferred velocity is clear for one horizon: the whole decision while the
        mission runs undisturbed, at the cost of one candidate instead of all of them."""
        return self._verdict(pos, preferred[None, :], obstacles, head_on, preferred).clear(0, self.config, 1.0)

    def _verdict(self, pos: FloatArray, candidates: FloatArray, obstacles: Obstacles,
                 head_on: list[Track], current: FloatArray) -> _Verdict:
        ttc, what_if, crowding = self._contacts(pos, candidates, obstacles)
        ashore, intrusion = self._bank_costs(pos, candidates, current)
        return _Verdict(ttc, what_if, NEAR_PASS_COST * crowding, ashore, intrusion,
                        self._starboard_passes(pos, candidates, head_on))

    def _contacts(self, pos: FloatArray, candidates: FloatArray,
                  obstacles: Obstacles) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Per candidate: the first contact with what is predicted, and with what a vessel might do,
        and how far inside ``keep + NEAR_PASS_M`` it passes what is predicted from 1 s to ``hard_s``.

        The near pass pushes the boat off anything it is already close to (a vessel alongside,
        a pier): the contact time alone does not care whether the boat opens the gap quickly or
        slides along just inside it.
        """
        cfg = self.config
        none = np.full(len(candidates), _NO_CONTACT)
        if not len(obstacles.points):
            return none, none, np.zeros(len(candidates))
        a, b, r2 = _pair_terms(pos, candidates, obstacles.points, obstacles.velocity)
        m = len(obstacles.points) if obstacles.predicted is None else obstacles.predicted
        ttc = _contact_times(a, b, r2, cfg.keep_m)
        near = _closest(a[:, :m], b[:, :m], r2[:m], 1.0, cfg.hard_s).min(axis=1)
        possible = ttc[:, m:].min(axis=1) if m < ttc.shape[1] else none
        return ttc[:, :m].min(axis=1), possible, np.maximum(cfg.keep_m + NEAR_PASS_M - near, 0.0)

    def _bank_costs(self, pos: FloatArray, candidates: FloatArray,
                    current: FloatArray) -> tuple[FloatArray, FloatArray]:
        """How far each candidate goes short of the bank's hard limit (0 where it keeps it), and what
        each costs for eating into the bank margin.

        Over the next ``BANK_CHECK_S`` the boat's circle must keep ``BANK_HARD_M`` of water (else
        refused); within the margin every centimetre nearer costs, so the boat is pushed off the
        bank rather than allowed to creep along it (a rule of "no nearer than now" creeps with GNSS
        noise). Across a reach the water's edge is a concave function of position (the nearer of two
        banks), so along a straight run the least clearance is at one of its ends, and from the
        first second on it is at least the straight interpolation between now and the run's end:
        one map query per candidate instead of one per second. A boat does not turn on the spot:
        while it swings round to a candidate's course (at ``TURN_RATE``) it carries on along the
        ``current`` velocity for about half the turn, and that point must keep clear too.
        """
        cfg = self.config
        c = len(candidates)
        turn_s = np.minimum(_angle_between(candidates, current) / TURN_RATE, BANK_CHECK_S)
        ahead = np.vstack([pos + candidates * BANK_CHECK_S, pos + current * (0.5 * turn_s)[:, None], pos])
        clearance = self.water.clearance(ahead[:, 0], ahead[:, 1])
        end, turning, now = clearance[:c], clearance[c:2 * c], float(clearance[-1])
        first = now + (end - now) / BANK_CHECK_S  # the interpolation one second on
        worst = np.minimum(np.minimum(end, first), turning)
        intrusion = np.maximum(cfg.radius_m + cfg.bank_margin_m - worst, 0.0)
        return np.maximum(cfg.radius_m + BANK_HARD_M - worst, 0.0), 10.0 * intrusion

    def _starboard_passes(self, pos: FloatArray, candidates: FloatArray, head_on: list[Track]) -> FloatArray:
        """1 where a candidate would leave a head-on vessel on the boat's starboard side, else 0."""
        wrong = np.zeros(len(candidates))
        for track in head_on:
            rx, ry = track.x - pos[0], track.y - pos[1]
            ux, uy = track.velocity
            wx, wy = candidates[:, 0] - ux, candidates[:, 1] - uy  # own motion relative to the vessel
            wrong = np.maximum(wrong, (wx * ry - wy * rx < 0.0).astype(float))
        return wrong


class MissionKeeper(Protocol):
    """Who owns the mission (the supervisor): avoidance follows its waypoints and hands back through it."""

    home: tuple[float, float]

    @property
    def mission(self) -> FloatArray: ...

    def resume_at(self, now: float, first: int, reason: str) -> None: ...


class _RoutePath:
    """The patrol as one polyline (home, route, home) with arc length, for progress and rejoining."""

    def __init__(self, points: FloatArray) -> None:
        self.points = points
        seg = np.hypot(*np.diff(points, axis=0).T)
        self.arc = np.concatenate([[0.0], np.cumsum(seg)])

    @property
    def last(self) -> int:
        return len(self.points) - 1

    def progress_near(self, x: float, y: float, segment: int, window_m: float = 30.0) -> tuple[float, int]:
        """Arc length of the nearest point on segments from ``segment`` to ``window_m`` beyond it."""
        end = int(np.searchsorted(self.arc, self.arc[segment] + window_m)) + 1
        k = np.arange(max(segment - 1, 0), min(end, self.last))
        a, b = self.points[k], self.points[k + 1]
        d = b - a
        length2 = np.maximum((d * d).sum(axis=1), 1e-12)
        f = np.clip(((x - a[:, 0]) * d[:, 0] + (y - a[:, 1]) * d[:, 1]) / length2, 0.0, 1.0)
        gap = np.hypot(a[:, 0] + f * d[:, 0] - x, a[:, 1] + f * d[:, 1] - y)
        j = int(np.argmin(gap))
        return float(self.arc[k[j]] + f[j] * np.sqrt(length2[j])), int(k[j])

    def vertex_after(self, arc: float) -> int:
        return min(int(np.searchsorted(self.arc, arc, side="left")), self.last)


class Avoidance:
    """The boat-side avoidance loop over one patrol, driving the autopilot through its interface."""

    def __init__(self, pilot: Autopilot, river: RiverFrame, keeper: MissionKeeper, config: AvoidanceConfig, *,
                 max_range_m: float, scan_period_s: float, current_mps: float) -> None:
        self.pilot = pilot
        self.river = river
        self.config = config
        self.own = OwnShip()
        self.tracker = ObstacleTracker()
        self.water = NearWater(river, max_range_m)
        self.chooser = VelocityChooser(self.water, config)
        self.encounters = Encounters(self.water, config.radius_m, config.keep_m, config.keep_m + NEAR_PASS_M)
        self.keeper = keeper
        self.path = _RoutePath(np.vstack([keeper.home, keeper.mission, keeper.home]))
        self._max_range = max_range_m
        self._scan_period = scan_period_s
        self._current = current_mps  # the mapped current adds to the boat's speed over ground
        self._segment = 0
        self._avoiding = False
        self._clear_for = 0
        self._nearest = math.inf
        self._command = np.zeros(2)  # the velocity target last sent

    # ---- the loop ----------------------------------------------------------------------------
    def follow(self, mission: FloatArray) -> None:
        """The keeper has a new mission: rejoin that one from now on, starting from where the boat is."""
        start = (self.own.x, self.own.y) if self.own.ready else self.keeper.home
        self.path = _RoutePath(np.vstack([start, mission, self.keeper.home]))
        self._segment = 0

    def observe(self, fixes: dict[str, FloatArray], scan_t: FloatArray, scan_heading: FloatArray,
                scans: NDArray[np.uint16], increment_deg: float, max_cm: int) -> list[MissionEvent]:
        """Take a block's GNSS fixes and scans, and decide on its last scan.

        Blocks are sized by ``next_block_s`` so that no earlier scan in them could have seen anything
        within the watch distance: each of those would have decided "no action". A short block
        (something was within sensor range) still has every scan tracked, so a vessel's velocity
        is known by the time it comes within the watch distance.
        """
        fx, fy = self.river.local.to_xy(fixes["lon"], fixes["lat"])
        pending = list(zip(fixes["t"].tolist(), fx.tolist(), fy.tolist(), fixes["sog"].tolist(),
                           fixes["cog"].tolist()))
        tracked = range(len(scan_t) - 1) if len(scan_t) and scan_t[-1] - scan_t[0] <= TRACK_ALL_S else range(0)
        for k in tracked:
            while pending and pending[0][0] <= scan_t[k]:
                self.own.fix(*pending.pop(0))
            if self.own.ready:
                self._perceive(float(scan_t[k]), float(scan_heading[k]), scans[k], increment_deg, max_cm)
        for fix in pending:
            self.own.fix(*fix)
        if not len(scan_t) or not self.own.ready:
            return []
        return self.on_scan(float(scan_t[-1]), float(scan_heading[-1]), scans[-1], increment_deg, max_cm)

    def next_block_s(self, longest_s: float) -> float:
        """How long the twin may run before the next decision.

        While avoiding, every scan counts. Otherwise the nearest object (or anything beyond the
        sensor's range) must first close the gap to the watch distance, at no more than the boat's
        and the fastest vessel's speeds together, and until it has, each scan would decide "no
        action". Within the watch distance, with the route found clear for a whole horizon, the
        next decision comes within ``RECHECK_S``, and at least ``REACTION_S`` before the nearest
        object could have closed to its keep-out distance; the scans between are still tracked.
        """
        cfg = self.config
        if self._avoiding:
            return self._scan_period
        closing = cfg.cruise_mps + self._current + cfg.max_vessel_mps
        if self._nearest <= cfg.watch_m:
            free = min(RECHECK_S, (self._nearest - cfg.keep_m) / closing - REACTION_S)
        else:
            free = (min(self._nearest, self._max_range) - cfg.watch_m) / closing
        return float(min(longest_s, max(self._scan_period, math.floor(free / self._scan_period) * self._scan_period)))

    def on_scan(self, t: float, heading_deg: float, distances_cm: NDArray[np.uint16], increment_deg: float,
                max_cm: int) -> list[MissionEvent]:
        """One decision: follow, take over, steer round, or hand back to the route."""
        pos, tracks = self._perceive(t, heading_deg, distances_cm, increment_deg, max_cm)
        mode = self.pilot.mode
        moving = any(k.velocity != (0.0, 0.0) for k in tracks)
        if not self._avoiding and (mode is not Mode.AUTO or (self._nearest > self.config.watch_m and not moving)):
            return []
        if self._avoiding and mode is not Mode.GUIDED:  # someone else took the boat (a failsafe): let go
            self._avoiding = False
            return []
        cfg = self.config
        obstacles = _obstacles(tracks, self._nearest)
        arc = self._progress(float(pos[0]), float(pos[1]), mode)
        target = self.path.vertex_after(arc + cfg.rejoin_ahead_m)
        route = _towards(pos, self.path.points[target], cfg.cruise_mps)
        aim = self._encounter_aim(pos, target, tracks) if moving else None
        preferred = route if aim is None else _towards(pos, aim, cfg.cruise_mps)
        head_on = [k for k in tracks if _is_head_on(k, preferred, pos, cfg.head_on_deg)]
        if not self._avoiding and aim is None and self.chooser.is_clear(pos, route, obstacles, head_on):
            return []  # the mission's own way is clear: nothing to do
        # Handing back needs a longer clear view than taking over: no flapping between the two.
        current = self._command if self._avoiding else np.array([self.own.vx, self.own.vy])
        velocity, clear = self.chooser.choose(pos, preferred, obstacles, head_on, current,
                                              1.5 if self._avoiding else 1.0)
        clear = clear and aim is None  # a vessel in the boat's lane keeps it off the route
        self._command = velocity
        if not self._avoiding:
            self._avoiding, self._clear_for = True, 0
            self.pilot.set_mode(Mode.GUIDED)
            self.pilot.guided_velocity(float(velocity[1]), float(velocity[0]))
            nearest = min(tracks, key=lambda k: math.hypot(k.x - pos[0], k.y - pos[1]))
            return [MissionEvent(t, "avoid_start", {"distance_m": round(self._nearest, 1),
                                                    "moving": nearest.velocity != (0.0, 0.0),
                                                    "head_on": bool(head_on)})]
        self._clear_for = self._clear_for + 1 if clear else 0
        if self._clear_for >= cfg.clear_scans:
            return [self._rejoin(t, target)]
        self.pilot.guided_velocity(float(velocity[1]), float(velocity[0]))
        return []

    def _perceive(self, t: float, heading_deg: float, distances_cm: NDArray[np.uint16], increment_deg: float,
                  max_cm: int) -> tuple[FloatArray, list[Track]]:
        """The boat's position and the tracked objects after one scan."""
        x, y = self.own.at(t)
        self.water.focus(x, y)
        points = unexplained(self.water, x, y, scan_points(x, y, heading_deg, distances_cm, increment_deg, max_cm),
                             increment_deg, self.config.bank_tolerance_m)
        self._nearest = float(np.hypot(points[:, 0] - x, points[:, 1] - y).min()) if len(points) else math.inf
        return np.array([x, y]), self.tracker.update(t, points)

    def _encounter_aim(self, pos: FloatArray, target: int, tracks: list[Track]) -> FloatArray | None:
        """Where to head past vessels in the boat's lane, with the route's direction along the river."""
        tx, ty = self.path.points[target]
        s, n, _ = self.water.river_coords(np.array([pos[0], tx]), np.array([pos[1], ty]))
        along = float(s[1] - s[0])
        direction = 0.0 if abs(along) < 1.0 else math.copysign(1.0, along)
        return self.encounters.aim(pos, direction, self.config.cruise_mps, float(n[1]), tracks)

    # ---- route bookkeeping ---------------------------------------------------------------------
    def _progress(self, x: float, y: float, mode: Mode) -> float:
        if mode is Mode.AUTO:
            target = min(max(self.pilot.mission_seq, 2) - 1, self.path.last)
            self._segment = max(target - 1, 0)
        arc, self._segment = self.path.progress_near(x, y, self._segment)
        return arc

    def _rejoin(self, t: float, target: int) -> MissionEvent:
        """Back to AUTO towards path point ``target`` (path point k is mission waypoint k - 1)."""
        first = max(min(target, self.path.last - 1) - 1, 0)
        self._avoiding = False
        self._segment = max(target - 1, 0)
        self.keeper.resume_at(t, first, "avoidance detour done")  # a new mission comes back through follow()
        return MissionEvent(t, "avoid_end", {"resume_waypoint": first})


def _obstacles(tracks: list[Track], nearest: float) -> Obstacles:
    """Every track's points at its velocity; a moving vessel's also as if it stopped or turned back.

    A vessel may stop or turn round without warning (at the end of its run, for a mooring): the
    boat keeps clear of those too over the next ``WHAT_IF_S``, so it never trails a vessel closely,
    without giving up water that only a vessel turning back far ahead would need. The predictions
    come first, the what-ifs after them.
    """
    if not tracks:
        return Obstacles(np.empty((0, 2)), np.empty((0, 2)), tracks, nearest)
    points = [k.points for k in tracks]
    velocity = [np.broadcast_to(np.array(k.velocity), k.points.shape) for k in tracks]
    for track in tracks:
        u = np.array(track.velocity)
        if u.any():
            points += [track.points, track.points]
            velocity += [np.zeros_like(track.points), np.broadcast_to(-u, track.points.shape)]
    predicted = sum(len(k.points) for k in tracks)
    return Obstacles(np.vstack(points), np.vstack(velocity), tracks, nearest, predicted)


def _angle_between(velocities: FloatArray, current: FloatArray) -> FloatArray:
    """Angle (rad) between each velocity and ``current``; none when either is still."""
    dot = velocities @ current
    cross = velocities[:, 0] * current[1] - velocities[:, 1] * current[0]
    return np.abs(np.arctan2(cross, dot))


def _towards(pos: FloatArray, aim: FloatArray, speed: float) -> FloatArray:
    d = aim - pos
    norm = float(np.hypot(*d))
    return d / norm * speed if norm > 1e-6 else np.zeros(2)


def _is_head_on(track: Track, own: FloatArray, pos: FloatArray, limit_deg: float) -> bool:
    """A moving vessel ahead on a nearly reciprocal course (COLREGs rule 14)."""
    ux, uy = track.velocity
    if (ux, uy) == (0.0, 0.0) or not own.any():
        return False
    course = math.atan2(own[1], own[0])
    reciprocal = abs((math.atan2(-uy, -ux) - course + math.pi) % (2 * math.pi) - math.pi)
    bearing = abs((math.atan2(track.y - pos[1], track.x - pos[0]) - course + math.pi) % (2 * math.pi) - math.pi)
    return math.degrees(reciprocal) <= limit_deg and math.degrees(bearing) <= 60.0
