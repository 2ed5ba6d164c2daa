"""Whole-river maps as one CF-1.8 style NetCDF4 file: every mapped parameter on one (s, n) grid,
with its kriging standard deviation and covariance model, and the lon/lat of every cell."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, datetime

import netCDF4
import numpy as np

from riverpatrol.analysis.mapping import RiverGrid
from riverpatrol.scenario import PARAMETERS

LONG_NAMES: dict[str, str] = {
    "temperature": "water temperature", "ph": "pH", "do": "dissolved oxygen",
    "conductivity": "specific conductance at 25 degC", "turbidity": "turbidity",
    "nh3n": "ammonia nitrogen (NH3-N)", "codmn": "permanganate index (CODMn)",
    "cod": "chemical oxygen demand (COD)", "tp": "total phosphorus",
}
CF_UNITS: dict[str, str] = {  # UDUNITS spellings of the spec's units (NTU has none; kept as is)
    "temperature": "degC", "ph": "1", "do": "mg L-1", "conductivity": "uS cm-1", "turbidity": "NTU",
    "nh3n": "mg L-1", "codmn": "mg L-1", "cod": "mg L-1", "tp": "mg L-1",
}
_FILL = float(netCDF4.default_fillvals["f8"])


def write_netcdf(grids: Mapping[str, RiverGrid], path: str | os.PathLike[str]) -> None:
    """Write maps of canonical parameters, all on one grid, as a CF-1.8 style NetCDF4 file."""
    if not grids:
        raise ValueError("no maps to write")
    unknown = sorted(set(grids) - set(PARAMETERS))
    if unknown:
        raise ValueError(f"not canonical parameters: {', '.join(unknown)} (known: {', '.join(PARAMETERS)})")
    first = next(iter(grids.values()))
    for name, grid in grids.items():
        if not (np.array_equal(grid.s, first.s) and np.array_equal(grid.n, first.n)):
            raise ValueError(f"{name}: its grid differs from the others'; write one file per grid")
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        _write_frame(nc, first)
        for name, grid in grids.items():
            _write_parameter(nc, name, grid)


def _write_frame(nc: netCDF4.Dataset, grid: RiverGrid) -> None:
    nc.setncatts({
        "Conventions": "CF-1.8", "title": "Whole-river water-quality map in river coordinates (s, n)",
        "source": "riverpatrol", "history": f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} riverpatrol mapping",
        "comment": "Ordinary kriging of sonde samples with an anisotropic exponential covariance fitted "
                   "in (s, n), one correlation model for all parameters (each its own variance); cells "
                   "outside the water are _FillValue. Method: docs/analysis.md.",
    })
    nc.createDimension("s", grid.s.size)
    nc.createDimension("n", grid.n.size)
    nc.createDimension("nv", 2)
    axes = {"s": (grid.s, grid.s_edges, "chainage along the centerline from its first (upstream) vertex"),
            "n": (grid.n, grid.n_edges,
                  "signed offset from the centerline, positive on the left bank looking downstream")}
    for name, (values, edges, long_name) in axes.items():
        var = nc.createVariable(name, "f8", (name,))
        var.setncatts({"units": "m", "long_name": long_name, "axis": "X" if name == "s" else "Y",
                       "bounds": f"{name}_bnds"})
        var[:] = values
        nc.createVariable(f"{name}_bnds", "f8", (name, "nv"))[:] = np.column_stack([edges[:-1], edges[1:]])
    for name, values, units in (("lon", grid.lon, "degrees_east"), ("lat", grid.lat, "degrees_north")):
        var = nc.createVariable(name, "f8", ("s", "n"), compression="zlib")
        var.setncatts({"units": units, "standard_name": "longitude" if name == "lon" else "latitude",
                       "long_name": f"{'longitude' if name == 'lon' else 'latitude'} of the cell centre (WGS84)"})
        var[:] = values


def _write_parameter(nc: netCDF4.Dataset, name: str, grid: RiverGrid) -> None:
    model = {f"covariance_{k}": v for k, v in asdict(grid.covariance).items()}
    for var_name, data, long_name in ((name, grid.estimate, LONG_NAMES[name]),
                                      (f"{name}_std", grid.std, f"kriging standard deviation of {LONG_NAMES[name]}")):
        var = nc.createVariable(var_name, "f8", ("s", "n"), compression="zlib", fill_value=_FILL)
        var.setncatts({"units": CF_UNITS[name], "long_name": long_name, "coordinates": "lat lon"})
        var[:] = data
    nc[name].setncatts({"ancillary_variables": f"{name}_std", "samples": grid.samples, "bins": grid.bins,
                        **model})


