"""A school x year panel for researchers' own analysis, with its data dictionary and provenance.

The Research page answers set questions; a researcher with R, Stata or pandas wants the data behind
them to ask their own. :func:`school_year_panel` gives one row per school and academic year with a
result on one measure for one pupil group: the value (or DfE's suppression code), the cohort, the
national figure it is fairly compared with, whether an intervention on this measure supported the
school and from which year (event time), the school's context and, if asked, its group of one kind.
:func:`data_dictionary` describes every column, :func:`provenance` says where the numbers came from
(software versions, the store's content hash, the imports), and :func:`write_panel` writes it all as
CSV (UTF-8 without a byte-order mark, which R and Stata read as part of the first heading), Parquet,
a README and a methods note to cite.

Schools are named as the trust rules allow (:mod:`analytics.privacy`): a school without a
data-sharing agreement gets its pseudonym and no URN, exactly as the Research page's downloads.
"""

from __future__ import annotations

import importlib.metadata
import io
import json
import platform
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analytics import __version__
from analytics.calendar import end_of_academic_year, first_full_academic_year, format_academic_year
from analytics.export import safe_frame
from analytics.monitoring.criteria.checks.figures import with_national
from analytics.monitoring.criteria.school_types import school_type_groups
from analytics.privacy import SchoolNames, display_names, pseudonym_secret
from analytics.research.constants import GROUP_KINDS
from analytics.research.data import group_members, measure_details, scope_urns
from analytics.research.errors import ResearchError
from analytics.research.export import to_parquet_bytes
from analytics.research.panel_methods import methods_note
from analytics.store.db import Store
from analytics.store.schools import list_schools

MEASURE_UNIT = "the measure's unit"
ERROR_TITLE = "The panel cannot be made"
# name: (type, unit, meaning, source). The panel's columns, in order; ``group_id`` and ``group``
# appear only when a kind of group is asked for.
PANEL_COLUMNS: dict[str, tuple[str, str, str, str]] = {
    "school_key": (
        "text",
        "",
        "One value per school, for fixed effects and joins: the URN for a named school, the pseudonym otherwise.",
        "derived",
    ),
    "urn": ("integer", "", "Unique reference number; blank for a school that may not be identified.", "schools"),
    "school": ("text", "", "School name, or its stable pseudonym (e.g. 'School K42').", "schools + trust rules"),
    "phase": ("text", "", "Phase of education (Primary, Secondary, ...).", "schools (GIAS)"),
    "school_type": ("text", "", "GIAS type of establishment.", "schools (GIAS)"),
    "local_authority": ("text", "", "Local authority.", "schools (GIAS)"),
    "la_code": ("integer", "", "Local authority code.", "schools (GIAS)"),
    "pupils": ("integer", "pupils", "Pupils on roll: the latest figure held, not the year's.", "schools (GIAS)"),
    "pct_fsm": ("number", "%", "Pupils eligible for free school meals: the latest figure held.", "schools"),
    "pct_eal": ("number", "%", "Pupils with English as an additional language: the latest figure held.", "schools"),
    "pct_sen": ("number", "%", "Pupils with special educational needs: the latest figure held.", "schools"),
    "group_id": (
        "integer",
        "",
        "The school's group of the chosen kind at the end of this academic year (or today, if sooner); "
        "blank when it was in none, or in more than one (then 'group' lists them).",
        "group_memberships",
    ),
    "group": ("text", "", "Name(s) of that group ('; '-separated when more than one).", "groups"),
    "measure_code": ("text", "", "The measure (see the README for its label and unit).", "results"),
    "subgroup": ("text", "", "The pupil group the figures describe ('all' = all pupils).", "results"),
    "academic_year": ("integer", "year", "Academic year by the calendar year it ends: 2024 = 2023/24.", "results"),
    "academic_year_label": ("text", "", "The academic year as written: '2023/24'.", "derived"),
    "value": ("number", MEASURE_UNIT, "The school's result; blank when withheld (see missing_code).", "results"),
    "missing_code": (
        "text",
        "",
        "Why the value is withheld (DfE codes: SUPP, LOWCOV, NE, ...); never read as zero.",
        "results",
    ),
    "cohort": ("integer", "pupils", "Pupils the result describes.", "results"),
    "ci_low": ("number", MEASURE_UNIT, "Lower end of the published confidence interval, if any.", "results"),
    "ci_high": ("number", MEASURE_UNIT, "Upper end of the published confidence interval, if any.", "results"),
    "national": (
        "number",
        MEASURE_UNIT,
        "National figure for the same year and pupil group, like with like: the school's phase where published "
        "by phase, else all phases; a special school, PRU or AP only its own kind's (blank otherwise).",
        "comparators (scope national)",
    ),
    "supported": (
        "boolean",
        "",
        "Whether any intervention in the store with this measure as a focus included the school (in any year).",
        "intervention_schools, intervention_measures",
    ),
    "intervention_ids": (
        "text",
        "",
        "Those interventions' ids, earliest start first ('; '-separated).",
        "interventions",
    ),
    "support_start_year": (
        "integer",
        "year",
        "First academic year the earliest of them covered whole (a September start covers that year; a "
        "later start, the next).",
        "interventions.start_date",
    ),
    "years_since_start": (
        "integer",
        "years",
        "Event time: academic_year - support_start_year (0 = first full year of support; -1 may be a part-year).",
        "derived",
    ),
    "import_id": (
        "integer",
        "",
        "The import that wrote this result (see imports in the README); blank for results entered in the app "
        "or built by the demo.",
        "results",
    ),
}
GROUP_COLUMNS = ("group_id", "group")


