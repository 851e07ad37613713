"""Which columns of the store hold text a person typed, declared once.

Everything typed (minutes, notes, actions, who decided, an intervention's focus, a questionnaire's name
...) may name a school, a URN or a person, so every one of these columns goes through the same redaction
(:meth:`analytics.privacy.SchoolNames.redact`) before it is shown or exported. Every other text column is
declared in :data:`NOT_FREE_TEXT_FIELDS` with why it needs none; ``tests/test_redaction.py`` checks
that the two declarations together cover every text column of a freshly migrated store, so a new
column cannot be forgotten: whoever adds one must say which kind it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from analytics.privacy.names import SchoolNames

# table -> columns holding text a person typed (or a file's own words, which a person typed too).
FREE_TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "imports_log": ("file_name", "imported_by"),
    "groups": ("name",),
    "context_events": ("note", "recorded_by", "withdrawn_by"),
    "meetings": ("title", "attendees", "minutes", "withdrawn_by", "withdrawn_reason"),
    "meeting_notes": ("section", "note", "noted_by", "withdrawn_by", "withdrawn_reason"),
    "category_decisions": ("reasons", "decided_by", "withdrawn_by", "withdrawn_reason"),
    "actions": ("text", "owner", "withdrawn_by", "withdrawn_reason"),
    "action_followups": ("note", "noted_by", "withdrawn_by", "withdrawn_reason"),
    "interventions": ("name", "focus", "supporting_person", "targets", "withdrawn_by", "withdrawn_reason"),
    # The values before and after a correction are whatever the corrected field held (an action's text ...).
    "record_corrections": ("old_value", "new_value", "corrected_by", "reason"),
    "survey_instruments": ("name", "scale_labels", "description"),
    "survey_items": ("item_text", "construct"),
    "surveys": ("name",),
    "survey_waves": ("label",),
    "survey_responses": ("role",),
    "survey_respondent_groups": ("value",),
    "peer_reviews": ("partner", "evidence", "actions", "challenge_comments", "completed_by"),
    "data_sharing_agreements": ("recorded_by", "note", "file_name"),
    # A person's name and email, and what they did in words that may name a school or a person.
    "users": ("email", "display_name", "added_by", "removed_by"),
    "erased_respondents": ("erased_by", "reason"),
    "audit_log": ("who", "what"),  # its details are JSON (not a text column); shown only to administrators
}

# table -> text columns that need no redaction: codes, enumerations, hashes, pseudonyms, published
# reference data (a school's own name is replaced by SchoolNames.rename, not redacted as free text).
NOT_FREE_TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "store_meta": ("key", "value"),  # the store's own bookkeeping, never shown
    "schema_migrations": ("name",),  # the names of the migrations applied
    "imports_log": ("file_hash", "target", "outcome"),
    "schools": ("name", "phase", "school_type", "local_authority", "trust", "status"),  # GIAS reference data
    "groups": ("kind", "source_ref"),
    "measures": ("code", "label", "unit", "phase", "source", "description", "statistic"),  # the catalogue
    "results": ("measure_code", "term", "subgroup", "missing_code"),
    "ks2_published_cohorts": ("subgroup",),  # pupil group codes of a published KS2 information file
    "comparators": ("scope", "area_code", "measure_code", "term", "subgroup", "phase", "missing_code"),
    "inspections": ("inspection_type", "category_of_concern", "inspection_number", "judgements"),  # Ofsted's
    "context_events": ("kind", "source"),
    "meetings": ("kind",),
    "category_decisions": ("category", "rag", "suggested_category"),
    "actions": ("status",),
    "action_followups": ("status",),
    "interventions": ("kind", "status"),
    "record_corrections": ("record_type", "field"),
    "intervention_schools": ("selection_reason",),
    "intervention_measures": ("measure_code",),
    "survey_items": ("item_code",),
    "survey_responses": ("respondent", "item_code"),  # respondent is a keyed pseudonym, never a name
    "survey_summaries": ("item_code",),
    "survey_respondent_groups": ("respondent", "characteristic"),
    "peer_reviews": ("area",),
    "demo_truth": ("subject", "subject_id", "measure_code", "truth"),  # the demo's planted answers, tests only
    "urn_lineage": ("source",),
    # Undo's copy of rows an import replaced: read back only by undo, never shown or exported.
    "import_replaced_rows": ("table_name", "row_json"),
    "store_writes": ("kind",),  # which kind of data a write changed (caches), never shown
    "data_sharing_agreements": ("source",),
    "users": ("role",),
    "audit_log": ("action",),  # a dotted action name
    "erased_respondents": ("pseudonym",),  # a keyed pseudonym, kept so a re-import leaves the person out
}


def free_text_columns(table: str) -> tuple[str, ...]:
    """The typed-text columns of ``table``; an error for a table neither declaration knows."""
    if table not in FREE_TEXT_FIELDS and table not in NOT_FREE_TEXT_FIELDS:
        raise ValueError(f"{table!r} is not a table of the store (see analytics/privacy/fields.py)")
    return FREE_TEXT_FIELDS.get(table, ())


def redact_frame(frame: pd.DataFrame, table: str, names: SchoolNames) -> pd.DataFrame:
    """A copy of ``frame`` (read from ``table``) with exactly its declared free-text columns redacted.

    Columns the frame does not have are skipped, so a query that reads some of a table's columns can be
    redacted too; columns renamed in the query must be redacted by the caller with ``names.redact``.
    """
    columns = [c for c in free_text_columns(table) if c in frame]
    redacted = frame.copy()
    for column in columns:
        redacted[column] = names.redact(frame[column].tolist())
    return redacted
