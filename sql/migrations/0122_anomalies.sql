-- Anomalies as the last anomaly refresh found them (docs/anomalies.md), for SQL users and the Dagster UI.
-- The spend_anomalies and cache_breaks assets write each into its *_staging twin and swap the two
-- (EXCHANGE TABLES, atomic): a reader sees the previous refresh or the new one, never half of one.
-- Alerts do not read these tables: the anomaly_alerts sensor computes the same from the rollups and
-- records what it sent in alerts_sent.

-- Spend anomalies, one per scope and day (the window with the highest score): the spend of the window, the
-- baseline median of the same hours and weekday in the baseline weeks and the expected range around it, the
-- score (spreads above the median), and what moved (per dimension, the values that rose most: actual and
-- their own baseline median). top_cell: team|feature|workspace|api key|model that rose most. reported_as: the
-- alert key of the anomaly that reports this incident (this row's own key when it is the broadest scope).
CREATE TABLE IF NOT EXISTS spend_anomalies
(
    day                     Date,
    scope                   LowCardinality(String),
    target                  String,
    window_kind             LowCardinality(String),
    window_start            DateTime('UTC'),
    window_end              DateTime('UTC'),
    actual_usd              Decimal(38, 12),
    expected_usd            Decimal(38, 12),
    expected_low_usd        Decimal(38, 12),
    expected_high_usd       Decimal(38, 12),
    score                   Float64,
    baseline_weeks          UInt8,
    contributors            Array(Tuple(dimension String, value String, actual_usd Decimal(38, 12),
                                        expected_usd Decimal(38, 12))),
    top_cell                String,
    alert_key               String,
    reported_as             String,
    computed_at             DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (day, scope, target);

CREATE TABLE IF NOT EXISTS spend_anomalies_staging AS spend_anomalies;

-- Cache breaks per day, kind (cache_hit_drop, cache_unread_writes), team and feature: the day's ratio and
-- its baseline median, the tokens it applies to, the dollars lost that day and the models they were lost on.
CREATE TABLE IF NOT EXISTS cache_breaks
(
    day                     Date,
    kind                    LowCardinality(String),
    team                    LowCardinality(String),
    feature                 LowCardinality(String),
    actual_ratio            Float64,
    expected_ratio          Float64,
    tokens                  UInt64,
    baseline_weeks          UInt8,
    lost_usd                Decimal(38, 12),
    models                  Array(Tuple(model String, lost_usd Decimal(38, 12))),
    alert_key               String,
    computed_at             DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (day, kind, team, feature);

CREATE TABLE IF NOT EXISTS cache_breaks_staging AS cache_breaks;
