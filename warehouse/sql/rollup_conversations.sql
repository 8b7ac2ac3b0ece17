-- Rolls the conversation partitions of the days in `touched_days` into the summaries.
DELETE FROM conversation_traffic WHERE CAST(bucket AS DATE) IN (SELECT day FROM touched_days WHERE dataset = 'conversations');
DELETE FROM flow_counts WHERE CAST(bucket AS DATE) IN (SELECT day FROM touched_days WHERE dataset = 'conversations');

-- Each summary reads the files itself, as in rollup_messages.sql (the year's 1.2M
-- conversations: a temp table and two aggregates 3.4-3.9 s, two direct scans 2.2-2.4 s).
-- needs: conversations
INSERT INTO conversation_traffic
SELECT org_uuid, env_uuid, bot_uuid, channel_uuid,
       {{bucket:started_at}} AS bucket, count(*), min(started_at)
FROM read_parquet({{conversations}}, hive_partitioning = false) GROUP BY ALL;
-- needs: conversations
INSERT INTO flow_counts
SELECT org_uuid, env_uuid, bot_uuid, channel_uuid, bucket, flow, count(*)
FROM (SELECT org_uuid, env_uuid, bot_uuid, channel_uuid,
             {{bucket:started_at}} AS bucket,
             unnest(list_distinct(flows)) AS flow
      FROM read_parquet({{conversations}}, hive_partitioning = false))
GROUP BY ALL;
