"""Strand 5 evidence recorded by officers: by function, command line, import and the profile panel; soft
intelligence kept apart; withdrawn events kept in the history but no longer counted."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook
from streamlit.testing.v1 import AppTest

from analytics.calendar import academic_year_of, format_academic_year
from analytics.errors import InsightError
from analytics.imports.context_events import (
    import_context_events,
    preview_context_events,
    undo_context_events_import,
)
from analytics.imports.problems import ImportValidationError
from analytics.monitoring import context_events as events
from analytics.monitoring.criteria import NOT_ASSESSED, UNMET, evaluate_criteria, load_criteria
from analytics.monitoring.profile import school_events
from analytics.store import db
from analytics.store.db import Store

REPO_ROOT = Path(__file__).resolve().parent.parent
SCHOOL = 990001
OTHER_SCHOOL = 990002
TODAY = date.today()
LAST_MONTH = TODAY - timedelta(days=30)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "analytics", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )


def count_events(path: Path) -> int:
    with Store(path, read_only=True) as store:
        return store.count_rows("context_events")


def count_imports(path: Path) -> int:
    with Store(path, read_only=True) as store:
        return store.count_rows("imports_log")


# -- recording and reading -------------------------------------------------------------------------


def test_an_event_is_recorded_with_who_and_when_and_read_back(writable_demo_path: Path) -> None:
    with Store(writable_demo_path) as store:
        # The label, in another case, is as good as the stored name.
        event_id = events.record_context_event(
            store, SCHOOL, LAST_MONTH, "change of HEADTEACHER", "Acting head from April", recorded_by="J Smith"
        )
        quiet = events.record_context_event(store, SCHOOL, "14/03/2025", "building_works", "", recorded_by="J Smith")
        listed = events.list_context_events(store, SCHOOL).set_index("event_id")
    row = listed.loc[event_id]
    assert (row.kind, row.kind_label, row.note, row.source) == (
        "headteacher_change",
        "Change of headteacher",
        "Acting head from April",
        "public",
    )
    assert row.event_date == LAST_MONTH
    assert row.recorded_by == "J Smith"
    assert TODAY <= row.recorded_at.date() <= date.today()  # the suite may run across midnight
    assert row.status == "recorded"
    assert listed.loc[quiet].event_date == date(2025, 3, 14), "dates are read day first"
    assert pd.isna(listed.loc[quiet].note), "an empty note is allowed"


def test_a_misspelt_kind_is_refused_with_the_closest_kind(writable_demo_path: Path) -> None:
    before = count_events(writable_demo_path)
    with Store(writable_demo_path) as store, pytest.raises(ValueError) as refused:
        events.record_context_event(store, SCHOOL, LAST_MONTH, "headteacher_chnage", "New head", recorded_by="J")
    assert "Did you mean 'headteacher_change'" in str(refused.value)
    assert isinstance(refused.value, InsightError), "the page and command line show it as a message"
    assert count_events(writable_demo_path) == before


@pytest.mark.parametrize(
    ("urn", "when", "by", "expected"),
    [
        (123, LAST_MONTH, "J", "There is no school with URN 123"),
        (SCHOOL, TODAY + timedelta(days=7), "J", "is in the future"),  # a week: safe across midnight
        (SCHOOL, "31/02/2025", "J", "is not a date"),
        (SCHOOL, LAST_MONTH, "  ", "Say who is recording"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    writable_demo_path: Path, urn: int, when: object, by: str, expected: str
) -> None:
    before = count_events(writable_demo_path)
    with Store(writable_demo_path) as store, pytest.raises(events.ContextEventError, match=expected):
        events.record_context_event(store, urn, when, "budget_deficit", "Deficit licensed", recorded_by=by)
    assert count_events(writable_demo_path) == before


def test_the_same_event_twice_is_refused(writable_demo_path: Path) -> None:
    with Store(writable_demo_path) as store:
        first = events.record_context_event(store, SCHOOL, LAST_MONTH, "budget_deficit", "Deficit", recorded_by="J")
        with pytest.raises(events.ContextEventError, match=f"already recorded \\(event {first}\\)"):
            events.record_context_event(store, SCHOOL, LAST_MONTH, "Budget deficit", "Deficit", recorded_by="K")


def test_soft_intelligence_is_left_out_unless_asked_for(writable_demo_path: Path) -> None:
    with Store(writable_demo_path) as store:
        public = events.record_context_event(store, SCHOOL, LAST_MONTH, "staff_turnover", "Two left", recorded_by="J")
        heard = events.record_context_event(
            store,
            SCHOOL,
            LAST_MONTH,
            "staff_turnover",
            "Parents say more are leaving",
            source=events.SOFT_INTELLIGENCE,
            recorded_by="J",
        )
        shared = events.list_context_events(store, SCHOOL)
        officer = events.list_context_events(store, SCHOOL, include_soft_intelligence=True)
        downloadable = events.public_context_events(store)
        on_profile = school_events(store, SCHOOL)
    assert public in set(shared.event_id) and heard not in set(shared.event_id)
    assert heard not in set(downloadable.event_id)
    assert "Parents say more are leaving" not in set(on_profile.note)
    marked = officer.set_index("event_id").loc[heard]
    assert (marked.source, marked.source_label) == ("soft_intelligence", "Soft intelligence")
    assert "(soft intelligence)" in events.describe_event(marked.to_dict())


def test_a_withdrawn_event_stays_in_the_history(writable_demo_path: Path) -> None:
    with Store(writable_demo_path) as store:
        event_id = events.record_context_event(store, SCHOOL, LAST_MONTH, "pupil_mobility", "", recorded_by="J")
        events.withdraw_context_event(store, event_id, withdrawn_by="K Jones")
        history = events.list_context_events(store, SCHOOL).set_index("event_id")
        current = events.list_context_events(store, SCHOOL, include_withdrawn=False)
        with pytest.raises(events.ContextEventError, match="already withdrawn"):
            events.withdraw_context_event(store, event_id, withdrawn_by="K Jones")
        with pytest.raises(events.ContextEventNotFound):
            events.withdraw_context_event(store, 999_999, withdrawn_by="K Jones")
        with pytest.raises(events.ContextEventError, match="Say who is withdrawing"):
            events.withdraw_context_event(
                store,
                events.record_context_event(store, SCHOOL, LAST_MONTH, "budget_deficit", "", recorded_by="J"),
                withdrawn_by="",
            )
    assert history.loc[event_id].status == "withdrawn"
    assert history.loc[event_id].withdrawn_by == "K Jones"
    assert event_id not in set(current.event_id)


def test_a_correction_withdraws_the_old_event_and_points_at_it(writable_demo_path: Path) -> None:
    with Store(writable_demo_path) as store:
        wrong = events.record_context_event(store, SCHOOL, LAST_MONTH, "budget_deficit", "", recorded_by="J")
        right = events.record_context_event(
            store, OTHER_SCHOOL, LAST_MONTH, "budget_deficit", "", recorded_by="J", corrects=wrong
        )
        history = events.list_context_events(store).set_index("event_id")
    assert history.loc[wrong].status == "withdrawn"
    assert history.loc[right].corrects_event_id == wrong
    assert history.loc[right].status == "recorded"


def test_the_kinds_are_those_the_rules_file_counts() -> None:
    from analytics.cli import context as context_commands

    rules = tomllib.loads((REPO_ROOT / "analytics/monitoring/criteria/criteria.toml").read_text("utf-8"))
    counted = {kind for c in rules["criterion"] if c["check"] == "context_event" for kind in c["kinds"]}
    assert events.unknown_kinds(counted) == []
    assert tuple(events.EVENT_KINDS) == context_commands.EVENT_KIND_NAMES


# -- the criterion ---------------------------------------------------------------------------------


def leadership_change(store: Store, urn: int) -> tuple[str, str]:
    criterion = next(c for c in load_criteria() if c.id == "leadership_change")
    year = int(store.scalar("SELECT max(academic_year) FROM results"))
    # Every school: whether events are recorded at all is judged across the store.
    found = evaluate_criteria(store, [criterion], year=year, as_of=TODAY).set_index("urn")
    return found.loc[urn, "status"], found.loc[urn, "evidence"]


def quiet_school(store: Store) -> int:
    """A demo school with no headteacher change recorded in the last year."""
    recent = set(
        store.read(
            "SELECT urn FROM context_events WHERE kind = 'headteacher_change' AND event_date > ?",
            [TODAY - timedelta(days=400)],
        ).urn
    )
    return next(int(u) for u in store.read("SELECT urn FROM schools ORDER BY urn").urn if int(u) not in recent)


def test_a_recorded_headteacher_change_is_counted_until_it_is_withdrawn(writable_demo_path: Path) -> None:
    with Store(writable_demo_path) as store:
        urn = quiet_school(store)
        # Nothing recorded is not evidence either way: never "met", so it cannot help a school look green.
        assert leadership_change(store, urn)[0] == NOT_ASSESSED
        event_id = events.record_context_event(
            store, urn, LAST_MONTH, "headteacher_change", "Head resigned", recorded_by="J"
        )
        status, evidence = leadership_change(store, urn)
        assert status == UNMET
        assert "headteacher change" in evidence
        assert "Head resigned" not in evidence, "typed notes stay on the profile, out of packs and the projector"
        events.withdraw_context_event(store, event_id, withdrawn_by="J")
        assert leadership_change(store, urn)[0] == NOT_ASSESSED


def test_soft_intelligence_never_moves_a_schools_category(writable_demo_path: Path) -> None:
    with Store(writable_demo_path) as store:
        urn = quiet_school(store)
        events.record_context_event(
            store,
            urn,
            LAST_MONTH,
            "headteacher_change",
            "Heard the head is leaving",
            source=events.SOFT_INTELLIGENCE,
            recorded_by="J",
        )
        status, evidence = leadership_change(store, urn)
        kept = events.list_context_events(store, urn=urn, include_soft_intelligence=True)
    # Something heard, not established: kept for the officer, but it is not evidence for a category.
    assert status == NOT_ASSESSED
    assert "Heard the head is leaving" not in evidence
    assert "Heard the head is leaving" in set(kept.note)


# -- command line ----------------------------------------------------------------------------------


def test_the_command_line_records_lists_and_withdraws(writable_demo_path: Path) -> None:
    db_path = str(writable_demo_path)
    added = run_cli(
        "add-event", "--db", db_path, "--urn", str(SCHOOL), "--date", LAST_MONTH.isoformat(),
        "--kind", "governor_vacancies", "--note", "Chair resigned", "--by", "J Smith", "--json",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    event = json.loads(added.stdout)["event"]
    assert (event["kind"], event["note"], event["recorded_by"], event["source"]) == (
        "governor_vacancies",
        "Chair resigned",
        "J Smith",
        "public",
    )
    soft = run_cli(
        "add-event", "--db", db_path, "--urn", str(SCHOOL), "--date", LAST_MONTH.isoformat(),
        "--kind", "staff_turnover", "--note", "Rumours of resignations", "--soft", "--json",
    )  # fmt: skip
    assert soft.returncode == 0, soft.stderr
    soft_id = json.loads(soft.stdout)["event_id"]

    listed = json.loads(run_cli("events", "--db", db_path, "--urn", str(SCHOOL), "--json").stdout)["events"]
    assert event["event_id"] in [e["event_id"] for e in listed]
    assert soft_id not in [e["event_id"] for e in listed], "soft intelligence is left out unless asked for"
    text = run_cli("events", "--db", db_path, "--urn", str(SCHOOL), "--include-soft").stdout
    assert "Rumours of resignations (soft intelligence)" in text

    withdrawn = run_cli("withdraw-event", str(event["event_id"]), "--db", db_path, "--by", "K Jones")
    assert withdrawn.returncode == 0, withdrawn.stderr
    history = json.loads(run_cli("events", "--db", db_path, "--urn", str(SCHOOL), "--json").stdout)["events"]
    mine = next(e for e in history if e["event_id"] == event["event_id"])
    assert (mine["status"], mine["withdrawn_by"]) == ("withdrawn", "K Jones")
    again = run_cli("withdraw-event", str(event["event_id"]), "--db", db_path)
    assert again.returncode == 2 and "already withdrawn" in again.stderr


def test_the_command_line_refuses_a_misspelt_kind_without_a_traceback(writable_demo_path: Path) -> None:
    before = count_events(writable_demo_path)
    done = run_cli(
        "add-event", "--db", str(writable_demo_path), "--urn", str(SCHOOL), "--date", "2025-01-01",
        "--kind", "budget defecit",
    )  # fmt: skip
    assert done.returncode == 2
    assert "Did you mean 'budget_deficit'" in done.stderr
    assert "Traceback" not in done.stderr
    assert count_events(writable_demo_path) == before


# -- import ----------------------------------------------------------------------------------------

MESSY_CSV = (
    " urn ;DATE;Event;Notes;Source\n"
    f"{SCHOOL};14/03/2025;Change of Headteacher;Acting head from April;\n"
    f"{SCHOOL};2025-05-02;BUDGET DEFICIT;;public\n"
    ";;;;\n"
    f"{OTHER_SCHOOL};1 June 2025;staff turnover;Parents report teachers leaving;Soft intelligence\n"
    f"{OTHER_SCHOOL};1 June 2025;staff turnover;Parents report teachers leaving;Soft intelligence\n"
)


def test_a_messy_csv_is_imported_and_can_be_undone(writable_demo_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(MESSY_CSV, encoding="utf-8")
    before = count_events(writable_demo_path)
    with Store(writable_demo_path) as store:
        preview = preview_context_events(store, path)
        assert preview.ok, [str(p) for p in preview.problems]
        assert store.count_rows("context_events") == before, "a preview writes nothing"
        summary = import_context_events(store, path, imported_by="J Smith")
        recorded = events.list_context_events(store, include_soft_intelligence=True)
        mine = recorded[recorded.import_id == summary.import_id].sort_values("event_date")
        assert summary.recorded == 3
        assert preview.skipped == ["Row 6 repeats row 5."]
        assert [(r.urn, r.event_date, r.kind, r.source) for r in mine.itertuples()] == [
            (SCHOOL, date(2025, 3, 14), "headteacher_change", "public"),
            (SCHOOL, date(2025, 5, 2), "budget_deficit", "public"),
            (OTHER_SCHOOL, date(2025, 6, 1), "staff_turnover", "soft_intelligence"),
        ]
        assert set(mine.recorded_by) == {"J Smith"}
        logged = store.read("SELECT target, imported_by FROM imports_log WHERE import_id = ?", [summary.import_id])
        assert logged.to_dict(orient="records") == [{"target": "context_events", "imported_by": "J Smith"}]

        assert undo_context_events_import(store, summary.import_id, undone_by="J Smith") == 3
        after = events.list_context_events(store, include_soft_intelligence=True)
        assert set(after[after.import_id == summary.import_id].status) == {"withdrawn"}, "the history keeps them"
        assert store.scalar("SELECT undone_at FROM imports_log WHERE import_id = ?", [summary.import_id])
        with pytest.raises(InsightError, match="already undone"):
            undo_context_events_import(store, summary.import_id)
        # Undone, the same rows can be imported again.
        assert import_context_events(store, path).recorded == 3


def test_an_import_with_problems_writes_nothing_and_says_where(writable_demo_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "URN,Date,Kind,Note\n"
        f"{SCHOOL},2025-03-14,headteacher_change,Fine row\n"
        f"{SCHOOL},2025-03-14,headteacher chnage,Misspelt\n"
        f"{SCHOOL},14th of March,building_works,Bad date\n"
        f"123,2025-03-14,building_works,Unknown school\n"
        f"{SCHOOL},{(TODAY + timedelta(days=7)).isoformat()},building_works,Next week\n",
        encoding="utf-8",
    )
    before, imports_before = count_events(writable_demo_path), count_imports(writable_demo_path)
    with Store(writable_demo_path) as store:
        preview = preview_context_events(store, path)
        with pytest.raises(ImportValidationError):
            import_context_events(store, path)
    problems = {(p.row, p.column): p.message for p in preview.problems}
    assert set(problems) == {(3, "Kind"), (4, "Date"), (5, "URN"), (6, "Date")}
    assert "Did you mean 'headteacher_change'" in problems[3, "Kind"]
    assert "not a date" in problems[4, "Date"]
    assert "no school with URN 123" in problems[5, "URN"]
    assert "in the future" in problems[6, "Date"]
    assert (count_events(writable_demo_path), count_imports(writable_demo_path)) == (before, imports_before)

    done = run_cli("import-events", str(path), "--db", str(writable_demo_path))
    assert done.returncode == 2
    assert "Row 3, column Kind" in done.stderr and "Did you mean 'headteacher_change'" in done.stderr
    assert count_events(writable_demo_path) == before


def test_a_file_without_the_columns_says_which_are_missing(writable_demo_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(f"School,When it happened\n{SCHOOL},2025-01-01\n", encoding="utf-8")
    with Store(writable_demo_path, read_only=True) as store:
        preview = preview_context_events(store, path)
    messages = " ".join(p.message for p in preview.problems)
    assert "There is no urn column" in messages and "There is no kind column" in messages


def events_workbook(path: Path, kind: str) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(["Urn", "date", "KIND", "Note", "Comments from the LA"])
    sheet.append([SCHOOL, datetime(2025, 2, 3), kind, "Windows replaced", "ignored"])
    sheet.append([OTHER_SCHOOL, datetime(2025, 2, 4), "Serious incident", None, None])
    book.save(path)
    return path


def test_an_excel_file_is_imported_by_the_command_line(writable_demo_path: Path, tmp_path: Path) -> None:
    before = count_events(writable_demo_path)
    misspelt = events_workbook(tmp_path / "misspelt.xlsx", "bulding works")
    refused = run_cli("import-events", str(misspelt), "--db", str(writable_demo_path), "--json")
    assert refused.returncode == 2
    problems = json.loads(refused.stdout)["problems"]
    assert [(p["row"], p["column"]) for p in problems] == [(2, "KIND")]
    assert "Did you mean 'building_works'" in problems[0]["message"]
    assert count_events(writable_demo_path) == before

    fixed = events_workbook(tmp_path / "fixed.xlsx", "Building works")
    dry = run_cli("import-events", str(fixed), "--db", str(writable_demo_path), "--dry-run", "--soft", "--json")
    assert dry.returncode == 0, dry.stderr
    assert "The column 'Comments from the LA' is not used." in json.loads(dry.stdout)["warnings"]
    assert count_events(writable_demo_path) == before
    done = run_cli("import-events", str(fixed), "--db", str(writable_demo_path), "--soft", "--by", "J", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["recorded"], summary["soft_intelligence"]) == (2, 2)
    with Store(writable_demo_path, read_only=True) as store:
        mine = events.list_context_events(store, include_soft_intelligence=True)
        mine = mine[mine.import_id == summary["import_id"]].sort_values("event_date")
    assert list(zip(mine.event_date, mine.kind, strict=True)) == [
        (date(2025, 2, 3), "building_works"),
        (date(2025, 2, 4), "serious_incident"),
    ]
    undone = run_cli("import-events", "--undo", str(summary["import_id"]), "--db", str(writable_demo_path))
    assert undone.returncode == 0, undone.stderr
    assert "2 events withdrawn" in undone.stdout


# -- the store -------------------------------------------------------------------------------------


def test_an_older_stores_events_are_kept_as_public(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "old.duckdb"
    with monkeypatch.context() as older:
        older.setattr(db, "MIGRATIONS", db.MIGRATIONS[:7])
        older.setattr(db, "LATEST_SCHEMA_VERSION", 7)
        with Store(path) as store, store.transaction() as cur:
            cur.execute("INSERT INTO schools (urn, name, phase) VALUES (100001, 'Old School', 'Primary')")
            (old_id,) = cur.execute(
                "INSERT INTO context_events (urn, event_date, kind, note) "
                "VALUES (100001, DATE '2024-05-01', 'budget_deficit', 'Deficit') RETURNING event_id"
            ).fetchone()
    with Store(path) as store:
        kept = events.list_context_events(store)
        new_id = events.record_context_event(store, 100001, "2024-06-01", "building_works", recorded_by="J")
        with pytest.raises(Exception, match="CHECK constraint"), store.transaction() as cur:
            cur.execute(
                "INSERT INTO context_events (urn, event_date, kind, source) "
                "VALUES (100001, DATE '2024-06-01', 'budget_deficit', 'gossip')"
            )
    assert kept[["event_id", "kind", "note", "source", "status"]].to_dict(orient="records") == [
        {"event_id": old_id, "kind": "budget_deficit", "note": "Deficit", "source": "public", "status": "recorded"}
    ]
    assert new_id > old_id, "new events do not reuse an older store's ids"


# -- the profile panel -----------------------------------------------------------------------------


def panel_app(path: str, urn: int, presenter: bool) -> None:
    # AppTest runs this function's source alone, so it imports what it uses.
    from datetime import date

    import streamlit as st

    from app_pages import shared
    from app_pages.context_events_panel import render_context_events

    # The panel runs inside a page, after app.py has chosen the store (the test sets it) and the selection.
    st.session_state["_selection"] = shared.Selection(None, "All schools", None, date.today(), presenter)
    render_context_events(path, urn, presenter)


def test_the_panel_records_and_hides_what_a_shared_screen_must_not_show(
    writable_demo_path: Path, fresh_caches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(db.DB_ENV_VAR, str(writable_demo_path))
    with Store(writable_demo_path) as store:
        urn = int(store.scalar("SELECT min(urn) FROM schools ANTI JOIN context_events USING (urn)"))
        withdrawn = events.record_context_event(store, urn, LAST_MONTH, "budget_deficit", "Typo", recorded_by="J")
        events.withdraw_context_event(store, withdrawn, withdrawn_by="J")
        events.record_context_event(store, urn, LAST_MONTH, "headteacher_change", "Public note", recorded_by="J")

    app = AppTest.from_function(panel_app, args=(str(writable_demo_path), urn, False), default_timeout=60)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    form_kind = next(s for s in app.selectbox if s.label == "What happened")
    form_kind.set_value("staff_turnover")
    next(a for a in app.text_area if a.label == "Note").set_value("Heard staff are unhappy")
    next(c for c in app.checkbox if c.label.startswith("Soft intelligence")).check()
    next(t for t in app.text_input if t.label == "Recorded by").set_value("A Officer")
    next(b for b in app.button if b.label == "Record event").click()
    app.run()
    assert not app.error, [e.value for e in app.error]
    table = app.dataframe[0].value.set_index("Note")
    assert table.loc["Heard staff are unhappy", "Source"] == "Soft intelligence"
    assert table.loc["Typo", "Status"].startswith("Withdrawn")

    shared_screen = AppTest.from_function(panel_app, args=(str(writable_demo_path), urn, True), default_timeout=60)
    shared_screen.run()
    assert not shared_screen.exception, [e.value for e in shared_screen.exception]
    shown = shared_screen.dataframe[0].value
    assert list(shown.columns) == ["Year", "What"], "no notes, and no day, in presenter mode"
    assert list(shown.What) == ["Change of headteacher"], "no soft intelligence, no withdrawn events"
    assert list(shown.Year) == [format_academic_year(academic_year_of(LAST_MONTH))]
    assert not shared_screen.button, "no forms on a shared screen"
