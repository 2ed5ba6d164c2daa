"""Suspected hidden outfalls from a patrol log: plume sources fitted to the sonde, fused with sonar.

Spec section 3 fixes how a source shows: a plume on its own bank, nothing upstream of it, strongest
near it and decaying downstream, reaching only as far as the water has travelled since it switched
on. The river's geometry and hydrology (u, Ey, W(s), h(s)) are in the log meta, so what is unknown
about a source is its chainage and bank, when it discharged, and its load per parameter (flow x
excess), which enters linearly. So:

1. **Scan** (``_scan``): every few metres of chainage, on either bank, how much a plume head
   starting there explains near there, in chi-square units of each channel's noise, with a local
   baseline. A channel counts only when it moves the way a discharge moves it (``LOAD_SIGN``).
2. **Select** (``_select``): one model of the whole log, background plus sources, each source the
   spec's formula at every sample, switched on over a window of emission time ``t - x/u`` and
   passed through each channel's lag (``lag.respond``). Candidates (the scan's peaks and the
   sonar's pipe mouths) join greedily while one explains enough; then sources the others make
   redundant go (also when a neighbour's refitted switch times explain their plume), the rest are
   refitted together until nothing moves, and each is placed at the mean of its likelihood.
3. **Pin** (``_pin``): a source away from a pipe mouth moves to one near it on its bank if the
   plume fits from there nearly as well; a mouth with no plume is still reported, less sure.

Every choice between models is by chi-square net of what each source (ACCEPT, or ACCEPT_MOUTH at a
pipe mouth) and each switch (SWITCH_PENALTY) must earn: ``_cost``.

The lag is modelled, not inverted, for the fit: the readings' noise is white, so chi-square and the
curvature of its profile over chainage (a source's uncertainty) are honest. ``lag.compensate``
gives the peak excesses reported as evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from riverpatrol.analysis.findings import Finding
from riverpatrol.analysis.lag import compensate, respond
from riverpatrol.analysis.sonar_targets import SonarTarget, find_targets
from riverpatrol.analysis.track import Fixes, Pass, Track, passes, river_frame
from riverpatrol.geo.frame import FloatArray, RiverFrame
from riverpatrol.patrollog import PatrolLog

# Which way a discharge moves each parameter: +1 up, -1 down (oxygen demand), 0 either way.
LOAD_SIGN = {"conductivity": 1, "turbidity": 1, "nh3n": 1, "codmn": 1, "cod": 1, "tp": 1,
             "do": -1, "temperature": 0, "ph": 0}
ACCEPT = 30.0  # chi-square a source must explain given all the others (noise alone: 22 at most) ...
ACCEPT_MOUTH = 16.0  # ... or, at a pipe mouth seen on sonar, to count as discharging
SWITCH_PENALTY = 9.0  # chi-square a fitted switch on or off must earn (about ln N, as in BIC)
SCAN_STEPS = 30  # scan steps per plume head (at least SCAN_STEP_M): finer would find nothing new
SCAN_STEP_M = 2.0
HEAD_M = 60.0  # the head of a plume, where its shape says where it starts: at least this, ...
HEAD_PEAKS = 2.5  # ... or this many times the distance at which it peaks in the boat's lane
SCAN_LEAD_M = 30.0  # clean water upstream of the head, for the scan's local baseline
REFINE_M = 12.0  # chainage searched round a new source
COARSE_M = 6.0  # chainage steps of that search, then ...
FINE_M = 1.0  # ... round the best
MIN_SIGMA_M = 0.5  # floor of a plume source's chainage uncertainty (lane position, GNSS)
PROFILE_M = 30.0  # a source's likelihood over chainage is weighed this far either side ...
PROFILE_STEP_M = 3.0  # ... at these steps
SAME_M = 15.0  # sources on one bank closer than this are one source
POLISH_ROUNDS = 2
BORROWER_CHI2 = 8.0  # sources explaining less than this many thresholds are tested for borrowing ...
BORROWER_M = 100.0  # ... and so are those this close downstream of another on their bank
LENDER_M = 1000.0  # a source's plume can stand in for one this far downstream on its bank
KIND_MARGIN = 50.0  # kinds of activity fitted exactly: those within this chi-square of the best
SWITCH_POINTS = 40  # candidate switch times per source: quantiles of emission time where it shows
EXACT_TRIALS = 8  # switch times tried exactly round the best of those
SUPPORT = 1e-2  # where a source's field is below this share of its peak, switching it is not scored
PLUME_MET = 0.2  # where a source's field is above this share of its peak, the boat met its plume
HEAD_SHARE = 0.5  # share of the plume head met that a source away from a pipe mouth must cover
PIN_M = 75.0  # a pipe mouth this close on the same bank may be a source's outlet ...
PIN_CHI2 = 25.0  # ... if the plume fits from there within this chi-square of its best
SIGNIFICANT_Z = 3.0  # a parameter is evidence when its fitted load is this many sigmas from zero
LAG_TAILS = 10.0  # a lagged response has died out this many time constants after its input


@dataclass(frozen=True)
class Hydrology:
    """The reach as the boat's map has it: frame (W, h per s), current u, transverse dispersion Ey."""

    frame: RiverFrame
    u: float
    ey: float
    head_m: float = HEAD_M  # length of a plume's head in the boat's lane (``_head_length``)


