-- ART indexes for the point lookups of the list and transcript endpoints: the answers
-- and business keys of one page of messages, and one session's messages. A page of
-- 5..100 rows then costs index probes instead of a scan of the whole table.
CREATE INDEX message_answers_id ON message_answers (message_id);
CREATE INDEX conversations_session ON conversations (session_code);
CREATE INDEX messages_session ON messages (session_code);
