-- A run record counts the records that lost to a newer one (conversations by updatedAt,
-- channels last wins), so that lines read = loaded + duplicates + superseded +
-- quarantined can be checked from the record alone. A table beside job_runs, not a new
-- column: DuckDB cannot replay an ALTER of job_runs (its id has a nextval default) from
-- its WAL (duckdb/duckdb#18259), and a process killed before the next checkpoint would
-- leave a warehouse that does not open.
CREATE TABLE job_run_superseded (id BIGINT PRIMARY KEY, superseded BIGINT NOT NULL);
