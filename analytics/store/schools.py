"""The schools in the store: lists, partnership groups and who belongs to them, and the names of grades.

Point-in-time facts (who belongs to a group, the latest Ofsted grade, the LA category) are read
"as at" a date, so that looking back at an earlier academic year shows the picture of that time
rather than today's.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from analytics.store.db import Store

OFSTED_GRADE_LABELS = {1: "Outstanding", 2: "Good", 3: "Requires improvement", 4: "Inadequate"}
CATEGORY_ORDER = ("1", "2", "3", "4a", "4b")
NOT_RECORDED = "Not recorded"
PHASE_ORDER = ("Primary", "Secondary", "Special", "All-through", "Nursery", "16 plus")


def academic_years(store: Store) -> list[int]:
    """Academic years that have any school results, most recent first."""
    frame = store.read("SELECT DISTINCT academic_year FROM results ORDER BY academic_year DESC")
    return [int(y) for y in frame.academic_year]


def list_groups(store: Store) -> pd.DataFrame:
    """Every partnership group with its depth in the hierarchy, in tree order.

    Returns
    -------
    DataFrame
        ``group_id, name, kind, parent_group_id, depth, path`` where ``path`` orders children
        under their parents (alliance, then its collaboratives, then their triads).
    """
    return store.read(
        """
        WITH RECURSIVE tree AS (
            SELECT group_id, name, kind, parent_group_id, 0 AS depth,
                   -- trusts after the partnership's own groups
                   [CASE WHEN kind = 'trust' THEN '2' ELSE '1' END, name] AS path
            FROM groups WHERE parent_group_id IS NULL
            UNION ALL
            SELECT g.group_id, g.name, g.kind, g.parent_group_id, t.depth + 1,
                   list_concat(t.path, [g.name])
            FROM groups g JOIN tree t ON g.parent_group_id = t.group_id
        )
        SELECT group_id, name, kind, parent_group_id, depth, path FROM tree
        ORDER BY path
        """
    )


# Common table expressions for queries scoped to a partnership group: ``scope_groups`` (the group
# and its sub-groups) and ``members`` (schools in them on ``$as_of``). Parameters ``$group_id``, ``$as_of``.
GROUP_MEMBERS_SQL = """WITH RECURSIVE scope_groups AS (
            SELECT group_id FROM groups WHERE group_id = $group_id
            UNION ALL
            SELECT g.group_id FROM groups g JOIN scope_groups s ON g.parent_group_id = s.group_id
        ),
        members AS (
            SELECT DISTINCT urn FROM group_memberships
            WHERE group_id IN (SELECT group_id FROM scope_groups)
              AND start_date <= $as_of AND (end_date IS NULL OR end_date >= $as_of)
        )"""


def schools_in_scope(store: Store, group_id: int | None, as_of: date) -> pd.DataFrame:
    """The schools open on ``as_of`` in a group (and its sub-groups), or all schools if ``None``.

    Returns
    -------
    DataFrame
        One row per school: ``urn, name, phase, school_type, pupils, pct_fsm, pct_eal, pct_sen,
        data_sharing_signed, ofsted_grade, ofsted_label, ofsted_date, category, rag,
        category_date``. Ofsted columns describe the latest graded inspection on or before
        ``as_of``; category columns the latest recorded decision on or before ``as_of``
        (``category`` is ``None`` when none was recorded).
    """
    frame = store.read(
        f"""
        {GROUP_MEMBERS_SQL},
        latest_inspection AS ({LATEST_INSPECTION_SQL}),
        latest_decision AS (
            SELECT urn, arg_max(category, (decided_on, decision_id)) AS category,
                   arg_max(rag, (decided_on, decision_id)) AS rag, max(decided_on) AS category_date
            FROM category_decisions WHERE decided_on <= $as_of AND withdrawn_at IS NULL
            GROUP BY urn
        )
        SELECT s.urn, s.name, s.phase, s.school_type, s.pupils, s.pct_fsm, s.pct_eal, s.pct_sen,
               s.data_sharing_signed, i.grade AS ofsted_grade, i.inspection_date AS ofsted_date,
               i.judgements IS NOT NULL AND i.grade IS NULL AS report_card, d.category, d.rag, d.category_date
        FROM schools s
        LEFT JOIN latest_inspection i USING (urn)
        LEFT JOIN latest_decision d USING (urn)
        WHERE ($group_id IS NULL OR s.urn IN (SELECT urn FROM members))
          AND (s.open_date IS NULL OR s.open_date <= $as_of)
          AND (s.close_date IS NULL OR s.close_date >= $as_of)
        ORDER BY s.name
        """,
        {"group_id": group_id, "as_of": as_of, "urns": None},
    )
    frame["ofsted_grade"] = frame["ofsted_grade"].astype("Int64")
    labels = frame["ofsted_grade"].map(OFSTED_GRADE_LABELS).astype(object)
    # Since November 2025 an inspection gives a report card and no overall grade: the latest one wins.
    labels = labels.where(~frame.pop("report_card").fillna(False).astype(bool), "Report card")
    frame.insert(frame.columns.get_loc("ofsted_date"), "ofsted_label", labels.fillna("No graded inspection"))
    return frame


# Each school's latest inspection known by $as_of (published by then, where the publication date is
# known) that gave a judgement, of either era: a graded
# inspection (an overall grade) or a report card (judgements, no overall grade). Ungraded visits do not
# change a judgement, so they are left out. Columns: urn, inspection_date, grade (None for a report
# card), category_of_concern, judgements (JSON). $urns limits it to some schools (None for all).
LATEST_INSPECTION_SQL = """
    SELECT urn, max(inspection_date) AS inspection_date,
           arg_max_null(overall_grade, inspection_date) AS grade,
           arg_max_null(category_of_concern, inspection_date) AS category_of_concern,
           arg_max_null(judgements, inspection_date) AS judgements
    FROM inspections
    WHERE (overall_grade IS NOT NULL OR judgements IS NOT NULL)
      AND coalesce(publication_date, inspection_date) <= $as_of
      AND ($urns IS NULL OR list_contains($urns, urn))
    GROUP BY urn"""


def latest_inspections(store: Store, as_of: date, urns: list[int] | None = None) -> pd.DataFrame:
    """Each school's latest judging inspection on or before ``as_of``, graded or report card
    (see :data:`LATEST_INSPECTION_SQL`)."""
    return store.read(LATEST_INSPECTION_SQL, {"as_of": as_of, "urns": urns})


def list_measures(store: Store) -> pd.DataFrame:
    """The measures catalogue, headline measures first: ``code, label, unit, higher_is_better, is_headline``."""
    return store.read(
        "SELECT code, label, unit, higher_is_better, is_headline FROM measures ORDER BY is_headline DESC, label"
    )


def list_schools(store: Store) -> pd.DataFrame:
    """Every school in the store: ``urn, name, phase, data_sharing_signed, la_code``.

    ``la_code`` lets :func:`analytics.privacy.display_names` find a hidden school's LAESTAB typed in text.
    """
    return store.read("SELECT urn, name, phase, data_sharing_signed, la_code FROM schools ORDER BY name")
