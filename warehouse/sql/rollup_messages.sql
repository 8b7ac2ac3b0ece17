-- Rolls the message partitions of the days in `touched_days` into the summaries.
-- {{messages}} is the list of the lake's message files of those days.
-- {{bucket:x}} is the 15-minute UTC bucket of x (bucketSQL in rollup.go).
DELETE FROM message_traffic WHERE CAST(bucket AS DATE) IN (SELECT day FROM touched_days WHERE dataset = 'messages');
DELETE FROM user_activity WHERE CAST(bucket AS DATE) IN (SELECT day FROM touched_days WHERE dataset = 'messages');
DELETE FROM intent_counts WHERE CAST(bucket AS DATE) IN (SELECT day FROM touched_days WHERE dataset = 'messages');

-- Each summary reads the files itself: a scan of the narrow columns costs less than
-- materialising them once for all three (a temp table of 10M rows and its three
-- aggregates took 11-18 s, the three direct scans 6.9-7.4 s; back to back).
-- needs: messages
INSERT INTO message_traffic
SELECT org_uuid, env_uuid, bot_uuid, channel_uuid,
       {{bucket:created_at}} AS bucket,
       count(*) FILTER (WHERE direction = 'USER'),
       count(*) FILTER (WHERE direction = 'USER' AND coalesce(minimum_confidence_achieved, false)),
       count(*) FILTER (WHERE direction <> 'USER'), min(created_at)
FROM read_parquet({{messages}}, hive_partitioning = false) GROUP BY ALL;
-- needs: messages
INSERT INTO user_activity
SELECT DISTINCT org_uuid, env_uuid, bot_uuid, channel_uuid,
       {{bucket:created_at}} AS bucket, user_id
FROM read_parquet({{messages}}, hive_partitioning = false) WHERE direction = 'USER';
-- needs: messages
INSERT INTO intent_counts
SELECT org_uuid, env_uuid, bot_uuid, channel_uuid,
       {{bucket:created_at}} AS bucket, intent, count(*)
FROM read_parquet({{messages}}, hive_partitioning = false)
WHERE direction = 'USER' AND intent IS NOT NULL AND intent <> ''
GROUP BY ALL;
