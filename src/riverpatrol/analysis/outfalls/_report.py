"""Findings from the fitted sources and the pipe mouths, with the evidence a river chief can act on."""

from __future__ import annotations

from typing import Any

import numpy as np

from riverpatrol.analysis.findings import Finding
from riverpatrol.analysis.lag import compensate
from riverpatrol.analysis.outfalls._model import ACCEPT, PLUME_MET, Plumes, Source
from riverpatrol.analysis.sonar_targets import SonarTarget
from riverpatrol.analysis.track import Pass
from riverpatrol.geo.frame import FloatArray

SIGNIFICANT_Z = 3.0  # a parameter is evidence when its fitted load is this many sigmas from zero


def to_findings(plumes: Plumes, sources: list[Source], targets: list[SonarTarget], runs: list[Pass]) -> list[Finding]:
    """Findings from plume sources (with their pipe mouth, if at one) and from pipe mouths with no
    plume, most confident first."""
    sonde = plumes.sonde
    background = plumes.model(sources).coef[:, 0]
    excess = np.array([compensate(sonde.readings[p], sonde.dt, sonde.tau[p]) for p in range(len(sonde.names))])
    excess -= background[:, None]
    findings = []
    for src in sources:
        evidence = plume_evidence(plumes, src, excess, runs)
        confidence = plume_confidence(src.chi2)
        if src.mouth is not None:
            evidence["sonar"] = src.mouth.evidence()
            confidence = 1.0 - (1.0 - confidence) * (1.0 - src.mouth.confidence)
        findings.append(Finding(s=src.s, bank="left" if src.side > 0 else "right", confidence=confidence,
                                uncertainty_m=src.sigma_m, evidence=evidence))
    findings += [mouth_finding(t) for t in targets if all(s.mouth is not t for s in sources)]
    return sorted(findings, key=lambda f: -f.confidence)


def mouth_finding(target: SonarTarget) -> Finding:
    evidence = {"parameters": {}, "sonar": target.evidence(),
                "notes": ["pipe mouth on side-scan sonar; no discharge observed on this patrol"]}
    return Finding(s=target.s, bank=target.bank, confidence=0.5 * target.confidence,
                   uncertainty_m=target.sigma_m, evidence=evidence)


def plume_evidence(plumes: Plumes, src: Source, excess: FloatArray, runs: list[Pass]) -> dict[str, Any]:
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


def plume_confidence(chi2: float) -> float:
    """0.5 at the acceptance threshold, rising towards 1 as the evidence grows."""
    return float(1.0 - 0.5 * np.exp(-max(chi2 - ACCEPT, 0.0) / (2.0 * ACCEPT)))
