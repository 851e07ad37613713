"""Peer review maturity: the overall rule, recording, the radar shape and the Excel diagnostic round trip."""

from __future__ import annotations

import io
import itertools
import re
import statistics
import zipfile
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from analytics import peer_review as pr
from analytics.demo import PEER_REVIEW_AREAS
from analytics.errors import StoreError
from analytics.peer_review import AREAS, LEVELS, AreaRating, DiagnosticFileError, PeerReviewError
from analytics.store.db import Store


def scores_of(values: tuple[int, ...]) -> dict[str, int]:
    return dict(zip(AREAS, values, strict=True))


# -- the framework and the overall rule ---------------------------------------------------------------------


def test_areas_and_levels_match_the_framework_and_the_schema(demo_store: Store) -> None:
    assert AREAS == PEER_REVIEW_AREAS
    assert LEVELS == {1: "Emerging", 2: "Expanding", 3: "Secure", 4: "Sustainable"}
    # The table's CHECK constraint lists the same five area names.
    schema = demo_store.scalar("SELECT sql FROM duckdb_tables() WHERE table_name = 'peer_reviews'")
    assert all(f"'{area}'" in schema for area in AREAS)
    assert set(pr.DESCRIPTORS) == set(AREAS) and all(set(d) == set(LEVELS) for d in pr.DESCRIPTORS.values())


def test_overall_is_the_level_three_areas_reach_capped_one_above_the_weakest() -> None:
    for values in itertools.product(LEVELS, repeat=len(AREAS)):
        level, reason = pr.overall_rating(scores_of(values))
        # The rule as docs/peer-review.md states it, worked out independently: the highest level that at
        # least three areas have reached and that no area is more than one level below.
        expected = max(lv for lv in LEVELS if sum(v >= lv for v in values) >= 3 and min(values) >= lv - 1)
        assert level == expected, values
        assert level == min(int(statistics.median(values)), min(values) + 1)
        assert reason.startswith(LEVELS[level] + ":")


def test_overall_reason_names_the_areas_and_the_cap() -> None:
    level, reason = pr.overall_rating(scores_of((3, 3, 3, 2, 2)))
    assert level == 3
    assert reason == "Secure: 3 of 5 areas are Secure or above (Leadership, Infrastructure and ITT)."
    level, reason = pr.overall_rating(scores_of((4, 4, 4, 1, 2)))
    assert level == 2
    assert "CPD is only Emerging" in reason and "one level above the weakest" in reason


def test_overall_needs_all_five_areas() -> None:
    level, reason = pr.overall_rating({"Leadership": 3, "Infrastructure": 2})
    assert level is None
    assert "ITT, CPD and S2S support are not rated" in reason
    assert pr.overall_rating({**scores_of((3, 3, 3, 3, 3)), "Leadership": 7})[0] is None


@pytest.mark.parametrize(
    ("typed", "level"),
    [
        (3, 3),
        (3.0, 3),
        ("3", 3),
        ("secure", 3),
        ("  SECURE ", 3),
        ("Secure (3)", 3),
        ("3 - Secure", 3),
        ("sustainable", 4),
        ("Level 2", 2),
        ("Emerging", 1),
        ("Secure (2)", None),
        ("5", None),
        (0, None),
        (2.5, None),
        ("good", None),
        ("", None),
        (None, None),
        (True, None),
    ],
)
def test_levels_are_read_as_numbers_or_names_in_any_case(typed: object, level: int | None) -> None:
    assert pr.parse_level(typed) == level


# -- recording ---------------------------------------------------------------------------------------------


SOME_LEVELS = ["Expanding (2)", "Secure (3)", "Emerging (1)", "Sustainable (4)", "Expanding (2)"]


def some_ratings(values: tuple[int, ...] = (2, 3, 1, 4, 2)) -> dict[str, AreaRating]:
    return {
        area: AreaRating(score, f"evidence for {area}", f"actions for {area}", f"challenge on {area}")
        for area, score in zip(AREAS, values, strict=True)
    }


