"""Anomaly signals while a patrol's records come in: the live analyser on the store's rows.

``LogTail`` feeds it every window's fixes and samples, so twin patrols, attached boats and
imported logs all get the same signals; they are stored (the ``anomaly`` table) and sent on the
live feed, and a reload replays them like everything else. The analyser needs the river map and
the sonde's noise figures from the log's metadata: a log without them gets no signals.
"""

from __future__ import annotations

import math
from typing import Any

from riverpatrol.analysis.live import AnomalySignal, LiveAnalyser
from riverpatrol.geo.frame import RiverFrame
from riverpatrol.records import Position, SondeSample


class AnomalyWatch:
    """One patrol's live analyser, fed store rows, giving store rows."""

    def __init__(self, analyser: LiveAnalyser) -> None:
        self._analyser = analyser

    @classmethod
    def for_log(cls, meta: dict[str, Any], frame: RiverFrame | None) -> AnomalyWatch | None:
        """A watch for a log whose metadata names its sonde's noise, on its river map; else None."""
        sonde = meta.get("sensors", {}).get("sonde")
        if frame is None or not sonde or not sonde.get("params"):
            return None
        return cls(LiveAnalyser(frame, sonde))

    def feed(self, positions: list[dict[str, Any]], samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The signals raised by one window's rows (fixes and samples of the same time span)."""
        fixes = [Position(p["t"], p["lon"], p["lat"], _number(p["sog"]), _number(p["cog"]), _number(p["heading"]))
                 for p in positions if p["lon"] is not None and p["lat"] is not None]
        readings = [SondeSample(s["t"], s["values"]) for s in samples]
        return [_row(signal) for signal in self._analyser.run(fixes, readings)]


def _row(signal: AnomalySignal) -> dict[str, Any]:
    return {"t": signal.t, "lon": signal.lon, "lat": signal.lat, "chainage_m": round(signal.chainage_m, 2),
            "bank": signal.bank, "score": signal.score, "z": signal.z}


def _number(value: float | None) -> float:
    return math.nan if value is None else value
