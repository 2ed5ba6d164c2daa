# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled inner loops of the avoidance's map queries and scan geometry.

These run on every ranging scan (ten a second, and for every scan of a short block in the twin)
on arrays a few dozen long, where numpy's fixed cost per call was most of the work. Each loop does
the same arithmetic, in the same order, as the numpy expression it replaced (``np.clip`` as a
min and max, ``np.hypot``, ``np.radians``), so results are the same to the bit.

The segment table (``NearWater``) has one column per centerline segment and the rows below.
"""

import numpy as np

from libc.math cimport INFINITY, M_PI, NAN, cos, fabs, hypot, isnan, sin, sqrt

cdef enum:  # rows of the segment table
    AX, AY  # start
    DX, DY  # extent
    LEN2  # squared length (at least 1e-12)
    S0  # chainage at the start
    LEN  # length

cdef double ROUNDING_M = 1e-9  # a bound this much looser cannot skip the nearest segment through rounding
cdef double DEG = M_PI / 180.0  # as np.radians has it


cdef struct Foot:
    Py_ssize_t j  # nearest segment, -1 for a point that is not finite
    double gap  # distance to it
    double f  # fraction along it, clamped to [0, 1]
    double raw  # ... unclamped


cdef inline double _gap_to(const double[:, ::1] table, Py_ssize_t j, double x, double y, double* f,
                           double* raw) noexcept nogil:
    cdef double ax = table[AX, j], ay = table[AY, j], dx = table[DX, j], dy = table[DY, j]
    raw[0] = ((x - ax) * dx + (y - ay) * dy) / table[LEN2, j]
    f[0] = min(max(raw[0], 0.0), 1.0)
    return hypot(ax + dx * f[0] - x, ay + dy * f[0] - y)


cdef inline double _rough_gap(const double[:, ::1] table, Py_ssize_t j, double x, double y) noexcept nogil:
    """``_gap_to`` within an ulp, for bounds: sqrt is several times cheaper than hypot."""
    cdef double ax = table[AX, j], ay = table[AY, j], dx = table[DX, j], dy = table[DY, j]
    cdef double f = min(max(((x - ax) * dx + (y - ay) * dy) / table[LEN2, j], 0.0), 1.0)
    cdef double ex = ax + dx * f - x, ey = ay + dy * f - y
    return sqrt(ex * ex + ey * ey)


cdef inline double _interp(double v, const double[::1] xp, const double[::1] fp, Py_ssize_t guess) noexcept nogil:
    """``np.interp`` for one value (exact at the vertices, clamped past the ends), starting the
    search at interval ``guess``."""
    cdef Py_ssize_t last = xp.shape[0] - 1, lo, hi, mid
    if isnan(v):
        return v
    if v >= xp[last]:
        return fp[last]
    if v < xp[0]:
        return fp[0]
    if xp[guess] <= v < xp[guess + 1]:
        lo = guess
    else:
        lo, hi = 0, last
        while hi - lo > 1:  # xp[lo] <= v < xp[hi]
            mid = (lo + hi) // 2
            if xp[mid] <= v:
                lo = mid
            else:
                hi = mid
    if xp[lo] == v:
        return fp[lo]
    return (fp[lo + 1] - fp[lo]) / (xp[lo + 1] - xp[lo]) * (v - xp[lo]) + fp[lo]


cdef class Segments:
    """The centerline segments that can be nearest to points around one focus, and the queries on them.

    A segment farther from the focus than a point is, by more than the nearest distance found so
    far, cannot be nearer to the point (triangle inequality) and is skipped; the segment nearest
    the focus gives the first bound. Ties go to the first segment, as in the full projection.
    """

    cdef const double[:, ::1] table
    cdef const double[::1] vertex_s, widths
    cdef double[::1] gaps  # each picked segment's distance to the focus
    cdef Py_ssize_t lo, hi, home
    cdef double x, y

    def __init__(self, const double[:, ::1] table, const double[::1] vertex_s, const double[::1] widths):
        self.table, self.vertex_s, self.widths = table, vertex_s, widths
        self.gaps = np.empty(table.shape[1])
        self._pick(0, 1, 0.0, 0.0)

    def pick_around(self, Py_ssize_t hint, double x, double y, double reach_m):
        """Pick the segments whose chainage lies within ``reach_m`` of segment ``hint``'s, for the focus (x, y)."""
        cdef const double[::1] vs = self.vertex_s
        cdef double below = vs[hint] - reach_m, above = vs[hint] + reach_m + self.table[LEN, hint]
        cdef Py_ssize_t lo = hint, hi = hint
        while lo >= 0 and vs[lo] > below:
            lo -= 1
        while hi < vs.shape[0] and vs[hi] < above:
            hi += 1
        self._pick(max(lo, 0), min(hi, self.table.shape[1]), x, y)

    cdef void _pick(self, Py_ssize_t lo, Py_ssize_t hi, double x, double y) noexcept:
        """Pick segments lo to hi (exclusive) for the focus (x, y)."""
        cdef Py_ssize_t j
        self.lo, self.hi, self.home, self.x, self.y = lo, hi, lo, x, y
        for j in range(lo, hi):
            self.gaps[j] = _rough_gap(self.table, j, x, y)
            if self.gaps[j] < self.gaps[self.home]:
                self.home = j

    cdef Foot _nearest(self, double x, double y) noexcept nogil:
        cdef Foot best
        cdef double f, raw, gap, ex = x - self.x, ey = y - self.y
        cdef double off_focus = sqrt(ex * ex + ey * ey)
        cdef double bound = _rough_gap(self.table, self.home, x, y) + ROUNDING_M
        cdef Py_ssize_t j
        best.j, best.gap, best.f, best.raw = -1, INFINITY, 0.0, 0.0
        for j in range(self.lo, self.hi):
            if self.gaps[j] - off_focus <= bound:
                gap = _gap_to(self.table, j, x, y, &f, &raw)
                if gap < best.gap:
                    best.j, best.gap, best.f, best.raw = j, gap, f, raw
                    bound = min(bound, gap + ROUNDING_M)
        return best

    cdef void _river_point(self, double x, double y, double* s, double* n, bint* past_end,
                           Py_ssize_t* segment) noexcept nogil:
        cdef Foot foot = self._nearest(x, y)
        cdef Py_ssize_t j = foot.j
        cdef const double[:, ::1] table = self.table
        segment[0] = j
        if j < 0:
            s[0], n[0], past_end[0] = NAN, NAN, False
            return
        s[0] = table[S0, j] + foot.f * table[LEN, j]
        n[0] = foot.gap if table[DX, j] * (y - table[AY, j]) - table[DY, j] * (x - table[AX, j]) >= 0.0 else -foot.gap
        past_end[0] = (j == 0 and foot.raw < 0.0) or (j == table.shape[1] - 1 and foot.raw > 1.0)

    cdef double _clearance(self, double x, double y) noexcept nogil:
        cdef double s, n, c
        cdef bint past_end
        cdef Py_ssize_t j
        self._river_point(x, y, &s, &n, &past_end, &j)
        c = min(_interp(s, self.vertex_s, self.widths, max(j, 0)) / 2.0 - fabs(n),
                min(s, self.vertex_s[self.vertex_s.shape[0] - 1] - s))
        return -fabs(c) - 1e-9 if past_end else c

    def river_coords(self, const double[::1] x, const double[::1] y):
        """(s, n, past either end of the reach) of each point."""
        cdef Py_ssize_t i, j, count = x.shape[0]
        s, n, past_end = np.empty(count), np.empty(count), np.empty(count, dtype=bool)
        cdef double[::1] s_out = s, n_out = n
        cdef unsigned char[::1] past_out = past_end.view(np.uint8)
        cdef bint past
        for i in range(count):
            self._river_point(x[i], y[i], &s_out[i], &n_out[i], &past, &j)
            past_out[i] = past
        return s, n, past_end

    def clearance(self, const double[::1] x, const double[::1] y):
        """Distance from each point to the water's edge (banks and end sections), negative outside."""
        cdef Py_ssize_t i
        out = np.empty(x.shape[0])
        cdef double[::1] clear = out
        for i in range(x.shape[0]):
            clear[i] = self._clearance(x[i], y[i])
        return out

    def off_the_banks(self, double x, double y, points, double tolerance_m, double per_m):
        """Rows of ``points`` whose clearance exceeds ``tolerance_m + per_m * d``, d their distance from (x, y)."""
        cdef const double[:, :] p = points
        cdef Py_ssize_t i, count = p.shape[0]
        keep = np.empty(count, dtype=bool)
        cdef unsigned char[::1] kept = keep.view(np.uint8)
        for i in range(count):
            kept[i] = self._clearance(p[i, 0], p[i, 1]) > tolerance_m + hypot(p[i, 0] - x, p[i, 1] - y) * per_m
        return points[keep]


