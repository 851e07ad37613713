"""The Wilcoxon signed-rank test and the matched-pairs rank-biserial r, right for small samples with ties.

Likert answers always tie, so the textbook rule "exact when there are no ties, else the normal
approximation" (R's ``wilcox.test``, scipy's ``method='auto'``) falls back to the normal
approximation exactly where it is worst: a handful of changed answers. Six respondents who all
moved up one point get p = 0.020 from it; the exact answer is 2/64 = 0.031.

The rule used here
------------------
Zero differences are dropped (Wilcoxon's method, as R's ``wilcox.test``); the others are ranked by
size, tied sizes sharing their mid-rank. With at most :data:`EXACT_LIMIT` (200) non-zero
differences the p-value comes from the **exact permutation distribution** of the sum of positive
ranks: under no change each sign is equally likely to be + or -, independently, so every one of
the 2^n sign patterns of the observed (tied) ranks is equally likely. The distribution is counted,
not sampled, with the shift algorithm (Streitberg & Röhmel 1986) on doubled ranks (mid-ranks are
halves, so doubling makes them whole), which is what ``exactRankTests::wilcox.exact`` and
``coin::wilcoxsign_test(distribution = "exact")`` compute in R. Without ties it is the classical
exact distribution. Counting is quick (a few milliseconds for 200), so the limit is set where the
normal approximation with the tie-corrected variance and a continuity correction (R's
``wilcox.test``), used above it, is within a few thousandths of the exact p on Likert data; at 14
non-zero differences it can be out by 0.05.
The two-sided p-value is twice the smaller tail, capped at 1 (the distribution is symmetric, so this
is also the probability of a statistic at least as far from its mean).

The rank-biserial interval
--------------------------
Kerby's ``r = (W+ - W-) / (W+ + W-)`` is ``2 W+ / T - 1`` with ``T`` the sum of the ranks. The
interval inverts the same exact test: if each changed answer is independently an improvement with
probability ``theta`` (whatever its size), ``W+`` has mean ``theta T`` and a distribution counted
exactly as above, and ``rho = 2 theta - 1`` is the rank-biserial r expected. The limits are the
``theta`` at which the observed ``W+`` sits at the ``alpha / 2`` tails (Clopper & Pearson's
construction; Casella & Berger 2002, section 9.2.3). So the interval excludes 0 exactly when the
exact test gives p < alpha, it never collapses at r = +-1 (six unanimous improvements give
[0.08, 1]), and with all changes the same size it is the Clopper-Pearson interval of the share who
improved. Above 200 non-zero differences it is its normal form, a Wilson score interval with
effective size ``T^2 / sum(rank^2)``.

References
----------
Casella, G., & Berger, R. L. (2002). *Statistical inference* (2nd ed.). Duxbury.
Clopper, C. J., & Pearson, E. S. (1934). The use of confidence or fiducial limits illustrated in the
case of the binomial. *Biometrika*, 26(4), 404-413.
Kerby, D. S. (2014). The simple difference formula: an approach to teaching nonparametric
correlation. *Comprehensive Psychology*, 3, 11.IT.3.1.
Streitberg, B., & Röhmel, J. (1986). Exact distributions for permutation and rank tests: an
introduction to some recently published algorithms. *Statistical Software Newsletter*, 12(1), 10-17.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np
from scipy import optimize, stats

# Non-zero differences up to which p-values and the r interval are exact; see the module docstring.
EXACT_LIMIT = 200
EXACT, NORMAL = "exact", "normal approximation"


class SignedRank(NamedTuple):
    """A signed-rank test: scipy's statistic (the smaller rank sum two-sided, else ``W+``), p and method."""

    statistic: float
    p_value: float
    method: str


