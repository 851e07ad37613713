"""People's names in what an upload would store: found, shown where they are, and replaced unless kept.

A Role column saying "Head of maths - Ahmed Khan", a heading "Mrs Khan's lessons", a sheet called "Before -
Mr Patel" (which becomes a wave's label) or a file called "Survey results - Sarah Jones.xlsx" (which would
become the questionnaire's name) would put a person's name in the store. The preview says where each is,
masked ("A**** K***"), and by default every one is replaced with ``[name]`` before anything is stored; the
user may choose to keep them as typed (:attr:`SurveyOptions.keep_names`, ``--keep-names``).

Two steps, because item codes are made from headings:

- :func:`screen_headings` runs on the sheets as read, before the items are worked out, so that an item's code,
  wording, construct and the items sheet all come from the same (replaced) text, and a change the user makes
  to an item in the preview still finds it.
- :func:`settle_names` runs on the finished preview: roles, pupil-group values, wave labels, item wording the
  user typed, the questionnaire's name and the files' names; then it adds one warning per place found.

A file name holding a person's name is never the questionnaire's name, even when names are kept: the
sheet's title is used instead, else "Questionnaire uploaded 2 December 2026".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from analytics.imports.survey.cells import cell_text, column_letter, is_blank
from analytics.imports.survey.model import SurveyProblem
from analytics.imports.survey.sheets import HEADER_SEARCH_ROWS, Block, Sheet, sheet_title
from analytics.imports.survey.waves import wave_rank_within
from analytics.privacy.person_names import has_person_name, mask_person_names, redact_person_names

if TYPE_CHECKING:
    from analytics.imports.survey.preview import SurveyPreview

# Beyond this many places, the rest are summed up in one warning: a Role column where every teacher typed
# their own name would otherwise bury every other warning.
MAX_NAME_WARNINGS = 20
KEEP_CHOICE = "Keep as typed"
REPLACE_CHOICE = "Replace names with [name] before storing"


@dataclass(frozen=True)
class NameInUpload:
    """One text holding a person's name, as the preview reports it.

    ``what`` is which stored text it is (a role, a question, a wave, ...); ``sheet``, ``row`` and ``column``
    where it was first found (as the spreadsheet shows them; ``None`` when it is not in a cell, such as a file
    name); ``shown`` the text with the names masked; ``stored_as`` what will be stored; ``cells`` how many
    cells hold it and ``also`` the first few other places ("row 7", "After row 2").
    """

    what: str
    sheet: str | None
    row: int | None
    column: str | None
    shown: str
    stored_as: str
    cells: int = 1
    also: tuple[str, ...] = ()


@dataclass
class _Flag:
    """A text found to hold a name, before it is located in the sheets."""

    what: str
    text: str
    stored_as: str
    in_headings: bool = False
    # (sheet label, sheet's short name, row, column letter), in the order the workbook has them.
    places: list[tuple[str, str, int, str]] = field(default_factory=list)
    sheet: str | None = None


def _replacements(texts: Iterable[str], keep: bool) -> dict[str, str]:
    """Each text holding a name -> what is stored instead; two texts never become one ("Q1 [name] (2)")."""
    named = sorted({t for t in texts if has_person_name(t)})
    if keep:
        return {t: t for t in named}
    taken = {t for t in texts if not has_person_name(t)}
    replaced: dict[str, str] = {}
    for text in named:
        new = redact_person_names(text)
        candidate, number = new, 1
        while candidate in taken:
            number += 1
            candidate = f"{new} ({number})"
        taken.add(candidate)
        replaced[text] = candidate
    return replaced


def _renamer(mapping: dict[str, str]) -> Callable[[Any], Any]:
    """A function giving a text's replacement (anything else, such as a blank, as it is)."""

    def rename(value: Any) -> Any:
        return mapping.get(value, value) if isinstance(value, str) else value

    return rename


