"""QGroundControl .plan files round-trip our missions and geofences, and bad files say why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from riverpatrol.interop.qgc_plan import Fence, Plan, PlanError, parse_plan, plan_document, read_plan, write_plan
from riverpatrol.vehicle.mission import MavCmd, MissionItem

PLAN = Plan(
    home=[121.3791, 28.3713],
    items=[MissionItem.change_speed(1.5), MissionItem.waypoint(121.3795, 28.3716),
           MissionItem.waypoint(121.3801, 28.3722), MissionItem.return_to_launch()],
    fences=[Fence([[121.379, 28.371], [121.381, 28.371], [121.381, 28.373], [121.379, 28.371]]),
            Fence([[121.3800, 28.3720], [121.3801, 28.3720], [121.3801, 28.3721], [121.3800, 28.3720]], inclusion=False)],
    cruise_speed_mps=1.5,
)


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "route.plan"
    write_plan(path, PLAN)
    assert read_plan(path) == PLAN


def test_document_is_what_qgroundcontrol_expects() -> None:
    doc = plan_document(PLAN)
    assert doc["fileType"] == "Plan" and doc["mission"]["version"] == 2 and doc["geoFence"]["version"] == 2
    assert doc["mission"]["firmwareType"] == 3 and doc["mission"]["vehicleType"] == 11
    assert doc["mission"]["plannedHomePosition"] == [28.3713, 121.3791, 0]  # lat, lon, alt
    waypoint = doc["mission"]["items"][1]
    assert waypoint["command"] == 16 and waypoint["params"][4:6] == [28.3716, 121.3795]
    assert [i["doJumpId"] for i in doc["mission"]["items"]] == [1, 2, 3, 4]
    assert doc["geoFence"]["polygons"][1]["inclusion"] is False
    assert doc["geoFence"]["polygons"][0]["polygon"][1] == [28.371, 121.381]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(fileType="Mission"), "fileType: must be 'Plan'"),
        (lambda d: d.pop("mission"), "mission: missing"),
        (lambda d: d["mission"]["items"].append({"type": "ComplexItem", "complexItemType": "survey"}),
         "mission.items[4]: only simple items are supported, got 'survey'"),
        (lambda d: d["mission"]["items"][1].update(command=84), "mission.items[1].command: MAV_CMD 84 is not supported"),
        (lambda d: d["mission"]["items"][2]["params"].pop(), "mission.items[2].params: needs 7 values, got 6"),
        (lambda d: d["mission"]["items"][2]["params"].__setitem__(4, 95.0), "mission.items[2].params: latitude/longitude"),
    ],
)
def test_bad_plans_name_the_place(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(json.dumps(plan_document(PLAN)))
    mutate(doc)
    with pytest.raises(PlanError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_plan(doc, "x.plan")


def test_malformed_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.plan"
    path.write_text('{"fileType": "Plan",')
    with pytest.raises(PlanError, match="malformed JSON at line 1"):
        read_plan(path)


def test_every_supported_command_survives() -> None:
    assert {item.command for item in PLAN.items} == set(MavCmd)
