"""Individual answers -> values, and their checks: unknown labels, out of scale, repeated respondents, free text.

The scale is chosen in :mod:`.scales` and the answer mapping shown to the user is built in :mod:`.mapping`.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from analytics.imports.survey.cells import as_number, cell_text, is_blank, per_value
from analytics.imports.survey.mapping import mapping_table, note_guessed_labels
from analytics.imports.survey.model import Findings, SurveyOptions
from analytics.imports.survey.pseudonyms import respondent_pseudonym
from analytics.imports.survey.pupil_groups import respondent_groups
from analytics.imports.survey.scale_choice import choose_scale
from analytics.imports.survey.scales import NO_ANSWER, UserLabels, label_or_none, scale_words, value_of

_PERSON_NAME = re.compile(r"^[A-Z][a-z'’-]+(?: [A-Z][A-Za-z'’-]+){1,3}$")


def read_values(
    cells: pd.DataFrame,
    decimal_comma: dict[str, bool],
    headings: list[str],
    *,
    instrument: pd.DataFrame,
    options: SurveyOptions,
    findings: Findings,
    ignored: list[str],
    free_text: bool,
    notes: list[str] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame]:
    """Answers -> values, one parse per distinct text; the scale chosen from the labels used.

    Returns the cells with ``value`` and ``how`` (see :func:`.scales.value_of`), the scale and the answer mapping.
    Columns found to hold free text are left out and their headings added to ``ignored``.
    """
    user = UserLabels.from_options(options)
    raw_text = per_value(cells.raw, label_or_none)
    numbers = per_value(cells.raw, lambda c: as_number(c) if not is_blank(c) else None).dropna()
    labels = raw_text.dropna()
    labels = labels[~labels.isin(NO_ANSWER) & ~labels.map(user.is_missing).astype(bool)]
    scale = choose_scale(
        list(pd.unique(labels)),
        numbers.tolist(),
        instrument,
        headings,
        user=user,
        options=options,
        findings=findings,
        notes=notes or [],
    )
    mapping = scale["mapping"]
    values = pd.Series(np.nan, index=cells.index, dtype=float)
    how = pd.Series("missing", index=cells.index, dtype=object)
    for sheet, comma in decimal_comma.items():
        mine = cells.sheet == sheet
        parsed = per_value(cells.raw[mine], partial(value_of, mapping=mapping, decimal_comma=comma, user=user))
        values[mine] = [np.nan if v is None else v for v, _ in parsed]
        how[mine] = [h for _, h in parsed]
    cells = cells.assign(value=values, how=how)
    if free_text:
        cells = drop_free_text(cells, findings, ignored)
    table = mapping_table(cells, mapping, user)
    note_guessed_labels(table, mapping, options, findings)
    return cells, scale, table


def drop_free_text(cells: pd.DataFrame, findings: Findings, ignored: list[str]) -> pd.DataFrame:
    """Columns of a wide sheet where most cells are not answers (comments, year group) are not items."""
    answered = cells[cells.how != "missing"]
    if answered.empty:
        return cells
    unknown = answered[answered.how == "unknown"]
    by_column = [answered.sheet, answered.column]
    share = (answered.how != "unknown").groupby(by_column).mean()
    distinct = unknown.groupby([unknown.sheet, unknown.column]).raw.nunique()
    length = (
        per_value(unknown.raw, lambda c: float(len(cell_text(c))))
        .astype(float)
        .groupby([unknown.sheet, unknown.column])
        .mean()
    )
    # A few unknown labels repeated down a column are answers to map; many different texts are comments.
    wordy = (distinct.reindex(share.index, fill_value=0) >= 8) | (length.reindex(share.index, fill_value=0) >= 20)
    # A column of people's names under a heading not recognised ("Who", "Completed by") must never be quoted
    # back as unrecognised answers.
    namey = per_value(unknown.raw, lambda c: bool(_PERSON_NAME.match(cell_text(c)))).astype(float)
    names = namey.groupby([unknown.sheet, unknown.column]).mean().reindex(share.index, fill_value=0) >= 0.5
    free = share[(share < 0.5) & (wordy | names)].index
    if not len(free):
        return cells
    drop = pd.Series(list(zip(cells.sheet, cells.column, strict=True)), index=cells.index).isin(set(free))
    for sheet, column in free:
        heading = cells.heading[(cells.sheet == sheet) & (cells.column == column)].iloc[0]
        if names.get((sheet, column), False):
            findings.warn(
                sheet,
                None,
                column,
                "looks like people's names, so it was not read (names are never kept). If it says who answered, "
                "head it 'Name' and the answers will be matched by a pseudonym.",
            )
            ignored.append(str(heading))
            continue
        findings.warn(
            sheet,
            None,
            column,
            "was not read as a question: most of its cells are not answers on the scale (free text such as "
            "comments, or details such as year group, is not analysed). If it is a question, give its labels "
            "values in the mapping.",
        )
        if heading not in ignored:
            ignored.append(str(heading))
    return cells[~drop]


def responses(
    cells: pd.DataFrame,
    codes: dict[str, str],
    waves: list[str],
    scale: dict[str, Any],
    secret: str,
    findings: Findings,
    drop_out_of_range: bool = False,
) -> tuple[pd.DataFrame, dict[str, int], bool, int, int, bool]:
    """The answers as they would be stored, after every check of them.

    Returns ``(answers, respondents per wave, matched, matched pairs, missing answers, matched by name)``.
    """
    # "Jane Smith" and "jane  smith" are one person, as their pseudonyms will be.
    cells = cells.assign(
        person=per_value(
            cells.respondent, lambda who: None if is_blank(who) else re.sub(r"\s+", " ", str(who)).strip().casefold()
        )
    )
    sheet_rows = (cells.how != "missing").groupby([cells.sheet, cells.row]).transform("any")
    cells = cells[sheet_rows.astype(bool)]
    missing = int((cells.how == "missing").sum())
    _report_unknown(cells, scale, findings)
    given = cells[cells.value.notna()]
    bad = _report_out_of_scale(given, scale["scale_min"], scale["scale_max"], drop_out_of_range, findings)
    identity = cells.identity.dropna()
    is_name = bool(len(identity)) and bool((identity == "name").any())
    repeated = _report_repeats(cells, is_name, findings)
    if repeated is not None:
        given = given[~given.index.isin(repeated.index)]
    # A cell both out of scale and on a repeated row is already gone from ``given``.
    stored = given[~given.index.isin(bad.index)]
    pseudonyms = {who: respondent_pseudonym(secret, who) for who in pd.unique(stored.person.dropna())}
    answers = pd.DataFrame(
        {
            "wave": stored.wave.to_numpy(),
            "respondent": stored.person.map(pseudonyms).to_numpy(),
            "school": stored.school.to_numpy(),
            "role": stored.role.to_numpy(),
            "item": stored.heading.map(codes).to_numpy(),
            "value": stored.value.astype(float).to_numpy(),
        }
    )
    groups = respondent_groups(stored, pseudonyms, findings)
    settled = {who: tuple(zip(g.characteristic, g.value, strict=True)) for who, g in groups.groupby("respondent")}
    answers["groups"] = answers.respondent.map(lambda who: settled.get(who, ()) if isinstance(who, str) else ())
    respondents, pairs, matched = _respondents(stored, waves)
    return answers, respondents, matched, pairs, missing, is_name


def _report_unknown(cells: pd.DataFrame, scale: dict[str, Any], findings: Findings) -> None:
    for row in cells[cells.how == "unknown"].itertuples():
        shown = cell_text(row.raw)
        findings.problem(
            row.sheet,
            int(row.row),
            row.column,
            f"{shown[:40]!r} is not an answer on the scale ({scale_words(scale)}). Correct it, or give it a value "
            "in the mapping.",
        )


def _report_out_of_scale(given: pd.DataFrame, low: int, high: int, drop: bool, findings: Findings) -> pd.DataFrame:
    """The answers outside the scale (or not whole numbers), each reported: a problem, or left out when the
    user chose to leave such answers out."""
    bad = given[(given.value < low) | (given.value > high) | (given.value != given.value.round())]
    for row in bad.itertuples():
        what = f"{cell_text(row.raw)!r} is outside the answer scale {low} to {high}" + (
            " (answers are whole numbers)" if float(row.value) != round(float(row.value)) else ""
        )
        if drop:
            findings.warn(row.sheet, int(row.row), row.column, f"{what}; left out, as you chose.")
        else:
            findings.problem(
                row.sheet,
                int(row.row),
                row.column,
                f"{what}. Correct it, leave it out (Leave out answers outside the scale; on the command line "
                "--drop-out-of-range), or change the scale if it had more options.",
            )
    return bad


def _report_repeats(cells: pd.DataFrame, is_name: bool, findings: Findings) -> pd.DataFrame | None:
    """Report a person answering twice in a wave; the repeated wide rows when there is any repeat, else ``None``."""
    coded = cells[cells.respondent.notna()]
    # One person, one row per wave: a code seen on two rows of a wave is almost always a typing slip.
    rows_per = coded[coded.layout == "wide"].drop_duplicates(["sheet", "row"])
    repeated = rows_per[rows_per.duplicated(["wave", "person"], keep=False)]
    for (wave, _), group in repeated.groupby(["wave", "person"], sort=False):
        first = group.iloc[0]
        person = "the same name" if is_name else f"respondent code {first.respondent!r}"
        for later in group.iloc[1:].itertuples():
            findings.problem(
                later.sheet,
                int(later.row),
                None,
                f"{person} appears twice in the {wave} wave (also row {int(first.row)}"
                + (f" of {first.sheet}" if first.sheet != later.sheet else "")
                + "). Each person answers once per wave: correct the code or delete the repeat.",
            )
    long_rows = coded[coded.layout == "long"]
    for row in long_rows[long_rows.duplicated(["wave", "person", "heading"])].itertuples():
        person = "this person" if is_name else f"respondent {row.respondent!r}"
        findings.problem(
            row.sheet,
            int(row.row),
            row.column,
            f"{person} already answered {row.heading} in the {row.wave} wave on an earlier row; delete the repeat.",
        )
    if not repeated.empty or long_rows.duplicated(["wave", "person", "heading"]).any():
        return repeated
    return None


def _respondents(stored: pd.DataFrame, waves: list[str]) -> tuple[dict[str, int], int, bool]:
    """(respondents per wave, how many answered in both the first and last wave, whether anyone is matched)."""
    respondents = {}
    for wave in waves:
        mine = stored[stored.wave == wave]
        respondents[wave] = int(
            mine.person.nunique() + mine[mine.person.isna()].drop_duplicates(["sheet", "row"]).shape[0]
        )
    pairs = 0
    # A wave with no answers (the template's unused Post sheet) is not the one the results compare with.
    answered = [wave for wave in waves if (stored.wave == wave).any()]
    if len(answered) >= 2:
        first = set(stored.person[stored.wave == answered[0]].dropna())
        last = set(stored.person[stored.wave == answered[-1]].dropna())
        pairs = len(first & last)
    anywhere_twice = stored.dropna(subset=["person"]).groupby("person").wave.nunique()
    matched = bool((anywhere_twice >= 2).any())
    return respondents, pairs, matched
