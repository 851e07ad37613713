"""Previewing an import: reading and checking a file, planning its rows and comparing them with the store, writing
nothing."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from analytics.imports import results as import_results
from analytics.imports.dfe.absence import plan_absence
from analytics.imports.dfe.census import plan_census
from analytics.imports.dfe.compare import compare
from analytics.imports.dfe.detect import kind_of
from analytics.imports.dfe.diff import TableChange
from analytics.imports.dfe.ees import plan_ees
from analytics.imports.dfe.ees_info import plan_ks2_information
from analytics.imports.dfe.gias import plan_gias
from analytics.imports.dfe.groups import plan_groups
from analytics.imports.dfe.kinds import KIND_LABELS, KINDS, SIGNATURES
from analytics.imports.dfe.lineage import plan_lineage
from analytics.imports.dfe.links import plan_links
from analytics.imports.dfe.needs import trend_needs
from analytics.imports.dfe.ofsted import plan_ofsted
from analytics.imports.dfe.performance import plan_performance
from analytics.imports.dfe.plan import Plan, ProgressCallback
from analytics.imports.dfe.reading import CsvTable, load, read_csv, row_problem
from analytics.imports.dfe.reports import Preview
from analytics.imports.files import Source
from analytics.imports.results import ResultsImportPreview
from analytics.store.db import Store


def preview_import(
    store: Store | None,
    source: Source,
    kind: str = "auto",
    *,
    file_name: str | None = None,
    year: int | None = None,
    state_funded_only: bool = True,
    progress: ProgressCallback | None = None,
) -> Preview | ResultsImportPreview:
    """Read and check a file and say what importing it would change; nothing is written.

    Parameters
    ----------
    store
        The store to compare with; ``None`` checks the file alone (every row then counts as new).
    source
        A path, the file's bytes, or a binary file object (such as a Streamlit upload).
    kind
        ``"auto"`` to recognise the file from its columns, or one of :data:`KINDS`.
    file_name
        The name to report and log; defaults to the path's name.
    year
        The academic year (by the year it ends) of a performance-tables file whose name and columns
        do not say.
    state_funded_only
        Skip the independent schools a national file lists (the default); ``False`` imports them too.
    progress
        Called with ``(fraction done, message)`` from the start (a whole-England file takes seconds to read).

    Returns
    -------
    Preview
        Counts by table, measure and year, rows skipped with reasons, and ``problems``: the file can
        be imported only when that is empty. Pass it to :func:`~analytics.imports.dfe.write.run_import`
        (``preview=``) so that the import writes what it shows without reading the file again. A generic
        long-format file (kind ``results``) gives the :class:`~analytics.imports.results.ResultsImportPreview`
        of :mod:`analytics.imports.results`.

    Raises
    ------
    ImportValidationError
        The file cannot be read at all, or is of no kind this app understands.
    """
    report = progress or _silent
    report(0.0, "Reading the file")
    asked = (kind, year, state_funded_only)
    name, data = load(source, file_name)
    table = read_csv(data, name)
    if kind == "auto":
        kind = kind_of(table)
    elif kind not in KINDS:
        raise ValueError(f"kind must be 'auto' or one of {', '.join(KINDS)}; got {kind!r}.")
    if kind == "results":
        return import_results.read_results_file(data, file_name=name, store=store)
    del data
    if not any(set(columns) <= set(table.keys) for columns in SIGNATURES[kind]):
        looked_for = " or ".join("+".join(columns) for columns in SIGNATURES[kind])
        raise row_problem(
            table.header_row,
            f"{name} does not have the columns of a {kind} file ({KIND_LABELS[kind]}); looked for {looked_for}. "
            "Choose another kind, or let the app recognise the file.",
        )
    report(0.15, f"Reading the figures in {len(table.rows):,} rows")
    plan = build_plan(table, kind, year, state_funded_only=state_funded_only, progress=report)
    del table  # The plan keeps what it needs; a national file's cells are hundreds of megabytes.
    report(0.6, "Comparing with what the store holds")
    preview = make_preview(store, plan)
    preview.asked = asked
    report(1.0, "File checked")
    return preview


def _silent(fraction: float, message: str) -> None:
    """The progress callback when nobody is listening."""


def build_plan(
    table: CsvTable,
    kind: str,
    year: int | None,
    *,
    state_funded_only: bool = True,
    progress: ProgressCallback | None = None,
) -> Plan:
    """The plan of ``table``'s import; ``table``'s cells are let go once read (the plan counts its rows)."""
    plan = Plan(kind, table, state_funded_only=state_funded_only, progress=progress or _silent)
    plan.rows_read = len(table.rows)
    check_shape(plan)
    builder = {
        "ks2": plan_performance,
        "ks4": plan_performance,
        "gias": plan_gias,
        "gias-groups": plan_groups,
        "urn-lineage": plan_lineage,
        "ofsted": plan_ofsted,
        "absence": plan_absence,
        "ees-ks2": plan_ees,
        "ees-ks2-info": plan_ks2_information,
        "ees-ks4": plan_ees,
        "ees-exclusions": plan_ees,
        "ees-census": plan_census,
        "gias-links": plan_links,
    }[kind]
    if not plan.problems:
        builder(plan, year)
    plan.table = replace(table, rows=[])
    return plan


def check_shape(plan: Plan) -> None:
    """A short last row means the file was cut short; rows with extra cells have shifted columns.

    DfE leaves off the empty cells at the end of a row (a school without KS2 pupils has 24 of 290),
    so short rows before the last are read with the missing cells blank. Every file ends with a
    full row (the England rows, in the performance tables).
    """
    width = len(plan.table.headings)
    if not plan.table.rows:
        plan.problem(None, None, f"{plan.table.name} has column headings but no rows of data.")
        return
    last, cells = plan.table.rows[-1]
    if len(cells) < width:
        plan.problem(
            last,
            None,
            f"the last row has {len(cells)} cells but the heading row has {width}: the file looks cut short. "
            "Download it again.",
        )
    # GIAS writes each further linked establishment into an extra cell at the end of the row.
    spills = plan.kind == "gias" and plan.table.keys[-1:] == ["LINKED_ESTABLISHMENTS"]
    for number, cells in plan.table.rows:
        if len(cells) > width and not spills and any(c.strip() for c in cells[width:]):
            plan.problem(
                number,
                None,
                f"this row has {len(cells)} cells but the heading row has {width}: a comma inside a value needs the "
                "value in double quotes.",
            )


def make_preview(store: Store | None, plan: Plan) -> Preview:
    changes: list[TableChange] = []
    rekey = pd.DataFrame(columns=["urn", "latest_urn"])
    measures = pd.DataFrame()
    data_version = None
    if store is not None and not plan.problems:
        # Decisions, notes and audit entries saved meanwhile change nothing an import compares with.
        data_version = store.evidence_version()
        changes, rekey, measures = compare(store, plan)
    elif not plan.problems:
        for name, frame in (("schools", plan.schools), ("results", plan.results), ("comparators", plan.comparators)):
            if frame is not None:
                changes.append(TableChange(name, [], frame, frame.iloc[0:0], 0))
    summary = _change_table(changes)
    by_table = {c.table: c for c in changes}
    results = by_table.get("results")
    schools = by_table.get("schools")
    if not plan.problems:
        plan.warnings += trend_needs(store, plan, 0 if results is None else len(results.new))
    skipped = pd.DataFrame(plan.skipped, columns=["row", "reason"]).astype({"row": "Int64"})
    preview = Preview(
        rows=plan.rows_read,
        results=0 if plan.results is None else len(plan.results),
        comparators=0 if plan.comparators is None else len(plan.comparators),
        schools_added=[] if schools is None else [int(u) for u in schools.new.urn],
        measures_added=[] if measures.empty else list(measures.code),
        years=plan.years,
        problems=sorted(plan.problems, key=lambda p: p.row or 0),
        frame=plan.results if plan.results is not None else pd.DataFrame(),
        comparator_frame=plan.comparators if plan.comparators is not None else pd.DataFrame(),
        schools_frame=schools.new if schools is not None else pd.DataFrame(),
        measures_frame=measures,
        file_name=plan.table.name,
        file_hash=plan.table.file_hash,
        warnings=plan.warnings,
        missing_values=plan.missing_values,
        results_replaced=0 if results is None else len(results.updated),
        checked_against_store=store is not None,
        kind=plan.kind,
        changes=summary,
        skipped=skipped.sort_values("row", kind="stable").reset_index(drop=True),
        schools_updated=0 if schools is None else len(schools.updated),
        results_new=0 if results is None else len(results.new),
        results_updated=0 if results is None else len(results.updated),
        results_rekeyed=int(rekey.results.sum()) if len(rekey) else 0,
        fields=plan.field_changes,
        year_source=plan.year_source,
        year_question=plan.year_question,
        conversions=plan.conversions,
        conversion_summary=conversion_summary(plan, changes),
        cohorts_from_information=plan.cohorts_from_information,
    )
    preview.plan = plan
    preview.comparison = (changes, rekey, measures)
    preview.data_version = data_version
    return preview


def conversion_summary(plan: Plan, changes: list[TableChange]) -> str:
    """ "13 schools converted; their histories were joined", from the file's own conversion records."""
    if not plan.conversions:
        return ""
    said = f"{plan.conversions:,} school{'s' if plan.conversions != 1 else ''} converted"
    joined = plan.conversions_joined
    if joined is None:
        return said + "."
    if joined == plan.conversions:
        return said + "; their histories were joined under the latest URN."
    waiting = plan.conversions - joined
    return (
        f"{said}; {joined:,} histories joined under the latest URN, {waiting:,} will be once the latest school is "
        "in the store (import the GIAS establishments extract)."
    )