def screen_headings(blocks: list[Block], keep: bool) -> list[_Flag]:
    """Find names in the headings and the items sheet and, unless ``keep``, replace them in place."""
    headings = {str(h) for b in blocks if len(b.cells) and "heading" in b.cells for h in b.cells.heading.dropna()}
    described = [b.items for b in blocks if b.kind == "items" and b.items is not None and not b.items.empty]
    for items in described:
        headings |= {str(t) for t in items.item_code} | {str(t) for t in items.item_text}
    mapping = _replacements(headings, keep)
    constructs = {str(c) for items in described for c in items.construct.dropna()}
    constructs |= {name for b in blocks for name in b.sections.values()}
    construct_mapping = _replacements(constructs, keep)
    flags = [_Flag("question", t, s, in_headings=True) for t, s in mapping.items()]
    flags += [_Flag("construct", t, s, in_headings=True) for t, s in construct_mapping.items()]
    if keep or not (mapping or construct_mapping):
        return flags
    rename = _renamer(mapping)
    for block in blocks:
        if len(block.cells) and "heading" in block.cells:
            block.cells["heading"] = block.cells.heading.map(rename)
        for difference in block.differences:
            difference["heading"] = rename(difference.get("heading"))
        block.sections = {rename(h): construct_mapping.get(n, n) for h, n in block.sections.items()}
        if block.items is not None and not block.items.empty:
            block.items = block.items.assign(
                item_code=block.items.item_code.map(rename),
                item_text=block.items.item_text.map(rename),
                construct=block.items.construct.map(_renamer(construct_mapping)),
            )
    return flags


def settle_names(preview: SurveyPreview, blocks: list[Block], heading_flags: list[_Flag], today: date) -> None:
    """Find names in everything else the preview would store, replace them unless kept, and warn where they are."""
    keep = preview.options.keep_names
    # A heading that did not become an item (a comment column, a column not read) is not stored.
    stored = {str(t) for column in ("item_code", "item_text", "construct") for t in preview.items[column].dropna()}
    flags = [flag for flag in heading_flags if flag.stored_as in stored]
    flags += _settle_roles(preview, keep)
    flags += _settle_groups(preview, keep)
    flags += _settle_items(preview, keep, {f.text for f in heading_flags} | {f.stored_as for f in heading_flags})
    flags += _settle_waves(preview, keep)
    flags += _settle_files(preview, keep)
    flags += _settle_name(preview, blocks, keep, today)
    if not flags:
        return
    _locate(flags, blocks)
    preview.names_found = [_reported(flag) for flag in flags]
    preview.names_replaced = not keep
    preview.warnings.extend(_warnings(preview.names_found, keep))


def _settle_roles(preview: SurveyPreview, keep: bool) -> list[_Flag]:
    if "role" not in preview.answers or preview.answers.empty:
        return []
    mapping = _replacements({r for r in pd.unique(preview.answers.role.dropna()) if isinstance(r, str)}, keep)
    if mapping and not keep:
        preview.answers["role"] = preview.answers.role.map(_renamer(mapping))
    return [_Flag("role", t, s) for t, s in mapping.items()]


def _settle_groups(preview: SurveyPreview, keep: bool) -> list[_Flag]:
    if "groups" not in preview.answers or preview.answers.empty:
        return []
    values = {v for groups in preview.answers.groups if isinstance(groups, tuple) for _, v in groups}
    mapping = _replacements({v for v in values if isinstance(v, str)}, keep)
    if mapping and not keep:
        preview.answers["groups"] = preview.answers.groups.map(
            lambda groups: tuple((c, mapping.get(v, v)) for c, v in groups) if isinstance(groups, tuple) else groups
        )
    return [_Flag("pupil group", t, s) for t, s in mapping.items()]


