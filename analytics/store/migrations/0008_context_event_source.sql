-- 0008_context_event_source: strand 5 events recorded by officers, with where they came from and their history.
--
-- source             'public' (a published or verifiable fact: a new head announced, a licensed deficit) or
--                    'soft_intelligence' (what an officer heard: parents' complaints rising). Soft
--                    intelligence feeds the criteria but is marked wherever it is shown and never leaves
--                    the store in a shared download.
-- recorded_by/_at    who recorded the event and when; empty for events written before this migration
--                    (the demo's, or an older store's).
-- withdrawn_by/_at   an event recorded by mistake is withdrawn, never deleted: criteria ignore it, the
--                    school's history lists it as withdrawn.
-- corrects_event_id  the event this one replaces, when it was recorded as a correction.
--
-- DuckDB cannot add a column with a CHECK constraint, so the table is rebuilt with its rows and ids.
CREATE TABLE context_events_rebuilt (
    event_id INTEGER PRIMARY KEY DEFAULT nextval('context_events_id'),
    urn INTEGER NOT NULL,
    event_date DATE NOT NULL,
    kind VARCHAR NOT NULL,
    note VARCHAR,
    import_id INTEGER,
    source VARCHAR NOT NULL DEFAULT 'public' CHECK (source IN ('public', 'soft_intelligence')),
    recorded_by VARCHAR,
    recorded_at TIMESTAMP,
    withdrawn_by VARCHAR,
    withdrawn_at TIMESTAMP,
    corrects_event_id INTEGER
);
INSERT INTO context_events_rebuilt (event_id, urn, event_date, kind, note, import_id)
    SELECT event_id, urn, event_date, kind, note, import_id FROM context_events;
DROP TABLE context_events;
ALTER TABLE context_events_rebuilt RENAME TO context_events;
