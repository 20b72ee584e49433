-- Headline figures of a cache refresh since {from}: realised savings (events and Admin API), waste,
-- and the opportunities of the latest analysis.
SELECT
    (SELECT sum(realised_savings_usd) FROM cache_feature_daily FINAL WHERE date >= {from:Date})  AS events_savings,
    (SELECT sum(realised_savings_usd) FROM cache_key_daily FINAL WHERE date >= {from:Date})      AS admin_savings,
    (SELECT sum(wasted_5m_tokens + wasted_1h_tokens) FROM cache_waste_daily FINAL WHERE date >= {from:Date})
                                                                                                  AS wasted_tokens,
    (SELECT sum(wasted_premium_usd) FROM cache_waste_daily FINAL WHERE date >= {from:Date})       AS wasted_premium,
    (SELECT count() FROM cache_opportunities)                                                     AS opportunities,
    (SELECT sum(monthly_saving_usd) FROM cache_opportunities)                                     AS monthly_saving
