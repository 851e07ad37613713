"""The command line reads a store another process (the app) holds open for writing, and never sees half a write.

Each test starts a second Python process that opens the store for writing, as the app does, and runs the real
command line beside it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from analytics.access import read_audit, record_audit
from analytics.store.db import Store

REPO = Path(__file__).resolve().parents[1]

# Opens the store for writing, records one audit entry, then (when told) starts a second write that holds its
# transaction open for a while before committing, then waits to be stopped.
HOLDER = textwrap.dedent(
    """
    import sys, time
    from analytics.access import record_audit
    from analytics.store.db import Store
    store = Store(sys.argv[1])
    record_audit(store, "holder", "test.first", "The first entry")
    print("open", flush=True)
    if sys.argv[2] == "slow-write":
        with store.transaction() as cur:
            cur.execute("INSERT INTO audit_log (who, action, what, urns, details) "
                        "VALUES ('holder', 'test.slow', 'The slow entry', '[]', '{}')")
            print("writing", flush=True)
            time.sleep(float(sys.argv[3]))
        print("committed", flush=True)
    sys.stdin.read()
    """
)


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "analytics", *args], capture_output=True, text=True, timeout=120, cwd=REPO, env=env
    )


@contextmanager
def holder(path: Path, *args: str) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), *(args or ("idle",))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "open"
        yield process
    finally:
        process.communicate("", timeout=60)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "partnership.duckdb"
    with Store(path) as store:
        record_audit(store, "officer", "test.before", "Made before the app started")
    return path


def test_a_command_reads_the_store_while_another_process_holds_it_open(store_path: Path, tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    with holder(store_path):
        info = run_cli("info", "--json", "--db", str(store_path), env=env)
        audit = run_cli("audit", "--json", "--db", str(store_path), env=env)
    assert info.returncode == 0, info.stderr
    assert json.loads(info.stdout)["counts"]["audit_log"] == 2
    assert audit.returncode == 0, audit.stderr
    assert "The first entry" in audit.stdout  # written by the holder, not yet checkpointed into the file
    # The copy it read is gone once the command ends.
    assert list(scratch.iterdir()) == []


def test_a_read_waits_for_a_write_under_way_and_sees_all_of_it(store_path: Path) -> None:
    with holder(store_path, "slow-write", "3") as process:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "writing"
        # Opened here rather than by a command, whose start-up could outlast the write.
        with Store(store_path, read_only=True) as store:
            assert store.reading_copy is not None
            actions = list(read_audit(store).action)
        assert process.stdout.readline().strip() == "committed"
    # Started while the write was under way, the read waited for its commit rather than seeing the store before it.
    assert actions == ["test.before", "test.first", "test.slow"]


def test_a_command_that_writes_is_still_refused_and_changes_nothing(store_path: Path) -> None:
    with holder(store_path):
        refused = run_cli("retention", "--audit-years", "3", "--by", "officer", "--db", str(store_path))
    assert refused.returncode == 2
    assert "open in another program" in refused.stderr
    assert "Traceback" not in refused.stderr
    with Store(store_path, read_only=True) as store:
        assert list(read_audit(store).action) == ["test.before", "test.first"]


def test_a_store_held_by_another_program_is_not_copied(store_path: Path) -> None:
    # A DuckDB shell or an older version of the app does not say when it writes, so a copy could catch half a
    # write: the command is refused, as it always was.
    program = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(store_path)!r}); print('open', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert program.stdout is not None
        assert program.stdout.readline().strip() == "open"
        refused = run_cli("info", "--db", str(store_path))
    finally:
        program.communicate("", timeout=60)
    assert refused.returncode == 2
    assert "open in another program" in refused.stderr


def test_the_store_opens_for_writing_again_once_the_app_has_stopped(store_path: Path) -> None:
    with holder(store_path):
        pass
    with Store(store_path) as store:
        record_audit(store, "officer", "test.after", "Made after the app stopped")
        assert list(read_audit(store).action)[-1] == "test.after"
    assert duckdb.connect(str(store_path), read_only=True).execute("SELECT count(*) FROM audit_log").fetchone() == (3,)