def test_an_assessment_is_recorded_in_one_transaction_and_read_back(writable_demo_path: Path) -> None:
    with Store(writable_demo_path) as store:
        urn = int(
            store.scalar(
                "SELECT min(urn) FROM schools WHERE urn NOT IN (SELECT urn FROM peer_reviews WHERE urn IS NOT NULL)"
            )
        )
        version = store.data_version()
        written = pr.record_assessment(
            store, urn=urn, review_date=date(2025, 3, 5), ratings=some_ratings(), partner=" Partner school "
        )
        assert written == 5
        assert store.data_version() == version + 1
        rows = store.read("SELECT * FROM peer_reviews WHERE urn = ? ORDER BY review_id", [urn])
        assert list(rows.area) == list(AREAS)
        assert list(rows.score) == [2, 3, 1, 4, 2]
        assert set(rows.partner) == {"Partner school"}
        assert rows.group_id.isna().all()
        assert rows.evidence.iloc[0] == "evidence for Leadership"
        history = pr.assessment_history(store, urn=urn)
        assert list(history.level) == SOME_LEVELS
        listed = pr.list_assessments(store, urn=urn)
        assert len(listed) == 1
        row = listed.iloc[0]
        assert row.subject_kind == "school" and row.urn == urn and row.review_date == date(2025, 3, 5)
        assert row["name"] == store.scalar("SELECT name FROM schools WHERE urn = ?", [urn])
        assert row.overall == 2 and row.overall_level == "Expanding (2)"


def test_levels_may_be_given_by_name_and_the_date_as_text(writable_demo_path: Path) -> None:
    with Store(writable_demo_path) as store:
        ratings = dict(zip(AREAS, ["secure", "EMERGING", " Expanding ", "Sustainable (4)", 2], strict=True))
        pr.record_assessment(store, group_id=2, review_date="2025-01-10", ratings=ratings)
        assert store.scalar("SELECT DISTINCT review_date FROM peer_reviews WHERE group_id = 2") == date(2025, 1, 10)
        scores = store.read("SELECT score FROM peer_reviews WHERE group_id = 2 ORDER BY review_id").score
        assert list(scores) == [3, 1, 2, 4, 2]


@pytest.mark.parametrize(
    ("kwargs", "messages"),
    [
        ({"urn": None}, ["Choose the school or the group"]),
        ({"group_id": 1}, ["one, not both"]),
        ({"urn": 123}, ["no school with URN 123"]),
        ({"urn": None, "group_id": 999}, ["no group with id 999"]),
        ({"review_date": None}, ["Give the date"]),
        ({"review_date": date.today() + timedelta(days=3)}, ["in the future"]),
        ({"review_date": "last week"}, ["'last week' is not a date"]),
        ({"ratings": {**some_ratings(), "Leadership": AreaRating(5)}}, ["Leadership: 5 is not a level"]),
        ({"ratings": {**some_ratings(), "Leadership": AreaRating("")}}, ["Leadership: choose a level"]),
        ({"ratings": {**some_ratings(), "Vision": 3}}, ["Unknown area Vision"]),
        (
            {"ratings": {a: r for a, r in some_ratings().items() if a != "Infrastructure"}},
            ["Infrastructure: choose a level"],
        ),
        (
            {"review_date": None, "ratings": {"Leadership": "great"}},
            ["Give the date", "'great' is not a level", "Infrastructure: choose a level"],
        ),
    ],
)
def test_bad_assessments_list_every_problem_and_write_nothing(
    writable_demo_path: Path, kwargs: dict, messages: list[str]
) -> None:
    with Store(writable_demo_path) as store:
        urn = int(store.scalar("SELECT min(urn) FROM schools"))
        before = store.content_hash()
        arguments = {"urn": urn, "review_date": date(2025, 3, 5), "ratings": some_ratings()} | kwargs
        with pytest.raises(PeerReviewError) as raised:
            pr.record_assessment(store, **arguments)
        for message in messages:
            assert any(message in problem for problem in raised.value.problems), (message, raised.value.problems)
        assert store.content_hash() == before


