"""The live video overlay: the capture clock a page reads back from the frame's pixels."""

from __future__ import annotations

import numpy as np
import simplejpeg

from riverpatrol.station.video import CODE_BITS, CODE_CELL_PX, CODE_X, CODE_Y, capture_clock, read_clock, stamp


def test_the_capture_clock_reads_back_from_a_stamped_frame() -> None:
    rng = np.random.default_rng(1)
    raw = simplejpeg.encode_jpeg(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8), quality=80, colorspace="RGB")
    for captured in (1_764_370_000.123, 1_764_370_000.124, 1_764_379_999.999):
        pixels = simplejpeg.decode_jpeg(stamp(raw, 12.3, captured), colorspace="RGB")
        assert pixels.shape == (480, 640, 3)
        assert read_clock(pixels) == capture_clock(captured) == round(captured * 1000) % 2**24


def test_a_misread_cell_is_caught_not_timed() -> None:
    raw = simplejpeg.encode_jpeg(np.zeros((480, 640, 3), np.uint8), quality=80, colorspace="RGB")
    pixels = simplejpeg.decode_jpeg(stamp(raw, 1.0, 1_764_370_000.5), colorspace="RGB")
    for bit in (0, 7, 23, 24, CODE_BITS - 1):  # a clock cell or a check cell turned over
        flipped = pixels.copy()
        x = CODE_X + bit * CODE_CELL_PX
        cell = flipped[CODE_Y:CODE_Y + CODE_CELL_PX, x:x + CODE_CELL_PX]
        cell[...] = 255 - cell
        assert read_clock(flipped) is None
