-- Whether the cache analysis covered the month {month}: its daily rollups hold rows of the month, for any team
-- (from usage events) or API key (from the Admin API).
SELECT (SELECT count() FROM cache_feature_daily WHERE toStartOfMonth(date) = {month:Date})
     + (SELECT count() FROM cache_key_daily WHERE toStartOfMonth(date) = {month:Date}) > 0
