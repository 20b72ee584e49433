-- Does a migration statement whose query id starts with one of these prefixes still run on the server?
SELECT count() > 0 FROM system.processes WHERE arrayExists(p -> startsWith(query_id, p), {prefixes:Array(String)})
