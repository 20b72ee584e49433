-- Empty a staging table before a refresh writes into it ({table}: spend_anomalies_staging or cache_breaks_staging).
TRUNCATE TABLE {table:Identifier}
