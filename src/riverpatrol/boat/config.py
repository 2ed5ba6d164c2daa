"""The boat's configuration (``boat.toml``): its river file, log, autopilot link and instruments.

Validated with pydantic before anything starts: an unknown key, a missing one, a wrong type, an
address that does not fit its protocol or a register map that does not load is reported with its
key path (``sonde.adress: unknown key``), all problems at once.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from riverpatrol.instruments.registermap import MapError, Order, RegisterMap, load_map
from riverpatrol.instruments.sonde import split_host_port

_MAVLINK_PREFIXES = ("udpin:", "udpout:", "udp:", "udpbcast:", "tcp:", "tcpin:", "serial:", "/dev/", "COM")


class ConfigError(ValueError):
    """A boat config that cannot be used; ``problems`` are ``key.path: what is wrong`` lines."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}: invalid boat config\n" + "\n".join(f"  {p}" for p in problems))
        self.source = source
        self.problems = problems


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _host_port(value: str) -> str:
    split_host_port(value)
    return value


class Patrol(_Section):
    river: Path = Field(description="scenario-format file: its river, boat, mission and sensors sections")
    log: Path
    duration_s: float | None = Field(None, gt=0)
    flush_s: float = Field(1.0, gt=0, le=60)
    investigate: bool = True  # go back to look at what the live analyser finds in the sonde's samples


class Autopilot(_Section):
    url: str
    position_hz: float = Field(5.0, gt=0, le=100)
    wait_s: float = Field(30.0, gt=0)  # for the first heartbeat: the autopilot may still be booting

    @field_validator("url")
    @classmethod
    def _mavlink(cls, url: str) -> str:
        if not url.startswith(_MAVLINK_PREFIXES):
            raise ValueError(f"{url!r} is not a MAVLink URL "
                             "(udpin:HOST:PORT, udpout:HOST:PORT, tcp:HOST:PORT or a serial device)")
        return url


class Sonde(_Section):
    protocol: Literal["modbus-tcp", "modbus-rtu", "modbus-rtu-over-tcp"]
    address: str
    map: str = "yosemitech-y4000"
    device_id: int = Field(1, ge=1, le=247)
    rate_hz: float = Field(1.0, gt=0, le=10)
    timeout_s: float = Field(0.5, gt=0, le=10)
    retries: int = Field(1, ge=0, le=5)
    baudrate: int = Field(9600, gt=0)
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    word_order: Order | None = None
    byte_order: Order | None = None

    @field_validator("map")
    @classmethod
    def _loads(cls, name: str) -> str:
        try:
            load_map(name)
        except MapError as exc:
            raise ValueError(str(exc)) from None
        return name

    @field_validator("address")
    @classmethod
    def _address_fits(cls, address: str, info: ValidationInfo) -> str:
        protocol = info.data.get("protocol")
        if protocol not in (None, "modbus-rtu"):
            try:
                split_host_port(address)
            except ValueError as exc:
                raise ValueError(f"{exc} for {protocol}") from None
        return address

    def register_map(self) -> RegisterMap:
        return load_map(self.map)


class Sonar(_Section):
    protocol: Literal["ping-udp"] = "ping-udp"
    port: str
    starboard: str
    range_m: float = Field(30.0, gt=0, le=200)
    bins: int = Field(500, ge=1, le=8000)
    ping_hz: float = Field(5.0, gt=0, le=50)
    timeout_s: float = Field(2.0, gt=0)
    gain_db: float = 0.0

    _addresses = field_validator("port", "starboard")(_host_port)


class Echosounder(_Section):
    protocol: Literal["ping-udp"] = "ping-udp"
    address: str
    rate_hz: float = Field(1.0, gt=0, le=20)
    timeout_s: float = Field(0.5, gt=0)

    _address = field_validator("address")(_host_port)


class Camera(_Section):
    url: str
    keyframe_s: float = Field(1.0, gt=0)
    timeout_s: float = Field(5.0, gt=0)
    hfov_deg: float = Field(60.0, gt=0, lt=180)
    eye_height_m: float = Field(1.0, gt=0)


class BoatConfig(_Section):
    patrol: Patrol
    autopilot: Autopilot | None = None
    sonde: Sonde | None = None
    sonar: Sonar | None = None
    echosounder: Echosounder | None = None
    camera: Camera | None = None

    @model_validator(mode="after")
    def _something_to_read(self) -> BoatConfig:
        if not any((self.autopilot, self.sonde, self.sonar, self.echosounder, self.camera)):
            raise ValueError("configure at least one of autopilot, sonde, sonar, echosounder, camera")
        return self


def load_config(path: Path) -> BoatConfig:
    """Read and validate ``path``; relative paths inside it are taken from the file's folder."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read: {exc.strerror or exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [f"not TOML: {exc}"]) from None
    try:
        config = BoatConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(str(path), [_problem(e) for e in exc.errors()]) from None
    base = path.parent
    patrol = config.patrol.model_copy(update={"river": base / config.patrol.river, "log": base / config.patrol.log})
    return config.model_copy(update={"patrol": patrol})


def _problem(error: dict) -> str:  # type: ignore[type-arg]
    where = ".".join(str(p) for p in error["loc"]) or "(top level)"
    message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"].removeprefix("Value error, ")
    return f"{where}: {message}"
