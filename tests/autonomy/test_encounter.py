"""Which side a vessel in the boat's lane is passed on, and that the side holds for the encounter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from riverpatrol.autonomy.encounter import Encounters
from riverpatrol.autonomy.tracker import Track
from riverpatrol.autonomy.water import NearWater
from riverpatrol.geo.frame import RiverFrame
from riverpatrol.scenario import parse_scenario

CLEARANCE_M = 3.2  # a vessel's side to the boat's centre


@pytest.fixture
def river(make_scenario: Callable[..., dict[str, Any]]) -> RiverFrame:
    """A straight reach 300 m east, 20 m wide: downstream is east, the left bank (n > 0) north."""
    return parse_scenario(make_scenario([(0.0, 0.0), (300.0, 0.0)], width=20.0)).river_frame()


def _encounters(river: RiverFrame, at: tuple[float, float]) -> Encounters:
    water = NearWater(river, 30.0)
    water.focus(*at)
    return Encounters(water, radius_m=1.0, keep_m=2.2, clearance_m=CLEARANCE_M)


def _vessel(x: float, y: float, vx: float, ident: int = 1) -> Track:
    """A hull's near side as the sensor sees it, 3.5 m across, moving east at ``vx``."""
    side = np.column_stack([np.full(4, x), np.linspace(y - 1.75, y + 1.75, 4)])
    return Track(ident, 0.0, x, y, side, vx=vx, vy=0.0, hits=20)


def test_a_head_on_vessel_in_the_lane_is_passed_to_starboard(river: RiverFrame) -> None:
    pos = np.array([100.0, -5.0])  # downstream on a lane 5 m right of the centerline
    aim = _encounters(river, (100.0, -5.0)).aim(pos, 1.0, 1.5, -5.0, [_vessel(120.0, -1.0, -1.5)])
    assert aim is not None and aim[0] > pos[0]
    assert aim[1] == pytest.approx(-1.0 - 1.75 - CLEARANCE_M)  # starboard: the right, clear of its side


def test_without_room_to_starboard_the_head_on_vessel_is_passed_to_port(river: RiverFrame) -> None:
    pos = np.array([100.0, -6.0])
    aim = _encounters(river, (100.0, -6.0)).aim(pos, 1.0, 1.5, -6.0, [_vessel(120.0, -6.0, -1.5)])
    assert aim is not None and aim[1] == pytest.approx(-6.0 + 1.75 + CLEARANCE_M)


def test_a_slow_vessel_is_overtaken_on_the_side_the_boat_is_on_and_the_side_is_kept(river: RiverFrame) -> None:
    encounters = _encounters(river, (100.0, 0.0))
    pos = np.array([100.0, 0.5])
    first = encounters.aim(pos, 1.0, 1.5, 0.0, [_vessel(110.0, 0.0, 0.5)])
    assert first is not None and first[1] == pytest.approx(1.75 + CLEARANCE_M)
    # the boat drifts across the vessel's middle, its tracked position jitters: still the left
    later = encounters.aim(np.array([101.0, -0.3]), 1.0, 1.5, 0.0, [_vessel(110.5, 0.2, 0.5)])
    assert later is not None and later[1] > 0.0


def test_vessels_out_of_the_lane_or_past_are_no_encounter(river: RiverFrame) -> None:
    encounters = _encounters(river, (100.0, -5.0))
    pos = np.array([100.0, -5.0])
    assert encounters.aim(pos, 1.0, 1.5, -5.0, [_vessel(120.0, 5.0, -1.5)]) is None  # the other lane
    assert encounters.aim(pos, 1.0, 1.5, -5.0, [_vessel(85.0, -5.0, -1.5)]) is None  # behind, going away
    assert encounters.aim(pos, 1.0, 1.5, -5.0, [_vessel(120.0, -5.0, 0.0)]) is None  # not moving: the VO's


def test_a_hull_seen_end_on_counts_as_a_whole_beam(river: RiverFrame) -> None:
    pos = np.array([100.0, 5.0])
    bow = Track(1, 0.0, 120.0, 4.0, np.array([[120.0, 4.0]]), vx=-1.5, vy=0.0, hits=20)  # one return
    aim = _encounters(river, (100.0, 5.0)).aim(pos, 1.0, 1.5, 5.0, [bow])
    assert aim is not None and aim[1] == pytest.approx(4.0 - 1.75 - CLEARANCE_M)  # starboard, a full beam off


def test_a_vessel_found_again_as_a_new_track_keeps_its_side(river: RiverFrame) -> None:
    encounters = _encounters(river, (100.0, 0.0))
    encounters.aim(np.array([100.0, 0.5]), 1.0, 1.5, 0.0, [_vessel(110.0, 0.0, 0.5)])
    assert encounters.sides == {1: 1.0}  # overtaking on the side the boat is on
    encounters.aim(np.array([100.1, 0.0]), 1.0, 1.5, 0.0, [])  # the track is lost for a scan
    # the boat has drifted right of the vessel's middle: a fresh choice would be the right
    encounters.aim(np.array([100.2, -0.3]), 1.0, 1.5, 0.0, [Track(2, 0.2, 110.1, 0.0, _vessel(110.1, 0.0, 0.5).points,
                                                                  vx=0.5, vy=0.0, hits=20)])
    assert encounters.sides == {2: 1.0}


def test_a_side_misjudged_from_afar_is_given_up(river: RiverFrame) -> None:
    """Seen at 19 m the lane looks 3 m nearer the middle than it is (a 5 degree sector smears it):
    starboard seems to have room and is kept. When the lane firms up and starboard has none, the
    boat crosses to the side that has (the velocity choice still keeps it off the vessel's bow)."""
    for first_x, then_x in ((119.0, 117.0), (108.0, 107.0)):  # given up far off, and late
        encounters = _encounters(river, (100.0, -5.0))
        pos = np.array([100.0, -5.0])
        encounters.aim(pos, 1.0, 1.5, -5.0, [_vessel(first_x, -2.0, -1.5)])
        assert encounters.sides == {1: -1.0}  # starboard, as it looked
        aim = encounters.aim(pos, 1.0, 1.5, -5.0, [_vessel(then_x, -5.0, -1.5)])
        assert encounters.sides == {1: 1.0}
        assert aim is not None and aim[1] >= -5.0 + 1.75 + 2.2


def test_sides_that_leave_no_way_past_two_vessels_are_reconciled(river: RiverFrame) -> None:
    """Caught up by one vessel (the boat is on its left, so it would be passed there) while
    another comes head-on in the next lane (starboard, its right): no offset keeps both sides.
    The fewest changes that leave a way: pass the one behind on its right too."""
    pos = np.array([100.0, 1.0])
    behind, ahead = _vessel(92.0, 0.5, 1.8, ident=1), _vessel(115.0, 4.0, -1.5, ident=2)
    encounters = _encounters(river, (100.0, 1.0))
    aim = encounters.aim(pos, 1.0, 1.5, 1.0, [behind, ahead])
    assert encounters.sides == {1: -1.0, 2: -1.0}
    assert aim is not None and aim[1] <= 0.5 - 1.75 - 2.2
