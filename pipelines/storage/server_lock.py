"""Named locks held on the ClickHouse server itself, for the writes that must not run twice at once.

Every process of the ledger (the Dagster daemon's sensors, each run, the ``ledger`` command, on one host or many)
talks to one server and nothing else: a lock they all see lives there. ClickHouse has no transactions, but
creating a table is atomic: the lock ``name`` is the table ``<name>_lock``, which exactly one process can create.
Its holder writes heartbeats into it (a thread does, with a client of its own, while the holder's statements run;
the migrator, which has no second client, renews between statements). A holder whose process is gone from this
host, or whose heartbeat is older than the lease, is taken over: the taker waits until none of its statements
still runs on the server (they carry the holder's ``log_comment``), then renames its table aside, to a name of
that table's own, so two takers cannot both win. Released, the table is renamed aside the same way.

Used by the schema migrator (``migrations.py``) and by each write that rebuilds shared state from scratch (the price
tables, the month's allocation and chargeback, the anomaly tables, the cache analysis, the budget status): without
it, two of them at once (a schedule's run and a sensor's, say) could each empty the table and both insert.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError

from pipelines.storage.sql_files import Queries

LEASE_S = 60.0  # a holder is taken over after this long without a heartbeat
WAIT_S = 3600.0  # give up waiting for another holder after this long
POLL_S = 0.2
TOMBSTONE_AGE_S = 3600  # lock tables renamed aside are dropped this long after
TABLE_ALREADY_EXISTS, UNKNOWN_TABLE = 57, 60

sql = Queries(__file__)
log = logging.getLogger(__name__)


class ServerLockError(RuntimeError):
    pass


def error_code(exc: DatabaseError) -> int | None:
    """The ClickHouse error code of a server exception."""
    match = re.search(r"Code: (\d+)", str(exc))
    return int(match.group(1)) if match else None


def _process_start(pid: int) -> int | None:
    """When process ``pid`` of this host started (clock ticks since boot), or None when there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


