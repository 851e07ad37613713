-- 0013_write_kinds: what kind of data each committed write changed, so caches survive writes that cannot
-- affect them.
--
-- Every cache used to be keyed on one data version, so recording a single category decision threw away
-- the trends and criteria of every school (a School profile render went from 1.6 s to 17.2 s at national
-- scale). A write of 'records' (meetings, notes, actions, decisions, interventions, peer reviews,
-- questionnaires) cannot change results, schools, inspections or events, which is all that trends,
-- positions and the criteria read. NULL (every write before this migration, and imports) means "anything".
ALTER TABLE store_writes ADD COLUMN kind VARCHAR;
