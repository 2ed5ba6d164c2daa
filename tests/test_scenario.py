"""Scenario validation (spec section 2): every fault named by its key path, all at once; defaults."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from riverpatrol.scenario import (
    DEFAULT_BACKGROUND,
    DEFAULT_SONDE,
    PARAMETERS,
    ScenarioError,
    load_scenario,
    parse_scenario,
)

EXPECTED_OUTFALLS = {"busy-reach": 5, "dongmen-demo": 3, "straight-easy": 2}


@pytest.fixture
def demo(shared_dir: Path) -> dict[str, Any]:
    """The public dongmen-demo scenario as a fresh dict (73 vertices, width one per vertex)."""
    return json.loads((shared_dir / "scenarios" / "dongmen-demo.json").read_text(encoding="utf-8"))


def problems_of(data: object) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, source="test.json")
    assert info.value.source == "test.json"
    assert info.value.problems, "a rejected scenario must name at least one problem"
    for problem in info.value.problems:  # every problem is also in the message a user sees
        assert problem in str(info.value)
    return info.value.problems


def only_problem(data: object) -> str:
    problems = problems_of(data)
    assert len(problems) == 1, problems
    return problems[0]


# ---- the public scenarios ---------------------------------------------------------------------

def test_public_scenario_loads(public_scenario: Path) -> None:
    sc = load_scenario(public_scenario)
    raw = json.loads(public_scenario.read_text(encoding="utf-8"))
    assert sc.name == public_scenario.stem == raw["name"]
    assert sc.seed == raw["seed"]
    assert len(sc.outfalls) == EXPECTED_OUTFALLS[sc.name]
    frame = sc.river_frame()
    assert sc.mission.to_chainage_m is not None and 0 < sc.mission.to_chainage_m <= frame.length
    for out in sc.outfalls:
        assert 0 < out.chainage_m < frame.length
    assert sc.background_full == raw["background"]  # all nine given: no default leaks in


# ---- key paths, all at once -------------------------------------------------------------------

def test_negative_width_in_list_names_its_index(demo: dict[str, Any]) -> None:
    demo["river"]["width_m"][3] = -1.0
    problem = only_problem(demo)  # only one: not also "should be a valid number" from the union
    assert problem.startswith("river.width_m[3]: ")
    assert "> 0" in problem


def test_negative_scalar_width(demo: dict[str, Any]) -> None:
    demo["river"]["width_m"] = -5
    problem = only_problem(demo)
    assert problem.startswith("river.width_m: ")
    assert "> 0" in problem


def test_width_neither_number_nor_list(demo: dict[str, Any]) -> None:
    demo["river"]["depth_m"] = {"mean": 2}
    assert only_problem(demo) == "river.depth_m: must be a number or a list"


def test_every_structural_problem_is_reported_at_once(demo: dict[str, Any]) -> None:
    demo["river"]["width_m"][3] = -1.0
    demo["river"]["velocity_mps"] = 0
    demo["boat"]["colour"] = "red"
    demo["colour"] = "blue"
    demo["outfalls"][1]["bank"] = "middle"
    demo["sensors"]["sonde"]["rate_hz"] = 0
    del demo["mission"]["pattern"]
    problems = problems_of(demo)
    paths = sorted(p.split(":")[0] for p in problems)
    assert paths == sorted([
        "river.width_m[3]", "river.velocity_mps", "boat.colour", "colour", "outfalls[1].bank",
        "sensors.sonde.rate_hz", "mission.pattern",
    ])
    assert "boat.colour: unknown key" in problems
    assert "mission.pattern: required key is missing" in problems


def test_every_semantic_problem_is_reported_at_once(demo: dict[str, Any]) -> None:
    demo["boat"]["home"] = [121.0, 28.0]
    demo["outfalls"][2]["chainage_m"] = 5000.0
    demo["background"]["nh4"] = 1.0
    demo["outfalls"][0]["excess"]["colour"] = 3.0
    demo["sensors"]["sonde"]["params"]["salinity"] = {"sigma": 0.1, "tau_s": 1}
    demo["mission"]["to_chainage_m"] = 9000.0
    paths = sorted(p.split(":")[0] for p in problems_of(demo))
    assert paths == sorted([
        "boat.home", "outfalls[2].chainage_m", "background.nh4", "outfalls[0].excess.colour",
        "sensors.sonde.params.salinity", "mission.to_chainage_m",
    ])


@pytest.mark.parametrize(
    ("where", "key", "path"),
    [
        ((), "colour", "colour"),
        (("boat",), "colour", "boat.colour"),
        (("river",), "slope", "river.slope"),
        (("outfalls", 0), "diameter_m", "outfalls[0].diameter_m"),
        (("obstacles", "static", 0), "height_m", "obstacles.static[0].height_m"),
        (("obstacles", "moving", 0), "looping", "obstacles.moving[0].looping"),
        (("sensors", "sonde", "params", "nh3n"), "drift", "sensors.sonde.params.nh3n.drift"),
        (("mission",), "speed", "mission.speed"),
    ],
)
def test_unknown_key_is_an_error(demo: dict[str, Any], where: tuple[Any, ...], key: str, path: str) -> None:
    node: Any = demo
    for step in where:
        node = node[step]
    node[key] = 1
    assert only_problem(demo) == f"{path}: unknown key"


@pytest.mark.parametrize("key", ["river", "boat", "mission"])
def test_missing_required_key(demo: dict[str, Any], key: str) -> None:
    del demo[key]
    assert only_problem(demo) == f"{key}: required key is missing"


def test_missing_nested_required_key(demo: dict[str, Any]) -> None:
    del demo["river"]["velocity_mps"]
    del demo["outfalls"][1]["flow_m3ps"]
    assert sorted(problems_of(demo)) == [
        "outfalls[1].flow_m3ps: required key is missing",
        "river.velocity_mps: required key is missing",
    ]


@pytest.mark.parametrize("schema", ["riverpatrol.scenario/2", "riverpatrol.scenario", None, 1])
def test_wrong_schema_version(demo: dict[str, Any], schema: object) -> None:
    if schema is None:
        del demo["schema"]
    else:
        demo["schema"] = schema
    problem = only_problem(demo)
    assert problem.startswith("schema: ")
    assert "riverpatrol.scenario/1" in problem


def test_not_an_object() -> None:
    assert only_problem([1, 2]).startswith("(top level): ")


def test_malformed_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n  "schema": "riverpatrol.scenario/1",\n  "river": {,}\n}\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.source == str(path)
    [problem] = info.value.problems
    assert "malformed JSON" in problem
    assert "line 3 column 13" in problem


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "absent.json")
    [problem] = info.value.problems
    assert problem.startswith("cannot read file")


@pytest.mark.parametrize(
    ("where", "value", "path"),
    [
        (("river", "velocity_mps"), math.inf, "river.velocity_mps"),  # passes "> 0"
        (("river", "width_m", 3), math.nan, "river.width_m[3]"),
        (("background", "nh3n"), math.nan, "background.nh3n"),
        (("outfalls", 0, "excess", "cod"), -math.inf, "outfalls[0].excess.cod"),
        (("outfalls", 0, "active", 0, 1), math.inf, "outfalls[0].active[0][1]"),
    ],
)
def test_non_finite_numbers_are_rejected(tmp_path: Path, demo: dict[str, Any], where: tuple[Any, ...],
                                         value: float, path: str) -> None:
    node: Any = demo
    for step in where[:-1]:
        node = node[step]
    node[where[-1]] = value
    text = json.dumps(demo)  # Python's json writes, and reads, the non-standard NaN / Infinity
    assert "NaN" in text or "Infinity" in text
    file = tmp_path / "nonfinite.json"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(file)
    [problem] = info.value.problems
    assert problem.startswith(f"{path}: ")


# ---- impossible values ------------------------------------------------------------------------

def test_home_just_on_land_is_rejected(make_scenario: Callable[..., dict[str, Any]]) -> None:
    parse_scenario(make_scenario(width=20.0, home_m=(150.0, 9.5)))  # 0.5 m inside the left bank
    parse_scenario(make_scenario(width=20.0, home_m=(150.0, -9.5)))
    for home in [(150.0, 10.5), (150.0, -10.5), (-3.0, 0.0), (1003.0, 0.0)]:  # banks, past both ends
        problem = only_problem(make_scenario(width=20.0, home_m=home))
        assert problem.startswith("boat.home: ")
        assert "on land" in problem


@pytest.mark.parametrize("line", [[], [[121.38, 28.37]]])
def test_empty_or_single_vertex_centerline(demo: dict[str, Any], line: list[list[float]]) -> None:
    demo["river"]["centerline"] = line
    demo["river"]["width_m"] = 20.0
    demo["river"]["depth_m"] = 2.0
    assert only_problem(demo) == "river.centerline: needs at least 2 items"


def test_repeated_vertex(make_scenario: Callable[..., dict[str, Any]]) -> None:
    data = make_scenario([(0, 0), (100, 0), (100, 0), (200, 0)])
    assert only_problem(data).startswith("river.centerline[2]: repeats")


def test_centerline_vertex_not_wgs84(demo: dict[str, Any]) -> None:
    demo["river"]["centerline"][5] = [28.37, 121.38]  # lat, lon swapped
    assert only_problem(demo).startswith("river.centerline[5]: ")


def test_hairpin_too_tight_for_width(make_scenario: Callable[..., dict[str, Any]]) -> None:
    # turn back after a 10 m step: the 20 m wide inner bank folds over itself
    problems = problems_of(make_scenario([(0, 0), (200, 0), (200, 10), (0, 10)], width=20.0))
    assert problems and all(p.startswith("river.centerline[") for p in problems)
    assert "folds over itself" in problems[0]


def test_wide_u_turn_is_fine(make_scenario: Callable[..., dict[str, Any]]) -> None:
    sc = parse_scenario(make_scenario([(0, 0), (200, 0), (250, 50), (200, 100), (0, 100)], width=20.0))
    assert sc.river_frame().length == pytest.approx(400 + 2 * 50 * 2**0.5, abs=1e-3)


def test_centerline_crossing_itself(make_scenario: Callable[..., dict[str, Any]]) -> None:
    data = make_scenario([(0, 0), (200, 0), (200, 100), (100, 100), (100, -100)])
    assert only_problem(data) == "river.centerline: crosses itself"


@pytest.mark.parametrize(
    "line",
    [
        [(0, 0), (300, 0), (600, 0)],  # collinear vertices (a hair off in the local frame)
        [(0, 0), (300, 0), (600, 0.05)],
        [(0, 0), (200, 0), (200, 100)],  # a right angle whose inner corner falls on a bank sample
        [(0, 0), (200, 0), (200, 100), (0, 100), (0, 25), (150, 25)],  # a spiral, 5 m of land between turns
    ],
)
def test_legal_reaches_are_accepted(make_scenario: Callable[..., dict[str, Any]], line: list[tuple[float, float]]) -> None:
    sc = parse_scenario(make_scenario(line, width=20.0))
    assert sc.river_frame().water_polygon.is_valid


@pytest.mark.parametrize(
    "line",
    [
        [(0, 0), (200.3, 0), (200.3, 100.7), (0.2, 100.7), (0.2, 5.1)],  # ends inside its own first leg
        [(0, 0), (200.3, 0), (200.3, 100.7), (0.2, 100.7), (0.2, 18.1), (150, 18.1)],  # spiral, banks overlap 2 m
    ],
)
def test_reach_coming_back_over_itself(make_scenario: Callable[..., dict[str, Any]], line: list[tuple[float, float]]) -> None:
    # the centerline never crosses, but one leg's bank runs through another leg's water
    problem = only_problem(make_scenario(line, width=20.0))
    assert problem.startswith("river")


@pytest.mark.parametrize(
    ("where", "path"),
    [
        (("background",), "background.nh4"),
        (("outfalls", 0, "excess"), "outfalls[0].excess.nh4"),
        (("sensors", "sonde", "params"), "sensors.sonde.params.nh4"),
    ],
)
def test_unknown_parameter_name(demo: dict[str, Any], where: tuple[Any, ...], path: str) -> None:
    node: Any = demo
    for step in where:
        node = node[step]
    node["nh4"] = {"sigma": 0.1, "tau_s": 1.0} if path.startswith("sensors") else 1.0
    problem = only_problem(demo)
    assert problem.startswith(f"{path}: unknown parameter")
    assert "nh3n" in problem  # the message lists the known names


def test_outfall_chainage_outside_the_reach(demo: dict[str, Any]) -> None:
    demo["outfalls"][1]["chainage_m"] = 1800.5  # the reach is 1800.0 m long
    problem = only_problem(demo)
    assert problem.startswith("outfalls[1].chainage_m: ")
    assert "outside the reach" in problem
    demo["outfalls"][1]["chainage_m"] = -1.0
    assert only_problem(demo).startswith("outfalls[1].chainage_m: must be >= 0")
    demo["outfalls"][1]["chainage_m"] = 1799.9  # inside: accepted
    assert parse_scenario(demo).outfalls[1].chainage_m == 1799.9


@pytest.mark.parametrize("key", ["width_m", "depth_m"])
def test_per_vertex_list_of_wrong_length(demo: dict[str, Any], key: str) -> None:
    demo["river"][key] = demo["river"][key][:-1]
    assert only_problem(demo) == f"river.{key}: has 72 values for 73 centerline vertices"


def test_other_out_of_range_values(demo: dict[str, Any]) -> None:
    demo["outfalls"][0]["active"] = [[100, 50]]
    demo["outfalls"][2]["id"] = "P1"
    demo["boat"]["cruise_speed_mps"] = 3.0  # above max_speed_mps 2.5
    paths = sorted(p.split(":")[0] for p in problems_of(demo))
    assert paths == ["boat.cruise_speed_mps", "outfalls[0].active[0]", "outfalls[2].id"]


# ---- defaults ---------------------------------------------------------------------------------

def test_documented_defaults(make_scenario: Callable[..., dict[str, Any]]) -> None:
    sc = parse_scenario(make_scenario())
    assert sc.name == "unnamed"
    assert sc.seed == 0
    assert sc.background == {}
    assert sc.background_full == DEFAULT_BACKGROUND
    assert set(DEFAULT_BACKGROUND) == set(PARAMETERS)
    assert sc.outfalls == [] and sc.obstacles.static == [] and sc.obstacles.moving == []
    assert (sc.boat.cruise_speed_mps, sc.boat.max_speed_mps, sc.boat.radius_m, sc.boat.endurance_s) == (
        1.5, 2.5, 1.0, 10800.0)
    assert sc.sensors.gnss_sigma_m == 0.8
    assert sc.sensors.sonde.rate_hz == 1.0
    assert {p: (c.sigma, c.tau_s) for p, c in sc.sensors.sonde.params.items()} == DEFAULT_SONDE
    assert set(DEFAULT_SONDE) == set(PARAMETERS)
    ranging = sc.sensors.obstacle_ranging
    assert (ranging.max_range_m, ranging.sector_deg, ranging.rate_hz) == (30.0, 5.0, 10.0)
    assert (sc.mission.from_chainage_m, sc.mission.to_chainage_m, sc.mission.bank_offset_m) == (0.0, None, 3.0)


def test_partial_background_is_filled_from_the_defaults(make_scenario: Callable[..., dict[str, Any]]) -> None:
    sc = parse_scenario(make_scenario(background={"nh3n": 2.5, "ph": 6.9}))
    assert sc.background_full == {**DEFAULT_BACKGROUND, "nh3n": 2.5, "ph": 6.9}
    assert sc.background_full["cod"] == DEFAULT_BACKGROUND["cod"]


def test_outfall_defaults(make_scenario: Callable[..., dict[str, Any]]) -> None:
    sc = parse_scenario(make_scenario(outfalls=[{"id": "A", "chainage_m": 300, "bank": "left", "flow_m3ps": 0.01}]))
    [out] = sc.outfalls
    assert out.submerged is True
    assert out.excess == {}
    assert out.active == [[0.0, 1e9]]  # always on, from scenario time 0


def test_moving_vessel_defaults(make_scenario: Callable[..., dict[str, Any]], demo: dict[str, Any]) -> None:
    path = demo["obstacles"]["moving"][0]["path"]
    sc = parse_scenario(make_scenario(obstacles={"moving": [{"id": "barge", "path": path, "speed_mps": 1.0}]}))
    [vessel] = sc.obstacles.moving
    assert vessel.loop is True
    assert (vessel.length_m, vessel.beam_m, vessel.start_s) == (10.0, 3.0, 0.0)


def test_partial_sensors_keep_the_other_defaults(make_scenario: Callable[..., dict[str, Any]]) -> None:
    sc = parse_scenario(make_scenario(sensors={"sonde": {"params": {"nh3n": {"sigma": 0.1, "tau_s": 3}}}}))
    assert list(sc.sensors.sonde.params) == ["nh3n"]  # given params replace the default set
    assert sc.sensors.sonde.rate_hz == 1.0
    assert sc.sensors.gnss_sigma_m == 0.8
    assert sc.sensors.obstacle_ranging.max_range_m == 30.0


def test_validation_does_not_mutate_input(demo: dict[str, Any]) -> None:
    before = copy.deepcopy(demo)
    parse_scenario(demo)
    assert demo == before
