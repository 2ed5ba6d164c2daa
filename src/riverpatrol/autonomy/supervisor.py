"""The patrol supervisor: one state machine from preflight to done, with the failsafes.

Phases: preflight -> transit -> survey <-> investigate -> return -> done, and hold. The supervisor
owns the mission the autopilot runs: it uploads the survey, re-uploads it when the patrol changes
(an investigation inserted, a waypoint it cannot reach skipped, the way home by water), and every
change of phase or failsafe becomes a mission event for the log, with its reason.

It sees only what the boat side has: GNSS fixes, autopilot events, live anomaly signals, link
states and the river map. It is driven by ``update`` once per batch of sensor data (every few
seconds in fast runs, every half second in real time), so every rule is stated in patrol time,
not in calls.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from riverpatrol.autonomy.routes import investigation_route, mission_items, return_route
from riverpatrol.geo.frame import RiverFrame
from riverpatrol.records import MissionEvent
from riverpatrol.vehicle.mission import Mode

if TYPE_CHECKING:
    from riverpatrol.analysis.live import AnomalySignal
    from riverpatrol.vehicle.autopilot import Autopilot

LinkAction = Literal["continue", "return", "hold"]
_FIRST_WAYPOINT_SEQ = 2  # mission seq 1 sets the speed; the route starts at seq 2


class Phase(StrEnum):
    PREFLIGHT = "preflight"
    TRANSIT = "transit"
    SURVEY = "survey"
    INVESTIGATE = "investigate"
    RETURN = "return"
    HOLD = "hold"
    DONE = "done"


@dataclass(frozen=True)
class SupervisorConfig:
    """Rules of the patrol; defaults suit a small boat on an urban river."""

    cruise_mps: float
    endurance_s: float
    radius_m: float
    bank_offset_m: float
    reserve_s: float = 120.0  # kept in hand on top of the time home
    return_margin: float = 0.25  # time home is estimated at cruise speed, plus this share
    station_link_action: LinkAction = "continue"
    station_link_timeout_s: float = 30.0
    geofence_action: Literal["hold", "return"] = "hold"
    fence_margin_m: float = 5.0  # out of the water by more than this: GNSS fixes stray a few metres
    hold_s: float = 300.0  # a failsafe hold with nobody taking over ends in a return home
    no_progress_s: float = 90.0
    progress_m: float = 5.0
    investigate: bool = True
    investigation_budget_s: float = 360.0
    max_investigations: int = 3
    investigation_spacing_m: float = 150.0  # no second look within this distance of a first
    resume_after_s: float = 10.0  # autopilot link back: hold this long before going on
    fix_timeout_s: float = 30.0  # preflight waits this long for a GNSS fix


@dataclass
class _Progress:
    """Where the boat was when it last made headway."""

    t: float = 0.0
    x: float = math.nan
    y: float = math.nan


@dataclass
class _Investigation:
    started_s: float
    last: int  # index in the mission of the investigation's last waypoint; the survey follows it
    onset_s: float


@dataclass
class LinkState:
    """What the boat side knows of its links this update."""

    station: bool = True
    autopilot: bool = True


class Supervisor:
    """Runs one patrol of ``route`` (local metres, the survey proper) from ``home`` and back."""

    def __init__(self, pilot: Autopilot, river: RiverFrame, home: tuple[float, float],
                 route: NDArray[np.float64], config: SupervisorConfig) -> None:
        self.pilot, self.river, self.home, self.route, self.config = pilot, river, home, route, config
        self.phase = Phase.PREFLIGHT
        home_s, home_n = river.to_river(np.array([home[0]]), np.array([home[1]]))
        self._home_s, self._home_n = float(home_s[0]), float(home_n[0])  # the way home is reckoned along the river
        self._mission = route  # the waypoints of the mission the autopilot holds, home not included
        self._survey_last = len(route) - 1  # index in the mission of the survey's last waypoint
        self.on_mission: Callable[[NDArray[np.float64]], None] | None = None  # told each new mission
        self._progress = _Progress()
        self._investigation: _Investigation | None = None
        self._looked_at: list[float] = []  # chainages investigated
        self._station_lost_at: float | None = None
        self._station_acted = False
        self._held_phase: Phase | None = None  # the phase to go back to once the autopilot link is steady
        self._link_back_at: float | None = None
        self._fix: tuple[float, float] | None = None
        self._completed = False
        self._waiting_since: float | None = None  # for a first GNSS fix
        self._held_since = math.inf
        self._events: list[MissionEvent] = []

    # ---- entry points ------------------------------------------------------------------------
    def update(self, now: float, fix: tuple[float, float] | None, events: list[MissionEvent],
               signals: Sequence[AnomalySignal] = (), links: LinkState | None = None) -> list[MissionEvent]:
        """React to one batch (the latest GNSS fix in local metres, the autopilot's events since the
        last call, live anomaly signals, link states): returns the supervisor's own events, for the log."""
        if self.phase is Phase.PREFLIGHT:
            self._preflight_then_go(now, fix)
            return self._drain()
        if self.phase is Phase.DONE:
            return self._drain()
        links = links or LinkState()
        self._fix = fix or self._fix
        if self._autopilot_link(now, links.autopilot):
            for event in events:
                self._on_autopilot_event(event)
            if fix is not None and self.phase is not Phase.DONE:
                self._check_fence(now, fix)
                self._check_endurance(now, fix)
                self._check_progress(now, fix)
            self._check_station_link(now, links.station)
            self._check_hold(now, fix)
            self._check_investigation_budget(now)
            if self.phase is Phase.SURVEY:
                for signal in signals:
                    self._consider(now, signal, fix)
        return self._drain()

    @property
    def done(self) -> bool:
        return self.phase is Phase.DONE

    @property
    def planned_s(self) -> float:
        """Home, the route and home again at cruise speed: the patrol as planned, before any detour."""
        path = np.vstack([self.home, self.route, self.home])
        return float(np.hypot(*np.diff(path, axis=0).T).sum()) / self.config.cruise_mps

    @property
    def completed(self) -> bool:
        """Done because the patrol came home, not because preflight stopped it."""
        return self._completed

    # ---- preflight ---------------------------------------------------------------------------
    def _preflight_then_go(self, now: float, fix: tuple[float, float] | None) -> None:
        """Wait a while for a GNSS fix, check, and if all is well upload the survey, arm and go."""
        if self._waiting_since is None:
            self._waiting_since = now
        if fix is None and now - self._waiting_since < self.config.fix_timeout_s:
            return
        problems = self._preflight(fix)
        if problems:
            self._enter(now, Phase.DONE, "preflight failed", problems=problems)
            return
        self._upload(now, self.route, survey_points=len(self.route))
        self.pilot.arm()
        self.pilot.set_mode(Mode.AUTO)
        self._progress = _Progress(now, *fix) if fix else _Progress(now)
        self._enter(now, Phase.TRANSIT, "preflight passed")

    def _preflight(self, fix: tuple[float, float] | None) -> list[str]:
        c, river = self.config, self.river
        problems = []
        if fix is None:
            problems.append("no GNSS fix")
        elif not river.in_water(*np.array([fix]).T)[0]:
            problems.append("the boat is not in the water of the mapped reach")
        if not river.in_water(*np.array([self.home]).T)[0]:
            problems.append("home is not in the water of the mapped reach")
        clearance = river.bank_clearance(self.route[:, 0], self.route[:, 1])
        if clearance.min() < c.radius_m:
            problems.append(f"the route comes within {clearance.min():.1f} m of the bank (boat radius {c.radius_m} m)")
        if self.planned_s + c.reserve_s > c.endurance_s:
            problems.append(f"the patrol needs {self.planned_s:.0f} s plus {c.reserve_s:.0f} s reserve; "
                            f"endurance is {c.endurance_s:.0f} s")
        return problems

    # ---- the mission ---------------------------------------------------------------------------
    @property
    def mission(self) -> NDArray[np.float64]:
        """The waypoints (local metres) of the mission the autopilot holds; home (RTL) follows."""
        return self._mission

    @property
    def current(self) -> int:
        """Index in ``mission`` of the waypoint the autopilot is heading for."""
        return max(0, self.pilot.mission_seq - _FIRST_WAYPOINT_SEQ)

    def resume_at(self, now: float, first: int, reason: str) -> None:
        """Go on in AUTO from the mission's waypoint ``first`` (one the boat has come round to by
        other means, as after an avoidance detour), keeping the survey's and any investigation's ends."""
        if first == self.current and self.pilot.mode is not Mode.AUTO:
            self.pilot.set_mode(Mode.AUTO)
            return
        self._emit(now, "resume", at=first, reason=reason)
        self._continue_from(now, first)

    def _continue_from(self, now: float, first: int) -> None:
        inv = self._investigation
        if inv is not None:
            if first > inv.last:
                self._end_investigation(now, "investigation route passed")
            else:
                inv.last -= first
        self._upload(now, self._mission[first:], self._survey_last - first + 1)
        self.pilot.set_mode(Mode.AUTO)
        if self.phase is Phase.SURVEY and self._survey_last < 0:
            self._enter(now, Phase.RETURN, "survey complete")

    def _upload(self, now: float, points: NDArray[np.float64], survey_points: int) -> None:
        """Run ``points`` then home; the survey proper ends at the ``survey_points``-th of them."""
        self._mission = points
        self._survey_last = survey_points - 1
        self.pilot.upload_mission(mission_items(self.river, points, self.config.cruise_mps))
        self._progress = _Progress(now, self._progress.x, self._progress.y)
        if self.on_mission is not None:
            self.on_mission(points)

    def _replan(self, now: float, points: NDArray[np.float64], survey_points: int) -> None:
        self._upload(now, points, survey_points)
        self.pilot.set_mode(Mode.AUTO)

    def _on_autopilot_event(self, event: MissionEvent) -> None:
        now = event.t
        if event.kind == "waypoint_reached":
            seq = int(event.detail.get("seq", 0))
            if self.phase is Phase.TRANSIT and seq >= _FIRST_WAYPOINT_SEQ:
                self._enter(now, Phase.SURVEY, "first survey waypoint reached")
            index = seq - _FIRST_WAYPOINT_SEQ
            if self._investigation is not None and index >= self._investigation.last:
                self._end_investigation(now, "investigation route flown")
            if self.phase is Phase.SURVEY and index >= self._survey_last:
                self._enter(now, Phase.RETURN, "survey complete")
        elif event.kind == "mission_complete":
            self._completed = True
            self._enter(now, Phase.DONE, "home")

    # ---- failsafes -----------------------------------------------------------------------------
    def _check_endurance(self, now: float, fix: tuple[float, float]) -> None:
        if self.phase in (Phase.RETURN, Phase.HOLD):
            return
        home_s = self._home_time(fix)
        if now + home_s >= self.config.endurance_s:
            self._go_home(now, fix, "endurance", home_s=round(home_s), left_s=round(self.config.endurance_s - now))

    def _home_time(self, fix: tuple[float, float]) -> float:
        """Time home by water at cruise speed, with the margin and the reserve."""
        c = self.config
        s, n = self.river.to_river(np.array([fix[0]]), np.array([fix[1]]))
        distance = abs(float(s[0]) - self._home_s) + abs(float(n[0])) + abs(self._home_n)
        return distance / c.cruise_mps * (1.0 + c.return_margin) + c.reserve_s

    def _go_home(self, now: float, fix: tuple[float, float], reason: str, **detail: Any) -> None:
        s, _ = self.river.to_river(np.array([fix[0]]), np.array([fix[1]]))
        self._investigation = None
        self._replan(now, return_route(self.river, float(s[0]), self._home_s, self.config.bank_offset_m), 0)
        self._emit(now, "failsafe", reason=reason, action="return home by water", **detail)
        self._enter(now, Phase.RETURN, reason)

    def _check_fence(self, now: float, fix: tuple[float, float]) -> None:
        """Out of the mapped water by more than a GNSS fix strays: one noisy fix near the bank is no breach."""
        if self.phase is Phase.HOLD:
            return
        if self.river.bank_clearance(*np.array([fix]).T)[0] >= -self.config.fence_margin_m:
            return
        if self.config.geofence_action == "return" and self.phase is not Phase.RETURN:
            self._go_home(now, fix, "geofence breach")
        elif self.config.geofence_action == "hold":
            self._hold(now, "geofence breach")

    def _check_progress(self, now: float, fix: tuple[float, float]) -> None:
        """No headway for a while in AUTO: skip the waypoint the boat cannot reach, re-plan from the next."""
        p = self._progress
        if math.isnan(p.x) or math.hypot(fix[0] - p.x, fix[1] - p.y) >= self.config.progress_m:
            self._progress = _Progress(now, *fix)
            return
        if self.pilot.mode is not Mode.AUTO or now - p.t < self.config.no_progress_s:
            return
        if self.current + 1 >= len(self._mission) or self.phase in (Phase.HOLD, Phase.RETURN):
            return
        self._emit(now, "failsafe", reason="no progress", seconds=round(now - p.t), skipped=self.current,
                   action="re-plan from the next waypoint")
        self._continue_from(now, self.current + 1)
        self._progress = _Progress(now, *fix)

    def _check_station_link(self, now: float, up: bool) -> None:
        c = self.config
        if up:
            if self._station_lost_at is not None:
                self._emit(now, "station_link", state="recovered", lost_s=round(now - self._station_lost_at, 1))
            self._station_lost_at, self._station_acted = None, False
            return
        if self._station_lost_at is None:
            self._station_lost_at = now
            self._emit(now, "station_link", state="lost")
        if self._station_acted or now - self._station_lost_at < c.station_link_timeout_s:
            return
        self._station_acted = True
        if c.station_link_action == "hold":
            self._hold(now, "station link lost")
        elif c.station_link_action == "return" and self.phase is not Phase.RETURN and self._fix is not None:
            self._go_home(now, self._fix, "station link lost")
        else:
            self._emit(now, "failsafe", reason="station link lost", action="continue the mission")

    def _autopilot_link(self, now: float, up: bool) -> bool:
        """Follow the autopilot link: hold while it is down and a while after; True when commands may go."""
        if not up:
            if self.phase is not Phase.HOLD or self._link_back_at is not None:
                self._held_phase = self._held_phase or self.phase
                self._link_back_at = None
                self._enter(now, Phase.HOLD, "autopilot link lost")
            return False
        if self._held_phase is None:
            return True
        if self._link_back_at is None:
            self._link_back_at = now
            self.pilot.set_mode(Mode.LOITER)
            self._emit(now, "autopilot_link", state="recovered", action="hold")
        if now - self._link_back_at < self.config.resume_after_s:
            return False
        resumed, self._held_phase, self._link_back_at = self._held_phase, None, None
        self.pilot.set_mode(Mode.AUTO)
        self._enter(now, resumed, "autopilot link steady again")
        return True

    def _hold(self, now: float, reason: str) -> None:
        if self.phase is Phase.HOLD:
            return
        self._held_phase = None  # an operator decides what next
        self._held_since = now
        self.pilot.set_mode(Mode.LOITER)
        self._emit(now, "failsafe", reason=reason, action="hold")
        self._enter(now, Phase.HOLD, reason)

    def _check_hold(self, now: float, fix: tuple[float, float] | None) -> None:
        """Held by a failsafe and nobody has taken over for a while: home by water."""
        if self.phase is Phase.HOLD and self._held_phase is None and fix is not None \
                and now - self._held_since >= self.config.hold_s:
            self._go_home(now, fix, "held with no operator", held_s=round(now - self._held_since))

    # ---- dynamic patrol ------------------------------------------------------------------------
    def _consider(self, now: float, signal: AnomalySignal, fix: tuple[float, float] | None) -> None:
        """Insert an investigation for a signal worth a second look, if time and rules allow."""
        c = self.config
        if not c.investigate or fix is None or self._investigation is not None:
            return
        if len(self._looked_at) >= c.max_investigations:
            return
        if any(abs(signal.chainage_m - s) < c.investigation_spacing_m for s in self._looked_at):
            return
        here_s = float(self.river.to_river(np.array([fix[0]]), np.array([fix[1]]))[0][0])
        side = 1 if signal.bank == "left" else -1
        detour = investigation_route(self.river, here_s, signal.chainage_m, side, c.bank_offset_m)
        detour_s = float(np.hypot(*np.diff(np.vstack([fix, detour]), axis=0).T).sum()) / c.cruise_mps
        if detour_s > c.investigation_budget_s or now + detour_s + self._home_time(fix) >= c.endurance_s:
            self._emit(now, "investigation_skipped", chainage_m=round(signal.chainage_m, 1), bank=signal.bank,
                       reason=f"needs {detour_s:.0f} s (budget {c.investigation_budget_s:.0f} s or endurance)")
            return
        first = self.current
        self._replan(now, np.concatenate([detour, self._mission[first:]]), len(detour) + self._survey_last - first + 1)
        self._looked_at.append(signal.chainage_m)
        self._investigation = _Investigation(now, len(detour) - 1, signal.chainage_m)
        self._enter(now, Phase.INVESTIGATE, "anomaly signal", chainage_m=round(signal.chainage_m, 1),
                    bank=signal.bank, score=round(signal.score, 1),
                    parameters={k: round(v, 1) for k, v in signal.z.items() if v > 0}, detour_s=round(detour_s))

    def _check_investigation_budget(self, now: float) -> None:
        """Bounded in time: past 1.5 budgets (an avoidance detour, a stuck waypoint) give it up."""
        inv = self._investigation
        if inv is None or now - inv.started_s <= 1.5 * self.config.investigation_budget_s:
            return
        self._end_investigation(now, "over its time budget")
        self._continue_from(now, inv.last + 1)

    def _end_investigation(self, now: float, reason: str) -> None:
        self._investigation = None
        if self.phase is Phase.INVESTIGATE:
            self._enter(now, Phase.SURVEY, reason)

    # ---- events --------------------------------------------------------------------------------
    def _enter(self, now: float, phase: Phase, reason: str, **detail: Any) -> None:
        if phase is self.phase:
            return
        self._emit(now, "phase", phase=phase.value, previous=self.phase.value, reason=reason, **detail)
        self.phase = phase

    def _emit(self, now: float, kind: str, **detail: Any) -> None:
        self._events.append(MissionEvent(t=now, kind=kind, detail=detail))

    def _drain(self) -> list[MissionEvent]:
        out, self._events = self._events, []
        return out
