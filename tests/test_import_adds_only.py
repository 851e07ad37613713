"""Imports only ever add information, and a file's academic year comes from the evidence in it.

Built from the real Hampshire KS2 and GIAS files (tests/data/real, from ../shared/real-data): a narrower copy
of a file (columns dropped, as a national download trimmed to the figures or a partial GIAS extract) is
imported over the full one, and whatever the narrow file does not have must still be in the store.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics.cli.imports import register as add_import_commands
from analytics.imports import dfe as import_dfe
from analytics.monitoring.trends import trends_for_store
from analytics.store import db
from analytics.store.db import Store
from tests.test_import_dfe import GIAS, KS2, REAL_DATA, without_log

pytestmark = pytest.mark.skipif(not REAL_DATA.is_dir(), reason=f"the real sample files are not at {REAL_DATA}")

# Every KS2 cohort column the importer reads (the number of pupils in each group).
KS2_COHORTS = {"TELIG", "BELIG", "GELIG", "TFSM6CLA1A", "TNOTFSM6CLA1A", "TEALGRP2", "TKS1GROUP_L", "TKS1GROUP_M"}
KS2_COHORTS |= {"TKS1GROUP_H", "TMOBN"}


def rewrite(
    path: Path,
    keep: Callable[[str], bool] = lambda heading: True,
    rename: Callable[[str], str] = lambda heading: heading,
    rows: Callable[[list[str], list[str]], bool] = lambda headings, cells: True,
) -> bytes:
    """A copy of a published CSV with only the columns ``keep`` accepts (renamed), and the rows ``rows`` accepts."""
    records = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    headings = records[0]
    kept = [i for i, h in enumerate(headings) if keep(h)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([rename(headings[i]) for i in kept])
    for cells in records[1:]:
        if rows(headings, cells):
            writer.writerow([cells[i] if i < len(cells) else "" for i in kept])
    return out.getvalue().encode()


def narrow_ks2(path: Path) -> bytes:
    """The figures without cohorts or confidence limits, as in a national file trimmed to the values."""
    return rewrite(path, keep=lambda h: h.upper() not in KS2_COHORTS and not h.upper().endswith(("_LOWER", "_UPPER")))


def stored_results(store: Store, year: int) -> pd.DataFrame:
    return store.read(
        "SELECT urn, measure_code, subgroup, value, missing_code, cohort, ci_low, ci_high FROM results "
        "WHERE academic_year = ? ORDER BY ALL",
        [year],
    )


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "store.duckdb") as opened:
        yield opened


# -- a narrow file over a wide one of the same year ----------------------------------------------------


def test_a_narrow_file_of_a_stored_year_erases_no_cohort_or_limit(store: Store) -> None:
    import_dfe.run_import(store, KS2[2])
    before = stored_results(store, 2019)
    assert before.cohort.notna().sum() > 40_000 and before.ci_low.notna().sum() > 6_000
    trends_before = trends_for_store(store)

    narrow = narrow_ks2(KS2[2])
    preview = import_dfe.preview_import(store, narrow, file_name="ks2-narrow-2018-19.csv")
    fields = {(c.table, c.field): c for c in preview.fields}
    cohorts = fields["results", "cohort"]
    assert not cohorts.in_file and cohorts.changed == 0 and cohorts.kept == before.cohort.notna().sum()
    assert fields["results", "ci_low"].kept == before.ci_low.notna().sum()
    assert "cohorts: 0 changed, not in this file" in "\n".join(preview.lines())
    assert preview.results_updated == 0 and not preview.has_changes
    assert any("no cohorts" in w and "kept" in w for w in preview.warnings)

    import_dfe.run_import(store, narrow, file_name="ks2-narrow-2018-19.csv")
    pd.testing.assert_frame_equal(stored_results(store, 2019), before)
    after = trends_for_store(store)
    assert (after.trend == "insufficient data").sum() == (trends_before.trend == "insufficient data").sum()


def test_a_narrow_file_changes_the_figures_it_has_and_keeps_the_rest(store: Store) -> None:
    import_dfe.run_import(store, KS2[2])
    before = stored_results(store, 2019).set_index(["urn", "measure_code", "subgroup"])
    # A revised figure: Anstey Junior School's PTRWM_EXP 63% (file row 2) becomes 64% in the narrow file.
    text = narrow_ks2(KS2[2]).decode()
    records = list(csv.reader(io.StringIO(text)))
    at = records[0].index("PTRWM_EXP")
    anstey = next(r for r in records if r[records[0].index("URN")] == "115851")
    assert anstey[at] == "63%"
    anstey[at] = "64%"
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(records)
    summary = import_dfe.run_import(store, out.getvalue().encode(), file_name="ks2-revised-2018-19.csv")
    assert summary.results_replaced == 1
    figure = {(c.table, c.field): c for c in summary.fields}["results", "value"]
    assert (figure.changed, figure.added) == (1, 0)
    after = stored_results(store, 2019).set_index(["urn", "measure_code", "subgroup"])
    row = after.loc[(115851, "ks2_rwm_exp", "all")]
    assert (row.value, row.cohort) == (64, before.loc[(115851, "ks2_rwm_exp", "all")].cohort)
    changed = (after.value != before.value) & before.value.notna()
    assert changed.sum() == 1
    pd.testing.assert_series_equal(after.cohort, before.cohort)
    pd.testing.assert_series_equal(after.ci_high, before.ci_high)
    # Undo puts back the figure the revision replaced.
    import_dfe.undo_import(store, summary.import_id)
    pd.testing.assert_frame_equal(stored_results(store, 2019).set_index(["urn", "measure_code", "subgroup"]), before)


def test_a_blank_or_suppressed_cell_does_not_erase_a_stored_figure(store: Store) -> None:
    import_dfe.run_import(store, KS2[2])
    before = stored_results(store, 2019).set_index(["urn", "measure_code", "subgroup"])
    text = KS2[2].read_text(encoding="utf-8-sig")
    records = list(csv.reader(io.StringIO(text)))
    headings = records[0]
    anstey = next(r for r in records if r[headings.index("URN")] == "115851")
    anstey[headings.index("PTRWM_EXP")] = "SUPP"
    anstey[headings.index("TELIG")] = ""
    anstey[headings.index("READPROG")] = ""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(records)
    preview = import_dfe.preview_import(store, out.getvalue().encode(), file_name="ks2-gaps-2018-19.csv")
    assert not preview.has_changes, preview.lines()
    fields = {(c.table, c.field): c for c in preview.fields}
    # PTRWM_EXP's figure and READPROG's figure; TELIG is the cohort of every all-pupils measure.
    assert fields["results", "value"].kept == 2
    assert fields["results", "cohort"].in_file and fields["results", "cohort"].kept == 16
    assert "kept where the file's cell is blank or suppressed" in "\n".join(preview.lines())
    import_dfe.run_import(store, out.getvalue().encode(), file_name="ks2-gaps-2018-19.csv")
    after = stored_results(store, 2019).set_index(["urn", "measure_code", "subgroup"])
    pd.testing.assert_frame_equal(after, before)


def test_a_file_without_cohorts_or_england_rows_says_what_to_import_as_well(store: Store) -> None:
    schools_only = rewrite(
        KS2[2],
        keep=lambda h: h.upper() not in KS2_COHORTS,
        rows=lambda headings, cells: cells[headings.index("RECTYPE")] in ("1", "2"),
    )
    preview = import_dfe.preview_import(store, schools_only, file_name="ks2-850-2018-19.csv")
    assert preview.ok
    cohorts = next(w for w in preview.warnings if "no cohorts" in w)
    assert f"{preview.results_new:,} new results" in cohorts and "england_ks2final.csv" in cohorts
    england = next(w for w in preview.warnings if "no England row" in w)
    assert "RECTYPE 5" in england and "2018/19" in england
    payload = preview.to_dict()
    assert payload["warnings"] == preview.warnings
    # With the England figures stored already, only the cohorts are missing.
    import_dfe.run_import(store, KS2[2])
    again = import_dfe.preview_import(store, schools_only, file_name="ks2-850-2018-19.csv")
    assert not any("no England row" in w for w in again.warnings)


# -- a partial GIAS extract ------------------------------------------------------------------------------


PARTIAL_GIAS = ["URN", "EstablishmentName", "PhaseOfEducation (name)", "EstablishmentStatus (name)", "Trusts (name)"]


def test_a_partial_gias_extract_leaves_the_fields_it_lacks_as_they_were(store: Store) -> None:
    import_dfe.run_import(store, KS2[2])
    import_dfe.run_import(store, GIAS)
    before = store.read("SELECT * EXCLUDE (import_id) FROM schools ORDER BY urn")
    assert before.school_type.notna().sum() > 1000 and before.pupils.notna().sum() > 700
    partial = rewrite(GIAS, keep=lambda h: h in PARTIAL_GIAS)
    preview = import_dfe.preview_import(store, partial, file_name="gias-partial.csv")
    assert preview.schools_updated == 0 and not preview.has_changes
    in_extract = before.urn.isin([int(r[0]) for r in csv.reader(io.StringIO(partial.decode())) if r[0].isdigit()])
    pupils = next(c for c in preview.fields if c.field == "pupils")
    assert (pupils.in_file, pupils.changed, pupils.kept) == (False, 0, before.pupils[in_extract].notna().sum())
    assert "pupil numbers: 0 changed, not in this file" in "\n".join(preview.lines())
    import_dfe.run_import(store, partial, file_name="gias-partial.csv")
    pd.testing.assert_frame_equal(store.read("SELECT * EXCLUDE (import_id) FROM schools ORDER BY urn"), before)


def test_a_partial_gias_extract_changes_only_what_it_has(store: Store) -> None:
    import_dfe.run_import(store, KS2[2])
    import_dfe.run_import(store, GIAS)
    before = store.read("SELECT * EXCLUDE (import_id) FROM schools ORDER BY urn").set_index("urn")
    records = list(csv.reader(io.StringIO(rewrite(GIAS, keep=lambda h: h in PARTIAL_GIAS).decode())))
    by_urn = {r[0]: r for r in records[1:]}
    # Anstey Junior School renamed; The Orchard Infant School's trust cell (Voice Education Trust) left blank.
    by_urn["115851"][1] = "Anstey Junior Academy"
    by_urn["124964"][4] = ""
    # Henry Tyndale School, a special school in the KS2 file (RECTYPE 2), given as primary by an extract
    # without the type column, which alone says a school is special.
    records.append(["131559", "Henry Tyndale School", "Primary", "Open", ""])
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(records)
    summary = import_dfe.run_import(store, out.getvalue().encode(), file_name="gias-partial.csv")
    after = store.read("SELECT * EXCLUDE (import_id) FROM schools ORDER BY urn").set_index("urn")
    assert after.loc[115851, "name"] == "Anstey Junior Academy"
    assert after.loc[124964, "trust"] == "Voice Education Trust"
    assert after.loc[131559, "phase"] == "Special"
    same = {c: (after[c] == before[c]).fillna(False) | (after[c].isna() & before[c].isna()) for c in after.columns}
    differs = {c: int((~same[c]).sum()) for c in after.columns}
    assert {c: n for c, n in differs.items() if n} == {"name": 1, "status": 1}  # Henry Tyndale's status: Open
    fields = {c.field: c for c in summary.fields}
    assert (fields["name"].changed, fields["name"].in_file) == (1, True)
    assert fields["trust"].kept == 1 and fields["status"].added == 1
    import_dfe.undo_import(store, summary.import_id)
    undone = store.read("SELECT * EXCLUDE (import_id) FROM schools ORDER BY urn")
    pd.testing.assert_frame_equal(undone, before.reset_index())


# -- the year from evidence -------------------------------------------------------------------------------


def after_the_gap() -> bytes:
    """The 2018/19 file as a first file after the COVID gap would be: its only prior-year columns are _19."""
    return rewrite(KS2[2], keep=lambda h: not h.endswith("_17"), rename=lambda h: h.replace("_18", "_19"))


def test_a_file_whose_prior_year_is_2018_19_is_not_filed_under_2019_20(store: Store) -> None:
    data = after_the_gap()
    before = without_log(store)
    preview = import_dfe.preview_import(store, data, file_name="england_ks2final.csv")
    assert preview.years == [] and not preview.ok
    question = preview.year_question
    assert question is not None and question.suggested == 2022
    assert 2020 not in question.choices and 2021 not in question.choices and 2022 in question.choices
    assert "--year 2022" in question.message and "year picker" in question.message
    assert "PTRWM_EXP_19" in question.message
    with pytest.raises(import_dfe.YearNeeded) as refused:
        import_dfe.run_import(store, data, file_name="england_ks2final.csv")
    assert refused.value.question.suggested == 2022
    assert without_log(store) == before and store.count_rows("imports_log") == 0
    summary = import_dfe.run_import(store, data, file_name="england_ks2final.csv", year=2022)
    assert summary.years == [2022] and summary.year_source == "the year given"
    assert store.read("SELECT DISTINCT academic_year FROM results").academic_year.tolist() == [2022]


@pytest.mark.parametrize(
    ("name", "title", "year", "source"),
    [
        ("ks2-2021-22.csv", None, 2022, "the file name"),
        ("ks2 2021 to 2022.csv", None, 2022, "the file name"),
        ("download.csv", "Key stage 2 performance tables, 2021 to 2022", 2022, "the title line"),
    ],
)
def test_the_year_is_read_from_the_name_or_the_title(name: str, title: str | None, year: int, source: str) -> None:
    data = after_the_gap()
    if title:
        data = f'"{title}"\r\n'.encode() + data
    preview = import_dfe.preview_import(None, data, file_name=name)
    assert (preview.years, preview.year_source, preview.problems) == ([year], source, [])


def test_a_year_column_is_the_strongest_evidence() -> None:
    with_column = rewrite(KS2[2]).decode().splitlines()
    with_column = [with_column[0] + ",time_period"] + [line + ",201819" for line in with_column[1:]]
    preview = import_dfe.preview_import(None, "\r\n".join(with_column).encode(), file_name="ks2-2017-18.csv")
    assert preview.years == [2019] and preview.year_source == "the file's time_period column"
    assert any("the file name suggests 2017/18" in w for w in preview.warnings)


def test_a_year_without_results_is_a_question_not_an_answer(store: Store) -> None:
    for name, year in (("ks2-2019-20.csv", None), ("england_ks2final.csv", 2021)):
        preview = import_dfe.preview_import(store, after_the_gap(), file_name=name, year=year)
        assert preview.years == [] and preview.year_question is not None
        assert "no KS2 results were published for 2019/20 or 2020/21" in preview.year_question.message
    assert store.count_rows("results") == 0


def test_the_real_files_still_get_their_own_years() -> None:
    for path, year in zip(KS2, (2017, 2018, 2019), strict=True):
        preview = import_dfe.preview_import(None, path)
        assert preview.years == [year] and preview.year_question is None and preview.warnings[:1] != ["year"]
    renamed = import_dfe.preview_import(None, KS2[1].read_bytes(), file_name="england_ks2final.csv")
    assert renamed.years == [2018] and renamed.year_source.startswith("the prior-year columns PTRWM_EXP_17")


# -- command line and page -------------------------------------------------------------------------------


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    add_import_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    code = args.handler(args)
    return code, capsys.readouterr().out


def test_command_line_asks_for_the_year_and_reports_fields(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "cli.duckdb"
    Store(db).close()
    source = tmp_path / "england_ks2final.csv"
    source.write_bytes(after_the_gap())
    code, out = run(["import", str(source), "--db", str(db), "--json"], capsys)
    payload = json.loads(out)
    assert code == 2 and payload["year_question"]["suggested"] == 2022
    assert payload["year_question"]["suggested_label"] == "2021/22"
    code, out = run(["import", str(source), "--db", str(db), "--dry-run", "--json"], capsys)
    assert code == 2 and json.loads(out)["year_question"]["suggested"] == 2022
    code, out = run(["import", str(source), "--db", str(db), "--year", "2021/22", "--json"], capsys)
    payload = json.loads(out)
    assert code == 0 and payload["years"] == [2022] and payload["year_source"] == "the year given"
    narrow = tmp_path / "narrow.csv"
    narrow.write_bytes(narrow_ks2(KS2[2]))
    code, out = run(["import", str(narrow), "--db", str(db), "--year", "2022", "--dry-run", "--json"], capsys)
    payload = json.loads(out)
    cohort = next(f for f in payload["fields"] if f["table"] == "results" and f["field"] == "cohort")
    assert code == 0 and cohort["in_file"] is False and cohort["changed"] == 0 and cohort["kept"] > 40_000
    assert cohort["text"].startswith("cohorts: 0 changed, not in this file")
    assert any("no cohorts" in w for w in payload["warnings"])
    with pytest.raises(SystemExit):
        run(["import", str(narrow), "--db", str(db), "--year", "2021/23"], capsys)


def test_the_import_page_asks_for_the_year_and_imports_into_it(
    empty_store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(db.DB_ENV_VAR, str(empty_store_path))
    app = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=60)
    app.switch_page("app_pages/data.py").run()
    app.file_uploader[0].set_value(("england_ks2final.csv", after_the_gap(), "text/csv")).run()
    assert not app.exception, [e.value for e in app.exception]
    question = next(w.value for w in app.warning if "Which academic year" in w.value)
    assert "2018/19" in question and "2021/22" in question
    picker = next(s for s in app.selectbox if s.label == "Academic year of this file")
    assert picker.value == 2022 and "2019/20" not in picker.options and "2021/22" in picker.options
    picker.set_value(2023).run()
    assert "Academic years: 2022/23 (from the year given)" in [c.value for c in app.caption]
    app.button(key="confirm_import").click().run()
    assert not app.exception, [e.value for e in app.exception]
    with Store(empty_store_path) as store:
        assert store.read("SELECT DISTINCT academic_year FROM results").academic_year.tolist() == [2023]


def test_the_import_page_previews_a_file_once_and_imports_that_preview(
    empty_store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pressing Import reruns the page: the preview shown must be the one written, not read again (a national
    file took minutes of grey page to preview a second time)."""
    from analytics.imports import dfe

    calls: list[int | None] = []
    real = dfe.preview_import

    def counted(*args, **kwargs):
        calls.append(kwargs.get("year"))
        return real(*args, **kwargs)

    monkeypatch.setattr(dfe, "preview_import", counted)
    monkeypatch.setenv(db.DB_ENV_VAR, str(empty_store_path))
    app = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=60)
    app.switch_page("app_pages/data.py").run()
    app.file_uploader[0].set_value(("england_ks2final.csv", after_the_gap(), "text/csv")).run()
    next(s for s in app.selectbox if s.label == "Academic year of this file").set_value(2023).run()
    previews = len(calls)
    app.button(key="confirm_import").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert len(calls) == previews, "Import must write the preview already shown, not make it again"
    with Store(empty_store_path) as store:
        assert store.read("SELECT DISTINCT academic_year FROM results").academic_year.tolist() == [2023]
