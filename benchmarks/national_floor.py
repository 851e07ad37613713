"""What ``trends --json`` and ``categories --json`` cost when written the way a competent engineer would, without the
product: the yardsticks ``benchmarks/national_cli.py`` times the product against.

Run one as a whole process, writing its JSON to standard output: ``python benchmarks/national_floor.py
{trends,categories} STORE``. The pandas baselines are in ``benchmarks/national_pandas.py``.

- **floor-trends**: one DuckDB statement. Each school result of each measure's latest five years (as the product's
  ``max_years=5``) minus the national figure for its measure, pupil group, phase and year (the most specific of
  group x phase, group, phase, all that England publishes, chosen in a small table first); an ordinary least
  squares line per school x measure x pupil group with ``regr_slope``/``regr_count``/``regr_sxx``/``regr_syy``,
  its 95% t interval, the mean cohort, the latest distance from national and a verdict (rising, stable,
  declining, insufficient data); streamed as a JSON array with ``COPY ... TO '/dev/stdout' (FORMAT json)``.
- **floor-categories**: one DuckDB statement for the latest year. Every criterion of
  ``analytics/monitoring/criteria/criteria.toml`` (read with tomllib): below national (first listed measure
  the school has, own-phase or own-kind national figure, the margin, a z-test with the standard error the
  measure's statistic gives, at least ``min_cohort`` pupils), pupil-group gaps against the national gap,
  declining trends (the same OLS over the criterion's measures, all pupils), the latest Ofsted grade and
  context events in the last months; then per school the unmet criteria by strand, what was assessed, and
  the suggested category and RAG by the protocol's rules (4b Ofsted concern, 4a standing decision, 3, 2, 1, or
  not enough evidence), as JSON.
The answers are not the product's: the product's verdict uses its noise model (variance components from
every school) and writes a sentence per series. They are the same job at the same width, so their cost is
what the product's cost can be held against.
"""

from __future__ import annotations

import os
import sys
import tomllib
from datetime import date
from pathlib import Path

import duckdb

REPO_ROOT = Path(__file__).resolve().parent.parent
CRITERIA = Path(os.environ.get("SCHOOL_INSIGHT_CRITERIA") or REPO_ROOT / "analytics/monitoring/criteria/criteria.toml")
MAX_YEARS = 5
# Two-sided 95% t quantiles for a line through n points (n - 2 degrees of freedom), n = 3..7.
T_95 = "[12.706, 4.303, 3.182, 2.776, 2.571][n - 2]"
MAINSTREAM_ONLY = ("ks2_", "ks4_", "phonics")

