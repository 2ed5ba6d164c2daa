"""Sonde register maps as data: which registers to read, and how they become canonical readings.

A map is a TOML file (``maps/*.toml`` ships the Yosemitech Y4000 and the In-Situ Aqua TROLL 600).
Two layouts cover the sondes whose maps are published:

- ``values``: consecutive float32 values in a fixed order, each with its parameter and unit, and
  an optional status register whose codes become HJ 212 flags (the Y4000);
- ``parameter_blocks``: equal blocks of registers, each holding a float32 value, a parameter id, a
  unit id and a data quality id (In-Situ's layout), decoded through the map's id tables.

The same map encodes readings into registers, which is how the twin's emulated sonde answers, so
driver and emulator cannot drift apart. Word and byte order are the map's defaults; a boat config
may override them for a device set up differently.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from riverpatrol.instruments.units import CANONICAL, UnitError, converter, from_canonical

MAPS_DIR = Path(__file__).parent / "maps"
Order = Literal["big", "little"]
Flag = Literal["N", "F", "M", "S", "D", "C", "T", "B"]  # HJ 212-2017 data flags (analysis/qc.py)
_BLOCK_FIELDS = ("value", "parameter", "unit", "quality")


class MapError(ValueError):
    """A register map file that is malformed, or registers that do not match the map."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ValueSlot(_Strict):
    parameter: str
    unit: str


class ParameterId(_Strict):
    parameter: str
    scale: float = 1.0  # after unit conversion, e.g. mg/L NH4+ to mg/L as N


class Block(_Strict):
    start: int = Field(ge=0, le=0xFFFF)
    layout: Literal["values", "parameter_blocks"]
    values: list[ValueSlot] = []
    blocks: int = Field(0, ge=0)
    block_size: int = Field(8, ge=5)
    fields: dict[str, int] = {}

    @model_validator(mode="after")
    def _shape(self) -> Block:
        if self.layout == "values" and not self.values:
            raise ValueError("a 'values' block needs its values listed")
        if self.layout == "parameter_blocks":
            missing = [f for f in _BLOCK_FIELDS if f not in self.fields]
            if self.blocks < 1 or missing:
                raise ValueError(f"a 'parameter_blocks' block needs blocks >= 1 and fields {list(_BLOCK_FIELDS)}"
                                 + (f" (missing: {missing})" if missing else ""))
        if self.count > 125:
            raise ValueError(f"{self.count} registers exceed one Modbus read (125)")
        return self

    @property
    def count(self) -> int:
        return 2 * len(self.values) if self.layout == "values" else self.blocks * self.block_size


class Status(_Strict):
    address: int = Field(ge=0, le=0xFFFF)
    flags: dict[int, Flag]
    otherwise: Flag = "D"