@dataclass(frozen=True)
class Sonde:
    """The sonde series on the track: readings (channels x samples), noise, lag, sign of a load."""

    names: tuple[str, ...]
    readings: FloatArray
    sigma: FloatArray
    tau: FloatArray
    sign: NDArray[np.int_]
    dt: float
    track: Track
    y: FloatArray  # lateral position from the right bank
    width: FloatArray
    depth: FloatArray
    taus: FloatArray  # the distinct time constants: lag groups, whose channels share model columns
    group: NDArray[np.intp]  # each channel's lag group (index into taus)


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


def detect_outfalls(log: PatrolLog) -> list[Finding]:
    """Suspected outfalls in a patrol log, most confident first (see the module docstring)."""
    river = log.meta["river"]
    hydro = Hydrology(river_frame(log.meta), float(river["velocity_mps"]), float(river["transverse_dispersion_m2ps"]))
    fixes = Fixes.from_log(log, hydro.frame)
    sonde = _sonde(log, fixes, hydro.frame)
    runs = passes(sonde.track, hydro.frame)
    hydro = replace(hydro, head_m=_head_length(hydro, sonde, runs))
    targets = find_targets(log, fixes, hydro.frame)
    if not sonde.names or not runs:
        return [_mouth_finding(t) for t in targets]
    plumes = _Plumes(sonde, hydro)
    sources = _pin(plumes, _select(plumes, runs, targets), targets)
    return _findings(plumes, sources, targets, runs)


def _head_length(hydro: Hydrology, sonde: Sonde, runs: list[Pass]) -> float:
    """How far downstream a plume's head reaches in the boat's lane along a bank: a plume first
    reaches a lane ``d`` off its bank, and peaks there, about ``u d^2 / (2 Ey)`` downstream
    (a fast current and slow mixing carry it a hundred metres and more before the boat sees it)."""
    banked = [r for r in runs if r.bank]
    if not banked:
        return HEAD_M
    index = np.concatenate([np.arange(r.start, r.stop) for r in banked])
    lane = float(np.median(sonde.width[index] / 2.0 - np.abs(sonde.track.n[index])))
    return max(HEAD_M, HEAD_PEAKS * hydro.u * max(lane, 0.0) ** 2 / (2.0 * hydro.ey))


# ---- the plume model ----------------------------------------------------------------------------

def plume(x: FloatArray, y: FloatArray, y_src: FloatArray | float, width: FloatArray, depth: FloatArray,
          u: float, ey: float, images: int = 3) -> FloatArray:
    """Spec section 3 for a unit load (flow x excess = 1) at distance ``x`` downstream of the source,
    lateral position ``y`` from the right bank, source at ``y_src`` (0 or W); zero for ``x <= 0``.
    ``images`` pairs of reflections each side (3 in the spec; near a source one is plenty)."""
    x, y, y_src, width, depth = np.broadcast_arrays(x, y, y_src, width, depth)
    out = np.zeros(x.shape)
    hit = x > 0
    x, y, y_src, width, depth = x[hit], y[hit], y_src[hit], width[hit], depth[hit]
    spread = 4.0 * ey * np.maximum(x, 1.0) / u
    total = np.zeros(x.shape)
    for k in range(-images, images + 1):
        shift = 2.0 * k * width
        total += np.exp(-((y - y_src - shift) ** 2) / spread) + np.exp(-((y + y_src - shift) ** 2) / spread)
    out[hit] = total / (depth * u * np.sqrt(np.pi * spread))
    return out


class _Model:
    """Least squares of every channel on [1, lagged source columns]: the design per lag group
    (groups x samples x terms), fitted loads (channels x terms), residuals."""

    def __init__(self, sonde: Sonde, columns: list[FloatArray]) -> None:
        self.sonde = sonde
        count = sonde.readings.shape[1]
        x = np.ones((len(sonde.taus), count, 1 + len(columns)))
        for c, column in enumerate(columns):
            x[:, :, 1 + c] = column
        self.design = x
        self.inverse = np.linalg.pinv(np.matmul(x.transpose(0, 2, 1), x))
        self.coef = np.empty((len(sonde.names), x.shape[2]))
        self.residual = np.empty_like(sonde.readings)
        for g in range(x.shape[0]):
            rows = sonde.group == g
            self.coef[rows] = sonde.readings[rows] @ x[g] @ self.inverse[g]
            self.residual[rows] = sonde.readings[rows] - self.coef[rows] @ x[g].T

    @property
    def misfit(self) -> float:
        return float(np.sum((self.residual / self.sonde.sigma[:, None]) ** 2))

    def gain(self, cols: FloatArray, span: slice = slice(None)) -> FloatArray:
        """Chi-square explained by adding each trial column (groups x trials x samples in ``span``;
        zero outside it)."""
        xv = np.matmul(cols, self.design[:, span])
        norm = np.einsum("gts,gts->gt", cols, cols) - (np.matmul(xv, self.inverse) * xv).sum(axis=2)
        group = self.sonde.group
        num = np.empty((group.size, cols.shape[1]))
        for g in range(cols.shape[0]):
            rows = group == g
            num[rows] = self.residual[rows, span] @ cols[g].T
        return _signed_chi2(num, norm[group], self.sonde)

    def chi2_without(self, index: int) -> float:
        """Chi-square the model loses when source ``index`` is dropped from it."""
        var = self.inverse[self.sonde.group, 1 + index, 1 + index]
        return float(_signed_chi2(self.coef[:, 1 + index, None], var[:, None], self.sonde)[0])

    def z(self, index: int) -> FloatArray:
        """Each channel's fitted load of source ``index`` over its standard error."""
        var = self.inverse[self.sonde.group, 1 + index, 1 + index]
        return self.coef[:, 1 + index] / (self.sonde.sigma * np.sqrt(np.maximum(var, 1e-300)))


