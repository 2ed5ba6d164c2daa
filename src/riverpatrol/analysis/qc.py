"""Per-sample quality control of sonde data, flagged in the HJ 212-2017 vocabulary.

Flagged samples are kept and marked, never altered or dropped; ``valid`` (flag N) is what
statistics and classification use. Rules, each per parameter:

- range: below the instrument's lower limit (a negative concentration, pH below 0) or above a
  physical bound (pH above 14) is impossible, D; at or above the upper measuring limit, T (an
  instrument saturates there). The impossible bounds are widened by the noise margin (6 sigma),
  because a sensor reading water at the bottom of its range scatters around it.
- rate of change: a first-order sensor with response time tau moves at most ``1 - exp(-dt/tau)``
  of the way to the true value between samples, and the true value cannot change by more than
  ``max_step`` (clean river water to raw effluent). A bigger jump is a fault, D, on the sample
  after it; the jump back from a one-sample fault is not a second fault.
- spike: a sample that sticks out from both neighbours by more than the noise margin, and falls
  back faster than the sensor's lag allows (by more than ``1 - exp(-dt/tau)`` of its excursion from
  the local floor, the extreme of the readings within five response times), D. A real plume, even
  one narrower than a sample, reaches the sensor through its lag, so its readings decay at that
  rate; a step (a plume edge) does not stick out on both sides. A sensor with no lag (tau 0) can
  show a real one-sample plume, so on such a channel no excursion is called a spike.
- stuck: the same value for ``stuck_samples`` samples or more (30 s of samples by default), D.
  Noise makes repeats of a float reading impossible, so a channel with no noise is not tested.
- gaps: a time step over 2.5 sample periods is listed as a gap; the first sample after it is B
  (communication failure), as is a missing reading (NaN) of a channel that is measured.

When rules disagree, an impossible value is D, else over-range T, else D from the other rules,
else B. Rate, spike and stuck tests see range failures as missing, so a saturated channel shows T.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from riverpatrol.analysis.running import running_max

FLAGS: dict[str, str] = {  # HJ 212-2017 data flags
    "N": "normal", "F": "stopped", "M": "maintenance", "S": "manually set", "D": "fault",
    "C": "calibrating", "T": "over the upper measuring limit", "B": "communication failure",
}
NOISE_K = 6.0        # noise margin in sigmas
GAP_PERIODS = 2.5    # a time step longer than this many sample periods is a gap
STUCK_S = 30.0       # default stuck-sensor run, seconds of samples
FLOOR_TAUS = 5.0     # spike floor window: the lag leaves exp(-5) < 1 % of an excursion by then


@dataclass(frozen=True)
class Instrument:
    """A channel's measuring range and the largest true change it can meet."""

    lower: float                    # below: impossible, D
    upper: float                    # at or above: over the measuring limit, T
    max_step: float                 # river water to raw effluent, in the parameter's unit
    impossible_above: float = np.inf


INSTRUMENTS: dict[str, Instrument] = {  # typical multi-parameter sonde and online analysers
    "temperature": Instrument(-5.0, 50.0, 20.0),
    "ph": Instrument(0.0, 14.0, 7.0, impossible_above=14.0),
    "do": Instrument(0.0, 50.0, 15.0),
    "conductivity": Instrument(0.0, 200_000.0, 10_000.0),
    "turbidity": Instrument(0.0, 4000.0, 1000.0),
    "nh3n": Instrument(0.0, 200.0, 100.0),
    "codmn": Instrument(0.0, 100.0, 100.0),
    "cod": Instrument(0.0, 1000.0, 1000.0),
    "tp": Instrument(0.0, 10.0, 10.0),
}


@dataclass(frozen=True)
class QcResult:
    """Flags (single-character HJ 212 codes) and valid masks per measured parameter, and gaps."""

    flags: dict[str, NDArray[np.str_]]
    valid: dict[str, NDArray[np.bool_]]
    gaps: NDArray[np.float64]  # (k, 2): times of the samples before and after each gap
    counts: dict[str, dict[str, int]]  # per parameter, samples with each flag that occurs

    def summary(self) -> dict[str, Any]:
        """Data-quality summary: samples, flagged share and flag counts per parameter, gaps."""
        return {
            "gaps": [[float(a), float(b)] for a, b in self.gaps],
            "parameters": {name: {"samples": int(flag.size),
                                  "flagged_fraction": float(np.mean(flag != "N")),
                                  "flags": self.counts[name]}
                           for name, flag in self.flags.items()},
        }


