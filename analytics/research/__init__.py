"""Do schools in one group improve more than in another? Honest, reproducible group comparisons.

Researchers and evaluators ask whether the schools of one alliance, collaborative, triad or trust
improved more than those of another, and whether supported schools improved more than similar
schools that were not supported. This package answers both from the store, and from a script:

- :func:`compare_groups` takes a measure and two periods, works out each school's change, and
  compares the groups of one kind (or chosen groups, or named lists of schools, or supported
  against unsupported schools): group means weighted by school and by pupil with confidence
  intervals, distributions, baseline levels beside changes, baseline-adjusted changes, an omnibus
  test (Welch's ANOVA beside the classic one-way ANOVA and Kruskal-Wallis), and pairwise
  comparisons with Holm-adjusted p-values and effect sizes with intervals.
- :func:`match_comparison_schools` finds, for each supported school, the most similar schools
  that were not supported (same phase; nearest in size, % FSM, % EAL and prior attainment), and
  :func:`supported_vs_matched` compares an intervention's schools with them in one call.
- :func:`analyse_groups` does the statistics on any frame of per-school changes (no store needed).
- :func:`methods_note` writes the paragraph a report needs: what was compared, which tests, which
  adjustments, what to be careful about.

Every result is a :class:`GroupComparison` of tidy frames; ``python -m analytics research`` runs the
same calls with ``--json`` or ``--csv DIR`` output. ``docs/research.md`` gives the methods and
references.

Modules:

- ``result``: :class:`GroupComparison`, the columns of its frames, and period labels.
- ``constants``: thresholds (``SMALL_GROUP``, ``BALANCE_LIMIT``...), group kinds and labels, test names.
- ``errors``: :class:`ResearchError`.
- ``data``: reading the store: measures, each school's change, group members, supported schools.
- ``compare``: :func:`compare_groups`: choosing the schools to compare and who is left out.
- ``analyse``: :func:`analyse_groups`: each group's summary, then the tests and caveats.
- ``omnibus``: do any groups differ (Welch's ANOVA, ANOVA, Kruskal-Wallis, ANCOVA).
- ``pairwise``: each pair of groups (Welch's t, Mann-Whitney, Holm, Hedges' g, Cliff's delta).
- ``matching``: matching comparison schools, balance, and :func:`supported_vs_matched`.
- ``caveats``: the cautions attached to a result (small groups, baselines, regression to the mean).
- ``wording``: the evidence verdict, the headline sentence, the findings, the methods note, the summary.
- ``export``: selections CSV in; CSV files, named display tables and Parquet out.
- (The ``research`` command is ``analytics/cli/research.py``.)
- ``charts``: the forest plot and the strip plot of schools' changes.
"""

from __future__ import annotations

from analytics.research.analyse import analyse_groups
from analytics.research.compare import compare_groups
from analytics.research.constants import (
    BALANCE_LIMIT,
    DEFAULT_MATCHES,
    FEATURE_LABELS,
    GROUP_KINDS,
    KIND_PLURALS,
    MATCH_FEATURES,
    MATCHED,
    MAX_PAIRWISE_GROUPS,
    NOT_SUPPORTED,
    SAME_TOLERANCE,
    SMALL_GROUP,
    SUPPORTED,
)
from analytics.research.data import (
    default_measure,
    group_members,
    intervention_periods,
    kinds_in_scope,
    measure_details,
    measure_years,
    school_changes,
    supported_schools,
)
from analytics.research.errors import ResearchError
from analytics.research.export import display_tables, read_selections, to_parquet_bytes, write_csv
from analytics.research.matching import match_comparison_schools, supported_vs_matched
from analytics.research.result import (
    BALANCE_COLUMNS,
    EXCLUDED_COLUMNS,
    GROUP_COLUMNS,
    MATCH_COLUMNS,
    PAIRWISE_COLUMNS,
    SCHOOL_COLUMNS,
    TEST_COLUMNS,
    GroupComparison,
)
from analytics.research.wording import (
    EVIDENCE_WORDS,
    change_unit,
    evidence_verdict,
    findings,
    headline,
    lead_test,
    methods_note,
    summary_text,
)

__all__ = [
    "BALANCE_COLUMNS",
    "BALANCE_LIMIT",
    "DEFAULT_MATCHES",
    "EVIDENCE_WORDS",
    "EXCLUDED_COLUMNS",
    "FEATURE_LABELS",
    "GROUP_COLUMNS",
    "GROUP_KINDS",
    "KIND_PLURALS",
    "MATCHED",
    "MATCH_COLUMNS",
    "MATCH_FEATURES",
    "MAX_PAIRWISE_GROUPS",
    "NOT_SUPPORTED",
    "PAIRWISE_COLUMNS",
    "SAME_TOLERANCE",
    "SCHOOL_COLUMNS",
    "SMALL_GROUP",
    "SUPPORTED",
    "TEST_COLUMNS",
    "GroupComparison",
    "ResearchError",
    "analyse_groups",
    "change_unit",
    "compare_groups",
    "default_measure",
    "display_tables",
    "evidence_verdict",
    "findings",
    "group_members",
    "headline",
    "intervention_periods",
    "kinds_in_scope",
    "lead_test",
    "match_comparison_schools",
    "measure_details",
    "measure_years",
    "methods_note",
    "read_selections",
    "school_changes",
    "summary_text",
    "supported_schools",
    "supported_vs_matched",
    "to_parquet_bytes",
    "write_csv",
]