def school_year_panel(
    store: Store,
    measure_code: str,
    *,
    subgroup: str = "all",
    group_kind: str | None = None,
    scope_group_id: int | None = None,
    names: SchoolNames | None = None,
    as_of: date | None = None,
) -> pd.DataFrame:
    """One row per school x academic year with a whole-year result on ``measure_code`` for ``subgroup``.

    Parameters
    ----------
    store
        The data store (read only).
    measure_code, subgroup
        The measure and pupil group.
    group_kind
        Adds ``group_id`` and ``group``: the school's group of this kind (alliance, triad...) at the end
        of each academic year, so the group in a comparison's "to" year is the one the Research page uses.
    scope_group_id
        Only schools in this group (and its sub-groups) on ``as_of``: by default the end of the latest
        academic year in the panel, or today if that is sooner, as on the Research page.
    names
        How schools may be named; by default the trust rules outside presenter mode.

    Returns
    -------
    DataFrame
        The columns of :data:`PANEL_COLUMNS` (see :func:`data_dictionary`); rows ordered by school and
        year. ``attrs["query"]`` records the arguments, for :func:`provenance`.

    Raises
    ------
    ResearchError
        An unknown measure, kind of group or scope group, or no results to put in the panel.
    """
    try:
        measure = measure_details(store, measure_code)
    except ResearchError as error:
        raise ResearchError(error.message, title=ERROR_TITLE) from error
    if group_kind is not None and group_kind not in GROUP_KINDS:
        raise ResearchError(
            f"Unknown kind of group {group_kind!r}; choose one of {', '.join(GROUP_KINDS)}.", title=ERROR_TITLE
        )
    results = _read_results(store, measure_code, subgroup)
    years = sorted(int(y) for y in results.academic_year.unique())
    as_of = as_of or (min(end_of_academic_year(years[-1]), date.today()) if years else date.today())
    if scope_group_id is not None:
        if store.scalar("SELECT count(*) FROM groups WHERE group_id = ?", [int(scope_group_id)]) == 0:
            raise ResearchError(f"There is no group {scope_group_id}.", title=ERROR_TITLE)
        results = results[results.urn.isin(scope_urns(store, scope_group_id, as_of) or [])]
    if results.empty:
        raise ResearchError(_no_results_message(store, measure_code, subgroup, scope_group_id), title=ERROR_TITLE)
    panel = results.reset_index(drop=True)
    panel["national"] = _national(store, panel, measure_code, subgroup)
    panel = _with_support(store, panel, measure_code)
    if group_kind is not None:
        panel = _with_groups(store, panel, group_kind, scope_group_id)
    panel = _named(panel, names or default_names(store))
    panel["academic_year_label"] = [format_academic_year(int(y)) for y in panel.academic_year]
    columns = [c for c in PANEL_COLUMNS if group_kind is not None or c not in GROUP_COLUMNS]
    panel = panel.sort_values(["school", "school_key", "academic_year"], kind="stable")[columns].reset_index(drop=True)
    panel.attrs["query"] = {
        "measure": measure,
        "subgroup": subgroup,
        "group_kind": group_kind,
        "scope_group_id": scope_group_id,
        "scope_as_of": as_of.isoformat() if scope_group_id is not None else None,
    }
    return panel


