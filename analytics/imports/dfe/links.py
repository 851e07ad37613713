"""Planning an import of GIAS's links file (``links_edubasealldata*.csv``: URN, LinkURN, LinkName, LinkType,
LinkEstablishedDate): which URN a school that re-registered (typically on becoming an academy) has now.

Only plain predecessor and successor links are followed, one to one, to the end of the chain; amalgamations,
mergers and splits join different schools' pupils, so those results keep their own URNs (the preview counts
them). A link is dated by ``LinkEstablishedDate``: results before that date were published under the old URN.
"""

from __future__ import annotations

from analytics.imports.dfe.lineage import lineage_from_edges
from analytics.imports.dfe.plan import Plan, check_urns, heading, parse_dates, table_frame

SOURCE = "GIAS links file"


def plan_links(plan: Plan, _year: int | None) -> None:
    frame = table_frame(plan.table, ["URN", "LINKURN", "LINKNAME", "LINKTYPE", "LINKESTABLISHEDDATE"])
    urns = check_urns(plan, frame.URN, heading(plan, "URN"), unique=False)
    others = check_urns(plan, frame.LINKURN, heading(plan, "LINKURN"), unique=False)
    dates = parse_dates(plan, frame.LINKESTABLISHEDDATE, heading(plan, "LINKESTABLISHEDDATE"))
    kind = frame.LINKTYPE.str.strip().str.lower()
    joining = kind.str.contains("amalgamat|merge|split|federat", regex=True)
    direction = kind.str.extract(r"^(predecessor|successor)\b", expand=False)
    for row in frame.index[joining]:
        plan.skipped.append((int(row), f"a {frame.LINKTYPE[row]!r} link joins different schools' pupils"))
    for row in frame.index[~joining & direction.isna()]:
        plan.skipped.append(
            (int(row), f"link type {frame.LINKTYPE[row] or 'blank'!r} is not a predecessor or successor")
        )
    usable = ~joining & direction.notna() & urns.notna() & others.notna()
    edges: dict[tuple[int, int], object] = {}
    for row in frame.index[usable]:
        urn, other = int(urns[row]), int(others[row])
        edge = (urn, other) if direction[row] == "successor" else (other, urn)
        if edges.get(edge) is None:
            edges[edge] = dates[row]
    if plan.problems:
        return
    plan.lineage = lineage_from_edges(plan, set(edges), SOURCE, lambda old, latest: _dated(edges, old))
    plan.conversions = len(plan.lineage)


def _dated(edges: dict[tuple[int, int], object], old: int) -> object:
    """When the old URN's school stopped: the date of its own link to its successor."""
    return next((date for (first, _), date in edges.items() if first == old and date is not None), None)
