"""Multiple comparisons: adjusting p-values when many tests are read together."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def holm_adjust(p_values: ArrayLike) -> np.ndarray:
    """Holm's step-down adjustment of p-values for several tests.

    Parameters
    ----------
    p_values
        Raw p-values; NaN (no test possible) stays NaN and is not counted among the tests.

    Returns
    -------
    ndarray
        Adjusted p-values in the input order, the same as R's ``p.adjust(p, method = "holm")``.

    Notes
    -----
    With the ``m`` available p-values sorted, ``p_(1) <= ... <= p_(m)``, the adjusted value is
    ``max over j <= i of min(1, (m - j + 1) p_(j))``. Holm controls the chance of any false
    "significant" result at the nominal level, like Bonferroni, but rejects at least as often.

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian
    Journal of Statistics*, 6(2), 65-70.

    Examples
    --------
    >>> holm_adjust([0.01, 0.04, 0.03, 0.005]).round(3).tolist()
    [0.03, 0.06, 0.06, 0.02]
    """
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    available = np.flatnonzero(~np.isnan(p))
    if available.size == 0:
        return adjusted
    order = available[np.argsort(p[available], kind="stable")]
    m = order.size
    scaled = np.minimum(1.0, p[order] * (m - np.arange(m)))
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted
