"""The supervisor's phases and failsafes, driven through the autopilot interface.

A recording autopilot stands in for the boat here (the supervisor's side of the interface is what
is under test); tests/e2e runs it against the twin for whole patrols.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from riverpatrol.analysis.live import AnomalySignal
from riverpatrol.autonomy.routes import plan_route
from riverpatrol.autonomy.supervisor import LinkState, Phase, Supervisor, SupervisorConfig
from riverpatrol.records import MissionEvent
from riverpatrol.scenario import load_scenario
from riverpatrol.vehicle.mission import MavCmd, MissionItem, Mode

DEMO = Path(__file__).resolve().parents[2] / "src" / "riverpatrol" / "scenarios" / "dongmen-demo.json"


class RecordingAutopilot:
    """Accepts every command and remembers it; the test moves the mission on by hand."""

    def __init__(self) -> None:
        self.mode, self.armed, self.mission_seq = Mode.HOLD, False, 0
        self.missions: list[list[MissionItem]] = []
        self.modes: list[Mode] = []

    def upload_mission(self, items: list[MissionItem]) -> None:
        self.missions.append(list(items))
        self.mission_seq = 1

    def arm(self) -> None:
        self.armed = True

    def set_mode(self, mode: Mode) -> None:
        self.mode = mode
        self.modes.append(mode)


@pytest.fixture(scope="module")
def river():  # type: ignore[no-untyped-def]
    return load_scenario(DEMO).river_frame()


def _at(river, s: float, n: float = 0.0) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    x, y = river.from_river(s, n)
    return float(x[0]), float(y[0])


def _supervisor(river, **config) -> tuple[Supervisor, RecordingAutopilot]:  # type: ignore[no-untyped-def]
    pilot = RecordingAutopilot()
    route = plan_route(river, "outfall-survey", 0.0, 1200.0, 3.0)
    settings = {"cruise_mps": 1.5, "endurance_s": 7200.0, "radius_m": 0.8, "bank_offset_m": 3.0,
                "no_progress_s": 1e6, **config}  # the boat stands still in most of these tests
    sup = Supervisor(pilot, river, _at(river, 20.0), route, SupervisorConfig(**settings))  # type: ignore[arg-type]
    return sup, pilot


def _reached(t: float, seq: int) -> MissionEvent:
    return MissionEvent(t=t, kind="waypoint_reached", detail={"seq": seq})


def _kinds(events: list[MissionEvent]) -> list[tuple[str, str]]:
    return [(e.kind, str(e.detail.get("phase", e.detail.get("reason", "")))) for e in events]


def _survey(sup: Supervisor, pilot: RecordingAutopilot, river, at_s: float = 400.0) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Start and run into the survey, the boat at ``at_s`` on the right-bank lane."""
    here = _at(river, at_s, -(float(river.width_at(at_s)) / 2 - 3.0))
    sup.update(0.0, _at(river, 20.0), [])
    sup.update(30.0, here, [_reached(30.0, 2)])
    pilot.mission_seq = 40
    assert sup.phase is Phase.SURVEY
    return here


def test_preflight_passes_uploads_arms_and_goes(river) -> None:  # type: ignore[no-untyped-def]
    sup, pilot = _supervisor(river)
    events = sup.update(0.0, _at(river, 20.0), [])
    assert ("phase", "transit") in _kinds(events)
    assert pilot.armed and pilot.mode is Mode.AUTO
    items = pilot.missions[0]
    assert items[0].command is MavCmd.DO_CHANGE_SPEED and items[-1].command is MavCmd.NAV_RETURN_TO_LAUNCH


@pytest.mark.parametrize(("config", "fix", "problem"), [
    ({"endurance_s": 600.0}, None, "endurance is 600 s"),
    ({}, None, "no GNSS fix"),
    ({}, (5000.0, 5000.0), "not in the water"),
])
def test_preflight_failure_stops_before_arming(river, config, fix, problem: str) -> None:  # type: ignore[no-untyped-def]
    sup, pilot = _supervisor(river, **config)
    fix = fix if fix is not None or problem == "no GNSS fix" else _at(river, 20.0)
    events = sup.update(0.0, fix, [])
    if fix is None:  # it waits a while for a fix first
        assert events == [] and not sup.done
        events = sup.update(31.0, None, [])
    assert sup.done and not sup.completed and not pilot.armed and not pilot.missions
    assert any(problem in p for p in events[-1].detail["problems"])


