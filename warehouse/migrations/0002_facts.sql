-- Per-message and per-conversation facts for the list, search and transcript endpoints.
-- `messages` and `conversations` are the lake's rows (one winner per key), replaced day
-- by day like the summaries; the *_f columns hold search values folded for "ignoring
-- case" (Unicode simple case folding).

CREATE TABLE messages (
    org_uuid VARCHAR NOT NULL, env_uuid VARCHAR NOT NULL, bot_uuid VARCHAR NOT NULL,
    message_id VARCHAR NOT NULL, session_code VARCHAR NOT NULL, channel_uuid VARCHAR NOT NULL,
    user_id VARCHAR NOT NULL, direction VARCHAR NOT NULL, created_at TIMESTAMPTZ NOT NULL,
    content VARCHAR NOT NULL, type VARCHAR NOT NULL,
    intent VARCHAR, confidence DOUBLE, minimum_confidence_achieved BOOLEAN,
    entities VARCHAR[], nlp_responses STRUCT(response_type VARCHAR, paragraph_number INTEGER, response_name VARCHAR)[],
    reply_to VARCHAR, answer_name VARCHAR, buttons STRUCT(name VARCHAR, value VARCHAR, action VARCHAR)[],
    flow VARCHAR, tags VARCHAR[],
    day DATE NOT NULL,
    session_code_f VARCHAR, content_f VARCHAR, intent_f VARCHAR, entities_f VARCHAR[], documents_f VARCHAR[]
);

CREATE TABLE conversations (
    org_uuid VARCHAR NOT NULL, env_uuid VARCHAR NOT NULL, bot_uuid VARCHAR NOT NULL,
    session_code VARCHAR NOT NULL, business_key VARCHAR, channel_uuid VARCHAR NOT NULL,
    user_id VARCHAR NOT NULL, started_at TIMESTAMPTZ NOT NULL, ended_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL, satisfaction INTEGER, flows VARCHAR[], tags VARCHAR[],
    day DATE NOT NULL
);

-- One row per conversation: what conversations/list shows, computed once per rollup.
CREATE TABLE conversation_facts (
    org_uuid VARCHAR NOT NULL, env_uuid VARCHAR NOT NULL, bot_uuid VARCHAR NOT NULL,
    session_code VARCHAR NOT NULL, business_key VARCHAR, channel_uuid VARCHAR NOT NULL,
    started_at TIMESTAMPTZ NOT NULL, satisfaction INTEGER,
    user_messages INTEGER NOT NULL, user_message VARCHAR,
    flows_travelled INTEGER NOT NULL, flows_travelled_names VARCHAR[] NOT NULL,
    duration_s BIGINT NOT NULL, tags VARCHAR[] NOT NULL,
    session_code_f VARCHAR NOT NULL, business_key_f VARCHAR, flows_f VARCHAR[] NOT NULL
);

-- The BOT replies of a USER message (replyTo), in createdAt then messageId order.
CREATE TABLE message_answers (
    org_uuid VARCHAR NOT NULL, env_uuid VARCHAR NOT NULL, bot_uuid VARCHAR NOT NULL,
    message_id VARCHAR NOT NULL,
    answer_names VARCHAR[] NOT NULL, answer_texts VARCHAR[] NOT NULL, answer_buttons VARCHAR[] NOT NULL
);