@dataclass
class ServerLock:
    """This process's hold on the lock ``name`` (the table ``<name>_lock``)."""

    client: Client
    name: str
    lease_s: float = LEASE_S
    holder: str = field(default_factory=lambda: uuid.uuid4().hex)
    table_uuid: str = ""
    renewed: float = 0.0  # time.monotonic() of the last heartbeat

    @property
    def table(self) -> str:
        return f"{self.name}_lock"

    @property
    def comment(self) -> str:
        """The ``log_comment`` of the holder's statements, by which a taker knows they still run."""
        return f"ledger-lock-{self.holder}"

    def _lock_table(self) -> tuple[str, int]:
        """The lock table's uuid and age in seconds; ('', 0) when there is no lock."""
        rows = self.client.query(sql("server_lock_table"), parameters={"table": self.table}).result_rows
        return (rows[0][0], int(rows[0][1])) if rows else ("", 0)

    def _heartbeat(self, client: Client | None = None) -> None:
        self.renewed = time.monotonic()
        (client or self.client).insert(self.table, [[self.holder, socket.gethostname(), os.getpid(),
                                                     _process_start(os.getpid()) or 0]],
                                       column_names=["holder", "host", "pid", "pid_started"])

    def _try_create(self) -> bool:
        try:
            self.client.command(sql("server_lock_create"), parameters={"table": self.table})
        except DatabaseError as exc:
            if error_code(exc) == TABLE_ALREADY_EXISTS:
                return False
            raise
        self.table_uuid = self._lock_table()[0]
        self._heartbeat()
        return True

    def acquire(self, wait_s: float = WAIT_S) -> None:
        deadline = time.monotonic() + wait_s
        while not self._try_create():
            self._take_over_if_dead()
            if time.monotonic() > deadline:
                raise ServerLockError(f"another process has held the lock {self.table} for more than {wait_s:.0f} s")
            time.sleep(POLL_S)

    def _take_over_if_dead(self) -> None:
        table_uuid, age_s = self._lock_table()
        if not table_uuid:
            return  # released meanwhile
        try:
            rows = self.client.query(sql("server_lock_holder"), parameters={"table": self.table}).result_rows
        except DatabaseError as exc:
            if error_code(exc) == UNKNOWN_TABLE:
                return  # released meanwhile
            raise
        if rows:
            holder, host, pid, pid_started, idle_s = rows[0]
            gone = host == socket.gethostname() and _process_start(pid) != pid_started
        else:  # its creator died before its first heartbeat, or is about to write it
            holder, host, pid, gone, idle_s = "", "?", 0, False, float(age_s)
        if not gone and idle_s <= self.lease_s:
            return
        while holder and self.client.query(sql("server_lock_holder_running"),
                                           parameters={"comment": f"ledger-lock-{holder}"}).result_rows[0][0]:
            time.sleep(POLL_S)  # its last statement still runs on the server: let it end first
        log.warning("taking over the lock %s of pid %s on %s: %s", self.table, pid, host,
                    "its process is gone" if gone else f"no heartbeat for {idle_s:.0f} s")
        self._retire(table_uuid)

    def _retire(self, table_uuid: str) -> None:
        """Rename the lock table aside, to a name of its own: if it is no longer the table with this uuid (another
        taker retired it first), that name is taken and the rename fails, leaving the newer lock alone."""
        with contextlib.suppress(DatabaseError):
            self.client.command("RENAME TABLE {table:Identifier} TO {tombstone:Identifier}",
                                parameters={"table": self.table,
                                            "tombstone": f"{self.table}_{table_uuid.replace('-', '')}"})

    def renew(self) -> None:
        """Extend the lease once a quarter of it has passed since the last heartbeat (no one takes a lock over
        before all of it has), first verifying that the lock is still this process's."""
        if time.monotonic() - self.renewed < self.lease_s / 4:
            return
        if self._lock_table()[0] != self.table_uuid:
            raise ServerLockError(f"the lock {self.table} was taken over by another process (this one was silent "
                                  f"for more than {self.lease_s:.0f} s): stopping; the other one does the work")
        self._heartbeat()

    def release(self) -> None:
        if self._lock_table()[0] == self.table_uuid:
            self._retire(self.table_uuid)
        for (name,) in self.client.query(sql("server_lock_tombstones"),
                                         parameters={"prefix": f"{self.table}_", "age_s": TOMBSTONE_AGE_S}
                                         ).result_rows:
            with contextlib.suppress(DatabaseError):
                self.client.command("DROP TABLE IF EXISTS {name:Identifier}", parameters={"name": name})


@contextlib.contextmanager
def server_lock(client: Client, name: str, *, heartbeats: Client | None = None, lease_s: float = LEASE_S,
                wait_s: float = WAIT_S) -> Iterator[ServerLock]:
    """Hold the lock ``name`` while the ``with`` lasts. The holder's statements (through ``client``) carry its
    ``log_comment``; with ``heartbeats`` (a second client of the same server) a thread keeps the lease alive
    however long a statement runs, else the holder calls ``renew()`` between its statements."""
    lock = ServerLock(client, name, lease_s)
    lock.acquire(wait_s)
    previous = client.get_client_setting("log_comment")
    client.set_client_setting("log_comment", lock.comment)
    stop = threading.Event()
    beating = threading.Thread(target=_beat, args=(lock, heartbeats, stop), daemon=True) if heartbeats else None
    if beating:
        beating.start()
    try:
        yield lock
    finally:
        stop.set()
        if beating:
            beating.join()
        client.set_client_setting("log_comment", previous or "")
        lock.release()


def _beat(lock: ServerLock, client: Client, stop: threading.Event) -> None:
    while not stop.wait(lock.lease_s / 4):
        lock._heartbeat(client)
