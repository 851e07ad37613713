-- 0001_initial: every table of DESIGN.md's "Data held".
--
-- Academic years are stored as the calendar year in which they end (2024 = 2023/24), the
-- convention of DfE's time_period columns, so they sort and subtract as numbers.
-- No FOREIGN KEY clauses: DuckDB implements updates of referenced rows as delete + insert and
-- rejects them, which would block corrections such as renaming a school. Referential integrity
-- is checked by analytics.db.Store.integrity_problems() and by the test suite instead.

CREATE TABLE store_meta (
    key VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

CREATE SEQUENCE imports_log_id START 1;
CREATE TABLE imports_log (
    import_id INTEGER PRIMARY KEY DEFAULT nextval('imports_log_id'),
    file_name VARCHAR NOT NULL,
    file_hash VARCHAR,
    imported_by VARCHAR,
    imported_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    row_count INTEGER NOT NULL DEFAULT 0,
    target VARCHAR NOT NULL,
    outcome VARCHAR NOT NULL,
    undone_at TIMESTAMP
);

CREATE TABLE schools (
    urn INTEGER PRIMARY KEY,
    name VARCHAR NOT NULL,
    phase VARCHAR NOT NULL,
    school_type VARCHAR,
    local_authority VARCHAR,
    la_code INTEGER,
    trust VARCHAR,
    pupils INTEGER,
    pct_fsm DOUBLE,
    pct_eal DOUBLE,
    pct_sen DOUBLE,
    data_sharing_signed BOOLEAN NOT NULL DEFAULT false,
    data_sharing_date DATE,
    open_date DATE,
    close_date DATE,
    import_id INTEGER
);

CREATE SEQUENCE groups_id START 1;
CREATE TABLE groups (
    group_id INTEGER PRIMARY KEY DEFAULT nextval('groups_id'),
    name VARCHAR NOT NULL,
    kind VARCHAR NOT NULL CHECK (kind IN ('alliance', 'collaborative', 'triad', 'cluster', 'trust', 'lasl', 'federation')),
    parent_group_id INTEGER,
    import_id INTEGER
);

CREATE TABLE group_memberships (
    group_id INTEGER NOT NULL,
    urn INTEGER NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE,
    import_id INTEGER,
    PRIMARY KEY (group_id, urn, start_date),
    CHECK (end_date IS NULL OR end_date >= start_date)
);

CREATE TABLE measures (
    code VARCHAR PRIMARY KEY,
    label VARCHAR NOT NULL,
    unit VARCHAR NOT NULL,
    higher_is_better BOOLEAN NOT NULL,
    phase VARCHAR,
    source VARCHAR,
    is_headline BOOLEAN NOT NULL DEFAULT false,
    description VARCHAR
);

CREATE TABLE results (
    urn INTEGER NOT NULL,
    measure_code VARCHAR NOT NULL,
    academic_year INTEGER NOT NULL,
    term VARCHAR NOT NULL DEFAULT 'year',
    subgroup VARCHAR NOT NULL DEFAULT 'all',
    value DOUBLE,
    cohort INTEGER CHECK (cohort IS NULL OR cohort >= 0),
    -- DfE's code when the value is withheld (SUPP, LOWCOV, NE, ...): a suppressed value is not zero.
    missing_code VARCHAR,
    import_id INTEGER,
    PRIMARY KEY (urn, measure_code, academic_year, term, subgroup)
);

CREATE TABLE comparators (
    scope VARCHAR NOT NULL CHECK (scope IN ('national', 'la', 'statistical_neighbours', 'similar_schools')),
    -- LA code for scope 'la'; 'E92000001' (England) for national; free text otherwise.
    area_code VARCHAR NOT NULL,
    measure_code VARCHAR NOT NULL,
    academic_year INTEGER NOT NULL,
    term VARCHAR NOT NULL DEFAULT 'year',
    subgroup VARCHAR NOT NULL DEFAULT 'all',
    -- Phase the figure describes ('all' when it covers every phase): attendance and suspensions
    -- differ so much by phase that a secondary school is compared with secondary schools.
    phase VARCHAR NOT NULL DEFAULT 'all',
    value DOUBLE,
    cohort INTEGER,
    missing_code VARCHAR,
    import_id INTEGER,
    PRIMARY KEY (scope, area_code, measure_code, academic_year, term, subgroup, phase)
);

CREATE SEQUENCE inspections_id START 1;
CREATE TABLE inspections (
    inspection_id INTEGER PRIMARY KEY DEFAULT nextval('inspections_id'),
    urn INTEGER NOT NULL,
    inspection_date DATE NOT NULL,
    inspection_type VARCHAR NOT NULL,
    overall_grade INTEGER CHECK (overall_grade BETWEEN 1 AND 4),
    category_of_concern VARCHAR CHECK (category_of_concern IN ('serious_weaknesses', 'special_measures')),
    import_id INTEGER
);

CREATE SEQUENCE context_events_id START 1;
CREATE TABLE context_events (
    event_id INTEGER PRIMARY KEY DEFAULT nextval('context_events_id'),
    urn INTEGER NOT NULL,
    event_date DATE NOT NULL,
    kind VARCHAR NOT NULL,
    note VARCHAR,
    import_id INTEGER
);

CREATE SEQUENCE meetings_id START 1;
CREATE TABLE meetings (
    meeting_id INTEGER PRIMARY KEY DEFAULT nextval('meetings_id'),
    meeting_date DATE NOT NULL,
    kind VARCHAR NOT NULL,
    title VARCHAR NOT NULL,
    attendees VARCHAR,
    minutes VARCHAR
);

CREATE SEQUENCE category_decisions_id START 1;
CREATE TABLE category_decisions (
    decision_id INTEGER PRIMARY KEY DEFAULT nextval('category_decisions_id'),
    urn INTEGER NOT NULL,
    decided_on DATE NOT NULL,
    category VARCHAR NOT NULL CHECK (category IN ('1', '2', '3', '4a', '4b')),
    rag VARCHAR NOT NULL CHECK (rag IN ('red', 'amber', 'green')),
    reasons VARCHAR NOT NULL,
    meeting_id INTEGER,
    decided_by VARCHAR NOT NULL,
    suggested_category VARCHAR,
    overrides_suggestion BOOLEAN
);

CREATE SEQUENCE actions_id START 1;
CREATE TABLE actions (
    action_id INTEGER PRIMARY KEY DEFAULT nextval('actions_id'),
    meeting_id INTEGER NOT NULL,
    urn INTEGER,
    text VARCHAR NOT NULL,
    owner VARCHAR NOT NULL,
    due_date DATE,
    status VARCHAR NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'dropped')),
    closed_on DATE
);

