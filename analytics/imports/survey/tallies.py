"""Summary tables -> what is stored, with their checks.

Counts per answer option, or percentages with n, become one anonymous answer per person counted (so the
results are worked out as for individual answers); means with n are kept as they are. What does not add up
(percentages that are not whole people, counts that do not make n, a printed difference that is not after minus
before) is a warning; figures that cannot be read are problems.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analytics.imports.survey.cells import as_number, cell_text, decimals_of, is_blank, read_percent
from analytics.imports.survey.model import MAPPING_COLUMNS, MISSING_CHOICE, Findings, SurveyOptions
from analytics.imports.survey.scale_choice import choose_scale
from analytics.imports.survey.scales import UserLabels, normalise_label, scale_words, value_of
from analytics.imports.survey.sheets import MAX_ROWS, Block

# (option value, percentage, decimals it was written with, its column)
_Pct = tuple[float, float, int, str]


@dataclass
class _Options:
    """The answer options a counts table's columns name: value by normalised label, and the mapping table rows."""

    value_of: dict[str, float | None] = field(default_factory=dict)
    table_rows: list[dict[str, Any]] = field(default_factory=list)


def counts(
    cells: pd.DataFrame,
    codes: dict[str, str],
    decimal_comma: dict[str, bool],
    headings: list[str],
    *,
    instrument: pd.DataFrame,
    options: SurveyOptions,
    findings: Findings,
    notes: list[str] | None = None,
) -> tuple[pd.DataFrame, dict[str, int], dict[str, Any], pd.DataFrame]:
    """A table of counts (or percentages with n) -> (answers, respondents per wave, scale, answer mapping)."""
    user = UserLabels.from_options(options)
    labels = [normalise_label(label) for label in pd.unique(cells.option_label)]
    option_numbers = [n for n in (as_number(label) for label in labels) if n is not None]
    word_labels = [label for label in labels if as_number(label) is None]
    scale = choose_scale(
        word_labels,
        option_numbers,
        instrument,
        headings,
        user=user,
        options=options,
        findings=findings,
        notes=notes or (),
    )
    answer_options = _answer_options(cells, labels, scale, user, findings)
    records = []
    for (sheet, row), group in cells.groupby(["sheet", "row"], sort=False):
        records += _row_counts(sheet, int(row), group, answer_options, codes, decimal_comma.get(sheet, False), findings)
    tally = pd.DataFrame(records, columns=["wave", "item", "option", "count"])
    if len(tally):
        repeated = tally.duplicated(["wave", "item", "option"], keep=False)
        for (wave, item), _ in tally[repeated].groupby(["wave", "item"]):
            findings.problem(
                None, None, None, f"item {item} has more than one row of counts in the {wave} wave; keep one."
            )
    answers = pd.DataFrame(
        {
            "wave": np.repeat(tally.wave.to_numpy(), tally["count"].to_numpy(dtype="int64")),
            "respondent": None,
            "school": None,
            "role": None,
            "item": np.repeat(tally.item.to_numpy(), tally["count"].to_numpy(dtype="int64")),
            "value": np.repeat(tally.option.to_numpy(dtype=float), tally["count"].to_numpy(dtype="int64")),
        }
    )
    respondents = {str(w): int(g.groupby("item")["count"].sum().max()) for w, g in tally.groupby("wave", sort=False)}
    return answers, respondents, scale, _counts_mapping_table(answer_options.table_rows, tally)


