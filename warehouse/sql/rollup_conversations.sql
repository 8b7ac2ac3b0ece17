-- Rolls the conversation partitions of the days in `touched_days` into the summaries.
DELETE FROM conversation_traffic WHERE CAST(bucket AS DATE) IN (SELECT day FROM touched_days WHERE dataset = 'conversations');
DELETE FROM flow_counts WHERE CAST(bucket AS DATE) IN (SELECT day FROM touched_days WHERE dataset = 'conversations');

-- needs: conversations
CREATE OR REPLACE TEMP TABLE c AS
SELECT org_uuid, env_uuid, bot_uuid, channel_uuid,
       time_bucket(INTERVAL 15 MINUTE, CAST(started_at AS TIMESTAMP)) AS bucket,
       started_at, flows
FROM read_parquet({{conversations}}, hive_partitioning = false);
-- needs: conversations
INSERT INTO conversation_traffic
SELECT org_uuid, env_uuid, bot_uuid, channel_uuid, bucket, count(*), min(started_at)
FROM c GROUP BY ALL;
-- needs: conversations
INSERT INTO flow_counts
SELECT org_uuid, env_uuid, bot_uuid, channel_uuid, bucket, flow, count(*)
FROM (SELECT org_uuid, env_uuid, bot_uuid, channel_uuid, bucket, unnest(list_distinct(flows)) AS flow FROM c)
GROUP BY ALL;
-- needs: conversations
DROP TABLE c;
