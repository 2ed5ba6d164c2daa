"""The model the search fits: background plus sources, each the spec's plume switched on over a
window of emission time and passed through each channel's lag, least squares per channel; and the
cache of every candidate source's field at the samples, which the searches revisit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from riverpatrol.analysis.lag import respond
from riverpatrol.analysis.outfalls._plume import plume
from riverpatrol.analysis.outfalls._series import Hydrology, Sonde
from riverpatrol.analysis.sonar_targets import SonarTarget
from riverpatrol.geo.frame import FloatArray

ACCEPT = 30.0  # chi-square a source must explain given all the others (noise alone: 22 at most) ...
ACCEPT_MOUTH = 16.0  # ... or, at a pipe mouth seen on sonar, to count as discharging
SWITCH_PENALTY = 9.0  # chi-square a fitted switch on or off must earn (about ln N, as in BIC)
SAME_M = 15.0  # sources on one bank closer than this are one source
SUPPORT = 1e-2  # where a source's field is below this share of its peak, switching it is not scored
PLUME_MET = 0.2  # where a source's field is above this share of its peak, the boat met its plume
LAG_TAILS = 10.0  # a lagged response has died out this many time constants after its input
MODELS_KEPT = 4  # recent models kept for reuse (each holds its design: megabytes on a long patrol)


@dataclass(frozen=True)
class Source:
    """A plume source: chainage, bank (+1 left, -1 right), discharging for emission times in
    [t_on, t_off]; once fitted, what it explains (chi2), its chainage uncertainty, its load per
    channel and the load's significance, and the pipe mouth it sits at, if any."""

    s: float
    side: int
    t_on: float = -np.inf
    t_off: float = np.inf
    chi2: float = 0.0
    sigma_m: float = 0.0
    load: FloatArray = field(default_factory=lambda: np.zeros(0))  # flow x excess per channel
    z: FloatArray = field(default_factory=lambda: np.zeros(0))  # load / its standard error
    mouth: SonarTarget | None = None

    @property
    def penalty(self) -> float:
        return SWITCH_PENALTY * (int(np.isfinite(self.t_on)) + int(np.isfinite(self.t_off)))

    @property
    def threshold(self) -> float:
        return ACCEPT_MOUTH if self.mouth is not None else ACCEPT


class Model:
    """Least squares of every channel on [1, lagged source columns]: the design per lag group
    (groups x terms x samples, each column a contiguous row), fitted loads (channels x terms),
    residuals."""

    def __init__(self, sonde: Sonde, columns: list[FloatArray]) -> None:
        self.sonde = sonde
        count = sonde.readings.shape[1]
        x = np.empty((len(sonde.taus), 1 + len(columns), count))
        x[:, 0] = 1.0
        for c, column in enumerate(columns):
            x[:, 1 + c] = column
        self.design = x
        self.inverse = np.linalg.pinv(np.matmul(x, x.transpose(0, 2, 1)))
        self.coef = np.empty((len(sonde.names), x.shape[1]))
        self.residual = np.empty_like(sonde.readings)
        self._rows = [np.flatnonzero(sonde.group == g) for g in range(x.shape[0])]
        for g, rows in enumerate(self._rows):
            self.coef[rows] = sonde.readings[rows] @ x[g].T @ self.inverse[g]
            self.residual[rows] = sonde.readings[rows] - self.coef[rows] @ x[g]
        self._residual_by_group = [self.residual[rows] for rows in self._rows]

    @property
    def misfit(self) -> float:
        return float(np.sum((self.residual / self.sonde.sigma[:, None]) ** 2))

    def gain(self, cols: FloatArray, span: slice = slice(None)) -> FloatArray:
        """Chi-square explained by adding each trial column (groups x trials x samples in ``span``;
        zero outside it)."""
        xv = np.matmul(cols, self.design[:, :, span].transpose(0, 2, 1))
        norm = np.einsum("gts,gts->gt", cols, cols) - (np.matmul(xv, self.inverse) * xv).sum(axis=2)
        num = np.empty((self.sonde.group.size, cols.shape[1]))
        for g, rows in enumerate(self._rows):
            num[rows] = self._residual_by_group[g][:, span] @ cols[g].T
        return signed_chi2(num, norm[self.sonde.group], self.sonde)

    def chi2_without(self, index: int) -> float:
        """Chi-square the model loses when source ``index`` is dropped from it."""
        var = self.inverse[self.sonde.group, 1 + index, 1 + index]
        return float(signed_chi2(self.coef[:, 1 + index, None], var[:, None], self.sonde)[0])

    def z(self, index: int) -> FloatArray:
        """Each channel's fitted load of source ``index`` over its standard error."""
        var = self.inverse[self.sonde.group, 1 + index, 1 + index]
        return self.coef[:, 1 + index] / (self.sonde.sigma * np.sqrt(np.maximum(var, 1e-300)))


def signed_chi2(num: FloatArray, norm: FloatArray, sonde: Sonde) -> FloatArray:
    """Sum over channels of num^2 / (norm sigma^2), counting a channel only where its load has the
    sign of a discharge. ``num`` (channels x trials) is residual . column with ``norm`` the column's
    squared norm orthogonal to the model, or a fitted load with ``norm`` its variance."""
    sign = sonde.sign[:, None]
    ok = (sign == 0) | (np.sign(num) == sign)
    value = num**2 / (np.maximum(norm, 1e-300) * sonde.sigma[:, None] ** 2)
    return np.where(ok, value, 0.0).sum(axis=0)


