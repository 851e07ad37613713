"""Typed text: hidden schools' names, short forms, URNs and LAESTABs are found, and every typed column is declared."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pandas as pd
import pytest

from analytics.privacy import (
    FREE_TEXT_FIELDS,
    LAESTAB_PLACEHOLDER,
    NOT_FREE_TEXT_FIELDS,
    SCHOOL_PLACEHOLDER,
    SchoolNames,
    display_names,
    redact_frame,
)
from analytics.store.db import Store
from analytics.store.schools import list_schools

SCHOOLS = pd.DataFrame(
    [
        (990081, "Langham CE Primary School", False, 850),
        (990082, "Langham Oaks Academy", True, 850),
        (990083, "St Mary's CE Primary School", False, 850),
        (990084, "St Mary's Catholic Primary School", True, 851),
        (990085, "Hope Primary School", False, 850),
        (990086, "Burhill High School", False, 850),
        (990087, "Oak Hill", True, 850),
        (990088, "Westbury Infant School", False, 850),
        (990089, "Westbury Junior School", False, 850),
    ],
    columns=["urn", "name", "data_sharing_signed", "la_code"],
)


@pytest.fixture
def names() -> SchoolNames:
    return display_names(SCHOOLS, "secret", presenter_mode=False)


def code(names: SchoolNames, urn: int) -> str:
    return names.name(urn)


@pytest.mark.parametrize(
    "typed",
    [
        "Langham CE Primary School",
        "Langham CE Primary",
        "Langham Primary",
        "Langham",
        "LANGHAM C of E primary",
        "Langham C.E. Primary School",
        "Langham Church of England Primary School",
        "Langham CE (VA) Primary School",
        "Langham-CE Primary",
    ],
)
def test_every_common_way_of_writing_a_hidden_name_is_replaced(names: SchoolNames, typed: str) -> None:
    assert names.redact_text(f"Visit to {typed} on Monday.") == f"Visit to {code(names, 990081)} on Monday."


def test_a_named_school_that_shares_a_word_is_left_whole(names: SchoolNames) -> None:
    text = "Langham Oaks Academy and Langham Oaks will host; Langham will not."
    assert (
        names.redact_text(text) == f"Langham Oaks Academy and Langham Oaks will host; {code(names, 990081)} will not."
    )


def test_a_place_that_is_a_hidden_school_is_hidden_even_as_a_place(names: SchoolNames) -> None:
    assert names.redact_text("Parking on Langham Road") == f"Parking on {code(names, 990081)} Road"


def test_only_whole_words_are_replaced_and_possessives_keep_their_s(names: SchoolNames) -> None:
    assert names.redact_text("Langhampton and Burhillside") == "Langhampton and Burhillside"
    assert names.redact_text("Burhill's head, burhill high") == f"{code(names, 990086)}'s head, {code(names, 990086)}"


def test_a_common_word_is_never_replaced_on_its_own(names: SchoolNames) -> None:
    hope = code(names, 990085)
    assert names.redact_text("We hope Hope Primary and Hope School improve; hope so.") == (
        f"We hope {hope} and {hope} improve; hope so."
    )


def test_a_short_form_two_schools_share_is_not_used_for_either(names: SchoolNames) -> None:
    mary = code(names, 990083)
    text = "St Mary's CE, St. Marys Catholic Primary and St Mary's Primary"
    assert names.redact_text(text) == f"{mary}, St. Marys Catholic Primary and St Mary's Primary"
    # Both Westburys are hidden: their shared forms must not give away which (or that it is a Westbury).
    assert names.redact_text("Westbury Infant; Westbury; Westbury School") == (
        f"{code(names, 990088)}; {SCHOOL_PLACEHOLDER}; {SCHOOL_PLACEHOLDER}"
    )


def test_named_schools_are_untouched_and_presenter_mode_hides_them_too() -> None:
    shown = display_names(SCHOOLS, "secret", presenter_mode=False)
    assert shown.redact_text("Oak Hill and Langham Oaks Academy") == "Oak Hill and Langham Oaks Academy"
    presenting = display_names(SCHOOLS, "secret", presenter_mode=True)
    assert presenting.redact_text("Oak Hill and Langham Oaks Academy") == (
        f"{presenting.name(990087)} and {presenting.name(990082)}"
    )


# -- where a name ends, which name wins, and a store of thousands ----------------------------------------

SPELLINGS_OF_CE = ["CE", "C of E", "C.E.", "CofE", "Church of England", "C. E", "c of e."]
BROKEN = pd.DataFrame(
    [(990201, "Hope CE Primary School", False), (990202, "Stanbridge CE Primary School", False)],
    columns=["urn", "name", "data_sharing_signed"],
)


@pytest.mark.parametrize("spelling", SPELLINGS_OF_CE)
def test_a_new_line_ends_a_name_however_it_is_spelt(spelling: str) -> None:
    names = display_names(BROKEN, "secret", presenter_mode=False)
    hope, stanbridge = names.name(990201), names.name(990202)
    # "Hope" is a common word, so a Hope school broken over a line is no longer a Hope school at all.
    for typed in (f"Hope\n{spelling} Primary", f"Hope\r\n{spelling} Primary School"):
        assert names.redact_text(f"Met {typed} staff") == f"Met {typed} staff"
    assert names.redact_text(f"Met Hope {spelling}\nPrimary staff") == f"Met {hope}\nPrimary staff"
    # A distinctive core is still found on its own, but the kind-words past the line are not taken in.
    assert names.redact_text(f"Met Stanbridge\n{spelling} Primary") == f"Met {stanbridge}\n{spelling} Primary"


@pytest.mark.parametrize("spelling", SPELLINGS_OF_CE)
@pytest.mark.parametrize("between", ["-", " - ", ", ", " / ", " (", "\u00a0", "\t", " \u2013 "])
def test_hyphens_commas_and_brackets_do_not_end_a_name(spelling: str, between: str) -> None:
    names = display_names(BROKEN, "secret", presenter_mode=False)
    close = ")" if between == " (" else ""
    typed = f"Hope{between}{spelling}{close} Primary"
    assert names.redact_text(f"Met {typed} staff") == f"Met {names.name(990201)} staff"


@pytest.mark.parametrize("typed", ["St.\nMary's CE Primary", "Saint\nMarys CE Primary", "ST\nMARY'S C.E. PRIMARY"])
def test_a_saints_name_broken_over_a_line_is_not_that_school(typed: str) -> None:
    schools = pd.DataFrame(
        [(990301, "St Mary's CE Primary School", False)], columns=["urn", "name", "data_sharing_signed"]
    )
    names = display_names(schools, "secret", presenter_mode=False)
    assert names.redact_text(typed) == typed
    assert names.redact_text(typed.replace("\n", " ")) == names.name(990301)
    assert names.redact_text(typed.replace("\n", "-")) == names.name(990301)
    # Broken after the saint's name, the name is still found, but not the words past the line.
    assert names.redact_text("St Mary's\nCE Primary") == f"{names.name(990301)}\nCE Primary"


def test_the_longest_name_wins_whether_it_is_the_hidden_or_the_named_school() -> None:
    schools = pd.DataFrame(
        [(990401, "Langham Oaks Academy", False), (990402, "Langham CE Primary School", True)],
        columns=["urn", "name", "data_sharing_signed"],
    )
    names = display_names(schools, "secret", presenter_mode=False)
    oaks = names.name(990401)
    text = "Langham Oaks Academy, Langham-Oaks and langham oaks; Langham Primary and Langham stay."
    assert names.redact_text(text) == f"{oaks}, {oaks} and {oaks}; Langham Primary and Langham stay."


def generated_store(count: int) -> pd.DataFrame:
    """``count`` schools with distinct made-up places, every seventh one hidden."""
    starts = re.findall(r"\S+", "Ash Brad Chel Dun Fal Gar Hal Ing Kel Lang Mal Nor Pen Ring Sal Thorn Wal Wes Yar Bil")
    middles = ["", "ing", "er", "en", "le", "ley", "s", "on", "ham", "ton", "bor", "wick"]
    ends = re.findall(
        r"\S+", "ford ham ton bury field worth thorpe stead well combe cote minster port mouth borough burn"
    )
    kinds = ["{} CE Primary School", "{} Infant School", "{} Academy", "{} Church of England Junior School"]
    places = [f"{a}{m}{e}" for a in starts for m in middles for e in ends][:count]
    return pd.DataFrame(
        {
            "urn": range(500000, 500000 + len(places)),
            "name": [kinds[i % len(kinds)].format(place) for i, place in enumerate(places)],
            "data_sharing_signed": [i % 7 != 0 for i in range(len(places))],
        }
    )


def test_a_store_of_thousands_of_schools_hides_exactly_the_hidden_ones() -> None:
    schools = generated_store(3000)
    assert len(schools) == 3000 and schools.name.is_unique
    names = display_names(schools, "secret", presenter_mode=False)
    for urn, name in zip(schools.urn, schools.name, strict=True):
        place = name.split()[0]
        typed = name.replace("Church of England", "C of E").replace(" School", "")
        text = f"{typed} visited {place} on Monday; {name.upper()} agreed."
        if urn in names.hidden:
            shown = names.name(urn)
            assert names.redact_text(text) == f"{shown} visited {shown} on Monday; {shown} agreed.", name
        else:
            assert names.redact_text(text) == text, name


@pytest.mark.parametrize("typed", ["URN 990081", "URN: 990081", "urn990081", "990081", "URN no. 990081"])
def test_a_hidden_schools_urn_becomes_its_pseudonym(names: SchoolNames, typed: str) -> None:
    assert names.redact_text(f"({typed})") == f"({code(names, 990081)})"


def test_other_numbers_and_named_schools_urns_stay(names: SchoolNames) -> None:
    text = "URN 990082, 9900811 pupils, 1990081, 99008.1"
    assert names.redact_text(text) == text


@pytest.mark.parametrize("typed", ["850/2001", "8502001", "LAESTAB 850/2001", "DfE number: 8502001"])
def test_a_laestab_in_a_hidden_schools_la_is_hidden(names: SchoolNames, typed: str) -> None:
    assert names.redact_text(f"see {typed}.") == f"see {LAESTAB_PLACEHOLDER}."


def test_a_laestab_is_replaced_by_its_school_when_the_store_knows_it() -> None:
    schools = SCHOOLS.assign(laestab=["8502001", "8502002", *[None] * 7], la_code=None)
    names = display_names(schools, "secret", presenter_mode=False)
    assert names.redact_text("850/2001 and 8502002") == f"{names.name(990081)} and 8502002"
    assert names.redact_text("851/2001 and 12/3456") == "851/2001 and 12/3456"


def test_text_that_is_not_a_string_passes_through_and_nothing_hidden_means_nothing_changes() -> None:
    names = display_names(SCHOOLS.assign(data_sharing_signed=True), "secret", presenter_mode=False)
    assert names.redact(["Langham CE Primary", None, 3.5]) == ["Langham CE Primary", None, 3.5]


def test_hostile_and_long_text_is_redacted_quickly(names: SchoolNames) -> None:
    hostile = '=HYPERLINK("http://x","Langham")\u000b[Burhill](http://evil) \u202eHope Primary <b>990081</b> '
    text = (hostile + "lorem ipsum " * 40) * 20
    started = time.perf_counter()
    redacted = names.redact_text(text)
    assert time.perf_counter() - started < 2
    for leaked in ('Langham"', "Burhill", "Hope Primary", "990081"):
        assert leaked not in redacted
    assert redacted.count("\u000b") == 20 and redacted.count("\u202e") == 20, "only the names are changed"


def test_every_demo_school_hidden_in_presenter_mode_is_found_by_name_and_short_name(demo_store: Store) -> None:
    schools = list_schools(demo_store)
    names = display_names(schools, "secret", presenter_mode=True)
    text = " | ".join(schools.name)
    redacted = names.redact_text(text)
    assert not any(name in redacted for name in schools.name)
    for name in schools.name:
        short = name.replace(" School", "")
        assert short not in names.redact_text(f"Met {short} today")


# -- the declaration of typed-text columns -------------------------------------------------------------


def text_columns(path: Path) -> set[tuple[str, str]]:
    with Store(path, read_only=True) as store:
        columns = store.read(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'main' AND data_type = 'VARCHAR'"
        )
    return set(zip(columns.table_name, columns.column_name, strict=True))


def declared(declaration: dict[str, tuple[str, ...]]) -> set[tuple[str, str]]:
    return {(table, column) for table, columns in declaration.items() for column in columns}


def test_every_text_column_of_the_store_is_declared_free_text_or_not(empty_store_path: Path) -> None:
    actual = text_columns(empty_store_path)
    free, other = declared(FREE_TEXT_FIELDS), declared(NOT_FREE_TEXT_FIELDS)
    assert not free & other, "a column is either typed text or not"
    assert actual - free - other == set(), "new text columns: declare them in analytics/privacy/fields.py"
    assert (free | other) - actual == set(), "declared columns that the store no longer has"
    must_be_free = {
        ("meetings", "attendees"),
        ("meetings", "minutes"),
        ("category_decisions", "decided_by"),
        ("interventions", "name"),
        ("interventions", "focus"),
        ("interventions", "targets"),
        ("interventions", "supporting_person"),
        ("peer_reviews", "completed_by"),
        ("context_events", "note"),
        ("surveys", "name"),
        ("survey_responses", "role"),
    }
    assert must_be_free <= free, "the fields the privacy review found unredacted"


def test_redact_frame_redacts_exactly_the_declared_columns(empty_store_path: Path, names: SchoolNames) -> None:
    typed = "Langham CE Primary (URN 990081)"
    tables: dict[str, list[str]] = {}
    for table, column in text_columns(empty_store_path):
        tables.setdefault(table, []).append(column)
    for table, columns in tables.items():
        frame = pd.DataFrame({column: [typed, None] for column in columns})
        redacted = redact_frame(frame, table, names)
        hidden = f"{code(names, 990081)} ({code(names, 990081)})"
        for column in columns:
            expected = hidden if column in FREE_TEXT_FIELDS.get(table, ()) else typed
            assert redacted[column].iloc[0] == expected, (table, column)
            assert pd.isna(redacted[column].iloc[1]), "a missing value stays missing"
        assert frame[columns[0]].iloc[0] == typed, "the caller's frame is left as it was"


def test_redact_frame_refuses_a_table_it_does_not_know(names: SchoolNames) -> None:
    with pytest.raises(ValueError, match="not a table"):
        redact_frame(pd.DataFrame({"note": ["x"]}), "meeting_note", names)
