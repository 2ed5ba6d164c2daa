"""When a source discharged: the window of emission time, with its switches on and off, that
explains most of the log given the other sources."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from riverpatrol.analysis.outfalls._model import (
    SUPPORT,
    SWITCH_PENALTY,
    Head,
    Model,
    Plumes,
    Raw,
    Source,
    signed_chi2,
)
from riverpatrol.analysis.outfalls._series import Sonde
from riverpatrol.geo.frame import FloatArray

KIND_MARGIN = 50.0  # kinds of activity fitted exactly: those within this chi-square of the best
SWITCH_POINTS = 40  # candidate switch times per source: quantiles of emission time where it shows
EXACT_TRIALS = 8  # switch times tried exactly round the best of those
HEAD_SHARE = 0.5  # share of the plume head met that a source away from a pipe mouth must cover


class Switches:
    """Chi-square explained by a source discharging over a run of its support, the support in
    emission-time order, for runs between ``cuts`` (positions in that order): sums over the stretches
    between cuts, accumulated, make every run cost the same, with the switching applied after the
    lag (close, and exact where it matters once ``exact_switches`` has moved the ends)."""

    def __init__(self, sonde: Sonde, model: Model, raw: Raw, order: NDArray[np.intp],
                 cuts: NDArray[np.intp]) -> None:
        self.sonde, self.model, self.cuts = sonde, model, cuts
        self.te = raw.emitted[order]
        v = raw.lagged[:, order]  # groups x support
        starts = cuts[:-1]

        def accumulated(parts: FloatArray, axis: int = 1) -> FloatArray:  # stretch sums along ``axis``, from zero
            sums = np.cumsum(np.add.reduceat(parts, starts, axis=axis), axis=axis)
            return np.concatenate([np.zeros_like(np.take(sums, [0], axis=axis)), sums], axis=axis)

        self.vv = accumulated(v * v)  # groups x cuts
        self.xv = accumulated(model.design[:, :, order] * v[:, None, :], axis=2)  # groups x terms x cuts
        self.rv = accumulated(model.residual[:, order] * v[sonde.group])  # channels x cuts

    def chi2(self, i: NDArray[np.intp], j: NDArray[np.intp]) -> FloatArray:
        """Chi-square explained when discharging over positions ``[i, j)`` (both among the cuts)."""
        a, b = np.searchsorted(self.cuts, i), np.searchsorted(self.cuts, j)
        vv, rv = self.vv[:, b] - self.vv[:, a], self.rv[:, b] - self.rv[:, a]
        xv = (self.xv[:, :, b] - self.xv[:, :, a]).transpose(0, 2, 1)  # groups x trials x terms
        norm = vv - (np.matmul(xv, self.model.inverse) * xv).sum(axis=2)
        return signed_chi2(rv, norm[self.sonde.group], self.sonde)

    def times(self, i: NDArray[np.intp], j: NDArray[np.intp]) -> tuple[FloatArray, FloatArray]:
        """(t_on, t_off) of positions ``[i, j)``: open where they start or end the support."""
        last = self.te.size
        return (np.where(i > 0, self.te[np.minimum(i, last - 1)], -np.inf),
                np.where(j < last, self.te[np.maximum(j - 1, 0)], np.inf))


def activity(plumes: Plumes, model: Model, src: Source, exact: bool = False, simple: bool = False) -> list[Source]:
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
    table = Switches(plumes.sonde, model, raw, order, cuts)
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
        found = [exact_switches(plumes, model, f, table.te, raw.head) if f.chi2 >= found[0].chi2 - KIND_MARGIN
                 else f for f in found]
        found.sort(key=lambda f: -f.chi2)
    return found


def exact_switches(plumes: Plumes, model: Model, src: Source, te: FloatArray, head: Head) -> Source:
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


def kind_of(src: Source) -> tuple[bool, bool]:
    return bool(np.isfinite(src.t_on)), bool(np.isfinite(src.t_off))
