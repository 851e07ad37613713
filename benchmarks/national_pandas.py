"""The vectorised pandas baselines for ``benchmarks/national_cli.py``: trends and categories as an analyst fluent in
pandas would write them, with no loop over schools or series.

Run: ``python benchmarks/national_pandas.py {trends,categories} STORE`` (JSON lines on standard output).

Rows come out of DuckDB once, through Arrow, with the pupil-group and measure codes dictionary-encoded (so pandas
holds them as categoricals, not millions of Python strings); the national figure for each trend point is joined in
that read (the same SQL as the floor's, ``benchmarks/national_floor.py``). Every line is fitted from one
``groupby`` of the sums ordinary least squares needs; the criteria are merges and column arithmetic. What each
computes is described in ``benchmarks/national_floor.py``.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow.compute as pc

sys.path.insert(0, str(Path(__file__).resolve().parent))

from national_floor import MAINSTREAM_ONLY, TREND_POINTS, criteria, latest_year

T_95 = np.array([np.nan, np.nan, np.nan, 12.706, 4.303, 3.182, 2.776, 2.571])
PASSED, FAILED, UNKNOWN = "met", "unmet", "not assessed"


def read(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """A query's rows as a frame, its codes as categoricals (encoded in Arrow, never as Python strings)."""
    table = con.sql(sql).to_arrow_table()
    for name in ("measure_code", "subgroup"):
        if name in table.column_names:
            table = table.set_column(table.schema.get_field_index(name), name, pc.dictionary_encode(table[name]))
    return table.to_pandas()


def fit_lines(points: pd.DataFrame) -> pd.DataFrame:
    """One OLS line per school x measure x pupil group: ``n, slope, low, high, mean_cohort, higher_is_better``."""
    # A withheld figure keeps its series (as too few years) but is no point of the line.
    x = (points.x - points.x.mean()).where(points.y.notna())
    cohort = points.cohort.where(x.notna())
    points = points.assign(x=x, xx=x * x, xy=x * points.y, yy=points.y * points.y, cohort=cohort)
    sums = points.groupby(["urn", "measure_code", "subgroup"], observed=True, sort=False).agg(
        n=("y", "count"),
        sx=("x", "sum"),
        sy=("y", "sum"),
        sxx=("xx", "sum"),
        sxy=("xy", "sum"),
        syy=("yy", "sum"),
        mean_cohort=("cohort", "mean"),
        higher_is_better=("higher_is_better", "first"),
    )
    n = sums.n.to_numpy(dtype=float)
    sxx = (sums.sxx - sums.sx**2 / n).to_numpy()
    sxy = (sums.sxy - sums.sx * sums.sy / n).to_numpy()
    syy = (sums.syy - sums.sy**2 / n).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = sxy / sxx
        se = np.sqrt(np.maximum(syy - slope * sxy, 0) / (n - 2) / sxx)
    t = T_95[np.minimum(n, 7).astype(int)]
    return sums[["n", "mean_cohort", "higher_is_better"]].assign(slope=slope, low=slope - t * se, high=slope + t * se)


