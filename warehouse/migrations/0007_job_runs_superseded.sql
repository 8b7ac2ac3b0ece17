-- A run record counts the records that lost to a newer one (conversations by updatedAt,
-- channels last wins), so that lines read = loaded + duplicates + superseded +
-- quarantined can be checked from the record alone.
ALTER TABLE job_runs ADD COLUMN superseded BIGINT;
