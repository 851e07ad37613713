"""Pseudonyms and the rules for who may be named."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from analytics.__main__ import main
from analytics.evaluation import prepost_for_survey
from analytics.imports.survey import import_survey, respondent_pseudonym
from analytics.privacy import (
    SALT_KEY,
    KeyFileError,
    display_names,
    key_file_path,
    pseudonym_secret,
    pseudonyms,
    rotate_pseudonym_key,
    session_pseudonyms,
    store_key,
)
from analytics.store.db import Store

SCHOOLS = pd.DataFrame(
    {"urn": [100001, 100002, 100003], "name": ["Signed A", "Signed B", "Unsigned C"],
     "data_sharing_signed": [True, True, False]}
)  # fmt: skip


def test_pseudonyms_are_distinct_stable_and_depend_on_the_secret() -> None:
    urns = range(100000, 100900)
    first, again = pseudonyms(urns, "secret"), pseudonyms(reversed(urns), "secret")
    assert first == again
    assert len(set(first.values())) == len(first), "no two schools share a pseudonym"
    assert all(name.startswith("School ") for name in first.values())
    other = pseudonyms(urns, "another secret")
    assert sum(first[u] == other[u] for u in urns) < 20, "without the secret the mapping cannot be rebuilt"


def test_a_national_store_still_gets_distinct_pseudonyms() -> None:
    names = pseudonyms(range(100000, 125000), "secret")
    assert len(set(names.values())) == 25000


def test_adding_a_school_keeps_the_others_pseudonyms() -> None:
    before = pseudonyms([100001, 100002, 100003], "s")
    after = pseudonyms([100001, 100002, 100003, 100004], "s")
    assert {u: after[u] for u in before} == before


def test_without_presenter_mode_only_unsigned_schools_are_hidden() -> None:
    names = display_names(SCHOOLS, "s", presenter_mode=False)
    assert names.name(100001) == "Signed A"
    assert names.name(100003).startswith("School ")
    assert names.hidden == {100003}
    assert names.shown_urns([100001, 100003]) == [100001, None]


def test_presenter_mode_hides_everyone_but_the_school_being_discussed() -> None:
    names = display_names(SCHOOLS, "s", presenter_mode=True, named_urns=[100003])
    assert names.name(100003) == "Unsigned C", "a school is named on its own profile"
    assert names.hidden == {100001, 100002}
    renamed = names.rename(SCHOOLS)
    assert renamed.name.tolist()[:2] == [names.name(100001), names.name(100002)]
    assert "Signed A" not in renamed.name.tolist()


def test_typed_text_has_hidden_schools_pseudonymised_longest_name_first() -> None:
    schools = pd.DataFrame(
        {
            "urn": [1, 2, 3],
            "name": ["St Mary's", "St Mary's Junior", "Oak Hill"],
            "data_sharing_signed": [False, False, True],
        }
    )
    names = display_names(schools, "secret", presenter_mode=False)
    redacted = names.redact(["Met ST MARY'S JUNIOR and St Mary's; Oak Hill agreed", None, 7])
    assert redacted[0] == f"Met {names.name(2)} and {names.name(1)}; Oak Hill agreed"
    assert redacted[1:] == [None, 7]
    everyone = display_names(schools, "secret", presenter_mode=True)
    assert "Oak Hill" not in everyone.redact(["Oak Hill agreed"])[0]


def test_presenter_sessions_draw_fresh_pseudonyms_stable_within_each() -> None:
    urns = range(100000, 100058)
    first = session_pseudonyms(urns, "key", "session one")
    assert first == session_pseudonyms(reversed(urns), "key", "session one"), "stable within a session"
    second = session_pseudonyms(urns, "key", "session two")
    assert sum(first[u] == second[u] for u in urns) < 5, "a second session cannot be decoded from the first"
    assert sum(first[u] == pseudonyms(urns, "key")[u] for u in urns) < 5, "nor from the store's stable pseudonyms"
    assert sum(first[u] == session_pseudonyms(urns, "other key", "session one")[u] for u in urns) < 5
    assert len(set(first.values())) == len(first)


def test_display_names_uses_the_session_pseudonyms_in_names_and_typed_text() -> None:
    names = display_names(SCHOOLS, "key", presenter_mode=True, session_nonce="abc")
    expected = session_pseudonyms(SCHOOLS.urn, "key", "abc")
    assert names.shown == expected
    assert names.redact(["Unsigned C and URN 100001"]) == [f"{expected[100003]} and {expected[100001]}"]


def test_a_session_needs_a_nonce() -> None:
    with pytest.raises(ValueError, match="nonce"):
        session_pseudonyms([1, 2], "key", "")


# -- the pseudonym key, outside the store ------------------------------------------------------------


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "keys" / "pseudonym.key"
    monkeypatch.setenv("SCHOOL_INSIGHT_KEY_FILE", str(path))
    return path


def test_the_key_is_created_in_a_private_key_file_and_never_in_the_store(key_file: Path, tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        first = pseudonym_secret(store)
        assert pseudonym_secret(store) == first
        assert len(first) == 32
        assert store.meta(SALT_KEY) is None, "the store must not carry its own key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first in key_file.read_text()
    assert first.encode() not in (tmp_path / "s.duckdb").read_bytes()
    with Store(tmp_path / "s.duckdb") as store:
        assert pseudonym_secret(store) == first, "pseudonyms survive a restart"


def test_a_copied_store_without_the_key_file_cannot_rebuild_the_pseudonyms(
    key_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        original = pseudonym_secret(store)
    copy = tmp_path / "elsewhere" / "copy.duckdb"
    copy.parent.mkdir()
    copy.write_bytes((tmp_path / "s.duckdb").read_bytes())
    monkeypatch.setenv("SCHOOL_INSIGHT_KEY_FILE", str(tmp_path / "another machine.key"))
    with Store(copy) as store:
        assert pseudonym_secret(store) != original


def test_an_older_store_has_its_key_moved_out_and_keeps_its_pseudonyms(key_file: Path, tmp_path: Path) -> None:
    with Store(tmp_path / "old.duckdb") as store, store.transaction() as cur:
        cur.execute("INSERT INTO store_meta VALUES (?, ?)", [SALT_KEY, "0123456789abcdef0123456789abcdef"])
    with Store(tmp_path / "old.duckdb", read_only=True) as store:
        assert pseudonym_secret(store) == "0123456789abcdef0123456789abcdef", "a read-only store still works"
    with Store(tmp_path / "old.duckdb") as store:
        key = store_key(store)
        assert key.moved_from_store and key.secret == "0123456789abcdef0123456789abcdef"
        assert store.meta(SALT_KEY) is None
        again = store_key(store)
        assert not again.moved_from_store and again.secret == key.secret
    assert "0123456789abcdef0123456789abcdef" in key_file.read_text()


def test_a_read_only_store_gets_a_key_that_it_keeps_once_writable(key_file: Path, tmp_path: Path) -> None:
    Store(tmp_path / "s.duckdb").close()
    with Store(tmp_path / "s.duckdb", read_only=True) as store:
        seen = pseudonym_secret(store)
        assert pseudonym_secret(store) == seen
    with Store(tmp_path / "s.duckdb") as store:
        assert pseudonym_secret(store) == seen
    with Store(tmp_path / "s.duckdb", read_only=True) as store:
        assert pseudonym_secret(store) == seen


def test_the_default_key_file_is_in_the_users_config_folder_not_beside_the_store(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SCHOOL_INSIGHT_KEY_FILE")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert key_file_path() == tmp_path / "config" / "school-insight" / "pseudonym.key"


def test_a_damaged_key_file_is_refused_not_replaced(key_file: Path, tmp_path: Path) -> None:
    key_file.parent.mkdir(parents=True)
    key_file.write_text("not json")
    with Store(tmp_path / "s.duckdb") as store, pytest.raises(KeyFileError, match="backup"):
        pseudonym_secret(store)
    assert key_file.read_text() == "not json"


def test_a_key_file_that_cannot_be_written_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not a folder"
    blocker.write_text("")
    monkeypatch.setenv("SCHOOL_INSIGHT_KEY_FILE", str(blocker / "pseudonym.key"))
    with Store(tmp_path / "s.duckdb") as store, pytest.raises(KeyFileError, match="SCHOOL_INSIGHT_KEY_FILE"):
        pseudonym_secret(store)


def test_rotating_changes_school_pseudonyms_but_every_questionnaire_still_pairs_up(
    key_file: Path, writable_demo_path: Path
) -> None:
    with Store(writable_demo_path) as store:
        before_key = pseudonym_secret(store)
        survey_id = int(store.scalar("SELECT min(survey_id) FROM surveys WHERE matched"))
        before = prepost_for_survey(store, survey_id)
        respondents = set(store.read("SELECT DISTINCT respondent FROM survey_responses").respondent.dropna())
        summary = rotate_pseudonym_key(store)
        after = prepost_for_survey(store, survey_id)
        rekeyed = set(store.read("SELECT DISTINCT respondent FROM survey_responses").respondent.dropna())
        grouped = set(store.read("SELECT DISTINCT respondent FROM survey_respondent_groups").respondent)
        assert pseudonym_secret(store) != before_key
    assert summary.respondents_rekeyed >= len(respondents) > 0
    pd.testing.assert_frame_equal(before, after)
    assert len(rekeyed) == len(respondents) and not rekeyed & respondents, "every respondent re-keyed, none merged"
    assert grouped <= rekeyed
    assert before_key not in key_file.read_text(), "the old key is forgotten"
    urns = range(100000, 100058)
    assert sum(pseudonyms(urns, before_key)[u] == pseudonyms(urns, summary.key.secret)[u] for u in urns) < 5


def test_after_rotation_a_new_upload_pairs_within_itself(key_file: Path, empty_store_path: Path) -> None:
    before = "Name,Q1\nJane Smith,Agree\nAmir Khan,Disagree\n"
    after = "Name,Q1\nJane Smith,Strongly agree\nAmir Khan,Agree\n"
    files = [("before.csv", before.encode()), ("after.csv", after.encode())]
    with Store(empty_store_path) as store:
        first = import_survey(store, files)
        rotate_pseudonym_key(store)
        # A later wave of the same people, uploaded as a questionnaire of its own.
        later = "Name,Q1\nJane Smith,Agree\nAmir Khan,Agree\n"
        second = import_survey(store, [files[1], ("later.csv", later.encode())])
        assert first.preview.matched_pairs == second.preview.matched_pairs == 2
        stored = store.read("SELECT DISTINCT respondent FROM survey_responses").respondent
        jane = respondent_pseudonym(pseudonym_secret(store), "jane smith")
    assert jane in set(stored), "a new upload is keyed with the new key"
    assert len(set(stored)) == 4, "old and new uploads are not linked"


def test_the_commands_move_the_key_out_and_rotate_it(
    key_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "old.duckdb"
    with Store(path) as store, store.transaction() as cur:
        cur.execute("INSERT INTO store_meta VALUES (?, ?)", [SALT_KEY, "feedfacefeedfacefeedfacefeedface"])
    assert main(["pseudonym-key", "--db", str(path)]) == 0
    said = capsys.readouterr().out
    assert "Moved the pseudonym key out of the store" in said and str(key_file) in said
    assert "feedface" not in said
    assert main(["rotate-key", "--db", str(path), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["key_file"] == str(key_file) and payload["respondents_rekeyed"] == 0
    assert "secret" not in payload and "feedface" not in key_file.read_text()
    assert main(["rotate-key", "--db", str(tmp_path / "missing.duckdb")]) == 2
    assert not (tmp_path / "missing.duckdb").exists()


def test_the_test_suite_never_touches_the_real_key_file() -> None:
    assert os.environ["SCHOOL_INSIGHT_KEY_FILE"], "tests/conftest.py points the key file at a temporary folder"
    assert not str(key_file_path()).startswith(str(Path.home() / ".config"))
