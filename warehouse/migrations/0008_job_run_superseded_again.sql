-- A warehouse made by the first form of migration 0007 (an ALTER of job_runs, replaced
-- before release because DuckDB cannot replay it from its WAL) has 0007 recorded but no
-- job_run_superseded table. Idempotent: a no-op where 0007 made it.
CREATE TABLE IF NOT EXISTS job_run_superseded (id BIGINT PRIMARY KEY, superseded BIGINT NOT NULL);