# The national figure each (measure, pupil group, phase, year) is compared with, and the points of every line.
TREND_POINTS = f"""
recent AS (
    SELECT measure_code, academic_year
    FROM (SELECT DISTINCT measure_code, academic_year FROM results
          WHERE term = 'year' AND value IS NOT NULL AND cohort > 0)
    QUALIFY row_number() OVER (PARTITION BY measure_code ORDER BY academic_year DESC) <= {MAX_YEARS}
),
national AS (
    SELECT measure_code, subgroup, phase, academic_year, avg(value) AS value FROM comparators
    WHERE scope = 'national' AND term = 'year' AND value IS NOT NULL GROUP BY ALL
),
national_for AS (
    SELECT r.measure_code, g.subgroup, p.phase, r.academic_year,
           coalesce(a.value, b.value, c.value, d.value) AS national
    FROM recent r
    CROSS JOIN (SELECT DISTINCT subgroup FROM national UNION SELECT 'all') g
    CROSS JOIN (SELECT DISTINCT phase FROM schools) p
    LEFT JOIN national a ON a.measure_code = r.measure_code AND a.academic_year = r.academic_year
         AND a.subgroup = g.subgroup AND a.phase = p.phase
    LEFT JOIN national b ON b.measure_code = r.measure_code AND b.academic_year = r.academic_year
         AND b.subgroup = g.subgroup AND b.phase = 'all'
    LEFT JOIN national c ON c.measure_code = r.measure_code AND c.academic_year = r.academic_year
         AND c.subgroup = 'all' AND c.phase = p.phase
    LEFT JOIN national d ON d.measure_code = r.measure_code AND d.academic_year = r.academic_year
         AND d.subgroup = 'all' AND d.phase = 'all'
),
points AS (
    -- A withheld figure (no value) keeps its series in the answer, as "insufficient data" when nothing else is left.
    SELECT r.urn, r.measure_code, r.subgroup, r.academic_year AS x, r.value - n.national AS y, r.cohort
    FROM results r
    JOIN recent w ON w.measure_code = r.measure_code AND w.academic_year = r.academic_year
    JOIN schools s USING (urn)
    LEFT JOIN national_for n ON n.measure_code = r.measure_code AND n.subgroup = r.subgroup
         AND n.phase = s.phase AND n.academic_year = r.academic_year
    WHERE r.term = 'year' {{filter}}
),
fits AS (
    SELECT urn, measure_code, subgroup, regr_count(y, x)::INTEGER AS n, regr_slope(y, x) AS slope,
           regr_sxx(y, x) AS sxx, regr_syy(y, x) AS syy, avg(cohort) FILTER (WHERE y IS NOT NULL) AS mean_cohort,
           arg_max(y, x) AS latest
    FROM points GROUP BY urn, measure_code, subgroup
),
lines AS (
    SELECT f.*, m.higher_is_better,
           CASE WHEN n > 2 THEN sqrt(greatest(syy - slope * slope * sxx, 0) / (n - 2) / sxx) END AS se,
           CASE WHEN n > 2 THEN {T_95} END AS t
    FROM fits f JOIN measures m ON m.code = f.measure_code
)"""

TRENDS = f"""
WITH {TREND_POINTS.format(filter="")}
SELECT urn, measure_code AS measure, subgroup,
       CASE WHEN n < 3 THEN 'insufficient data'
            WHEN slope - t * se > 0 THEN CASE WHEN higher_is_better THEN 'rising' ELSE 'declining' END
            WHEN slope + t * se < 0 THEN CASE WHEN higher_is_better THEN 'declining' ELSE 'rising' END
            ELSE 'stable' END AS trend,
       slope AS change_per_year, slope - t * se AS ci_low, slope + t * se AS ci_high, n AS n_years,
       mean_cohort, latest AS latest_distance
FROM lines
"""


def criteria() -> list[dict]:
    with CRITERIA.open("rb") as handle:
        return list(tomllib.load(handle)["criterion"])


def _quote(text: object) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def criteria_values() -> str:
    """One row per criterion and listed measure: ``id, strand, check_kind, measure_code, priority, subgroup,
    grp, compared_with, margin, min_cohort, all_types, worst_allowed, kinds, months``."""
    rows = []
    for c in criteria():
        measures = c.get("measures") or [None]
        types = c.get("school_types")
        for priority, measure in enumerate(measures):
            all_types = types is not None and len(types) > 1
            if types is None:
                all_types = not (measure or "").startswith(MAINSTREAM_ONLY)
            kinds = "[" + ", ".join(_quote(k) for k in c.get("kinds", [])) + "]::VARCHAR[]"
            fields = [
                _quote(c["id"]),
                str(int(c["strand"])),
                _quote(c["check"]),
                _quote(measure) if measure else "NULL",
                str(priority),
                _quote(c.get("subgroup", "all")),
                _quote(c["group"]) if c.get("group") else "NULL",
                _quote(c["compared_with"]) if c.get("compared_with") else "NULL",
                str(float(c.get("margin", 0.0))),
                str(int(c.get("min_cohort", 10))),
                "true" if all_types else "false",
                str(int(c["worst_allowed"])) if c.get("worst_allowed") else "NULL",
                kinds,
                str(int(c.get("within_months", 12))),
            ]
            rows.append("(" + ", ".join(fields) + ")")
    return ",\n".join(rows)


