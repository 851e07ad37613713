"""Academy conversions recorded in the KS2 and KS4 performance tables themselves.

A school that became an academy during the year is published under its old URN with ``URN_AC`` (the academy's
URN), ``SCHNAME_AC`` and ``OPEN_AC`` (the day it opened, 20170401) beside it. Read as URN lineage, they join the
school's history under the academy's URN as soon as the file is imported: the academy is added to the store (as the
school it is) and the file's results are stored under it, with ``source_urn`` the URN they were published under.
"""

from __future__ import annotations

import pandas as pd

from analytics.imports.dfe.plan import Plan

SOURCE = "performance tables (URN_AC, OPEN_AC)"
COLUMNS = ("URN_AC", "SCHNAME_AC", "OPEN_AC")


def conversions_in_file(plan: Plan, frame: pd.DataFrame, urns: pd.Series, schools: pd.DataFrame) -> pd.DataFrame:
    """The schools with the academies they became added; ``plan.lineage`` set to old URN -> academy URN."""
    if plan.table.column("URN_AC") is None:
        return schools
    academy = pd.to_numeric(frame.URN_AC.str.replace(r"\.0$", "", regex=True), errors="coerce")
    converted = urns.notna() & academy.ge(100000) & academy.ne(urns.astype("Float64"))
    if not converted.any():
        return schools
    opened = pd.to_datetime(frame.OPEN_AC.where(converted), format="%Y%m%d", errors="coerce")
    lineage = pd.DataFrame(
        {
            "old_urn": urns[converted].astype("Int64"),
            "latest_urn": academy[converted].astype("Int64"),
            "link_date": opened[converted].dt.date.astype(object).where(opened[converted].notna(), None),
            "source": SOURCE,
        }
    ).drop_duplicates("old_urn")
    plan.lineage = lineage.reset_index(drop=True)
    plan.conversions = len(plan.lineage)
    before = schools.set_index("urn")
    academies = before.loc[lineage.old_urn.astype(int).tolist()].reset_index(drop=True)
    names = frame.SCHNAME_AC[converted].str.strip()
    academies = academies.assign(
        urn=lineage.latest_urn.to_numpy(),
        name=names.where(names.ne(""), frame.SCHNAME[converted]).to_numpy(),
        school_type=None,
        pupils=pd.NA,
        open_date=lineage.link_date.to_numpy(),
    )
    schools = schools.assign(open_date=None)
    return pd.concat([schools, academies[~academies.urn.isin(schools.urn)]], ignore_index=True)
