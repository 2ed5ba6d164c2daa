"""The live video overlay: the capture clock a page reads back from the frame's pixels."""

from __future__ import annotations

import numpy as np
import simplejpeg

from riverpatrol.station.video import CODE_BITS, read_code, stamp


def test_the_capture_clock_reads_back_from_a_stamped_frame() -> None:
    rng = np.random.default_rng(1)
    raw = simplejpeg.encode_jpeg(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8), quality=80, colorspace="RGB")
    for captured in (1_764_370_000.123, 1_764_370_000.124, 1_764_379_999.999):
        pixels = simplejpeg.decode_jpeg(stamp(raw, 12.3, captured), colorspace="RGB")
        assert pixels.shape == (480, 640, 3)
        assert read_code(pixels) == round(captured * 1000) % 2**CODE_BITS