def _signed_chi2(num: FloatArray, norm: FloatArray, sonde: Sonde) -> FloatArray:
    """Sum over channels of num^2 / (norm sigma^2), counting a channel only where its load has the
    sign of a discharge. ``num`` (channels x trials) is residual . column with ``norm`` the column's
    squared norm orthogonal to the model, or a fitted load with ``norm`` its variance."""
    sign = sonde.sign[:, None]
    ok = (sign == 0) | (np.sign(num) == sign)
    value = num**2 / (np.maximum(norm, 1e-300) * sonde.sigma[:, None] ** 2)
    return np.where(ok, value, 0.0).sum(axis=0)


class _Head:
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
class _Raw:
    """A source's unit-load field at every sample (always on), each sample's emission time
    ``t - x/u``, the field through each lag, the samples it touches (``span``, in time order,
    lag tails included), the emission times where the boat met the plume on the source's half of
    the river (the field above PLUME_MET of its most there), and where it met the plume's head."""

    g: FloatArray
    emitted: FloatArray
    lagged: FloatArray  # groups x samples
    span: slice
    met: tuple[float, float]
    head: _Head


class _Plumes:
    """Unit-load fields of candidate sources at the samples, cached: the searches revisit them."""

    def __init__(self, sonde: Sonde, hydro: Hydrology) -> None:
        self.sonde, self.hydro = sonde, hydro
        self._by_s = np.argsort(sonde.track.s)
        self._sorted_s = sonde.track.s[self._by_s]
        self._tail = int(LAG_TAILS * float(sonde.tau.max(initial=0.0)) / sonde.dt) + 1
        self._raw: dict[tuple[float, int], _Raw] = {}
        self._columns: dict[tuple[float, int, float, float], FloatArray] = {}

    def raw(self, s: float, side: int) -> _Raw:
        """The field of a source at ``s`` on ``side`` that is always on."""
        key = (round(s, 3), side)
        if key not in self._raw:
            sonde, hydro = self.sonde, self.hydro
            x = sonde.track.s - s
            down = self._by_s[np.searchsorted(self._sorted_s, s, side="right") :]  # x > 0
            w = sonde.width[down]
            g = np.zeros(x.size)
            g[down] = plume(x[down], sonde.y[down], w if side > 0 else 0.0, w, sonde.depth[down], hydro.u, hydro.ey)
            span = slice(max(int(down.min(initial=x.size)) - 1, 0), min(int(down.max(initial=0)) + self._tail, x.size))
            emitted = sonde.track.t - np.maximum(x, 1.0) / hydro.u
            own = (x > 0) & (side * sonde.track.n > 0)
            self._raw[key] = _Raw(g, emitted, self._lag(g, span), span, _met(g, emitted, own),
                                  _Head(g, emitted, own & (x <= hydro.head_m)))
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
        key = (round(src.s, 3), src.side, src.t_on, src.t_off)
        if key not in self._columns:
            self._columns[key] = self._lag(self.switched(src), self.raw(src.s, src.side).span)
        return self._columns[key]

    def model(self, sources: list[Source]) -> _Model:
        return _Model(self.sonde, [self.columns(src) for src in sources])

    def gains(self, model: _Model, sources: list[Source]) -> FloatArray:
        """Chi-square each of ``sources`` would explain added to ``model``, less the penalty for its
        switches: exact, many trials through the lags at once."""
        spans = [self.raw(src.s, src.side).span for src in sources]
        span = slice(min(s.start for s in spans), max(s.stop for s in spans))
        g = np.array([self.switched(src)[span] for src in sources])
        return model.gain(self._lag(g, slice(None)), span) - np.array([src.penalty for src in sources])


def _met(g: FloatArray, emitted: FloatArray, where: NDArray[np.bool_]) -> tuple[float, float]:
    """Span of emission times among ``where`` samples with the field above PLUME_MET of its most."""
    times = emitted[where & (g >= PLUME_MET * g[where].max(initial=0.0))]
    return float(times.min(initial=np.inf)), float(times.max(initial=-np.inf))


# ---- step 1: scan -------------------------------------------------------------------------------

