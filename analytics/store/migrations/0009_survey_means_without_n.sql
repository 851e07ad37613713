-- 0009_survey_means_without_n: a questionnaire kept only as means before and after, without the number of
-- respondents (as case studies publish them). Such a mean is stored with n NULL: it can be described and its
-- printed differences checked, but no test can be claimed from it.
ALTER TABLE survey_summaries ALTER COLUMN n DROP NOT NULL;
