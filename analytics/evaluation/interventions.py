"""Interventions: who supported whom, on what, when, at what cost; and recording new ones."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from analytics.errors import InsightError
from analytics.store.db import RECORDS, Store
from analytics.store.schools import GROUP_MEMBERS_SQL

STATUSES = ("planned", "active", "completed", "stopped")
KINDS = (
    "school-to-school support",
    "coaching",
    "lesson study",
    "literacy project",
    "subject network",
    "training",
    "other",
)


class InterventionError(InsightError):
    title = "The intervention was not recorded"


def list_interventions(
    store: Store, *, group_id: int | None = None, as_of: date | None = None, include_withdrawn: bool = False
) -> pd.DataFrame:
    """Every intervention, or those that supported a school in a group (and its sub-groups).

    One withdrawn as recorded by mistake is left out unless ``include_withdrawn`` (for the history).

    Returns
    -------
    DataFrame
        ``intervention_id, name, kind, focus, supporting_urn, supporting_person, start_date,
        end_date, status, cost, targets, supported`` (number of schools), ``supported_urns`` (a
        list, by school name; names are for the page to show as the trust rules allow),
        ``focus_measures`` (codes, ", "-joined), ``surveys`` (number linked) and ``academic_year``
        (the year the support started, by its end year), ``withdrawn_by, withdrawn_at, withdrawn_reason``.
        Newest first.
    """
    as_of = as_of or date.today()
    return store.read(
        f"""
        {GROUP_MEMBERS_SQL},
        supported AS (
            SELECT i.intervention_id, count(*) AS supported, list(i.urn ORDER BY s.name) AS urns,
                   bool_or($group_id IS NULL OR i.urn IN (SELECT urn FROM members)) AS in_scope
            FROM intervention_schools i JOIN schools s USING (urn)
            GROUP BY i.intervention_id
        ),
        focus AS (
            SELECT intervention_id, string_agg(measure_code, ', ' ORDER BY measure_code) AS focus_measures
            FROM intervention_measures GROUP BY intervention_id
        ),
        linked AS (SELECT intervention_id, count(*) AS surveys FROM surveys GROUP BY intervention_id)
        SELECT i.intervention_id, i.name, i.kind, i.focus, i.supporting_urn, i.supporting_person,
               i.start_date, i.end_date, i.status, i.cost, i.targets,
               coalesce(s.supported, 0) AS supported, coalesce(s.urns, []) AS supported_urns,
               coalesce(f.focus_measures, '') AS focus_measures, coalesce(l.surveys, 0) AS surveys,
               CASE WHEN month(i.start_date) >= 9 THEN year(i.start_date) + 1 ELSE year(i.start_date) END
                   AS academic_year,
               i.withdrawn_by, i.withdrawn_at, i.withdrawn_reason
        FROM interventions i
        LEFT JOIN supported s USING (intervention_id)
        LEFT JOIN focus f USING (intervention_id)
        LEFT JOIN linked l USING (intervention_id)
        WHERE ($group_id IS NULL OR s.in_scope OR i.group_id IN (SELECT group_id FROM scope_groups))
          AND ($withdrawn OR i.withdrawn_at IS NULL)
        ORDER BY i.start_date DESC, i.name
        """,
        {"group_id": group_id, "as_of": as_of, "withdrawn": include_withdrawn},
    )


def intervention_surveys(store: Store, intervention_id: int) -> pd.DataFrame:
    """Questionnaires linked to an intervention: ``survey_id, name, matched, instrument, waves``."""
    return store.read(
        """SELECT s.survey_id, s.name, s.matched, i.name AS instrument, count(w.wave_id) AS waves
           FROM surveys s JOIN survey_instruments i USING (instrument_id)
           LEFT JOIN survey_waves w USING (survey_id)
           WHERE s.intervention_id = ?
           GROUP BY ALL ORDER BY s.survey_id""",
        [intervention_id],
    )


def list_surveys(store: Store) -> pd.DataFrame:
    """Every questionnaire with the intervention it is linked to (none once that was withdrawn):
    ``survey_id, name, intervention``."""
    return store.read(
        """SELECT s.survey_id, s.name, i.name AS intervention
           FROM surveys s LEFT JOIN interventions i ON i.intervention_id = s.intervention_id AND i.withdrawn_at IS NULL
           ORDER BY s.name"""
    )


@dataclass
class NewIntervention:
    """What the Record intervention form collects."""

    name: str
    kind: str
    start_date: date
    supported_urns: Sequence[int]
    focus: str = ""
    end_date: date | None = None
    supporting_urn: int | None = None
    supporting_person: str = ""
    targets: str = ""
    cost: float | None = None
    status: str = "active"
    focus_measures: Sequence[str] = field(default_factory=tuple)
    survey_ids: Sequence[int] = field(default_factory=tuple)
    selection_reason: str | None = None


def _problems(store: Store, new: NewIntervention) -> list[str]:
    """Everything wrong with the form, each as a sentence; empty when it can be recorded."""
    problems: list[str] = []
    if not new.name.strip():
        problems.append("Give the intervention a name.")
    if new.kind not in KINDS:
        problems.append(f"Kind must be one of: {', '.join(KINDS)}.")
    if new.status not in STATUSES:
        problems.append(f"Status must be one of: {', '.join(STATUSES)}.")
    if not new.supported_urns:
        problems.append("Choose at least one supported school.")
    if new.end_date is not None and new.end_date < new.start_date:
        problems.append("The end date is before the start date.")
    if new.cost is not None and new.cost < 0:
        problems.append("Cost cannot be negative.")
    known = set(store.read("SELECT urn FROM schools").urn.astype(int))
    unknown = [u for u in [*new.supported_urns, new.supporting_urn] if u is not None and int(u) not in known]
    if unknown:
        problems.append(f"No school with URN {', '.join(str(u) for u in unknown)}.")
    measures = set(store.read("SELECT code FROM measures").code)
    unknown_measures = [m for m in new.focus_measures if m not in measures]
    if unknown_measures:
        problems.append(f"Unknown measure {', '.join(unknown_measures)}.")
    surveys = set(store.read("SELECT survey_id FROM surveys").survey_id.astype(int))
    unknown_surveys = [s for s in new.survey_ids if int(s) not in surveys]
    if unknown_surveys:
        problems.append(f"No questionnaire {', '.join(str(s) for s in unknown_surveys)}.")
    return problems


def record_intervention(store: Store, new: NewIntervention) -> int:
    """Record an intervention with its supported schools, focus measures and linked questionnaires.

    Returns the new ``intervention_id``. Everything is written in one transaction.

    Raises
    ------
    InterventionError
        Listing every problem (no name, no supported school, unknown school or measure, end before
        start, negative cost, unknown status); nothing is written.
    """
    problems = _problems(store, new)
    name = new.name.strip()
    if problems:
        raise InterventionError(" ".join(problems))
    with store.transaction(RECORDS) as cur:
        inserted = cur.execute(
            """INSERT INTO interventions (name, kind, focus, supporting_urn, supporting_person, start_date,
                   end_date, targets, cost, status)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING intervention_id""",
            [
                name,
                new.kind,
                new.focus.strip() or None,
                new.supporting_urn,
                new.supporting_person.strip() or None,
                new.start_date,
                new.end_date,
                new.targets.strip() or None,
                new.cost,
                new.status,
            ],
        ).fetchone()
        assert inserted is not None, "INSERT ... RETURNING always gives the new row"
        intervention_id = inserted[0]
        cur.executemany(
            "INSERT INTO intervention_schools (intervention_id, urn, selection_reason) VALUES (?, ?, ?)",
            [[intervention_id, int(urn), new.selection_reason] for urn in dict.fromkeys(new.supported_urns)],
        )
        if new.focus_measures:
            cur.executemany(
                "INSERT INTO intervention_measures (intervention_id, measure_code) VALUES (?, ?)",
                [[intervention_id, code] for code in dict.fromkeys(new.focus_measures)],
            )
        if new.survey_ids:
            cur.executemany(
                "UPDATE surveys SET intervention_id = ? WHERE survey_id = ?",
                [[intervention_id, int(s)] for s in new.survey_ids],
            )
    return int(intervention_id)


def headline_result(store: Store, intervention_id: int) -> str:
    """One sentence for the list: the first focus measure's verdict against the other schools,
    else the first questionnaire scale's change, else what is missing."""
    from analytics.evaluation.impact import intervention_impact
    from analytics.evaluation.surveys import prepost_for_survey

    impact = intervention_impact(store, intervention_id)
    if not impact.empty:
        row = impact.iloc[0]
        if pd.notna(row.difference):
            words = {
                "better": "better than the other schools, beyond chance",
                "worse": "worse than the other schools, beyond chance",
                "designs disagree": "not safe to call (the two estimates disagree)",
                "cannot tell": f"cannot tell (could detect only {row.minimum_detectable:.1f} or more)",
            }.get(str(row.verdict), str(row.verdict))
            return (
                f"{row.label}: {row.difference:+.1f} against the other schools "
                f"(95% CI {row.ci_low:+.1f} to {row.ci_high:+.1f}); {words}; {row.n_supported} schools"
            )
    for survey_id in intervention_surveys(store, intervention_id).survey_id:
        try:
            results = prepost_for_survey(store, int(survey_id))
        except ValueError:
            # A questionnaire with one wave so far has nothing to compare yet.
            continue
        judged = results[results.p_value.notna()]
        if not judged.empty:
            best = judged.sort_values(["kind", "p_value"], ascending=[False, True]).iloc[0]
            return str(best.summary)
    if impact.empty:
        return "No focus measure or questionnaire linked yet."
    return "Not enough results before and after the support to compare."