def test_phases_follow_the_mission_home(river) -> None:  # type: ignore[no-untyped-def]
    sup, pilot = _supervisor(river)
    _survey(sup, pilot, river)
    last = len(pilot.missions[0]) - 1  # the last survey waypoint (RTL follows)
    events = sup.update(900.0, _at(river, 30.0, 5.0), [_reached(899.0, last),
                                                        MissionEvent(t=950.0, kind="mission_complete", detail={})])
    assert _kinds(events) == [("phase", "return"), ("phase", "done")]
    assert [e.t for e in events] == [899.0, 950.0]
    assert sup.completed


def test_endurance_sends_the_boat_home_by_water(river) -> None:  # type: ignore[no-untyped-def]
    sup, pilot = _supervisor(river, endurance_s=3000.0)
    _survey(sup, pilot, river)
    far = _at(river, 1150.0, -7.0)
    assert sup.update(1000.0, far, []) == []  # enough left: about 1150 m home at 1.5 m/s
    events = sup.update(2100.0, far, [])
    assert ("failsafe", "endurance") in _kinds(events) and sup.phase is Phase.RETURN
    home_route = np.array([(i.lon, i.lat) for i in pilot.missions[-1] if i.command is MavCmd.NAV_WAYPOINT])
    x, y = river.local.to_xy(home_route[:, 0], home_route[:, 1])
    assert river.in_water(x, y).all()
    s, _ = river.to_river(x, y)
    assert s[0] == pytest.approx(1150.0, abs=1.0) and s[-1] == pytest.approx(20.0, abs=1.0)
    assert np.all(np.diff(s) < 0)  # back up the river, not across the land


def test_no_progress_skips_the_unreachable_waypoint(river) -> None:  # type: ignore[no-untyped-def]
    sup, pilot = _supervisor(river, no_progress_s=60.0)
    here = _survey(sup, pilot, river)
    before = len(pilot.missions[-1])
    assert not any(e.kind == "failsafe" for e in sup.update(60.0, here, []))
    events = sup.update(100.0, (here[0] + 1.0, here[1]), [])
    assert ("failsafe", "no progress") in _kinds(events)
    assert len(pilot.missions[-1]) == before - 39  # seqs 2-39 flown, 40 skipped: on from 41
    assert pilot.mode is Mode.AUTO


@pytest.mark.parametrize(("action", "phase", "mode"), [
    ("continue", Phase.SURVEY, Mode.AUTO), ("hold", Phase.HOLD, Mode.LOITER), ("return", Phase.RETURN, Mode.AUTO)])
def test_station_link_loss_acts_as_configured(river, action: str, phase: Phase, mode: Mode) -> None:  # type: ignore[no-untyped-def]
    sup, pilot = _supervisor(river, station_link_action=action, station_link_timeout_s=30.0)
    here = _survey(sup, pilot, river)
    down = LinkState(station=False)
    assert ("station_link", "") in _kinds(sup.update(40.0, here, [], links=down))
    assert sup.phase is Phase.SURVEY  # not yet: links drop out briefly all the time
    events = sup.update(75.0, here, [], links=down)
    assert ("failsafe", "station link lost") in _kinds(events)
    assert sup.phase is phase and pilot.mode is mode
    assert not any(e.kind == "failsafe" for e in sup.update(80.0, here, [], links=down))  # acts once


def test_autopilot_link_loss_holds_then_resumes(river) -> None:  # type: ignore[no-untyped-def]
    sup, pilot = _supervisor(river, resume_after_s=10.0)
    here = _survey(sup, pilot, river)
    sup.update(40.0, here, [], links=LinkState(autopilot=False))
    assert sup.phase is Phase.HOLD and pilot.modes[-1] is Mode.AUTO  # nothing can be sent while it is down
    sup.update(45.0, here, [])
    assert pilot.mode is Mode.LOITER and sup.phase is Phase.HOLD
    events = sup.update(56.0, here, [])
    assert ("phase", "survey") in _kinds(events) and pilot.mode is Mode.AUTO


def test_geofence_breach_holds_then_goes_home_if_nobody_takes_over(river) -> None:  # type: ignore[no-untyped-def]
    sup, pilot = _supervisor(river, hold_s=300.0)
    _survey(sup, pilot, river)
    half = float(river.width_at(400.0)) / 2
    assert sup.update(50.0, _at(river, 400.0, -(half + 3.0)), []) == []  # a stray fix 3 m past the bank
    events = sup.update(60.0, _at(river, 400.0, 60.0), [])
    assert ("failsafe", "geofence breach") in _kinds(events)
    assert sup.phase is Phase.HOLD and pilot.mode is Mode.LOITER  # a boat in HOLD drifts; LOITER holds
    assert sup.update(300.0, _at(river, 400.0, 0.0), []) == []
    events = sup.update(361.0, _at(river, 400.0, 0.0), [])
    assert ("failsafe", "held with no operator") in _kinds(events) and sup.phase is Phase.RETURN


