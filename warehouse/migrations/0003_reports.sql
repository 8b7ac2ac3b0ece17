-- Report requests and their files. A PENDING or RUNNING report is run again when the
-- service starts, so a request survives a restart.
CREATE TABLE reports (
    id VARCHAR PRIMARY KEY,
    org_uuid VARCHAR NOT NULL, env_uuid VARCHAR NOT NULL, bot_uuid VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,          -- CONVERSATIONS, MESSAGES, GROUPED_MESSAGES, CONVERSATION_DETAILS
    export_type VARCHAR NOT NULL,   -- csv, xlsx, parquet
    spec VARCHAR NOT NULL,          -- the validated request, JSON
    file_name VARCHAR NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    status VARCHAR NOT NULL,        -- PENDING, RUNNING, DONE, FAILED
    error VARCHAR,
    finished_at TIMESTAMPTZ,
    rows BIGINT
);