def _change_table(changes: list[TableChange]) -> pd.DataFrame:
    rows = []
    for change in changes:
        by_measure = "measure_code" in change.new.columns or "measure_code" in change.updated.columns
        if by_measure:
            new = change.new.groupby(["measure_code", "academic_year"]).size()
            updated = change.updated.groupby(["measure_code", "academic_year"]).size()
            counts = pd.concat({"new": new, "updated": updated}, axis=1).fillna(0).astype(int)
            for (code, year), row in counts.iterrows():
                rows.append(
                    {
                        "table": change.table,
                        "measure_code": code,
                        "academic_year": int(year),
                        "new": int(row.new),
                        "updated": int(row.updated),
                        "unchanged": 0,
                    }
                )
            if change.unchanged:
                rows.append(
                    {
                        "table": change.table,
                        "measure_code": "",
                        "academic_year": pd.NA,
                        "new": 0,
                        "updated": 0,
                        "unchanged": change.unchanged,
                    }
                )
        else:
            rows.append(
                {
                    "table": change.table,
                    "measure_code": "",
                    "academic_year": pd.NA,
                    "new": len(change.new),
                    "updated": len(change.updated),
                    "unchanged": change.unchanged,
                }
            )
    frame = pd.DataFrame(rows, columns=["table", "measure_code", "academic_year", "new", "updated", "unchanged"])
    frame["academic_year"] = frame.academic_year.astype("Int64")
    return frame
