"""Questionnaire results from Excel or CSV, in whatever layout a project lead kept them.

A project lead has a spreadsheet of before-and-after answers and must get from file to result
without help. This package reads it and says what it understood before anything is written:

- **Individual answers**, *wide* (a row per respondent, a column per item) or *long* (a row per
  answer), with the waves (Before / After, Pre / Mid / Post) as separate sheets, separate files, a
  wave column, or wave words in the column headings ("Q1 Before", a merged "Before" above Q1-Q5).
- **Summary tables** when no individual answers were kept: counts per answer option per item and
  wave; percentages with the number of respondents; or means with n (and the SD when kept). They
  are checked on the way in and what does not add up is listed as warnings.
- Answers written as numbers or as labels ("Strongly agree", "Very confident", "Excellent",
  Ofsted grades "Outstanding" .. "Inadequate" where 1 is best) in any capitalisation and with stray
  spaces. :data:`KNOWN_SCALES` holds the label scales recognised; the user can confirm or change the
  mapping, the scale's range and its direction (:class:`SurveyOptions`) before anything is saved.

:func:`preview_survey` parses and checks, writing nothing; :func:`import_survey` writes everything
in one transaction with an ``imports_log`` row; :func:`undo_survey_import` takes exactly that
import out again. Respondent names or codes are replaced by stable pseudonyms (an HMAC keyed with
the store's secret) before anything is kept, and are never shown. ``docs/import-survey.md`` is the
user's guide.

Modules, in the order an upload goes through them:

- ``model``: the options, problems (and the collector of problems and warnings) and kinds of upload.
- ``sheets``: uploads -> sheets of cells (size limits, CSV and workbook reading, merged cells, unsaved
  formulas). ``cells``: how one cell is read (blank, text, number, percentage, column letter).
- ``layout``: recognising a sheet's layout and handing it to its reader; ``headings`` says what each
  column heading means; ``answer_layouts`` reads individual answers (wide or long),
  ``summary_layouts`` reads summary tables (counts, percentages, means); ``waves`` finds the waves.
- ``scales``: answer labels -> numbers, the scale's range and direction (higher or lower is better).
- ``items``: item codes and wording, the instrument sheet, reverse-scored items, the user's changes.
- ``answers``: individual answers -> values, and their checks; ``mapping``: the answer mapping table.
- ``tallies``: summary tables -> what is stored (counts and percentages become answers; means checked).
- ``schools``: the school column matched to the store's schools.
- ``check``: :func:`preview_survey`, which runs all of the above; ``preview``: :class:`SurveyPreview`.
- ``store``: :func:`import_survey`, :func:`undo_survey_import`; ``pseudonyms``: respondents' pseudonyms.
- ``template``: the Excel template. (The ``import-survey`` command is ``analytics/cli/survey.py``.)

Examples
--------
>>> from analytics.imports.survey import preview_survey, import_survey
>>> preview = preview_survey(["before.csv", "after.csv"], store=store)   # doctest: +SKIP
>>> print("\\n".join(preview.lines()))                                   # doctest: +SKIP
>>> summary = import_survey(store, ["before.csv", "after.csv"])          # doctest: +SKIP
>>> summary.survey_id                                                    # doctest: +SKIP
"""

from __future__ import annotations

from analytics.imports.survey.check import preview_survey
from analytics.imports.survey.items import item_changes_from_table, maybe_reverse_worded
from analytics.imports.survey.mapping import missing_labels_from_table
from analytics.imports.survey.model import (
    IMPORTED,
    KIND_LABELS,
    KINDS,
    MAPPING_COLUMNS,
    MISSING_CHOICE,
    TARGET,
    ProgressCallback,
    Source,
    SurveyImportError,
    SurveyOptions,
    SurveyProblem,
)
from analytics.imports.survey.preview import SurveyPreview
from analytics.imports.survey.pseudonyms import respondent_pseudonym
from analytics.imports.survey.scales import KNOWN_SCALES, SCALES_BY_KEY, LabelScale, normalise_label
from analytics.imports.survey.sheets import MAX_ROWS, MAX_UPLOAD_BYTES, MAX_UPLOAD_MB, SIZE_LIMIT_MESSAGE
from analytics.imports.survey.store import (
    SurveyImportSummary,
    import_survey,
    list_survey_imports,
    undo_survey_import,
)
from analytics.imports.survey.template import TEMPLATE_WAVES, survey_template_workbook
from analytics.imports.survey.waves import wave_rank

__all__ = [
    "IMPORTED",
    "KINDS",
    "KIND_LABELS",
    "KNOWN_SCALES",
    "MAPPING_COLUMNS",
    "MAX_ROWS",
    "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_MB",
    "MISSING_CHOICE",
    "SCALES_BY_KEY",
    "SIZE_LIMIT_MESSAGE",
    "TARGET",
    "TEMPLATE_WAVES",
    "LabelScale",
    "ProgressCallback",
    "Source",
    "SurveyImportError",
    "SurveyImportSummary",
    "SurveyOptions",
    "SurveyPreview",
    "SurveyProblem",
    "import_survey",
    "item_changes_from_table",
    "list_survey_imports",
    "maybe_reverse_worded",
    "missing_labels_from_table",
    "normalise_label",
    "preview_survey",
    "respondent_pseudonym",
    "survey_template_workbook",
    "undo_survey_import",
    "wave_rank",
]
