"""A twin patrol in a process of its own, as a boat is a machine of its own.

The station's process keeps its interpreter for the live feed: ten twins running as threads
beside it held its lock for most of each second, and the feed's tail grew with every patrol. The
child runs ``simulate`` paced, writes the patrol log, and over a pipe says how far the log is
committed (``("progress", t)``), then how it ended (``("done", None)`` or ``("failed", why)``). The
station sends it autopilot modes by name (``"HOLD"``, ``"AUTO"``, ``"RTL"``) and ``FINISH`` to end the
patrol at the next control tick. When the station's end of the pipe closes (the station was
killed), the child ends its patrol there: the log holds everything up to that tick.
"""

from __future__ import annotations

from multiprocessing.connection import Connection
from pathlib import Path

from riverpatrol.scenario import Scenario
from riverpatrol.simulate import simulate
from riverpatrol.vehicle.direct import DirectAutopilot
from riverpatrol.vehicle.mission import Mode

FINISH = "finish"


def run_twin(conn: Connection, scenario: Scenario, out: Path, speedup: float, keyframe_s: float,
             gnss_hz: float) -> None:
    """The child's whole life: one paced patrol into ``out``, reported on ``conn``."""
    def progress(now: float, _expected: float) -> None:
        conn.send(("progress", now))

    def control(pilot: DirectAutopilot) -> bool:
        while conn.poll():
            try:
                message = conn.recv()
            except EOFError:  # the station has gone
                return True
            if message == FINISH:
                return True
            pilot.set_mode(Mode[message])
        return False

    try:
        simulate(scenario, out, speedup=speedup, keyframe_s=keyframe_s, gnss_hz=gnss_hz, progress=progress,
                 control=control)
    except (BrokenPipeError, EOFError):  # the station has gone: the log stays as far as it got
        return
    except Exception as exc:  # noqa: BLE001 - any failure is the patrol's, reported whole
        _send(conn, ("failed", f"{type(exc).__name__}: {exc}"))
        return
    _send(conn, ("done", None))


def _send(conn: Connection, message: tuple[str, object]) -> None:
    try:
        conn.send(message)
    except (BrokenPipeError, OSError):
        pass
