"""``riverpatrol boat``: a bad config exits 2 naming the key; a run ends cleanly on Ctrl-C."""

import json
import os
import signal
import subprocess
import sys
import time

from riverpatrol.patrollog import PatrolLog, PatrolLogError


def _toml(sections):
    return "\n".join(f"[{name}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in body.items())
                     for name, body in sections.items() if body is not None)


def _riverpatrol(*args):
    return [sys.executable, "-m", "riverpatrol", *args]


def test_bad_config_exits_2_naming_the_key(tmp_path):
    config = tmp_path / "boat.toml"
    config.write_text(_toml({"patrol": {"river": "r.json", "log": "p.sqlite"},
                             "sonde": {"protocol": "modbus-tcp", "adress": "127.0.0.1:5020"}}))
    result = subprocess.run(_riverpatrol("boat", "--config", str(config)), capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 2
    assert "invalid boat config" in result.stderr and "sonde.adress: unknown key" in result.stderr
    assert "sonde.address: Field required" in result.stderr and "Traceback" not in result.stderr


def test_runs_against_the_twins_devices_until_ctrl_c(twin_and_devices, config_for, tmp_path, make_scenario):
    scenario, devices, _ = twin_and_devices
    river = tmp_path / "river.json"
    river.write_text(json.dumps(make_scenario(sensors={"sonde": {"rate_hz": 5}})))
    config = tmp_path / "boat.toml"
    sections = config_for(devices, tmp_path / "patrol.sqlite", None, river=river)
    sections["patrol"].pop("duration_s")
    config.write_text(_toml(sections))
    process = subprocess.Popen(_riverpatrol("boat", "--config", str(config)), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=os.environ)
    log_path = tmp_path / "patrol.sqlite"
    deadline = time.monotonic() + 60
    while not _logs_every_kind(log_path):  # started, and logging sonde, sonar and camera
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert " s logged: position 0, sonde " in out
    with PatrolLog(tmp_path / "patrol.sqlite") as log:
        assert log.count("sonde") > 0 and log.count("sonar") > 0 and log.count("frame") > 0
        kinds = list(log.columns("event")["kind"])
    assert kinds[0] == "patrol_start" and kinds[-1] == "patrol_end"


def _logs_every_kind(path):
    try:
        with PatrolLog(path) as log:
            return all(log.count(kind) > 0 for kind in ("sonde", "sonar", "frame"))
    except PatrolLogError:  # not there yet, or its header still being written
        return False


def test_an_autopilot_that_never_answers_is_named(tmp_path, make_scenario):
    river = tmp_path / "river.json"
    river.write_text(json.dumps(make_scenario()))
    config = tmp_path / "boat.toml"
    config.write_text(_toml({"patrol": {"river": str(river), "log": "p.sqlite"},
                             "autopilot": {"url": "udpin:127.0.0.1:0", "wait_s": 0.5}}))
    result = subprocess.run(_riverpatrol("boat", "--config", str(config)), capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 2, result.stderr
    assert "autopilot udpin:127.0.0.1:0: no heartbeat from system 1 within 0.5 s" in result.stderr
    assert not (tmp_path / "p.sqlite").exists()
