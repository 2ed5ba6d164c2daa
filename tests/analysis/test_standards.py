"""GB 3838-2002 classes: limits and their boundaries, DO and pH semantics, limiting items,
segments by chainage, and the package's table against the shared reference."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np
import pytest

from riverpatrol.analysis.standards import (
    CLASS_NAMES_EN,
    CLASS_NAMES_ZH,
    GB3838,
    classify,
    classify_segments,
)

EPS = 1e-9
MAX_ITEMS = [name for name, limit in GB3838.items() if limit.kind == "max"]


def one(name: str, value: float) -> int:
    return int(classify({name: np.array([value])}).water_class[0])


@pytest.mark.parametrize("name", MAX_ITEMS)
def test_a_value_at_a_limit_is_the_better_class_and_just_above_is_worse(name: str) -> None:
    bounds = GB3838[name].bounds
    best_meeting = lambda v: next((k + 1 for k, b in enumerate(bounds) if v <= b), 6)  # noqa: E731
    for k, limit in enumerate(bounds):
        assert one(name, limit) == best_meeting(limit) <= k + 1, (name, limit)
        assert one(name, limit + EPS) == best_meeting(limit + EPS) > k + 1, (name, limit)
    assert one(name, 0.0) == 1
    assert one(name, bounds[-1] + EPS) == 6


def test_cod_shares_its_class_i_and_ii_limit() -> None:
    assert [one("cod", v) for v in (15.0, 15.0 + EPS, 20.0, 40.0, 40.0 + EPS)] == [1, 3, 3, 5, 6]


def test_dissolved_oxygen_is_a_minimum() -> None:
    values = [9.0, 7.5, 7.5 - EPS, 6.0, 6.0 - EPS, 5.0, 5.0 - EPS, 3.0, 3.0 - EPS, 2.0, 2.0 - EPS, 0.0]
    assert [one("do", v) for v in values] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]


def test_ph_outside_6_to_9_is_worse_than_v() -> None:
    values = [6.0 - EPS, 6.0, 7.5, 9.0, 9.0 + EPS, 4.0, 11.0]
    assert [one("ph", v) for v in values] == [6, 1, 1, 1, 6, 6, 6]


def test_tp_uses_the_river_limits() -> None:
    assert [one("tp", v) for v in (0.02, 0.05, 0.1 + EPS, 0.4, 0.4 + EPS)] == [1, 2, 3, 5, 6]


def test_worst_item_sets_the_class_and_is_named() -> None:
    result = classify({
        "ph": np.array([7.2, 7.2, 9.5, 7.0]),
        "do": np.array([8.0, 4.0, 8.0, 5.5]),
        "nh3n": np.array([0.1, 0.4, 0.1, 0.8]),
        "cod": np.array([12.0, 25.0, 12.0, 18.0]),
        "temperature": np.array([30.0, 30.0, 30.0, 30.0]),  # no class limits: ignored
        "conductivity": np.array([5000.0, 5000.0, 5000.0, 5000.0]),
    })
    assert result.water_class.tolist() == [1, 4, 6, 3]
    assert result.limiting.tolist() == ["ph,do,cod,nh3n", "do,cod", "ph", "do,cod,nh3n"]
    assert set(result.by_parameter) == {"ph", "do", "nh3n", "cod"}
    assert result.by_parameter["do"].tolist() == [1, 4, 1, 3]
    assert result.names("zh").tolist() == ["I类", "IV类", "劣V类", "III类"]
    assert result.names("en").tolist() == ["Class I", "Class IV", "worse than V", "Class III"]


def test_missing_and_flagged_values_are_left_out() -> None:
    values = {"nh3n": np.array([3.0, np.nan, 3.0, np.nan]), "cod": np.array([12.0, 25.0, np.nan, np.nan])}
    valid = {"nh3n": np.array([True, True, False, True])}
    result = classify(values, valid)
    assert result.water_class.tolist() == [6, 4, 0, 0]
    assert result.limiting.tolist() == ["nh3n", "cod", "", ""]


def test_only_unclassed_items_give_no_class() -> None:
    result = classify({"temperature": np.array([20.0, 21.0]), "turbidity": np.array([5.0, 500.0])})
    assert result.water_class.tolist() == [0, 0]
    assert result.names("en").tolist() == ["not classifiable"] * 2


def test_class_names() -> None:
    assert CLASS_NAMES_ZH[1:] == ("I类", "II类", "III类", "IV类", "V类", "劣V类")
    assert CLASS_NAMES_EN[1] == "Class I" and CLASS_NAMES_EN[6] == "worse than V"


def test_segments_class_the_mean_of_valid_samples() -> None:
    s = np.array([5.0, 50.0, 99.9, 100.0, 150.0, 250.0, 260.0, np.nan])
    values = {
        "nh3n": np.array([0.4, 0.6, 0.5, 1.2, 2.4, 0.1, 9.0, 5.0]),
        "do": np.array([8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 0.0]),
    }
    valid = {"nh3n": np.array([True, True, True, True, True, True, False, True])}
    seg = classify_segments(s, values, valid, segment_m=100.0)
    assert seg.start_m.tolist() == [0.0, 100.0, 200.0] and seg.end_m.tolist() == [100.0, 200.0, 300.0]
    assert seg.samples.tolist() == [3, 2, 2]
    assert seg.count["nh3n"].tolist() == [3, 2, 1]
    np.testing.assert_allclose(seg.mean["nh3n"], [0.5, 1.8, 0.1])
    # one sample of 2.4 is worse than V, but the segment's mean (1.8) is class V
    assert seg.classification.water_class.tolist() == [2, 5, 1]
    assert seg.classification.limiting.tolist() == ["nh3n", "nh3n", "do,nh3n"]


def test_empty_segments_inside_the_patrol_are_not_classifiable() -> None:
    seg = classify_segments(np.array([1030.0, 1290.0]), {"cod": np.array([10.0, 35.0])}, segment_m=100.0)
    assert seg.start_m.tolist() == [1000.0, 1100.0, 1200.0]
    assert seg.count["cod"].tolist() == [1, 0, 1]
    assert np.isnan(seg.mean["cod"][1])
    assert seg.classification.water_class.tolist() == [1, 0, 5]


def test_ten_thousand_samples_classify_in_milliseconds() -> None:
    rng = np.random.default_rng(0)
    n = 10_000
    values = {"ph": rng.normal(7.5, 0.5, n), "do": rng.normal(6, 1, n), "codmn": rng.normal(5, 2, n),
              "cod": rng.normal(20, 5, n), "nh3n": rng.normal(1, 0.5, n), "tp": rng.normal(0.2, 0.1, n)}
    start = time.perf_counter()
    classify_segments(np.linspace(0, 10_000, n), values)
    classify(values)
    assert time.perf_counter() - start < 0.1


def test_table_equals_the_shared_reference(shared_dir: Path) -> None:
    path = shared_dir / "reference" / "gb3838-2002-basic.csv"
    if not path.is_file():
        pytest.skip(f"reference table {path} not found")
    with path.open(encoding="utf-8") as f:
        rows = {row["item"]: row for row in csv.DictReader(line for line in f if not line.startswith("#"))}
    reference_item = {"tp": "tp_river"}
    for name, limit in GB3838.items():
        row = rows[reference_item.get(name, name)]
        classes = [row[c] for c in ("I", "II", "III", "IV", "V")]
        assert (row["unit"], row["kind"]) == (limit.unit, limit.kind), name
        if limit.kind == "range":
            assert {tuple(float(x) for x in c.split("-")) for c in classes} == {limit.bounds}, name
        else:
            assert tuple(float(c) for c in classes) == limit.bounds, name