def _scan(sonde: Sonde, hydro: Hydrology, runs: list[Pass]) -> tuple[FloatArray, FloatArray]:
    """Chi-square of a plume head at each grid chainage on each bank: (grid, stat[side, grid])."""
    grid = np.arange(0.0, hydro.frame.length, _scan_step(hydro))
    num = np.zeros((2, len(sonde.names), grid.size))
    den = np.zeros((2, len(sonde.names), grid.size))
    for run in runs:
        index = np.arange(run.start, run.stop)
        s = sonde.track.s[index]
        near = np.flatnonzero((grid >= s.min() - hydro.head_m) & (grid <= s.max() + SCAN_LEAD_M))
        key = np.maximum.accumulate(s * run.direction)  # progress along the run
        lo, hi = grid[near] - SCAN_LEAD_M, grid[near] + hydro.head_m
        first = np.searchsorted(key, lo if run.direction > 0 else -hi)
        last = np.searchsorted(key, hi if run.direction > 0 else -lo, side="right")
        span = int(np.max(last - first, initial=0))
        if span < 3:
            continue
        j = first[:, None] + np.arange(span)[None, :]
        valid = j < last[:, None]
        k = index[np.minimum(j, index.size - 1)]
        count = np.maximum(valid.sum(axis=1), 1)
        data = sonde.readings[:, k] * valid
        data -= (data.sum(axis=2) / count)[:, :, None] * valid
        for side_index, side in enumerate((-1, 1)):
            g = plume(sonde.track.s[k] - grid[near, None], sonde.y[k], sonde.width[k] if side > 0 else 0.0,
                      sonde.width[k], sonde.depth[k], hydro.u, hydro.ey, images=1) * valid
            for group, tau in enumerate(sonde.taus):
                rows = np.flatnonzero(sonde.group == group)
                v = respond(g, sonde.dt, tau, axis=1) * valid
                v -= (v.sum(axis=1) / count)[:, None] * valid
                num[side_index, rows[:, None], near] += np.einsum("pcj,cj->pc", data[rows], v)
                den[side_index, rows[:, None], near] += np.einsum("cj,cj->c", v, v)[None, :]
    stat = np.stack([_signed_chi2(num[i], den[i], sonde) for i in range(2)])
    return grid, stat


def _scan_step(hydro: Hydrology) -> float:
    return max(SCAN_STEP_M, hydro.head_m / SCAN_STEPS)


def _peaks(grid: FloatArray, stat: FloatArray, floor: float) -> list[Source]:
    """Sources at the local maxima of the scan above ``floor``, with the scan's value as chi2."""
    radius = max(1, int(SAME_M / 2 / (grid[1] - grid[0]))) if grid.size > 1 else 1
    found = []
    for side_index, side in enumerate((-1, 1)):
        row = stat[side_index]
        windows = np.lib.stride_tricks.sliding_window_view(np.pad(row, radius, constant_values=-np.inf),
                                                           2 * radius + 1)
        top = (row >= windows.max(axis=1)) & (row > floor)
        found += [Source(float(grid[i]), side, chi2=float(row[i])) for i in np.flatnonzero(top)]
    return found


# ---- when a source discharged ------------------------------------------------------------------

class _Switches:
    """Chi-square explained by a source discharging over a run of its support, the support in
    emission-time order, for runs between ``cuts`` (positions in that order): sums over the stretches
    between cuts, accumulated, make every run cost the same, with the switching applied after the
    lag (close, and exact where it matters once ``_exact_switches`` has moved the ends)."""

    def __init__(self, sonde: Sonde, model: _Model, raw: _Raw, order: NDArray[np.intp],
                 cuts: NDArray[np.intp]) -> None:
        self.sonde, self.model, self.cuts = sonde, model, cuts
        self.te = raw.emitted[order]
        v = raw.lagged[:, order]  # groups x support
        starts = cuts[:-1]

        def accumulated(parts: FloatArray) -> FloatArray:  # stretch sums along axis 1, from zero
            sums = np.cumsum(np.add.reduceat(parts, starts, axis=1), axis=1)
            return np.concatenate([np.zeros_like(sums[:, :1]), sums], axis=1)

        self.vv = accumulated(v * v)  # groups x cuts
        self.xv = accumulated(model.design[:, order, :] * v[:, :, None])  # groups x cuts x terms
        self.rv = accumulated(model.residual[:, order] * v[sonde.group])  # channels x cuts

    def chi2(self, i: NDArray[np.intp], j: NDArray[np.intp]) -> FloatArray:
        """Chi-square explained when discharging over positions ``[i, j)`` (both among the cuts)."""
        a, b = np.searchsorted(self.cuts, i), np.searchsorted(self.cuts, j)
        vv, rv = self.vv[:, b] - self.vv[:, a], self.rv[:, b] - self.rv[:, a]
        xv = self.xv[:, b] - self.xv[:, a]  # groups x trials x terms
        norm = vv - (np.matmul(xv, self.model.inverse) * xv).sum(axis=2)
        return _signed_chi2(rv, norm[self.sonde.group], self.sonde)

    def times(self, i: NDArray[np.intp], j: NDArray[np.intp]) -> tuple[FloatArray, FloatArray]:
        """(t_on, t_off) of positions ``[i, j)``: open where they start or end the support."""
        last = self.te.size
        return (np.where(i > 0, self.te[np.minimum(i, last - 1)], -np.inf),
                np.where(j < last, self.te[np.maximum(j - 1, 0)], np.inf))


