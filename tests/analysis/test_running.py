"""Running maxima: scipy.ndimage's filters, which they replace, give the same."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import maximum_filter1d

from riverpatrol.analysis.running import running_max


@pytest.mark.parametrize("width", [1, 2, 3, 5, 8, 13, 64, 100])
def test_running_max_is_the_maximum_filter_over_windows_that_fit(width: int) -> None:
    a = np.random.default_rng(width).normal(size=(3, 150))
    ref = maximum_filter1d(a, width, axis=1, origin=-(width // 2))[:, : a.shape[1] - width + 1]
    np.testing.assert_array_equal(running_max(a, width), ref)


def test_a_window_longer_than_the_samples_is_refused() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        running_max(np.zeros(4), 5)