def quality_control(t: NDArray[np.float64], values: Mapping[str, NDArray[np.float64]],
                    sigma: Mapping[str, float], rate_hz: float, tau_s: Mapping[str, float],
                    instruments: Mapping[str, Instrument] = INSTRUMENTS,
                    stuck_samples: int | None = None) -> QcResult:
    """Flag every sample of every measured parameter (all-NaN columns are not measured)."""
    t = np.asarray(t, dtype=float)
    if np.any(np.diff(t) < 0):
        raise ValueError("sample times must be in time order")
    dt = np.diff(t)
    regular = dt <= GAP_PERIODS / rate_hz  # step i -> i+1 is not a gap
    after_gap = np.concatenate([[False], ~regular])
    run = stuck_samples if stuck_samples is not None else max(3, round(STUCK_S * rate_hz))
    flags: dict[str, NDArray[np.str_]] = {}
    for name, column in values.items():
        y = np.asarray(column, dtype=float)
        if np.isnan(y).all():
            continue
        flags[name] = _flag_channel(y, dt, regular, after_gap, sigma[name], tau_s[name], rate_hz,
                                    instruments[name], run)
    gap_index = np.flatnonzero(~regular)
    return QcResult(
        flags=flags,
        valid={name: flag == "N" for name, flag in flags.items()},
        gaps=np.column_stack([t[gap_index], t[gap_index + 1]]),
        counts={name: {f: n for f in FLAGS if (n := int(np.count_nonzero(flag == f)))}
                for name, flag in flags.items()},
    )


def quality_control_sonde(columns: Mapping[str, Any], meta: Mapping[str, Any]) -> QcResult:
    """QC of a patrol log's ``columns("sonde")`` with the sonde described in its ``meta``."""
    sonde = meta["sensors"]["sonde"]
    params = sonde["params"]
    return quality_control(columns["t"], {name: columns[name] for name in params},
                           {name: p["sigma"] for name, p in params.items()}, sonde["rate_hz"],
                           {name: p["tau_s"] for name, p in params.items()})


def _flag_channel(y: NDArray[np.float64], dt: NDArray[np.float64], regular: NDArray[np.bool_],
                  after_gap: NDArray[np.bool_], sigma: float, tau: float, rate_hz: float,
                  inst: Instrument, run: int) -> NDArray[np.str_]:
    margin = NOISE_K * sigma
    impossible = (y < inst.lower - margin) | (y > inst.impossible_above + margin)
    over = ~impossible & (y >= inst.upper)
    y = np.where(impossible | over, np.nan, y)
    decay = np.exp(-dt / tau) if tau > 0 else np.zeros_like(dt)  # lag left after each step
    noisy = sigma > 0
    spike = (_spikes(y, decay, regular, tau * rate_hz, margin) if noisy
             else np.zeros(y.shape, dtype=bool))
    fault = spike | _jumps(y, decay, inst.max_step, margin, spike)
    if noisy:
        fault |= _stuck(y, run)
    flag = np.full(y.shape, "N", dtype="<U1")
    flag[after_gap | np.isnan(y)] = "B"
    flag[fault] = "D"
    flag[over] = "T"
    flag[impossible] = "D"
    return flag


def _jumps(y: NDArray[np.float64], decay: NDArray[np.float64], max_step: float, margin: float,
           spike: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Samples reached by a jump bigger than the lagged sensor can show, unless the jump is the
    way back from an outlier (a spike, or a sample both of whose jumps are too big)."""
    jump = np.abs(np.diff(y))
    too_big = np.concatenate([[False], jump > (1.0 - decay) * max_step + margin])
    two_step = np.abs(y[2:] - y[:-2]) <= (1.0 - decay[1:] * decay[:-1]) * max_step + margin
    back = np.zeros_like(too_big)
    back[1:] = spike[:-1]
    back[2:] |= too_big[1:-1] & two_step
    return too_big & ~back


def _spikes(y: NDArray[np.float64], decay: NDArray[np.float64], regular: NDArray[np.bool_],
            tau_samples: float, margin: float) -> NDArray[np.bool_]:
    """Samples sticking out from both neighbours and falling back faster than the lag allows."""
    spike = np.zeros(y.shape, dtype=bool)
    if y.size < 3:
        return spike
    rise, fall = y[1:-1] - y[:-2], y[1:-1] - y[2:]
    up = rise > 0
    size = 2 * int(np.ceil(FLOOR_TAUS * tau_samples)) + 3
    half = size // 2  # windows centred on each sample, the series' ends repeated beyond them
    floor = -running_max(np.pad(np.where(np.isnan(y), -np.inf, -y), half, mode="edge"), size)[1:-1]
    ceiling = running_max(np.pad(np.where(np.isnan(y), -np.inf, y), half, mode="edge"), size)[1:-1]
    excursion = np.where(up, y[1:-1] - floor, ceiling - y[1:-1])
    spike[1:-1] = ((rise * fall > 0) & regular[:-1] & regular[1:]
                   & (np.minimum(np.abs(rise), np.abs(fall)) > margin)
                   & (np.abs(fall) - (1.0 - decay[1:]) * excursion > margin))
    return spike


def _stuck(y: NDArray[np.float64], run: int) -> NDArray[np.bool_]:
    """Samples in runs of at least ``run`` identical values."""
    starts = np.flatnonzero(np.concatenate([[True], y[1:] != y[:-1]]))
    lengths = np.diff(np.append(starts, y.size))
    return np.repeat(lengths >= run, lengths)
