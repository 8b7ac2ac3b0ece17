-- Replaces the fact rows of the touched days and recomputes the derived facts of every
-- session and replied message they affect (whatever day those live on).
-- {{fold:X}} stands for the folding expression of X; {{messages}} and {{conversations}}
-- for the lake files of the touched days (statements naming a list with no files are
-- skipped). A statement marked "only: bulk" runs only in a rollup of many days (every
-- day read anyway), one marked "only: incremental" only in the others.

CREATE OR REPLACE TEMP TABLE affected_sessions AS
SELECT DISTINCT org_uuid, env_uuid, bot_uuid, session_code FROM messages
WHERE day IN (SELECT day FROM touched_days WHERE dataset = 'messages')
UNION
SELECT DISTINCT org_uuid, env_uuid, bot_uuid, session_code FROM conversations
WHERE day IN (SELECT day FROM touched_days WHERE dataset = 'conversations');

-- affected_replies: the messages whose row of answers may change. The messages the
-- replies on the touched days reply to; in an incremental rollup also those whose time
-- (message_at) may come, change or go: a row's message_at is its message's createdAt as
-- it stands, or NULL (every rollup keeps it so), so these are the rows timed on the
-- touched days (their message may change or go; a zone-map range, through variables)
-- and, after the load, the rows without a time whose message is now on a touched day.
-- (A bulk rollup reads every reply of its days and finds every message_at again.)
CREATE OR REPLACE TEMP TABLE affected_replies AS
SELECT DISTINCT org_uuid, env_uuid, bot_uuid, reply_to AS message_id FROM messages
WHERE day IN (SELECT day FROM touched_days WHERE dataset = 'messages') AND reply_to IS NOT NULL;
-- only: incremental
SET VARIABLE touched_from = (SELECT CAST(min(day) AS TIMESTAMPTZ) FROM touched_days WHERE dataset = 'messages');
-- only: incremental
SET VARIABLE touched_to = (SELECT CAST(max(day) + 1 AS TIMESTAMPTZ) FROM touched_days WHERE dataset = 'messages');
-- only: incremental
INSERT INTO affected_replies
SELECT org_uuid, env_uuid, bot_uuid, message_id FROM message_answers
WHERE message_at >= getvariable('touched_from') AND message_at < getvariable('touched_to');

DELETE FROM messages WHERE day IN (SELECT day FROM touched_days WHERE dataset = 'messages');
DELETE FROM conversations WHERE day IN (SELECT day FROM touched_days WHERE dataset = 'conversations');

-- needs: messages
INSERT INTO messages
SELECT org_uuid, env_uuid, bot_uuid, message_id, session_code, channel_uuid, user_id, direction, created_at,
       content, type, intent, confidence, minimum_confidence_achieved, entities, nlp_responses,
       reply_to, answer_name, buttons, flow, tags, "date",
       {{fold:session_code}},
       CASE WHEN direction = 'USER' THEN {{fold:content}} END,
       CASE WHEN direction = 'USER' THEN {{fold:intent}} END,
       CASE WHEN direction = 'USER' THEN list_transform(entities, e -> {{fold:e}}) END,
       CASE WHEN direction = 'USER' THEN list_transform(list_filter(nlp_responses, r -> r.response_type = 'DOCUMENT'), r -> {{fold:r.response_name}}) END
FROM read_parquet({{messages}}, hive_partitioning = true)
ORDER BY org_uuid, env_uuid, bot_uuid, created_at;

-- needs: conversations
INSERT INTO conversations
SELECT org_uuid, env_uuid, bot_uuid, session_code, business_key, channel_uuid, user_id,
       started_at, ended_at, updated_at, satisfaction, flows, tags, "date"
FROM read_parquet({{conversations}}, hive_partitioning = true)
ORDER BY org_uuid, env_uuid, bot_uuid, started_at;

INSERT INTO affected_sessions
SELECT DISTINCT org_uuid, env_uuid, bot_uuid, session_code FROM messages
WHERE day IN (SELECT day FROM touched_days WHERE dataset = 'messages')
UNION
SELECT DISTINCT org_uuid, env_uuid, bot_uuid, session_code FROM conversations
WHERE day IN (SELECT day FROM touched_days WHERE dataset = 'conversations');