def default_names(store: Store) -> SchoolNames:
    """Names under the trust rules outside presenter mode: a school without an agreement is a pseudonym."""
    return display_names(list_schools(store), pseudonym_secret(store), presenter_mode=False)


def _read_results(store: Store, measure_code: str, subgroup: str) -> pd.DataFrame:
    # Results for a URN the schools table does not hold are an integrity problem (``info`` lists
    # them); without a school record there is nothing to say whether the school may be named.
    frame = store.read(
        """
        SELECT r.urn, s.name, s.phase, s.school_type, s.local_authority, s.la_code, s.pupils, s.pct_fsm,
               s.pct_eal, s.pct_sen, r.measure_code, r.subgroup, r.academic_year, r.value, r.missing_code,
               r.cohort, r.ci_low, r.ci_high, r.import_id
        FROM results r JOIN schools s USING (urn)
        WHERE r.measure_code = ? AND r.subgroup = ? AND r.term = 'year'
        """,
        [measure_code, subgroup],
    )
    integers = {c: "Int64" for c in ("urn", "la_code", "pupils", "cohort", "import_id")}
    floats = {c: "float64" for c in ("pct_fsm", "pct_eal", "pct_sen", "value", "ci_low", "ci_high")}
    return frame.astype({**integers, **floats, "academic_year": "int64", "missing_code": "str"})


def _no_results_message(store: Store, measure_code: str, subgroup: str, scope_group_id: int | None) -> str:
    groups = store.read(
        "SELECT DISTINCT subgroup FROM results WHERE measure_code = ? AND term = 'year' ORDER BY subgroup",
        [measure_code],
    ).subgroup.tolist()
    where = f" for the schools of group {scope_group_id}" if scope_group_id is not None else ""
    if subgroup not in groups:
        held = ", ".join(groups) if groups else "none"
        return f"There are no {measure_code} results for pupil group {subgroup!r}. Pupil groups with results: {held}."
    return f"There are no {measure_code} results for pupil group {subgroup!r}{where}."


def _national(store: Store, panel: pd.DataFrame, measure_code: str, subgroup: str) -> pd.Series:
    """The national figure each row is compared with, year by year, as the criteria compare them."""
    national = store.read(
        """
        SELECT academic_year, measure_code, subgroup, phase, value FROM comparators
        WHERE scope = 'national' AND term = 'year' AND measure_code = ? AND subgroup = ? AND value IS NOT NULL
        """,
        [measure_code, subgroup],
    )
    rows = panel[["measure_code", "subgroup", "phase"]].assign(type_group=school_type_groups(panel))
    values = pd.Series(np.nan, index=panel.index, dtype=float)
    for year, index in panel.groupby("academic_year").groups.items():
        figures = national[national.academic_year == year]
        if not figures.empty:
            values.loc[index] = with_national(rows.loc[index], figures)
    return values


def _with_support(store: Store, panel: pd.DataFrame, measure_code: str) -> pd.DataFrame:
    """``supported``, ``intervention_ids``, ``support_start_year`` and ``years_since_start``."""
    covered = store.read(
        """
        SELECT s.urn, i.intervention_id, i.start_date
        FROM intervention_schools s JOIN interventions i USING (intervention_id)
        JOIN intervention_measures m USING (intervention_id)
        WHERE m.measure_code = ? AND i.withdrawn_at IS NULL
        ORDER BY s.urn, i.start_date, i.intervention_id
        """,
        [measure_code],
    )
    covered["first_full"] = [first_full_academic_year(pd.Timestamp(d).date()) for d in covered.start_date]
    by_school = covered.groupby("urn").agg(
        intervention_ids=("intervention_id", lambda ids: "; ".join(str(int(i)) for i in ids)),
        support_start_year=("first_full", "min"),
    )
    panel = panel.merge(by_school, left_on="urn", right_index=True, how="left")
    panel["supported"] = panel.intervention_ids.notna()
    panel["support_start_year"] = panel.support_start_year.astype("Int64")
    panel["years_since_start"] = (panel.academic_year - panel.support_start_year).astype("Int64")
    return panel


