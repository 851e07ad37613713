-- 0003_dfe_imports: what the importers of published files (analytics/import_dfe.py) need to keep.
--
-- schools.status              GIAS establishment status ('Open', 'Closed', 'Open, but proposed to close').
-- groups.source_ref           the group's identity in its source ('GIAS 1234' = GIAS Group UID), so a
--                             re-import updates the group instead of adding a second one.
-- measures.import_id          the import that added a measure to the catalogue, so undo can remove it.
-- results / comparators       ci_low, ci_high: the 95% confidence limits DfE publishes beside progress
--                             scores (KS2 READPROG_LOWER/UPPER, KS4 P8CILOW/P8CIUPP).
-- results.source_urn          the URN a result was published under when it is stored under the school's
--                             latest URN (a converted academy's predecessor); NULL when they are the same.
-- inspections                 Ofsted's inspection number (re-imports match on it) and every judgement the
--                             file gives, as a JSON object {"Quality of education": "2", ...}; report
--                             cards have judgements but no overall grade.
-- urn_lineage                 old URN -> latest URN (academy conversion, amalgamation), from the
--                             OLD_URN,LATEST_URN lookup or GIAS predecessor/successor links.
-- import_replaced_rows        the earlier version of each row an import changed, as JSON, so undoing the
--                             import puts it back exactly.
ALTER TABLE schools ADD COLUMN status VARCHAR;
ALTER TABLE groups ADD COLUMN source_ref VARCHAR;
ALTER TABLE measures ADD COLUMN import_id INTEGER;
ALTER TABLE results ADD COLUMN ci_low DOUBLE;
ALTER TABLE results ADD COLUMN ci_high DOUBLE;
ALTER TABLE results ADD COLUMN source_urn INTEGER;
ALTER TABLE comparators ADD COLUMN ci_low DOUBLE;
ALTER TABLE comparators ADD COLUMN ci_high DOUBLE;
ALTER TABLE inspections ADD COLUMN inspection_number VARCHAR;
ALTER TABLE inspections ADD COLUMN judgements VARCHAR;

CREATE TABLE urn_lineage (
    old_urn INTEGER PRIMARY KEY,
    latest_urn INTEGER NOT NULL,
    -- When the old URN's school closed and the latest one took over, where the source says.
    link_date DATE,
    source VARCHAR NOT NULL,
    import_id INTEGER,
    CHECK (old_urn <> latest_urn)
);

CREATE TABLE import_replaced_rows (
    import_id INTEGER NOT NULL,
    table_name VARCHAR NOT NULL,
    row_json VARCHAR NOT NULL
);