def impact_overview(store: Store, urns: Sequence[int]) -> pd.DataFrame:
    """Each intervention that supported any of ``urns``, with its headline answer per focus measure.

    The same numbers as the Interventions page and ``impact`` (:func:`~analytics.evaluation.impact.
    intervention_impact`), for the meeting's agenda and pack: ``intervention, status, measure,
    verdict, difference, ci_low, ci_high, minimum_detectable, n_supported, summary``.
    """
    from analytics.evaluation.impact import intervention_impact

    columns = ["intervention", "status", "measure", "verdict", "difference", "ci_low", "ci_high"]
    columns += ["minimum_detectable", "n_supported", "summary"]  # the order rows are built in below
    chosen = store.read(
        """SELECT DISTINCT i.intervention_id, i.name, i.status, i.start_date FROM interventions i
           JOIN intervention_schools s USING (intervention_id)
           WHERE list_contains($urns, s.urn) AND i.withdrawn_at IS NULL ORDER BY i.start_date DESC, i.name""",
        {"urns": [int(u) for u in urns]},
    )
    rows = []
    for item in chosen.itertuples():
        impact = intervention_impact(store, int(item.intervention_id))
        if impact.empty:
            unknown = "No focus measure is recorded, so school results cannot say whether it worked."
            rows.append((item.name, item.status, "", "not enough data", *([math.nan] * 4), 0, unknown))
        for row in impact.itertuples():
            numbers = (row.difference, row.ci_low, row.ci_high, row.minimum_detectable, row.n_supported)
            rows.append((item.name, item.status, row.label, row.verdict, *numbers, row.summary))
    return pd.DataFrame(rows, columns=columns)
