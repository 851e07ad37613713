-- 0005_survey_summaries: questionnaires kept only as summary tables, and questionnaires linked to schools.
--
-- survey_summaries   a mean (with the number of respondents, and the standard deviation when it was
--                    kept) per item and wave, for projects that kept no individual answers and no counts
--                    per option. Counts per option are stored as anonymous answers in survey_responses
--                    instead: they hold exactly the same information (see docs/import-survey.md).
-- survey_schools     the schools a questionnaire was given in, when the file itself has no school column.
CREATE TABLE survey_summaries (
    wave_id INTEGER NOT NULL,
    item_code VARCHAR NOT NULL,
    n INTEGER NOT NULL CHECK (n >= 0),
    mean DOUBLE NOT NULL,
    sd DOUBLE CHECK (sd IS NULL OR sd >= 0),
    PRIMARY KEY (wave_id, item_code)
);

CREATE TABLE survey_schools (
    survey_id INTEGER NOT NULL,
    urn INTEGER NOT NULL,
    PRIMARY KEY (survey_id, urn)
);
