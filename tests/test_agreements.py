"""Data-sharing agreements (issue 17, item 7): recorded, dated and withdrawn per school by function, command line,
import and the Data store page; the history kept; sign-up over time; the school named or hidden accordingly."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from openpyxl import Workbook

from analytics import privacy
from analytics.imports.agreements import import_agreements, preview_agreements
from analytics.imports.problems import ImportValidationError
from analytics.privacy import agreements
from analytics.privacy.agreements import AgreementError
from analytics.store import db
from analytics.store.db import Store
from analytics.store.schools import list_schools
from tests.test_pages import open_app, rendered_text

pytestmark = pytest.mark.usefixtures("fresh_caches")

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_STORE = "app_pages/data_store.py"
TODAY = date.today()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "analytics", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def small_store(tmp_path: Path) -> Path:
    """Three schools, none signed: Alder (100001), Birch (100002), Cedar (100003)."""
    path = tmp_path / "small.duckdb"
    with Store(path) as store, store.transaction() as cur:
        cur.executemany(
            "INSERT INTO schools (urn, name, phase) VALUES (?, ?, 'Primary')",
            [[100001, "Alder Primary"], [100002, "Birch Primary"], [100003, "Cedar Primary"]],
        )
    return path


# Read-write, as the app opens it: DuckDB refuses a read-only connection beside the app's in the same process.
def flags(path: Path) -> dict[int, tuple[bool, date | None]]:
    with Store(path) as store:
        frame = store.read("SELECT urn, data_sharing_signed, data_sharing_date FROM schools ORDER BY urn")
    return {
        int(r.urn): (bool(r.data_sharing_signed), None if pd.isna(r.data_sharing_date) else r.data_sharing_date.date())
        for r in frame.itertuples()
    }


def history_rows(path: Path) -> int:
    with Store(path) as store:
        return int(store.scalar("SELECT count(*) FROM data_sharing_agreements"))


def named(path: Path, urn: int) -> bool:
    """Whether the trust rules name the school outside presenter mode (what every page shows)."""
    with Store(path, read_only=True) as store:
        names = privacy.display_names(list_schools(store), "secret", presenter_mode=False)
    return urn not in names.hidden


# -- recording ---------------------------------------------------------------------------------------


def test_signing_names_the_school_and_withdrawing_hides_it_again(small_store: Path) -> None:
    assert not named(small_store, 100001)
    with Store(small_store) as store:
        signed_id = agreements.record_agreement(store, 100001, "14/03/2024", "  Jo  Officer ", "ref DS-7")
    assert flags(small_store)[100001] == (True, date(2024, 3, 14))
    assert named(small_store, 100001)
    with Store(small_store) as store:
        withdrawn_id = agreements.withdraw_agreement(store, 100001, date(2024, 9, 2), "Sam", "New head declined")
        history = agreements.agreement_history(store, 100001)
        now = agreements.current_agreements(store, 100001).iloc[0]
    assert flags(small_store)[100001] == (False, None)
    assert not named(small_store, 100001)
    assert withdrawn_id > signed_id
    assert history[["agreement_id", "event", "signed_on", "withdrawn_on", "recorded_by", "note", "source"]].to_dict(
        orient="records"
    ) == [
        {
            "agreement_id": withdrawn_id,
            "event": "withdrawn",
            "signed_on": date(2024, 3, 14),
            "withdrawn_on": date(2024, 9, 2),
            "recorded_by": "Sam",
            "note": "New head declined",
            "source": "cli",
        },
        {
            "agreement_id": signed_id,
            "event": "signed",
            "signed_on": date(2024, 3, 14),
            "withdrawn_on": None,
            "recorded_by": "Jo Officer",
            "note": "ref DS-7",
            "source": "cli",
        },
    ]
    assert (now.status, now.signed_on, now.withdrawn_on, bool(now.differs_from_history)) == (
        agreements.WITHDRAWN,
        date(2024, 3, 14),
        date(2024, 9, 2),
        False,
    )


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda s: agreements.record_agreement(s, 999999, "2024-01-01", "Jo"), "no school with URN 999999"),
        (lambda s: agreements.record_agreement(s, 100001, TODAY + timedelta(days=1), "Jo"), "in the future"),
        (lambda s: agreements.record_agreement(s, 100001, "31/02/2024", "Jo"), "is not a date"),
        (lambda s: agreements.record_agreement(s, 100001, "", "Jo"), "Give the date"),
        (lambda s: agreements.record_agreement(s, 100001, "2024-01-01", "   "), "Say who"),
        (lambda s: agreements.withdraw_agreement(s, 100002, "2024-01-01", "Jo", "why"), "no agreement in force"),
        (lambda s: agreements.withdraw_agreement(s, 100003, "2024-02-01", "Jo", " "), "Say why"),
        (
            lambda s: agreements.withdraw_agreement(s, 100003, "2023-12-31", "Jo", "why"),
            "before URN 100003's agreement",
        ),
        (lambda s: agreements.record_agreement(s, 100003, "2024-01-01", "Jo"), "already recorded as signed"),
    ],
)
def test_a_refused_agreement_says_why_and_changes_nothing(small_store: Path, action, message: str) -> None:
    with Store(small_store) as store:
        agreements.record_agreement(store, 100003, "2024-01-01", "Jo")
    before = (flags(small_store), history_rows(small_store))
    with Store(small_store) as store, pytest.raises(AgreementError, match=message):
        action(store)
    assert (flags(small_store), history_rows(small_store)) == before


def test_a_new_agreement_cannot_be_dated_before_the_last_one_ended(small_store: Path) -> None:
    with Store(small_store) as store:
        agreements.record_agreement(store, 100001, "2024-01-10", "Jo")
        agreements.withdraw_agreement(store, 100001, "2024-05-01", "Jo", "Head left")
        with pytest.raises(AgreementError, match="before URN 100001's agreement was withdrawn"):
            agreements.record_agreement(store, 100001, "2024-04-01", "Jo")
        agreements.record_agreement(store, 100001, "2024-06-01", "Jo", "New head signed")
    assert flags(small_store)[100001] == (True, date(2024, 6, 1))


def test_the_migration_gives_each_school_already_signed_a_first_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "before.duckdb"
    with monkeypatch.context() as older:
        older.setattr(db, "MIGRATIONS", db.MIGRATIONS[:13])
        older.setattr(db, "LATEST_SCHEMA_VERSION", 13)
        with Store(path) as store, store.transaction() as cur:
            cur.executemany(
                "INSERT INTO schools (urn, name, phase, data_sharing_signed, data_sharing_date) VALUES (?, ?, ?, ?, ?)",
                [
                    [100001, "Alder Primary", "Primary", True, date(2022, 9, 1)],
                    [100002, "Birch Primary", "Primary", True, None],
                    [100003, "Cedar Primary", "Primary", False, None],
                ],
            )
    with Store(path) as store:
        rows = store.read("SELECT urn, signed_on, withdrawn_on, source FROM data_sharing_agreements ORDER BY urn")
        current = agreements.current_agreements(store)
        new_id = agreements.record_agreement(store, 100003, "2024-01-01", "Jo")
    assert rows.urn.tolist() == [100001, 100002]
    assert rows.source.tolist() == ["migration", "migration"]
    assert rows.signed_on[0].date() == date(2022, 9, 1) and pd.isna(rows.signed_on[1])
    assert rows.withdrawn_on.isna().all()
    assert dict(zip(current.urn, current.status, strict=True)) == {
        100001: "signed",
        100002: "signed",
        100003: "not signed",
    }
    assert not current.differs_from_history.any()
    assert new_id > 2, "rows added after the migration do not reuse its ids"


def test_a_flag_changed_by_hand_is_shown_as_disagreeing_with_the_history(small_store: Path) -> None:
    with Store(small_store) as store:
        agreements.record_agreement(store, 100001, "2024-01-10", "Jo")
        with store.transaction() as cur:
            cur.execute("UPDATE schools SET data_sharing_signed = false WHERE urn = 100001")
        assert agreements.differing_schools(store) == [100001]
        current = agreements.current_agreements(store, 100001).iloc[0]
        # The flag is what every page reads, so it is what the panel says is in force.
        assert current.status == agreements.NOT_SIGNED
        agreements.record_agreement(store, 100001, "2024-02-01", "Jo", "Put right")
        assert agreements.differing_schools(store) == []


def test_a_school_signed_before_agreements_were_recorded_appears_in_the_history(writable_demo_path: Path) -> None:
    with Store(writable_demo_path, read_only=True) as store:
        signed = store.read("SELECT urn, data_sharing_date FROM schools WHERE data_sharing_signed ORDER BY urn")
        history = agreements.agreement_history(store)
        current = agreements.current_agreements(store)
    assert len(signed) > 0
    assert sorted(history.urn) == signed.urn.tolist()
    assert set(history.source) == {agreements.UNRECORDED}
    assert history.agreement_id.isna().all()
    assert dict(zip(history.urn, history.signed_on, strict=True)) == {
        int(u): d.date() for u, d in zip(signed.urn, signed.data_sharing_date, strict=True)
    }
    assert int((current.status == agreements.SIGNED).sum()) == len(signed)


# -- sign-up over time -------------------------------------------------------------------------------


def test_sign_up_counts_the_schools_in_force_at_each_month_end(small_store: Path) -> None:
    with Store(small_store) as store:
        agreements.record_agreement(store, 100001, "2024-01-15", "Jo")
        agreements.record_agreement(store, 100002, "2024-02-10", "Jo")
        agreements.withdraw_agreement(store, 100001, "2024-03-05", "Jo", "Head left")
        agreements.record_agreement(store, 100003, "2024-03-20", "Jo")
        # Cedar's signing was mistyped: recorded again with the true, earlier date, it counts from then.
        agreements.record_agreement(store, 100003, "2024-02-01", "Jo", "Date put right")
        series = agreements.sign_up_over_time(store, today=date(2024, 4, 10))
    assert series.to_dict(orient="records") == [
        {"month_end": date(2024, 1, 31), "schools_signed": 1, "newly_signed": 1, "withdrawn": 0},
        {"month_end": date(2024, 2, 29), "schools_signed": 3, "newly_signed": 2, "withdrawn": 0},
        {"month_end": date(2024, 3, 31), "schools_signed": 2, "newly_signed": 0, "withdrawn": 1},
        {"month_end": date(2024, 4, 10), "schools_signed": 2, "newly_signed": 0, "withdrawn": 0},
    ]
    with Store(small_store, read_only=True) as store:
        in_force = int((agreements.current_agreements(store).status == agreements.SIGNED).sum())
    assert in_force == series.schools_signed.iloc[-1], "the last point is today's count"


def test_sign_up_is_empty_when_no_agreement_is_dated(small_store: Path) -> None:
    with Store(small_store, read_only=True) as store:
        series = agreements.sign_up_over_time(store)
    assert series.empty and list(series.columns) == agreements.SIGN_UP_COLUMNS


# -- import ------------------------------------------------------------------------------------------


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_signs_and_withdraws_in_its_own_order_and_names_itself(small_store: Path, tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "agreements.csv",
        "URN,Signed on,Withdrawn on,Notes\n"
        "100001,15/01/2024,,Signed at the heads' meeting\n"
        "100002,2024-02-10,2024-06-30,Signed then left the partnership\n"
        "100001,,01/09/2024,Head withdrew\n"
        ",,,\n",
    )
    with Store(small_store) as store:
        summary = import_agreements(store, source, imported_by="Data team")
        rows = store.read(
            "SELECT urn, CAST(signed_on AS VARCHAR) AS signed_on, coalesce(CAST(withdrawn_on AS VARCHAR), '') AS "
            "withdrawn_on, note, source, file_name, recorded_by FROM data_sharing_agreements ORDER BY agreement_id"
        )
    assert (summary.signings, summary.withdrawals) == (2, 2)
    assert rows[["urn", "signed_on", "withdrawn_on", "note"]].values.tolist() == [
        [100001, "2024-01-15", "", "Signed at the heads' meeting"],
        [100002, "2024-02-10", "", "Signed then left the partnership"],
        [100002, "2024-02-10", "2024-06-30", "Signed then left the partnership"],
        [100001, "2024-01-15", "2024-09-01", "Head withdrew"],
    ]
    assert set(rows.source) == {"import"} and set(rows.file_name) == {"agreements.csv"}
    assert set(rows.recorded_by) == {"Data team"}
    assert flags(small_store) == {100001: (False, None), 100002: (False, None), 100003: (False, None)}


def test_a_file_with_problems_writes_nothing_and_says_where(small_store: Path, tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "bad.csv",
        "School URN,Date signed,Date withdrawn\n"
        "100001,2024-01-15,\n"
        "999999,2024-01-15,\n"
        "100002,yesterday,\n"
        f"100003,{(TODAY + timedelta(days=3)):%d/%m/%Y},\n"
        "100001,,2023-12-01\n"
        "abc,2024-01-01,\n"
        "100002,,\n",
    )
    with Store(small_store) as store, pytest.raises(ImportValidationError) as refused:
        import_agreements(store, source)
    where = [(p.row, p.column) for p in refused.value.problems]
    assert where == [
        (3, "School URN"),
        (4, "Date signed"),
        (5, "Date signed"),
        (6, "Date withdrawn"),
        (7, "School URN"),
        (8, "Date signed"),
    ]
    messages = " | ".join(p.message for p in refused.value.problems)
    assert "no school with URN 999999" in messages and "in the future" in messages
    assert "before URN 100001's agreement was signed" in messages
    assert history_rows(small_store) == 0
    assert not any(signed for signed, _ in flags(small_store).values())


def test_a_workbook_is_read_and_what_is_already_recorded_is_skipped(small_store: Path, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["URN", "Signed", "Withdrawn"])
    sheet.append([100001, datetime(2024, 1, 15), None])
    sheet.append([100002, datetime(2024, 2, 1), None])
    path = tmp_path / "agreements.xlsx"
    book.save(path)
    with Store(small_store) as store:
        agreements.record_agreement(store, 100001, "2024-01-15", "Jo")
        preview = preview_agreements(store, path)
        assert preview.ok and preview.count("sign") == 1
        assert preview.skipped == ["Row 2: URN 100001 is already recorded as signed on 15 January 2024."]
        import_agreements(store, path)
        with pytest.raises(AgreementError, match="already recorded; nothing was imported"):
            import_agreements(store, path)
    assert flags(small_store)[100002] == (True, date(2024, 2, 1))
    assert history_rows(small_store) == 2


def test_a_file_without_a_date_column_says_what_to_name_it(small_store: Path, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "wrong.csv", "URN,When\n100001,2024-01-01\n")
    with Store(small_store, read_only=True) as store:
        preview = preview_agreements(store, source)
    assert [(p.row, p.column) for p in preview.problems] == [(1, "signed_on")]
    assert "'Signed on'" in preview.problems[0].message and "'When'" in preview.problems[0].message


# -- command line ------------------------------------------------------------------------------------


def test_the_command_line_signs_withdraws_lists_and_imports(small_store: Path, tmp_path: Path) -> None:
    signed = run_cli("agreement", "sign", "100001", "--on", "2024-01-15", "--by", "Jo", "--db", str(small_store))
    assert signed.returncode == 0, signed.stderr
    assert "Alder Primary signed" in signed.stdout
    refused = run_cli(
        "agreement", "withdraw", "100002", "--on", "2024-02-01", "--by", "Jo", "--reason", "x", "--db", str(small_store)
    )
    assert refused.returncode == 2 and "no agreement in force" in refused.stderr
    assert "Traceback" not in refused.stderr
    withdrawn = run_cli(
        "agreement", "withdraw", "100001", "--on", "2024-03-01", "--by", "Sam", "--reason", "Head left", "--json",
        "--db", str(small_store),
    )  # fmt: skip
    assert withdrawn.returncode == 0, withdrawn.stderr
    assert json.loads(withdrawn.stdout)["agreement"]["status"] == "withdrawn"
    source = write_csv(tmp_path / "a.csv", "URN,Signed on\n100002,2024-02-10\n100003,2024-02-11\n")
    dry = run_cli("import-agreements", str(source), "--dry-run", "--db", str(small_store))
    assert dry.returncode == 0 and "2 signings" in dry.stdout
    assert history_rows(small_store) == 2, "a dry run writes nothing"
    imported = run_cli("import-agreements", str(source), "--by", "Data team", "--json", "--db", str(small_store))
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["signings"] == 2
    listed = run_cli("agreements", "--json", "--db", str(small_store))
    payload = json.loads(listed.stdout)
    assert payload["signed"] == 2 and payload["schools"] == 3
    assert {row["urn"]: row["status"] for row in payload["current"]} == {
        100001: "withdrawn",
        100002: "signed",
        100003: "signed",
    }
    assert [row["event"] for row in payload["history"]] == ["signed", "signed", "withdrawn", "signed"]
    assert payload["history"][0]["file_name"] == "a.csv"
    assert payload["sign_up"][-1]["schools_signed"] == 2
    text = run_cli("agreements", "--urn", "100001", "--db", str(small_store))
    assert "withdrawn 2024-03-01" in text.stdout and "Head left" in text.stdout


def test_the_command_line_reports_a_bad_file_by_row(small_store: Path, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "bad.csv", "URN,Signed on\n100001,2024-13-45\n")
    done = run_cli("import-agreements", str(source), "--db", str(small_store))
    assert done.returncode == 2
    assert "Row 2, column Signed on" in done.stderr and "Traceback" not in done.stderr
    assert history_rows(small_store) == 0


# -- the Data store page -----------------------------------------------------------------------------


def test_the_page_hides_unsigned_schools_until_asked_then_finds_and_signs_one(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(writable_demo_path, read_only=True) as store:
        unsigned = store.read("SELECT urn, name FROM schools WHERE NOT data_sharing_signed ORDER BY urn")
    target = unsigned.iloc[0]
    app = open_app(writable_demo_path, monkeypatch, DATA_STORE)
    assert not app.exception, [e.value for e in app.exception]
    text = rendered_text(app)
    assert [n for n in unsigned.name if n in text] == [], "unsigned schools are hidden until the officer asks"
    assert "School " in text, "they are listed by pseudonym"
    app.toggle(key="agreements_name_all").set_value(True).run()
    app.text_input(key="agreements_search").input(target["name"][:-2]).run()
    [table] = [d.value for d in app.dataframe if "Status" in getattr(d.value, "data", d.value).columns]
    shown = getattr(table, "data", table)
    assert shown.School.tolist() == [target["name"]] and shown.Status.tolist() == ["Never signed"]
    form = next(s for s in app.selectbox if s.label == "School")
    assert form.value == int(target.urn)
    next(t for t in app.text_input if t.label == "Recorded by").input("Jo Officer")
    next(t for t in app.text_input if t.label.startswith("Note")).input("Signed at the board")
    next(b for b in app.button if b.label == "Record").click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    assert flags(writable_demo_path)[int(target.urn)] == (True, TODAY)
    with Store(writable_demo_path) as store:
        row = agreements.agreement_history(store, int(target.urn)).iloc[0]
    assert (row.source, row.recorded_by, row.note) == ("page", "Jo Officer", "Signed at the board")
    st.cache_resource.clear()
    app.toggle(key="agreements_name_all").set_value(False).run()
    assert target["name"] in rendered_text(app), "signed, the school is named without being asked"


def test_the_summary_counts_the_store_and_the_filter_lists_only_schools_without_an_agreement(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(writable_demo_path) as store:
        urn = int(store.scalar("SELECT min(urn) FROM schools WHERE data_sharing_signed"))
        name = str(store.scalar("SELECT name FROM schools WHERE urn = ?", [urn]))
        agreements.withdraw_agreement(store, urn, TODAY, "Jo", "New head declined")
        signed = int(store.scalar("SELECT count(*) FROM schools WHERE data_sharing_signed"))
        unsigned = store.read("SELECT urn, name FROM schools WHERE NOT data_sharing_signed ORDER BY urn")
        schools = store.count_rows("schools")
    app = open_app(writable_demo_path, monkeypatch, DATA_STORE)
    assert not app.exception, [e.value for e in app.exception]
    summary = {m.label: m.value for m in app.metric}
    assert summary["Agreement in force"] == f"{signed} of {schools}"
    assert int(summary["Withdrawn"]) + int(summary["Never signed"]) == len(unsigned) > 0

    def listed() -> pd.DataFrame:
        return next(d.value for d in app.dataframe if "Status" in d.value.columns)

    assert len(listed()) == schools, "every school is listed until the officer narrows the list"
    app.toggle(key="agreements_name_all").set_value(True).run()
    app.segmented_control(key="agreements_show").set_value("unsigned").run()
    shown = listed()
    assert sorted(shown.URN) == unsigned.urn.tolist()
    assert shown.set_index("URN").Status[urn] == "Withdrawn"
    assert set(shown.Status) <= {"Withdrawn", "Never signed"}
    # The form offers just the schools listed, so the one withdrawn is found and can be signed again.
    offered = next(s for s in app.selectbox if s.label == "School").options
    assert len(offered) == len(unsigned) and f"{name} (withdrawn)" in offered
    app.segmented_control(key="agreements_show").set_value("signed").run()
    app.text_input(key="agreements_search").input(unsigned["name"].iloc[0]).run()
    assert listed().empty
    assert any("No school with an agreement in force matches" in c.value for c in app.caption)


def test_the_page_refuses_a_withdrawal_without_a_reason(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(writable_demo_path, read_only=True) as store:
        urn = int(store.scalar("SELECT min(urn) FROM schools WHERE data_sharing_signed"))
    app = open_app(writable_demo_path, monkeypatch, DATA_STORE)
    before = history_rows(writable_demo_path)
    form = next(s for s in app.selectbox if s.label == "School")
    form.set_value(urn)
    app.radio[0].set_value("The school withdrew its agreement")
    next(t for t in app.text_input if t.label == "Recorded by").input("Jo")
    next(b for b in app.button if b.label == "Record").click().run()
    assert any("Say why" in e.value for e in app.error)
    assert history_rows(writable_demo_path) == before
    assert flags(writable_demo_path)[urn][0] is True


def test_presenter_mode_shows_a_message_instead_of_the_agreements(
    writable_demo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(writable_demo_path, read_only=True) as store:
        names = store.read("SELECT name FROM schools").name
    app = open_app(writable_demo_path, monkeypatch)
    app.sidebar.toggle(key="presenter_mode").set_value(True).run()
    app.switch_page(DATA_STORE)
    app.run()
    assert any("not shown in presenter mode" in i.value for i in app.info)
    text = rendered_text(app)
    assert [n for n in names if n in text] == []
    assert not [b for b in app.button if b.label == "Record"]
