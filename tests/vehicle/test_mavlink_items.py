"""Mission items on the wire: round trips, and the MISSION_ACK result each bad item earns."""

from __future__ import annotations

import pytest

from riverpatrol.interop.qgc_plan import Fence
from riverpatrol.vehicle.link import mavlink
from riverpatrol.vehicle.mavlink_items import BadItem, WireItem, check_other, decode, encode, fence_items, fences_from_items
from riverpatrol.vehicle.mission import MavCmd, MissionItem


@pytest.mark.parametrize("item", [MissionItem.waypoint(121.3812345, 28.3712345), MissionItem.change_speed(1.7),
                                  MissionItem.return_to_launch()])
def test_items_survive_the_wire(item: MissionItem) -> None:
    assert decode(encode(item)) == item


def test_float_mission_item_from_older_ground_stations() -> None:
    msg = mavlink.MAVLink_mission_item_message(1, 1, 1, mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT, 16, 0, 1,
                                               0, 0, 0, 0, 28.37, 121.38, 0, 0)
    assert decode(WireItem.from_message(msg)) == MissionItem.waypoint(121.38, 28.37)


@pytest.mark.parametrize("wire, result", [
    (WireItem(31000, 6), mavlink.MAV_MISSION_UNSUPPORTED),
    (WireItem(int(MavCmd.NAV_WAYPOINT), mavlink.MAV_FRAME_LOCAL_NED), mavlink.MAV_MISSION_UNSUPPORTED_FRAME),
    (WireItem(int(MavCmd.NAV_WAYPOINT), 6, x=910_000_000), mavlink.MAV_MISSION_INVALID_PARAM5_X),
    (WireItem(int(MavCmd.NAV_WAYPOINT), 6, y=-1_810_000_000), mavlink.MAV_MISSION_INVALID_PARAM6_Y),
    (WireItem(int(MavCmd.DO_CHANGE_SPEED), 2, param2=-1.0), mavlink.MAV_MISSION_INVALID_PARAM2),
])
def test_bad_items_name_their_result(wire: WireItem, result: int) -> None:
    with pytest.raises(BadItem) as caught:
        decode(wire)
    assert caught.value.result == result


def test_fence_and_rally_take_only_their_own_commands() -> None:
    vertex = WireItem(mavlink.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION, 5, param1=3, x=283_700_000, y=1_213_800_000)
    assert check_other(vertex, mavlink.MAV_MISSION_TYPE_FENCE) == vertex
    with pytest.raises(BadItem, match="not a rally item"):
        check_other(vertex, mavlink.MAV_MISSION_TYPE_RALLY)


def test_fence_polygons_go_as_vertices_and_come_back() -> None:
    square = [[121.38, 28.37], [121.381, 28.37], [121.381, 28.371], [121.38, 28.371], [121.38, 28.37]]
    dense = [[121.38 + 0.001 * i / 50, 28.37] for i in range(50)] + square[1:]  # a straight side of 50 points
    items = fence_items([Fence(dense), Fence(square, inclusion=False)])
    assert [w.param1 for w in items] == [4.0] * 8  # simplified, not closed twice
    back = fences_from_items(items)
    assert [f.inclusion for f in back] == [True, False]
    assert back[1].ring == [[round(a, 7), round(b, 7)] for a, b in square[:-1]]
