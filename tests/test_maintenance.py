"""Faults say what happened (issue 17, item 5): ``check``, ``backup`` and ``restore``, and a store that is cut short,
damaged, in use, in a folder that cannot be written or on a full disk: each a clear message naming the file and
what to do, never a traceback, and the original store left as it was. Also the hardened ``.streamlit/config.toml``.

Running as root, changing a folder's permissions stops nothing, so the read-only folder is a real read-only
mount made with ``unshare`` when the system allows it (skipped otherwise), and a ``chmod`` folder when not root.
A full disk is a file size limit (``RLIMIT_FSIZE``) set in the child process, with ``SIGXFSZ`` ignored so that
the write fails with an error rather than killing the process.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from analytics.privacy import agreements
from analytics.store.db import DATA_TABLES, Store
from analytics.store.maintenance import restore_store
from tests.browser import browser_page, running_app, wait_until_idle

REPO_ROOT = Path(__file__).resolve().parent.parent
BLOCK = 262_144  # DuckDB's block size; each block carries its own checksum
HEADERS = 3 * 4096  # the file header and the two database headers before the first block


def run_cli(*args: str, file_size_limit: int | None = None) -> subprocess.CompletedProcess[str]:
    def limit_file_size() -> None:
        # Ignored, SIGXFSZ no longer kills the process: the write that passes the limit fails with EFBIG instead.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run(
        [sys.executable, "-m", "analytics", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limit_file_size if file_size_limit is not None else None,
    )


def fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def content(path: Path) -> str:
    """What the store holds (the file's bytes may change when DuckDB tidies it), but the audit log, which
    gains an entry for each backup and restore (see :func:`audit_actions`)."""
    with Store(path) as store:
        return store.content_hash(leave_out=("audit_log",))


def audit_actions(path: Path) -> list[str]:
    with Store(path) as store:
        return store.read("SELECT action FROM audit_log ORDER BY id").action.tolist()


def leftovers(folder: Path, expected: set[str]) -> set[str]:
    return {p.name for p in folder.iterdir()} - expected


def assert_clear(done: subprocess.CompletedProcess[str], *phrases: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    for phrase in phrases:
        assert phrase in done.stderr, (phrase, done.stderr)


# -- check -------------------------------------------------------------------------------------------


def test_a_sound_store_is_read_in_full_and_reported_ok(writable_demo_path: Path) -> None:
    before = fingerprint(writable_demo_path)
    done = run_cli("check", "--db", str(writable_demo_path), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    with Store(writable_demo_path, read_only=True) as store:
        held = sum(store.info()["counts"].values())
    assert (report["status"], report["ok"], report["problems"]) == ("ok", True, [])
    assert report["tables_read"] >= len(DATA_TABLES) and report["rows_read"] >= held
    assert "OK" in run_cli("check", "--db", str(writable_demo_path)).stdout
    assert fingerprint(writable_demo_path) == before, "check opens the store read-only"


def test_a_truncated_store_is_reported_damaged_with_what_to_do(writable_demo_path: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "partnership.duckdb"
    data = writable_demo_path.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    before = fingerprint(truncated)
    done = run_cli("check", "--db", str(truncated))
    assert_clear(done, str(truncated), "cut short", f"restore --from BACKUP --db {truncated} --replace")
    assert "cannot be read" in done.stderr
    assert fingerprint(truncated) == before


def test_random_bytes_are_not_taken_for_a_store(tmp_path: Path) -> None:
    noise = tmp_path / "noise.duckdb"
    noise.write_bytes(os.urandom(200_000))
    done = run_cli("check", "--db", str(noise))
    assert_clear(done, str(noise), "not a DuckDB file", "restore")


def test_damaged_blocks_are_found_by_reading_every_table(writable_demo_path: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.duckdb"
    data = bytearray(writable_demo_path.read_bytes())
    # A byte inside each data block changed (a bad sector, a bit flip): each block's checksum no longer matches.
    for offset in range(HEADERS + BLOCK + 4096, len(data), BLOCK):
        data[offset] ^= 0xFF
    damaged.write_bytes(bytes(data))
    done = run_cli("check", "--db", str(damaged))
    assert_clear(done, str(damaged), "restore")


def test_records_that_disagree_are_listed_and_nothing_is_changed(writable_demo_path: Path) -> None:
    with Store(writable_demo_path) as store:
        urn = int(store.scalar("SELECT min(urn) FROM schools WHERE NOT data_sharing_signed"))
        agreements.record_agreement(store, urn, "2024-01-10", "Jo")
        with store.transaction() as cur:
            cur.execute("UPDATE schools SET data_sharing_signed = false WHERE urn = ?", [urn])
            cur.execute("INSERT INTO results SELECT * REPLACE (999999 AS urn) FROM results LIMIT 3")
    before = fingerprint(writable_demo_path)
    done = run_cli("check", "--db", str(writable_demo_path), "--json")
    assert done.returncode == 1, done.stderr
    problems = json.loads(done.stdout)["problems"]
    assert "3 results without a school" in problems
    assert any(f"URN {urn}" in p and "changed outside the app" in p for p in problems), problems
    assert fingerprint(writable_demo_path) == before


def test_a_store_the_app_holds_open_is_checked_and_backed_up_but_not_replaced(
    writable_demo_path: Path, tmp_path: Path
) -> None:
    backup = tmp_path / "earlier.duckdb"
    assert run_cli("backup", "--db", str(writable_demo_path), "--to", str(backup)).returncode == 0
    with holding_open(writable_demo_path):
        checked = run_cli("check", "--db", str(writable_demo_path))
        backed_up = run_cli("backup", "--db", str(writable_demo_path), "--to", str(tmp_path / "b.duckdb"))
        restored = run_cli("restore", "--from", str(backup), "--db", str(writable_demo_path), "--replace")
        in_use = fingerprint(writable_demo_path)
    # Reading goes on while the app runs (from a consistent copy: analytics.store.sharing); replacing does not.
    assert checked.returncode == 0, checked.stderr
    assert backed_up.returncode == 0, backed_up.stderr
    assert run_cli("check", "--db", str(tmp_path / "b.duckdb")).returncode == 0
    assert_clear(restored, "open in another program", "Nothing was changed")
    assert leftovers(tmp_path, {"demo.duckdb", "demo.duckdb.lock", "earlier.duckdb", "b.duckdb"}) == set()
    assert fingerprint(writable_demo_path) == in_use
    assert content(tmp_path / "b.duckdb") == content(writable_demo_path)


class holding_open:
    """Another process with the store open for writing, as the running app has it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> None:
        code = (
            "import sys, time\nfrom analytics.store.db import Store\n"
            f"store = Store({str(self.path)!r})\nprint('open', flush=True)\ntime.sleep(120)\n"
        )
        self.process = subprocess.Popen([sys.executable, "-c", code], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None and self.process.stdout.readline().strip() == "open"

    def __exit__(self, *exc_info: object) -> None:
        self.process.kill()
        self.process.wait(timeout=30)


# -- backup and restore ------------------------------------------------------------------------------


def test_a_backup_restores_what_was_backed_up_and_keeps_the_store_it_replaced(
    writable_demo_path: Path, tmp_path: Path
) -> None:
    backup = tmp_path / "backups" / "before-term.duckdb"
    original = content(writable_demo_path)
    made = run_cli("backup", "--db", str(writable_demo_path), "--to", str(backup), "--json")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["backup"] == str(backup)
    assert run_cli("check", "--db", str(backup)).returncode == 0
    assert content(backup) == original
    with Store(writable_demo_path) as store:
        urn = int(store.scalar("SELECT min(urn) FROM schools WHERE NOT data_sharing_signed"))
        agreements.record_agreement(store, urn, "2024-01-10", "Jo")
    changed = content(writable_demo_path)
    assert changed != original

    refused = run_cli("restore", "--from", str(backup), "--db", str(writable_demo_path))
    assert_clear(refused, str(writable_demo_path), "--replace")
    assert content(writable_demo_path) == changed

    restored = run_cli("restore", "--from", str(backup), "--db", str(writable_demo_path), "--replace", "--json")
    assert restored.returncode == 0, restored.stderr
    kept = Path(json.loads(restored.stdout)["kept_as"])
    assert kept.name.startswith("demo.duckdb.before-restore-") and kept.parent == writable_demo_path.parent
    assert content(writable_demo_path) == original
    assert content(kept) == changed
    # The restored store says it was restored; the one it replaced says it was backed up.
    assert audit_actions(writable_demo_path)[-1:] == ["store.restore"]
    assert "store.backup" in audit_actions(kept)
    with Store(writable_demo_path) as store:
        # New rows take ids after the restored ones.
        agreements.record_agreement(store, urn, "2024-01-11", "Jo")
        agreements.record_agreement(store, urn + 1, "2024-01-11", "Jo")
        assert store.scalar("SELECT count(DISTINCT agreement_id) FROM data_sharing_agreements") >= 2


def test_restore_makes_a_store_where_there_was_none(writable_demo_path: Path, tmp_path: Path) -> None:
    backup = tmp_path / "b.duckdb"
    assert run_cli("backup", "--db", str(writable_demo_path), "--to", str(backup)).returncode == 0
    target = tmp_path / "new" / "partnership.duckdb"
    summary = restore_store(backup, target)
    assert summary.kept_as is None
    assert content(target) == content(writable_demo_path)


def test_a_backup_never_overwrites_and_a_damaged_store_leaves_no_backup(
    writable_demo_path: Path, tmp_path: Path
) -> None:
    existing = tmp_path / "taken.duckdb"
    existing.write_bytes(b"someone else's file")
    done = run_cli("backup", "--db", str(writable_demo_path), "--to", str(existing))
    assert_clear(done, str(existing), "already exists")
    assert existing.read_bytes() == b"someone else's file"

    truncated = tmp_path / "cut.duckdb"
    data = writable_demo_path.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    done = run_cli("backup", "--db", str(truncated), "--to", str(tmp_path / "from-cut.duckdb"))
    assert_clear(done, str(truncated), "damaged", "restore")
    assert leftovers(tmp_path, {"demo.duckdb", "taken.duckdb", "cut.duckdb"}) == set()


def test_a_damaged_backup_is_refused_and_the_store_is_left_alone(writable_demo_path: Path, tmp_path: Path) -> None:
    backup = tmp_path / "b.duckdb"
    assert run_cli("backup", "--db", str(writable_demo_path), "--to", str(backup)).returncode == 0
    data = backup.read_bytes()
    backup.write_bytes(data[: len(data) // 2])
    before = fingerprint(writable_demo_path)
    done = run_cli("restore", "--from", str(backup), "--db", str(writable_demo_path), "--replace")
    assert_clear(done, str(backup), "Nothing was changed")
    assert fingerprint(writable_demo_path) == before
    assert leftovers(writable_demo_path.parent, {"demo.duckdb", "demo.duckdb.lock", "b.duckdb"}) == set()


def test_a_path_through_a_file_is_refused_in_words(writable_demo_path: Path, tmp_path: Path) -> None:
    # Running as root, folder permissions stop nothing; a path that passes through a file is refused for anyone.
    through_file = writable_demo_path / "backups" / "b.duckdb"
    done = run_cli("backup", "--db", str(writable_demo_path), "--to", str(through_file))
    assert_clear(done, f"{writable_demo_path} is a file")
    done = run_cli("restore", "--from", str(writable_demo_path), "--db", str(writable_demo_path / "s.duckdb"))
    assert_clear(done, f"{writable_demo_path} is a file")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to a folder whatever its permissions (see the next test)")
def test_a_folder_without_write_permission_is_refused_in_words(writable_demo_path: Path, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        done = run_cli("backup", "--db", str(writable_demo_path), "--to", str(locked / "b.duckdb"))
        assert_clear(done, str(locked), "Nothing was changed")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_a_read_only_mount_is_refused_in_words(writable_demo_path: Path, tmp_path: Path) -> None:
    """A real read-only file system, mounted in a private mount namespace (only visible to the child)."""
    unshare = shutil.which("unshare")
    mount = tmp_path / "mount"
    mount.mkdir()
    probe = subprocess.run(
        [unshare or "unshare", "--mount", "--map-root-user", "sh", "-c", f"mount -t tmpfs -o size=64m tmpfs {mount}"],
        capture_output=True,
        text=True,
    )
    if unshare is None or probe.returncode != 0:
        pytest.skip(f"cannot mount a read-only file system here: {probe.stderr.strip()}")
    store = mount / "partnership.duckdb"
    script = (
        f"mount -t tmpfs -o size=64m tmpfs {mount} && cp {writable_demo_path} {store} && "
        f"mount -o remount,ro {mount} && cd {REPO_ROOT} && "
        f"{sys.executable} -m analytics backup --db {store} --to {mount}/b.duckdb; echo backup=$?; "
        f"{sys.executable} -m analytics restore --from {writable_demo_path} --db {store} --replace; echo restore=$?; "
        f"{sys.executable} -m analytics check --db {store}; echo check=$?; "
        f"sha256sum {store} {writable_demo_path}; ls -a {mount}"
    )
    done = subprocess.run(
        ["unshare", "--mount", "--map-root-user", "sh", "-c", script], capture_output=True, text=True, timeout=300
    )
    out = done.stdout + done.stderr
    assert "backup=2" in out and "restore=2" in out and "check=0" in out, out
    assert "Traceback" not in out, out
    assert "Read-only file system" in out and f"{mount}" in done.stderr, out
    hashes = [line.split()[0] for line in done.stdout.splitlines() if line.endswith(".duckdb")][:2]
    assert len(hashes) == 2 and hashes[0] == hashes[1], "the store on the read-only mount is as it was"


# -- a full disk -------------------------------------------------------------------------------------


def test_a_full_disk_during_a_backup_leaves_no_half_file(writable_demo_path: Path, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    before = fingerprint(writable_demo_path)
    done = run_cli(
        "backup", "--db", str(writable_demo_path), "--to", str(folder / "b.duckdb"), file_size_limit=2_000_000
    )
    assert_clear(done, str(folder), "could not be written", "Free some space")
    assert list(folder.iterdir()) == []
    assert fingerprint(writable_demo_path) == before


def results_file(path: Path) -> Path:
    """Enough results (19,200 rows) that writing them needs more than the file size limit allows."""
    lines = ["urn,measure,academic_year,value,cohort,subgroup"]
    for urn in range(990001, 990121):
        for year in range(2005, 2015):
            for measure in ("ks2_rwm_exp", "ks2_read_exp", "ks2_mat_exp", "ks2_writ_exp"):
                for group in ("all", "disadvantaged", "eal", "send"):
                    lines.append(f"{urn},{measure},{year}/{str(year + 1)[2:]},55.5,30,{group}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def import_on_a_full_disk(writable_demo_path: Path, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    original = content(writable_demo_path)
    source = results_file(tmp_path / "results.csv")
    done = run_cli("import-results", str(source), "--db", str(writable_demo_path), file_size_limit=300_000)
    return done, original


def test_a_full_disk_during_an_import_leaves_the_store_as_it_was(
    import_on_a_full_disk: tuple[subprocess.CompletedProcess[str], str], writable_demo_path: Path
) -> None:
    done, original = import_on_a_full_disk
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "cannot rollback" not in done.stderr
    assert run_cli("check", "--db", str(writable_demo_path)).returncode == 0
    assert content(writable_demo_path) == original


def test_a_full_disk_during_an_import_says_so(
    import_on_a_full_disk: tuple[subprocess.CompletedProcess[str], str],
) -> None:
    done, _ = import_on_a_full_disk
    assert "someone else" not in done.stderr.lower()
    assert "space" in done.stderr.lower() or "too large" in done.stderr.lower()


# -- hardened defaults -------------------------------------------------------------------------------


def test_the_config_hides_error_details_and_the_deploy_button() -> None:
    config = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))["client"]
    assert config["showErrorDetails"] == "none"
    assert config["toolbarMode"] == "minimal"
    assert config["disableDataExport"] is True
    # Read as Streamlit reads it (a value it did not know would be rejected or ignored).
    code = (
        "from streamlit import config\nconfig.get_config_options(force_reparse=True)\n"
        "print(config.get_option('client.showErrorDetails'), config.get_option('client.toolbarMode'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["none", "minimal"], done.stderr


@pytest.mark.browser
def test_an_unexpected_error_shows_no_traceback_in_the_browser(writable_demo_path: Path, tmp_path: Path) -> None:
    # A store cut short fails deep inside DuckDB on the first read: an error the app does not expect.
    truncated = tmp_path / "cut.duckdb"
    data = writable_demo_path.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    log = tmp_path / "streamlit.log"
    with running_app(truncated, log) as url, browser_page() as page:
        page.goto(url)
        page.locator('[data-testid="stException"]').first.wait_for(timeout=60_000)
        wait_until_idle(page)
        shown = page.locator("body").inner_text()
    assert "Traceback" not in shown and ".py" not in shown and str(REPO_ROOT) not in shown, shown
    assert "IO Error" not in shown and str(truncated) not in shown, shown
    assert "Traceback" in log.read_text(), "the details go to the server's log"
