-- 0011_store_writes: a row per committed write, so that two people saving at once no longer collide.
--
-- Every write used to update the same store_meta 'data_version' row; DuckDB's optimistic concurrency then
-- aborted one of two overlapping writes (13-17 of 40 in a two-writer test). Appending a row never conflicts.
-- The data version (the key of every cache) is the old counter plus the newest write_id, so it still only
-- ever grows.
CREATE SEQUENCE store_writes_seq START 1;
CREATE TABLE store_writes (
    write_id BIGINT PRIMARY KEY DEFAULT nextval('store_writes_seq'),
    written_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
