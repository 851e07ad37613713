-- 0017_restricted_notes: HR-restricted meeting notes, readable only by named officers.
--
-- meeting_notes.restricted  the note is HR-restricted: only a person named as an HR-notes reader sees its
--                           text, author or date; everyone else (and presenter mode) is told only how many
--                           were withheld. A correction of a restricted note stays restricted.
-- users.hr_notes            this officer or administrator is named to read HR-restricted notes. Granting
--                           and revoking it is an audit_log entry (user.hr_notes), like every change to users.
ALTER TABLE meeting_notes ADD COLUMN restricted BOOLEAN DEFAULT false;
ALTER TABLE users ADD COLUMN hr_notes BOOLEAN DEFAULT false;
