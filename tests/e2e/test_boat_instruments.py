"""``riverpatrol boat`` against ``riverpatrol twin serve`` purely over protocols finds the outfalls
that the in-process run of the same scenario finds.

Two processes: ``twin serve --instruments`` (MAVLink 2 over UDP, the sonde on Modbus TCP, the
Omniscan pair and Ping1D on the Ping protocol over UDP, the camera as MJPEG over HTTP, all on
loopback) at SPEEDUP x real time, and ``riverpatrol boat`` reading a config that names those
addresses: it drives the patrol through the MAVLink client and its supervisor and logs what the
instruments say. The boat's log is analysed and compared with ``simulate``'s on the same scenario.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading

import pytest

from riverpatrol.analysis.pipeline import analyze
from riverpatrol.patrollog import PatrolLog
from riverpatrol.scenario import load_scenario
from riverpatrol.simulate import simulate
from riverpatrol.simulate_mavlink import free_udp_port

pytestmark = pytest.mark.slow

SPEEDUP = 10.0
ALONG_M = 20.0  # the scorer's match distance
DEVICES = ("sonde", "sonar_port", "sonar_starboard", "echosounder", "camera")


def _riverpatrol(*args):
    return [sys.executable, "-m", "riverpatrol", *args]


def _announced(serve: subprocess.Popen, lines: list[str], timeout_s: float = 60.0) -> dict[str, str]:
    """The devices' addresses as twin serve names them on stderr (read to its end meanwhile)."""
    found: dict[str, str] = {}
    complete = threading.Event()

    def read():
        for line in serve.stderr:
            lines.append(line)
            match = re.match(r"twin serve: (\w+) (?:\S+ )?(\S+)$", line.strip())
            if match and match[1] in DEVICES:
                found[match[1]] = match[2]
                if len(found) == len(DEVICES):
                    complete.set()

    threading.Thread(target=read, daemon=True).start()
    assert complete.wait(timeout_s), "".join(lines)
    return found


def _toml(sections):
    return "\n".join(f"[{name}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in body.items())
                     for name, body in sections.items())


def _outfalls(findings):
    return sorted((f["properties"]["bank"], f["properties"]["chainage_m"]) for f in findings["features"])


def test_boat_against_twin_serve_finds_the_same_outfalls(shared_dir, tmp_path):
    scenario_path = shared_dir / "scenarios" / "straight-easy.json"
    direct = simulate(load_scenario(scenario_path), tmp_path / "direct", investigate=False)
    expected = _outfalls(analyze(direct.log_path, tmp_path / "direct" / "analysis", maps=()).findings)

    port = free_udp_port()
    serve = subprocess.Popen(
        _riverpatrol("twin", "serve", str(scenario_path), "--mavlink", f"udpout:127.0.0.1:{port}",
                     "--speedup", repr(SPEEDUP), "--keyframe-interval", "5", "--instruments",
                     "--instrument-ports", "0,0,0,0,0", "--sonde-map", "insitu-aquatroll600"),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    said: list[str] = []
    try:
        at = _announced(serve, said)
        config = tmp_path / "boat.toml"
        config.write_text(_toml({
            "patrol": {"river": str(scenario_path), "log": "boat/patrol.sqlite", "flush_s": 0.5,
                       "investigate": False},  # as the direct run
            "autopilot": {"url": f"udpin:127.0.0.1:{port}"},
            "sonde": {"protocol": "modbus-tcp", "address": at["sonde"], "map": "insitu-aquatroll600"},
            "sonar": {"port": at["sonar_port"], "starboard": at["sonar_starboard"]},
            "echosounder": {"address": at["echosounder"]},
            "camera": {"url": at["camera"], "keyframe_s": 5.0},
        }))
        boat = subprocess.run(_riverpatrol("boat", "--config", str(config), "--speedup", repr(SPEEDUP)),
                              capture_output=True, text=True, timeout=900, check=False)
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=60)
        serve.stderr.close()
    assert boat.returncode == 0, boat.stderr
    log_path = tmp_path / "boat" / "patrol.sqlite"
    with PatrolLog(log_path) as log:
        counts = {kind: log.count(kind) for kind in ("position", "sonde", "sonar", "frame")}
        events = list(log.columns("event")["kind"])
    found = _outfalls(analyze(log_path, tmp_path / "boat" / "analysis", maps=()).findings)
    print(f"\ndirect: {expected} {direct.counts}\nboat over protocols: {found} {counts}\n{boat.stdout}{boat.stderr}{''.join(said)}")
    assert "mission_complete" in events and events[-1] == "patrol_end"
    # the instruments were read all along: the sonde at the twin's pace (a stalling twin skips
    # polls, it is never sampled twice at one instant), every ping streamed
    assert counts["sonde"] > 0.7 * direct.counts["sonde"] and counts["sonar"] > 0.9 * direct.counts["sonar"]
    assert len(found) == len(expected)
    for (bank, s), (bank_found, s_found) in zip(expected, found):
        assert bank_found == bank and abs(s_found - s) <= ALONG_M
