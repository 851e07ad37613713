"""What a group comparison returns: :class:`GroupComparison`, its tidy frames' columns, and period labels."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from analytics.calendar import format_academic_year
from analytics.research.wording import change_unit, evidence_verdict, headline, methods_note

SCHOOL_COLUMNS = (
    "group",
    "group_id",
    "urn",
    "before",
    "after",
    "change",
    "cohort_before",
    "cohort_after",
    "pupil_weight",
    "improved",
    "direction",
)
GROUP_COLUMNS = (
    "group",
    "group_id",
    "n_schools",
    "n_pupils",
    "n_excluded",
    "mean_before",
    "mean_after",
    "mean_change",
    "ci_low",
    "ci_high",
    "weighted_change",
    "weighted_ci_low",
    "weighted_ci_high",
    "adjusted_change",
    "adjusted_ci_low",
    "adjusted_ci_high",
    "sd_change",
    "median_change",
    "q1_change",
    "q3_change",
    "min_change",
    "max_change",
    "sd_before",
    "n_improved",
    "n_same",
    "n_declined",
    "pct_improved",
    "small_group",
    "note",
)
PAIRWISE_COLUMNS = (
    "group_a",
    "group_b",
    "n_a",
    "n_b",
    "difference",
    "ci_low",
    "ci_high",
    "t",
    "df",
    "p_value",
    "p_holm",
    "hedges_g",
    "g_ci_low",
    "g_ci_high",
    "g_size",
    "cliffs_delta",
    "delta_ci_low",
    "delta_ci_high",
    "rank_p_value",
    "rank_p_holm",
    "baseline_difference",
    "baseline_p_value",
    "adjusted_difference",
    "adjusted_ci_low",
    "adjusted_ci_high",
)
TEST_COLUMNS = (
    "outcome",
    "test",
    "statistic",
    "df1",
    "df2",
    "p_value",
    "estimate",
    "ci_low",
    "ci_high",
    "n_groups",
    "n_schools",
    "note",
)
EXCLUDED_COLUMNS = ("group", "urn", "reason")
MATCH_COLUMNS = ("urn", "comparison_urn", "rank", "distance")
BALANCE_COLUMNS = (
    "feature",
    "label",
    "mean_supported",
    "mean_unsupported",
    "mean_matched",
    "smd_before",
    "smd_after",
    "balanced",
)


@dataclass
class GroupComparison:
    """Tidy frames from :func:`compare_groups`, :func:`supported_vs_matched` or :func:`analyse_groups`.

    Attributes
    ----------
    schools
        One row per school compared: ``group, group_id, urn, before, after, change, cohort_before,
        cohort_after, pupil_weight, improved`` (the data behind the box/strip plot).
    groups
        One row per group (the data behind the forest plot): see ``GROUP_COLUMNS``.
    pairwise
        One row per pair of groups: difference in mean change (Welch), Holm-adjusted p, Hedges' g and
        Cliff's delta with intervals, baseline difference, baseline-adjusted difference.
    tests
        The omnibus tests on the changes (Welch's ANOVA, one-way ANOVA, Kruskal-Wallis), on the
        baselines, the ANCOVA on changes allowing for baselines, and for matched comparisons the
        matched-pairs estimate.
    excluded
        Schools left out and why (no result in one period; in two groups of the same kind).
    notes
        Everything a reader should be told, in plain English: the caveats (small groups, unequal
        baselines, regression to the mean, exclusions, poor matches) and then the routine statements
        that are also in ``routine_notes``.
    routine_notes
        The notes that describe the method rather than warn (the Holm adjustment, pairs not tested,
        association not cause): a page shows them as a caption, not a warning.
    matches, balance
        For :func:`supported_vs_matched`: each supported school's comparison schools, and how alike
        the two sets are on each matching feature. Empty otherwise.
    """

    measure: dict[str, Any]
    from_years: tuple[int, ...]
    to_years: tuple[int, ...]
    comparison: str
    schools: pd.DataFrame
    groups: pd.DataFrame
    pairwise: pd.DataFrame
    tests: pd.DataFrame
    excluded: pd.DataFrame
    notes: list[str]
    confidence_level: float = 0.95
    subgroup: str = "all"
    as_of: date | None = None
    matches: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(MATCH_COLUMNS)))
    balance: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(BALANCE_COLUMNS)))
    pairwise_skipped: bool = False
    routine_notes: list[str] = field(default_factory=list)

    @property
    def cautions(self) -> list[str]:
        """The notes that are real caveats about this result (``notes`` less ``routine_notes``)."""
        return [note for note in self.notes if note not in self.routine_notes]

    @property
    def change_unit(self) -> str:
        """The unit of a change in the measure: "percentage points" for a % measure (see :func:`change_unit`)."""
        return change_unit(self.measure)

    @property
    def from_label(self) -> str:
        # A frame analysed without years (analyse_groups) still gets readable sentences.
        return years_label(self.from_years) if self.from_years else "the first period"

    @property
    def to_label(self) -> str:
        return years_label(self.to_years) if self.to_years else "the second period"

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every frame by name, for CSV / Excel / Parquet exports."""
        tables = {
            "groups": self.groups,
            "pairwise": self.pairwise,
            "tests": self.tests,
            "schools": self.schools,
            "excluded": self.excluded,
        }
        if not self.matches.empty or not self.balance.empty:
            tables |= {"matches": self.matches, "balance": self.balance}
        return tables

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready content: settings, every table as records, notes and the methods note."""
        return {
            "measure": self.measure,
            "from_years": list(self.from_years),
            "to_years": list(self.to_years),
            "subgroup": self.subgroup,
            "comparison": self.comparison,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "confidence_level": self.confidence_level,
            **{name: _records(frame) for name, frame in self.tables().items()},
            "notes": list(self.notes),
            "cautions": self.cautions,
            "routine_notes": list(self.routine_notes),
            "evidence": evidence_verdict(self),
            "headline": headline(self),
            "methods_note": methods_note(self),
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    if frame.empty:
        return []
    return json.loads(frame.to_json(orient="records", date_format="iso", double_precision=10))


def years_label(years: Sequence[int]) -> str:
    years = sorted(years)
    if len(years) == 1:
        return format_academic_year(years[0])
    if years == list(range(years[0], years[-1] + 1)):
        # A dash, not "to": the label is used in "from ... to ...".
        return f"{format_academic_year(years[0])}–{format_academic_year(years[-1])}"
    return ", ".join(format_academic_year(y) for y in years)
