"""The twin's camera on its own clock: frames every ``keyframe_s`` between ticks, posed between
the ticks around them, the same however the patrol is cut into blocks; GNSS at the rate asked."""

from __future__ import annotations

from typing import Any

import numpy as np

from riverpatrol.scenario import parse_scenario
from riverpatrol.twin.ticks import TickBlock
from riverpatrol.twin.twin import RiverTwin
from riverpatrol.vehicle.mission import Mode


def _run(scenario: dict[str, Any], blocks_s: list[float], **options: Any) -> tuple[TickBlock, list[tuple[float, ...]]]:
    """The ticks of ``blocks_s`` and the (t, x, y, heading) the camera was asked to render."""
    twin = RiverTwin(parse_scenario(scenario), **options)
    twin.autopilot.home = (twin.boat.x + 30.0, twin.boat.y + 8.0)  # somewhere to go: the boat moves and turns
    twin.autopilot.arm()
    twin.autopilot.set_mode(Mode.RTL)
    shots: list[tuple[float, ...]] = []
    render = twin.camera.render
    twin.camera.render = lambda t, x, y, psi, vessels: shots.append((t, x, y, psi)) or render(t, x, y, psi, vessels)
    blocks = []
    for seconds in blocks_s:
        blocks.append(twin.advance(seconds))
        twin.sense(blocks[-1])
    return TickBlock.concat(blocks), shots


def test_frames_come_at_the_camera_rate_posed_between_ticks(short_scenario: dict[str, Any]) -> None:
    ticks, shots = _run(short_scenario, [3.0], keyframe_s=1 / 15)
    t, x, y, psi = np.array(shots).T
    assert np.allclose(t, np.arange(1, 46) / 15, atol=1e-6)
    assert np.ptp(x) > 1.0  # the boat moves: poses between ticks tell
    after = t >= ticks.t[0]  # the first frame is posed from where the boat started, before the first tick
    t, x, y, psi = t[after], x[after], y[after], psi[after]
    close = {"rtol": 0.0, "atol": 1e-5}  # frame times are kept to the microsecond
    assert np.allclose(x, np.interp(t, ticks.t, ticks.x), **close)
    assert np.allclose(y, np.interp(t, ticks.t, ticks.y), **close)
    turn = psi - np.interp(t, ticks.t, np.unwrap(ticks.psi))
    assert np.ptp(ticks.psi) > 0.1 and np.allclose(np.angle(np.exp(1j * turn)), 0.0, **close)


def test_frames_are_the_same_whatever_the_blocks(short_scenario: dict[str, Any]) -> None:
    _, whole = _run(short_scenario, [3.0], keyframe_s=0.25)
    _, ticked = _run(short_scenario, [0.1] * 30, keyframe_s=0.25)
    assert len(whole) == 12 and np.allclose(ticked, whole)


def test_a_frame_on_a_tick_is_that_tick(short_scenario: dict[str, Any]) -> None:
    ticks, shots = _run(short_scenario, [2.0], keyframe_s=0.2)
    assert [s[0] for s in shots] == ticks.t[1::2].tolist()
    assert [s[1:] for s in shots] == list(zip(ticks.x[1::2], ticks.y[1::2], ticks.psi[1::2]))


def test_gnss_fixes_at_the_rate_asked(short_scenario: dict[str, Any]) -> None:
    default = RiverTwin(parse_scenario(short_scenario))
    fast = RiverTwin(parse_scenario(short_scenario), gnss_hz=10.0)
    assert np.allclose(np.diff(default.sense(default.advance(2.0)).positions["t"]), 0.2)
    assert np.allclose(np.diff(fast.sense(fast.advance(2.0)).positions["t"]), 0.1)