def scan_points(double x, double y, double heading_deg, const unsigned short[::1] distances_cm,
                double increment_deg, int max_cm):
    """Local points (k x 2, bearing order) of the sectors that saw something."""
    cdef Py_ssize_t i, k = 0, count = 0
    for i in range(distances_cm.shape[0]):
        count += distances_cm[i] <= max_cm
    out = np.empty((count, 2))
    cdef double[:, ::1] points = out
    cdef double d, bearing
    for i in range(distances_cm.shape[0]):
        if distances_cm[i] <= max_cm:
            d = distances_cm[i] / 100.0
            bearing = (heading_deg + i * increment_deg) * DEG
            points[k, 0] = x + d * sin(bearing)
            points[k, 1] = y + d * cos(bearing)
            k += 1
    return out


def clusters(const double[:, ::1] points, double link_m):
    """Runs of consecutive points (bearing order, wrapping round) less than ``link_m`` apart.

    Returns the points rolled to start just after the last gap (as they are if there is none),
    the index where each run starts in that order, and each run's centre (summed in order, as
    numpy's mean over rows does).
    """
    cdef Py_ssize_t k = points.shape[0], i, j, r, start = 0, runs = 0
    for i in range(k):
        j = (i + 1) % k
        if hypot(points[j, 0] - points[i, 0], points[j, 1] - points[i, 1]) >= link_m:
            start = j
    rolled = np.empty((k, 2))
    starts_out = np.empty(k, dtype=np.intp)
    centres_out = np.empty((k, 2))
    cdef double[:, ::1] out = rolled, centres = centres_out
    cdef Py_ssize_t[::1] starts = starts_out
    cdef double sx = 0.0, sy = 0.0
    cdef Py_ssize_t first = 0
    for r in range(k):
        i = (start + r) % k
        out[r, 0], out[r, 1] = points[i, 0], points[i, 1]
        if r > 0 and hypot(out[r, 0] - out[r - 1, 0], out[r, 1] - out[r - 1, 1]) >= link_m:
            starts[runs] = first
            centres[runs, 0], centres[runs, 1] = sx / (r - first), sy / (r - first)
            runs += 1
            first = r
        if r == first:
            sx, sy = out[r, 0], out[r, 1]
        else:
            sx += out[r, 0]
            sy += out[r, 1]
    if k:
        starts[runs] = first
        centres[runs, 0], centres[runs, 1] = sx / (k - first), sy / (k - first)
        runs += 1
    return rolled, starts_out[:runs], centres_out[:runs]
