"""Import school results and comparator figures from the long-format spreadsheets users keep.

One row per figure: ``urn, measure, academic_year, value`` with optional ``cohort``, ``subgroup``,
``term`` and ``school_name``; comparator rows (national, LA, statistical neighbours) carry
``scope`` instead of ``urn``. The format, its aliases and the codes it accepts are documented in
``docs/import-results.md``.

The import is all or nothing. :func:`read_results_file` parses and checks a file without writing
anything and collects *every* problem, each naming the row as the user sees it in the spreadsheet
(heading row = 1, first data row = 2) and the column. :func:`import_results` writes a valid file in
one transaction together with an ``imports_log`` row, and stamps every row it writes with that
import's id so :func:`undo_import` can take it out again.

Modules
-------
format
    The columns of the format, their aliases, the words cells may hold, the frames rows become.
headings
    Matching the heading row to the format's columns; the problems found, naming the file's columns.
cells
    Reading each cell of a row (scope, URN, measure, year, value, cohort, term, subgroup, area).
collect
    The schools and measures the rows name, and what is new or clashes when checked against a store.
check
    :func:`read_results_file`: checking a whole file, row by row and as a whole.
preview
    :class:`ResultsImportPreview` and :class:`ImportSummary`, with the lines they are shown as.
write
    :func:`import_results` and :func:`undo_import`.

Reading the file is :mod:`analytics.imports.files`; values and years are :mod:`analytics.imports.values`.

Examples
--------
>>> from analytics.store.db import Store
>>> from analytics.imports.results import import_results, read_results_file
>>> preview = read_results_file("results.csv", store=store)       # doctest: +SKIP
>>> [str(p) for p in preview.problems]                            # doctest: +SKIP
["Row 7, column Value: '4S' is not a number or a DfE code (SUPP, LOWCOV, ...); leave ..."]
>>> summary = import_results(store, "results.csv", imported_by="J Smith")  # doctest: +SKIP
>>> summary.results_new, summary.results_replaced                 # doctest: +SKIP
(1180, 20)
"""

from analytics.imports.log import IMPORTED
from analytics.imports.problems import ImportProblem, ImportValidationError
from analytics.imports.results.check import read_results_file
from analytics.imports.results.format import (
    COLUMN_ALIASES,
    COMPARATOR_KEY,
    DEFAULT_UNIT,
    NATIONAL_AREA_CODE,
    REQUIRED_COLUMNS,
    RESULT_KEY,
    TARGET,
    UNKNOWN_PHASE,
)
from analytics.imports.results.preview import ImportSummary, ResultsImportPreview
from analytics.imports.results.write import import_results, undo_import
from analytics.imports.values import EARLIEST_YEAR, SUPPRESSION_CODES, parse_academic_year, parse_value

__all__ = [
    "COLUMN_ALIASES",
    "COMPARATOR_KEY",
    "DEFAULT_UNIT",
    "EARLIEST_YEAR",
    "IMPORTED",
    "NATIONAL_AREA_CODE",
    "REQUIRED_COLUMNS",
    "RESULT_KEY",
    "SUPPRESSION_CODES",
    "TARGET",
    "UNKNOWN_PHASE",
    "ImportProblem",
    "ImportSummary",
    "ImportValidationError",
    "ResultsImportPreview",
    "import_results",
    "parse_academic_year",
    "parse_value",
    "read_results_file",
    "undo_import",
]
