"""Suspected outfalls from a patrol log: the plume model, detection, localisation, sonar fusion,
findings as GeoJSON, and analysis that never touches the twin's truth."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from riverpatrol import analysis
from riverpatrol.analysis.findings import Finding, findings_geojson, place
from riverpatrol.analysis.outfalls import detect_outfalls, plume
from riverpatrol.analysis.track import river_frame
from riverpatrol.patrollog import PatrolLog
from riverpatrol.scenario import parse_scenario
from riverpatrol.simulate import simulate
from riverpatrol.twin.field import TrueField
from riverpatrol.twin.generator import TYPICAL_EXCESS, generate_scenario

OUTFALL = {"flow_m3ps": 0.015, "excess": TYPICAL_EXCESS}
OUTFALLS = [  # a 900 m reach: what the analysis must find, and how
    {"id": "SUB", "chainage_m": 250.0, "bank": "right", "submerged": True, **OUTFALL},
    {"id": "VIS", "chainage_m": 520.0, "bank": "left", "submerged": False, **OUTFALL},
    {"id": "OFF", "chainage_m": 700.0, "bank": "left", "submerged": True, **OUTFALL,
     "active": [[1e8, 1e9]]},  # a pipe that does not discharge while the boat is out
]


@pytest.fixture(scope="module")
def survey(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    scenario = generate_scenario(31, length_m=900.0, velocity_mps=0.2, n_outfalls=1)
    scenario["outfalls"] = OUTFALLS
    return scenario, simulate(parse_scenario(scenario), tmp_path_factory.mktemp("outfalls")).log_path


@pytest.fixture(scope="module")
def findings(survey: tuple[dict[str, Any], Path]) -> list[Finding]:
    with PatrolLog(survey[1]) as log:
        return detect_outfalls(log)


def by_id(found: list[Finding]) -> dict[str, Finding]:
    """Each outfall's finding: same bank, nearest chainage within 20 m (the scorer's rule)."""
    out = {}
    for o in OUTFALLS:
        near = [f for f in found if f.bank == o["bank"] and abs(f.s - o["chainage_m"]) <= 20.0]
        if near:
            out[o["id"]] = min(near, key=lambda f: abs(f.s - o["chainage_m"]))
    return out


def test_plume_is_the_spec_formula_the_twin_samples() -> None:
    scenario = generate_scenario(5, n_outfalls=1)
    scenario["outfalls"][0].update(flow_m3ps=1.0, active=[[-1e9, 1e9]])
    sc = parse_scenario(scenario)
    frame = sc.river_frame()
    out = sc.outfalls[0]
    rng = np.random.default_rng(0)
    s = out.chainage_m + rng.uniform(-20.0, 1500.0, 400)
    s = s[(s > 0) & (s < frame.length)]
    w = frame.width_at(s)
    n = rng.uniform(-0.5, 0.5, s.size) * w
    expected = TrueField(sc, frame).kernels(s, n, np.zeros_like(s))[0]
    ours = plume(s - out.chainage_m, n + w / 2.0, 1 if out.bank == "left" else -1, w, frame.depth_at(s), sc.river.velocity_mps,
                 sc.river.transverse_dispersion_m2ps)
    np.testing.assert_allclose(ours, expected, rtol=1e-9, atol=1e-15)
    assert np.all(ours[s <= out.chainage_m] == 0.0)


def test_each_outfall_is_found_on_its_bank_close_to_where_it_is(findings: list[Finding]) -> None:
    found = by_id(findings)
    assert set(found) == {"SUB", "VIS", "OFF"}
    assert len(findings) == 3  # and nothing else
    assert abs(found["SUB"].s - 250.0) < 2.0  # pinned to the pipe mouth the sonar saw
    assert abs(found["VIS"].s - 520.0) < 10.0  # from the plume alone
    assert found["VIS"].uncertainty_m < 10.0


def test_evidence_says_which_parameters_and_sensors_support_each(findings: list[Finding]) -> None:
    found = by_id(findings)
    sub, vis, off = found["SUB"].evidence, found["VIS"].evidence, found["OFF"].evidence
    assert "sonar" in sub and "sonar" not in vis and "sonar" in off
    for ev in (sub, vis):
        params = ev["parameters"]
        assert {"conductivity", "nh3n"} <= set(params)
        assert params["conductivity"]["peak_excess"] > 0 and params["conductivity"]["load"] > 0
        assert params.get("do", {"load": -1.0})["load"] < 0  # oxygen demand lowers DO
        assert ev["passes"] and ev["chi2"] > 36.0
    where = vis["parameters"]["conductivity"]["at"]
    assert 520.0 < where["chainage_m"] < 800.0 and where["offset_m"] > 0  # downstream, in the left lane
    assert off["parameters"] == {} and "no discharge observed" in off["notes"][0]


def test_confidence_ranks_a_discharging_pipe_above_a_silent_one(findings: list[Finding]) -> None:
    found = by_id(findings)
    assert all(0.0 <= f.confidence <= 1.0 for f in findings)
    assert found["SUB"].confidence > found["OFF"].confidence
    assert [f.confidence for f in findings] == sorted((f.confidence for f in findings), reverse=True)


def test_geojson_reads_back_at_the_same_chainage_and_bank(survey: tuple[dict[str, Any], Path], findings: list[Finding],
                                                            score_tool: ModuleType) -> None:
    scenario, path = survey
    with PatrolLog(path) as log:
        doc = findings_geojson(findings, river_frame(log.meta))
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == len(findings)
    fwd, pts = score_tool.river_frame(scenario)
    for feature, f in zip(doc["features"], findings):
        props = feature["properties"]
        assert feature["geometry"]["type"] == "Point"
        assert props["kind"] == "suspected_outfall" and props["bank"] == f.bank
        assert props["chainage_m"] == round(f.s, 1) and props["uncertainty_m"] >= 0
        s, n = score_tool.to_river(fwd, pts, *feature["geometry"]["coordinates"])
        assert abs(s - f.s) < 0.5 and (n > 0) == (f.bank == "left")
    json.dumps(doc)  # plain JSON all through


@pytest.mark.parametrize("seed", [3, 8])
def test_place_survives_bends(seed: int) -> None:
    frame = parse_scenario(generate_scenario(seed)).river_frame()
    for s in np.linspace(5.0, frame.length - 5.0, 200):
        for bank in ("left", "right"):
            back_s, back_n = frame.to_river(*place(frame, float(s), bank))
            assert abs(back_s[0] - s) <= 0.5 and (back_n[0] > 0) == (bank == "left")


def test_a_river_without_outfalls_gives_no_findings(tmp_path: Path) -> None:
    scenario = generate_scenario(41, length_m=800.0, n_outfalls=0)
    with PatrolLog(simulate(parse_scenario(scenario), tmp_path).log_path) as log:
        assert detect_outfalls(log) == []


def test_analysis_never_reaches_for_the_twin_or_its_truth() -> None:
    for module in Path(analysis.__file__).parent.rglob("*.py"):
        text = module.read_text(encoding="utf-8")
        assert not re.search(r"riverpatrol\.twin|from \.\.twin|truth\.json|load_scenario|parse_scenario", text), module
