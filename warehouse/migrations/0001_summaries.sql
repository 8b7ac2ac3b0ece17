-- Summary tables of the dashboard analytics, one row per tenant × channel × 15-minute
-- bucket (UTC). 15 minutes divides every real time-zone offset (+05:30, +05:45), so a
-- later `timezone` parameter can be answered from these tables without a rebuild.

CREATE TABLE channels (
    org_uuid VARCHAR NOT NULL, env_uuid VARCHAR NOT NULL, bot_uuid VARCHAR NOT NULL,
    channel_uuid VARCHAR NOT NULL,
    name VARCHAR NOT NULL, description VARCHAR,
    channel_type_id INTEGER, channel_type_name VARCHAR, channel_type_image VARCHAR,
    classification_id INTEGER, classification_name VARCHAR,
    PRIMARY KEY (org_uuid, env_uuid, bot_uuid, channel_uuid)
);

-- USER and BOT messages by createdAt.
CREATE TABLE message_traffic (
    org_uuid VARCHAR NOT NULL, env_uuid VARCHAR NOT NULL, bot_uuid VARCHAR NOT NULL,
    channel_uuid VARCHAR NOT NULL, bucket TIMESTAMP NOT NULL,
    user_messages INTEGER NOT NULL, understood INTEGER NOT NULL, bot_messages INTEGER NOT NULL,
    first_at TIMESTAMPTZ NOT NULL
);

-- Conversations by startedAt.
CREATE TABLE conversation_traffic (
    org_uuid VARCHAR NOT NULL, env_uuid VARCHAR NOT NULL, bot_uuid VARCHAR NOT NULL,
    channel_uuid VARCHAR NOT NULL, bucket TIMESTAMP NOT NULL,
    conversations INTEGER NOT NULL,
    first_at TIMESTAMPTZ NOT NULL
);

-- Which users sent a USER message in a bucket: exact distinct counts over any range.
CREATE TABLE user_activity (
    org_uuid VARCHAR NOT NULL, env_uuid VARCHAR NOT NULL, bot_uuid VARCHAR NOT NULL,
    channel_uuid VARCHAR NOT NULL, bucket TIMESTAMP NOT NULL,
    user_id VARCHAR NOT NULL
);

-- USER messages with a non-empty intent.
CREATE TABLE intent_counts (
    org_uuid VARCHAR NOT NULL, env_uuid VARCHAR NOT NULL, bot_uuid VARCHAR NOT NULL,
    channel_uuid VARCHAR NOT NULL, bucket TIMESTAMP NOT NULL,
    intent VARCHAR NOT NULL, n INTEGER NOT NULL
);

-- Conversations started in the bucket, once per distinct flow travelled.
CREATE TABLE flow_counts (
    org_uuid VARCHAR NOT NULL, env_uuid VARCHAR NOT NULL, bot_uuid VARCHAR NOT NULL,
    channel_uuid VARCHAR NOT NULL, bucket TIMESTAMP NOT NULL,
    flow VARCHAR NOT NULL, n INTEGER NOT NULL
);

-- What the last rollup saw of each lake partition: a changed fingerprint marks a day
-- to roll up again.
CREATE TABLE rolled_partitions (
    dataset VARCHAR NOT NULL, day DATE NOT NULL, fingerprint VARCHAR NOT NULL,
    rolled_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (dataset, day)
);

-- Increments with every rollup that changed something; answers cached under an older
-- generation are stale.
CREATE TABLE rollup_generation (generation BIGINT NOT NULL);
INSERT INTO rollup_generation VALUES (0);

-- Every job run: extract, rollup, compaction, reports, retention.
CREATE SEQUENCE job_run_ids;
CREATE TABLE job_runs (
    id BIGINT PRIMARY KEY DEFAULT nextval('job_run_ids'),
    job VARCHAR NOT NULL, trigger VARCHAR NOT NULL,
    started TIMESTAMPTZ NOT NULL, finished TIMESTAMPTZ,
    status VARCHAR NOT NULL,
    rows_in BIGINT, loaded BIGINT, duplicates BIGINT, quarantined BIGINT,
    detail VARCHAR, error VARCHAR
);
