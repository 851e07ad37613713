"""Pseudonyms and the rules for who may be named."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analytics.privacy import display_names, pseudonym_secret, pseudonyms
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


def test_the_store_keeps_one_secret(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        first = pseudonym_secret(store)
        assert pseudonym_secret(store) == first
        assert len(first) == 32
    with Store(tmp_path / "s.duckdb") as store:
        assert pseudonym_secret(store) == first, "pseudonyms survive a restart"


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
