"""The references a store's records must keep: each check counts the rows that point at nothing.

``Store.integrity_problems`` runs them for ``python -m analytics check``.
"""

from __future__ import annotations

# label -> a query counting the rows that break it.
INTEGRITY_CHECKS: dict[str, str] = {
    "results without a school": "SELECT count(*) FROM results r ANTI JOIN schools s USING (urn)",
    "results without a measure": ("SELECT count(*) FROM results r ANTI JOIN measures m ON r.measure_code = m.code"),
    "comparators without a measure": (
        "SELECT count(*) FROM comparators c ANTI JOIN measures m ON c.measure_code = m.code"
    ),
    "memberships without a school": ("SELECT count(*) FROM group_memberships g ANTI JOIN schools s USING (urn)"),
    "memberships without a group": ("SELECT count(*) FROM group_memberships m ANTI JOIN groups g USING (group_id)"),
    "groups with a missing parent": (
        "SELECT count(*) FROM groups c WHERE parent_group_id IS NOT NULL "
        "AND parent_group_id NOT IN (SELECT group_id FROM groups)"
    ),
    "inspections without a school": "SELECT count(*) FROM inspections i ANTI JOIN schools s USING (urn)",
    "context events without a school": ("SELECT count(*) FROM context_events e ANTI JOIN schools s USING (urn)"),
    "decisions without a school": ("SELECT count(*) FROM category_decisions d ANTI JOIN schools s USING (urn)"),
    "decisions with a missing meeting": (
        "SELECT count(*) FROM category_decisions WHERE meeting_id IS NOT NULL "
        "AND meeting_id NOT IN (SELECT meeting_id FROM meetings)"
    ),
    "actions with a missing meeting": ("SELECT count(*) FROM actions a ANTI JOIN meetings m USING (meeting_id)"),
    "supported schools that do not exist": (
        "SELECT count(*) FROM intervention_schools i ANTI JOIN schools s USING (urn)"
    ),
    "supported schools of a missing intervention": (
        "SELECT count(*) FROM intervention_schools s ANTI JOIN interventions i USING (intervention_id)"
    ),
    "survey waves of a missing survey": ("SELECT count(*) FROM survey_waves w ANTI JOIN surveys s USING (survey_id)"),
    "survey responses of a missing wave": (
        "SELECT count(*) FROM survey_responses r ANTI JOIN survey_waves w USING (wave_id)"
    ),
    "survey responses to an unknown item": (
        "SELECT count(*) FROM survey_responses r JOIN survey_waves w USING (wave_id) "
        "JOIN surveys s USING (survey_id) ANTI JOIN survey_items i "
        "ON i.instrument_id = s.instrument_id AND i.item_code = r.item_code"
    ),
}
