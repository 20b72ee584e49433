-- One row per fetch of the Analytics API cost report: the days it covered and how it went. The API's answer has
-- no watermark, so how final a month's figures are is told by when they were fetched (extracted_at).
CREATE TABLE IF NOT EXISTS analytics_fetches
(
    extracted_at        DateTime64(3, 'UTC'),
    start_date          Date,
    end_date            Date,
    rows                UInt64,
    pages               UInt32,
    requests            UInt32,
    retries             UInt32
)
ENGINE = MergeTree
ORDER BY extracted_at;
