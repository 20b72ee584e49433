-- Swap a freshly written staging table with the table readers use, atomically ({table} and its {staging}).
EXCHANGE TABLES {table:Identifier} AND {staging:Identifier}
