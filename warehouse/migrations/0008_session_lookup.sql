-- One row per session (tenant × session code) that has messages or a conversation
-- record: where its messages lie in time, and what its conversation record says. The
-- point lookups by session code (transcripts, business keys, the days an incremental
-- rollup must read) probe this table instead of an ART index.
--
-- Why not the ART indexes of 0004: DuckDB writes a whole ART index again at every
-- checkpoint (duckdb/duckdb#24848), so the two on session_code cost about a second per
-- one-day rollup of the 10M-message year, more than the rollup itself. This table is
-- written in code_key order (md5_number_upper of the code: stable across DuckDB
-- versions, spread evenly whatever the codes look like): here one sorted run, a full
-- rollup one per chunk of days, and each incremental rollup appends its sessions' rows
-- at the end (a few thousand a day). A probe on code_key reads one row group of each
-- run through the zone maps, and the appended tail.
DROP INDEX IF EXISTS messages_session;
DROP INDEX IF EXISTS conversations_session;

CREATE TABLE session_lookup (
    code_key UBIGINT NOT NULL,
    session_code VARCHAR NOT NULL,
    org_uuid VARCHAR NOT NULL, env_uuid VARCHAR NOT NULL, bot_uuid VARCHAR NOT NULL,
    -- the session's messages: the first and last createdAt, the first and last lake
    -- day (NULL: no message)
    first_at TIMESTAMPTZ, last_at TIMESTAMPTZ, first_day DATE, last_day DATE,
    -- its conversation record (started_at NULL: none) and that record's lake day
    started_at TIMESTAMPTZ, channel_uuid VARCHAR, business_key VARCHAR, conversation_day DATE
);

INSERT INTO session_lookup
WITH m AS (
    SELECT org_uuid, env_uuid, bot_uuid, session_code,
           min(created_at) AS first_at, max(created_at) AS last_at, min(day) AS first_day, max(day) AS last_day
    FROM messages GROUP BY ALL
)
SELECT md5_number_upper(session_code), session_code, org_uuid, env_uuid, bot_uuid,
       m.first_at, m.last_at, m.first_day, m.last_day, c.started_at, c.channel_uuid, c.business_key, c.day
FROM m FULL JOIN conversations c USING (org_uuid, env_uuid, bot_uuid, session_code)
ORDER BY 1;
