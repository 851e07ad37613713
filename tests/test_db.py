"""The store: migrations, transactions, round trips and the messages people see when it cannot open."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics.demo import generate_demo, write_tables
from analytics.errors import SchemaTooNewError, StoreError
from analytics.store import db
from analytics.store.db import DATA_TABLES, LATEST_SCHEMA_VERSION, MIGRATIONS, Migration, Store


def test_migrations_apply_to_an_empty_file_and_are_recorded(tmp_path: Path) -> None:
    with Store(tmp_path / "new.duckdb") as store:
        applied = store.read("SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
        assert list(applied.version) == [m.version for m in MIGRATIONS]
        assert list(applied.name) == [m.name for m in MIGRATIONS]
        assert applied.applied_at.notna().all()
        for table in DATA_TABLES:
            assert store.count_rows(table) == 0


def test_migrating_again_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "store.duckdb"
    Store(path).close()
    with Store(path) as store:
        assert store.migrate() == []
        assert store.schema_version() == LATEST_SCHEMA_VERSION
        assert store.scalar("SELECT count(*) FROM schema_migrations") == len(MIGRATIONS)


def test_an_older_store_is_migrated_forward_on_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "old.duckdb"
    with Store(path) as store:
        write_tables(store, {"schools": pd.DataFrame({"urn": [100001], "name": ["Kept School"], "phase": ["Primary"]})})
    extra = Migration(LATEST_SCHEMA_VERSION + 1, "add_school_website", "ALTER TABLE schools ADD COLUMN website VARCHAR")
    monkeypatch.setattr(db, "MIGRATIONS", [*MIGRATIONS, extra])
    monkeypatch.setattr(db, "LATEST_SCHEMA_VERSION", extra.version)
    with Store(path) as store:
        assert store.schema_version() == extra.version
        kept = store.read("SELECT name, website FROM schools")
    assert kept.name.tolist() == ["Kept School"]
    assert kept.website.isna().all()


def test_a_failing_migration_leaves_the_store_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "store.duckdb"
    Store(path).close()
    broken = Migration(LATEST_SCHEMA_VERSION + 1, "broken", "CREATE TABLE half_done (x INTEGER); SELECT nonsense;")
    monkeypatch.setattr(db, "MIGRATIONS", [*MIGRATIONS, broken])
    monkeypatch.setattr(db, "LATEST_SCHEMA_VERSION", broken.version)
    with pytest.raises(StoreError, match="left at the version it had before"):
        Store(path)
    monkeypatch.undo()
    with Store(path) as store:
        assert store.schema_version() == LATEST_SCHEMA_VERSION
        assert store.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = 'half_done'") == 0


def test_a_store_from_a_newer_app_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "future.duckdb"
    Store(path).close()
    conn = duckdb.connect(str(path))
    conn.execute(
        "INSERT INTO schema_migrations (version, name) VALUES (?, 'from_the_future')", [LATEST_SCHEMA_VERSION + 5]
    )
    conn.close()
    with pytest.raises(SchemaTooNewError) as caught:
        Store(path)
    assert f"schema version {LATEST_SCHEMA_VERSION + 5}" in caught.value.message
    assert "Update the app" in caught.value.message


def test_a_file_that_is_not_a_store_gives_a_plain_message(tmp_path: Path) -> None:
    path = tmp_path / "report.duckdb"
    path.write_bytes(b"%PDF-1.7 this is really a PDF")
    with pytest.raises(StoreError, match="not a DuckDB file"):
        Store(path)
    assert path.read_bytes().startswith(b"%PDF"), "the file must be left untouched"


def test_read_only_open_of_a_missing_store_says_so(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no data store"):
        Store(tmp_path / "missing.duckdb", read_only=True)
    assert not (tmp_path / "missing.duckdb").exists()


def test_every_table_round_trips(tmp_path: Path) -> None:
    tables = generate_demo(seed=7).tables
    with Store(tmp_path / "round.duckdb") as store:
        write_tables(store, tables)
        for table, written in tables.items():
            read = store.read(f'SELECT {", ".join(written.columns)} FROM "{table}"')
            assert len(read) == len(written), table
            pd.testing.assert_frame_equal(
                _canonical(read), _canonical(written), check_dtype=False, check_exact=False, obj=table
            )


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """Same values whatever the container: dates as dates, numbers as floats, missing as None."""

    def normalise(value: object) -> object:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_):
            return float(value)
        return value

    out = frame.astype(object).map(normalise)
    return out.sort_values(list(out.columns), key=lambda s: s.astype(str)).reset_index(drop=True)


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    with Store(tmp_path / "store.duckdb") as store:
        before = store.data_version()
        with pytest.raises(duckdb.ConstraintException), store.transaction() as cur:
            cur.execute("INSERT INTO schools (urn, name, phase) VALUES (1, 'First', 'Primary')")
            cur.execute("INSERT INTO schools (urn, name, phase) VALUES (1, 'Duplicate URN', 'Primary')")
        assert store.count_rows("schools") == 0
        assert store.data_version() == before


def test_each_committed_write_moves_the_data_version_on(tmp_path: Path) -> None:
    with Store(tmp_path / "store.duckdb") as store:
        versions = [store.data_version()]
        for urn in (1, 2):
            with store.transaction() as cur:
                cur.execute("INSERT INTO schools (urn, name, phase) VALUES (?, ?, 'Primary')", [urn, f"School {urn}"])
            versions.append(store.data_version())
    assert versions == [0, 1, 2]


def test_a_records_write_moves_the_data_version_but_not_the_evidence_version(tmp_path: Path) -> None:
    with Store(tmp_path / "store.duckdb") as store:
        with store.transaction() as cur:
            cur.execute("INSERT INTO schools (urn, name, phase) VALUES (1, 'First', 'Primary')")
        data, evidence = store.data_version(), store.evidence_version()
        with store.transaction(db.RECORDS) as cur:
            cur.execute("INSERT INTO meetings (meeting_date, kind, title) VALUES (DATE '2026-11-20', 'board', 'A')")
        # Caches of trends and criteria survive a meeting's writes; those of the records do not.
        assert (store.data_version(), store.evidence_version()) == (data + 1, evidence)
        with store.transaction() as cur:
            cur.execute("INSERT INTO schools (urn, name, phase) VALUES (2, 'Second', 'Primary')")
        assert store.evidence_version() > evidence
        assert store.data_version() == data + 2
        with pytest.raises(ValueError, match="kind of write"), store.transaction("results"):
            pass


def test_queries_take_parameters_not_string_building(tmp_path: Path) -> None:
    hostile = "O'Brien'); DROP TABLE schools; --"
    with Store(tmp_path / "store.duckdb") as store:
        with store.transaction() as cur:
            cur.execute("INSERT INTO schools (urn, name, phase) VALUES (1, ?, 'Primary')", [hostile])
        assert store.scalar("SELECT name FROM schools WHERE name = ?", [hostile]) == hostile
        assert store.count_rows("schools") == 1


def test_read_only_store_refuses_writes(demo_store: Store) -> None:
    with pytest.raises(StoreError, match="read-only"), demo_store.transaction():
        pass


def test_content_hash_ignores_when_but_not_what(tmp_path: Path) -> None:
    frames = {"schools": pd.DataFrame({"urn": [1], "name": ["A"], "phase": ["Primary"]})}
    hashes = []
    for name in ("a.duckdb", "b.duckdb"):
        with Store(tmp_path / name) as store:
            write_tables(store, frames)
            with store.transaction() as cur:
                cur.execute(
                    "INSERT INTO imports_log (file_name, imported_at, target, outcome) VALUES ('f.csv', ?, 'x', 'ok')",
                    [dt.datetime.now()],
                )
            hashes.append(store.content_hash())
            with store.transaction() as cur:
                cur.execute("UPDATE schools SET name = 'B'")
            hashes.append(store.content_hash())
    assert hashes[0] == hashes[2]
    assert hashes[0] != hashes[1]


def test_integrity_check_finds_a_dangling_result(tmp_path: Path) -> None:
    with Store(tmp_path / "store.duckdb") as store:
        with store.transaction() as cur:
            cur.execute("INSERT INTO measures (code, label, unit, higher_is_better) VALUES ('m', 'M', '%', true)")
            cur.execute("INSERT INTO results (urn, measure_code, academic_year, value) VALUES (42, 'm', 2024, 1.0)")
        assert store.integrity_problems() == ["1 results without a school"]


def test_rows_written_with_explicit_ids_do_not_collide_with_new_ones(tmp_path: Path) -> None:
    meetings = pd.DataFrame(
        {"meeting_id": [1, 2, 7], "meeting_date": [dt.date(2026, 1, 1)] * 3, "kind": "board", "title": ["a", "b", "c"]}
    )
    with Store(tmp_path / "store.duckdb") as store:
        write_tables(store, {"meetings": meetings})
        with store.transaction() as cur:
            new_id = cur.execute(
                "INSERT INTO meetings (meeting_date, kind, title) VALUES (?, 'board', 'new') RETURNING meeting_id",
                [dt.date(2026, 2, 1)],
            ).fetchone()[0]
    assert new_id == 8


def board_member(store: Store, urn: int, failures: list[BaseException]) -> None:
    """A board member recording 25 decisions for ``urn`` as fast as they can; what fails is kept in ``failures``."""
    from analytics.monitoring.categories import record_decision

    for k in range(25):
        try:
            record_decision(store, urn=urn, category="2", reasons=f"review {k}", decided_by="Chair")
        except BaseException as error:
            failures.append(error)


def test_two_people_recording_decisions_at_once_both_save(writable_demo_path: Path) -> None:
    """Two sessions of the app share one store; overlapping writes used to abort each other (a shared counter
    row), losing a third of the saves. Every decision must now be kept, and the data version move on."""
    import threading

    with Store(writable_demo_path) as store:
        urns = store.read("SELECT urn FROM schools ORDER BY urn LIMIT 2").urn.astype(int).tolist()
        before_version = store.data_version()
        before = store.count_rows("category_decisions")
        failures: list[BaseException] = []

        people = [threading.Thread(target=board_member, args=(store, urn, failures)) for urn in urns]
        for person in people:
            person.start()
        for person in people:
            person.join()
        assert failures == []
        assert store.count_rows("category_decisions") == before + 50
        assert store.data_version() == before_version + 50


def test_a_commit_that_fails_reports_its_own_cause(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failed COMMIT (a full disk) must surface its own error, not 'cannot rollback - no transaction'."""
    with Store(tmp_path / "store.duckdb") as store:
        with pytest.raises(duckdb.Error) as raised, store.transaction() as cur:
            cur.execute("INSERT INTO schools (urn, name, phase) VALUES (1, 'First', 'Primary')")
            cur.execute("COMMIT")  # the transaction ends here, as a failed commit would end it
            cur.execute("SELECT * FROM no_such_table")
        assert "no_such_table" in str(raised.value)
        assert "cannot rollback" not in str(raised.value)


