"""Water class by GB 3838-2002 (surface water quality standard), Table 1 basic items we measure.

A sample's class is the single-factor worst class: each item gets the best class whose limit it
meets (a value equal to a limit belongs to the better class), and the sample takes the worst of
them; the items at that class are named as limiting. pH outside 6-9 and any item past its class V
limit make the sample worse than V (劣V). Only items with class limits count: temperature,
conductivity and turbidity have none; TN (rivers) and fecal coliform are not used for the routine
class, and we do not measure them. TP uses the river limits, since the boat patrols rivers.

River segments are classed from the mean of each item over the segment, not from the worst sample:
GB 3838 assessment practice (地表水环境质量评价办法) evaluates a section by the arithmetic mean
concentration of each item over the assessment period and then applies the single-factor method.
A patrol crossing a plume still shows it in the per-sample classes; the segment class says what
the reach as a whole meets, and is not pushed into 劣V by one noisy reading.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

NOT_CLASSIFIABLE = 0
WORSE_THAN_V = 6
CLASS_NAMES_ZH = ("不可分类", "I类", "II类", "III类", "IV类", "V类", "劣V类")
CLASS_NAMES_EN = ("not classifiable", "Class I", "Class II", "Class III", "Class IV", "Class V",
                  "worse than V")


@dataclass(frozen=True)
class Limit:
    """One item's limits: ``max`` and ``min`` give classes I..V, ``range`` is (lo, hi) for all."""

    unit: str
    kind: Literal["max", "min", "range"]
    bounds: tuple[float, ...]

    def classify(self, value: NDArray[np.float64]) -> NDArray[np.int8]:
        """Class 1..6 of each value, 0 where it is NaN."""
        if self.kind == "range":
            lo, hi = self.bounds
            cls = np.where((value >= lo) & (value <= hi), 1, WORSE_THAN_V)
        elif self.kind == "max":  # count of limits the value exceeds
            cls = 1 + np.searchsorted(np.asarray(self.bounds), value, side="left")
        else:  # minimum: count of limits the value falls short of
            ascending = np.asarray(self.bounds[::-1])
            cls = 1 + len(self.bounds) - np.searchsorted(ascending, value, side="right")
        return np.where(np.isnan(value), NOT_CLASSIFIABLE, cls).astype(np.int8)


GB3838: dict[str, Limit] = {  # canonical parameter -> GB 3838-2002 Table 1 limits, classes I..V
    "ph": Limit("pH", "range", (6.0, 9.0)),
    "do": Limit("mg/L", "min", (7.5, 6.0, 5.0, 3.0, 2.0)),
    "codmn": Limit("mg/L", "max", (2.0, 4.0, 6.0, 10.0, 15.0)),
    "cod": Limit("mg/L", "max", (15.0, 15.0, 20.0, 30.0, 40.0)),
    "nh3n": Limit("mg/L", "max", (0.15, 0.5, 1.0, 1.5, 2.0)),
    "tp": Limit("mg/L", "max", (0.02, 0.1, 0.2, 0.3, 0.4)),  # river limits
}


@dataclass(frozen=True)
class Classification:
    """Per-sample class (0 not classifiable, 1..5, 6 worse than V) with its limiting items."""

    water_class: NDArray[np.int8]
    limiting: NDArray[np.str_]  # comma-joined items at the worst class, "" where not classifiable
    by_parameter: dict[str, NDArray[np.int8]]

    def names(self, lang: Literal["zh", "en"] = "zh") -> NDArray[np.str_]:
        """Class names (I类.. / Class I..) of every sample."""
        return np.asarray(CLASS_NAMES_ZH if lang == "zh" else CLASS_NAMES_EN)[self.water_class]


@dataclass(frozen=True)
class SegmentClasses:
    """Classes of river segments ``[start_m, end_m)`` from the mean of each item's valid samples."""

    start_m: NDArray[np.float64]
    end_m: NDArray[np.float64]
    mean: dict[str, NDArray[np.float64]]  # NaN where a segment has no valid sample of the item
    count: dict[str, NDArray[np.int64]]   # valid samples of each item per segment
    samples: NDArray[np.int64]            # samples per segment, valid or not
    classification: Classification


def classify(values: Mapping[str, NDArray[np.float64]],
             valid: Mapping[str, NDArray[np.bool_]] | None = None) -> Classification:
    """Single-factor class of every sample; NaN values and those not ``valid`` are left out."""
    size = _length(values)
    by_parameter = {name: limit.classify(_usable(values[name], valid, name))
                    for name, limit in GB3838.items() if name in values}
    if not by_parameter:
        empty = np.zeros(size, np.int8)
        return Classification(empty, np.full(size, "", dtype=str), {})
    stack = np.stack(list(by_parameter.values()))
    worst = stack.max(axis=0)
    at_worst = (stack == worst) & (worst > NOT_CLASSIFIABLE)
    code = (at_worst.astype(np.int64) << np.arange(len(stack))[:, None]).sum(axis=0)
    unique, inverse = np.unique(code, return_inverse=True)
    names = list(by_parameter)
    labels = [",".join(n for bit, n in enumerate(names) if c >> bit & 1) for c in unique]
    return Classification(worst, np.asarray(labels, dtype=str)[inverse], by_parameter)


def classify_segments(s: NDArray[np.float64], values: Mapping[str, NDArray[np.float64]],
                      valid: Mapping[str, NDArray[np.bool_]] | None = None,
                      segment_m: float = 100.0) -> SegmentClasses:
    """Segments by chainage ``s`` (``[k*segment_m, (k+1)*segment_m)``, from the first to the last
    segment holding a sample); each item's mean over its valid samples, then the single-factor
    class of the means. Samples with NaN chainage are left out."""
    if segment_m <= 0:
        raise ValueError(f"segment_m must be > 0, got {segment_m}")
    s = np.asarray(s, dtype=float)
    placed = np.isfinite(s)
    if not placed.any():
        raise ValueError("no sample has a chainage")
    index = np.floor(s[placed] / segment_m).astype(np.int64)
    first = int(index.min())
    index -= first
    bins = int(index.max()) + 1
    mean: dict[str, NDArray[np.float64]] = {}
    count: dict[str, NDArray[np.int64]] = {}
    for name, column in values.items():
        value = _usable(column, valid, name)[placed]
        ok = ~np.isnan(value)
        count[name] = np.bincount(index[ok], minlength=bins)
        total = np.bincount(index[ok], weights=value[ok], minlength=bins)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean[name] = total / count[name]
    start = (first + np.arange(bins)) * segment_m
    return SegmentClasses(start, start + segment_m, mean, count,
                          np.bincount(index, minlength=bins), classify(mean))


def _length(values: Mapping[str, NDArray[np.float64]]) -> int:
    if not values:
        raise ValueError("no parameter values given")
    return len(next(iter(values.values())))


def _usable(column: NDArray[np.float64], valid: Mapping[str, NDArray[np.bool_]] | None,
            name: str) -> NDArray[np.float64]:
    """The column as floats with samples not valid set to NaN."""
    value = np.asarray(column, dtype=float)
    if valid is None or name not in valid:
        return value
    return np.where(valid[name], value, np.nan)
