"""The partnership's groups: alliances, collaboratives, triads and trusts, and who belongs to each when."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from .sources import read_toml

_GROUPS = read_toml("groups.toml")
ALLIANCES: dict[str, list[str]] = {a["name"]: a["collaboratives"] for a in _GROUPS["alliances"]}
TRUSTS: tuple[str, ...] = tuple(_GROUPS["trusts"]["names"])
JOINED = date(2017, 9, 1)


class _Groups:
    """The groups and memberships made so far; group ids count from 1 in the order groups are added."""

    def __init__(self) -> None:
        self.groups: list[dict] = []
        self.memberships: list[dict] = []

    def add_group(self, name: str, kind: str, parent: int | None) -> int:
        group_id = len(self.groups) + 1
        self.groups.append({"group_id": group_id, "name": name, "kind": kind, "parent_group_id": parent})
        return group_id

    def join(self, group_id: int, urn: int, start: date) -> None:
        self.memberships.append({"group_id": group_id, "urn": urn, "start_date": start, "end_date": None})


def _add_triads(made: _Groups, collab_id: int, members: list[int], schools: pd.DataFrame) -> None:
    """Triads are three schools of the same phase that review one another."""
    for phase in ("Primary", "Secondary"):
        same_phase = [u for u in members if schools.set_index("urn").at[u, "phase"] == phase]
        for t in range(len(same_phase) // 3):
            trio = same_phase[3 * t : 3 * t + 3]
            if t == len(same_phase) // 3 - 1:
                trio = same_phase[3 * t :]
            collab_name = made.groups[collab_id - 1]["name"].replace(" Collaborative", "")
            triad_id = made.add_group(f"{collab_name} {phase} Triad {t + 1}", "triad", collab_id)
            for urn in trio:
                made.join(triad_id, urn, date(2021, 9, 1))


def _move_schools(
    rng: np.random.Generator,
    made: _Groups,
    schools: pd.DataFrame,
    assignment: dict[int, tuple[int, int]],
    collaboratives: list[tuple[int, int]],
) -> None:
    """Two schools moved alliance in September 2023: every membership in the old alliance (its
    collaborative and triad too) ends, and the school joins a collaborative of the new one."""
    alliance_ids = [g["group_id"] for g in made.groups if g["kind"] == "alliance"]
    movers = [int(u) for u in rng.choice(schools.urn[schools.phase == "Primary"], size=2, replace=False)]
    for urn in movers:
        old_alliance, _ = assignment[urn]
        new_alliance = next(a for a in alliance_ids if a != old_alliance)
        new_collaborative = next(c for a, c in collaboratives if a == new_alliance)
        for m in made.memberships:
            if m["urn"] == urn:
                m["end_date"] = date(2023, 8, 31)
        for group_id in (new_alliance, new_collaborative):
            made.join(group_id, urn, date(2023, 9, 1))


def make_groups(rng: np.random.Generator, schools: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The groups and memberships; sets the ``trust`` of the schools that join a trust."""
    made = _Groups()
    collaboratives = []
    for alliance, collab_names in ALLIANCES.items():
        alliance_id = made.add_group(alliance, "alliance", None)
        for collab in collab_names:
            collaboratives.append(
                (alliance_id, made.add_group(f"{collab} Collaborative", "collaborative", alliance_id))
            )

    order = rng.permutation(len(schools))
    assignment = {int(schools.urn.iloc[i]): collaboratives[k % len(collaboratives)] for k, i in enumerate(order)}
    for alliance_id, collab_id in collaboratives:
        members = [urn for urn, (_, c) in assignment.items() if c == collab_id]
        for urn in members:
            made.join(alliance_id, urn, JOINED)
            made.join(collab_id, urn, JOINED)
        _add_triads(made, collab_id, members, schools)

    _move_schools(rng, made, schools, assignment, collaboratives)

    academies = schools[schools.school_type.str.startswith("Academy")]
    for t, trust in enumerate(TRUSTS):
        trust_id = made.add_group(trust, "trust", None)
        for urn in academies.urn.iloc[t::3].head(8):
            schools.loc[schools.urn == urn, "trust"] = trust
            made.join(trust_id, int(urn), date(2019, 4, 1))
    return pd.DataFrame(made.groups).astype({"parent_group_id": "Int64"}), pd.DataFrame(made.memberships)