def _activity(plumes: _Plumes, model: _Model, src: Source, exact: bool = False, simple: bool = False) -> list[Source]:
    """The source with the discharge window that explains most given ``model``, one per kind of
    activity (on throughout; switched on; switched off; on for a while; only the first two when
    ``simple``), chi-square net of its switches' penalty, best first.

    Unless it sits at a pipe mouth, the source must have been on over most (HEAD_SHARE) of the
    plume head the boat met: a plume cut off from its source does not say where the source is.
    It switches only at emission times where the boat met its plume on its own half of the river:
    across the river its plume is thin and late, and a switch timed there would only carve out
    another's plume. Windows run between SWITCH_POINTS quantiles of emission time; with ``exact``
    the kinds near the best have their ends moved exactly.
    """
    raw = plumes.raw(src.s, src.side)
    support = np.flatnonzero(raw.g > SUPPORT * raw.g.max(initial=0.0))
    anchored = src.mouth is not None
    if support.size == 0 or (not anchored and not raw.head.met):
        return []
    order = support[np.argsort(raw.emitted[support])]
    cuts = np.unique(np.linspace(0, order.size, SWITCH_POINTS + 1).astype(int))
    table = _Switches(plumes.sonde, model, raw, order, cuts)
    i, j = (cuts[a] for a in np.triu_indices(cuts.size, 1))
    t_on, t_off = table.times(i, j)
    score = table.chi2(i, j) - SWITCH_PENALTY * (np.isfinite(t_on).astype(float) + np.isfinite(t_off))
    seen = ((t_on == -np.inf) | ((t_on >= raw.met[0]) & (t_on <= raw.met[1])))
    seen &= (t_off == np.inf) | ((t_off >= raw.met[0]) & (t_off <= raw.met[1]))
    if not anchored:
        seen &= raw.head.share(t_on, t_off) >= HEAD_SHARE
    if simple:
        seen &= t_off == np.inf
    score[~seen] = -np.inf
    kind = np.isfinite(t_on) * 2 + np.isfinite(t_off)
    found = []
    for k in np.unique(kind[np.isfinite(score)]):
        best = int(np.flatnonzero(kind == k)[np.argmax(score[kind == k])])
        found.append(replace(src, t_on=float(t_on[best]), t_off=float(t_off[best]), chi2=float(score[best])))
    found.sort(key=lambda f: -f.chi2)
    if exact and found:
        found = [_exact_switches(plumes, model, f, table.te, raw.head) if f.chi2 >= found[0].chi2 - KIND_MARGIN
                 else f for f in found]
        found.sort(key=lambda f: -f.chi2)
    return found


