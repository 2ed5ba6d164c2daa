"""DirectAutopilot: the Autopilot interface over the twin's Rover emulation, in process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from riverpatrol.scenario import parse_scenario
from riverpatrol.twin.twin import RiverTwin
from riverpatrol.vehicle.autopilot import Autopilot, AutopilotError
from riverpatrol.vehicle.direct import DirectAutopilot
from riverpatrol.vehicle.mission import MissionItem, Mode


def test_a_mission_through_the_interface(make_scenario: Callable[..., dict[str, Any]]) -> None:
    twin = RiverTwin(parse_scenario(make_scenario()))
    pilot = DirectAutopilot(twin.autopilot)
    assert isinstance(pilot, Autopilot)
    with pytest.raises(AutopilotError, match="no mission"):
        pilot.set_mode(Mode.AUTO)
    start = pilot.position()
    items = [MissionItem.waypoint(start.lon + 3e-4, start.lat), MissionItem.return_to_launch()]
    pilot.upload_mission(items)
    assert pilot.download_mission() == items
    pilot.arm()
    pilot.start_mission()
    kinds: list[str] = []
    while "mission_complete" not in kinds and twin.time < 600:
        twin.advance(10.0)
        kinds += [e.kind for e in pilot.events()]
    assert kinds.count("waypoint_reached") == 2 and pilot.mode is Mode.AUTO and pilot.time == twin.time
    assert pilot.param("WP_RADIUS") == 2.0
    with pytest.raises(AutopilotError, match="unknown parameter"):
        pilot.param("NOPE")