CRITERIA_COLUMNS = (
    "id, strand, check_kind, measure_code, priority, subgroup, grp, compared_with, margin, min_cohort, all_types, "
    "worst_allowed, kinds, months"
)

# The standard error of a school figure, from the measure's statistic (the criteria's own rule).
STANDARD_ERROR = """CASE statistic
    WHEN 'proportion' THEN sqrt(greatest({p}, 0.5) * greatest(100 - {p}, 0.5) / {n})
    WHEN 'rate' THEN sqrt(100 * greatest({p}, 0.01) / {n})
    ELSE pupil_sd / sqrt({n}) END"""


# The trend checks need only the all-pupils lines of the measures the declining-trend criteria name.
DECLINING_ONLY = (
    "AND r.subgroup = 'all' AND r.measure_code IN (SELECT measure_code FROM crit WHERE check_kind = 'declining_trend')"
)


def result_checks_sql(year: int) -> str:
    """The criteria, the schools' kinds and the checks on the latest year's results: below national, group gaps."""
    return f"""
crit({CRITERIA_COLUMNS}) AS (VALUES {criteria_values()}),
school AS (
    SELECT urn, phase,
           CASE WHEN phase = 'Special' OR school_type ILIKE '%special%' THEN 'special'
                WHEN school_type ILIKE '%pupil referral%' OR school_type ILIKE '%alternative provision%'
                THEN 'alternative' ELSE 'mainstream' END AS type_group
    FROM schools
),
own AS (
    SELECT urn, type_group, CASE type_group WHEN 'special' THEN 'Special'
           WHEN 'alternative' THEN 'Alternative provision' ELSE phase END AS national_phase FROM school
),
latest AS (
    SELECT urn, measure_code, subgroup, value, cohort FROM results
    WHERE academic_year = {year} AND term = 'year' AND value IS NOT NULL
),
nat AS (
    SELECT measure_code, subgroup, phase, avg(value) AS value FROM comparators
    WHERE scope = 'national' AND academic_year = {year} AND term = 'year' AND value IS NOT NULL GROUP BY ALL
),
below AS (
    SELECT c.id, c.strand, l.urn, l.value, l.cohort, c.margin, c.min_cohort, m.statistic, m.pupil_sd,
           CASE WHEN m.higher_is_better THEN 1 ELSE -1 END AS sign,
           coalesce(n1.value, CASE WHEN o.type_group = 'mainstream' THEN n2.value END) AS national
    FROM crit c
    JOIN latest l ON l.measure_code = c.measure_code AND l.subgroup = c.subgroup
    JOIN own o ON o.urn = l.urn
    JOIN measures m ON m.code = l.measure_code
    LEFT JOIN nat n1 ON n1.measure_code = l.measure_code AND n1.subgroup = l.subgroup AND n1.phase = o.national_phase
    LEFT JOIN nat n2 ON n2.measure_code = l.measure_code AND n2.subgroup = l.subgroup AND n2.phase = 'all'
    WHERE c.check_kind = 'below_national' AND (c.all_types OR o.type_group = 'mainstream')
    QUALIFY row_number() OVER (PARTITION BY c.id, l.urn ORDER BY c.priority) = 1
),
below_status AS (
    SELECT id, strand, urn,
           CASE WHEN national IS NULL OR cohort IS NULL OR cohort < min_cohort THEN 'not assessed'
                WHEN sign * (national - value) > margin
                     AND (sign * (national - value) - margin) / ({STANDARD_ERROR.format(p="national", n="cohort")})
                         > 1.96 THEN 'unmet'
                ELSE 'met' END AS status
    FROM below
),
gap AS (
    SELECT c.id, c.strand, g.urn, c.min_cohort, m.statistic, m.pupil_sd,
           CASE WHEN m.higher_is_better THEN 1 ELSE -1 END AS sign,
           g.value AS group_value, g.cohort AS group_n,
           CASE WHEN c.compared_with = 'others' THEN (a.value * a.cohort - g.value * g.cohort)
                / nullif(a.cohort - g.cohort, 0) ELSE w.value END AS other_value,
           CASE WHEN c.compared_with = 'others' THEN a.cohort - g.cohort ELSE w.cohort END AS other_n,
           ng.value - coalesce(nw.value, na.value) AS national_gap
    FROM crit c
    JOIN latest g ON g.measure_code = c.measure_code AND g.subgroup = c.grp
    JOIN own o ON o.urn = g.urn
    JOIN measures m ON m.code = g.measure_code
    LEFT JOIN latest a ON a.urn = g.urn AND a.measure_code = g.measure_code AND a.subgroup = 'all'
    LEFT JOIN latest w ON w.urn = g.urn AND w.measure_code = g.measure_code AND w.subgroup = c.compared_with
    LEFT JOIN nat ng ON ng.measure_code = g.measure_code AND ng.subgroup = c.grp AND ng.phase = 'all'
    LEFT JOIN nat nw ON nw.measure_code = g.measure_code AND nw.phase = 'all'
         AND nw.subgroup = CASE c.compared_with WHEN 'others' THEN 'not_' || c.grp ELSE c.compared_with END
    LEFT JOIN nat na ON na.measure_code = g.measure_code AND na.subgroup = 'all' AND na.phase = 'all'
    WHERE c.check_kind = 'subgroup_gap' AND (c.all_types OR o.type_group = 'mainstream')
    QUALIFY row_number() OVER (PARTITION BY c.id, g.urn ORDER BY c.priority) = 1
),
gap_status AS (
    SELECT id, strand, urn,
           CASE WHEN group_n < min_cohort OR other_n < min_cohort OR other_value IS NULL OR national_gap IS NULL
                THEN 'not assessed'
                WHEN sign * ((group_value - other_value) - national_gap) / CASE statistic
                     WHEN 'proportion' THEN sqrt(greatest(group_value, 0.5) * greatest(100 - group_value, 0.5)
                          / group_n + greatest(other_value, 0.5) * greatest(100 - other_value, 0.5) / other_n)
                     ELSE coalesce(pupil_sd, 1) * sqrt(1 / group_n + 1 / other_n) END < -1.96 THEN 'unmet'
                ELSE 'met' END AS status
    FROM gap
),"""


