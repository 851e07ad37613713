-- 0014_data_sharing_agreements: a dated history of each school's data-sharing agreement.
--
-- Whether a school may be named was one boolean (schools.data_sharing_signed) that nothing in the product
-- could set: after a GIAS import every school was unsigned, and signing or withdrawing meant editing the
-- database by hand, leaving no record of when or by whom. The protocols track sign-up over time, which a
-- boolean cannot show.
--
-- data_sharing_agreements  append-only: a row each time an agreement is recorded as signed (withdrawn_on
--                          empty) or as withdrawn (withdrawn_on set, signed_on the date of the agreement
--                          withdrawn). Nothing is updated or deleted; the latest row per school is its
--                          current state. source: the app's page, the command line, an import, or this
--                          migration; file_name is the imported file's name.
-- schools.data_sharing_signed / data_sharing_date stay the effective current state that every page and
-- the privacy code read; each row added here updates them in the same transaction.
--
-- Schools already marked signed get a first row from this migration, dated with data_sharing_date when
-- the store knew it.
CREATE SEQUENCE data_sharing_agreements_id START 1;
CREATE TABLE data_sharing_agreements (
    agreement_id INTEGER PRIMARY KEY DEFAULT nextval('data_sharing_agreements_id'),
    urn INTEGER NOT NULL,
    signed_on DATE,
    withdrawn_on DATE,
    recorded_by VARCHAR NOT NULL,
    recorded_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    note VARCHAR,
    source VARCHAR NOT NULL CHECK (source IN ('page', 'cli', 'import', 'migration')),
    file_name VARCHAR,
    CHECK (withdrawn_on IS NULL OR signed_on IS NULL OR withdrawn_on >= signed_on)
);

INSERT INTO data_sharing_agreements (urn, signed_on, recorded_by, note, source)
SELECT urn, data_sharing_date, 'migration 0014', 'Signed before agreements were recorded one by one.', 'migration'
FROM schools
WHERE data_sharing_signed
ORDER BY urn;
