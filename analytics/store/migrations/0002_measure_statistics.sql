-- 0002_measure_statistics: how each measure arises from pupils, so uncertainty can be honest.
--
-- statistic: 'proportion' (share of pupils reaching a standard: binomial noise),
--            'mean' (average of a pupil-level score: noise pupil_sd / sqrt(cohort)),
--            'rate' (events per 100 pupils: Poisson noise).
-- pupil_sd:  spread of individual pupils' scores, for 'mean' measures (e.g. about 6 for KS2
--            progress scores, 18 for Attainment 8).
ALTER TABLE measures ADD COLUMN statistic VARCHAR DEFAULT 'proportion';
ALTER TABLE measures ADD COLUMN pupil_sd DOUBLE;
UPDATE measures SET statistic = 'rate' WHERE unit ILIKE '%per 100%';
UPDATE measures SET statistic = 'mean' WHERE unit NOT IN ('%') AND unit NOT ILIKE '%per 100%';