def _settle_items(preview: SurveyPreview, keep: bool, already: set[str]) -> list[_Flag]:
    """Item wording and constructs typed in the preview (headings were screened before the items were made)."""
    if preview.items.empty:
        return []
    flags = []
    for column, what in (("item_text", "question"), ("construct", "construct")):
        texts = {str(t) for t in preview.items[column].dropna() if str(t) not in already}
        mapping = _replacements(texts, keep)
        if mapping and not keep:
            preview.items[column] = preview.items[column].map(_renamer(mapping))
        flags += [_Flag(what, t, s, in_headings=True) for t, s in mapping.items()]
    return flags


def _settle_waves(preview: SurveyPreview, keep: bool) -> list[_Flag]:
    """Wave labels come from wave columns, sheet names or file names ("Before - Mr Patel")."""
    mapping = _replacements(preview.waves, keep)
    if mapping and not keep:
        rename = _renamer(mapping)
        preview.waves = [rename(w) for w in preview.waves]
        for frame in (preview.answers, preview.means):
            if "wave" in frame and not frame.empty:
                frame["wave"] = frame.wave.map(rename)
        preview.respondents = {rename(w): n for w, n in preview.respondents.items()}
    return [_Flag("wave", t, s) for t, s in mapping.items()]


def _file_words(name: str) -> str:
    """A file's name as words: "Survey_results-Sarah_Jones.xlsx" -> "Survey results-Sarah Jones.xlsx"."""
    return re.sub(r"[_]+", " ", name)


def _settle_files(preview: SurveyPreview, keep: bool) -> list[_Flag]:
    """File names are kept in the import log and the questionnaire's description."""
    flags = []
    stored = []
    for name in preview.file_names:
        words = _file_words(name)
        if has_person_name(words):
            new = name if keep else redact_person_names(words)
            flags.append(_Flag("file name", name, new, sheet=name))
            stored.append(new)
        else:
            stored.append(name)
    preview.stored_file_names = stored
    return flags


def _settle_name(preview: SurveyPreview, blocks: list[Block], keep: bool, today: date) -> list[_Flag]:
    """The questionnaire's name: never from a file name holding a person's name; a typed one like any text."""
    typed = bool((preview.options.name or "").strip())
    if not has_person_name(_file_words(preview.name)):
        return []
    if typed:
        stored = preview.name if keep else redact_person_names(preview.name)
        flag = _Flag("questionnaire name", preview.name, stored)
        preview.name = stored
        return [flag]
    neutral = neutral_name(blocks, today)
    preview.name_note = (
        "not the file's name, which holds a person's name; give it another name in the preview (--name on the "
        "command line) if you wish"
    )
    flag = _Flag("questionnaire name (from the file name)", preview.name, neutral)
    preview.name = neutral
    return [flag]


def neutral_name(blocks: list[Block], today: date) -> str:
    """A name for a questionnaire whose file name cannot be used: its sheet's title, when it has a real one
    (not "Sheet1", a wave such as "Before", nor holding a name), else "Questionnaire uploaded 2 December 2026"."""
    for block in blocks:
        if block.kind == "items":
            continue
        title = re.sub(r"\s*\(.*$", "", sheet_title(block.sheet, default="")).strip(" -_:")
        generic = re.fullmatch(r"(sheet\s*\d*|answers|responses|data|results)", title, re.IGNORECASE)
        if len(title) > 3 and not generic and wave_rank_within(title) is None and not has_person_name(title):
            return title[:80]
    return f"Questionnaire uploaded {today.day} {today:%B %Y}"


def _locate(flags: list[_Flag], blocks: list[Block]) -> None:
    """Where each text is in the sheets: every cell holding exactly it, or (a heading) the heading cell holding it."""
    wanted: dict[str, list[_Flag]] = {}
    for flag in flags:
        if flag.sheet is None:
            wanted.setdefault(_normal(flag.text), []).append(flag)
    if not wanted:
        return
    sheets = list({id(b.sheet): b.sheet for b in blocks}.values())
    seen: dict[Any, str] = {}
    for sheet in sheets:
        for number, cells in sheet.rows:
            for index, cell in enumerate(cells):
                if is_blank(cell) or isinstance(cell, (int, float)):
                    continue
                text = seen.get(cell) if isinstance(cell, str) else None
                if text is None:
                    text = _normal(cell)
                    if isinstance(cell, str):
                        seen[cell] = text
                for flag in wanted.get(text, []):
                    flag.places.append((sheet.label, sheet.name or sheet.file, number, column_letter(index)))
    _locate_headings([f for f in flags if f.in_headings and not f.places], sheets)
    _locate_sheet_names([f for f in flags if not f.places and f.sheet is None], sheets)


