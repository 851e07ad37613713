-- 0015_users_and_audit: who may sign in, with which role, and a record of who did what.
--
-- users       a row per person (their sign-in email, lower-cased) who may use a deployment with sign-in.
--             role        viewer (reads), lead_head (reads its group's schools only), officer (records
--                         decisions, actions and imports; sees unsigned schools by name), admin (users too).
--             group_id    the partnership group whose schools they see (with its sub-groups); NULL = every school.
--             removed_at  a person is never deleted: removing them ends their access and keeps the row, so
--                         the audit log's "who" always names someone the store knew. Every change to a row
--                         (added, role changed, removed, given access again) is an audit_log entry with the
--                         values before and after: that is the history.
-- audit_log   append-only: who (a sign-in email, or what a command was told with --by), when (acted_at), what
--             they did (action, a dotted name such as decision.record), a sentence saying what, the schools
--             it touched (urns, a JSON list) and the particulars (details, a JSON object). "at" is a reserved
--             word in DuckDB, hence acted_at.
CREATE TABLE users (
    email VARCHAR PRIMARY KEY,
    display_name VARCHAR,
    role VARCHAR NOT NULL CHECK (role IN ('viewer', 'lead_head', 'officer', 'admin')),
    group_id INTEGER,
    added_by VARCHAR NOT NULL,
    added_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    removed_by VARCHAR,
    removed_at TIMESTAMP
);

CREATE SEQUENCE audit_log_id START 1;
CREATE TABLE audit_log (
    id BIGINT PRIMARY KEY DEFAULT nextval('audit_log_id'),
    acted_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    who VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    what VARCHAR NOT NULL,
    urns JSON,
    details JSON
);
