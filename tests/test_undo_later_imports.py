"""Undoing an import leaves what a later import changed as the later import left it, and says so.

Real Hampshire KS2 files (tests/data/real) go through the command line: a store holds the 2018/19 file without one
school; import A is the full file with revised figures (it adds that school and changes two figures); import B then
revises one of A's figures again, a figure A added, and one A never touched. Every input only adds information, so
undoing A must not destroy B's figures, and undoing both (in either order) must give back the store as it was.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from analytics.__main__ import main
from analytics.store import db
from analytics.store.db import Store
from tests.test_import_dfe import KS2, REAL_DATA

pytestmark = pytest.mark.skipif(not REAL_DATA.is_dir(), reason=f"the real sample files are not at {REAL_DATA}")

ANSTEY, BALKSBURY, PORTWAY, ANTON = 115851, 115852, 115853, 115854
YEAR = 2019


def edited(cells: dict[tuple[int, str], str], drop_urn: int | None = None) -> bytes:
    """The 2018/19 file with some cells replaced (by URN and heading) and, if asked, one school left out."""
    records = list(csv.reader(io.StringIO(KS2[2].read_text(encoding="utf-8-sig"))))
    headings = records[0]
    at_urn = headings.index("URN")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headings)
    for row in records[1:]:
        if drop_urn is not None and row[at_urn] == str(drop_urn):
            continue
        for (urn, heading), value in cells.items():
            if row[at_urn] == str(urn):
                row[headings.index(heading)] = value
        writer.writerow(row)
    return out.getvalue().encode()


def run_cli(*argv: str) -> tuple[int, str]:
    """``python -m analytics ARGV`` in this process; its exit code and what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def stored_hash(path: Path) -> str:
    """:meth:`Store.content_hash` over every data table but the imports log and the audit log (which record the
    imports and undos themselves: they only ever grow)."""
    digest = hashlib.sha256()
    with Store(path, read_only=True) as store:
        for table in db.DATA_TABLES:
            if table in ("imports_log", "audit_log"):
                continue
            frame = store.read(f'SELECT * FROM "{table}"').drop(columns=["imported_at"], errors="ignore")
            frame = frame.sort_values(list(frame.columns), na_position="first").reset_index(drop=True)
            digest.update(table.encode() + frame.to_csv(index=False, lineterminator="\n").encode())
    return digest.hexdigest()


def figure(path: Path, urn: int, code: str = "ks2_rwm_exp") -> float | None:
    with Store(path, read_only=True) as store:
        frame = store.read(
            "SELECT value FROM results WHERE urn = ? AND measure_code = ? AND academic_year = ? AND subgroup = 'all'",
            [urn, code, YEAR],
        )
    return None if frame.empty else float(frame.value[0])


def school_results(path: Path, urn: int) -> int:
    with Store(path, read_only=True) as store:
        return int(store.scalar("SELECT count(*) FROM results WHERE urn = ? AND academic_year = ?", [urn, YEAR]))


@pytest.fixture
def imported(tmp_path: Path) -> Callable[[str], tuple[Path, int, int, str]]:
    """A store with the 2018/19 file without Anton Junior, then imports A and B; returns the store's path, A's and
    B's ids, and the hash of the store before A."""

    def build(label: str) -> tuple[Path, int, int, str]:
        path = tmp_path / f"{label}.duckdb"
        assert run_cli("init", "--db", str(path))[0] == 0
        files = {
            "base.csv": edited({}, drop_urn=ANTON),
            # A revises Anstey (63% -> 64%) and Balksbury (59% -> 61%), and adds Anton Junior (60%).
            "a.csv": edited({(ANSTEY, "PTRWM_EXP"): "64%", (BALKSBURY, "PTRWM_EXP"): "61%"}),
            # B revises Anstey again (66%), Anton Junior (70%) and Portway (52% -> 55%), a school A left alone.
            "b.csv": edited(
                {(ANSTEY, "PTRWM_EXP"): "66%", (BALKSBURY, "PTRWM_EXP"): "61%", (ANTON, "PTRWM_EXP"): "70%"}
                | {(PORTWAY, "PTRWM_EXP"): "55%"}
            ),
        }
        ids = []
        for name, data in files.items():
            file = tmp_path / f"{label}-{name}"
            file.write_bytes(data)
            if name == "a.csv":
                before = stored_hash(path)
            code, out = run_cli("import", str(file), "--db", str(path), "--json")
            assert code == 0, out
            ids.append(json.loads(out)["import_id"])
        return path, ids[1], ids[2], before

    return build


def test_undoing_an_earlier_import_keeps_what_a_later_import_changed(imported) -> None:
    path, a, b, _ = imported("store")
    assert (figure(path, ANSTEY), figure(path, BALKSBURY), figure(path, ANTON)) == (66, 61, 70)
    anton_rows = school_results(path, ANTON)
    assert anton_rows > 10

    code, out = run_cli("import", "--undo", str(a), "--db", str(path), "--json")
    assert code == 0, out
    payload = json.loads(out)
    # B's figures stay: Anstey's 66% (B changed A's 64%) and Anton's 70% (B changed a figure A added).
    assert figure(path, ANSTEY) == 66 and figure(path, ANTON) == 70 and figure(path, PORTWAY) == 55
    # A's own revision of Balksbury, which B did not change, goes back to the published 59%.
    assert figure(path, BALKSBURY) == 59
    # Anton's other rows were A's alone and go; the one B changed stays.
    assert school_results(path, ANTON) == 1
    assert payload["kept_later"] == 2
    kept = {(e["urn"], e["measure_code"], e["academic_year"], e["subgroup"]): e for e in payload["kept_examples"]}
    assert set(kept) == {(ANSTEY, "ks2_rwm_exp", YEAR, "all"), (ANTON, "ks2_rwm_exp", YEAR, "all")}
    assert all(e["later_import_id"] == b for e in kept.values())
    assert kept[ANSTEY, "ks2_rwm_exp", YEAR, "all"]["value"] == 66

    code, text = run_cli("import", "--undo", str(b), "--db", str(path), "--dry-run")
    assert code == 0, text
    with Store(path, read_only=True) as store:
        assert store.scalar("SELECT undone_at IS NULL FROM imports_log WHERE import_id = ?", [b])


