-- Event totals per team (after de-duplication), for the demo summary.
SELECT
    team,
    count()                                             AS events,
    sum(input_tokens)                                   AS input_tokens,
    sum(output_tokens)                                  AS output_tokens,
    sum(cache_read_input_tokens)                        AS cache_reads,
    sum(cache_write_5m_tokens + cache_write_1h_tokens)  AS cache_writes
FROM usage_events FINAL
GROUP BY team
ORDER BY team
