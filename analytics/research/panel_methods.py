"""The methods note that travels with a school x year panel: how its columns were made, the estimators
the product itself uses (so a researcher can cite them or reproduce them), and the provenance.

The numbers in the text (permutation counts, matching defaults, the trend model's confidence level)
are read from the modules that use them, so the note cannot drift from the code.
"""

from __future__ import annotations

import textwrap
from typing import Any

from analytics.evaluation.estimators import PERMUTATION_BELOW, PERMUTATIONS
from analytics.monitoring.trends.classify import DEFAULT_CONFIDENCE_LEVEL, MEANINGFUL_CHANGE_SD
from analytics.research.constants import BALANCE_LIMIT, DEFAULT_MATCHES, FEATURE_LABELS, MATCH_FEATURES
from analytics.stats.permutation import PERMUTATIONS as GROUP_PERMUTATIONS

WIDTH = 100

REFERENCES = (
    "Angrist, J. D. and Pischke, J.-S. (2009). Mostly Harmless Econometrics. Princeton University Press, 5.4.",
    "Barnett, A. G., van der Pols, J. C. and Dobson, A. J. (2005). Regression to the mean: what it is and how "
    "to deal with it. International Journal of Epidemiology, 34(1), 215-220.",
    "Bloom, H. S. (1995). Minimum detectable effects. Evaluation Review, 19(5), 547-556.",
    "Carroll, R. J. and Ruppert, D. (1988). Transformation and Weighting in Regression. Chapman & Hall.",
    "Chung, E. and Romano, J. P. (2013). Exact and asymptotically robust permutation tests. Annals of "
    "Statistics, 41(2), 484-507.",
    "Crawford, J. R. and Howell, D. C. (1998). Comparing an individual's test score against norms derived from "
    "small samples. The Clinical Neuropsychologist, 12(4), 482-486.",
    "Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scandinavian Journal of "
    "Statistics, 6(2), 65-70.",
    "Janssen, A. (1997). Studentized permutation tests for non-i.i.d. hypotheses and the generalized "
    "Behrens-Fisher problem. Statistics & Probability Letters, 36(1), 9-21.",
    "MacKinnon, J. G. and White, H. (1985). Some heteroskedasticity-consistent covariance matrix estimators "
    "with improved finite sample properties. Journal of Econometrics, 29(3), 305-325.",
    "Stuart, E. A. (2010). Matching methods for causal inference: a review and a look forward. Statistical "
    "Science, 25(1), 1-21.",
    "Welch, B. L. (1951). On the comparison of several mean values: an alternative approach. Biometrika, "
    "38(3/4), 330-336.",
)


def methods_note(provenance: dict[str, Any]) -> str:
    """The note for ``provenance`` (from :func:`analytics.research.panel.provenance`): the panel, the
    product's estimators, software, store and imports, and references."""
    sections = [
        ("The panel", _panel_paragraphs(provenance.get("panel") or {})),
        ("Methods the product uses on these data", _estimator_paragraphs()),
        ("Provenance", _provenance_paragraphs(provenance)),
    ]
    parts = []
    for title, paragraphs in sections:
        parts.append(f"{title}\n{'-' * len(title)}")
        parts.extend(textwrap.fill(p, WIDTH) for p in paragraphs)
    parts.append("References\n----------")
    parts.extend(textwrap.fill(r, WIDTH, subsequent_indent="    ") for r in REFERENCES)
    return "\n\n".join(parts)


def _panel_paragraphs(summary: dict[str, Any]) -> list[str]:
    measure = summary.get("measure") or {}
    years = summary.get("academic_years") or []
    span = f"{years[0]} to {years[-1]}" if years else "no years"
    direction = "higher is better" if measure.get("higher_is_better", True) else "lower is better"
    scope = (
        f" Only schools in group {summary['scope_group_id']} on {summary['scope_as_of']} are included."
        if summary.get("scope_group_id") is not None
        else ""
    )
    kind = summary.get("group_kind")
    grouping = (
        f" 'group' is the school's {kind} at the end of each academic year (today for the current one), so the "
        "group in a comparison's later year is the one the Research page uses."
        if kind
        else ""
    )
    return [
        f"One row per school and academic year with a whole-year result on {measure.get('label', '')} "
        f"({measure.get('code', '')}, unit {measure.get('unit', '')!r}, {direction}) for the pupil group "
        f"{summary.get('subgroup', 'all')!r}: {summary.get('rows', 0):,} rows, {summary.get('schools', 0):,} "
        f"schools, {span}. A withheld result keeps DfE's code in missing_code and has no value; it is never zero. "
        "School characteristics (pupils, % FSM, % EAL, % SEN) are the latest held, not each year's." + scope,
        "The national figure is like with like: the school's phase where national figures are published by "
        "phase, else all phases; a special school, pupil referral unit or alternative provision is given only "
        "its own kind's national figure, and none when that is not held.",
        "A school is supported when an intervention in the store with this measure among its focus measures "
        "included it. support_start_year is the first academic year the earliest such intervention covered "
        "whole (a September start covers that year, a later start only the next), and years_since_start the "
        "event time (0 = first full year; -1 may be a part-year of support)." + grouping,
        f"Schools are named as the partnership's trust rules allow: {summary.get('schools_not_named', 0)} "
        "school(s) without a data-sharing agreement appear by a stable pseudonym with no URN; school_key "
        "identifies every school for fixed effects and joins.",
    ]


