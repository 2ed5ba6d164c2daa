"""Running maxima over windows of samples: the QC's spike floor and ceiling, the sonar's look-ahead.

From maxima over doubling spans (two overlapping ones cover any window), in numpy: scipy.ndimage's
filters did the same, but their import cost ``analyze`` more than the filtering.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray


def running_max(a: NDArray[Any], width: int) -> NDArray[Any]:
    """Maximum over ``a[..., i : i + width]`` for every window that fits along the last axis."""
    fits = a.shape[-1] - width + 1
    if width < 1 or fits < 1:
        raise ValueError(f"a window of {width} does not fit in {a.shape[-1]} samples")
    out, span = a, 1
    while 2 * span <= width:
        out = np.maximum(out[..., :-span], out[..., span:])  # maxima over 2 * span
        span *= 2
    return np.maximum(out[..., :fits], out[..., width - span : width - span + fits])