def _answer_options(
    cells: pd.DataFrame, labels: list[str], scale: dict[str, Any], user: UserLabels, findings: Findings
) -> _Options:
    """Each option heading's value on the scale; a heading that is not an answer on it is a problem."""
    low, high = scale["scale_min"], scale["scale_max"]
    found = _Options()
    for label, original in zip(labels, pd.unique(cells.option_label), strict=True):
        value, how = value_of(original, scale["mapping"], False, user)
        found.value_of[label] = value
        found.table_rows.append(
            {
                "label": original,
                "value": value if value is not None else math.nan,
                "answers": 0,
                "recognised": {"unknown": "not recognised", "missing": MISSING_CHOICE}.get(how, how),
                "missing": how == "missing",
            }
        )
        if how == "missing":
            continue
        if value is None:
            findings.problem(
                None,
                None,
                str(original),
                f"the column heading {original!r} is not an answer on the scale ({scale_words(scale)}); give "
                "it a value in the mapping.",
            )
        elif not low <= value <= high or not float(value).is_integer():
            findings.problem(
                None,
                None,
                str(original),
                f"the column {original!r} is answer {value:g}, outside the scale {low} to {high}.",
            )
    return found


def _row_counts(
    sheet: str,
    row: int,
    group: pd.DataFrame,
    answer_options: _Options,
    codes: Mapping[str, str],
    comma: bool,
    findings: Findings,
) -> list[dict[str, Any]]:
    """One row of the table (an item in a wave) -> a count per answer option, after checking its figures."""
    first = group.iloc[0]
    wave, heading = first.wave, first.heading
    n_value = _row_n(sheet, row, first, comma, findings)
    has_counts = bool(first.has_counts)
    tallied, pcts = _read_figures(sheet, row, group, answer_options, has_counts, comma, findings)
    if pcts and all(p <= 1 for _, p, _, _ in pcts) and 0.98 <= sum(p for _, p, _, _ in pcts) <= 1.02:
        # An Excel cell formatted as a percentage holds the fraction.
        pcts = [(o, 100 * p, max(0, places - 2), c) for o, p, places, c in pcts]
    if not has_counts:
        if n_value is None:
            findings.problem(
                sheet, row, None, "percentages need the number of respondents: add an n column (or give counts)."
            )
            return []
        _counts_from_percentages(sheet, row, pcts, n_value, tallied, f"{heading} ({wave})", findings)
    else:
        _check_percentages(sheet, row, pcts, n_value, tallied, findings)
    total = sum(tallied.values())
    if n_value is not None and total != n_value:
        findings.warn(
            sheet,
            row,
            first.n_column,
            f"the counts for {heading} ({wave}) add up to {total}, but n is {n_value:g}: the {total} "
            "answers counted are used.",
        )
    return [{"wave": wave, "item": codes[heading], "option": option, "count": n} for option, n in tallied.items()]


def _row_n(sheet: str, row: int, first: pd.Series, comma: bool, findings: Findings) -> float | None:
    """The row's number of respondents, if it has one that can be read."""
    if first.n_column is None or is_blank(first.n):
        return None
    n_value = as_number(first.n, comma)
    if n_value is None or n_value < 0 or not n_value.is_integer() or n_value > MAX_ROWS:
        findings.problem(sheet, row, first.n_column, f"{cell_text(first.n)!r} is not a number of respondents.")
        return None
    return n_value


def _read_figures(
    sheet: str,
    row: int,
    group: pd.DataFrame,
    answer_options: _Options,
    has_counts: bool,
    comma: bool,
    findings: Findings,
) -> tuple[dict[float, int], list[_Pct]]:
    """The row's counts by option value, and its percentages; a figure that cannot be read is a problem."""
    tallied: dict[float, int] = {}
    pcts: list[_Pct] = []
    for cell in group.itertuples():
        option = answer_options.value_of.get(normalise_label(cell.option_label))
        if option is None:
            continue
        if has_counts:
            number = _count(sheet, row, cell, comma, findings)
            if number is None:
                continue
            tallied[option] = tallied.get(option, 0) + int(number)
        if cell.pct_column is not None and not is_blank(cell.pct):
            pct, places = read_percent(cell.pct, comma)
            if pct is None or pct < 0 or pct > 100:
                findings.problem(sheet, row, cell.pct_column, f"{cell_text(cell.pct)!r} is not a percentage.")
                continue
            pcts.append((option, pct, places, cell.pct_column))
    return tallied, pcts


