-- 0004_meeting_records: which schools a meeting covers, and what was said about each of them.
--
-- A meeting belongs to a partnership group (NULL: every school in the store), so its agenda can be
-- rebuilt later for the same schools. Notes hold the discussion per school and per agenda section,
-- e.g. the consistent format of a category 3/4 review (HR, finance, raising achievement plan ...).
ALTER TABLE meetings ADD COLUMN group_id INTEGER;

CREATE SEQUENCE meeting_notes_id START 1;
CREATE TABLE meeting_notes (
    note_id INTEGER PRIMARY KEY DEFAULT nextval('meeting_notes_id'),
    meeting_id INTEGER NOT NULL,
    urn INTEGER,
    section VARCHAR NOT NULL,
    note VARCHAR NOT NULL,
    noted_by VARCHAR,
    noted_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
