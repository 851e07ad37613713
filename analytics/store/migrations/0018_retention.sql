-- 0018_retention: erasing a questionnaire respondent on request, and how long the audit log is kept.
--
-- erased_respondents  a row per respondent pseudonym erased on request (the right to erasure): their answers
--                     and pupil groups are deleted from every questionnaire in the same transaction. Only the
--                     pseudonym is kept, so that importing the same file again leaves them out (the import says
--                     so); no name, answer or group is kept. answers_erased is how many answers went.
-- The audit log's retention is the store_meta entry 'audit_retention_years' (none: kept for good); entries
-- older than that are removed only when an administrator applies it, and the removal is itself an entry.
CREATE TABLE erased_respondents (
    pseudonym VARCHAR NOT NULL,
    erased_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    erased_by VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    answers_erased INTEGER NOT NULL
);
