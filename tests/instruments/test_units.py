import math

import pytest

from riverpatrol.instruments.units import CANONICAL, UnitError, converter, from_canonical
from riverpatrol.scenario import PARAMETERS


def test_every_contract_parameter_has_its_canonical_unit():
    assert set(CANONICAL) == set(PARAMETERS)
    for name, unit in CANONICAL.items():
        assert converter(name, unit)(3.25) == 3.25


@pytest.mark.parametrize(("param", "unit", "raw", "canonical"), [
    ("conductivity", "mS/cm", 0.42, 420.0),
    ("conductivity", "S/m", 0.042, 420.0),
    ("temperature", "degF", 63.5, 17.5),
    ("temperature", "K", 290.65, 17.5),
    ("do", "ug/L", 7600.0, 7.6),
])
def test_conversions_and_their_inverse(param, unit, raw, canonical):
    assert math.isclose(converter(param, unit)(raw), canonical, rel_tol=1e-12)
    assert math.isclose(from_canonical(param, unit, canonical), raw, rel_tol=1e-12)


def test_unknown_unit_names_parameter_and_known_units():
    with pytest.raises(UnitError, match=r"conductivity in 'mS/m'.*known units: S/m, mS/cm, uS/cm"):
        converter("conductivity", "mS/m")
    with pytest.raises(UnitError, match="'orp' is not a canonical parameter"):
        converter("orp", "mV")
