-- The holder of a server lock (the first writer of a heartbeat), and seconds since its last heartbeat.
SELECT holder, host, pid, pid_started, dateDiff('millisecond', last, now64(3)) / 1000
FROM
(
    SELECT holder, any(host) AS host, any(pid) AS pid, any(pid_started) AS pid_started, max(heartbeat) AS last
    FROM {table:Identifier}
    WHERE holder = (SELECT argMin(holder, heartbeat) FROM {table:Identifier})
    GROUP BY holder
)
