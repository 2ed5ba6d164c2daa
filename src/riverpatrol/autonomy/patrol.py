"""The boat side's autonomy for one patrol: the supervisor, the avoidance and the live analyser.

Built from what a boat carries (its river file: map, boat, sensors, mission), never from truth.
``simulate`` drives the three parts block by block in the twin's own process; over a link
(``simulate --via mavlink``, ``riverpatrol boat``) ``PatrolAutonomy`` takes records one at a time
as they arrive: GNSS fixes, ranging rings, sonde samples and autopilot events.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np

from riverpatrol.analysis.live import AnomalySignal, LiveAnalyser
from riverpatrol.autonomy.avoidance import Avoidance, AvoidanceConfig
from riverpatrol.autonomy.routes import plan_route
from riverpatrol.autonomy.supervisor import LinkState, Supervisor, SupervisorConfig
from riverpatrol.geo.frame import RiverFrame
from riverpatrol.records import MissionEvent, Position, RangeScan, SondeSample
from riverpatrol.scenario import Scenario
from riverpatrol.vehicle.autopilot import Autopilot

LONGEST_WAIT_S = 5.0  # a ring is decided on at least this often, even with nothing in range
_STAMP_SLACK_S = 1e-3  # ring times are whole sensor periods, give or take their microsecond stamps
_NO_SCANS = np.empty((0, 0), dtype=np.uint16)
_NO_TIMES = np.empty(0)


class LinkedAutopilot(Autopilot, Protocol):
    """An autopilot at the end of a link (``MavlinkAutopilot``): its health and its ranging rings."""

    @property
    def link_up(self) -> bool: ...
    def scans(self) -> list[RangeScan]:
        """The ranging rings received since the last call, oldest first."""


def patrol_supervisor(scenario: Scenario, pilot: Autopilot, *, investigate: bool) -> Supervisor:
    """The boat side's supervisor for the scenario's mission, planned from the river map alone."""
    river = scenario.river_frame()  # the map the boat navigates by: geometry only, no truth
    m, boat = scenario.mission, scenario.boat
    route = plan_route(river, m.pattern, m.from_chainage_m, m.to_chainage_m, m.bank_offset_m)
    hx, hy = river.local.to_xy(*boat.home)
    return Supervisor(pilot, river, (float(hx), float(hy)), route, SupervisorConfig(
        cruise_mps=boat.cruise_speed_mps, endurance_s=boat.endurance_s, radius_m=boat.radius_m,
        bank_offset_m=m.bank_offset_m, investigate=investigate))


def patrol_avoidance(scenario: Scenario, pilot: Autopilot, supervisor: Supervisor) -> Avoidance:
    """The avoidance for the scenario's boat and ranging sensor, following the supervisor's missions."""
    ranging = scenario.sensors.obstacle_ranging
    avoidance = Avoidance(
        pilot, supervisor.river, supervisor,
        AvoidanceConfig(radius_m=scenario.boat.radius_m, cruise_mps=scenario.boat.cruise_speed_mps),
        max_range_m=ranging.max_range_m, scan_period_s=1.0 / ranging.rate_hz, current_mps=scenario.river.velocity_mps,
    )
    supervisor.on_mission = avoidance.follow
    return avoidance


def local_fix(river: RiverFrame, fix: Position | None) -> tuple[float, float] | None:
    """A GNSS fix in the river map's local metres (None without one)."""
    if fix is None or not np.isfinite(fix.lon):
        return None
    x, y = river.local.to_xy(fix.lon, fix.lat)
    return float(x), float(y)