def other_checks_sql(as_of: date) -> str:
    """Declining trends, the latest Ofsted grade and recent context events; then every check's status together."""
    return f"""
{TREND_POINTS.format(filter=DECLINING_ONLY)},
trend_status AS (
    SELECT c.id, c.strand, l.urn,
           CASE WHEN l.n < 3 THEN 'not assessed'
                WHEN (CASE WHEN l.higher_is_better THEN l.slope + l.t * l.se ELSE -(l.slope - l.t * l.se) END) < 0
                THEN 'unmet' ELSE 'met' END AS status
    FROM crit c JOIN lines l ON l.measure_code = c.measure_code AND l.subgroup = 'all'
    JOIN own o ON o.urn = l.urn
    WHERE c.check_kind = 'declining_trend' AND (c.all_types OR o.type_group = 'mainstream')
    QUALIFY row_number() OVER (PARTITION BY c.id, l.urn ORDER BY c.priority) = 1
),
inspection AS (
    SELECT urn, arg_max_null(overall_grade, inspection_date) AS grade,
           arg_max_null(category_of_concern, inspection_date) AS concern
    FROM inspections WHERE inspection_date <= DATE '{as_of}' GROUP BY urn
),
ofsted_status AS (
    SELECT c.id, c.strand, s.urn,
           CASE WHEN i.grade IS NULL THEN 'not assessed' WHEN i.grade > c.worst_allowed THEN 'unmet'
                ELSE 'met' END AS status
    FROM crit c CROSS JOIN school s LEFT JOIN inspection i USING (urn)
    WHERE c.check_kind = 'ofsted_grade'
),
event_status AS (
    SELECT c.id, c.strand, s.urn,
           CASE WHEN count(e.urn) > 0 THEN 'unmet' ELSE 'met' END AS status
    FROM crit c CROSS JOIN school s
    LEFT JOIN context_events e ON e.urn = s.urn AND list_contains(c.kinds, e.kind) AND e.withdrawn_at IS NULL
         AND e.event_date <= DATE '{as_of}' AND e.event_date > DATE '{as_of}' - to_months(c.months)
    WHERE c.check_kind = 'context_event'
    GROUP BY c.id, c.strand, s.urn
),
statuses AS (
    SELECT * FROM below_status UNION ALL SELECT * FROM gap_status UNION ALL SELECT * FROM trend_status
    UNION ALL SELECT * FROM ofsted_status UNION ALL SELECT * FROM event_status
),"""


