"""Import the files partnerships download: DfE performance tables, GIAS, Ofsted, absence, URN lineage.

Each kind of file is recognised from its columns (:func:`detect_kind`), turned into the rows it would
add or change (:func:`preview_import`, which writes nothing), and written in one transaction with an
``imports_log`` row (:func:`run_import`). Re-importing a file changes nothing; importing a newer year
adds it; :func:`undo_import` takes an import out again and puts back the rows it changed. The kinds,
their column mappings and the choices behind them are in ``docs/import-dfe.md``.

The generic long format of :mod:`analytics.imports.results` is the fallback (kind ``results``); its
preview/summary types are extended here. Files are read through :mod:`analytics.imports.files`, values
through :mod:`analytics.imports.values`, and measures come from :mod:`analytics.catalogue`.

Modules
-------
kinds, detect
    The kinds of file and the columns that identify each; recognising a file's kind.
reading
    Reading a published CSV into text cells under its heading row.
columns, ks2, ks4, performance
    Where each measure is in the performance tables, and planning a KS2 or KS4 import.
gias, groups, lineage, ofsted, absence
    Planning (and, where they have their own tables, comparing and writing) each other kind.
ees, ees_layouts, ees_info
    Explore Education Statistics files; ``ees_info`` fills stored KS2 results' empty cohorts from the KS2 school
    information file.
plan
    The rows an import would write, and the helpers every kind's planner uses.
years
    The academic year of a performance-tables file, from the evidence in it; a question when it is not certain.
diff, compare, keep
    Comparing planned rows with what the store holds; keeping every stored value the file has nothing for.
needs
    What a performance-tables file lacks that trends need (cohorts, England rows).
reports, preview
    :class:`Preview` and :class:`Summary`; :func:`preview_import`.
write, undo, undo_later
    :func:`run_import`; :func:`undo_import` (of any kind of import) and :func:`list_imports`;
    :func:`undo_with_report` also says which rows a later import changed (they stay as it left them).

Examples
--------
>>> from analytics.store.db import Store
>>> from analytics.imports.dfe import preview_import, run_import, undo_import
>>> preview = preview_import(store, "ks2-850-2018-19.csv")          # doctest: +SKIP
>>> preview.kind, preview.years, preview.results                    # doctest: +SKIP
('ks2', [2019], 43361)
>>> summary = run_import(store, "ks2-850-2018-19.csv", imported_by="J Smith")  # doctest: +SKIP
>>> undo_import(store, summary.import_id)                           # doctest: +SKIP
"""

from analytics.catalogue import MEASURE_BY_CODE, MEASURES, MeasureDef
from analytics.errors import InsightError
from analytics.imports.dfe.columns import KS_RECTYPES, KS_SCHOOL_RECTYPES, ColumnSpec
from analytics.imports.dfe.detect import detect_kind
from analytics.imports.dfe.kinds import KIND_LABELS, KINDS, SIGNATURES
from analytics.imports.dfe.ofsted import OFSTED_JUDGEMENTS
from analytics.imports.dfe.performance import COLUMN_SPECS
from analytics.imports.dfe.preview import preview_import
from analytics.imports.dfe.reports import Preview, Summary
from analytics.imports.dfe.undo import undo_import, undo_with_report
from analytics.imports.dfe.undo_later import UndoResult
from analytics.imports.dfe.write import ProgressCallback, run_import
from analytics.imports.dfe.years import YearNeeded, YearQuestion, year_choices
from analytics.imports.files import Source, heading_key
from analytics.imports.log import list_imports
from analytics.imports.problems import ImportProblem, ImportValidationError

__all__ = [
    "COLUMN_SPECS",
    "KINDS",
    "KIND_LABELS",
    "KS_RECTYPES",
    "KS_SCHOOL_RECTYPES",
    "MEASURES",
    "MEASURE_BY_CODE",
    "OFSTED_JUDGEMENTS",
    "SIGNATURES",
    "ColumnSpec",
    "ImportProblem",
    "ImportValidationError",
    "InsightError",
    "MeasureDef",
    "Preview",
    "ProgressCallback",
    "Source",
    "Summary",
    "UndoResult",
    "YearNeeded",
    "YearQuestion",
    "detect_kind",
    "heading_key",
    "list_imports",
    "preview_import",
    "run_import",
    "undo_import",
    "undo_with_report",
    "year_choices",
]
