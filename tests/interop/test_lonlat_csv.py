"""CSV lon,lat rows keep the text as written (for echoing back) beside their numbers."""

from __future__ import annotations

import pytest

from riverpatrol.interop.lonlat_csv import LonLatError, parse_lonlat_csv


def test_rows_keep_their_text_and_skip_blank_lines() -> None:
    assert parse_lonlat_csv(" 121.38 , 28.37\n\n121.381,28.372\n", "p.csv") == [
        ("121.38,28.37", 121.38, 28.37), ("121.381,28.372", 121.381, 28.372)]


@pytest.mark.parametrize("line", ["121.38", "121.38,28.37,4", "east,north"])
def test_a_bad_line_is_named_with_its_number(line: str) -> None:
    with pytest.raises(LonLatError, match=rf"p.csv:2: expected 'lon,lat', got '{line}'"):
        parse_lonlat_csv(f"121.38,28.37\n{line}\n", "p.csv")