INSERT INTO affected_replies
SELECT DISTINCT org_uuid, env_uuid, bot_uuid, reply_to FROM messages
WHERE day IN (SELECT day FROM touched_days WHERE dataset = 'messages') AND reply_to IS NOT NULL;
-- only: incremental
INSERT INTO affected_replies
SELECT a.org_uuid, a.env_uuid, a.bot_uuid, a.message_id FROM message_answers a
SEMI JOIN (SELECT org_uuid, env_uuid, bot_uuid, message_id FROM messages
           WHERE day IN (SELECT day FROM touched_days WHERE dataset = 'messages')) m
    USING (org_uuid, env_uuid, bot_uuid, message_id)
WHERE a.message_at IS NULL;

-- The affected sessions' rows of session_lookup as they stand before this rollup,
-- found once (and deleted by rowid below).
CREATE OR REPLACE TEMP TABLE old_sessions AS
SELECT l.rowid AS rid, l.first_day, l.last_day, l.started_at, l.conversation_day
FROM session_lookup l SEMI JOIN affected_sessions s USING (org_uuid, env_uuid, bot_uuid, session_code);

-- The days that hold messages of the affected sessions, and those that hold their
-- conversation records: the statements below read only those (zone maps skip the
-- rest). An incremental rollup reads a few days instead of the year. They come from
-- the sessions' old rows of session_lookup (every day from a session's first message
-- to its last: a superset) and the touched days, which hold every row this rollup
-- loaded.
-- only: incremental
CREATE OR REPLACE TEMP TABLE session_days AS
SELECT DISTINCT CAST(unnest(generate_series(first_day, last_day, INTERVAL 1 DAY)) AS DATE) AS day
FROM old_sessions WHERE first_day IS NOT NULL
UNION SELECT day FROM touched_days WHERE dataset = 'messages';
-- only: incremental
CREATE OR REPLACE TEMP TABLE conversation_days AS
SELECT DISTINCT conversation_day AS day FROM old_sessions WHERE conversation_day IS NOT NULL
UNION SELECT day FROM touched_days WHERE dataset = 'conversations';
-- only: bulk
CREATE OR REPLACE TEMP TABLE session_days AS SELECT DISTINCT day FROM messages;
-- only: bulk
CREATE OR REPLACE TEMP TABLE conversation_days AS SELECT DISTINCT day FROM conversations;

-- The affected sessions' messages, aggregated, and their conversation records.
CREATE OR REPLACE TEMP TABLE session_messages AS
SELECT m.org_uuid, m.env_uuid, m.bot_uuid, m.session_code,
       count(*) FILTER (WHERE m.direction = 'USER') AS user_messages,
       arg_min_null(m.content, (m.created_at, m.message_id)) FILTER (WHERE m.direction = 'USER') AS user_message,
       min(m.created_at) AS first_at, max(m.created_at) AS last_at, min(m.day) AS first_day, max(m.day) AS last_day
FROM messages m SEMI JOIN affected_sessions s USING (org_uuid, env_uuid, bot_uuid, session_code)
WHERE m.day IN (SELECT day FROM session_days)
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE session_conversations AS
SELECT c.* FROM conversations c SEMI JOIN affected_sessions s USING (org_uuid, env_uuid, bot_uuid, session_code)
WHERE c.day IN (SELECT day FROM conversation_days);

-- only: bulk
DELETE FROM conversation_facts f USING (SELECT DISTINCT * FROM affected_sessions) a
WHERE f.org_uuid = a.org_uuid AND f.env_uuid = a.env_uuid AND f.bot_uuid = a.bot_uuid AND f.session_code = a.session_code;
-- A session's row of conversation_facts was made with its row of session_lookup, from
-- the same conversation record: it starts at the old row's started_at. Zone maps skip
-- the rows that start before the first of those (the table is in started_at order).
-- only: incremental
SET VARIABLE facts_from = (SELECT CAST(min(started_at) AS TIMESTAMPTZ) FROM old_sessions);
-- only: incremental
DELETE FROM conversation_facts f USING (SELECT DISTINCT * FROM affected_sessions) a
WHERE f.started_at >= getvariable('facts_from')
    AND f.org_uuid = a.org_uuid AND f.env_uuid = a.env_uuid AND f.bot_uuid = a.bot_uuid AND f.session_code = a.session_code;

INSERT INTO conversation_facts
SELECT c.org_uuid, c.env_uuid, c.bot_uuid, c.session_code, c.business_key, c.channel_uuid,
       c.started_at, c.satisfaction,
       coalesce(ms.user_messages, 0), ms.user_message,
       len(list_distinct(coalesce(c.flows, []))),
       list_filter(coalesce(c.flows, []), (x, i) -> list_position(c.flows, x) = i),
       CASE WHEN c.ended_at IS NOT NULL THEN (epoch_us(c.ended_at) - epoch_us(c.started_at)) // 1000000
            WHEN ms.last_at IS NOT NULL THEN (epoch_us(ms.last_at) - epoch_us(c.started_at)) // 1000000
            ELSE 0 END,
       coalesce(c.tags, []),
       {{fold:c.session_code}}, {{fold:c.business_key}},
       list_transform(coalesce(c.flows, []), x -> {{fold:x}})
