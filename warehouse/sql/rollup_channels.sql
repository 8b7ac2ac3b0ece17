-- The channel catalog, whole (it is small).
DELETE FROM channels;

-- needs: channels
INSERT INTO channels
SELECT org_uuid, env_uuid, bot_uuid, channel_uuid, name, description,
       channel_type_id, channel_type_name, channel_type_image, classification_id, classification_name
FROM read_parquet({{channels}});
