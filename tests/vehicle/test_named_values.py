"""The NAMED_VALUE_FLOAT names of the sonde's parameters."""

from __future__ import annotations

from riverpatrol.scenario import PARAMETERS
from riverpatrol.vehicle.named_values import PARAMETER_OF, SONDE_NAMES


def test_every_parameter_has_a_distinct_name_that_fits_the_message() -> None:
    assert set(SONDE_NAMES) == set(PARAMETERS)
    assert set(PARAMETER_OF.values()) == set(PARAMETERS)  # no two parameters share a name
    assert all(name.isascii() and len(name) <= 10 for name in PARAMETER_OF)  # char[10] on the wire
