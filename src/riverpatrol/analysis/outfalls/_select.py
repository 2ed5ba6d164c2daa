"""Step 2 of the search: sources chosen greedily among the candidates, redundant ones dropped, the
rest refitted together and placed at the mean of their likelihood over chainage."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from riverpatrol.analysis.outfalls._activity import KIND_MARGIN, activity, kind_of
from riverpatrol.analysis.outfalls._model import (
    ACCEPT,
    SAME_M,
    Model,
    Plumes,
    Source,
    cost,
)
from riverpatrol.analysis.outfalls._scan import peaks, scan
from riverpatrol.analysis.sonar_targets import SonarTarget
from riverpatrol.analysis.track import Pass
from riverpatrol.geo.frame import FloatArray

REFINE_M = 12.0  # chainage searched round a new source
COARSE_M = 6.0  # chainage steps of that search, then ...
FINE_M = 1.0  # ... round the best
MIN_SIGMA_M = 0.5  # floor of a plume source's chainage uncertainty (lane position, GNSS)
PROFILE_M = 30.0  # a source's likelihood over chainage is weighed this far either side ...
PROFILE_STEP_M = 3.0  # ... at these steps
POLISH_ROUNDS = 2
BORROWER_CHI2 = 8.0  # sources explaining less than this many thresholds are tested for borrowing ...
BORROWER_M = 100.0  # ... and so are those this close downstream of another on their bank
LENDER_M = 1000.0  # a source's plume can stand in for one this far downstream on its bank
PIN_M = 75.0  # a pipe mouth this close on the same bank may be a source's outlet ...


def select(plumes: Plumes, runs: list[Pass], targets: list[SonarTarget]) -> list[Source]:
    """Sources chosen greedily among the scan's peaks and the sonar's pipe mouths, first with at
    most a switch on, then with their full activity; then polished until nothing moves.

    A switch off comes second because it is flexible: a strong source taken first with a free
    window can borrow a weaker neighbour's plume, and the neighbour then never earns its place.
    A source at a pipe mouth is not moved and needs only ACCEPT_MOUTH: its place is known, so the
    plume only has to show that it discharged."""
    grid, stat = scan(plumes.sonde, plumes.hydro, runs)
    candidates = peaks(grid, stat, ACCEPT / 2)
    candidates += [Source(t.s, 1 if t.bank == "left" else -1, mouth=t) for t in targets]
    chosen = prune(plumes, grow(plumes, [], candidates, simple=True))
    return locate(plumes, polish(plumes, grow(plumes, chosen, candidates, simple=False)))


def grow(plumes: Plumes, chosen: list[Source], candidates: list[Source], simple: bool) -> list[Source]:
    """Candidates added greedily while one explains enough given those already chosen. Lazily: a
    candidate's gain nearly always shrinks as others join, so one still ahead when re-scored is
    taken as the best. After each addition its lenders' activity is refitted: they may have
    borrowed its plume."""
    model = plumes.model(chosen)
    pool = [(replace(c, chi2=np.inf), -1) for c in candidates if not taken(c, chosen)]
    while pool:
        pool.sort(key=lambda entry: -entry[0].chi2)
        top, scored_with = pool[0]
        if scored_with != len(chosen):
            found = activity(plumes, model, top, simple=simple)
            pool[0] = (found[0] if found else replace(top, chi2=-np.inf), len(chosen))
            continue
        if top.chi2 < top.threshold:
            break
        new = refine(plumes, model, top, REFINE_M, simple)
        chosen = rewindow_some(plumes, chosen + [new], lenders_of(chosen, new), False, simple)
        model = plumes.model(chosen)
        pool = [(p, n) for p, n in pool[1:] if not taken(p, chosen)]
    return chosen


def taken(candidate: Source, chosen: list[Source]) -> bool:
    """Whether a source on the candidate's bank within SAME_M, or at its pipe mouth, is chosen."""
    return any((c.side == candidate.side and abs(c.s - candidate.s) < SAME_M)
               or (candidate.mouth is not None and c.mouth is candidate.mouth) for c in chosen)


def polish(plumes: Plumes, chosen: list[Source]) -> list[Source]:
    """Redundant sources dropped (first round: also those ``drop_borrowers`` finds) and the rest
    refitted one by one given the others (activity, then chainage within COARSE_M), until nothing
    moves; returns them with their loads and significance."""
    for round_ in range(POLISH_ROUNDS):
        before = chosen
        chosen = prune(plumes, chosen)
        if round_ == 0:
            chosen = drop_borrowers(plumes, chosen)
        for i in range(len(chosen)):
            chosen[i] = refine(plumes, plumes.model(chosen[:i] + chosen[i + 1 :]), chosen[i], 0.0, False)
        if len(chosen) == len(before) and all(abs(a.s - b.s) < FINE_M / 2 for a, b in zip(chosen, before)):
            break
    return prune(plumes, chosen)


def prune(plumes: Plumes, chosen: list[Source]) -> list[Source]:
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


