"""The numbers and labels every part of a group comparison shares: thresholds, group kinds, group
labels for supported schools, matching features and the names of the tests in a result's ``tests``."""

from __future__ import annotations

# Fewer schools than this in a group gets a warning: one school's ups and downs can carry the mean.
SMALL_GROUP = 5
# Pairwise tests for more groups than this are not run unless asked for: 33 triads make 528 pairs,
# and a table of 528 p-values invites the reader to find the one that is "significant" by chance.
MAX_PAIRWISE_GROUPS = 12
# A standardised mean difference above this between supported and matched schools is poor balance
# (Stuart 2010 suggests 0.25 as the limit for a covariate that matching should have evened out).
BALANCE_LIMIT = 0.25
DEFAULT_MATCHES = 3
# A change smaller than this (in the measure's units) counts as "the same": only float noise from
# averaging several years, since published results carry one or two decimals. No wider band is used:
# whether a change is more than noise is for the intervals and tests to say, not for the counts.
SAME_TOLERANCE = 1e-9
GROUP_KINDS = ("alliance", "collaborative", "triad", "cluster", "trust", "lasl", "federation")
KIND_PLURALS = {
    "alliance": "alliances",
    "collaborative": "collaboratives",
    "triad": "triads",
    "cluster": "clusters",
    "trust": "trusts",
    "lasl": "LASLs",
    "federation": "federations",
}
SUPPORTED, NOT_SUPPORTED, MATCHED = "Supported", "Not supported", "Similar schools, not supported"
MATCH_FEATURES = ("pupils", "pct_fsm", "pct_eal", "baseline")
FEATURE_LABELS = {
    "pupils": "pupils on roll (log)",
    "pct_fsm": "% free school meals",
    "pct_eal": "% English as an additional language",
    "baseline": "prior attainment (the measure's mean over the years before)",
    "pre_slope": "trend in the measure over those years (change per year)",
}


# The names of the tests as they appear in ``GroupComparison.tests.test``.
WELCH_ANOVA, ANOVA, KRUSKAL, ANCOVA = "Welch's ANOVA", "one-way ANOVA", "Kruskal-Wallis", "ANCOVA"
MATCHED_PAIRS = "matched-pairs t-test"
PERMUTATION = "permutation test of Welch's F"
