"""How the demo's Dagster runs log: everything, DEBUG included, to the log file the demo redirects them to
(``$LEDGER_HOME/logs/demo.log``); the screen gets the summary only."""

LOG_LEVEL = {"loggers": {"console": {"config": {"log_level": "DEBUG"}}}}
