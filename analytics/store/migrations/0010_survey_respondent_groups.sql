-- 0010_survey_respondent_groups: the pupil groups a questionnaire's file recorded for each respondent (sex,
-- pupil premium, EAL, SEND, year group), so its before-and-after results can be broken down by group.
-- respondent is the pseudonym stored in survey_responses; names never reach this table.
CREATE TABLE survey_respondent_groups (
    survey_id INTEGER NOT NULL,
    respondent VARCHAR NOT NULL,
    characteristic VARCHAR NOT NULL,
    value VARCHAR NOT NULL,
    PRIMARY KEY (survey_id, respondent, characteristic)
);