FROM session_conversations c
LEFT JOIN session_messages ms USING (org_uuid, env_uuid, bot_uuid, session_code)
ORDER BY c.org_uuid, c.env_uuid, c.bot_uuid, c.started_at;

DELETE FROM session_lookup WHERE rowid IN (SELECT rid FROM old_sessions);

INSERT INTO session_lookup
SELECT md5_number_upper(session_code), session_code, org_uuid, env_uuid, bot_uuid,
       ms.first_at, ms.last_at, ms.first_day, ms.last_day, c.started_at, c.channel_uuid, c.business_key, c.day
FROM session_messages ms FULL JOIN session_conversations c USING (org_uuid, env_uuid, bot_uuid, session_code)
ORDER BY 1;

-- message_at: the replied message's createdAt, so that readers of a time range skip the
-- answers outside it. Looked up on narrow rows first: a join whose build side carries
-- the answer lists costs ten times more.
-- A message moved to another day by a later extract exists twice while a backfill goes
-- chunk by chunk (its old day is deleted in a later chunk): one row per id, the one on
-- the days being loaded.
-- only: bulk
CREATE OR REPLACE TEMP TABLE reply_times AS
SELECT a.org_uuid, a.env_uuid, a.bot_uuid, a.message_id, u.created_at AS message_at
FROM (SELECT DISTINCT * FROM affected_replies) a LEFT JOIN messages u
    ON u.org_uuid = a.org_uuid AND u.env_uuid = a.env_uuid AND u.bot_uuid = a.bot_uuid AND u.message_id = a.message_id
QUALIFY row_number() OVER (PARTITION BY a.org_uuid, a.env_uuid, a.bot_uuid, a.message_id
    ORDER BY u.day IN (SELECT day FROM touched_days WHERE dataset = 'messages') DESC, u.day DESC) = 1;
-- An incremental rollup is one chunk, so a message exists once (twice only if a lake
-- partition was published while this rollup read the lake: one row per id all the
-- same). A reply follows its message: look on the touched days and the day before each
-- first, then the whole table for the ids not found there (none, as a rule: that
-- lookup is skipped whole).
-- only: incremental
CREATE OR REPLACE TEMP TABLE reply_times AS
SELECT a.org_uuid, a.env_uuid, a.bot_uuid, a.message_id, u.created_at AS message_at
FROM (SELECT DISTINCT * FROM affected_replies) a JOIN messages u
    ON u.org_uuid = a.org_uuid AND u.env_uuid = a.env_uuid AND u.bot_uuid = a.bot_uuid AND u.message_id = a.message_id
WHERE u.day IN (SELECT day FROM touched_days WHERE dataset = 'messages'
                UNION SELECT day - 1 FROM touched_days WHERE dataset = 'messages')
QUALIFY row_number() OVER (PARTITION BY a.org_uuid, a.env_uuid, a.bot_uuid, a.message_id
    ORDER BY u.day IN (SELECT day FROM touched_days WHERE dataset = 'messages') DESC, u.day DESC) = 1;
-- only: incremental
INSERT INTO reply_times
SELECT a.org_uuid, a.env_uuid, a.bot_uuid, a.message_id, u.created_at
FROM (SELECT DISTINCT * FROM affected_replies ANTI JOIN reply_times USING (org_uuid, env_uuid, bot_uuid, message_id)) a
LEFT JOIN messages u
    ON u.org_uuid = a.org_uuid AND u.env_uuid = a.env_uuid AND u.bot_uuid = a.bot_uuid AND u.message_id = a.message_id
QUALIFY row_number() OVER (PARTITION BY a.org_uuid, a.env_uuid, a.bot_uuid, a.message_id ORDER BY u.day DESC) = 1;

