"""MAVLink messages of an attached boat into its patrol log."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from riverpatrol.patrollog import PatrolLog, PatrolLogWriter
from riverpatrol.records import MissionEvent, RangeScan
from riverpatrol.station.mavlink_log import MavlinkRecorder
from riverpatrol.vehicle.link import mavlink


def _fix(ms: int, lon: float) -> object:
    return mavlink.MAVLink_global_position_int_message(ms, 283_700_000, round(lon * 1e7), 0, 0, 100, 0, 0, 9000)


def _reading(ms: int, name: str, value: float) -> object:
    return mavlink.MAVLink_named_value_float_message(ms, name.encode(), value)


def _ring(t: float) -> RangeScan:
    return RangeScan(t=t, heading_deg=90.0, increment_deg=5.0, min_cm=20, max_cm=3000,
                     distances_cm=np.array([500] + [3001] * 71, dtype=np.uint16))


def test_fixes_readings_rings_and_events_land_in_the_log(tmp_path: Path) -> None:
    path = tmp_path / "patrol.sqlite"
    writer = PatrolLogWriter(path, {"source": "mavlink"})
    recorder = MavlinkRecorder(writer)
    recorder.record([_fix(1000, 121.38), _reading(1000, "wq_ph", 7.5), _reading(1000, "wq_cond", 410.0),
                     _reading(1000, "airspeed", 3.0), _reading(2000, "wq_ph", 7.4)],
                    [_ring(1.1)], [MissionEvent(t=1.2, kind="mode", detail={"mode": "HOLD"})])
    assert recorder.newest == pytest.approx(1.2)  # the 2 s sample may still be arriving: not written yet
    recorder.record([_reading(2000, "wq_cond", 420.0), _fix(2200, 121.381)], [], [], final=True)
    assert recorder.newest == pytest.approx(2.2)
    writer.close()
    with PatrolLog(path) as log:
        fixes = log.columns("position")
        sonde = log.columns("sonde")
        (ring,) = log.records("ranging")
        (event,) = log.records("event")
    assert fixes["t"].tolist() == [1.0, 2.2] and fixes["lon"][1] == pytest.approx(121.381)
    assert fixes["sog"][0] == pytest.approx(1.0) and fixes["heading"][0] == pytest.approx(90.0)
    assert sonde["t"].tolist() == [1.0, 2.0] and sonde["ph"].tolist() == pytest.approx([7.5, 7.4])
    assert sonde["conductivity"].tolist() == pytest.approx([410.0, 420.0]) and np.isnan(sonde["do"]).all()
    assert ring.t == pytest.approx(1.1) and ring.heading_deg == pytest.approx(90.0) and ring.distances_cm[0] == 500
    assert (event.kind, event.detail) == ("mode", {"mode": "HOLD"})