def categories_sql(year: int, as_of: date) -> str:
    """Per school: the unmet and unassessed criteria, and the suggested category and RAG by the protocol's rules."""
    return f"""
WITH {result_checks_sql(year)}
{other_checks_sql(as_of)}
decided AS (
    SELECT urn, arg_max(category, decided_on) AS category, arg_max(decided_on, decided_on) AS since
    FROM category_decisions WHERE decided_on <= DATE '{as_of}' AND withdrawn_at IS NULL GROUP BY urn
),
per_school AS (
    SELECT s.urn,
           count(*) FILTER (WHERE st.status = 'unmet' AND st.strand <= 4) AS unmet,
           count(*) FILTER (WHERE st.status = 'unmet' AND st.strand = 5) AS unmet_strand_5,
           count(DISTINCT st.strand) FILTER (WHERE st.status = 'unmet' AND st.strand <= 4) AS strands,
           count(*) FILTER (WHERE st.status <> 'not assessed' AND st.strand <= 4) AS assessed,
           count(*) FILTER (WHERE st.status <> 'not assessed' AND st.strand = 1) AS outcomes_assessed,
           count(st.status) FILTER (WHERE st.strand <= 4) AS applicable,
           list(st.id ORDER BY st.id) FILTER (WHERE st.status = 'unmet') AS reasons,
           list(st.id ORDER BY st.id) FILTER (WHERE st.status = 'not assessed') AS missing
    FROM school s LEFT JOIN statuses st USING (urn) GROUP BY s.urn
),
suggested AS (
    SELECT p.*, d.category AS decided_category,
           CASE WHEN i.concern IS NOT NULL THEN '4b'
                WHEN d.category = '4a' THEN '4a'
                WHEN (d.category IN ('2', '3') AND d.since <= DATE '{as_of}' - INTERVAL 12 MONTH AND unmet >= 2)
                     OR strands >= 3 THEN '3'
                WHEN unmet >= 2 OR unmet_strand_5 >= 2 THEN '2'
                WHEN assessed >= 3 AND outcomes_assessed >= 1 THEN '1' END AS suggested_category
    FROM per_school p LEFT JOIN decided d USING (urn) LEFT JOIN inspection i USING (urn)
)
SELECT urn, suggested_category,
       CASE WHEN suggested_category IS NULL THEN 'grey' WHEN suggested_category = '1' THEN 'green'
            WHEN suggested_category = '2' THEN 'amber' ELSE 'red' END AS rag,
       reasons, assessed AS criteria_assessed, applicable AS criteria_applicable, missing, decided_category
FROM suggested ORDER BY urn
"""


def latest_year(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT max(academic_year) FROM results WHERE term = 'year' AND value IS NOT NULL").fetchone()
    return int(row[0]) if row else date.today().year


def floor(task: str, store: str) -> None:
    con = duckdb.connect(store, read_only=True)
    query = TRENDS if task == "trends" else categories_sql(latest_year(con), date.today())
    sys.stdout.flush()
    con.execute(f"COPY ({query}) TO '/dev/stdout' (FORMAT json, ARRAY true)")


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("trends", "categories"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    floor(*argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