-- The affected messages' rows of answers, with the days their replies were on: found
-- once, then deleted by rowid.
-- only: bulk
CREATE OR REPLACE TEMP TABLE old_answers AS
SELECT f.rowid AS rid, f.reply_first_day, f.reply_last_day
FROM message_answers f SEMI JOIN affected_replies a USING (org_uuid, env_uuid, bot_uuid, message_id);
-- Every row's message_at is its message's createdAt as it stands, or NULL: a rollup
-- that loads, changes or removes a message makes its row again (the messages of the
-- touched days are affected_replies). So the row of an affected message has message_at
-- NULL, the time in reply_times, or (its message changed or went in this rollup) the
-- old createdAt, on a touched day. None is older than answers_from, and zone maps skip
-- the rows before it (the table is in message_at order): a one-day rollup reads the
-- last days instead of the year.
-- only: incremental
SET VARIABLE answers_from = (
    SELECT CAST(least(CAST(min(day) AS TIMESTAMPTZ), (SELECT min(message_at) FROM reply_times)) AS TIMESTAMPTZ)
    FROM touched_days WHERE dataset = 'messages');
-- only: incremental
CREATE OR REPLACE TEMP TABLE old_answers AS
SELECT f.rowid AS rid, f.reply_first_day, f.reply_last_day
FROM message_answers f SEMI JOIN affected_replies a USING (org_uuid, env_uuid, bot_uuid, message_id)
WHERE f.message_at >= getvariable('answers_from')
UNION ALL
SELECT f.rowid, f.reply_first_day, f.reply_last_day
FROM message_answers f SEMI JOIN affected_replies a USING (org_uuid, env_uuid, bot_uuid, message_id)
WHERE f.message_at IS NULL;

DELETE FROM message_answers WHERE rowid IN (SELECT rid FROM old_answers);

-- The days that hold replies to the affected messages: those their rows of answers
-- were made from (every day from the first reply to the last) and the touched days,
-- which hold every reply this rollup loaded.
-- only: incremental
CREATE OR REPLACE TEMP TABLE reply_days AS
SELECT DISTINCT CAST(unnest(generate_series(reply_first_day, reply_last_day, INTERVAL 1 DAY)) AS DATE) AS day
FROM old_answers WHERE reply_first_day IS NOT NULL
UNION SELECT day FROM touched_days WHERE dataset = 'messages';
-- only: bulk
CREATE OR REPLACE TEMP TABLE reply_days AS SELECT DISTINCT day FROM messages;

-- The replies of a message in (createdAt, messageId) order: one unordered list of
-- structs per message, sorted by list_sort (the struct's first fields are the order).
-- An ordered aggregate (list(x ORDER BY ...)) gives the same lists six times slower.
-- Rows sorted by message_at keep the zone maps tight.
INSERT INTO message_answers
SELECT org_uuid, env_uuid, bot_uuid, reply_to,
       list_filter(list_transform(r, x -> x.n), x -> x IS NOT NULL),
       list_transform(r, x -> x.c),
       flatten(list_transform(r, x -> x.b)),
       message_at, first_day, last_day
FROM (
    SELECT m.org_uuid, m.env_uuid, m.bot_uuid, m.reply_to, r.message_at,
           list_sort(list({'t': m.created_at, 'i': m.message_id, 'n': m.answer_name, 'c': m.content,
                           'b': list_transform(coalesce(m.buttons, []), b -> b.name)})) AS r,
           min(m.day) AS first_day, max(m.day) AS last_day
    FROM messages m JOIN reply_times r
        ON m.org_uuid = r.org_uuid AND m.env_uuid = r.env_uuid AND m.bot_uuid = r.bot_uuid AND m.reply_to = r.message_id
    WHERE m.direction = 'BOT' AND m.day IN (SELECT day FROM reply_days)
    GROUP BY m.org_uuid, m.env_uuid, m.bot_uuid, m.reply_to, r.message_at
)
ORDER BY org_uuid, env_uuid, bot_uuid, message_at;

-- Messages (re)loaded on the touched days may be the replied message of answers already
-- there (a reply can land before the message it answers, or the message can move).
-- only: bulk
UPDATE message_answers a SET message_at = m.created_at
FROM messages m
WHERE m.day IN (SELECT day FROM touched_days WHERE dataset = 'messages')
    AND m.org_uuid = a.org_uuid AND m.env_uuid = a.env_uuid AND m.bot_uuid = a.bot_uuid AND m.message_id = a.message_id
    AND a.message_at IS DISTINCT FROM m.created_at;
-- (An incremental rollup needs no such repair: such rows are affected_replies, made
-- again above.)

DROP TABLE affected_sessions;
DROP TABLE affected_replies;
DROP TABLE reply_times;
DROP TABLE old_answers;
DROP TABLE old_sessions;
DROP TABLE session_days;
DROP TABLE conversation_days;
DROP TABLE session_messages;
DROP TABLE session_conversations;
DROP TABLE reply_days;
RESET VARIABLE answers_from;
RESET VARIABLE facts_from;
RESET VARIABLE touched_from;
RESET VARIABLE touched_to;
