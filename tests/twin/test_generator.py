"""Seeded scenarios: valid, repeatable, within the ranges promised, and varied the ways that matter
for detection (both banks, weak to strong, intermittent, clustered, visible)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from riverpatrol.scenario import Scenario, parse_scenario
from riverpatrol.twin.generator import generate_scenario

SEEDS = range(16)


@pytest.fixture(scope="module")
def scenarios() -> list[tuple[dict[str, Any], Scenario]]:
    return [(data, parse_scenario(data)) for data in map(generate_scenario, SEEDS)]


def test_same_seed_same_scenario_other_seed_other_scenario() -> None:
    assert generate_scenario(12) == generate_scenario(12)
    assert generate_scenario(12) != generate_scenario(13)


Generated = list[tuple[dict[str, Any], Scenario]]


def test_every_scenario_passes_validation_and_keeps_to_its_ranges(scenarios: Generated) -> None:
    for seed, (data, sc) in zip(SEEDS, scenarios):
        frame = sc.river_frame()
        assert data["seed"] == seed and data["name"] == f"generated-{seed}"
        assert 1150.0 <= frame.length <= 3000.0
        assert 16.0 * 0.85 <= float(np.mean(frame.widths)) <= 40.0 * 1.15
        assert 0.1 <= sc.river.velocity_mps <= 0.5
        assert 1 <= len(sc.outfalls) <= 4
        assert not sc.obstacles.static and not sc.obstacles.moving
        home_s, home_n = frame.lonlat_to_river(*sc.boat.home)
        assert abs(home_s[0] - 15.0) < 0.5 and abs(home_n[0]) < 0.5
        m = sc.mission
        assert m.pattern == "outfall-survey" and m.from_chainage_m == 0.0
        assert m.to_chainage_m == pytest.approx(frame.length, abs=0.01)
        for out in sc.outfalls:
            assert 60.0 <= out.chainage_m <= frame.length - 60.0
            assert 0.003 <= out.flow_m3ps <= 0.03
            assert out.excess["do"] < 0 < out.excess["conductivity"]


def test_the_reach_meanders_without_folding(scenarios: Generated) -> None:
    turns = []
    for _, sc in scenarios:
        frame = sc.river_frame()
        assert frame.fold_problems() == []
        heading = np.unwrap(np.arctan2(frame._d[:, 1], frame._d[:, 0]))
        turns.append(np.ptp(heading))
    assert max(turns) > np.radians(45.0)  # bends worth the name, in some reaches


def test_outfalls_vary_as_real_ones_do(scenarios: Generated) -> None:
    outs = [o for data, _ in scenarios for o in data["outfalls"]]
    assert {o["bank"] for o in outs} == {"left", "right"}
    flows = np.array([o["flow_m3ps"] for o in outs])
    assert flows.min() < 0.005 and flows.max() > 0.02  # weak to strong
    assert any(not o["submerged"] for o in outs) and any(o["submerged"] for o in outs)
    intermittent = [o for o in outs if o["active"] != [[0.0, 1e9]]]
    assert 0.1 < len(intermittent) / len(outs) < 0.5
    assert any(len(o["active"]) > 1 for o in intermittent)  # pulses as well as single windows
    clustered = [data for data, _ in scenarios
                 if any(abs(abs(a["chainage_m"] - b["chainage_m"]) - 100.0) < 0.2
                        for a, b in itertools.combinations(data["outfalls"], 2))]
    assert clustered


def test_knobs_fix_what_they_name_and_leave_the_rest_alone() -> None:
    base = generate_scenario(7)
    fixed = generate_scenario(7, n_outfalls=4, velocity_mps=0.12, length_m=2000.0)
    assert len(fixed["outfalls"]) == 4 and fixed["river"]["velocity_mps"] == 0.12
    assert parse_scenario(fixed).river_frame().length == pytest.approx(2000.0, rel=0.01)
    assert fixed["river"]["transverse_dispersion_m2ps"] == base["river"]["transverse_dispersion_m2ps"]
    assert fixed["background"] == base["background"]
    assert generate_scenario(7, n_outfalls=0)["outfalls"] == []
    with pytest.raises(TypeError, match="unknown knob"):
        generate_scenario(7, colour="blue")


def test_traffic_is_drawn_on_request_and_leaves_the_water_navigable() -> None:
    from shapely.geometry import Point, Polygon

    counts = {"bridges": 0, "moored": 0, "vessels": 0}
    for seed in range(12):
        data = generate_scenario(seed, traffic=True, length_m=400.0)
        assert {k: v for k, v in data.items() if k != "obstacles"} == generate_scenario(seed, length_m=400.0)
        sc = parse_scenario(data)
        frame = sc.river_frame()
        bridges = {o.id.split("-")[1][0] for o in sc.obstacles.static if o.id.startswith("pier")}
        moored = [o for o in sc.obstacles.static if o.id.startswith("moored")]
        assert len(bridges) <= 3 and len(moored) <= 3 and len(sc.obstacles.moving) <= 3
        counts["bridges"] += len(bridges)
        counts["moored"] += len(moored)
        counts["vessels"] += len(sc.obstacles.moving)
        shapes = [Point(*frame.local.to_xy(*o.center)).buffer(o.radius_m) for o in sc.obstacles.static if o.id.startswith("pier")]
        shapes += [Polygon(np.column_stack(frame.local.to_xy(*np.asarray(o.ring).T))) for o in moored]
        for vessel in sc.obstacles.moving:
            assert 0.5 <= vessel.speed_mps <= 2.0 and vessel.loop
            x, y = frame.local.to_xy(*np.asarray(vessel.path).T)
            half = vessel.beam_m / 2.0
            assert frame.bank_clearance(x, y).min() >= half  # the hull stays in the water
            assert all(Point(px, py).distance(shape) >= half for px, py in zip(x, y) for shape in shapes)
    assert min(counts.values()) > 0  # some of each, over a dozen seeds
