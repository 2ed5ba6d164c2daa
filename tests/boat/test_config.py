from pathlib import Path

import pytest

from riverpatrol.boat.config import ConfigError, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "boat.example.toml"


def test_the_documented_example_is_valid():
    config = load_config(EXAMPLE)
    assert config.sonde.register_map().model == "Yosemitech Y4000"
    assert config.patrol.river == EXAMPLE.parent / "dongmen-river.json"
    assert config.sonar.port == "192.168.2.92:51200"


def _problems(tmp_path, text):
    path = tmp_path / "boat.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value.problems


def test_every_wrong_key_is_named(tmp_path):
    problems = _problems(tmp_path, """
[patrol]
river = "r.json"
log = "p.sqlite"
[sonde]
protocol = "modbus-tcp"
adress = "127.0.0.1:5020"
rate_hz = -1
[sonar]
port = "192.168.2.92"
starboard = "192.168.2.93:51200"
[camera]
url = "rtsp://x/main"
colour = true
""")
    assert "sonde.adress: unknown key" in problems
    assert "sonde.address: Field required" in problems
    assert "sonde.rate_hz: Input should be greater than 0" in problems
    assert "sonar.port: expected host:port, got '192.168.2.92'" in problems
    assert "camera.colour: unknown key" in problems


def test_address_map_and_autopilot_are_checked(tmp_path):
    problems = _problems(tmp_path, """
[patrol]
river = "r.json"
log = "p.sqlite"
[autopilot]
url = "14550"
[sonde]
protocol = "modbus-tcp"
address = "/dev/ttyUSB0"
map = "y9000"
""")
    assert any(p.startswith("autopilot.url: '14550' is not a MAVLink URL") for p in problems)
    assert any(p.startswith("sonde.address: expected host:port, got '/dev/ttyUSB0' for modbus-tcp") for p in problems)
    assert any(p.startswith("sonde.map: no register map named 'y9000'") for p in problems)


def test_not_toml_and_nothing_to_read(tmp_path):
    assert _problems(tmp_path, "[patrol\n")[0].startswith("not TOML")
    assert _problems(tmp_path, '[patrol]\nriver = "r.json"\nlog = "p.sqlite"\n') == [
        "(top level): configure at least one of autopilot, sonde, sonar, echosounder, camera"]