class PatrolAutonomy:
    """The supervisor, avoidance and live analyser of one patrol, fed record by record.

    Rings are decided on as the direct simulation decides on them: when the avoidance asks for the
    next one (every ring while something is within its watch distance, fewer while nothing can
    be), each with the fixes that came before it. Over a link the newest ring is the one that
    counts: rings that queued up while the boat side was busy are skipped (``skipped_rings``), as
    a decision on where things were a moment ago is worse than none. Without a ``live`` analyser
    (no sonde) the supervisor flies the planned survey only.
    """

    def __init__(self, supervisor: Supervisor, avoidance: Avoidance, live: LiveAnalyser | None = None) -> None:
        self.supervisor = supervisor
        self._avoidance = avoidance
        self._live = live
        self._fixes: list[Position] = []  # since the last ring
        self._latest: Position | None = None
        self._signals: list[AnomalySignal] = []
        self._due = -math.inf  # the next ring the avoidance wants to see
        self.skipped_rings = 0

    @classmethod
    def for_scenario(cls, scenario: Scenario, pilot: Autopilot,
                     sonde: Mapping[str, Any] | None = None) -> PatrolAutonomy:
        """The patrol of the river file's mission; ``sonde`` (rate and per-parameter noise, as in
        the log's metadata) enables investigations from the live analyser."""
        supervisor = patrol_supervisor(scenario, pilot, investigate=sonde is not None)
        live = LiveAnalyser(supervisor.river, sonde) if sonde is not None else None
        return cls(supervisor, patrol_avoidance(scenario, pilot, supervisor), live)

    @property
    def done(self) -> bool:
        return self.supervisor.done

    def _fix(self, fix: Position) -> None:
        """A new GNSS fix (the autopilot's position estimate over a link)."""
        if not (math.isfinite(fix.lon) and math.isfinite(fix.lat)):
            return
        self._latest = fix
        self._fixes.append(fix)
        if self._live is not None:
            self._live.position(fix)

    def _scan(self, ring: RangeScan) -> list[MissionEvent]:
        """A ranging ring: the avoidance's decision on it, if it is one the avoidance waits for."""
        fixes, self._fixes = self._fixes, []
        columns = {"t": np.array([f.t for f in fixes]), "lon": np.array([f.lon for f in fixes]),
                   "lat": np.array([f.lat for f in fixes]), "sog": np.array([f.sog_mps for f in fixes]),
                   "cog": np.array([f.cog_deg for f in fixes])}
        if ring.t < self._due or not math.isfinite(ring.heading_deg):
            if fixes:  # own position and velocity are kept up to date all the same
                self._avoidance.observe(columns, _NO_TIMES, _NO_TIMES, _NO_SCANS, ring.increment_deg, ring.max_cm)
            return []
        events = self._avoidance.observe(columns, np.array([ring.t]), np.array([ring.heading_deg]),
                                         ring.distances_cm[None, :], ring.increment_deg, ring.max_cm)
        self._due = ring.t + self._avoidance.next_block_s(LONGEST_WAIT_S) - _STAMP_SLACK_S
        return events

    def sample(self, sample: SondeSample) -> None:
        """A sonde sample for the live analyser (ignored without one)."""
        if self._live is not None and (signal := self._live.sample(sample)) is not None:
            self._signals.append(signal)

    def step(self, pilot: LinkedAutopilot) -> list[MissionEvent]:
        """One look at the link: its newest fix and ring, then the supervisor's turn; returns the
        autopilot's, the avoidance's and the supervisor's events."""
        fix = pilot.position()
        if fix is not None and (self._latest is None or fix.t > self._latest.t):
            self._fix(fix)
        events = pilot.events()
        rings = pilot.scans()
        if rings:
            self.skipped_rings += len(rings) - 1
            events += self._scan(rings[-1])
        return events + self._update(pilot.time, events, LinkState(autopilot=pilot.link_up))

    def _update(self, now: float, events: list[MissionEvent], links: LinkState) -> list[MissionEvent]:
        """The supervisor's turn: the autopilot's events and the signals raised since the last call;
        returns its own events, for the log."""
        signals, self._signals = self._signals, []
        return self.supervisor.update(now, local_fix(self.supervisor.river, self._latest), events, signals, links)