CREATE SEQUENCE action_followups_id START 1;
CREATE TABLE action_followups (
    followup_id INTEGER PRIMARY KEY DEFAULT nextval('action_followups_id'),
    action_id INTEGER NOT NULL,
    meeting_id INTEGER,
    noted_on DATE NOT NULL,
    status VARCHAR NOT NULL CHECK (status IN ('open', 'done', 'dropped')),
    note VARCHAR
);

CREATE SEQUENCE interventions_id START 1;
CREATE TABLE interventions (
    intervention_id INTEGER PRIMARY KEY DEFAULT nextval('interventions_id'),
    name VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    focus VARCHAR,
    supporting_urn INTEGER,
    supporting_person VARCHAR,
    group_id INTEGER,
    start_date DATE NOT NULL,
    end_date DATE,
    targets VARCHAR,
    cost DOUBLE CHECK (cost IS NULL OR cost >= 0),
    status VARCHAR NOT NULL DEFAULT 'active' CHECK (status IN ('planned', 'active', 'completed', 'stopped')),
    CHECK (end_date IS NULL OR end_date >= start_date)
);

CREATE TABLE intervention_schools (
    intervention_id INTEGER NOT NULL,
    urn INTEGER NOT NULL,
    -- Why the school was chosen matters for regression to the mean: 'low_scores' selections
    -- are expected to rise a little on their own.
    selection_reason VARCHAR,
    PRIMARY KEY (intervention_id, urn)
);

