-- The highest step of earlier attempts at a migration that finished on the server (read after SYSTEM FLUSH LOGS;
-- query ids end in the step), or none. The statements of an attempt run in order, so every step up to it is done.
SELECT max(toUInt32(splitByChar('-', query_id)[-1]))
FROM system.query_log
WHERE type = 'QueryFinish' AND arrayExists(p -> startsWith(query_id, p), {prefixes:Array(String)})
HAVING count() > 0