def _with_groups(store: Store, panel: pd.DataFrame, kind: str, scope_group_id: int | None) -> pd.DataFrame:
    """The school's group of ``kind`` at the end of each academic year (today for the current one)."""
    found = []
    for year in sorted(panel.academic_year.unique()):
        as_of = min(end_of_academic_year(int(year)), date.today())
        members = group_members(store, as_of=as_of, kind=kind, scope_group_id=scope_group_id)
        found.append(members.assign(academic_year=int(year)))
    members = pd.concat(found, ignore_index=True)
    by_school = members.groupby(["urn", "academic_year"]).agg(
        group_id=("group_id", lambda ids: int(ids.iloc[0]) if len(ids) == 1 else pd.NA),
        group=("group", lambda named: "; ".join(sorted(named))),
    )
    panel = panel.merge(by_school, left_on=["urn", "academic_year"], right_index=True, how="left")
    panel["group_id"] = panel.group_id.astype("Int64")
    return panel


def _named(panel: pd.DataFrame, names: SchoolNames) -> pd.DataFrame:
    """School names as ``names`` allows, and no URN for a school that must not be identified."""
    urns = panel.urn.astype("int64")
    named = panel.assign(school=[names.name(int(u), str(n)) for u, n in zip(urns, panel.name, strict=True)])
    named["urn"] = pd.array(names.shown_urns(urns), dtype="Int64")
    named["school_key"] = [str(u) if pd.notna(u) else s for u, s in zip(named.urn, named.school, strict=True)]
    return named.drop(columns="name")


def data_dictionary(unit: str = "", columns: list[str] | None = None) -> pd.DataFrame:
    """One row per panel column: ``name, type, unit, meaning, source``.

    ``unit`` is the measure's unit (``%``, ``points``...), filled in for the value columns; ``columns``
    keeps only those (a panel without group columns), in the panel's order.
    """
    wanted = list(PANEL_COLUMNS) if columns is None else [c for c in PANEL_COLUMNS if c in columns]
    unknown = sorted(set(columns or []) - set(PANEL_COLUMNS))
    if unknown:
        raise ValueError(f"No description for column(s) {', '.join(unknown)}.")
    rows = []
    for name in wanted:
        kind, column_unit, meaning, source = PANEL_COLUMNS[name]
        shown_unit = (unit or MEASURE_UNIT) if column_unit == MEASURE_UNIT else column_unit
        rows.append({"name": name, "type": kind, "unit": shown_unit, "meaning": meaning, "source": source})
    return pd.DataFrame(rows, columns=["name", "type", "unit", "meaning", "source"])


def software_versions() -> dict[str, str]:
    """Versions of Python, the app and the libraries that compute or write the panel (installed ones only)."""
    versions = {"python": platform.python_version(), "school-improvement-insight": __version__}
    for package in ("pandas", "numpy", "scipy", "duckdb", "pyarrow", "statsmodels"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def provenance(store: Store, panel: pd.DataFrame | None = None) -> dict[str, Any]:
    """Where a panel's numbers came from, for a methods section or a reproduction.

    Software versions; the store (path, :meth:`~analytics.store.db.Store.content_hash`, schema and data
    versions, whether it is the demo); the imports whose rows are in the panel (``imports_log``: id, file
    name, file hash, who, when, rows in the panel), or every import that wrote results when ``panel`` is
    ``None``; the query and a summary of the panel; and when this was made.
    """
    ids = _import_ids(store, panel)
    log = store.read(
        """
        SELECT import_id, file_name, file_hash, imported_by, imported_at, target, outcome, undone_at
        FROM imports_log WHERE list_contains($ids, import_id) ORDER BY import_id
        """,
        {"ids": [int(i) for i in ids]},
    )
    counts = panel.import_id.value_counts() if panel is not None else pd.Series(dtype="int64")
    imports = [
        {
            "import_id": int(row.import_id),
            "file_name": row.file_name,
            "file_hash": row.file_hash if isinstance(row.file_hash, str) else None,
            "imported_by": row.imported_by if isinstance(row.imported_by, str) else None,
            "imported_at": None if pd.isna(row.imported_at) else pd.Timestamp(row.imported_at).isoformat(),
            "target": row.target,
            "undone": not pd.isna(row.undone_at),
            "rows_in_panel": int(counts.get(row.import_id, 0)) if panel is not None else None,
        }
        for row in log.itertuples()
    ]
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "software": software_versions(),
        "store": {
            "path": str(store.path),
            "content_hash": store.content_hash(),
            "schema_version": store.schema_version(),
            "data_version": store.data_version(),
            "is_demo": store.is_demo(),
        },
        "imports": imports,
        "rows_without_import": int(panel.import_id.isna().sum()) if panel is not None else None,
        "panel": panel_summary(panel) if panel is not None else None,
    }


