-- 0007_inspection_publication: the date Ofsted published each inspection's report. What a board knew
-- at a meeting is what had been published by then: "Ofsted since the last meeting" and the picture as
-- at a date go by publication, where the file gives it, not by the first day of the inspection.
ALTER TABLE inspections ADD COLUMN publication_date DATE;