def _count(sheet: str, row: int, cell: Any, comma: bool, findings: Findings) -> float | None:
    """A count cell (blank means 0), or ``None`` after reporting it when it is not a count."""
    if is_blank(cell.count):
        return 0.0
    number = as_number(cell.count, comma)
    if number is None or number < 0 or not float(number).is_integer() or number > MAX_ROWS:
        findings.problem(
            sheet,
            row,
            cell.column,
            f"{cell_text(cell.count)!r} is not a count of answers (a whole number up to {MAX_ROWS:,}; blank means 0).",
        )
        return None
    return number


def _counts_from_percentages(
    sheet: str,
    row: int,
    pcts: list[_Pct],
    n_value: float,
    tallied: dict[float, int],
    what: str,
    findings: Findings,
) -> None:
    """Percentages of n -> whole people, warning where a percentage is not a whole number of people or the
    percentages do not make 100%."""
    for option, pct, places, column in pcts:
        exact = pct * n_value / 100
        whole = round(exact)
        tolerance = 0.5 * 10**-places * n_value / 100 + 1e-9
        if abs(exact - whole) > tolerance:
            findings.warn(
                sheet,
                row,
                column,
                f"{pct:g}% of {n_value:g} respondents is {exact:.2f} people, not a whole number: the "
                f"percentage or n may be wrong (read as {whole}).",
            )
        tallied[option] = tallied.get(option, 0) + int(whole)
    total_pct = sum(p for _, p, _, _ in pcts)
    if abs(total_pct - 100) > 0.5 * len(pcts) + 1e-9:
        findings.warn(sheet, row, None, f"the percentages for {what} add up to {total_pct:g}%, not 100%.")


def _check_percentages(
    sheet: str, row: int, pcts: list[_Pct], n_value: float | None, tallied: dict[float, int], findings: Findings
) -> None:
    """Percentages printed beside counts must match them (to the decimals printed)."""
    base = n_value if n_value is not None else sum(tallied.values())
    for option, pct, places, column in pcts:
        expected = 100 * tallied.get(option, 0) / base if base else 0.0
        if abs(pct - expected) > 0.5 * 10**-places + 1e-9:
            findings.warn(
                sheet,
                row,
                column,
                f"the percentage {pct:g}% does not match its count: {tallied.get(option, 0)} of "
                f"{base:g} is {expected:.1f}%.",
            )


def _counts_mapping_table(table_rows: list[dict[str, Any]], tally: pd.DataFrame) -> pd.DataFrame:
    """The answer mapping of a counts table: its option headings written as words, with how many were counted."""
    counts_by_label = {}
    for entry in table_rows:
        if not math.isnan(entry["value"]):
            counts_by_label[entry["label"]] = int(tally["count"][tally.option == entry["value"]].sum())
    return pd.DataFrame(
        [
            {**entry, "answers": counts_by_label.get(entry["label"], 0)}
            for entry in table_rows
            if as_number(normalise_label(entry["label"])) is None
        ],
        columns=MAPPING_COLUMNS,
    )


