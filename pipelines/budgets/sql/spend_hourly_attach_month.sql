-- One unchanged month of the rollup into the refresh's {build} table, as it is (its parts hard-linked).
ALTER TABLE {build:Identifier} ATTACH PARTITION ID {partition_id:String} FROM spend_hourly