def trends(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    points = read(
        con,
        f"WITH {TREND_POINTS.format(filter='')} "
        "SELECT p.*, m.higher_is_better FROM points p JOIN measures m ON m.code = p.measure_code",
    )
    lines = fit_lines(points)
    del points
    up = lines.higher_is_better.to_numpy(dtype=bool)
    lines["trend"] = np.select(
        [lines.n.to_numpy() < 3, lines.low.to_numpy() > 0, lines.high.to_numpy() < 0],
        [np.array("insufficient data"), np.where(up, "rising", "declining"), np.where(up, "declining", "rising")],
        "stable",
    )
    return (
        lines.drop(columns="higher_is_better")
        .rename(columns={"slope": "change_per_year", "low": "ci_low", "high": "ci_high", "n": "n_years"})
        .reset_index()
        .rename(columns={"measure_code": "measure"})
    )


def criteria_frame() -> pd.DataFrame:
    rows = []
    for c in criteria():
        types = c.get("school_types")
        for priority, measure in enumerate(c.get("measures") or [None]):
            everyone = len(types) > 1 if types is not None else not (measure or "").startswith(MAINSTREAM_ONLY)
            rows.append(
                {
                    "id": c["id"],
                    "strand": int(c["strand"]),
                    "check": c["check"],
                    "measure_code": measure,
                    "priority": priority,
                    "subgroup": c.get("subgroup", "all"),
                    "group": c.get("group"),
                    "compared_with": c.get("compared_with"),
                    "margin": float(c.get("margin", 0.0)),
                    "min_cohort": int(c.get("min_cohort", 10)),
                    "all_types": everyone,
                    "worst_allowed": c.get("worst_allowed"),
                    "kinds": tuple(c.get("kinds", ())),
                    "months": int(c.get("within_months", 12)),
                }
            )
    return pd.DataFrame(rows)


def schools_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    schools = con.execute("SELECT urn, phase, school_type FROM schools").df()
    kind = schools.school_type.fillna("").str.lower()
    special = schools.phase.eq("Special") | kind.str.contains("special")
    alternative = kind.str.contains("pupil referral|alternative provision")
    schools["type_group"] = np.where(special, "special", np.where(alternative, "alternative", "mainstream"))
    schools["national_phase"] = np.where(
        special, "Special", np.where(alternative, "Alternative provision", schools.phase)
    )
    return schools


def first_measure(frame: pd.DataFrame) -> pd.DataFrame:
    """The first listed measure each school has, per criterion."""
    return frame.sort_values("priority", kind="stable").drop_duplicates(["id", "urn"])


def standard_error(statistic: pd.Series, share: pd.Series, n: pd.Series, pupil_sd: pd.Series) -> np.ndarray:
    p = share.clip(0.5, 99.5)
    return np.select(
        [statistic.eq("proportion"), statistic.eq("rate")],
        [np.sqrt(p * (100 - p) / n), np.sqrt(100 * share.clip(lower=0.01) / n)],
        pupil_sd / np.sqrt(n),
    )


def below_national(crit: pd.DataFrame, latest: pd.DataFrame, nat: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    rows = crit[crit.check.eq("below_national")].merge(latest, on=["measure_code", "subgroup"])
    rows = rows.merge(schools, on="urn")
    rows = rows[rows.all_types | rows.type_group.eq("mainstream")]
    rows = first_measure(rows)
    own = nat.rename(columns={"phase": "national_phase", "value": "own"})
    rows = rows.merge(own, on=["measure_code", "subgroup", "national_phase"], how="left")
    everyone = nat[nat.phase.eq("all")].drop(columns="phase").rename(columns={"value": "overall"})
    rows = rows.merge(everyone, on=["measure_code", "subgroup"], how="left")
    national = rows.own.fillna(rows.overall.where(rows.type_group.eq("mainstream")))
    sign = np.where(rows.higher_is_better, 1.0, -1.0)
    shortfall = sign * (national - rows.value)
    se = standard_error(rows.statistic, national, rows.cohort, rows.pupil_sd)
    unmet = (shortfall > rows.margin) & ((shortfall - rows.margin) / se > 1.96)
    unknown = national.isna() | rows.cohort.isna() | (rows.cohort < rows.min_cohort)
    return rows[["id", "strand", "urn"]].assign(status=np.where(unknown, UNKNOWN, np.where(unmet, FAILED, PASSED)))


def subgroup_gaps(crit: pd.DataFrame, latest: pd.DataFrame, nat: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    gaps = crit[crit.check.eq("subgroup_gap")]
    mine = latest.rename(columns={"subgroup": "group"})
    rows = gaps.merge(mine, on=["measure_code", "group"]).merge(schools, on="urn")
    rows = first_measure(rows[rows.all_types | rows.type_group.eq("mainstream")])
    everyone = latest[latest.subgroup.eq("all")][["urn", "measure_code", "value", "cohort"]]
    rows = rows.merge(everyone, on=["urn", "measure_code"], how="left", suffixes=("", "_all"))
    named = latest.rename(columns={"subgroup": "compared_with"})
    named = named[["urn", "measure_code", "compared_with", "value", "cohort"]]
    rows = rows.merge(named, on=["urn", "measure_code", "compared_with"], how="left", suffixes=("", "_other"))
    rest = rows.cohort_all - rows.cohort
    others = rows.compared_with.eq("others")
    rest_value = (rows.value_all * rows.cohort_all - rows.value * rows.cohort) / rest
    other_value = np.where(others, rest_value, rows.value_other)
    other_n = np.where(others, rest, rows.cohort_other)
    national = nat[nat.phase.eq("all")].set_index(["measure_code", "subgroup"]).value
    nat_group = national.reindex(pd.MultiIndex.from_arrays([rows.measure_code, rows.group])).to_numpy()
    counterpart = np.where(others, "not_" + rows.group.astype(str), rows.compared_with.astype(str))
    nat_other = national.reindex(pd.MultiIndex.from_arrays([rows.measure_code, counterpart])).to_numpy()
    nat_all = national.reindex(pd.MultiIndex.from_arrays([rows.measure_code, np.full(len(rows), "all")])).to_numpy()
    national_gap = nat_group - np.where(np.isnan(nat_other), nat_all, nat_other)
    with np.errstate(divide="ignore", invalid="ignore"):
        p, q = np.clip(rows.value, 0.5, 99.5), np.clip(other_value, 0.5, 99.5)
        se = np.where(
            rows.statistic.eq("proportion"),
            np.sqrt(p * (100 - p) / rows.cohort + q * (100 - q) / other_n),
            rows.pupil_sd.fillna(1) * np.sqrt(1 / rows.cohort + 1 / other_n),
        )
        z = np.where(rows.higher_is_better, 1.0, -1.0) * ((rows.value - other_value) - national_gap) / se
    unknown = (rows.cohort < rows.min_cohort) | ~(other_n >= rows.min_cohort) | np.isnan(national_gap)
    return rows[["id", "strand", "urn"]].assign(status=np.where(unknown, UNKNOWN, np.where(z < -1.96, FAILED, PASSED)))


def declining(con: duckdb.DuckDBPyConnection, crit: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    checks = crit[crit.check.eq("declining_trend")]
    codes = ", ".join(f"'{c}'" for c in checks.measure_code.unique())
    only = f"AND r.subgroup = 'all' AND r.measure_code IN ({codes})"
    points = read(
        con,
        f"WITH {TREND_POINTS.format(filter=only)} "
        "SELECT p.*, m.higher_is_better FROM points p JOIN measures m ON m.code = p.measure_code",
    )
    lines = fit_lines(points).reset_index()
    lines["measure_code"] = lines.measure_code.astype(str)
    rows = checks.merge(lines, on="measure_code").merge(schools, on="urn")
    rows = first_measure(rows[rows.all_types | rows.type_group.eq("mainstream")])
    worst = np.where(rows.higher_is_better, rows.high, -rows.low)
    status = np.where(rows.n < 3, UNKNOWN, np.where(worst < 0, FAILED, PASSED))
    return rows[["id", "strand", "urn"]].assign(status=status)


def ofsted_and_events(con: duckdb.DuckDBPyConnection, crit: pd.DataFrame, schools: pd.DataFrame, as_of: date):
    inspections = con.execute(
        "SELECT urn, inspection_date, overall_grade, category_of_concern FROM inspections WHERE inspection_date <= ?",
        [as_of],
    ).df()
    latest = inspections.sort_values("inspection_date").drop_duplicates("urn", keep="last").set_index("urn")
    grade = latest.overall_grade.reindex(schools.urn).to_numpy()
    parts = []
    for row in crit[crit.check.eq("ofsted_grade")].itertuples():
        status = np.where(np.isnan(grade), UNKNOWN, np.where(grade > row.worst_allowed, FAILED, PASSED))
        parts.append(pd.DataFrame({"id": row.id, "strand": row.strand, "urn": schools.urn, "status": status}))
    events = con.execute(
        "SELECT urn, kind, event_date FROM context_events WHERE withdrawn_at IS NULL AND event_date <= ?", [as_of]
    ).df()
    for row in crit[crit.check.eq("context_event")].itertuples():
        start = pd.Timestamp(as_of) - pd.DateOffset(months=row.months)
        hit = events[events.kind.isin(row.kinds) & (pd.to_datetime(events.event_date) > start)].urn.unique()
        status = np.where(schools.urn.isin(hit), FAILED, PASSED)
        parts.append(pd.DataFrame({"id": row.id, "strand": row.strand, "urn": schools.urn, "status": status}))
    return parts, latest.category_of_concern


def suggest(statuses: pd.DataFrame, schools: pd.DataFrame, concern: pd.Series, con, as_of: date) -> pd.DataFrame:
    s = statuses.assign(
        unmet=statuses.status.eq(FAILED) & (statuses.strand <= 4),
        unmet5=statuses.status.eq(FAILED) & (statuses.strand == 5),
        assessed=statuses.status.ne(UNKNOWN) & (statuses.strand <= 4),
        outcomes=statuses.status.ne(UNKNOWN) & (statuses.strand == 1),
        applicable=statuses.strand <= 4,
    )
    s["unmet_strand"] = s.strand.where(s.unmet)
    per = s.groupby("urn").agg(
        unmet=("unmet", "sum"),
        unmet5=("unmet5", "sum"),
        strands=("unmet_strand", "nunique"),
        assessed=("assessed", "sum"),
        outcomes=("outcomes", "sum"),
        applicable=("applicable", "sum"),
    )
    per = per.reindex(schools.urn, fill_value=0)
    unmet_ids = s[s.status.eq(FAILED)].groupby("urn").id.agg(list)
    missing_ids = s[s.status.eq(UNKNOWN)].groupby("urn").id.agg(list)
    decided = (
        con.execute(
            "SELECT urn, arg_max(category, decided_on) AS category, max(decided_on) AS since FROM category_decisions "
            "WHERE decided_on <= ? AND withdrawn_at IS NULL GROUP BY urn",
            [as_of],
        )
        .df()
        .set_index("urn")
    )
    category = decided.category.reindex(per.index)
    since = pd.to_datetime(decided.since.reindex(per.index))
    long_standing = category.isin(["2", "3"]) & (since <= pd.Timestamp(as_of) - pd.DateOffset(months=12))
    suggested = np.select(
        [
            concern.reindex(per.index).notna(),
            category.eq("4a"),
            (long_standing & (per.unmet >= 2)) | (per.strands >= 3),
            (per.unmet >= 2) | (per.unmet5 >= 2),
            (per.assessed >= 3) & (per.outcomes >= 1),
        ],
        ["4b", "4a", "3", "2", "1"],
        "",
    )
    rag = np.select([suggested == "", suggested == "1", suggested == "2"], ["grey", "green", "amber"], "red")
    return pd.DataFrame(
        {
            "urn": per.index,
            "suggested_category": np.where(suggested == "", None, suggested),
            "rag": rag,
            "reasons": unmet_ids.reindex(per.index).to_numpy(),
            "criteria_assessed": per.assessed.to_numpy(),
            "criteria_applicable": per.applicable.to_numpy(),
            "missing": missing_ids.reindex(per.index).to_numpy(),
            "decided_category": category.to_numpy(),
        }
    )


def categories(con: duckdb.DuckDBPyConnection, year: int, as_of: date) -> pd.DataFrame:
    crit = criteria_frame()
    schools = schools_frame(con)
    latest = read(
        con,
        f"SELECT urn, measure_code, subgroup, value, cohort FROM results "
        f"WHERE academic_year = {year} AND term = 'year' AND value IS NOT NULL",
    )
    for name in ("measure_code", "subgroup"):
        latest[name] = latest[name].astype(str)
    nat = con.execute(
        "SELECT measure_code, subgroup, phase, avg(value) AS value FROM comparators WHERE scope = 'national' "
        "AND academic_year = ? AND term = 'year' AND value IS NOT NULL GROUP BY ALL",
        [year],
    ).df()
    measures = con.execute("SELECT code AS measure_code, higher_is_better, statistic, pupil_sd FROM measures").df()
    latest = latest.merge(measures, on="measure_code")
    parts, concern = ofsted_and_events(con, crit, schools, as_of)
    statuses = pd.concat(
        [
            below_national(crit, latest, nat, schools),
            subgroup_gaps(crit, latest, nat, schools),
            declining(con, crit, schools),
            *parts,
        ],
        ignore_index=True,
    )
    return suggest(statuses, schools, concern, con, as_of)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("trends", "categories"):
        print(__doc__.splitlines()[3], file=sys.stderr)
        return 2
    task, store = argv
    con = duckdb.connect(store, read_only=True)
    frame = trends(con) if task == "trends" else categories(con, latest_year(con), date.today())
    frame.to_json(sys.stdout, orient="records", lines=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
