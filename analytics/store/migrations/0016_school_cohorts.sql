-- 0016_school_cohorts: the KS2 cohorts a school information file publishes, kept whatever the order of imports.
--
-- ks2_published_cohorts   a row per school (urn, as the file publishes it), academic year (by the year it ends)
--                         and pupil group (subgroup, as in results): the pupils at the end of KS2 that the
--                         Explore Education Statistics "KS2 school information" file gives (telig, belig,
--                         gelig, tfsm6cla1a, ...). The file holds no figures; its cohorts fill the empty cohort
--                         of the KS2 results of the same school, year and group, whether those results are
--                         imported before it or after it (see analytics/imports/dfe/ees_info.py). A suppressed
--                         or blank cell is no row. import_id is the import that wrote the row: undoing it
--                         removes the row or puts back the version it replaced (import_replaced_rows).
CREATE TABLE ks2_published_cohorts (
    urn INTEGER NOT NULL,
    academic_year INTEGER NOT NULL,
    subgroup VARCHAR NOT NULL,
    cohort INTEGER NOT NULL CHECK (cohort >= 0),
    import_id INTEGER,
    PRIMARY KEY (urn, academic_year, subgroup)
);
