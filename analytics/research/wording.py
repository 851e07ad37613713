"""The sentences a result is reported in: p-values as text, the unit of a change, the one-word evidence
verdict, the headline sentence, the findings, the methods note for a report and the terminal summary."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from analytics.research.constants import (
    ANCOVA,
    ANOVA,
    BALANCE_LIMIT,
    FEATURE_LABELS,
    KRUSKAL,
    MATCHED_PAIRS,
    PERMUTATION,
    SMALL_GROUP,
    WELCH_ANOVA,
)

if TYPE_CHECKING:
    from analytics.research.result import GroupComparison


def _p(p: float) -> str:
    if math.isnan(p):
        return "not available"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def p_is(p: float) -> str:
    """ "p = 0.045", or "p < 0.001" (not "p = < 0.001")."""
    return "p < 0.001" if p < 0.001 else f"p = {_p(p)}"


def methods_note(result: GroupComparison) -> str:
    """A paragraph for a report: what was compared, how, with which tests and adjustments, and the caveats."""
    m = result.measure
    groups = result.groups
    n_schools = int(groups.n_schools.sum())
    level = f"{result.confidence_level:.0%}"
    subgroup = "" if result.subgroup == "all" else f" for {result.subgroup} pupils"
    direction = "higher is better" if m.get("higher_is_better", True) else "lower is better"
    unit = f" ({m['unit']})" if m.get("unit") else ""
    points = ", in percentage points" if change_unit(m) == "percentage points" else ""
    membership = f" Group membership was taken on {result.as_of:%d %B %Y}." if result.as_of else ""
    parts = [
        f"We compared the change in {m.get('label', 'the measure')}{unit}{subgroup} from {result.from_label} to "
        f"{result.to_label} between {result.comparison}: {len(groups)} groups, {n_schools} schools "
        f"({', '.join(f'{g} {n}' for g, n in zip(groups.group, groups.n_schools, strict=True))}).{membership} "
        f"A school's change is its value in the later period minus its value in the earlier one (a period of "
        f"several years uses the mean of those years){points}; {direction}. A school improved, stayed the same or "
        "declined by the sign of its change in the measure's better direction (exactly no change: the same). "
        f"Schools without a result in both periods "
        f"were left out ({len(result.excluded)} schools)."
    ]
    if not result.matches.empty:
        features = ", ".join(FEATURE_LABELS[f] for f in result.balance.feature)
        parts.append(
            f"Comparison schools were chosen by nearest-neighbour matching without replacement, in rounds: for "
            f"each supported school, the most similar schools of the same phase that were not supported on this "
            f"measure, by standardised Euclidean distance on {features}, within a caliper of 0.2 standard "
            "deviations of the mean before (supported schools without a match are listed, not dropped). Balance "
            f"is reported as standardised mean differences (limit {BALANCE_LIMIT}) and variance ratios. The "
            "matched estimate is the mean over supported schools of their change minus the mean change of their "
            "own comparison schools; it calls a difference only when it and Welch's t against every candidate "
            "school agree beyond chance (an intersection-union test)."
        )
    parts.append(
        f"Group means are given with each school counting once (with {level} t-intervals) and weighted by pupils "
        "(the mean cohort of the two periods; the interval treats schools as the units that vary: a robust, "
        "sandwich standard error). Whether groups differ was tested with Welch's one-way ANOVA, which does not "
        "assume equal variances (Welch 1951), beside the classic one-way ANOVA and the Kruskal-Wallis rank test. "
        "Baseline levels were compared with the same tests, and an analysis of covariance (change on group and "
        "centred baseline) gives each group's change at the average starting level, which allows for regression "
        "to the mean."
    )
    if not result.pairwise.empty:
        adjusted = (
            f"p-values were adjusted for {len(result.pairwise)} comparisons with Holm's (1979) method"
            if len(result.pairwise) > 1
            else "with one pair, no adjustment for multiple comparisons was needed"
        )
        parts.append(
            f"Pairs of groups were compared with Welch's t-test and the Mann-Whitney U test; {adjusted}. Effect sizes "
            f"are Hedges' g (pooled standard deviation, {level} noncentral-t intervals) and Cliff's delta (Feng-Cliff "
            "intervals)."
        )
    elif result.pairwise_skipped:
        parts.append("With this many groups, pairwise comparisons were not made.")
    parts.append(findings(result))
    return "\n\n".join(parts[:-1]) + "\n\n" + parts[-1] + "\n\nCaveats: " + " ".join(result.notes)


EVIDENCE_WORDS = {
    "clear": "the tests agree that the groups' changes differed",
    "none": "no clear difference",
    "mixed": "the tests disagree",
    "weak": "the tests agree, but a group is too small to rely on",
    "untested": "too few schools for a test",
}


def change_unit(measure: Mapping[str, Any], short: bool = False) -> str:
    """The unit a change in ``measure`` is in: a change in a percentage is in percentage points.

    ``measure`` is ``GroupComparison.measure`` (or :func:`measure_details`). Returns
    ``"percentage points"`` (``"pp"`` when ``short``) for a measure whose unit is a percentage, whether
    a proportion of pupils or a mean such as attendance, and the measure's own unit otherwise.
    """
    unit = str(measure.get("unit") or "").strip()
    if unit.startswith("%"):
        return "pp" if short else "percentage points"
    return unit


def _change_tests(result: GroupComparison) -> pd.DataFrame:
    """The omnibus tests on the changes that gave a p-value (Welch's ANOVA first)."""
    tests = result.tests
    rows = tests[(tests.outcome == "change") & tests.test.isin([WELCH_ANOVA, PERMUTATION, ANOVA, KRUSKAL])]
    return rows[rows.p_value.notna()]


def lead_test(result: GroupComparison) -> pd.Series | None:
    """The test the verdict on groups follows: the one that holds for these data.

    Welch's ANOVA (it allows each group its own spread: groups of small schools vary more) when every
    group tested has at least ``SMALL_GROUP`` schools; with smaller groups (triads) its F
    approximation fails (28% false alarms with 33 triads), so the permutation test of Welch's F leads.
    The one-way ANOVA and Kruskal-Wallis are shown as checks, never the verdict: with unequal cohort
    sizes they reject 12-37% of the time when nothing differs.
    """
    tests = _change_tests(result)
    small = bool(result.groups.small_group.any()) if "small_group" in result.groups else False
    wanted = PERMUTATION if small else WELCH_ANOVA
    rows = tests[tests.test == wanted]
    if rows.empty:
        rows = tests[tests.test.isin([WELCH_ANOVA, PERMUTATION])]
    return None if rows.empty else rows.iloc[0]


def _matched_row(result: GroupComparison) -> pd.Series | None:
    rows = result.tests[(result.tests.test == MATCHED_PAIRS) & result.tests.estimate.notna()]
    return None if rows.empty else rows.iloc[0]


def evidence_verdict(result: GroupComparison) -> str:
    """How strong the evidence is that the groups' changes differ, in one word.

    Significance is at ``1 - confidence_level``. For groups, the verdict follows one test, the one that
    holds for the data (:func:`lead_test`); the others are reported as checks. For supported schools
    against matched schools the matched-pairs test leads, since it is the comparison the matching was
    made for (each school against its own comparison schools); the whole-group tests ignore the
    pairing and so are less precise. They still make the evidence "mixed" when they find a difference
    the matched estimate does not.

    Returns
    -------
    str
        ``"clear"``: the lead test is significant (for matched schools: the matched-pairs test)
        and every group has at least ``SMALL_GROUP`` schools; ``"none"``: the lead test is not;
        ``"mixed"`` (matched schools only): the matched-pairs test is not significant but the lead
        whole-group test is; ``"weak"``: the lead test is significant, but a group has fewer than
        ``SMALL_GROUP`` schools (one school can carry the result); ``"untested"``: no test could be run.
    """
    alpha = 1 - result.confidence_level
    small = bool(result.groups.small_group.any())
    matched = _matched_row(result)
    lead = lead_test(result)
    if matched is not None and not math.isnan(matched.p_value):
        if matched.p_value < alpha:
            return "weak" if small else "clear"
        return "mixed" if lead is not None and lead.p_value < alpha else "none"
    if lead is None:
        return "untested"
    if lead.p_value >= alpha:
        return "none"
    return "weak" if small else "clear"


def _test_phrase(row: Any) -> str:
    if row.test == PERMUTATION:
        return f"permutation test of Welch's F = {row.statistic:.2f} ({row.note.rstrip('.')}), {p_is(row.p_value)}"
    if row.test == KRUSKAL:
        return f"Kruskal-Wallis H = {row.statistic:.2f}, {p_is(row.p_value)}"
    name = "Welch's F" if row.test == WELCH_ANOVA else "one-way ANOVA F"
    return f"{name}({row.df1:.0f}, {row.df2:.1f}) = {row.statistic:.2f}, {p_is(row.p_value)}"


def _joined(phrases: Sequence[str], word: str = "and") -> str:
    return phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + f" {word} " + phrases[-1]


def _small_groups_phrase(result: GroupComparison) -> str:
    small = result.groups[result.groups.small_group]
    if len(small) > 3:
        return f"{len(small)} groups have fewer than {SMALL_GROUP} schools, so one school can carry a group's mean"
    listed = _joined(
        [f"{g} has only {n} school{'s' if n != 1 else ''}" for g, n in zip(small.group, small.n_schools, strict=True)]
    )
    return f"{listed}, so one school can carry the result"


def headline(result: GroupComparison) -> str:
    """The lead sentence of the findings, worded by the strength of the evidence.

    It says the groups "differed" only when the lead test (:func:`lead_test`) is significant at the
    chosen level and no group has fewer than ``SMALL_GROUP`` schools (see :func:`evidence_verdict`);
    otherwise it says there is no clear difference, or that the evidence is mixed or weak, and why.
    For supported schools against matched comparison schools it leads with the matched-pairs estimate.
    """
    verdict = evidence_verdict(result)
    alpha = 1 - result.confidence_level
    significance = f"significant at the {alpha:.0%} level"
    lead = lead_test(result)
    below = [_test_phrase(lead)] if lead is not None and lead.p_value < alpha else []
    small = f"; and {_small_groups_phrase(result)}" if result.groups.small_group.any() else ""
    unit = change_unit(result.measure, short=True)
    suffix = f" {unit}" if unit == "pp" else ""
    matched = _matched_row(result)
    if matched is not None:
        interval = (
            ""
            if math.isnan(matched.ci_low)
            else f"{result.confidence_level:.0%} CI {matched.ci_low:+.2f} to {matched.ci_high:+.2f}, "
        )
        estimate = (
            f"changed by {matched.estimate:+.2f}{suffix} relative to their matched comparison "
            f"schools ({interval}{p_is(matched.p_value)}; {matched.n_schools} supported schools)"
        )
        better = (matched.estimate > 0) == bool(result.measure.get("higher_is_better", True))
        if math.isnan(matched.p_value):
            return f"Results: supported schools {estimate}; too few schools for a test."
        did = f"supported schools did {'better' if better else 'worse'} than similar schools"
        if verdict == "clear":
            return f"Results: {did}: they {estimate}."
        if verdict == "weak":
            return f"Results: weak evidence that {did}: they {estimate}{small}."
        if verdict == "none":
            return f"Results: no clear difference between supported and similar schools: supported schools {estimate}."
        return (
            f"Results: mixed evidence: supported schools {estimate}, not a clear difference on its own; "
            f"but comparing the two groups as a whole, {_joined(below)} {'is' if len(below) == 1 else 'are'} "
            f"{significance}{small}."
        )
    if verdict == "untested":
        return "Results: too few schools per group for a test of differences between groups."
    lead_phrase = _test_phrase(lead) if lead is not None else ""
    if verdict == "clear":
        return f"Results: the groups' changes differed ({lead_phrase})."
    if verdict == "weak":
        return f"Results: weak evidence that the groups' changes differed ({lead_phrase}){small}."
    return f"Results: the groups' changes did not clearly differ ({lead_phrase})."


def _lords_paradox(result: GroupComparison) -> str:
    """The ANCOVA's assumption, said when the groups started at different levels (it then misleads)."""
    baseline = result.tests[(result.tests.outcome == "baseline") & (result.tests.test == WELCH_ANOVA)]
    if baseline.empty or not float(baseline.p_value.iloc[0]) < 1 - result.confidence_level:
        return ""
    return (
        " The groups started at different levels, and this figure assumes they would have ended level had they "
        "started level. Where groups differ in their true level (not only by a bad year), it over-corrects and "
        "can show a difference that is not there (Lord's paradox): read it as a check, not the answer."
    )


def findings(result: GroupComparison, *, with_headline: bool = True, max_group_sentences: int | None = None) -> str:
    """The results in sentences: the lead (see :func:`headline`), the tests, each group's change.

    ``with_headline=False`` leaves the lead sentence out, for a page that shows it on its own. With
    more groups than ``max_group_sentences`` the groups are not described one by one (a page's table
    does that better than 30 sentences).
    """
    tests = result.tests
    sentences = [headline(result)] if with_headline else []
    unit = change_unit(result.measure, short=True)
    suffix = f" {unit}" if unit == "pp" else ""
    matched = _matched_row(result)
    changes = _change_tests(result)
    if matched is not None and not changes.empty:
        sentences.append(
            "Tests comparing the two groups as a whole (without the pairing): "
            + "; ".join(_test_phrase(r) for r in changes.itertuples())
            + "."
        )
    elif not changes.empty:
        lead = lead_test(result)
        checks = [_test_phrase(r) for r in changes.itertuples() if lead is None or r.test != lead.test]
        if checks:
            sentences.append(
                "Other tests, as checks only (the verdict follows the one above): " + "; ".join(checks) + "."
            )
    ancova = tests[tests.test == ANCOVA]
    if not ancova.empty and not math.isnan(float(ancova.p_value.iloc[0])):
        row = ancova.iloc[0]
        sentences.append(
            f"Allowing for starting levels: F({row.df1:.0f}, {row.df2:.0f}) = {row.statistic:.2f}, {p_is(row.p_value)}."
            + _lords_paradox(result)
        )
    if max_group_sentences is not None and len(result.groups) > max_group_sentences:
        improved, same, declined = (int(result.groups[c].sum()) for c in ("n_improved", "n_same", "n_declined"))
        sentences.append(
            f"Across the {len(result.groups)} groups, {improved} schools improved, {same} stayed the same and "
            f"{declined} declined; each group's change is in the Groups table."
        )
        return " ".join(sentences)
    for row in result.groups.itertuples():
        counts = f"{row.n_improved} improved, {row.n_same} the same, {row.n_declined} declined"
        if math.isnan(row.ci_low):
            sentences.append(
                f"{row.group}: mean change {row.mean_change:+.2f}{suffix} (n = {row.n_schools}; {counts})."
            )
        else:
            sentences.append(
                f"{row.group}: mean change {row.mean_change:+.2f}{suffix} ({result.confidence_level:.0%} CI "
                f"{row.ci_low:+.2f} to {row.ci_high:+.2f}; n = {row.n_schools}; from {row.mean_before:.1f}; {counts})."
            )
    return " ".join(sentences)


def summary_text(result: GroupComparison) -> str:
    """A short plain-text report for the terminal: groups, tests, notes."""
    m = result.measure
    lines = [f"{m['label']}: change from {result.from_label} to {result.to_label}, {result.comparison}", ""]
    lines += [headline(result), ""]
    width = max([len(str(g)) for g in result.groups.group] + [5])
    lines.append(
        f"  {'group':<{width}}  {'n':>4}  {'before':>7}  {'change':>7}  {'95% CI':>17}  {'pupil-wtd':>9}  "
        f"{'up/same/down':>12}"
    )
    for row in result.groups.itertuples():
        interval = "" if math.isnan(row.ci_low) else f"{row.ci_low:+.2f} to {row.ci_high:+.2f}"
        lines.append(
            f"  {row.group:<{width}}  {row.n_schools:>4}  {row.mean_before:>7.2f}  {row.mean_change:>+7.2f}  "
            f"{interval:>17}  {row.weighted_change:>+9.2f}  "
            f"{f'{row.n_improved}/{row.n_same}/{row.n_declined}':>12}"
        )
    lines.append("")
    for row in result.tests.itertuples():
        if not math.isnan(row.p_value):
            lines.append(f"  {row.outcome}: {row.test} {row.statistic:.3f}, {p_is(row.p_value)}")
    lines.append("")
    lines += [f"- {note}" for note in result.notes]
    return "\n".join(lines)
