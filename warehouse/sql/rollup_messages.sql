-- Rolls the message partitions of the days in `touched_days` into the summaries.
-- {{messages}} is the list of the lake's message files of those days.
DELETE FROM message_traffic WHERE CAST(bucket AS DATE) IN (SELECT day FROM touched_days WHERE dataset = 'messages');
DELETE FROM user_activity WHERE CAST(bucket AS DATE) IN (SELECT day FROM touched_days WHERE dataset = 'messages');
DELETE FROM intent_counts WHERE CAST(bucket AS DATE) IN (SELECT day FROM touched_days WHERE dataset = 'messages');

-- needs: messages
CREATE OR REPLACE TEMP TABLE m AS
SELECT org_uuid, env_uuid, bot_uuid, channel_uuid,
       time_bucket(INTERVAL 15 MINUTE, CAST(created_at AS TIMESTAMP)) AS bucket,
       created_at, direction = 'USER' AS is_user,
       coalesce(minimum_confidence_achieved, false) AS understood,
       user_id, intent
FROM read_parquet({{messages}}, hive_partitioning = false);
-- needs: messages
INSERT INTO message_traffic
SELECT org_uuid, env_uuid, bot_uuid, channel_uuid, bucket,
       count(*) FILTER (WHERE is_user), count(*) FILTER (WHERE is_user AND understood),
       count(*) FILTER (WHERE NOT is_user), min(created_at)
FROM m GROUP BY ALL;
-- needs: messages
INSERT INTO user_activity
SELECT DISTINCT org_uuid, env_uuid, bot_uuid, channel_uuid, bucket, user_id
FROM m WHERE is_user;
-- needs: messages
INSERT INTO intent_counts
SELECT org_uuid, env_uuid, bot_uuid, channel_uuid, bucket, intent, count(*)
FROM m WHERE is_user AND intent IS NOT NULL AND intent <> ''
GROUP BY ALL;
-- needs: messages
DROP TABLE m;
