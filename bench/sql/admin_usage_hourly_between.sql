-- Benchmark: the Admin API usage rows of [start, end), as a re-fetch of those hours would return them.
SELECT bucket_start, workspace_id, api_key_id, model, service_tier, context_window, inference_geo, speed,
       uncached_input_tokens,
       cache_read_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens, output_tokens, web_search_requests
FROM admin_usage_hourly FINAL
WHERE bucket_start >= {start:DateTime('UTC')} AND bucket_start < {end:DateTime('UTC')}
ORDER BY bucket_start, workspace_id, api_key_id, model, service_tier, context_window, inference_geo, speed