def _signal(river, s: float, bank: str = "right") -> AnomalySignal:  # type: ignore[no-untyped-def]
    return AnomalySignal(t=0.0, lon=0.0, lat=0.0, chainage_m=s, bank=bank, score=9.0, z={"conductivity": 8.0})


def test_investigation_goes_back_past_the_onset_sweeps_and_resumes(river) -> None:  # type: ignore[no-untyped-def]
    sup, pilot = _supervisor(river)
    here = _survey(sup, pilot, river, at_s=400.0)
    survey = pilot.missions[-1]
    events = sup.update(300.0, here, [], [_signal(river, 350.0)])
    assert ("phase", "investigate") in _kinds(events)
    mission = pilot.missions[-1]
    points = np.array([(i.lon, i.lat) for i in mission if i.command is MavCmd.NAV_WAYPOINT])
    x, y = river.local.to_xy(points[:, 0], points[:, 1])
    s, n = river.to_river(x, y)
    assert river.in_water(x, y).all()
    end = sup._investigation.last + 2  # type: ignore[union-attr]  # its mission seq
    detour_s, detour_n = s[: end - 1], n[: end - 1]
    assert detour_s.min() <= 350.0 - 50.0 and detour_s.max() >= 350.0 + 50.0  # past the onset, both ways
    assert detour_n.min() < -5.0 and detour_n.max() > 5.0  # across the plume
    resumed = [(i.lon, i.lat) for i in mission[end:]]
    assert resumed == [(i.lon, i.lat) for i in survey[39:]]  # then the survey from seq 40, where it left off
    # a second signal nearby while investigating is not another investigation
    assert not any(e.kind == "phase" for e in sup.update(310.0, here, [], [_signal(river, 380.0)]))
    events = sup.update(500.0, here, [_reached(499.0, end)])
    assert ("phase", "survey") in _kinds(events) and sup.phase is Phase.SURVEY
    assert not any(e.kind == "phase" for e in sup.update(510.0, here, [], [_signal(river, 420.0)]))  # looked there


def test_investigation_past_its_budget_is_given_up(river) -> None:  # type: ignore[no-untyped-def]
    sup, pilot = _supervisor(river, investigation_budget_s=400.0)
    here = _survey(sup, pilot, river)
    sup.update(300.0, here, [], [_signal(river, 350.0)])
    pilot.mission_seq = 5
    events = sup.update(300.0 + 1.5 * 400.0 + 1.0, here, [])
    assert ("phase", "survey") in _kinds(events)
    assert pilot.missions[-1][-2].lat == pytest.approx(pilot.missions[0][-2].lat)  # the survey to its end


def test_investigation_that_does_not_fit_is_skipped_with_a_reason(river) -> None:  # type: ignore[no-untyped-def]
    sup, pilot = _supervisor(river, investigation_budget_s=30.0)
    here = _survey(sup, pilot, river)
    events = sup.update(300.0, here, [], [_signal(river, 350.0)])
    assert [e.kind for e in events] == ["investigation_skipped"] and sup.phase is Phase.SURVEY


def test_resume_at_a_later_waypoint_keeps_the_survey_and_tells_the_follower(river) -> None:  # type: ignore[no-untyped-def]
    sup, pilot = _supervisor(river)
    here = _survey(sup, pilot, river)
    told: list[np.ndarray] = []
    sup.on_mission = told.append
    sup.update(300.0, here, [], [_signal(river, 350.0)])
    detour_last = sup._investigation.last  # type: ignore[union-attr]
    before = sup.mission
    pilot.mode = Mode.GUIDED  # an avoidance detour took the boat round the end of the investigation
    sup.resume_at(400.0, detour_last + 3, "detour done")
    assert pilot.mode is Mode.AUTO and sup.phase is Phase.SURVEY
    np.testing.assert_array_equal(sup.mission, before[detour_last + 3:])
    assert len(told) == 2 and told[-1] is sup.mission
    events = sup.update(410.0, here, [])
    assert ("resume", "detour done") in _kinds(events) and ("phase", "survey") in _kinds(events)
    pilot.mode = Mode.GUIDED
    sup.resume_at(420.0, sup.current, "detour done")  # the same waypoint: AUTO resumes it, no upload
    assert pilot.mode is Mode.AUTO and len(told) == 2