def test_an_import_running_while_others_save_decisions_loses_neither(tmp_path: Path) -> None:
    """The app is one process sharing one store: an officer's real KS2 import (seconds of writing) while two
    board members record decisions must end with the import and every decision saved."""
    import threading

    from analytics.imports import dfe

    real = Path(__file__).resolve().parent / "data" / "real"
    gias = real / "gias" / "gias-extract-20220420.csv"
    ks2 = real / "dfe-ks2-hampshire" / "ks2-850-2018-19.csv"
    if not (gias.exists() and ks2.exists()):
        pytest.skip(f"the real sample files are not in {real}")
    with Store(tmp_path / "store.duckdb") as store:
        dfe.run_import(store, gias)
        urns = store.read("SELECT urn FROM schools ORDER BY urn LIMIT 2").urn.astype(int).tolist()
        failures: list[BaseException] = []
        imported: list[object] = []

        def officer() -> None:
            try:
                imported.append(dfe.run_import(store, ks2))
            except BaseException as error:
                failures.append(error)

        members = [threading.Thread(target=board_member, args=(store, u, failures)) for u in urns]
        people = [threading.Thread(target=officer), *members]
        for person in people:
            person.start()
        for person in people:
            person.join()
        assert failures == []
        assert store.count_rows("category_decisions") == 50
        assert store.scalar("SELECT count(*) FROM results WHERE import_id IS NOT NULL") > 1000
        assert store.scalar("SELECT count(*) FROM imports_log WHERE undone_at IS NULL") == 2
