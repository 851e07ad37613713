"""URN lineage: which URN a school has now, from GIAS links or a lookup file, and moving results to it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from analytics.imports.dfe.plan import Plan, check_urns, heading, table_frame
from analytics.imports.results import RESULT_KEY
from analytics.store.db import Store


def lineage_from_links(plan: Plan, urns: pd.Series, schools: pd.DataFrame) -> pd.DataFrame:
    """Old URN -> latest URN from GIAS 'Predecessor' / 'Successor' links, followed to the end of the chain.

    Only one-to-one links are followed (a school re-registered, typically on becoming an academy).
    Amalgamations (several schools become one) and splits (one becomes several) join different
    schools' pupils, so those results keep their own URNs; the preview says how many links that is.
    """
    start = plan.table.column("LINKED_ESTABLISHMENTS")
    edges: set[tuple[int, int]] = set()
    for (_, cells), urn in zip(plan.table.rows, urns, strict=True):
        if pd.isna(urn):
            continue
        for link in cells[start:]:
            match = re.fullmatch(r"\s*(\d{5,7})\s+(Predecessor|Successor)\b.*", link, flags=re.IGNORECASE)
            if match:
                other = int(match[1])
                edges.add((int(urn), other) if match[2].lower() == "successor" else (other, int(urn)))
    opened = dict(zip(schools.urn.dropna().astype(int), schools.open_date, strict=False))
    return lineage_from_edges(plan, edges, "GIAS links", lambda old, latest: opened.get(latest))


def lineage_from_edges(
    plan: Plan, edges: set[tuple[int, int]], source: str, link_date: Callable[[int, int], Any]
) -> pd.DataFrame:
    """Old URN -> latest URN from (predecessor, successor) pairs, following only one-to-one links to the end of the
    chain; ``link_date(old, latest)`` dates each."""
    successors: dict[int, set[int]] = {}
    predecessors: dict[int, set[int]] = {}
    for old, new in edges:
        successors.setdefault(old, set()).add(new)
        predecessors.setdefault(new, set()).add(old)
    one_to_one = {
        old: next(iter(new))
        for old, new in successors.items()
        if len(new) == 1 and len(predecessors[next(iter(new))]) == 1
    }
    if len(one_to_one) < len(successors):
        plan.warnings.append(
            f"{len(successors) - len(one_to_one)} GIAS links are amalgamations or splits; those schools' results "
            "keep their own URNs."
        )
    rows = []
    for old in sorted(one_to_one):
        latest, seen = one_to_one[old], {old}
        while latest in one_to_one and latest not in seen:
            seen.add(latest)
            latest = one_to_one[latest]
        if latest != old:
            rows.append({"old_urn": old, "latest_urn": latest, "link_date": link_date(old, latest), "source": source})
    return pd.DataFrame(rows, columns=["old_urn", "latest_urn", "link_date", "source"])


def plan_lineage(plan: Plan, _year: int | None) -> None:
    frame = table_frame(plan.table, ["OLD_URN", "LATEST_URN"])
    old = check_urns(plan, frame.OLD_URN, heading(plan, "OLD_URN"))
    latest = check_urns(plan, frame.LATEST_URN, heading(plan, "LATEST_URN"), unique=False)
    lineage = pd.DataFrame({"old_urn": old, "latest_urn": latest, "row": frame.index})
    lineage = lineage[lineage.old_urn.notna() & lineage.latest_urn.notna() & (lineage.old_urn != lineage.latest_urn)]
    lineage = lineage.assign(link_date=None, source="URN lineage lookup")
    plan.lineage = lineage[["old_urn", "latest_urn", "link_date", "source"]].reset_index(drop=True)


def apply_lineage(plan: Plan, frame: pd.DataFrame, latest: dict[int, int]) -> pd.DataFrame:
    if not latest:
        return frame
    old_urns = pd.Index(np.fromiter(latest, dtype=np.float64, count=len(latest)))
    latest_urns = np.fromiter(latest.values(), dtype=np.int64, count=len(latest))
    at = old_urns.get_indexer(frame.urn.to_numpy(dtype=np.float64, na_value=np.nan))
    mapped = pd.Series(
        pd.arrays.IntegerArray(latest_urns[np.maximum(at, 0)], at < 0),
        index=frame.index,
    )
    moving = mapped.notna()
    if not moving.any():
        return frame
    frame = frame.copy()
    frame.loc[moving, "source_urn"] = frame.loc[moving, "urn"]
    frame.loc[moving, "urn"] = mapped[moving]
    clash = frame.duplicated(list(RESULT_KEY), keep=False)
    if clash.any():
        # Both URNs published a figure for the same year: the latest URN's own figure is kept.
        drop = clash & frame.source_urn.notna()
        for urn in sorted({int(u) for u in frame.source_urn[drop]}):
            plan.warnings.append(
                f"URN {urn} and its latest URN {latest[urn]} both have figures for the same year; "
                f"the figures published under {latest[urn]} are kept."
            )
        frame = frame[~drop]
    count = int(frame.source_urn.notna().sum())
    plan.warnings.append(f"{count:,} results are stored under their school's latest URN (see urn_lineage).")
    return frame


def results_to_rekey(store: Store, latest: dict[int, int]) -> pd.DataFrame:
    """Results already in the store under an old URN that can move to its latest URN (a known school).

    A result whose latest URN already has a figure for the same measure, year and group stays put.
    """
    if not latest:
        return pd.DataFrame(columns=["urn", "latest_urn"])
    movable = store.read(
        """
        WITH m AS (SELECT unnest($old) AS urn, unnest($latest) AS latest_urn)
        SELECT m.urn, m.latest_urn, count(*) AS results FROM results r JOIN m USING (urn)
        WHERE NOT EXISTS (SELECT 1 FROM results t WHERE t.urn = m.latest_urn AND t.measure_code = r.measure_code
              AND t.academic_year = r.academic_year AND t.term = r.term AND t.subgroup = r.subgroup)
        GROUP BY ALL ORDER BY m.urn
        """,
        {"old": list(latest), "latest": list(latest.values())},
    )
    return movable


def move_results_to_latest_urn(cur: Any, mapping: pd.DataFrame) -> None:
    """Move results from old URNs to their latest URN, keeping their import; clashes stay where they are."""
    cur.register("lineage_moves", mapping)
    try:
        cur.execute(
            """
            CREATE TEMP TABLE moving AS
            SELECT r.* EXCLUDE (urn, source_urn), m.latest_urn AS urn, coalesce(r.source_urn, r.urn) AS source_urn,
                   r.urn AS from_urn
            FROM results r JOIN lineage_moves m ON r.urn = m.urn
            ANTI JOIN results t ON t.urn = m.latest_urn AND t.measure_code = r.measure_code
                 AND t.academic_year = r.academic_year AND t.term = r.term AND t.subgroup = r.subgroup
            """
        )
        cur.execute(
            "DELETE FROM results r USING moving m WHERE r.urn = m.from_urn AND r.measure_code = m.measure_code "
            "AND r.academic_year = m.academic_year AND r.term = m.term AND r.subgroup = m.subgroup"
        )
        cur.execute("INSERT INTO results BY NAME SELECT * EXCLUDE (from_urn) FROM moving")
        cur.execute("DROP TABLE moving")
    finally:
        cur.unregister("lineage_moves")