def _exact_switches(plumes: _Plumes, model: _Model, src: Source, te: FloatArray, head: _Head) -> Source:
    """``src`` with each switch time moved to where it fits best, scored exactly: the approximate
    table puts a switch within a quantile of emission time, so each end is tried across the
    quantiles either side of it (keeping the source on over most of its ``head``)."""
    step = max(1, te.size // SWITCH_POINTS)
    best = replace(src, chi2=float(plumes.gains(model, [src])[0]))
    for end in ("t_on", "t_off"):
        at = getattr(best, end)
        if not np.isfinite(at):
            continue
        k = int(np.searchsorted(te, at))
        times = te[np.unique(np.linspace(max(k - step, 0), min(k + step, te.size - 1), EXACT_TRIALS).astype(int))]
        trials = [best] + [replace(best, **{end: float(t)}) for t in times]
        trials = [t for t in trials if t.t_on < t.t_off
                  and (t.mouth is not None or float(head.share(t.t_on, t.t_off)) >= HEAD_SHARE)]
        gains = plumes.gains(model, trials)
        best = replace(trials[int(np.argmax(gains))], chi2=float(gains.max()))
    return best


def _kind(src: Source) -> tuple[bool, bool]:
    return bool(np.isfinite(src.t_on)), bool(np.isfinite(src.t_off))


# ---- step 2: select and refine -------------------------------------------------------------------

def _select(plumes: _Plumes, runs: list[Pass], targets: list[SonarTarget]) -> list[Source]:
    """Sources chosen greedily among the scan's peaks and the sonar's pipe mouths, first with at
    most a switch on, then with their full activity; then polished until nothing moves.

    A switch off comes second because it is flexible: a strong source taken first with a free
    window can borrow a weaker neighbour's plume, and the neighbour then never earns its place.
    A source at a pipe mouth is not moved and needs only ACCEPT_MOUTH: its place is known, so the
    plume only has to show that it discharged."""
    grid, stat = _scan(plumes.sonde, plumes.hydro, runs)
    candidates = _peaks(grid, stat, ACCEPT / 2)
    candidates += [Source(t.s, 1 if t.bank == "left" else -1, mouth=t) for t in targets]
    chosen = _prune(plumes, _grow(plumes, [], candidates, simple=True))
    return _locate(plumes, _polish(plumes, _grow(plumes, chosen, candidates, simple=False)))


def _grow(plumes: _Plumes, chosen: list[Source], candidates: list[Source], simple: bool) -> list[Source]:
    """Candidates added greedily while one explains enough given those already chosen. Lazily: a
    candidate's gain nearly always shrinks as others join, so one still ahead when re-scored is
    taken as the best. After each addition its lenders' activity is refitted: they may have
    borrowed its plume."""
    model = plumes.model(chosen)
    pool = [(replace(c, chi2=np.inf), -1) for c in candidates if not _taken(c, chosen)]
    while pool:
        pool.sort(key=lambda entry: -entry[0].chi2)
        top, scored_with = pool[0]
        if scored_with != len(chosen):
            found = _activity(plumes, model, top, simple=simple)
            pool[0] = (found[0] if found else replace(top, chi2=-np.inf), len(chosen))
            continue
        if top.chi2 < top.threshold:
            break
        new = _refine(plumes, model, top, REFINE_M, simple)
        chosen = _rewindow_some(plumes, chosen + [new], _lenders(chosen, new), False, simple)
        model = plumes.model(chosen)
        pool = [(p, n) for p, n in pool[1:] if not _taken(p, chosen)]
    return chosen


def _taken(candidate: Source, chosen: list[Source]) -> bool:
    """Whether a source on the candidate's bank within SAME_M, or at its pipe mouth, is chosen."""
    return any((c.side == candidate.side and abs(c.s - candidate.s) < SAME_M)
               or (candidate.mouth is not None and c.mouth is candidate.mouth) for c in chosen)


def _polish(plumes: _Plumes, chosen: list[Source]) -> list[Source]:
    """Redundant sources dropped (first round: also those ``_drop_borrowers`` finds) and the rest
    refitted one by one given the others (activity, then chainage within COARSE_M), until nothing
    moves; returns them with their loads and significance."""
    for round_ in range(POLISH_ROUNDS):
        before = chosen
        chosen = _prune(plumes, chosen)
        if round_ == 0:
            chosen = _drop_borrowers(plumes, chosen)
        for i in range(len(chosen)):
            chosen[i] = _refine(plumes, plumes.model(chosen[:i] + chosen[i + 1 :]), chosen[i], 0.0, False)
        if len(chosen) == len(before) and all(abs(a.s - b.s) < FINE_M / 2 for a, b in zip(chosen, before)):
            break
    return _prune(plumes, chosen)


def _prune(plumes: _Plumes, chosen: list[Source]) -> list[Source]:
    """Drop, weakest first, sources that explain less than their threshold given all the others,
    or that sit within SAME_M of a stronger one on their bank; the rest get their final loads
    and significance."""
    while chosen:
        model = plumes.model(chosen)
        kept = np.array([model.chi2_without(i) for i in range(len(chosen))])
        shadowed = [any(o.side == c.side and abs(o.s - c.s) < SAME_M and kept[k] > kept[i]
                        for k, o in enumerate(chosen)) for i, c in enumerate(chosen)]
        weak = np.flatnonzero((kept < [c.threshold for c in chosen]) | np.array(shadowed))
        if weak.size == 0:
            return [replace(src, chi2=float(kept[i]), load=model.coef[:, 1 + i], z=model.z(i))
                    for i, src in enumerate(chosen)]
        drop = int(weak[np.argmin(kept[weak])])
        chosen = chosen[:drop] + chosen[drop + 1 :]
    return []


def _drop_borrowers(plumes: _Plumes, chosen: list[Source]) -> list[Source]:
    """Drop a source, weakest first, when the others explain the log as well for less (``_cost``)
    with their activity refitted without it: a source can live off a plume that one of its lenders
    would explain had that one's switch times not been fitted with it already there. Tried for
    weak sources and for any within BORROWER_M below another. The lenders are refitted both from
    where they are and afresh, as either can get stuck."""
    for src in sorted(chosen, key=lambda c: c.chi2):
        if src not in chosen:
            continue
        rest = [c for c in chosen if c is not src]
        lenders = _lenders(rest, src)
        nearest = min((src.s - rest[i].s for i in lenders), default=np.inf)
        if not lenders or (src.chi2 > BORROWER_CHI2 * src.threshold and nearest > BORROWER_M):
            continue
        refits = [_rewindow_some(plumes, rest, lenders, fresh) for fresh in (False, True)]
        costs = [_cost(plumes, r) for r in refits]
        if min(costs) < _cost(plumes, chosen):
            chosen = refits[int(np.argmin(costs))]
    return chosen


def _locate(plumes: _Plumes, chosen: list[Source]) -> list[Source]:
    """Each source away from a pipe mouth placed at the mean of its chainage's likelihood,
    ``exp(chi2 / 2)`` over PROFILE_M either side (its switch times held), with that spread as its
    uncertainty: where the plume fits nearly as well over tens of metres (a fast current, slow
    mixing, a weak source), the middle of that stretch is the better guess than its highest point."""
    located = []
    for i, src in enumerate(chosen):
        if src.mouth is None:
            model = plumes.model(chosen[:i] + chosen[i + 1 :])
            trials = [replace(src, s=float(s)) for s in src.s + np.arange(-PROFILE_M, PROFILE_M + 1e-9, PROFILE_STEP_M)]
            gains = plumes.gains(model, trials)
            weight = np.exp((gains - gains.max()) / 2.0)
            where = np.array([t.s for t in trials])
            mean = float(where @ weight / weight.sum())
            spread = float(np.sqrt(((where - mean) ** 2) @ weight / weight.sum()))
            src = replace(src, s=mean, sigma_m=max(src.sigma_m, spread))
        located.append(src)
    return _prune(plumes, located)


def _lenders(sources: list[Source], src: Source) -> list[int]:
    """Indices of sources whose plume, with its switch times fitted to suit, could stand in for
    part of the plume of ``src``: upstream on its bank within LENDER_M, or at a pipe mouth just
    downstream (within PIN_M: a plume fitted a little upstream of its pipe)."""
    return [i for i, c in enumerate(sources) if c.side == src.side
            and (0 < src.s - c.s <= LENDER_M or (c.mouth is not None and 0 < c.s - src.s <= PIN_M))]


def _rewindow_some(plumes: _Plumes, sources: list[Source], which: list[int], fresh: bool,
                   simple: bool = False) -> list[Source]:
    """Sources ``which`` with their activity refitted given the others, strongest first;
    ``fresh``: starting from discharging throughout, twice over."""
    out = list(sources)
    if fresh:
        for i in which:
            out[i] = replace(out[i], t_on=-np.inf, t_off=np.inf)
    for _ in range(2 if fresh else 1):
        for i in sorted(which, key=lambda k: -sources[k].chi2):
            out[i] = _rewindow(plumes, out, i, simple)
    return out


def _rewindow(plumes: _Plumes, sources: list[Source], i: int, simple: bool) -> Source:
    """Source ``i`` with the activity that fits best given the others, if better than its own."""
    model = plumes.model(sources[:i] + sources[i + 1 :])
    trials = _activity(plumes, model, sources[i], exact=True, simple=simple)
    own = float(plumes.gains(model, [sources[i]])[0])
    return trials[0] if trials and trials[0].chi2 > own else sources[i]


def _cost(plumes: _Plumes, sources: list[Source]) -> float:
    """Residual chi-square plus what each source and its switches must earn: the objective."""
    return plumes.model(sources).misfit + sum(s.threshold + s.penalty for s in sources)


def _refine(plumes: _Plumes, model: _Model, src: Source, reach: float, simple: bool) -> Source:
    """Best chainage within ``reach`` of ``src`` (held at a pipe mouth), its activity, and its
    1-sigma chainage uncertainty from the curvature of the profile chi-square; never worse than
    ``src`` itself.

    Each kind of activity that fits nearly as well as the best at ``src`` is searched in turn: its
    switch times held (they are physical times) over a coarse grid of chainage, refitted exactly
    at the best, then searched finely round it. A plume that started recently and one cut off
    from a source upstream can look alike on one pass, tens of metres apart.
    """
    if src.mouth is not None:
        fits = _activity(plumes, model, src, exact=True, simple=simple)
        return replace(fits[0] if fits else src, sigma_m=src.mouth.sigma_m)
    kinds = _activity(plumes, model, src, simple=simple)
    results = [_fine(plumes, model, src)]
    for start in kinds:
        if start.chi2 < kinds[0].chi2 - KIND_MARGIN:
            continue
        coarse = [replace(start, s=float(s)) for s in src.s + np.arange(-reach, reach + 1e-9, COARSE_M)]
        best = coarse[int(np.argmax(plumes.gains(model, coarse)))]
        exact = [t for t in _activity(plumes, model, best, exact=True, simple=simple) if _kind(t) == _kind(start)]
        results.append(_fine(plumes, model, exact[0] if exact else best))
    return max(results, key=lambda r: r.chi2)


def _fine(plumes: _Plumes, model: _Model, start: Source) -> Source:
    """The best chainage within COARSE_M of ``start``, its switches held, at FINE_M steps."""
    fine = [replace(start, s=float(start.s + d)) for d in np.arange(-COARSE_M, COARSE_M + 1e-9, FINE_M)]
    gains = plumes.gains(model, fine)
    top = int(np.argmax(gains))
    return replace(fine[top], chi2=float(gains[top]), sigma_m=_curvature_sigma(fine, gains, top))


def _curvature_sigma(trials: list[Source], gains: FloatArray, top: int) -> float:
    """Where the profile chi-square falls by 1 from its top, from a parabola through the trials."""
    d2 = (np.array([t.s for t in trials]) - trials[top].s) ** 2
    drop = gains[top] - gains
    curvature = float(d2 @ drop / (d2 @ d2)) if d2.any() else 0.0
    return float(np.clip(1.0 / np.sqrt(curvature) if curvature > 0 else REFINE_M, MIN_SIGMA_M, REFINE_M))


# ---- step 3: pin to pipe mouths -----------------------------------------------------------------

def _pin(plumes: _Plumes, sources: list[Source], targets: list[SonarTarget]) -> list[Source]:
    """Sources not at a pipe mouth moved to free mouths on their bank, strongest first: the sonar
    sees the mouth itself, while a weak or intermittent plume places its source only roughly.

    A source may go to a mouth within PIN_M, or be split among all those (weak outfalls side by
    side blend into one plume), if the whole then fits within PIN_CHI2 of what it did (``_cost``;
    a mouth's lower threshold is the sonar's say); a mouth within SAME_M takes it whatever the fit.
    It may also go to a mouth up to LENDER_M upstream if that fits at least as well: its plume is
    then one cut off from that pipe, which stopped before the boat came by."""
    free = [t for t in targets if all(s.mouth is not t for s in sources)]
    current = list(sources)
    for src in sorted((s for s in sources if s.mouth is None), key=lambda s: -s.chi2):
        bank = "left" if src.side > 0 else "right"
        mine = sorted((t for t in free if t.bank == bank and -PIN_M <= src.s - t.s <= LENDER_M),
                      key=lambda t: abs(t.s - src.s))
        if not mine:
            continue
        near = [t for t in mine if abs(t.s - src.s) <= PIN_M]
        rest = [c for c in current if c is not src]
        model = plumes.model(rest)
        at = {id(t): _refine(plumes, model, replace(src, s=t.s, mouth=t), 0.0, False) for t in mine}
        options = [[t] for t in mine] + ([near] if len(near) > 1 else [])
        trials = [_rewindow_some(plumes, rest + [at[id(t)] for t in mouths],
                                 list(range(len(rest), len(rest) + len(mouths))), fresh=False) for mouths in options]
        slack = [PIN_CHI2 if all(abs(t.s - src.s) <= PIN_M for t in mouths) else 0.0 for mouths in options]
        before = _cost(plumes, current)
        excess = [_cost(plumes, t) - before - allowed for t, allowed in zip(trials, slack)]
        best = int(np.argmin(excess))
        if excess[best] > 0 and abs(mine[0].s - src.s) < SAME_M:
            best = 0  # the nearest mouth, right by it
        elif excess[best] > 0:
            continue
        current = trials[best]
        free = [t for t in free if all(t is not m for m in options[best])]
    return _prune(plumes, current)


# ---- findings -----------------------------------------------------------------------------------

def _findings(plumes: _Plumes, sources: list[Source], targets: list[SonarTarget], runs: list[Pass]) -> list[Finding]:
    """Findings from plume sources (with their pipe mouth, if at one) and from pipe mouths with no
    plume, most confident first."""
    sonde = plumes.sonde
    background = plumes.model(sources).coef[:, 0]
    excess = np.array([compensate(sonde.readings[p], sonde.dt, sonde.tau[p]) for p in range(len(sonde.names))])
    excess -= background[:, None]
    findings = []
    for src in sources:
        evidence = _plume_evidence(plumes, src, excess, runs)
        confidence = _plume_confidence(src.chi2)
        if src.mouth is not None:
            evidence["sonar"] = src.mouth.evidence()
            confidence = 1.0 - (1.0 - confidence) * (1.0 - src.mouth.confidence)
        findings.append(Finding(s=src.s, bank="left" if src.side > 0 else "right", confidence=confidence,
                                uncertainty_m=src.sigma_m, evidence=evidence))
    findings += [_mouth_finding(t) for t in targets if all(s.mouth is not t for s in sources)]
    return sorted(findings, key=lambda f: -f.confidence)


def _mouth_finding(target: SonarTarget) -> Finding:
    evidence = {"parameters": {}, "sonar": target.evidence(),
                "notes": ["pipe mouth on side-scan sonar; no discharge observed on this patrol"]}
    return Finding(s=target.s, bank=target.bank, confidence=0.5 * target.confidence,
                   uncertainty_m=target.sigma_m, evidence=evidence)


def _plume_evidence(plumes: _Plumes, src: Source, excess: FloatArray, runs: list[Pass]) -> dict[str, Any]:
    """Per parameter that moved significantly: fitted load, significance, and the largest
    lag-compensated excess where the boat met the plume; the passes that met it; when it was on."""
    g = plumes.switched(src)
    met = np.flatnonzero(g >= PLUME_MET * g.max(initial=0.0))
    sonde = plumes.sonde
    track = sonde.track
    parameters = {}
    for p in np.flatnonzero(np.abs(src.z) >= SIGNIFICANT_Z):
        pick = met[np.argmax(np.sign(src.load[p]) * excess[p, met])] if met.size else 0
        parameters[sonde.names[p]] = {
            "load": float(f"{src.load[p]:.4g}"),  # flow x excess, m3/s x unit
            "z": round(float(src.z[p]), 1),
            "peak_excess": float(f"{excess[p, pick]:.4g}"),
            "at": {"chainage_m": round(float(track.s[pick]), 1), "offset_m": round(float(track.n[pick]), 1),
                   "t_s": round(float(track.t[pick]), 1)},
        }
    notes = []
    if np.isfinite(src.t_on):
        notes.append(f"discharge seen starting about t={src.t_on:.0f} s (emission time)")
    if np.isfinite(src.t_off):
        notes.append(f"discharge seen stopping about t={src.t_off:.0f} s (emission time)")
    seen_on = [{"bank": r.bank or "mid", "direction": "downstream" if r.direction > 0 else "upstream"}
               for r in runs if np.any((met >= r.start) & (met < r.stop))]
    return {"parameters": parameters, "chi2": round(src.chi2, 1), "passes": seen_on, "notes": notes}


def _plume_confidence(chi2: float) -> float:
    """0.5 at the acceptance threshold, rising towards 1 as the evidence grows."""
    return float(1.0 - 0.5 * np.exp(-max(chi2 - ACCEPT, 0.0) / (2.0 * ACCEPT)))


# ---- reading the sonde --------------------------------------------------------------------------

def _sonde(log: PatrolLog, fixes: Fixes, frame: RiverFrame) -> Sonde:
    """The measured channels (meta ``sensors.sonde.params``), gaps interpolated, on the track."""
    cols = log.columns("sonde")
    t = np.asarray(cols["t"], float)
    params = log.meta.get("sensors", {}).get("sonde", {}).get("params", {})
    names, rows, sigma, tau = [], [], [], []
    for name, spec in params.items():
        values = np.asarray(cols.get(name, np.full(t.size, np.nan)), float)
        ok = np.isfinite(values)
        if ok.sum() < 2:
            continue
        names.append(name)
        rows.append(np.interp(t, t[ok], values[ok]))
        sigma.append(max(float(spec["sigma"]), 1e-9))
        tau.append(float(spec["tau_s"]))
    track = Track.at_times(fixes, frame, t)
    width = frame.width_at(track.s)
    dt = float(np.median(np.diff(t))) if t.size > 1 else 1.0
    taus = np.unique(tau)
    return Sonde(tuple(names), np.array(rows).reshape(len(names), t.size), np.array(sigma), np.array(tau),
                 np.array([LOAD_SIGN.get(n, 0) for n in names], int), dt, track, track.n + width / 2.0,
                 width, frame.depth_at(track.s), taus, np.searchsorted(taus, tau))
