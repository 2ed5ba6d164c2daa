"""Acceptance: suspected-outfall detection scored against the twin's truth by shared/tools/score.py.

Every public scenario and 20 generated ones (seeds 1000-1019, never looked at while the analysis was
tuned) are simulated, analysed from the patrol log alone and scored; matches are pooled over all
scenarios. The output reports each scenario, and recall against source strength, both as the
strength a source has (flow x excess over each channel's noise) and as what the patrol could see
of it (the signal its plume left in the sonde along the boat's true track, in noise units).

    .venv/bin/pytest tests/e2e/test_outfall_scores.py -m slow -s
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ProcessPoolExecutor
from itertools import pairwise
from multiprocessing import get_context
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from riverpatrol.analysis.findings import findings_geojson
from riverpatrol.analysis.lag import respond
from riverpatrol.analysis.camera_evidence import camera_sightings, with_camera
from riverpatrol.analysis.outfalls import detect_outfalls
from riverpatrol.analysis.track import Fixes, river_frame
from riverpatrol.patrollog import PatrolLog
from riverpatrol.scenario import parse_scenario
from riverpatrol.simulate import simulate
from riverpatrol.twin.field import TrueField
from riverpatrol.twin.generator import generate_scenario

pytestmark = pytest.mark.slow

SEEDS = range(1000, 1020)
STRENGTH_BINS = (0.0, 2.0, 4.0, 8.0, 16.0, np.inf)
SEEN_BINS = (0.0, 4.0, 8.0, 16.0, 32.0, np.inf)


def run_case(case: tuple[str, dict[str, Any], Path]) -> dict[str, Any]:
    """Simulate one scenario, analyse its log (timed), and measure what the patrol could see."""
    name, data, out = case
    scenario = parse_scenario(data, source=name)
    result = simulate(scenario, out)
    with PatrolLog(result.log_path) as log:
        started = time.perf_counter()
        frame = river_frame(log.meta)
        findings = with_camera(detect_outfalls(log), camera_sightings(log, frame, Fixes.from_log(log, frame)))
        seconds = time.perf_counter() - started
        doc = findings_geojson(findings, frame)
    return {"name": name, "scenario": data, "truth": result.truth, "findings": doc, "seconds": seconds,
            "seen": seen_snr(data, result.truth)}


def seen_snr(data: dict[str, Any], truth: dict[str, Any]) -> dict[str, float]:
    """Per outfall, the signal its plume left in the sonde along the true track (through each
    channel's lag, over its noise): sqrt of the chi-square a fit that knew where it was could win."""
    scenario = parse_scenario(data)
    frame = scenario.river_frame()
    track = np.array(truth["track"])
    s, n = frame.lonlat_to_river(track[:, 1], track[:, 2])
    kernels = TrueField(scenario, frame).kernels(s, n, track[:, 0])
    channels = scenario.sensors.sonde.params
    seen = {}
    for k, out in zip(kernels, scenario.outfalls):
        lagged = [respond(out.excess.get(p, 0.0) * k, 1.0, ch.tau_s) / max(ch.sigma, 1e-9)
                  for p, ch in channels.items()]
        chi2 = float(sum(np.sum(v**2) for v in lagged))
        seen[out.id] = float(np.sqrt(chi2))
    return seen


def strength(data: dict[str, Any], outfall: dict[str, Any]) -> float:
    """flow x excess / sigma, combined over the measured channels (root sum of squares)."""
    channels = parse_scenario(data).sensors.sonde.params
    load = {p: outfall["flow_m3ps"] * outfall.get("excess", {}).get(p, 0.0) for p in channels}
    return float(np.sqrt(sum((load[p] / max(ch.sigma, 1e-9)) ** 2 for p, ch in channels.items())))


def matches(score_tool: ModuleType, data: dict[str, Any], truth: dict[str, Any],
            doc: dict[str, Any]) -> dict[str, float]:
    """Truth id -> along-river error of its match, by the scoring tool's own rules and projection
    (the tool reports only a median per scenario; pooling needs each error)."""
    fwd, pts = score_tool.river_frame(data)
    lo, hi = data["mission"].get("from_chainage_m", 0.0), data["mission"].get("to_chainage_m", np.inf)
    free = [o for o in truth["outfalls"] if lo <= o["chainage_m"] <= hi]
    found = []
    for f in doc["features"]:
        s, n = score_tool.to_river(fwd, pts, *f["geometry"]["coordinates"][:2])
        found.append((s, "left" if n >= 0 else "right", f["properties"]["confidence"]))
    out = {}
    for s, bank, _ in sorted(found, key=lambda f: -f[2]):
        near = [(abs(s - o["chainage_m"]), o) for o in free
                if o["bank"] == bank and abs(s - o["chainage_m"]) <= score_tool.MATCH_M]
        if near:
            err, o = min(near, key=lambda e: e[0])
            out[o["id"]] = err
            free.remove(o)
    return out


def recall_by(values: list[float], hit: list[bool], bins: tuple[float, ...]) -> list[str]:
    rows = []
    for lo, hi in pairwise(bins):
        inside = [h for v, h in zip(values, hit) if lo <= v < hi]
        if inside:
            rows.append(f"  {lo:>4.0f} - {hi:<4.0f} {len(inside):>4} {sum(inside) / len(inside):>8.2f}")
    return rows


def test_outfalls_are_found_where_they_are(shared_dir: Path, score_tool: ModuleType, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    public = sorted((shared_dir / "scenarios").glob("*.json"))
    cases = [(p.stem, json.loads(p.read_text(encoding="utf-8")), tmp_path / p.stem) for p in public]
    cases += [(f"generated-{seed}", generate_scenario(seed), tmp_path / f"generated-{seed}") for seed in SEEDS]
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
        results = list(pool.map(run_case, cases))

    lines = [(f"{'scenario':18} {'outfalls':>8} {'found':>5} {'match':>5} {'recall':>6} {'precision':>9} "
              f"{'median m':>8} {'max m':>6} {'analysis s':>10}  missed")]
    errors: list[float] = []
    totals = {"outfalls": 0, "findings": 0, "matched": 0}
    strengths, seen, hit = [], [], []
    for r in results:
        score = score_tool.score(r["scenario"], r["truth"], r["findings"])
        matched = matches(score_tool, r["scenario"], r["truth"], r["findings"])
        assert len(matched) == score["matched"]  # the same matching as the tool's
        errors += matched.values()
        for key, value in (("outfalls", "outfalls_in_reach"), ("findings", "findings"), ("matched", "matched")):
            totals[key] += score[value]
        for o in r["scenario"]["outfalls"]:
            strengths.append(strength(r["scenario"], o))
            seen.append(r["seen"][o["id"]])
            hit.append(o["id"] in matched)
        median = "-" if score["median_error_m"] is None else f"{score['median_error_m']:.1f}"
        worst = "-" if score["max_error_m"] is None else f"{score['max_error_m']:.1f}"
        lines.append(f"{r['name']:18} {score['outfalls_in_reach']:>8} {score['findings']:>5} {score['matched']:>5} "
                     f"{score['recall']:>6.2f} {score['precision']:>9.2f} {median:>8} {worst:>6} "
                     f"{r['seconds']:>10.2f}  {' '.join(score['missed'])}")
    recall = totals["matched"] / totals["outfalls"]
    precision = totals["matched"] / max(totals["findings"], 1)
    median = float(np.median(errors))
    lines.append(f"{'pooled':18} {totals['outfalls']:>8} {totals['findings']:>5} {totals['matched']:>5} {recall:>6.2f} "
                 f"{precision:>9.2f} {median:>8.1f} {max(errors):>6.1f}")
    lines += ["", "recall by strength (flow x excess / sigma, root sum of squares over channels):",
              "   from - to      n   recall", *recall_by(strengths, hit, STRENGTH_BINS),
              "recall by signal seen (sonde signal of the plume along the true track, noise units):",
              "   from - to      n   recall", *recall_by(seen, hit, SEEN_BINS)]
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert recall >= 0.9, "\n".join(lines)
    assert precision >= 0.9, "\n".join(lines)
    assert median <= 10.0, "\n".join(lines)

