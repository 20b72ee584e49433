-- After computing days [start, end) at computed_at: drop what earlier runs wrote for those days.
DELETE FROM claude_code_team_daily
WHERE date >= {start:Date} AND date < {end:Date}
  AND computed_at < {computed_at:DateTime64(3, 'UTC')}
