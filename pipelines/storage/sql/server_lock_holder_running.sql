-- Does a statement of a server lock's holder (its log_comment) still run on the server?
SELECT count() > 0 FROM system.processes WHERE Settings['log_comment'] = {comment:String}