def test_a_second_assessment_on_the_same_day_is_refused_unless_replacing(writable_demo_path: Path) -> None:
    with Store(writable_demo_path) as store:
        existing = store.read("SELECT * FROM peer_reviews WHERE group_id = 1 AND review_date = '2025-11-13'")
        assert len(existing) == 5
        others = "SELECT * FROM peer_reviews WHERE NOT (group_id = 1 AND review_date = '2025-11-13') ORDER BY review_id"
        before, untouched = store.content_hash(), store.read(others)
        with pytest.raises(PeerReviewError, match="already recorded"):
            pr.record_assessment(store, group_id=1, review_date=date(2025, 11, 13), ratings=some_ratings())
        assert store.content_hash() == before
        pr.record_assessment(
            store, group_id=1, review_date=date(2025, 11, 13), ratings=some_ratings((4, 4, 4, 4, 4)), replace=True
        )
        after = store.read("SELECT score FROM peer_reviews WHERE group_id = 1 AND review_date = '2025-11-13'")
        assert list(after.score) == [4] * 5
        # The other date and the other groups are untouched.
        pd.testing.assert_frame_equal(store.read(others), untouched)


def test_a_failure_while_writing_leaves_the_store_as_it_was(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The replace deletes and then inserts; a failure after the delete must roll the delete back too."""
    original = Store.transaction

    class FailingCursor:
        def __init__(self, cursor) -> None:
            self.cursor = cursor

        def execute(self, *args, **kwargs):
            return self.cursor.execute(*args, **kwargs)

        def executemany(self, *args, **kwargs):
            raise OSError("disk full")

    @contextmanager
    def failing_transaction(self, *args, **kwargs):
        with original(self, *args, **kwargs) as cur:
            yield FailingCursor(cur)

    with Store(writable_demo_path) as store:
        before = store.content_hash()
        monkeypatch.setattr(Store, "transaction", failing_transaction)
        # The store says it could not be written, naming the file, rather than passing on the bare OSError.
        with pytest.raises(StoreError, match="could not be written"):
            pr.record_assessment(
                store, group_id=1, review_date=date(2025, 11, 13), ratings=some_ratings(), replace=True
            )
        monkeypatch.undo()
        assert store.content_hash() == before


# -- history, changes and the radar -----------------------------------------------------------------------


def test_demo_history_and_list(demo_store: Store) -> None:
    listed = pr.list_assessments(demo_store)
    raw = demo_store.read("SELECT DISTINCT group_id, review_date FROM peer_reviews WHERE group_id IS NOT NULL")
    assert len(listed[listed.subject_kind == "group"]) == len(raw) == 6
    listed = listed[listed.subject_kind == "group"]
    assert (listed.areas_rated == 5).all()
    assert list(listed.review_date) == sorted(listed.review_date, reverse=True)
    for row in listed.itertuples():
        scores = demo_store.read(
            "SELECT area, score FROM peer_reviews WHERE group_id = ? AND review_date = ?",
            [int(row.group_id), row.review_date],
        )
        assert row.overall == pr.overall_rating(dict(zip(scores.area, scores.score, strict=True)))[0]
        assert row.name == demo_store.scalar("SELECT name FROM groups WHERE group_id = ?", [int(row.group_id)])
    history = pr.assessment_history(demo_store, group_id=1)
    assert list(history.columns) == pr.HISTORY_COLUMNS
    assert len(history) == 10 and list(history.area[:5]) == list(AREAS)


def test_assessments_are_counted_per_school_and_group_and_assessed_ones_come_first(writable_demo_path: Path) -> None:
    with Store(writable_demo_path) as store:
        with store.transaction() as cur:  # known ground, whatever school assessments the demo has
            cur.execute("DELETE FROM peer_reviews WHERE urn IS NOT NULL")
        urns = [int(u) for u in store.read("SELECT urn FROM schools ORDER BY urn LIMIT 3").urn]
        for urn, days in zip(urns[1:], ([date(2024, 1, 5), date(2025, 1, 5)], [date(2025, 2, 1)]), strict=True):
            for day in days:
                pr.record_assessment(store, urn=urn, review_date=day, ratings={a: AreaRating(2) for a in AREAS})
        listed = pr.list_assessments(store)
        by_sql = store.read(
            "SELECT coalesce(urn, group_id) AS id, urn IS NULL AS is_group, count(DISTINCT review_date) AS n "
            "FROM peer_reviews GROUP BY ALL"
        )
    expected = {
        kind: {int(r.id): int(r.n) for r in by_sql[by_sql.is_group == (kind == "group")].itertuples()}
        for kind in ("school", "group")
    }
    assert pr.assessment_counts(listed, "school") == expected["school"] == {urns[1]: 2, urns[2]: 1}
    assert pr.assessment_counts(listed, "group") == expected["group"] and len(expected["group"]) == 3
    assert pr.assessment_counts(listed.iloc[0:0], "school") == {}
    with pytest.raises(ValueError):
        pr.assessment_counts(listed, "schools")
    names = {urns[0]: "Abbey Primary", urns[1]: "zion academy", urns[2]: "Moor Lane", 7: "abbey infants"}
    assert pr.assessed_first(names, pr.assessment_counts(listed, "school")) == [urns[2], urns[1], 7, urns[0]]
    assert pr.assessed_first(names, {}) == [7, urns[0], urns[2], urns[1]], "by name, ignoring case"


@pytest.mark.parametrize(
    "typed",
    [
        "Plain text, with commas. And 3.5 stops; C-of-E (VA) school's 'quotes' & 100% done!",
        "*italic* **bold** _under_ `code` ~~struck~~ $x$ <b>tag</b> a|b [link](https://example.org) \\ back",
        "# heading\n- item\n+ item\n> quote\n1. one\n  2) two\n12 pupils\n-3 points",
        "See http://evil.example/i.png, WWW.example.org or write to head@school.example",
    ],
)
def test_markdown_literal_gives_back_what_was_typed(typed: str) -> None:
    shown = pr.markdown_literal(typed)
    # CommonMark: any ASCII punctuation may be backslash-escaped and is then literal; "  \n" is a line break.
    unescaped = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", shown.replace("  \n", "\n"))
    # Zero-width spaces break bare addresses, which Streamlit's Markdown would link even when escaped.
    assert unescaped.replace("\u200b", "") == typed
    assert not re.search(r"(https?\\?:\\?/\\?/(?!\u200b)|www\\?\.|@\w)", shown, re.IGNORECASE), "no bare address"
    lines = shown.split("  \n")
    assert all(not re.match(r"\s*([#>+*-]\s|\d+[.)])", line) for line in lines), "no line starts a list or heading"
    assert not re.search(r"(?<!\\)[*_`~$<>|\[\]]", re.sub(r"\\\\", "", shown)), "every formatting mark is escaped"


def test_markdown_literal_of_missing_text_is_empty() -> None:
    assert [pr.markdown_literal(v) for v in (None, float("nan"), pd.NA, "")] == ["", "", "", ""]


def test_changes_between_two_assessments() -> None:
    earlier = pd.DataFrame({"area": list(AREAS), "score": [1, 2, 2, 3, 1]})
    later = pd.DataFrame({"area": list(AREAS), "score": [2, 2, 1, 4, 3]})
    table = pr.changes_between(earlier, later)
    assert list(table.columns) == pr.CHANGE_COLUMNS
    assert list(table.area) == [*AREAS, "Overall"]
    assert list(table.change) == [1, 0, -1, 1, 2, 0]
    assert list(table.movement) == [
        "▲ up 1 level",
        "= no change",
        "▼ down 1 level",
        "▲ up 1 level",
        "▲ up 2 levels",
        "= no change",
    ]
    overall = table.iloc[-1]
    assert (overall.before, overall.after) == (2, 2)
    assert overall.after_level == "Expanding (2)"
    partial = pr.changes_between(earlier.iloc[:3], later)
    assert partial.movement.iloc[3] == "not rated in both" and pd.isna(partial.change.iloc[-1])


def test_radar_has_one_closed_shape_per_assessment_latest_on_top() -> None:
    rows = []
    for day, values in ((date(2023, 11, 1), (1, 1, 2, 1, 1)), (date(2025, 11, 1), (3, 2, 2, 4, 3))):
        rows += [{"review_date": day, "area": a, "score": s} for a, s in zip(AREAS, values, strict=True)]
    rows += [{"review_date": date(2024, 11, 1), "area": a, "score": 2} for a in AREAS]
    figure = pr.maturity_radar(pd.DataFrame(rows), "Alliance")
    assert len(figure.data) == 3
    names = [trace.name for trace in figure.data]
    assert names == ["01 Nov 2023", "01 Nov 2024", "01 Nov 2025 (latest)"]
    latest, previous, oldest = figure.data[2], figure.data[1], figure.data[0]
    assert list(latest.r) == [3, 2, 2, 4, 3, 3]  # closed: back to the first area
    assert latest.line.width > previous.line.width >= oldest.line.width
    assert latest.opacity > previous.opacity > oldest.opacity
    # Told apart by line style and marker as well as colour.
    assert len({t.line.dash for t in figure.data}) == 3 and len({t.marker.symbol for t in figure.data}) == 3
    assert list(figure.layout.polar.radialaxis.ticktext) == list(LEVELS.values())
    # The level names sit on a radius halfway between two spokes, as far as possible from every area's label,
    # and stay horizontal (a radial tick angle equal to the axis angle).
    polar = figure.layout.polar
    step = 360 / len(AREAS)
    sign = -1 if polar.angularaxis.direction == "clockwise" else 1
    spokes = [(polar.angularaxis.rotation + sign * step * i) % 360 for i in range(len(AREAS))]
    gaps = [min(abs(polar.radialaxis.angle - s) % 360, 360 - abs(polar.radialaxis.angle - s) % 360) for s in spokes]
    assert min(gaps) == pytest.approx(step / 2)
    assert polar.radialaxis.tickangle % 360 == polar.radialaxis.angle % 360
    one = pr.maturity_radar(pd.DataFrame(rows[:5]), "One")
    assert len(one.data) == 1 and one.data[0].name == "01 Nov 2023"


def test_names_in_free_text_are_replaced_longest_first() -> None:
    replacements = {"St Mary's": "School A1", "St Mary's Junior": "School B2", "Oak Primary": "Oak Primary"}
    texts = ["Visit to ST MARY'S JUNIOR and St Mary's", None, "Oak Primary led it"]
    assert pr.redact_names(texts, replacements) == [
        "Visit to School B2 and School A1",
        None,
        "Oak Primary led it",
    ]


# -- the Excel diagnostic ------------------------------------------------------------------------------------


def open_workbook(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def save(workbook: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_blank_diagnostic_has_the_sheets_the_dropdown_and_the_output_formulas() -> None:
    workbook = open_workbook(pr.diagnostic_workbook())
    assert workbook.sheetnames[:3] == ["Instructions", "Input", "Lists"]
    assert {"Output", "Descriptors"} <= set(workbook.sheetnames)
    sheet = workbook["Input"]
    areas = [sheet.cell(row, 1).value for row in range(10, 15)]
    assert areas == list(AREAS)
    assert [sheet.cell(9, c).value for c in range(1, 6)][2:] == [
        "Evidence to support the best-fit judgement",
        "Key actions to move to the next maturity level",
        "Peer challenge comments",
    ]
    validations = sheet.data_validations.dataValidation
    assert len(validations) == 1
    assert validations[0].type == "list"
    assert str(validations[0].sqref) == "B10 B11 B12 B13 B14"
    assert all(name in validations[0].formula1 for name in LEVELS.values())
    output = workbook["Output"]
    assert [output.cell(row, 1).value for row in range(7, 13)] == [*AREAS, "Overall"]
    assert all(str(output.cell(row, 2).value).startswith("=") for row in range(7, 13))
    assert "MEDIAN(B7:B11)" in output["B12"].value and "MIN(B7:B11)+1" in output["B12"].value
    assert output._charts, "the Output sheet draws the radar shape"
    assert workbook["Lists"].sheet_state == "hidden"


def test_the_excel_formulas_give_the_same_ratings_as_the_app(tmp_path: Path) -> None:
    """Recalculates the Output sheet with an independent Excel formula engine, when one is installed."""
    formulas = pytest.importorskip("formulas", reason="pip install formulas to recalculate the workbook")
    forms = [lambda n: n, str, lambda n: LEVELS[n].upper(), lambda n: f"  {LEVELS[n].lower()} ", pr.level_label]
    for index, values in enumerate([(2, 1, 2, 1, 4), (1, 1, 4, 4, 4), (3, 3, 3, 2, 2), (4, 4, 4, 4, 4)]):
        workbook = open_workbook(pr.diagnostic_workbook(review_date=date(2025, 1, 2)))
        for offset, value in enumerate(values):
            workbook["Input"].cell(10 + offset, 2).value = forms[(index + offset) % len(forms)](value)
        path = tmp_path / f"formulas-{index}.xlsx"
        path.write_bytes(save(workbook))
        solution = formulas.ExcelModel().loads(str(path)).finish().calculate()
        cells = {key.upper().rsplit("!", 1)[-1]: v for key, v in solution.items() if "OUTPUT" in key.upper()}
        assert [int(cells[f"B{row}"].value[0][0]) for row in range(7, 12)] == list(values)
        assert int(cells["B12"].value[0][0]) == pr.overall_rating(scores_of(values))[0]


def test_a_filled_diagnostic_round_trips_through_excel() -> None:
    ratings = some_ratings((2, 3, 1, 4, 2))
    ratings["Leadership"] = AreaRating(2, '=HYPERLINK("http://x")', "+ act now", "@challenge")
    data = pr.diagnostic_workbook(
        name="North Vale TSA",
        review_date=date(2025, 11, 13),
        ratings=ratings,
        partner="Riverside",
        completed_by="A. Head",
        challenge_date=date(2025, 12, 1),
    )
    workbook = open_workbook(data)
    # Text that looks like a formula is stored as text, never run by Excel.
    assert workbook["Input"]["C10"].data_type == "s"
    assert workbook["Input"]["B10"].value == "Expanding (2)"
    parsed = pr.read_diagnostic_workbook(data)
    assert parsed.problems == []
    assert (parsed.name, parsed.review_date, parsed.partner, parsed.completed_by) == (
        "North Vale TSA",
        date(2025, 11, 13),
        "Riverside",
        "A. Head",
    )
    assert parsed.challenge_date == date(2025, 12, 1)
    assert parsed.scores == dict(zip(AREAS, (2, 3, 1, 4, 2), strict=True))
    assert parsed.ratings["Leadership"].evidence == '=HYPERLINK("http://x")'
    assert parsed.ratings["Infrastructure"] == ratings["Infrastructure"]
    assert list(parsed.table().level) == SOME_LEVELS


def test_levels_typed_in_odd_case_and_spacing_are_read(tmp_path: Path) -> None:
    workbook = open_workbook(pr.diagnostic_workbook())
    sheet = workbook["Input"]
    sheet["B3"] = "Riverside Learning Alliance"
    sheet["B4"] = "14/11/2025"  # typed as text, as a date often is
    for row, typed in zip(range(10, 15), ["  secure ", "EMERGING", 4, "2", "Sustainable (4)"], strict=True):
        sheet.cell(row, 2).value = typed
    path = tmp_path / "filled.xlsx"
    workbook.save(path)
    parsed = pr.read_diagnostic_workbook(path.read_bytes())
    assert parsed.problems == []
    assert parsed.review_date == date(2025, 11, 14)
    assert list(parsed.scores.values()) == [3, 1, 4, 2, 4]


def test_an_alliances_own_layout_is_read_by_its_labels() -> None:
    """Rows moved and areas written the framework's way ("Area 3: ITT") are still found."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = " input "
    sheet.append(["East Midlands Teaching Schools peer review"])
    sheet.append(["Name of Teaching school", "Eastmoor TSA"])
    sheet.append(["Date of completion", date(2025, 6, 30)])
    sheet.append(["Peer challenged by", "North Vale"])
    sheet.append([])
    sheet.append(["Area", "Peer challenge comments", "Best fit overall judgement", "Evidence", "Key actions"])
    sheet.append(["Area 1: Leadership", "c1", "secure", "e1", "a1"])
    sheet.append(["Area 2 - Infrastructure", "", 2, "e2", ""])
    sheet.append(["Area 3: Initial Teacher Training (ITT)", "", "Emerging (1)", "", ""])
    sheet.append(["CPD", "", "4", "", ""])
    sheet.append(["Improvement through School to School Support", "", "Expanding", "", ""])
    parsed = pr.read_diagnostic_workbook(save(workbook))
    assert parsed.problems == []
    assert (parsed.name, parsed.review_date, parsed.partner) == ("Eastmoor TSA", date(2025, 6, 30), "North Vale")
    assert list(parsed.scores.values()) == [3, 2, 1, 4, 2]
    assert parsed.ratings["Leadership"] == AreaRating(3, "e1", "a1", "c1")


def test_every_problem_in_a_workbook_is_listed_with_its_cell() -> None:
    workbook = open_workbook(pr.diagnostic_workbook())
    sheet = workbook["Input"]
    sheet["B4"] = "next Tuesday"
    sheet["B10"] = "Very good"
    sheet["B11"] = "Secure"
    sheet["B12"] = 5
    sheet["B13"] = "secure (2)"
    sheet.delete_rows(14)
    parsed = pr.read_diagnostic_workbook(save(workbook))
    problems = "\n".join(parsed.problems)
    assert "Input!B4 (Date of completion): 'next Tuesday' is not a date" in problems
    assert "Input!B10 (Leadership): 'Very good' is not a level" in problems
    assert "Input!B12 (Initial Teacher Training): '5' is not a level" in problems
    assert "Input!B13 (Continuing Professional Development): 'secure (2)' is not a level" in problems
    assert "no row for School-to-school support" in problems
    assert "B11" not in problems
    assert len(parsed.problems) == 5


def test_a_blank_diagnostic_asks_for_the_date_and_every_level() -> None:
    parsed = pr.read_diagnostic_workbook(pr.diagnostic_workbook())
    assert len(parsed.problems) == 6
    assert "Input!B4: enter the date of completion" in parsed.problems[0]
    assert all("choose a level" in p for p in parsed.problems[1:])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, r"old-style Excel file \(\.xls\)"),
        (b"urn,area,score\n1,Leadership,3\n", r"not an Excel workbook \(\.xlsx\)"),
        (b"PK\x03\x04 broken zip", "could not be opened"),
    ],
)
def test_files_that_are_not_workbooks_are_refused_plainly(data: bytes, message: str) -> None:
    with pytest.raises(DiagnosticFileError, match=message):
        pr.read_diagnostic_workbook(data)


