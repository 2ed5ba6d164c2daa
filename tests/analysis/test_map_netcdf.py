"""Whole-river maps as NetCDF: one CF-style file, every parameter on one grid, round trip."""

from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np
import pytest

from riverpatrol.analysis.map_netcdf import write_netcdf
from riverpatrol.analysis.mapping import RiverGrid, river_map
from riverpatrol.geo.frame import RiverFrame


def test_netcdf_round_trips(kriged: RiverGrid, tmp_path: Path) -> None:
    grid = kriged
    path = tmp_path / "map.nc"
    write_netcdf({"conductivity": grid, "nh3n": grid}, path)
    with netCDF4.Dataset(path) as nc:
        assert nc.Conventions == "CF-1.8" and nc.source == "riverpatrol" and nc.title
        assert {k: len(d) for k, d in nc.dimensions.items()} == {"s": grid.s.size, "n": grid.n.size, "nv": 2}
        assert {"s", "n", "lon", "lat", "conductivity", "conductivity_std", "nh3n", "nh3n_std"} <= set(nc.variables)
        np.testing.assert_array_equal(nc["s"][:], grid.s)
        np.testing.assert_array_equal(nc["n"][:], grid.n)
        assert nc["s"].bounds == "s_bnds" and nc["s"].units == "m"
        np.testing.assert_allclose(np.ptp(nc["s_bnds"][:], axis=1), grid.ds)
        np.testing.assert_allclose(nc["n_bnds"][:].mean(axis=1), grid.n)
        np.testing.assert_array_equal(nc["lon"][:], grid.lon)
        cond, std = nc["conductivity"], nc["conductivity_std"]
        assert cond.dimensions == ("s", "n") and cond.units == "uS cm-1" and std.units == "uS cm-1"
        assert nc["nh3n"].units == "mg L-1" and "ammonia" in nc["nh3n"].long_name
        assert "standard deviation" in std.long_name and cond.ancillary_variables == "conductivity_std"
        assert cond.coordinates == "lat lon" and nc["lat"].standard_name == "latitude"
        assert cond.covariance_len_along == pytest.approx(grid.covariance.len_along)
        back = cond[:]
        np.testing.assert_array_equal(np.ma.getmaskarray(back), np.ma.getmaskarray(grid.estimate))
        np.testing.assert_array_equal(back.compressed(), grid.estimate.compressed())
        np.testing.assert_array_equal(std[:].compressed(), grid.std.compressed())


def test_netcdf_refuses_unknown_parameters_and_mixed_grids(kriged: RiverGrid, straight_reach: RiverFrame,
                                                           scattered: tuple[np.ndarray, ...], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not canonical"):
        write_netcdf({"salinity": kriged}, tmp_path / "a.nc")
    coarse = river_map(straight_reach, *scattered, ds=10.0)
    with pytest.raises(ValueError, match="grid differs"):
        write_netcdf({"conductivity": kriged, "nh3n": coarse}, tmp_path / "b.nc")
