-- 0006_peer_review_details: who completed a self-assessment and when the peer challenge took place,
-- as the framework's diagnostic workbook records them, so a round trip through Excel loses nothing.
ALTER TABLE peer_reviews ADD COLUMN completed_by VARCHAR;
ALTER TABLE peer_reviews ADD COLUMN challenge_date DATE;
