-- 0012_corrections: meetings, decisions, actions, notes and interventions can be corrected or withdrawn,
-- and nothing is lost doing it (the pattern 0008 gave strand 5 events).
--
-- withdrawn_by/_at/_reason  a record made by mistake is withdrawn, never deleted: every reader of current
--                           records leaves it out (a withdrawn decision is no category change, a withdrawn
--                           action is not carried forward as overdue), the history lists it as withdrawn,
--                           by whom, when and why. Withdrawing a meeting withdraws what was recorded at it.
-- corrects_decision_id      a decision (or note) recorded to replace one recorded wrongly; the one it
-- corrects_note_id          replaces is withdrawn in the same transaction.
-- action_followups.noted_by who noted the follow-up (closing an action between meetings is a follow-up
--                           with no meeting).
-- record_corrections        a row per field corrected in place (an action's text, owner or due date; a
--                           meeting's title, date, attendees or minutes; an intervention's name, focus,
--                           dates, targets ...), with the value before and after, who, when and why. Those
--                           records keep their ids because other rows point at them.
ALTER TABLE category_decisions ADD COLUMN withdrawn_by VARCHAR;
ALTER TABLE category_decisions ADD COLUMN withdrawn_at TIMESTAMP;
ALTER TABLE category_decisions ADD COLUMN withdrawn_reason VARCHAR;
ALTER TABLE category_decisions ADD COLUMN corrects_decision_id INTEGER;

ALTER TABLE meetings ADD COLUMN withdrawn_by VARCHAR;
ALTER TABLE meetings ADD COLUMN withdrawn_at TIMESTAMP;
ALTER TABLE meetings ADD COLUMN withdrawn_reason VARCHAR;

ALTER TABLE meeting_notes ADD COLUMN withdrawn_by VARCHAR;
ALTER TABLE meeting_notes ADD COLUMN withdrawn_at TIMESTAMP;
ALTER TABLE meeting_notes ADD COLUMN withdrawn_reason VARCHAR;
ALTER TABLE meeting_notes ADD COLUMN corrects_note_id INTEGER;

ALTER TABLE actions ADD COLUMN withdrawn_by VARCHAR;
ALTER TABLE actions ADD COLUMN withdrawn_at TIMESTAMP;
ALTER TABLE actions ADD COLUMN withdrawn_reason VARCHAR;

ALTER TABLE action_followups ADD COLUMN noted_by VARCHAR;
ALTER TABLE action_followups ADD COLUMN withdrawn_by VARCHAR;
ALTER TABLE action_followups ADD COLUMN withdrawn_at TIMESTAMP;
ALTER TABLE action_followups ADD COLUMN withdrawn_reason VARCHAR;

ALTER TABLE interventions ADD COLUMN withdrawn_by VARCHAR;
ALTER TABLE interventions ADD COLUMN withdrawn_at TIMESTAMP;
ALTER TABLE interventions ADD COLUMN withdrawn_reason VARCHAR;

CREATE SEQUENCE record_corrections_id START 1;
CREATE TABLE record_corrections (
    correction_id INTEGER PRIMARY KEY DEFAULT nextval('record_corrections_id'),
    record_type VARCHAR NOT NULL CHECK (record_type IN ('meeting', 'action', 'intervention')),
    record_id INTEGER NOT NULL,
    field VARCHAR NOT NULL,
    old_value VARCHAR,
    new_value VARCHAR,
    -- Empty only for minutes saved by a page that does not yet say who saved them.
    corrected_by VARCHAR,
    corrected_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    reason VARCHAR
);
