"""Retention: erasing a questionnaire respondent on request, and keeping the audit log N years
(analytics.privacy.retention, the ``erase-respondent`` and ``retention`` commands)."""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from scipy import stats

from analytics.__main__ import main as cli
from analytics.privacy import retention
from analytics.store.db import Store

# A pupil questionnaire as a project lead keeps it: a sheet per wave, pupils by name, a pupil-group column.
PUPILS = ["Maya Patel", "Oliver Brown", "Zainab Hussain", "Jack Wilson", "Amelia Clarke", "Noah Evans"] + [
    f"Pupil {k}" for k in range(7, 21)
]
ERASED = "Zainab Hussain"


def questionnaire(tmp_path: Path, seed: int = 5) -> tuple[Path, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    before = rng.integers(1, 5, size=len(PUPILS))
    after = np.clip(before + rng.integers(0, 3, size=len(PUPILS)), 1, 5)
    book = openpyxl.Workbook()
    book.remove(book.active)
    for wave, values in (("Autumn", before), ("Summer", after)):
        sheet = book.create_sheet(wave)
        sheet.append(["Name", "Pupil premium", "I enjoy reading at home"])
        for k, (who, value) in enumerate(zip(PUPILS, values, strict=True)):
            sheet.append([who, "Yes" if k % 3 == 0 else "No", int(value)])
    buffer = io.BytesIO()
    book.save(buffer)
    path = tmp_path / "reading attitudes.xlsx"
    path.write_bytes(buffer.getvalue())
    return path, {"before": before, "after": after}


def run(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, dict]:
    code = cli([*args, "--json"])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else {"stderr": err}


@pytest.fixture
def imported(empty_store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture):
    path, values = questionnaire(tmp_path)
    code, summary = run(capsys, "import-survey", str(path), "--db", str(empty_store_path), "--scale", "1-5")
    assert code == 0, summary
    return empty_store_path, path, values, summary["survey_id"]


def every_text(store: Store) -> str:
    """Every value of every table, as text: what a copy of the store file would give away."""
    from analytics.store.db import DATA_TABLES

    return "\n".join(store.read(f'SELECT * FROM "{table}"').to_csv() for table in DATA_TABLES)


def test_erasing_by_name_removes_every_answer_and_group_and_the_results_follow(
    imported, capsys: pytest.CaptureFixture
) -> None:
    path, _, values, survey_id = imported
    with Store(path, read_only=True) as store:
        answers_before = store.count_rows("survey_responses")
        groups_before = store.count_rows("survey_respondent_groups")
    code, erased = run(
        capsys, "erase-respondent", "--respondent", "zainab  HUSSAIN", "--reason", "request of 2 Dec", "--db", str(path)
    )
    assert code == 0, erased
    assert erased["answers_erased"] == 2 and erased["groups_erased"] == 1
    assert [s["survey_id"] for s in erased["surveys"]] == [survey_id]
    with Store(path, read_only=True) as store:
        assert store.count_rows("survey_responses") == answers_before - 2
        assert store.count_rows("survey_respondent_groups") == groups_before - 1
        assert "Zainab" not in every_text(store) and "Hussain" not in every_text(store)
        entry = store.read("SELECT * FROM audit_log WHERE action = 'respondent.erase'")
    assert len(entry) == 1 and "2 answers" in entry.what[0]
    assert json.loads(entry.details[0])["reason"] == "request of 2 Dec"
    # The before/after comparison now has one pair fewer, and its t-test is scipy's on the others.
    code, rows = run(capsys, "prepost", str(survey_id), "--db", str(path))
    item = next(r for r in rows if r["kind"] == "item")
    keep = np.array([who != ERASED for who in PUPILS])
    assert item["n_pairs"] == keep.sum() == len(PUPILS) - 1
    expected = stats.ttest_rel(values["after"][keep], values["before"][keep])
    assert item["p_value"] == pytest.approx(expected.pvalue, rel=1e-9)


def test_importing_the_file_again_leaves_the_erased_person_out_and_says_so(
    imported, capsys: pytest.CaptureFixture
) -> None:
    path, file, _, _ = imported
    assert run(capsys, "erase-respondent", "--respondent", ERASED, "--reason", "request", "--db", str(path))[0] == 0
    with Store(path, read_only=True) as store:
        answers_before = store.count_rows("survey_responses")
    code, again = run(capsys, "import-survey", str(file), "--db", str(path), "--scale", "1-5", "--replace")
    assert code == 0, again
    warnings = " ".join(w["message"] for w in again["warnings"])
    assert "1 respondent was erased on request" in warnings and "2 answers" in warnings
    assert again["matched_pairs"] == len(PUPILS) - 1
    with Store(path, read_only=True) as store:
        # The replaced import's answers went and the new one's came, without the erased person's.
        assert store.count_rows("survey_responses") == answers_before


def test_an_unknown_person_an_empty_reason_or_a_second_erasure_changes_nothing(
    imported, capsys: pytest.CaptureFixture
) -> None:
    path = imported[0]
    with Store(path, read_only=True) as store:
        before = store.content_hash()
    code, refused = run(capsys, "erase-respondent", "--respondent", "Nobody Known", "--reason", "x", "--db", str(path))
    assert code != 0 and "No answers are stored for that name" in refused["error"]["message"]
    code, refused = run(capsys, "erase-respondent", "--pseudonym", "Zainab", "--reason", "x", "--db", str(path))
    assert code != 0 and "not a respondent pseudonym" in refused["error"]["message"]
    code, refused = run(capsys, "erase-respondent", "--respondent", ERASED, "--reason", " ", "--db", str(path))
    assert code != 0 and "Say why" in refused["error"]["message"]
    with Store(path, read_only=True) as store:
        assert store.content_hash() == before
    assert run(capsys, "erase-respondent", "--respondent", ERASED, "--reason", "request", "--db", str(path))[0] == 0
    code, again = run(capsys, "erase-respondent", "--respondent", ERASED, "--reason", "request", "--db", str(path))
    assert code != 0 and "already erased" in again["error"]["message"]


def test_a_viewer_may_not_erase(imported, capsys: pytest.CaptureFixture) -> None:
    path = imported[0]
    for email, role in (("admin@example.org", "admin"), ("viewer@example.org", "viewer")):
        assert run(capsys, "users", "add", email, "--role", role, "--by", "setup", "--db", str(path))[0] == 0
    erase = ["erase-respondent", "--respondent", ERASED, "--reason", "x", "--db", str(path)]
    code, refused = run(capsys, *erase, "--as", "viewer@example.org")
    assert code != 0 and "may not manage users" in refused["stderr"]
    code, done = run(capsys, *erase, "--as", "admin@example.org")
    assert code == 0, done
    with Store(path, read_only=True) as store:
        assert store.scalar("SELECT who FROM audit_log WHERE action = 'respondent.erase'") == "admin@example.org"


def test_erasure_by_pseudonym_works_after_the_key_is_rotated(imported, capsys: pytest.CaptureFixture) -> None:
    path = imported[0]
    assert run(capsys, "rotate-key", "--db", str(path))[0] == 0
    code, refused = run(capsys, "erase-respondent", "--respondent", ERASED, "--reason", "x", "--db", str(path))
    assert code != 0 and "rotated" in refused["error"]["message"]
    with Store(path, read_only=True) as store:
        pseudonym = store.scalar("SELECT min(respondent) FROM survey_responses")
    code, done = run(capsys, "erase-respondent", "--pseudonym", pseudonym.lower(), "--reason", "x", "--db", str(path))
    assert code == 0 and done["answers_erased"] == 2


# -- the audit log's retention -----------------------------------------------------------------------


def age_entries(path: Path, days_ago: list[int]) -> None:
    with Store(path) as store, store.transaction() as cur:
        for k, days in enumerate(days_ago):
            cur.execute(
                "INSERT INTO audit_log (acted_at, who, action, what) VALUES (?, 'old.officer@example.org', "
                "'decision.record', ?)",
                [datetime(2026, 12, 2) - np.timedelta64(days, "D").item(), f"old entry {k}"],
            )


def test_retention_removes_only_older_entries_when_applied_and_records_it(
    empty_store_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = empty_store_path
    # Six years is 2020-12-02 .. 2026-12-02: 2,190 days back is kept (2020-12-03), 2,200 is not.
    age_entries(path, [10, 2190, 2200, 4000])
    code, shown = run(capsys, "retention", "--db", str(path))
    assert code == 0 and shown["audit_retention_years"] is None and shown["older_entries"] == 0
    code, set_ = run(capsys, "retention", "--audit-years", "6", "--by", "DPO", "--db", str(path))
    assert code == 0 and set_["audit_retention_years"] == 6
    with Store(path) as store:
        assert retention.expired_audit_entries(store, date(2026, 12, 2)) == (2, date(2020, 12, 2))
        assert store.count_rows("audit_log") == 5  # nothing removed by setting it
        result = retention.apply_audit_retention(store, applied_by="DPO", today=date(2026, 12, 2))
        left = store.read("SELECT what, action FROM audit_log ORDER BY id")
    assert result["removed"] == 2
    assert {"old entry 0", "old entry 1"} <= set(left.what)
    assert not {"old entry 2", "old entry 3"} & set(left.what)
    assert left.action.tolist()[-2:] == ["audit.retention", "audit.prune"]
    assert "Removed 2 audit entries from before 02 December 2020" in left.what.iloc[-1]


def test_retention_must_be_set_before_it_is_applied_and_within_range(
    empty_store_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = empty_store_path
    age_entries(path, [5000])
    code, refused = run(capsys, "retention", "--apply", "--db", str(path))
    assert code != 0 and "kept for good" in refused["error"]["message"]
    code, refused = run(capsys, "retention", "--audit-years", "0", "--db", str(path))
    assert code != 0 and "between 1 and 100" in refused["error"]["message"]
    with Store(path, read_only=True) as store:
        assert store.count_rows("audit_log") == 1 and retention.audit_retention_years(store) is None


def test_a_leap_day_keeps_from_the_28th() -> None:
    assert retention.retention_cutoff(1, date(2028, 2, 29)) == date(2027, 2, 28)
    assert retention.retention_cutoff(6, date(2026, 12, 2)) == date(2020, 12, 2)


# -- the Users page ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("fresh_caches")
def test_an_administrator_erases_on_the_users_page_only_once_they_confirm(
    imported, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from analytics.store import db
    from tests.conftest import AUTH, REPO_ROOT

    path = imported[0]
    assert run(capsys, "users", "add", "dpo@example.org", "--role", "admin", "--by", "setup", "--db", str(path))[0] == 0
    st.cache_resource.clear()
    monkeypatch.setenv(db.DB_ENV_VAR, str(path))
    app = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
    app.secrets["auth"] = AUTH
    app.user = {"is_logged_in": True, "email": "dpo@example.org", "name": "Data Protection"}
    app.switch_page("app_pages/users.py").run()
    next(t for t in app.text_input if t.label.startswith("Name or code")).set_value(ERASED)
    next(t for t in app.text_input if t.label == "Why" and t.key and t.key.startswith("erase")).set_value("request")
    erase = next(b for b in app.button if b.label == "Erase their answers")
    erase.click().run()
    assert any("cannot be undone" in e.value for e in app.error)
    with Store(path) as store:  # as the app opens it: one process, one configuration per file
        assert store.count_rows("erased_respondents") == 0
    next(c for c in app.checkbox if c.label.startswith("I understand")).check()
    next(b for b in app.button if b.label == "Erase their answers").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("Erased 2 answers" in s.value for s in app.success)
    with Store(path) as store:  # as the app opens it: one process, one configuration per file
        assert store.scalar("SELECT who FROM audit_log WHERE action = 'respondent.erase'") == "dpo@example.org"
    next(n for n in app.number_input if n.label.startswith("Years to keep")).set_value(6)
    next(b for b in app.button if b.label == "Save the retention").click().run()
    assert any("kept 6 years" in s.value for s in app.success)
    with Store(path) as store:  # as the app opens it: one process, one configuration per file
        assert retention.audit_retention_years(store) == 6