def _locate_headings(flags: list[_Flag], sheets: list[Sheet]) -> None:
    """A question's wording without its number or wave ("Q3. Mrs Khan's lessons (before)"): the heading holding it."""
    for flag in flags:
        needle = _normal(flag.text)
        for sheet in sheets:
            for number, cells in sheet.rows[:HEADER_SEARCH_ROWS]:
                for index, cell in enumerate(cells):
                    if isinstance(cell, str) and needle in _normal(cell):
                        flag.places.append((sheet.label, sheet.name or sheet.file, number, column_letter(index)))


def _locate_sheet_names(flags: list[_Flag], sheets: list[Sheet]) -> None:
    """A wave named after its sheet or file: the sheet (or file) is the place."""
    for flag in flags:
        needle = _normal(flag.text)
        for sheet in sheets:
            if needle in (_normal(sheet.name or ""), _normal(Path(sheet.file).stem)):
                flag.sheet = sheet.label
                break


def _normal(value: object) -> str:
    return " ".join(cell_text(value).split()).casefold()


def _reported(flag: _Flag) -> NameInUpload:
    """The flag as reported: where it was first found (a sheet's or file's own name masked too) and how often."""
    places = list(dict.fromkeys(flag.places))
    file_or_name = flag.what.startswith(("file", "questionnaire"))
    if not places:
        sheet = None if file_or_name else _masked_place(flag.sheet)
        return NameInUpload(flag.what, sheet, None, None, _masked_text(flag), flag.stored_as)
    label, _, row, column = places[0]
    also = tuple(
        f"row {r}" if other == label else f"{_masked_place(short)} row {r}" for other, short, r, _ in places[1:6]
    )
    return NameInUpload(
        flag.what, _masked_place(label), row, column, _masked_text(flag), flag.stored_as, len(places), also
    )


def _masked_text(flag: _Flag) -> str:
    return mask_person_names(_file_words(flag.text) if flag.what.startswith(("file", "questionnaire")) else flag.text)


def _masked_place(label: str | None) -> str | None:
    """A sheet or file named after a person, as the warning names it: "Before - Mr P****"."""
    if not label:
        return None
    masked = mask_person_names(label)
    return mask_person_names(_file_words(label)) if masked == label and has_person_name(_file_words(label)) else masked


def _warnings(found: list[NameInUpload], keep: bool) -> list[SurveyProblem]:
    warnings = []
    for one in found[:MAX_NAME_WARNINGS]:
        where = ""
        if one.cells > 1:
            more = one.cells - 1 - len(one.also)
            where = (
                f" It is in {one.cells} cells (also {', '.join(one.also)}{f' and {more} more' if more > 0 else ''})."
            )
        if one.what.startswith("questionnaire name (from"):
            then = f" The questionnaire is called {one.stored_as!r} instead; you can give it another name."
        elif keep:
            then = " It will be stored as typed, as you chose."
        else:
            then = f" It will be stored as {one.stored_as!r}. To keep it, choose {KEEP_CHOICE!r} (--keep-names)."
        message = f"this {one.what} looks like it holds a person's name: {one.shown!r}.{where}{then}"
        warnings.append(SurveyProblem(one.row, one.column, message, one.sheet))
    if len(found) > MAX_NAME_WARNINGS:
        rest = len(found) - MAX_NAME_WARNINGS
        what = "kept as typed" if keep else "replaced with [name] too"
        warnings.append(SurveyProblem(None, None, f"{rest} more texts look like they hold people's names ({what})."))
    return warnings
