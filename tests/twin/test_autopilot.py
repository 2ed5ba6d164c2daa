"""The twin's Rover emulation drives a hull like ArduPilot Rover in boat mode."""

from __future__ import annotations

import math

import numpy as np
import pytest

from riverpatrol.geo.frame import RiverFrame
from riverpatrol.twin.autopilot import RoverEmulation
from riverpatrol.twin.boat import BoatDynamics, HullLimits
from riverpatrol.vehicle.mission import MissionItem, Mode

CURRENT = (0.3, 0.0)  # east, the river's downstream direction
DT = 0.1


@pytest.fixture()
def river() -> RiverFrame:
    return RiverFrame([[121.379, 28.3712], [121.385, 28.3712]], 28.0, 2.0)


def make_rover(river: RiverFrame, x: float = 20.0, y: float = 0.0) -> RoverEmulation:
    boat = BoatDynamics(x, y, 0.0, HullLimits(max_speed_mps=2.5))
    return RoverEmulation(boat, river.local, (x, y))


def run(rover: RoverEmulation, seconds: float, start: float = 0.0) -> np.ndarray:
    """Step the hull under the autopilot; returns rows (t, x, y, psi, ground speed)."""
    rows = []
    for k in range(1, int(round(seconds / DT)) + 1):
        t = start + k * DT
        psi, v = rover.update(t)
        rover.boat.step(DT, psi, v, *CURRENT)
        b = rover.boat
        rows.append((t, b.x, b.y, b.psi, math.hypot(b.vx, b.vy)))
    return np.array(rows)


def waypoint(river: RiverFrame, x: float, y: float) -> MissionItem:
    lon, lat = river.local.to_lonlat(x, y)
    return MissionItem.waypoint(float(lon), float(lat))


def kinds(rover: RoverEmulation) -> list[str]:
    return [kind for _, kind, _ in rover.events]


def test_auto_reaches_every_waypoint_then_loiters_against_the_current(river: RiverFrame) -> None:
    rover = make_rover(river)
    points = [(120.0, -8.0), (250.0, -8.0), (250.0, 8.0), (60.0, 8.0)]
    rover.set_mission([MissionItem.change_speed(1.5)] + [waypoint(river, *p) for p in points])
    rover.arm()
    rover.set_mode(Mode.AUTO)
    track = run(rover, 700.0)
    reached = [d["seq"] for _, kind, d in rover.events if kind == "waypoint_reached"]
    assert reached == [2, 3, 4, 5]  # seq 1 is the speed change, seq 0 is home
    assert "mission_complete" in kinds(rover)
    for px, py in points:
        assert np.hypot(track[:, 1] - px, track[:, 2] - py).min() <= 2.0 + 0.05
    done = next(t for t, kind, _ in rover.events if kind == "mission_complete")
    after = track[track[:, 0] > done + 20.0]
    assert np.hypot(after[:, 1] - 60.0, after[:, 2] - 8.0).max() <= rover.params["LOIT_RADIUS"]


def test_auto_holds_patrol_speed_upstream_and_downstream(river: RiverFrame) -> None:
    rover = make_rover(river)
    rover.set_mission([MissionItem.change_speed(1.5), waypoint(river, 300.0, 0.0), waypoint(river, 20.0, 0.0)])
    rover.arm()
    rover.set_mode(Mode.AUTO)
    track = run(rover, 500.0)
    down = track[(track[:, 1] > 80) & (track[:, 1] < 240) & (np.cos(track[:, 3]) > 0.9)]
    up = track[(track[:, 1] > 80) & (track[:, 1] < 240) & (np.cos(track[:, 3]) < -0.9)]
    assert len(down) > 50 and len(up) > 50
    assert np.median(down[:, 4]) == pytest.approx(1.5, abs=0.05)
    assert np.median(up[:, 4]) == pytest.approx(1.5, abs=0.05)


def test_turn_rate_is_limited(river: RiverFrame) -> None:
    rover = make_rover(river)
    rover.set_mission([waypoint(river, 0.0, 0.0)])  # straight behind the bow
    rover.arm()
    rover.set_mode(Mode.AUTO)
    track = run(rover, 20.0)
    step = np.abs((np.diff(track[:, 3]) + np.pi) % (2 * np.pi) - np.pi)
    assert step.max() <= math.radians(30.0) * DT + 1e-9
    assert step.max() > math.radians(25.0) * DT  # it does turn as fast as it may


def test_hold_stops_the_motor_and_the_boat_drifts(river: RiverFrame) -> None:
    rover = make_rover(river)
    rover.arm()
    rover.set_mode(Mode.HOLD)
    track = run(rover, 30.0)
    assert track[-1, 1] - track[0, 1] == pytest.approx(CURRENT[0] * (30.0 - DT), rel=0.01)
    assert rover.boat.v == 0.0


def test_guided_velocity_target_expires_after_three_seconds(river: RiverFrame) -> None:
    rover = make_rover(river)
    rover.arm()
    rover.set_mode(Mode.GUIDED)
    rover.guided_velocity(north_mps=1.0, east_mps=0.0)
    track = run(rover, 2.5)
    assert rover.boat.v > 0.8
    assert rover.boat.vy > 0.8
    track = run(rover, 15.0, start=2.5)
    north_late = track[track[:, 0] > 12.0, 2]
    assert np.ptp(north_late) < 2.0 * rover.params["LOIT_RADIUS"]  # it stopped and holds station


def test_guided_position_then_loiter(river: RiverFrame) -> None:
    rover = make_rover(river)
    rover.arm()
    rover.set_mode(Mode.GUIDED)
    rover.guided_position(*map(float, river.local.to_lonlat(60.0, 5.0)))
    track = run(rover, 120.0)
    assert "target_reached" in kinds(rover)
    assert np.hypot(track[-300:, 1] - 60.0, track[-300:, 2] - 5.0).max() <= rover.params["LOIT_RADIUS"] + 0.5


def test_rtl_returns_home_and_loiters(river: RiverFrame) -> None:
    rover = make_rover(river, x=200.0, y=-5.0)
    rover.home = (30.0, 4.0)
    rover.arm()
    rover.set_mode(Mode.RTL)
    track = run(rover, 250.0)
    assert np.hypot(track[-100:, 1] - 30.0, track[-100:, 2] - 4.0).max() <= rover.params["LOIT_RADIUS"] + 0.5


def test_disarmed_autopilot_commands_nothing(river: RiverFrame) -> None:
    rover = make_rover(river)
    rover.set_mission([waypoint(river, 200.0, 0.0)])
    rover.set_mode(Mode.AUTO)
    run(rover, 10.0)
    assert rover.boat.v == 0.0
    assert "waypoint_reached" not in kinds(rover)