def _estimator_paragraphs() -> list[str]:
    features = ", ".join(FEATURE_LABELS[f] for f in MATCH_FEATURES)
    return [
        "Did support work (Interventions page, `impact` command). Supported schools' change in the all-pupil "
        "result, from the mean of every year with results before the support began to the mean of the first "
        "two years it covered whole, is compared with that of every school of the same phase not supported on "
        "the measure by any intervention. Two estimators: the difference in differences, with Welch's "
        f"standard error and t interval, and with fewer than {PERMUTATION_BELOW} supported schools a p-value "
        f"from a studentised permutation test ({PERMUTATIONS:,} relabellings of Welch's t; Janssen 1997, "
        "Chung and Romano 2013), or Crawford and Howell's single-case t for one school; and the same change "
        "allowing for each school's starting level (lagged outcome / ANCOVA) with HC3 standard errors "
        "(MacKinnon and White 1985). With two to four supported schools and every school's cohort known, both "
        "instead take each school's variance of change from comparison schools of its cohort size (a + b / "
        "cohort, fitted by least squares on squared residuals; Carroll and Ruppert 1988) and are tested by "
        "permuting that studentised statistic, the interval from the same permutation distribution. "
        "Being chosen after a bad year biases the first, being persistently low "
        "the second (Angrist and Pischke 2009, 5.4), so the verdict says better or worse only when both agree "
        "beyond chance. The minimum detectable effect is (t(1-a/2) + t(0.8)) x SE (Bloom 1995); the pre-trend "
        "check compares the groups' yearly slopes before the support with Welch's t.",
        "Supported against similar schools (Research page, `research --intervention`). Comparison schools "
        f"have the same phase exactly and are nearest in {features}, each divided by its standard deviation, "
        "by Euclidean distance, within a caliper of 0.2 SD of the pre-period mean (Austin 2011); matching is "
        f"greedy nearest-available without replacement in rounds, {DEFAULT_MATCHES} comparison schools per "
        "supported school by default, and only schools not supported on the measure are candidates. Balance "
        f"is the standardised mean difference on the pre-matching scale (above {BALANCE_LIMIT} a caution is "
        "given; Stuart 2010) and the variance ratio. The estimate is the mean over supported schools of own "
        "change minus the mean change of its matches; it calls a difference only when it and Welch's t against "
        "every candidate school agree beyond chance (intersection-union test, Berger 1982).",
        "Comparing groups (Research page, `research`). Each school's change between two periods (several "
        "years averaged); group means weighted by school and by pupil with intervals; Welch's ANOVA (Welch "
        f"1951) with its permutation test ({GROUP_PERMUTATIONS:,} relabellings, a fixed seed; the one to trust "
        "for many small groups such as triads), beside the one-way ANOVA and Kruskal-Wallis; an ANCOVA for the change "
        "at the average starting "
        "level; pairwise Welch t-tests and Mann-Whitney U with Holm-adjusted p-values (Holm 1979), Hedges' g "
        "and Cliff's delta with intervals.",
        "Trends (Trends page, `trends`). For each school, measure and pupil group, the distance from national "
        "is fitted against the academic year by weighted least squares with variance a/n + tau^2 (pupil-level "
        "noise over the cohort plus school-level year-to-year variance, estimated by the method of moments "
        "over every school's series). A trend is rising or declining when the slope differs from zero at the "
        f"{DEFAULT_CONFIDENCE_LEVEL:.1%} level (two-sided); stable when the interval lies within "
        f"{MEANINGFUL_CHANGE_SD} of a pupil-level standard deviation a year; otherwise no clear trend.",
    ]


def _provenance_paragraphs(provenance: dict[str, Any]) -> list[str]:
    software = ", ".join(f"{name} {version}" for name, version in (provenance.get("software") or {}).items())
    store = provenance.get("store") or {}
    imports = provenance.get("imports") or []
    listed = "; ".join(
        f"import {i['import_id']}: {i['file_name']} (SHA-256 {i['file_hash'] or 'not recorded'}, "
        f"{i['rows_in_panel'] if i['rows_in_panel'] is not None else '?'} rows in the panel"
        f"{', since undone' if i['undone'] else ''})"
        for i in imports
    )
    without = provenance.get("rows_without_import")
    return [
        f"Made {provenance.get('created', '')} with {software}.",
        f"Store {store.get('path', '')}: schema version {store.get('schema_version', '')}, content hash (SHA-256 "
        f"over every data table) {store.get('content_hash', '')}"
        + (", the demo partnership" if store.get("is_demo") else "")
        + ". Two stores with the same content hash hold the same data.",
        (f"Imports with rows in the panel: {listed}." if imports else "No imported file contributed rows.")
        + (f" {without:,} rows were entered in the app or built by the demo (no import id)." if without else ""),
    ]
