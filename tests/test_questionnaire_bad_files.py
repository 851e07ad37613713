"""Bad questionnaire files as people really make them: each is refused through the command line with a true
message that says where the problem is, and the store is left exactly as it was."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from analytics.store.db import Store

REPO_ROOT = Path(__file__).resolve().parent.parent
AGREE = ["Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"]


def book(sheets: dict[str, list[list[object]]]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def answers(count: int = 10, width: int = 3, start: int = 0) -> list[list[object]]:
    return [[f"R{k}", *[AGREE[(k + j + start) % 5] for j in range(width)]] for k in range(count)]


def two_waves(before: list[list[object]], after: list[list[object]], heading: list[str] | None = None) -> bytes:
    heading = heading or ["Respondent code", "Q1", "Q2", "Q3"]
    return book({"Before": [heading, *before], "After": [heading, *after]})


def with_cell(rows: list[list[object]], row: int, column: int, value: object) -> list[list[object]]:
    rows = [list(r) for r in rows]
    rows[row][column] = value
    return rows


def formula_workbook() -> bytes:
    data = two_waves(answers(), answers())
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    workbook["After"]["C4"] = "=B4"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def truncated() -> bytes:
    data = two_waves(answers(), answers())
    return data[: len(data) // 2]


# name -> (file bytes, file name, extra command-line options, what the message must say, where it must point)
CASES: dict[str, tuple[Callable[[], bytes], str, list[str], str, str | None]] = {
    "a 7 among 1-5 numbers": (
        lambda: two_waves(
            [[f"R{k}", 1 + k % 5, 2, 3] for k in range(30)], with_cell([[f"R{k}", 2, 3, 4] for k in range(30)], 4, 2, 7)
        ),
        "numbers.xlsx",
        [],
        "'7' is outside the answer scale 1 to 5",
        "After, row 6, column C",
    ),
    "a 0 among 1-5 numbers": (
        lambda: two_waves(
            with_cell([[f"R{k}", 1 + k % 5, 2, 3] for k in range(30)], 2, 1, 0), [[f"R{k}", 2, 3, 4] for k in range(30)]
        ),
        "numbers.xlsx",
        [],
        "'0' is outside the answer scale 1 to 5",
        "Before, row 4, column B",
    ),
    "a decimal among whole answers": (
        lambda: two_waves(answers(), with_cell(answers(), 1, 3, 3.5)),
        "survey.xlsx",
        [],
        "answers are whole numbers",
        "After, row 3, column D",
    ),
    "an answer not on the scale": (
        lambda: two_waves(answers(), with_cell(answers(), 2, 1, "Sometimes agree")),
        "survey.xlsx",
        [],
        "'Sometimes agree' is not an answer on the scale",
        "After, row 4, column B",
    ),
    "an item reworded between waves": (
        lambda: book(
            {
                "Before": [["Code", "I plan lessons well", "I feel confident teaching phonics"], *answers(6, 2)],
                "After": [
                    ["Code", "I plan lessons well", "I feel confident teaching early reading and phonics"],
                    *answers(6, 2),
                ],
            }
        ),
        "survey.xlsx",
        [],
        "the same question reworded",
        "column C",
    ),
    "a respondent twice in one wave": (
        lambda: two_waves(with_cell(answers(), 3, 0, "R1"), answers()),
        "survey.xlsx",
        [],
        "twice in the Before wave (also row 3)",
        "Before, row 5",
    ),
    "answers under no heading": (
        lambda: book(
            {
                "Before": [["Code", "Q1", "Q2", None], *[[*r, "Agree"] for r in answers(6, 2)]],
                "After": [["Code", "Q1", "Q2"], *answers(6, 2)],
            }
        ),
        "survey.xlsx",
        [],
        "has answers but no heading",
        "Before, row 1, column D",
    ),
    "a formula whose result was not saved": (
        formula_workbook,
        "survey.xlsx",
        [],
        "formula whose result was not saved",
        "After, row 4, column C",
    ),
    "headings but no answers": (
        lambda: book({"Before": [["Code", "Q1", "Q2"]], "After": [["Code", "Q1", "Q2"]]}),
        "survey.xlsx",
        [],
        "no rows of answers",
        None,
    ),
    "a PDF renamed .xlsx": (lambda: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", "survey.xlsx", [], "not", None),
    "a workbook cut off in copying": (truncated, "survey.xlsx", [], "", None),
    "an empty CSV": (lambda: b"", "survey.csv", [], "empty", None),
    "a blank wave in a wave column": (
        lambda: book(
            {
                "Answers": [
                    ["Code", "Wave", "Q1"],
                    ["A", "Before", "Agree"],
                    ["A", None, "Agree"],
                    ["B", "After", "Agree"],
                ]
            }
        ),
        "survey.xlsx",
        [],
        "the wave is blank",
        "row 3, column B",
    ),
    "a count that is not a number": (
        lambda: book({"Counts": [["Item", *AGREE], ["Q1", 1, 2, "lots", 4, 5], ["Q2", 0, 1, 2, 3, 4]]}),
        "counts.xlsx",
        [],
        "'lots'",
        "row 2",
    ),
    "a mean whose n is not a number": (
        lambda: book(
            {"Means": [["Item", "Before mean", "Before n", "After mean", "After n"], ["Q1", 3.2, "twelve", 3.8, 12]]}
        ),
        "means.xlsx",
        [],
        "'twelve' is not a whole number",
        "row 2, column C",
    ),
    "items described on two different scales": (
        lambda: book(
            {
                "Before": [["Code", "Q1", "Q2"], *answers(5, 2)],
                "After": [["Code", "Q1", "Q2"], *answers(5, 2)],
                "Items": [["Item code", "Item text", "Scale"], ["Q1", "I plan", "1-5"], ["Q2", "I assess", "1-4"]],
            }
        ),
        "survey.xlsx",
        [],
        "different scales (1-4, 1-5)",
        "Scale",
    ),
    "reverse-scored written as maybe": (
        lambda: book(
            {
                "Before": [["Code", "Q1"], *answers(5, 1)],
                "After": [["Code", "Q1"], *answers(5, 1)],
                "Items": [["Item code", "Item text", "Reverse scored"], ["Q1", "I plan", "maybe"]],
            }
        ),
        "survey.xlsx",
        [],
        "'maybe' should be yes or no",
        "Items, row 2",
    ),
    "counts and individual answers mixed": (
        lambda: book({"Before": [["Code", "Q1"], *answers(5, 1)], "Counts": [["Item", *AGREE], ["Q1", 1, 2, 3, 4, 5]]}),
        "survey.xlsx",
        [],
        "mixes",
        None,
    ),
    "a transitions count of 2.5": (
        lambda: book(
            {
                "Movement": [
                    ["Before \\ After", "Low", "Medium", "High"],
                    ["Low", 3, 2.5, 1],
                    ["Medium", 1, 4, 2],
                    ["High", 0, 1, 5],
                ]
            }
        ),
        "moves.xlsx",
        [],
        "'2.5' is not a count of people",
        "row 2, column C",
    ),
    "--reverse naming no item": (
        lambda: two_waves(answers(), answers()),
        "survey.xlsx",
        ["--reverse", "Q9"],
        "no item 'Q9'",
        None,
    ),
    "--labels that are not pairs": (
        lambda: two_waves(answers(), answers()),
        "survey.xlsx",
        ["--labels", "Agree"],
        "LABEL=N pairs",
        None,
    ),
    "--scale upside down": (
        lambda: two_waves(answers(), answers()),
        "survey.xlsx",
        ["--scale", "5-1"],
        "from a lower to a higher",
        None,
    ),
    "one wave given as an intervention's evidence": (
        lambda: book({"Before": [["Code", "Q1"], *answers(5, 1)]}),
        "survey.xlsx",
        ["--intervention", "1"],
        "one wave",
        None,
    ),
    "a long layout with an answer given twice": (
        lambda: book(
            {
                "Answers": [
                    ["Code", "Wave", "Question", "Answer"],
                    ["A", "Before", "Q1", "Agree"],
                    ["A", "Before", "Q1", "Disagree"],
                    ["A", "After", "Q1", "Agree"],
                ]
            }
        ),
        "survey.xlsx",
        [],
        "already answered Q1 in the Before wave",
        "row 3, column D",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_file_is_refused_where_it_is_wrong_and_the_store_is_unchanged(
    case: str, writable_demo_path: Path, tmp_path: Path
) -> None:
    make, name, options, message, where = CASES[case]
    path = tmp_path / name
    path.write_bytes(make())
    with Store(writable_demo_path, read_only=True) as store:
        before = store.content_hash()
    result = subprocess.run(
        [sys.executable, "-m", "analytics", "import-survey", str(path), "--db", str(writable_demo_path), *options],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=300,
    )
    said = result.stdout + result.stderr
    assert result.returncode == 2, said
    assert "Traceback" not in said
    assert message in said
    if where is not None:
        assert where in said, said
    with Store(writable_demo_path, read_only=True) as store:
        assert store.content_hash() == before


def test_there_are_at_least_twenty_kinds_of_bad_file() -> None:
    assert len(CASES) >= 20