def _import_ids(store: Store, panel: pd.DataFrame | None) -> list[int]:
    if panel is not None:
        return sorted(int(i) for i in panel.import_id.dropna().unique())
    found = store.read("SELECT DISTINCT import_id FROM results WHERE import_id IS NOT NULL ORDER BY import_id")
    return [int(i) for i in found.import_id]


def panel_summary(panel: pd.DataFrame) -> dict[str, Any]:
    """What a panel holds: its query (``attrs["query"]``), rows, schools (named or not, supported) and years."""
    query = dict(panel.attrs.get("query", {}))
    years = sorted(int(y) for y in panel.academic_year.unique())
    return {
        **query,
        "rows": len(panel),
        "schools": int(panel.school_key.nunique()),
        "schools_not_named": int(panel.loc[panel.urn.isna(), "school_key"].nunique()),
        "supported_schools": int(panel.loc[panel.supported, "school_key"].nunique()),
        "academic_years": [format_academic_year(y) for y in years],
        "rows_with_value": int(panel.value.notna().sum()),
        "rows_withheld": int(panel.missing_code.notna().sum()),
        "rows_with_national": int(panel.national.notna().sum()),
        "columns": list(panel.columns),
    }


def plain_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV without a byte-order mark (R, Stata and pandas read the mark into the first heading),
    with text that a spreadsheet would run as a formula neutralised."""
    return safe_frame(frame).to_csv(index=False, lineterminator="\n").encode("utf-8")


def panel_files(panel: pd.DataFrame, dictionary: pd.DataFrame, provenance: dict[str, Any]) -> dict[str, bytes]:
    """Every file of a panel export by name: the panel (CSV and Parquet), the dictionary, the README, the
    methods note and the provenance as JSON."""
    note = methods_note(provenance)
    return {
        "panel.csv": plain_csv_bytes(panel),
        "panel.parquet": to_parquet_bytes(panel),
        "data_dictionary.csv": plain_csv_bytes(dictionary),
        "README.txt": readme_text(provenance, note).encode("utf-8"),
        "methods.txt": (note + "\n").encode("utf-8"),
        "provenance.json": (json.dumps(provenance, indent=2, default=str) + "\n").encode("utf-8"),
    }


def write_panel(
    directory: Path, panel: pd.DataFrame, dictionary: pd.DataFrame, provenance: dict[str, Any]
) -> list[Path]:
    """Write :func:`panel_files` into ``directory`` (created if need be); the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in panel_files(panel, dictionary, provenance).items():
        target = directory / name
        target.write_bytes(content)
        written.append(target)
    return written


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """A zip archive of ``files`` (name: content), for one download."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def readme_text(provenance: dict[str, Any], note: str) -> str:
    """What the files are, then the methods note (which carries the provenance)."""
    summary = provenance.get("panel") or {}
    measure = summary.get("measure") or {}
    lines = [
        f"School x year panel: {measure.get('label', '')} ({measure.get('code', '')}), "
        f"pupil group {summary.get('subgroup', 'all')!r}",
        "",
        "Files",
        "  panel.csv            one row per school x academic year (UTF-8, no byte-order mark, comma-separated)",
        "  panel.parquet        the same rows with their types kept",
        "  data_dictionary.csv  every column: type, unit, meaning, source",
        "  methods.txt          how the columns were made and the methods the product uses, to cite",
        "  provenance.json      software versions, the store's content hash and the imports, for machines",
        "",
        "Text cells that a spreadsheet would run as a formula (starting =, +, -, @) begin with an apostrophe.",
        "",
        note,
        "",
    ]
    return "\n".join(lines)