def means(
    cells: pd.DataFrame,
    codes: dict[str, str],
    waves: list[str],
    scale: dict[str, Any],
    decimal_comma: dict[str, bool],
    blocks: list[Block],
    findings: Findings,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """A table of means with n -> (``wave, item, n, mean, sd`` as stored, respondents per wave)."""
    low, high = scale["scale_min"], scale["scale_max"]
    records = []
    for row in cells.itertuples():
        record = _mean_row(row, decimal_comma.get(row.sheet, False), codes, findings)
        if record is None:
            continue
        if not low <= record["mean"] <= high:
            findings.warn(
                row.sheet,
                int(row.row),
                row.column,
                f"the mean {record['mean']:g} is outside the answer scale {low} to {high}: check the figure or the "
                "scale.",
            )
        records.append(record)
    table = pd.DataFrame(records, columns=["wave", "item", "n", "mean", "sd", "raw", "heading"])
    repeated = table[table.duplicated(["wave", "item"], keep=False)]
    for (wave, item), _ in repeated.groupby(["wave", "item"]):
        findings.problem(None, None, None, f"item {item} has more than one mean for the {wave} wave; keep one.")
    present = [w for w in waves if (table.wave == w).any()]
    for block in blocks:
        for difference in block.differences:
            _check_difference(difference, block.sheet.decimal_comma, table, present, findings)
    respondents = {str(w): int(g.n.max()) if g.n.notna().any() else 0 for w, g in table.groupby("wave", sort=False)}
    if len(table) and table.n.isna().all():
        findings.warn(
            None,
            None,
            None,
            "the means have no number of respondents beside them, so they are described and their differences "
            "checked, but no test of the change is possible. Add an n column (respondents per wave) if you have it.",
        )
    return table[["wave", "item", "n", "mean", "sd"]], respondents


def _mean_row(row: Any, comma: bool, codes: dict[str, str], findings: Findings) -> dict[str, Any] | None:
    """One mean with its n and SD, or ``None`` (after reporting why) when it is blank or cannot be used."""
    mean = None if is_blank(row.mean) else as_number(row.mean, comma)
    if is_blank(row.mean):
        return None
    if mean is None:
        findings.problem(row.sheet, int(row.row), row.column, f"{cell_text(row.mean)!r} is not a number.")
        return None
    n = None if row.n_column is None or is_blank(row.n) else as_number(row.n, comma)
    if row.n_column is None:
        # A table with no n at all (as case studies publish means): kept and described, never tested.
        pass
    elif n is None or n < 0 or not float(n).is_integer() or n > 10_000_000:
        what = (
            "is missing" if row.n_column is None or is_blank(row.n) else f"{cell_text(row.n)!r} is not a whole number"
        )
        findings.problem(
            row.sheet,
            int(row.row),
            row.n_column or row.column,
            f"the number of respondents {what}; a mean needs its n.",
        )
        return None
    sd = None if row.sd_column is None or is_blank(row.sd) else as_number(row.sd, comma)
    if row.sd_column is not None and not is_blank(row.sd) and (sd is None or sd < 0):
        findings.problem(row.sheet, int(row.row), row.sd_column, f"{cell_text(row.sd)!r} is not a standard deviation.")
        return None
    return {
        "wave": row.wave,
        "item": codes[row.heading],
        "n": None if n is None else int(n),
        "mean": mean,
        "sd": sd,
        "raw": row.mean,
        "heading": row.heading,
    }


def _check_difference(
    difference: dict[str, Any], comma: bool, table: pd.DataFrame, present: list[str], findings: Findings
) -> None:
    """A printed difference must be after minus before (to the decimals printed); it is never used itself."""
    printed = as_number(difference["raw"], comma)
    if printed is None:
        findings.warn(
            difference["sheet"].label,
            difference["row"],
            difference["column"],
            f"{cell_text(difference['raw'])!r} is not a number.",
        )
        return
    mine = table[table.heading == difference["heading"]].set_index("wave")
    if len(present) < 2 or present[0] not in mine.index or present[-1] not in mine.index:
        return
    before, after = mine.loc[present[0]], mine.loc[present[-1]]
    actual = after["mean"] - before["mean"]
    # Each of the three figures was rounded to the decimals the table prints; a whole number among them ("3" in a
    # column of 3.67, 2.9, ...) was rounded as finely as the others, not to the unit.
    decimals = max(decimals_of(difference["raw"]), decimals_of(before.raw), decimals_of(after.raw))
    tolerance = 1.5 * 10**-decimals + 1e-9
    if abs(printed - actual) > tolerance:
        flipped = " (it is before minus after)" if abs(printed + actual) <= tolerance else ""
        findings.warn(
            difference["sheet"].label,
            difference["row"],
            difference["column"],
            f"the printed difference {printed:g} is not after minus before: {after['mean']:g} - "
            f"{before['mean']:g} = {actual:.2f}{flipped}. The means are used; the printed difference "
            "is not.",
        )