def _doubled_ranks(differences: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Twice the mid-ranks of the non-zero differences' sizes (whole numbers), and which are positive."""
    nonzero = differences[differences != 0]
    doubled = np.rint(2 * stats.rankdata(np.abs(nonzero))).astype(np.int64)
    return doubled, nonzero > 0


def positive_rank_distribution(doubled: np.ndarray, theta: float = 0.5) -> np.ndarray:
    """``P(2 W+ = k)`` for ``k = 0 .. sum(doubled)`` when each rank is positive with probability ``theta``.

    ``theta = 0.5`` is the permutation (no-change) distribution. Each rank in turn either adds its
    size (positive) or nothing, so the distribution is built by shifting and adding.
    """
    probabilities = np.zeros(int(doubled.sum()) + 1)
    probabilities[0] = 1.0
    reach = 0
    for size in doubled:
        shifted = probabilities[: reach + 1] * theta
        probabilities *= 1 - theta
        probabilities[size : size + reach + 1] += shifted
        reach += int(size)
    return probabilities


def _tails(doubled: np.ndarray, observed: int, theta: float) -> tuple[float, float]:
    """``P(2 W+ <= observed)`` and ``P(2 W+ >= observed)``."""
    probabilities = positive_rank_distribution(doubled, theta)
    return float(probabilities[: observed + 1].sum()), float(probabilities[observed:].sum())


def signed_rank_test(differences: np.ndarray, alternative: str = "two-sided") -> SignedRank:
    """The Wilcoxon signed-rank test of ``differences`` (after - before), zeros dropped.

    Exact permutation p-value (ties included) for up to :data:`EXACT_LIMIT` non-zero differences,
    otherwise the continuity-corrected normal approximation with the tie-corrected variance.
    """
    doubled, positive = _doubled_ranks(np.asarray(differences, dtype=float))
    if doubled.size == 0:
        return SignedRank(math.nan, math.nan, "")
    plus = int(doubled[positive].sum())
    total = int(doubled.sum())
    statistic = min(plus, total - plus) / 2 if alternative == "two-sided" else plus / 2
    if doubled.size > EXACT_LIMIT:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            approx = stats.wilcoxon(differences, correction=True, method="approx", alternative=alternative)
        return SignedRank(statistic, float(approx.pvalue), NORMAL)
    lower, upper = _tails(doubled, plus, 0.5)
    p_value = {"less": lower, "greater": upper}.get(alternative, 2 * min(lower, upper))
    return SignedRank(statistic, min(1.0, p_value), EXACT)


def rank_biserial(differences: np.ndarray, confidence_level: float = 0.95) -> tuple[float, float, float]:
    """Kerby's matched-pairs rank-biserial r with the interval from inverting the exact signed-rank test.

    NaN when nobody changed. See the module docstring for the interval.
    """
    doubled, positive = _doubled_ranks(np.asarray(differences, dtype=float))
    if doubled.size == 0:
        return math.nan, math.nan, math.nan
    plus, total = int(doubled[positive].sum()), int(doubled.sum())
    r = 2 * plus / total - 1
    tail = (1 - confidence_level) / 2
    if doubled.size > EXACT_LIMIT:
        low, high = _wilson_theta(plus / total, total**2 / float((doubled.astype(float) ** 2).sum()), tail)
    else:
        low, high = _exact_theta(doubled, plus, tail)
    return r, 2 * low - 1, 2 * high - 1


def _exact_theta(doubled: np.ndarray, plus: int, tail: float) -> tuple[float, float]:
    """The ``theta`` at which the observed ``2 W+`` is in the upper and the lower ``tail``: the exact limits."""
    total = int(doubled.sum())
    low = 0.0
    if plus > 0:
        low = optimize.brentq(lambda theta: _tails(doubled, plus, theta)[1] - tail, 0.0, 1.0, xtol=1e-10)
    high = 1.0
    if plus < total:
        high = optimize.brentq(lambda theta: _tails(doubled, plus, theta)[0] - tail, 0.0, 1.0, xtol=1e-10)
    return float(low), float(high)


def _wilson_theta(share: float, effective_n: float, tail: float) -> tuple[float, float]:
    """Wilson's score interval for a proportion ``share`` out of ``effective_n``."""
    z = float(stats.norm.ppf(1 - tail))
    centre = (share + z**2 / (2 * effective_n)) / (1 + z**2 / effective_n)
    half = z / (1 + z**2 / effective_n) * math.sqrt(share * (1 - share) / effective_n + z**2 / (4 * effective_n**2))
    return max(0.0, centre - half), min(1.0, centre + half)