CREATE TABLE intervention_measures (
    intervention_id INTEGER NOT NULL,
    measure_code VARCHAR NOT NULL,
    target_value DOUBLE,
    PRIMARY KEY (intervention_id, measure_code)
);

CREATE SEQUENCE survey_instruments_id START 1;
CREATE TABLE survey_instruments (
    instrument_id INTEGER PRIMARY KEY DEFAULT nextval('survey_instruments_id'),
    name VARCHAR NOT NULL,
    scale_min INTEGER NOT NULL,
    scale_max INTEGER NOT NULL,
    -- false for scales such as observation grades where 1 (Outstanding) is best.
    higher_is_better BOOLEAN NOT NULL,
    -- JSON object mapping each scale point to its label, e.g. {"1": "Not at all confident", ...}.
    scale_labels VARCHAR,
    description VARCHAR,
    CHECK (scale_max > scale_min)
);

CREATE TABLE survey_items (
    instrument_id INTEGER NOT NULL,
    item_code VARCHAR NOT NULL,
    item_text VARCHAR NOT NULL,
    construct VARCHAR,
    reverse_scored BOOLEAN NOT NULL DEFAULT false,
    position INTEGER NOT NULL,
    PRIMARY KEY (instrument_id, item_code)
);

CREATE SEQUENCE surveys_id START 1;
CREATE TABLE surveys (
    survey_id INTEGER PRIMARY KEY DEFAULT nextval('surveys_id'),
    name VARCHAR NOT NULL,
    instrument_id INTEGER NOT NULL,
    intervention_id INTEGER,
    -- true when the same respondents answered each wave under a stable code (paired analysis).
    matched BOOLEAN NOT NULL,
    import_id INTEGER
);

CREATE SEQUENCE survey_waves_id START 1;
CREATE TABLE survey_waves (
    wave_id INTEGER PRIMARY KEY DEFAULT nextval('survey_waves_id'),
    survey_id INTEGER NOT NULL,
    label VARCHAR NOT NULL,
    wave_order INTEGER NOT NULL,
    collected_on DATE,
    UNIQUE (survey_id, wave_order)
);

CREATE TABLE survey_responses (
    wave_id INTEGER NOT NULL,
    -- A pseudonym (never a name); NULL for anonymous surveys.
    respondent VARCHAR,
    urn INTEGER,
    role VARCHAR,
    item_code VARCHAR NOT NULL,
    value DOUBLE
);

CREATE SEQUENCE peer_reviews_id START 1;
CREATE TABLE peer_reviews (
    review_id INTEGER PRIMARY KEY DEFAULT nextval('peer_reviews_id'),
    urn INTEGER,
    group_id INTEGER,
    partner VARCHAR,
    review_date DATE NOT NULL,
    area VARCHAR NOT NULL CHECK (area IN ('Leadership', 'Infrastructure', 'Initial Teacher Training',
        'Continuing Professional Development', 'School-to-school support')),
    score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 4),
    evidence VARCHAR,
    actions VARCHAR,
    challenge_comments VARCHAR,
    CHECK (urn IS NOT NULL OR group_id IS NOT NULL)
);

-- The demo generator's planted truth, so tests can check the product's flags against it.
CREATE TABLE demo_truth (
    subject VARCHAR NOT NULL,
    subject_id VARCHAR NOT NULL,
    measure_code VARCHAR NOT NULL DEFAULT '',
    truth VARCHAR NOT NULL,
    effect DOUBLE,
    PRIMARY KEY (subject, subject_id, measure_code)
);
