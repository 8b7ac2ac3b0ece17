-- The lake days that hold the replies of each row of answers (the first and the last):
-- an incremental rollup reads the replies of the messages it touches on those days
-- and the touched days only, where it scanned the reply ids of the whole table to find
-- them (220-250 ms a day on the 10M-message year). The table is rebuilt with the two
-- columns (in its order: tenant, then message_at), filled from the BOT messages.
CREATE TABLE message_answers_new (
    org_uuid VARCHAR NOT NULL, env_uuid VARCHAR NOT NULL, bot_uuid VARCHAR NOT NULL,
    message_id VARCHAR NOT NULL,
    answer_names VARCHAR[] NOT NULL, answer_texts VARCHAR[] NOT NULL, answer_buttons VARCHAR[] NOT NULL,
    message_at TIMESTAMPTZ,
    reply_first_day DATE, reply_last_day DATE
);

INSERT INTO message_answers_new
SELECT a.org_uuid, a.env_uuid, a.bot_uuid, a.message_id, a.answer_names, a.answer_texts, a.answer_buttons, a.message_at,
       r.first_day, r.last_day
FROM message_answers a LEFT JOIN (
    SELECT org_uuid, env_uuid, bot_uuid, reply_to AS message_id, min(day) AS first_day, max(day) AS last_day
    FROM messages WHERE direction = 'BOT' AND reply_to IS NOT NULL GROUP BY ALL
) r USING (org_uuid, env_uuid, bot_uuid, message_id)
ORDER BY a.org_uuid, a.env_uuid, a.bot_uuid, a.message_at;

DROP TABLE message_answers;
ALTER TABLE message_answers_new RENAME TO message_answers;
