"""Peer review maturity: a school's or alliance's self-assessment over five areas, tracked over time.

The framework is the East Midlands Teaching Schools Peer Review Framework (``seeds/002_*``): five
areas (Leadership, Infrastructure, Initial Teacher Training, Continuing Professional Development,
School-to-school support), each judged best-fit on the scale Emerging (1), Expanding (2), Secure (3),
Sustainable (4), with the evidence for the judgement, the key actions to reach the next level and the
peer challenge partner's comments. The framework's Excel diagnostic turns the five judgements into a
rating per area and "an overall rating" but does not say how; the rule used here is
:func:`overall_rating` (documented in ``docs/peer-review.md``).

One assessment is every ``peer_reviews`` row of one subject (a school's ``urn`` or a group's
``group_id``) on one ``review_date``.

Modules:

- :mod:`~analytics.peer_review.framework`: the areas, levels and descriptors, :func:`parse_level`,
  :func:`level_label` and :func:`overall_rating` (the rule).
- :mod:`~analytics.peer_review.store`: :func:`record_assessment` and reading assessments back
  (:func:`assessment_history`, :func:`list_assessments`).
- :mod:`~analytics.peer_review.summaries`: counts per subject, picker order, each subject's latest
  assessment, groups in scope, and :func:`changes_between` two assessments.
- :mod:`~analytics.peer_review.charts`: :func:`maturity_radar`, the maturity shape over time.
- :mod:`~analytics.peer_review.workbook`: writing the Excel diagnostic, blank or filled in.
- :mod:`~analytics.peer_review.workbook_reader`: reading a filled-in diagnostic workbook back.
- :mod:`~analytics.peer_review.text`: typed free text: school names redacted, Markdown made literal.
"""

from analytics.peer_review.charts import maturity_radar
from analytics.peer_review.framework import (
    AREA_SHORT,
    AREAS,
    DESCRIPTORS,
    LEVELS,
    OVERALL_RULE,
    AreaRating,
    level_label,
    overall_rating,
    parse_level,
)
from analytics.peer_review.store import (
    HISTORY_COLUMNS,
    PeerReviewError,
    assessment_history,
    list_assessments,
    record_assessment,
)
from analytics.peer_review.summaries import (
    CHANGE_COLUMNS,
    assessed_first,
    assessment_counts,
    assessment_summary,
    changes_between,
    groups_in_scope,
    latest_by_subject,
)
from analytics.peer_review.text import markdown_literal, redact_names
from analytics.peer_review.workbook import INPUT_SHEET, OUTPUT_SHEET, diagnostic_workbook, filled_diagnostic
from analytics.peer_review.workbook_reader import DiagnosticFileError, DiagnosticUpload, read_diagnostic_workbook

__all__ = [
    "AREAS",
    "AREA_SHORT",
    "CHANGE_COLUMNS",
    "DESCRIPTORS",
    "HISTORY_COLUMNS",
    "INPUT_SHEET",
    "LEVELS",
    "OUTPUT_SHEET",
    "OVERALL_RULE",
    "AreaRating",
    "DiagnosticFileError",
    "DiagnosticUpload",
    "PeerReviewError",
    "assessed_first",
    "assessment_counts",
    "assessment_history",
    "assessment_summary",
    "changes_between",
    "diagnostic_workbook",
    "filled_diagnostic",
    "groups_in_scope",
    "latest_by_subject",
    "level_label",
    "list_assessments",
    "markdown_literal",
    "maturity_radar",
    "overall_rating",
    "parse_level",
    "read_diagnostic_workbook",
    "record_assessment",
    "redact_names",
]
