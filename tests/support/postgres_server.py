"""A real PostgreSQL (Debian's ``postgresql`` 15) on a free loopback port, its cluster in a temporary directory;
started by the test that needs it, stopped and deleted after.

PostgreSQL refuses to run as root, and CI runs as root: there the cluster belongs to the ``postgres`` user the
Debian package creates (``runuser -u postgres --``), in a directory of its own under the system's temporary
directory (pytest's temporary directories are root's alone). Clients connect over TCP with a password, as Dagster
does in production; the superuser is reached over the cluster's own Unix socket (trust) to make roles and databases.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg2
from redis_server import free_port

BIN = Path("/usr/lib/postgresql/15/bin")
START_TIMEOUT_S = 120  # pg_ctl waits this long at most for the server to accept connections (the machine is shared)
STOP_TIMEOUT_S = 60


class PostgresServer:
    def __init__(self) -> None:
        if not (BIN / "pg_ctl").exists():
            raise RuntimeError(f"{BIN / 'pg_ctl'} is missing: apt-get install postgresql (make test does)")
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="ledger-postgres-"))
        self.data = self.directory / "data"
        self.log = self.directory / "postgres.log"
        self.as_owner: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.directory, owner.pw_uid, owner.pw_gid)
            self.as_owner = ["runuser", "-u", "postgres", "--"]
        try:
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth-local=trust",
                      "--auth-host=scram-sha-256", "--encoding=UTF8", "--no-instructions")
            with (self.data / "postgresql.conf").open("a") as conf:
                conf.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                           f"unix_socket_directories = '{self.directory}'\n"
                           "fsync = off\n")  # a throw-away cluster: durability across a power cut is not under test
            self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", str(START_TIMEOUT_S))
        except BaseException:
            shutil.rmtree(self.directory, ignore_errors=True)
            raise

    def _run(self, program: str, *args: str) -> None:
        completed = subprocess.run([*self.as_owner, str(BIN / program), *args], capture_output=True, text=True)
        if completed.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{program} failed: {completed.stdout[-2000:]}{completed.stderr[-2000:]}{log}")

    def superuser(self) -> psycopg2.extensions.connection:
        """The superuser over the Unix socket, in autocommit (CREATE DATABASE runs outside a transaction)."""
        connection = psycopg2.connect(host=str(self.directory), port=self.port, user="postgres", dbname="postgres")
        connection.autocommit = True
        return connection

    def create_database(self, name: str, owner: str, password: str) -> str:
        """A new database owned by a new login role ``owner``; its URL (``postgresql://owner:password@…``)."""
        connection = self.superuser()
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE ROLE "{owner}" LOGIN PASSWORD %s', (password,))
                cursor.execute(f'CREATE DATABASE "{name}" OWNER "{owner}"')
        finally:
            connection.close()
        return f"postgresql://{owner}:{password}@127.0.0.1:{self.port}/{name}"

    def dump(self, url: str) -> str:
        """Everything the database holds, schema and rows, as ``pg_dump`` writes it."""
        completed = subprocess.run([str(BIN / "pg_dump"), "--dbname", url], capture_output=True, text=True,
                                   check=True)
        return completed.stdout

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w", "-t", str(STOP_TIMEOUT_S))
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
