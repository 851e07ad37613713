"""Summary tables (counts per answer option, percentages with n, means with n) -> one row per figure.

The figures are only located and labelled here; :mod:`.tallies` checks them and turns them into what is stored.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from analytics.imports.survey.cells import cell_text, column_name, is_blank
from analytics.imports.survey.headings import item_column, percent_heading
from analytics.imports.survey.model import Findings
from analytics.imports.survey.scales import normalise_label
from analytics.imports.survey.sheets import Block, Sheet
from analytics.imports.survey.waves import sheet_wave, wave_values


def read_counts(
    sheet: Sheet,
    frame: pd.DataFrame,
    headings: dict[int, str],
    roles: dict[int, str],
    options: dict[int, tuple[float, str]],
    findings: Findings,
) -> Block | None:
    """A row per item (and wave), a column per answer option holding its count or percentage."""
    item = item_column(frame, headings, roles, options)
    if item is None:
        findings.problem(
            sheet.label,
            None,
            None,
            "looks like a table of counts per answer, but no column names the items. Put the item (question) "
            "in the first column.",
        )
        return None
    waves = wave_values(sheet, frame, roles, headings, findings)
    n_column = next((i for i, r in roles.items() if r == "n"), None)
    count_columns = {i: v for i, v in options.items() if percent_heading(headings[i]) is None}
    pct_columns = {i: v for i, v in options.items() if percent_heading(headings[i]) is not None}
    ignored = [
        headings[i] for i in headings if i not in options and i != item and i != n_column and roles.get(i) != "wave"
    ]
    records = []
    for number, row in frame.iterrows():
        if is_blank(row[item]):
            if any(not is_blank(row[i]) for i in options):
                findings.problem(
                    sheet.label,
                    int(number),
                    column_name(item, headings[item]),
                    "the item is blank; say which question these counts are for.",
                )
            continue
        heading = cell_text(row[item])
        for found in _by_option(row, headings, count_columns, pct_columns).values():
            count, count_column = found.get("count", (None, None))
            pct, pct_column = found.get("pct", (None, None))
            records.append(
                {
                    "sheet": sheet.label,
                    "row": int(number),
                    "column": count_column or pct_column,
                    "pct_column": pct_column,
                    "wave": waves.get(number),
                    "heading": heading,
                    "option_label": found["label"],
                    "count": count,
                    "pct": pct,
                    "n": row[n_column] if n_column is not None else None,
                    "n_column": column_name(n_column, headings[n_column]) if n_column is not None else None,
                    "has_counts": bool(count_columns),
                }
            )
    return Block(sheet, "counts", pd.DataFrame(records), ignored=ignored)


def _by_option(
    row: pd.Series, headings: dict[int, str], count_columns: dict[int, Any], pct_columns: dict[int, Any]
) -> dict[str, dict[str, Any]]:
    """One row's figures by answer option: its label, and (value, column) of its count and of its percentage."""
    by_option: dict[str, dict[str, Any]] = {}
    for index in count_columns:
        label = headings[index]
        by_option.setdefault(normalise_label(label), {"label": label})["count"] = (
            row[index],
            column_name(index, headings[index]),
        )
    for index in pct_columns:
        label = percent_heading(headings[index]) or headings[index]
        by_option.setdefault(normalise_label(label), {"label": label})["pct"] = (
            row[index],
            column_name(index, headings[index]),
        )
    return by_option


def read_means(
    sheet: Sheet,
    frame: pd.DataFrame,
    headings: dict[int, str],
    roles: dict[int, str],
    stats: dict[int, tuple[str, str | None]],
    findings: Findings,
) -> Block | None:
    """A row per item: a mean and n (and SD) per wave, as columns ("Before mean") or with a wave column."""
    item = item_column(frame, headings, roles, stats)
    if item is None:
        findings.problem(
            sheet.label,
            None,
            None,
            "looks like a table of means, but no column names the items. Put the item (question) in the first column.",
        )
        return None
    by_wave: dict[str | None, dict[str, int]] = {}
    for index, (stat, wave) in stats.items():
        if stat == "difference":
            continue
        by_wave.setdefault(wave, {}).setdefault(stat, index)
    row_waves = wave_values(sheet, frame, roles, headings, findings) if None in by_wave else None
    difference = next((i for i, (s, _) in stats.items() if s == "difference"), None)
    records, differences = [], []
    for number, row in frame.iterrows():
        if is_blank(row[item]):
            continue
        heading = cell_text(row[item])
        for wave, columns in by_wave.items():
            if "mean" not in columns:
                continue
            record = _mean_record(row, headings, columns, heading)
            row_wave = row_waves.get(number) if row_waves is not None else None
            record.update(sheet=sheet.label, row=int(number), wave=wave if wave is not None else row_wave)
            records.append(record)
        if difference is not None and not is_blank(row[difference]):
            differences.append(
                {
                    "sheet": sheet,
                    "row": int(number),
                    "column": column_name(difference, headings[difference]),
                    "heading": heading,
                    "raw": row[difference],
                }
            )
    if None not in by_wave and len(by_wave) < 2 and row_waves is None:
        wave = sheet_wave(sheet)
        for record in records:
            record["wave"] = record["wave"] or wave
    ignored = [headings[i] for i in headings if i not in stats and i != item and roles.get(i) != "wave"]
    return Block(sheet, "means", pd.DataFrame(records), differences=differences, ignored=ignored)


def _mean_record(row: pd.Series, headings: dict[int, str], columns: dict[str, int], heading: str) -> dict[str, Any]:
    """One wave's mean, n and SD for one item, with the columns they came from."""
    return {
        "sheet": None,
        "row": None,
        "column": column_name(columns["mean"], headings[columns["mean"]]),
        "n_column": column_name(columns["n"], headings[columns["n"]]) if "n" in columns else None,
        "sd_column": column_name(columns["sd"], headings[columns["sd"]]) if "sd" in columns else None,
        "wave": None,
        "heading": heading,
        "mean": row[columns["mean"]],
        "n": row[columns["n"]] if "n" in columns else None,
        "sd": row[columns["sd"]] if "sd" in columns else None,
    }