def test_a_zip_that_is_not_a_workbook_and_a_workbook_without_the_areas_are_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    with pytest.raises(DiagnosticFileError, match="could not be opened"):
        pr.read_diagnostic_workbook(buffer.getvalue())
    workbook = openpyxl.Workbook()
    workbook.active.title = "Survey"
    workbook.active.append(["question", "answer"])
    with pytest.raises(DiagnosticFileError, match=r"no Input sheet .*Survey"):
        pr.read_diagnostic_workbook(save(workbook))


def test_a_recorded_assessment_downloads_filled_in_and_reads_back_the_same(demo_store: Store) -> None:
    history = pr.assessment_history(demo_store, group_id=5)
    latest = max(history.review_date)
    data = pr.filled_diagnostic(history, latest, "Riverside Learning Alliance")
    parsed = pr.read_diagnostic_workbook(data)
    assert parsed.problems == []
    one = history[history.review_date == latest]
    assert parsed.scores == dict(zip(one.area, one.score, strict=True))
    assert parsed.partner == one.partner.iloc[0]
    assert parsed.ratings["Leadership"].evidence == one.evidence.iloc[0]


def test_an_uploaded_diagnostic_is_stored_whole_and_downloads_again_the_same(writable_demo_path: Path) -> None:
    data = pr.diagnostic_workbook(
        name="North Vale TSA",
        review_date=date(2025, 1, 15),
        ratings=some_ratings((2, 3, 1, 4, 2)),
        partner="Riverside",
        completed_by="A. Head",
        challenge_date=date(2025, 2, 3),
    )
    parsed = pr.read_diagnostic_workbook(data)
    with Store(writable_demo_path) as store:
        pr.record_assessment(
            store,
            group_id=2,
            review_date=parsed.review_date,
            ratings=parsed.ratings,
            partner=parsed.partner,
            completed_by=parsed.completed_by,
            challenge_date=parsed.challenge_date,
        )
        history = pr.assessment_history(store, group_id=2)
        with pytest.raises(pr.PeerReviewError, match="not a date of peer challenge"):
            pr.record_assessment(
                store, group_id=2, review_date=date(2025, 1, 16), ratings=some_ratings(), challenge_date="soon"
            )
    recorded = history[history.review_date == date(2025, 1, 15)]
    assert set(recorded.completed_by) == {"A. Head"} and set(recorded.challenge_date) == {date(2025, 2, 3)}
    again = pr.read_diagnostic_workbook(pr.filled_diagnostic(history, date(2025, 1, 15), "North Vale TSA"))
    assert (again.completed_by, again.challenge_date, again.partner) == ("A. Head", date(2025, 2, 3), "Riverside")
    assert again.scores == parsed.scores
