"""Did it work? Before-and-after statistics for questionnaires, observations and school results.

A project lead asks teachers how confident they feel before and after a coaching programme, or
grades lessons before and after a lesson study; a board asks whether the schools it supported
improved more than the schools it did not. ``docs/prepost.md`` explains which test is used when,
the formulas and the references.

Modules
-------
prepost
    :func:`compare_pre_post`: two waves of a questionnaire compared item by item and scale by
    scale, paired or unpaired, a t-test beside a rank test, effect sizes with intervals,
    Holm-adjusted p-values and one plain sentence per row.
paired
    The statistics for matched respondents: paired t-test and d_z, the Wilcoxon signed-rank test
    and the rank-biserial r, McNemar's exact test for yes/no items.
signed_rank
    The exact permutation distribution of the signed-rank statistic with tied ranks, and the
    rank-biserial interval from inverting it.
unpaired
    The statistics for anonymous waves: Welch's t-test and Hedges' g, Mann-Whitney U and Cliff's delta.
sentences
    The plain sentence that ends each before-and-after row.
summaries
    What can honestly be said from summary tables or one wave: :func:`compare_counts`,
    :func:`compare_means_only`, :func:`describe_single_wave`.
distributions
    :func:`ordinal_distribution`: answer distributions laid out for a diverging stacked bar.
surveys
    Stored questionnaires: :func:`survey_long`, :func:`survey_summaries`, :func:`prepost_for_survey`
    (the comparison with the options the instrument implies), :func:`describe_stored_wave` (one wave)
    and :func:`paired_answers`.
survey_groups
    :func:`prepost_by_group`: the same results per pupil group the file recorded, small groups cautioned.
impact
    :func:`intervention_impact` and :func:`impact_series`: supported schools' change in results
    against comparable schools' (difference in differences by least squares, with an adjustment
    for starting levels and a warning of regression to the mean).
interventions
    Listing and recording interventions: who supported whom, on what, when, at what cost.
inputs
    Checks of the caller's data and options shared by the analyses (columns, scale, waves, counts).
columns
    The columns of every result table, and the test and effect-size names written in them.

The generic statistics (effect sizes and their intervals, Holm's adjustment, p-value wording) are
in :mod:`analytics.stats`.
"""

from __future__ import annotations

from analytics.evaluation.columns import (
    DISTRIBUTION_COLUMNS,
    IMPACT_COLUMNS,
    MEANS_ONLY_COLUMNS,
    PREPOST_COLUMNS,
    SINGLE_WAVE_COLUMNS,
)
from analytics.evaluation.distributions import ordinal_distribution
from analytics.evaluation.impact import impact_series, intervention_impact
from analytics.evaluation.prepost import compare_pre_post
from analytics.evaluation.summaries import compare_counts, compare_means_only, describe_single_wave
from analytics.evaluation.survey_groups import prepost_by_group
from analytics.evaluation.surveys import (
    describe_stored_wave,
    paired_answers,
    prepost_for_survey,
    survey_long,
    survey_summaries,
)

__all__ = [
    "DISTRIBUTION_COLUMNS",
    "IMPACT_COLUMNS",
    "MEANS_ONLY_COLUMNS",
    "PREPOST_COLUMNS",
    "SINGLE_WAVE_COLUMNS",
    "compare_counts",
    "compare_means_only",
    "compare_pre_post",
    "describe_single_wave",
    "describe_stored_wave",
    "impact_series",
    "intervention_impact",
    "ordinal_distribution",
    "paired_answers",
    "prepost_by_group",
    "prepost_for_survey",
    "survey_long",
    "survey_summaries",
]
