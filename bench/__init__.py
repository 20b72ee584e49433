"""``make bench`` (bench/run.py): the benchmarks, each on the product's local ClickHouse server and on the embedded
reference (bench/harness.py)."""

import os

# The benchmarks' data is generated, in databases of their own. Importing an asset module (the sensors, the Admin API
# collector's constants) would otherwise find where the partitions start in $LEDGER_HOME's database, starting its
# local server to do so and leaving it running (pipelines/storage/partitions.py); tests/conftest.py does the same.
# The fixed-cost benchmark removes it again for the command it measures, which probes as any run does.
os.environ.setdefault("LEDGER_PARTITIONS_START", "2026-10-01")
