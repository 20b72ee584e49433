-- One row per fetch of the Analytics API cost report: the days it covered and the API's data_refreshed_at
-- watermark (the oldest one of its pages), so a month's export can say how final its numbers were.
CREATE TABLE IF NOT EXISTS analytics_fetches
(
    extracted_at        DateTime64(3, 'UTC'),
    start_date          Date,
    end_date            Date,
    data_refreshed_at   DateTime('UTC'),
    rows                UInt64,
    pages               UInt32,
    requests            UInt32,
    retries             UInt32
)
ENGINE = MergeTree
ORDER BY extracted_at;
