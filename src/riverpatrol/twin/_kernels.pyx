# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled inner loops of the twin's ranging ring: bank samples gathered around each pose, outline
points binned into sectors.

In float32 as the numpy version they replaced, with the same operations in the same order.
"""

import numpy as np

from libc.math cimport atan2f, hypotf


def bin_points(float[::1] best, const float[:, :, :] cloud, const double[::1] x, const double[::1] y,
               const double[::1] psi, float spacing, float step, float range_m, int sectors):
    """Lower each sector's distance (scans x sectors, flat) to the nearest in-range point of
    ``cloud`` (scans x points x 2).

    A point stands for ``spacing`` metres of outline, so close up it spans several sectors: each
    point is spread over every sector its piece of outline covers, leaving no gaps. Sectors count
    clockwise from the bow, offset by whole turns so that truncation is floor.
    """
    cdef float inv_step = <float>1.0 / step
    cdef float half_width = spacing / <float>2.0 * inv_step
    cdef float widest = <float>(sectors / 4.0)
    cdef float ox, oy, bow, dx, dy, dist, bearing, spread
    cdef Py_ssize_t i, p, row, sector, k
    for i in range(cloud.shape[0]):
        ox, oy = <float>x[i], <float>y[i]
        bow = <float>(psi[i] * <double>inv_step + 0.5 + 4 * sectors)
        row = i * sectors
        for p in range(cloud.shape[1]):
            dx, dy = cloud[i, p, 0] - ox, cloud[i, p, 1] - oy
            dist = hypotf(dx, dy)
            if dist <= range_m:
                bearing = bow - atan2f(dy, dx) * inv_step
                spread = min(half_width / dist, widest)
                for sector in range(<int>(bearing - spread), <int>(bearing + spread) + 1):
                    k = row + sector % sectors
                    if dist < best[k]:
                        best[k] = dist


def windows(const float[:, ::1] xy, const Py_ssize_t[::1] first, Py_ssize_t width):
    """Per pose i, ``width`` samples of ``xy`` from ``first[i]`` on (scans x width x 2), the last
    sample repeated past the end."""
    out = np.empty((first.shape[0], width, 2), dtype=np.float32)
    cdef float[:, :, ::1] w = out
    cdef Py_ssize_t i, k, p, last = xy.shape[0] - 1
    for i in range(first.shape[0]):
        for k in range(width):
            p = min(first[i] + k, last)
            w[i, k, 0], w[i, k, 1] = xy[p, 0], xy[p, 1]
    return out