class RegisterMap(_Strict):
    """One sonde model's register map (see the module docstring)."""

    model: str
    table: Literal["holding", "input"] = "holding"
    word_order: Order = "big"
    byte_order: Order = "big"
    blocks: list[Block] = Field(min_length=1)
    status: Status | None = None
    parameters: dict[int, ParameterId] = {}
    units: dict[int, str] = {}
    quality: dict[int, Flag] = {}
    quality_otherwise: Flag = "D"

    @model_validator(mode="after")
    def _units_known(self) -> RegisterMap:
        try:
            for block in self.blocks:
                for slot in block.values:
                    if slot.parameter in CANONICAL:
                        converter(slot.parameter, slot.unit)
            for pid in self.parameters.values():
                if pid.parameter not in CANONICAL:
                    raise UnitError(f"parameter id table names {pid.parameter!r}, not a canonical parameter")
        except UnitError as exc:
            raise ValueError(str(exc)) from None
        return self

    @cached_property
    def reads(self) -> list[tuple[int, int]]:
        """(start register, count) of every read one poll makes, status last."""
        out = [(b.start, b.count) for b in self.blocks]
        return out + ([(self.status.address, 1)] if self.status else [])

    def decode(self, registers: list[list[int]], *, word_order: Order | None = None,
               byte_order: Order | None = None) -> SondeReading:
        """Canonical values and HJ 212 flags from one poll's registers (one list per read)."""
        if [len(r) for r in registers] != [count for _, count in self.reads]:
            raise MapError(f"{self.model}: expected reads of {[c for _, c in self.reads]} registers, "
                           f"got {[len(r) for r in registers]}")
        words, order = word_order or self.word_order, byte_order or self.byte_order
        values: dict[str, float] = {}
        flags: dict[str, str] = {}
        device: dict[str, Any] = {}
        status_flag = "N"
        if self.status:
            code = registers[-1][0]
            device["status"] = code
            status_flag = self.status.flags.get(code, self.status.otherwise)
        for block, regs in zip(self.blocks, registers):
            if block.layout == "values":
                floats = registers_to_float32(regs, words, order)
                for slot, raw in zip(block.values, floats.tolist()):
                    device[slot.parameter] = raw
                    if slot.parameter in CANONICAL:
                        values[slot.parameter] = converter(slot.parameter, slot.unit)(raw)
                        flags[slot.parameter] = status_flag
            else:
                self._decode_parameter_blocks(block, regs, words, order, values, flags, device)
        for name, value in values.items():
            if not math.isfinite(value):
                flags[name] = "D"
        return SondeReading(values, flags, device)

    def _decode_parameter_blocks(self, block: Block, regs: list[int], words: Order, order: Order,
                                 values: dict[str, float], flags: dict[str, str], device: dict[str, Any]) -> None:
        f = block.fields
        for i in range(block.blocks):
            cell = regs[i * block.block_size:(i + 1) * block.block_size]
            pid, uid, qid = cell[f["parameter"]], cell[f["unit"]], cell[f["quality"]]
            if pid == 0 or pid not in self.parameters:
                continue  # an empty slot, or a parameter the patrol log has no column for
            param = self.parameters[pid]
            if uid not in self.units:
                raise MapError(f"{self.model}: block {i} (register {block.start + i * block.block_size}) "
                               f"reports unit id {uid}, which the map does not know")
            raw = float(registers_to_float32(cell[f["value"]:f["value"] + 2], words, order)[0])
            try:
                value = converter(param.parameter, self.units[uid])(raw) * param.scale
            except UnitError as exc:
                raise MapError(f"{self.model}: block {i}: {exc}") from None
            values[param.parameter] = value
            flags[param.parameter] = self.quality.get(qid, self.quality_otherwise)
            device[param.parameter] = {"value": raw, "unit_id": uid, "quality_id": qid}

    def encode(self, values: dict[str, float], *, status: int = 0, quality: int = 0,
               word_order: Order | None = None, byte_order: Order | None = None) -> list[tuple[int, list[int]]]:
        """(start register, registers) per read, as the device would answer with these canonical values.

        Non-canonical channels (ORP, chlorophyll ...) and parameters not given read as NaN; a
        parameter block whose parameter is not given is an empty slot (parameter id 0).
        """
        words, order = word_order or self.word_order, byte_order or self.byte_order
        out = []
        for block in self.blocks:
            if block.layout == "values":
                floats = [from_canonical(s.parameter, s.unit, values[s.parameter])
                          if s.parameter in values and s.parameter in CANONICAL else math.nan for s in block.values]
                out.append((block.start, float32_to_registers(floats, words, order)))
            else:
                out.append((block.start, self._encode_parameter_blocks(block, values, quality, words, order)))
        if self.status:
            out.append((self.status.address, [status]))
        return out

    def _encode_parameter_blocks(self, block: Block, values: dict[str, float], quality: int,
                                 words: Order, order: Order) -> list[int]:
        regs = [0] * block.count
        given = [(pid, p) for pid, p in self.parameters.items() if p.parameter in values][: block.blocks]
        f = block.fields
        for i, (pid, param) in enumerate(given):
            uid = next(u for u, unit in self.units.items() if _converts(param.parameter, unit))
            raw = from_canonical(param.parameter, self.units[uid], values[param.parameter] / param.scale)
            base = i * block.block_size
            regs[base + f["value"]:base + f["value"] + 2] = float32_to_registers([raw], words, order)
            regs[base + f["parameter"]], regs[base + f["unit"]], regs[base + f["quality"]] = pid, uid, quality
        return regs


@dataclass(frozen=True, slots=True)
class SondeReading:
    """One poll: canonical values, an HJ 212 flag per value, and what the device said (its units)."""

    values: dict[str, float]
    flags: dict[str, str]
    device: dict[str, Any]


def _converts(parameter: str, unit: str) -> bool:
    try:
        converter(parameter, unit)
    except UnitError:
        return False
    return True


def registers_to_float32(regs: list[int], word_order: Order, byte_order: Order) -> np.ndarray:
    """float32 values from register pairs; big/big is the Modbus convention (ABCD)."""
    arr = np.asarray(regs, dtype=">u2")
    if byte_order == "little":
        arr = arr.byteswap()
    pairs = arr.reshape(-1, 2)
    if word_order == "little":
        pairs = pairs[:, ::-1]
    return np.ascontiguousarray(pairs).view(">f4").ravel().astype(np.float64)


def float32_to_registers(values: list[float], word_order: Order, byte_order: Order) -> list[int]:
    """The inverse of ``registers_to_float32``."""
    pairs = np.asarray(values, dtype=">f4").view(">u2").reshape(-1, 2)
    if word_order == "little":
        pairs = pairs[:, ::-1]
    arr = np.ascontiguousarray(pairs).ravel()
    if byte_order == "little":
        arr = arr.byteswap()
    return [int(r) for r in arr]


def load_map(name_or_path: str | Path) -> RegisterMap:
    """A shipped map by name (``yosemitech-y4000``, ``insitu-aquatroll600``) or a TOML file."""
    path = Path(name_or_path)
    if not path.suffix:
        path = MAPS_DIR / f"{name_or_path}.toml"
        if not path.is_file():
            shipped = ", ".join(sorted(p.stem for p in MAPS_DIR.glob("*.toml")))
            raise MapError(f"no register map named {name_or_path!r} (shipped: {shipped}; or give a .toml path)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MapError(f"{path}: cannot read register map: {exc}") from None
    try:
        return RegisterMap.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(top)'}: {e['msg']}" for e in exc.errors())
        raise MapError(f"{path}: invalid register map: {problems}") from None
