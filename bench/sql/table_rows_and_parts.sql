-- Benchmark: rows in a table (before de-duplication) and its active parts.
SELECT
    (SELECT count() FROM {table:Identifier}),
    (SELECT count() FROM system.parts WHERE database = currentDatabase() AND active AND table = {table:String})
