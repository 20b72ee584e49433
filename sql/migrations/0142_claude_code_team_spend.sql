-- Claude Code spend per day and team (docs/claude_code.md).
-- customer_type 'api': charged_usd = the cost report's cost of the Claude Code workspace that day, split over
-- teams by their share of Claude Code's estimated cost (largest remainder in 1e-12 USD, so the day's parts sum
-- to the cost report exactly); provisional = 1 where the day has no cost report yet (charged = the estimate).
-- customer_type 'subscription': showback only, charged_usd = 0 (not on the API invoice). No claude_code.workspace_id
-- configured: api rows are shown with charged_usd = 0 (the spend stays where the allocation put it).
CREATE TABLE IF NOT EXISTS claude_code_team_daily
(
    date                        Date,
    workspace_id                LowCardinality(String),
    team                        LowCardinality(String),
    customer_type               LowCardinality(String),
    estimated_cost_usd          Decimal(38, 12),
    charged_usd                 Decimal(38, 12),
    provisional                 UInt8,
    computed_at                 DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(date)
ORDER BY (date, team, customer_type);

-- Claude Code's estimate (customer_type api) against the cost report of its workspace, per day.
-- difference = estimate - cost report; difference_pct of the cost report (null when the report is 0).
CREATE TABLE IF NOT EXISTS claude_code_reconciliation_daily
(
    date                        Date,
    workspace_id                LowCardinality(String),
    estimated_cost_usd          Decimal(38, 12),
    cost_report_usd             Decimal(38, 12),
    difference_usd              Decimal(38, 12),
    difference_pct              Nullable(Decimal(18, 4)),
    cost_report_present         UInt8,
    computed_at                 DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(date)
ORDER BY date;

-- Showback per month and team with Claude Code counted once: the allocation's cost of the Claude Code
-- workspace (charged to its owner) is replaced, on the days Claude Code's split exists, by that split of the
-- workspace's cost report.
-- total_usd = allocated_usd - claude_code_workspace_usd + claude_code_api_usd; subscription usage is shown,
-- never added.
CREATE VIEW IF NOT EXISTS finance_claude_code_by_team DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT
    month,
    team,
    sum(allocated)                              AS allocated_usd,
    sum(workspace)                              AS claude_code_workspace_usd,
    sum(api)                                    AS claude_code_api_usd,
    sum(subscription)                           AS claude_code_subscription_estimated_usd,
    allocated_usd - claude_code_workspace_usd + claude_code_api_usd AS total_usd
FROM
(
    SELECT toStartOfMonth(hour) AS month, team, allocated_cost_usd AS allocated,
           if((toDate(hour), workspace_id) IN (SELECT date, workspace_id FROM claude_code_team_daily
                                               WHERE customer_type = 'api' AND charged_usd != 0), allocated_cost_usd,
              toDecimal128(0, 12)) AS workspace,
           toDecimal128(0, 12) AS api, toDecimal128(0, 12) AS subscription
    FROM allocation_hourly
    UNION ALL
    SELECT toStartOfMonth(date), team, toDecimal128(0, 12), toDecimal128(0, 12),
           if(customer_type = 'api', charged_usd, toDecimal128(0, 12)),
           if(customer_type = 'subscription', estimated_cost_usd, toDecimal128(0, 12))
    FROM claude_code_team_daily FINAL
)
GROUP BY month, team;
