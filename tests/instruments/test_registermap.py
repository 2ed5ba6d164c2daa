import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riverpatrol.instruments.registermap import (
    MapError,
    float32_to_registers,
    load_map,
    registers_to_float32,
)

READING = {"do": 7.5, "turbidity": 11.0, "conductivity": 420.0, "ph": 7.25, "temperature": 17.5, "nh3n": 0.5}


def test_y4000_float_layout_is_the_published_little_endian_one():
    y4000 = load_map("yosemitech-y4000")
    assert y4000.reads == [(0x2601, 16), (0x0800, 1)]
    (_, regs), _ = y4000.encode({"do": 8.0})
    # 8.0f is 0x41000000; the Y4000 sends its bytes reversed: 00 00 00 41
    assert regs[:2] == [0x0000, 0x0041]


@pytest.mark.parametrize("name", ["yosemitech-y4000", "insitu-aquatroll600"])
def test_decode_inverts_encode_in_canonical_units(name):
    regmap = load_map(name)
    reading = regmap.decode([regs for _, regs in regmap.encode(READING)])
    assert reading.values.keys() <= READING.keys()
    assert {"do", "conductivity", "temperature", "ph", "turbidity"} <= reading.values.keys()
    for key, value in reading.values.items():
        assert math.isclose(value, READING[key], rel_tol=1e-6)
    assert set(reading.flags.values()) == {"N"}


def test_y4000_reports_conductivity_in_ms_per_cm_and_the_log_gets_us_per_cm():
    regmap = load_map("yosemitech-y4000")
    reading = regmap.decode([regs for _, regs in regmap.encode(READING)])
    assert math.isclose(reading.device["conductivity"], 0.42, rel_tol=1e-6)
    assert math.isclose(reading.values["conductivity"], 420.0, rel_tol=1e-6)


def test_device_codes_become_hj212_flags():
    y4000 = load_map("yosemitech-y4000")
    assert set(y4000.decode([r for _, r in y4000.encode(READING, status=5)]).flags.values()) == {"D"}
    troll = load_map("insitu-aquatroll600")
    for quality, flag in [(0, "N"), (3, "D"), (4, "M"), (6, "C"), (7, "B"), (99, "D")]:
        assert set(troll.decode([r for _, r in troll.encode(READING, quality=quality)]).flags.values()) == {flag}


def test_a_nan_value_is_a_fault():
    y4000 = load_map("yosemitech-y4000")
    reading = y4000.decode([r for _, r in y4000.encode({**READING, "ph": math.nan})])
    assert reading.flags["ph"] == "D" and reading.flags["do"] == "N"


def test_unknown_unit_id_names_block_and_register():
    troll = load_map("insitu-aquatroll600")
    (start, regs), = troll.encode({"temperature": 17.5})
    regs[3] = 4242
    with pytest.raises(MapError, match=r"block 0 \(register 5450\) reports unit id 4242"):
        troll.decode([regs])


def test_wrong_number_of_registers_is_a_map_mismatch():
    with pytest.raises(MapError, match=r"expected reads of \[16, 1\] registers, got \[10, 1\]"):
        load_map("yosemitech-y4000").decode([[0] * 10, [0]])


@given(st.floats(width=32, allow_nan=False), st.sampled_from(["big", "little"]), st.sampled_from(["big", "little"]))
def test_word_and_byte_order_round_trip(value, words, order):
    regs = float32_to_registers([value], words, order)
    assert registers_to_float32(regs, words, order)[0] == value
    if (words, order) == ("big", "big"):  # the Modbus convention: ABCD
        assert struct.pack(">HH", *regs) == struct.pack(">f", value)


def test_bad_map_files_are_named(tmp_path):
    with pytest.raises(MapError, match="no register map named 'y9000'.*yosemitech-y4000"):
        load_map("y9000")
    bad = tmp_path / "bad.toml"
    bad.write_text('model = "X"\n[[blocks]]\nstart = 0\nlayout = "values"\n'
                   'values = [{ parameter = "conductivity", unit = "furlongs" }]\n')
    with pytest.raises(MapError, match=r"bad.toml: invalid register map: .*conductivity in 'furlongs'"):
        load_map(bad)
    bad.write_text('model = "X"\nwords = "big"\n[[blocks]]\nstart = 0\nlayout = "values"\nvalues = []\n')
    with pytest.raises(MapError, match=r"words: Extra inputs are not permitted"):
        load_map(bad)