def test_the_undo_message_names_the_rows_a_later_import_changed(imported) -> None:
    path, a, b, _ = imported("store")
    code, text = run_cli("import", "--undo", str(a), "--db", str(path))
    assert code == 0, text
    assert f"2 rows that import {b} changed later were left as import {b} left them" in text
    assert "115851" in text


def test_a_dry_run_undo_says_what_it_would_keep_and_writes_nothing(imported) -> None:
    path, a, _, _ = imported("store")
    before = stored_hash(path)
    code, out = run_cli("import", "--undo", str(a), "--db", str(path), "--dry-run", "--json")
    assert code == 0, out
    payload = json.loads(out)
    assert payload["dry_run"] and payload["kept_later"] == 2 and payload["rows"] > 0
    assert stored_hash(path) == before
    with Store(path, read_only=True) as store:
        assert store.scalar("SELECT undone_at IS NULL FROM imports_log WHERE import_id = ?", [a])


def test_undoing_the_earlier_then_the_later_import_gives_back_the_store(imported) -> None:
    path, a, b, before = imported("store")
    assert run_cli("import", "--undo", str(a), "--db", str(path))[0] == 0
    code, out = run_cli("import", "--undo", str(b), "--db", str(path), "--json")
    assert code == 0, out
    assert json.loads(out)["kept_later"] == 0
    # Undoing B does not bring back A's 64% or A's Anton Junior: both imports are out.
    assert figure(path, ANSTEY) == 63 and figure(path, ANTON) is None and figure(path, PORTWAY) == 52
    assert stored_hash(path) == before


def test_undoing_the_later_then_the_earlier_import_gives_back_the_store(imported) -> None:
    path, a, b, before = imported("store")
    code, out = run_cli("import", "--undo", str(b), "--db", str(path), "--json")
    assert code == 0, out
    assert json.loads(out)["kept_later"] == 0
    assert (figure(path, ANSTEY), figure(path, ANTON), figure(path, PORTWAY)) == (64, 60, 52)
    assert run_cli("import", "--undo", str(a), "--db", str(path))[0] == 0
    assert figure(path, ANSTEY) == 63 and figure(path, BALKSBURY) == 59
    assert stored_hash(path) == before


def test_results_from_other_years_are_untouched_by_either_undo(imported) -> None:
    path, a, b, _ = imported("store")
    with Store(path, read_only=True) as store:
        other = store.read("SELECT * FROM results WHERE academic_year <> ? ORDER BY ALL", [YEAR])
    for import_id in (a, b):
        assert run_cli("import", "--undo", str(import_id), "--db", str(path))[0] == 0
    with Store(path, read_only=True) as store:
        pd.testing.assert_frame_equal(
            store.read("SELECT * FROM results WHERE academic_year <> ? ORDER BY ALL", [YEAR]), other
        )


def test_the_import_page_says_which_rows_a_later_import_changed(imported, monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st

    from tests.test_pages import open_app

    path, a, b, _ = imported("store")
    app = open_app(path, monkeypatch, "app_pages/data.py")
    assert not app.exception, [e.value for e in app.exception]
    app.button(key=f"undo_{a}").click().run()
    assert not app.exception, [e.value for e in app.exception]
    st.cache_resource.clear()
    said = " ".join(w.value for w in app.warning)
    assert f"2 rows that import {b} changed later were left as import {b} left them" in said
    assert "urn 115851" in said
    assert figure(path, ANSTEY) == 66


def test_a_school_an_undone_import_added_and_a_later_one_renamed_goes_with_the_later_one(tmp_path: Path) -> None:
    """GIAS extract A adds three schools; extract B renames one. Undoing A keeps B's name (and says so); undoing B
    then leaves the store as it was before A: no school of an undone import stays behind."""
    from tests.test_import_dfe import SCHOOLS

    path = tmp_path / "gias.duckdb"
    assert run_cli("init", "--db", str(path))[0] == 0
    before = stored_hash(path)
    ids = []
    for name, text in (("a.csv", SCHOOLS), ("b.csv", SCHOOLS.replace("Beta High", "Beta Academy"))):
        (tmp_path / name).write_text(text)
        code, out = run_cli("import", str(tmp_path / name), "--db", str(path), "--json")
        assert code == 0, out
        ids.append(json.loads(out)["import_id"])
    code, out = run_cli("import", "--undo", str(ids[0]), "--db", str(path), "--json")
    assert code == 0, out
    payload = json.loads(out)
    assert payload["kept_later"] == 1 and payload["kept_by_table"] == {"schools": 1}
    assert payload["kept_examples"] == [{"table": "schools", "urn": 100002, "later_import_id": ids[1]}]
    with Store(path, read_only=True) as store:
        assert list(store.read("SELECT name FROM schools").name) == ["Beta Academy"]
    assert run_cli("import", "--undo", str(ids[1]), "--db", str(path))[0] == 0
    assert stored_hash(path) == before