class Head:
    """Where the boat met a source's plume head (its first ``head_m``, on the source's half of the
    river): the emission times there, weighted by the field, to ask how much of the head a
    discharge window covers."""

    def __init__(self, g: FloatArray, emitted: FloatArray, where: NDArray[np.bool_]) -> None:
        order = np.argsort(emitted[where])
        self.times = emitted[where][order]
        self.weight = np.concatenate([[0.0], np.cumsum(g[where][order])])

    @property
    def met(self) -> bool:
        return bool(self.weight[-1] > 0.0)

    def share(self, t_on: Any, t_off: Any) -> FloatArray:
        """Share of the head's field emitted within [t_on, t_off] (numbers or arrays)."""
        covered = (self.weight[np.searchsorted(self.times, t_off, side="right")]
                   - self.weight[np.searchsorted(self.times, t_on, side="left")])
        return np.asarray(covered) / max(float(self.weight[-1]), 1e-300)


@dataclass(frozen=True)
class Raw:
    """A source's unit-load field at every sample (always on), each sample's emission time
    ``t - x/u``, the field through each lag, the samples it touches (``span``, in time order,
    lag tails included), the emission times where the boat met the plume on the source's half of
    the river (the field above PLUME_MET of its most there), and where it met the plume's head."""

    g: FloatArray
    emitted: FloatArray
    lagged: FloatArray  # groups x samples
    span: slice
    met: tuple[float, float]
    head: Head


class Plumes:
    """Unit-load fields of candidate sources at the samples, cached: the searches revisit them."""

    def __init__(self, sonde: Sonde, hydro: Hydrology) -> None:
        self.sonde, self.hydro = sonde, hydro
        self._by_s = np.argsort(sonde.track.s)
        self._sorted_s = sonde.track.s[self._by_s]
        self._tail = int(LAG_TAILS * float(sonde.tau.max(initial=0.0)) / sonde.dt) + 1
        self._raw: dict[tuple[float, int], Raw] = {}
        self._columns: dict[tuple[float, int, float, float], FloatArray] = {}
        self._models: dict[tuple[tuple[float, int, float, float], ...], Model] = {}

    def raw(self, s: float, side: int) -> Raw:
        """The field of a source at ``s`` on ``side`` that is always on."""
        key = (round(s, 3), side)
        if key not in self._raw:
            sonde, hydro = self.sonde, self.hydro
            x = sonde.track.s - s
            down = self._by_s[np.searchsorted(self._sorted_s, s, side="right") :]  # x > 0
            w = sonde.width[down]
            g = np.zeros(x.size)
            g[down] = plume(x[down], sonde.y[down], side, w, sonde.depth[down], hydro.u, hydro.ey)
            span = slice(max(int(down.min(initial=x.size)) - 1, 0), min(int(down.max(initial=0)) + self._tail, x.size))
            emitted = sonde.track.t - np.maximum(x, 1.0) / hydro.u
            own = (x > 0) & (side * sonde.track.n > 0)
            self._raw[key] = Raw(g, emitted, self._lag(g, span), span, met_span(g, emitted, own),
                                  Head(g, emitted, own & (x <= hydro.head_m)))
        return self._raw[key]

    def _lag(self, g: FloatArray, span: slice) -> FloatArray:
        """``g`` (zero before ``span``) through each group's lag, over ``span`` only: groups x ..."""
        out = np.zeros((len(self.sonde.taus),) + g.shape)
        for k, tau in enumerate(self.sonde.taus):
            out[k, ..., span] = respond(g[..., span], self.sonde.dt, tau, axis=-1)
        return out

    def switched(self, src: Source) -> FloatArray:
        """The source's field where it was discharging."""
        raw = self.raw(src.s, src.side)
        return np.where((raw.emitted >= src.t_on) & (raw.emitted <= src.t_off), raw.g, 0.0)

    def columns(self, src: Source) -> FloatArray:
        """The source's model columns: its switched field through each group's lag."""
        key = _key(src)
        if key not in self._columns:
            self._columns[key] = self._lag(self.switched(src), self.raw(src.s, src.side).span)
        return self._columns[key]

    def model(self, sources: list[Source]) -> Model:
        """The model of ``sources``; the last few are kept, as the search often asks again for
        the set it has just fitted (a third of the models on a 10 km patrol)."""
        key = tuple(_key(src) for src in sources)
        if key not in self._models:
            self._models[key] = Model(self.sonde, [self.columns(src) for src in sources])
            while len(self._models) > MODELS_KEPT:
                self._models.pop(next(iter(self._models)))
        return self._models[key]

    def gains(self, model: Model, sources: list[Source]) -> FloatArray:
        """Chi-square each of ``sources`` would explain added to ``model``, less the penalty for its
        switches: exact, many trials through the lags at once."""
        spans = [self.raw(src.s, src.side).span for src in sources]
        span = slice(min(s.start for s in spans), max(s.stop for s in spans))
        g = np.array([self.switched(src)[span] for src in sources])
        return model.gain(self._lag(g, slice(None)), span) - np.array([src.penalty for src in sources])


def _key(src: Source) -> tuple[float, int, float, float]:
    """What a source's model columns depend on."""
    return round(src.s, 3), src.side, src.t_on, src.t_off


def met_span(g: FloatArray, emitted: FloatArray, where: NDArray[np.bool_]) -> tuple[float, float]:
    """Span of emission times among ``where`` samples with the field above PLUME_MET of its most."""
    times = emitted[where & (g >= PLUME_MET * g[where].max(initial=0.0))]
    return float(times.min(initial=np.inf)), float(times.max(initial=-np.inf))


def cost(plumes: Plumes, sources: list[Source]) -> float:
    """Residual chi-square plus what each source and its switches must earn: the objective."""
    return plumes.model(sources).misfit + sum(s.threshold + s.penalty for s in sources)
