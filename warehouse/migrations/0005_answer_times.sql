-- The createdAt of the message a row of answers replies to (NULL while that message is
-- unknown). Reports and lists read the answers of messages in a time range; with this
-- column the answers outside the range are skipped by zone maps instead of joined.
ALTER TABLE message_answers ADD COLUMN message_at TIMESTAMPTZ;

UPDATE message_answers a SET message_at = m.created_at
FROM messages m
WHERE m.org_uuid = a.org_uuid AND m.env_uuid = a.env_uuid AND m.bot_uuid = a.bot_uuid AND m.message_id = a.message_id;
