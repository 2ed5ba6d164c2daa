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
pipe mouth) and each switch (SWITCH_PENALTY) must earn: ``_model.cost``.

The lag is modelled, not inverted, for the fit: the readings' noise is white, so chi-square and the
curvature of its profile over chainage (a source's uncertainty) are honest. ``lag.compensate``
gives the peak excesses reported as evidence.

One module a job: ``_series`` (hydrology and the sonde series), ``_plume`` (the spec's formula),
``_model`` (least squares of the log on sources, and the cache of their fields), ``_scan``,
``_activity`` (when a source discharged), ``_select``, ``_pin`` and ``_report`` (findings and their
evidence).
"""


from __future__ import annotations

from dataclasses import replace

from threadpoolctl import threadpool_limits

from riverpatrol.analysis.findings import Finding
from riverpatrol.analysis.outfalls._model import Plumes
from riverpatrol.analysis.outfalls._pin import pin
from riverpatrol.analysis.outfalls._plume import plume
from riverpatrol.analysis.outfalls._report import mouth_finding, to_findings
from riverpatrol.analysis.outfalls._select import select
from riverpatrol.analysis.outfalls._series import Hydrology, head_length, sonde_series
from riverpatrol.analysis.sonar_targets import find_targets
from riverpatrol.analysis.track import Fixes, passes, river_frame
from riverpatrol.patrollog import PatrolLog

__all__ = ["detect_outfalls", "plume"]


def detect_outfalls(log: PatrolLog, fixes: Fixes | None = None) -> list[Finding]:
    """Suspected outfalls in a patrol log, most confident first (see the module docstring).
    ``fixes``: the log's, if the caller has read them already.

    BLAS runs on one thread here: the search makes thousands of products of a few columns, too
    small to share out, and threads waiting on each other took twice the time (worse on a busy
    machine).
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _detect(log, fixes)


def _detect(log: PatrolLog, fixes: Fixes | None) -> list[Finding]:
    river = log.meta["river"]
    hydro = Hydrology(river_frame(log.meta), float(river["velocity_mps"]), float(river["transverse_dispersion_m2ps"]))
    fixes = fixes if fixes is not None else Fixes.from_log(log, hydro.frame)
    sonde = sonde_series(log, fixes, hydro.frame)
    runs = passes(sonde.track, hydro.frame)
    hydro = replace(hydro, head_m=head_length(hydro, sonde, runs))
    targets = find_targets(log, fixes, hydro.frame)
    if not sonde.names or not runs:
        return [mouth_finding(t) for t in targets]
    plumes = Plumes(sonde, hydro)
    sources = pin(plumes, select(plumes, runs, targets), targets)
    return to_findings(plumes, sources, targets, runs)