def drop_borrowers(plumes: Plumes, chosen: list[Source]) -> list[Source]:
    """Drop a source, weakest first, when the others explain the log as well for less (``cost``)
    with their activity refitted without it: a source can live off a plume that one of its lenders
    would explain had that one's switch times not been fitted with it already there. Tried for
    weak sources and for any within BORROWER_M below another. The lenders are refitted both from
    where they are and afresh, as either can get stuck."""
    for src in sorted(chosen, key=lambda c: c.chi2):
        if src not in chosen:
            continue
        rest = [c for c in chosen if c is not src]
        lenders = lenders_of(rest, src)
        nearest = min((src.s - rest[i].s for i in lenders), default=np.inf)
        if not lenders or (src.chi2 > BORROWER_CHI2 * src.threshold and nearest > BORROWER_M):
            continue
        refits = [rewindow_some(plumes, rest, lenders, fresh) for fresh in (False, True)]
        costs = [cost(plumes, r) for r in refits]
        if min(costs) < cost(plumes, chosen):
            chosen = refits[int(np.argmin(costs))]
    return chosen


def locate(plumes: Plumes, chosen: list[Source]) -> list[Source]:
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
    return prune(plumes, located)


def lenders_of(sources: list[Source], src: Source) -> list[int]:
    """Indices of sources whose plume, with its switch times fitted to suit, could stand in for
    part of the plume of ``src``: upstream on its bank within LENDER_M, or at a pipe mouth just
    downstream (within PIN_M: a plume fitted a little upstream of its pipe)."""
    return [i for i, c in enumerate(sources) if c.side == src.side
            and (0 < src.s - c.s <= LENDER_M or (c.mouth is not None and 0 < c.s - src.s <= PIN_M))]


def rewindow_some(plumes: Plumes, sources: list[Source], which: list[int], fresh: bool,
                   simple: bool = False) -> list[Source]:
    """Sources ``which`` with their activity refitted given the others, strongest first;
    ``fresh``: starting from discharging throughout, twice over."""
    out = list(sources)
    if fresh:
        for i in which:
            out[i] = replace(out[i], t_on=-np.inf, t_off=np.inf)
    for _ in range(2 if fresh else 1):
        for i in sorted(which, key=lambda k: -sources[k].chi2):
            out[i] = rewindow(plumes, out, i, simple)
    return out


def rewindow(plumes: Plumes, sources: list[Source], i: int, simple: bool) -> Source:
    """Source ``i`` with the activity that fits best given the others, if better than its own."""
    model = plumes.model(sources[:i] + sources[i + 1 :])
    trials = activity(plumes, model, sources[i], exact=True, simple=simple)
    own = float(plumes.gains(model, [sources[i]])[0])
    return trials[0] if trials and trials[0].chi2 > own else sources[i]


def refine(plumes: Plumes, model: Model, src: Source, reach: float, simple: bool) -> Source:
    """Best chainage within ``reach`` of ``src`` (held at a pipe mouth), its activity, and its
    1-sigma chainage uncertainty from the curvature of the profile chi-square; never worse than
    ``src`` itself.

    Each kind of activity that fits nearly as well as the best at ``src`` is searched in turn: its
    switch times held (they are physical times) over a coarse grid of chainage, refitted exactly
    at the best, then searched finely round it. A plume that started recently and one cut off
    from a source upstream can look alike on one pass, tens of metres apart.
    """
    if src.mouth is not None:
        fits = activity(plumes, model, src, exact=True, simple=simple)
        return replace(fits[0] if fits else src, sigma_m=src.mouth.sigma_m)
    kinds = activity(plumes, model, src, simple=simple)
    results = [fine_tune(plumes, model, src)]
    for start in kinds:
        if start.chi2 < kinds[0].chi2 - KIND_MARGIN:
            continue
        coarse = [replace(start, s=float(s)) for s in src.s + np.arange(-reach, reach + 1e-9, COARSE_M)]
        best = coarse[int(np.argmax(plumes.gains(model, coarse)))]
        exact = [t for t in activity(plumes, model, best, exact=True, simple=simple) if kind_of(t) == kind_of(start)]
        results.append(fine_tune(plumes, model, exact[0] if exact else best))
    return max(results, key=lambda r: r.chi2)


def fine_tune(plumes: Plumes, model: Model, start: Source) -> Source:
    """The best chainage within COARSE_M of ``start``, its switches held, at FINE_M steps."""
    fine = [replace(start, s=float(start.s + d)) for d in np.arange(-COARSE_M, COARSE_M + 1e-9, FINE_M)]
    gains = plumes.gains(model, fine)
    top = int(np.argmax(gains))
    return replace(fine[top], chi2=float(gains[top]), sigma_m=curvature_sigma(fine, gains, top))


def curvature_sigma(trials: list[Source], gains: FloatArray, top: int) -> float:
    """Where the profile chi-square falls by 1 from its top, from a parabola through the trials."""
    d2 = (np.array([t.s for t in trials]) - trials[top].s) ** 2
    drop = gains[top] - gains
    curvature = float(d2 @ drop / (d2 @ d2)) if d2.any() else 0.0
    return float(np.clip(1.0 / np.sqrt(curvature) if curvature > 0 else REFINE_M, MIN_SIGMA_M, REFINE_M))
