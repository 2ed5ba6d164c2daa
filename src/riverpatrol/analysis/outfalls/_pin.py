"""Step 3 of the search: sources moved to the pipe mouths the side-scan sonar saw on their bank."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from riverpatrol.analysis.outfalls._model import SAME_M, Plumes, Source, cost
from riverpatrol.analysis.outfalls._select import (
    LENDER_M,
    PIN_M,
    prune,
    refine,
    rewindow_some,
)
from riverpatrol.analysis.sonar_targets import SonarTarget

PIN_CHI2 = 25.0  # ... if the plume fits from there within this chi-square of its best


def pin(plumes: Plumes, sources: list[Source], targets: list[SonarTarget]) -> list[Source]:
    """Sources not at a pipe mouth moved to free mouths on their bank, strongest first: the sonar
    sees the mouth itself, while a weak or intermittent plume places its source only roughly.

    A source may go to a mouth within PIN_M, or be split among all those (weak outfalls side by
    side blend into one plume), if the whole then fits within PIN_CHI2 of what it did (``cost``;
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
        at = {id(t): refine(plumes, model, replace(src, s=t.s, mouth=t), 0.0, False) for t in mine}
        options = [[t] for t in mine] + ([near] if len(near) > 1 else [])
        trials = [rewindow_some(plumes, rest + [at[id(t)] for t in mouths],
                                 list(range(len(rest), len(rest) + len(mouths))), fresh=False) for mouths in options]
        slack = [PIN_CHI2 if all(abs(t.s - src.s) <= PIN_M for t in mouths) else 0.0 for mouths in options]
        before = cost(plumes, current)
        excess = [cost(plumes, t) - before - allowed for t, allowed in zip(trials, slack)]
        best = int(np.argmin(excess))
        if excess[best] > 0 and abs(mine[0].s - src.s) < SAME_M:
            best = 0  # the nearest mouth, right by it
        elif excess[best] > 0:
            continue
        current = trials[best]
        free = [t for t in free if all(t is not m for m in options[best])]
    return prune(plumes, current)
