"""Camera sightings of discoloured water confirm findings or stand on their own."""

from __future__ import annotations

import numpy as np

from riverpatrol.analysis.camera_evidence import Sighting, _cluster, _plume_pixels, with_camera
from riverpatrol.analysis.findings import Finding


def test_brown_water_below_the_horizon_is_found_and_nothing_else() -> None:
    image = np.zeros((480, 640, 3), np.uint8)
    image[:240] = (190, 212, 232)  # sky
    image[240:] = (60, 90, 100)  # water
    image[300:306, 400:420] = (150, 124, 70)  # a plume patch
    image[100:130, 100:140] = (150, 124, 70)  # the same colour above the horizon is not water
    image[420:421, 10:12] = (150, 124, 70)  # two stray pixels are JPEG noise, not a plume
    image[350:360, 100:160] = (128, 120, 104)  # embankment grey-brown is not plume
    rows, cols = _plume_pixels(image, 240)
    assert rows.size == 6 * 20 + 2
    assert np.count_nonzero((rows >= 300) & (rows < 306) & (cols >= 400) & (cols < 420)) == 6 * 20
    clean = image.copy()
    clean[300:306, 400:420] = (60, 90, 100)
    assert _plume_pixels(clean, 240) is None  # the stray pixels alone are too few


def test_sightings_cluster_by_bank_and_chainage() -> None:
    points = [(500.0, 9.0), (505.0, 8.5), (512.0, 9.5), (900.0, -9.0), (700.0, 9.0)]
    sightings = _cluster(points)
    assert [(round(s.s), s.bank, s.frames) for s in sightings] == [(505, "left", 3), (700, "left", 1), (900, "right", 1)]


def test_a_sighting_confirms_a_nearby_finding_and_only_repeated_sightings_stand_alone() -> None:
    found = [Finding(s=1000.0, bank="left", confidence=0.9, uncertainty_m=1.0, evidence={"parameters": {}})]
    sightings = [Sighting(1008.0, "left", 4, 6.0), Sighting(1500.0, "right", 3, 4.0), Sighting(1800.0, "left", 1, 0.0)]
    merged = with_camera(found, sightings)
    assert [(f.s, f.bank) for f in merged] == [(1000.0, "left"), (1500.0, "right")]
    assert merged[0].evidence["camera"]["frames"] == 4 and "parameters" in merged[0].evidence
    assert merged[1].confidence < merged[0].confidence and "camera" in merged[1].evidence
