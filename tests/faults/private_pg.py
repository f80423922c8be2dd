"""A PostgreSQL cluster of a test's own (initdb into a temporary dir, a free port), so a test may stop,
kill and restart the server without touching the machine's shared one.

PostgreSQL refuses to run as root: as root the cluster's dir is given to the `postgres` account and
every server command runs as it (`runuser`). `available()` says why a cluster cannot be made here.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import time
from pathlib import Path

import psycopg

from ledger.localchain import free_port

SERVER_USER = "postgres"


def _bin_dir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def available() -> str | None:
    """None if a private cluster can be started here, else the reason it cannot."""
    if _bin_dir() is None:
        return "no initdb (install the postgresql package: scripts/setup does)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root and there is no {SERVER_USER!r} account to run the server as"
        if shutil.which("runuser") is None:
            return "running as root and there is no runuser to run the server as another account"
    return None


class PrivatePostgres:
    """`start()`, `stop_fast()`, `kill()` (SIGKILL to the postmaster), `start()` again."""

    def __init__(self, root: Path) -> None:
        bin_dir = _bin_dir()
        assert bin_dir is not None, available()
        self.bin = bin_dir
        self.root = root
        self.data = root / "pgdata"
        self.log = root / "postgres.log"
        self.port = free_port()
        root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            account = pwd.getpwnam(SERVER_USER)
            os.chown(root, account.pw_uid, account.pw_gid)
            root.chmod(0o700)
            for parent in root.parents:  # the server account must reach its dir (give `root` under /tmp)
                if parent.stat().st_mode & 0o001 == 0:
                    raise RuntimeError(f"{parent} is not traversable by the {SERVER_USER!r} account")
        self._run("initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        conf = (
            f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{root}'\n"
            "fsync = on\nmax_connections = 200\n"
        )
        with (self.data / "postgresql.conf").open("a") as out:
            out.write(conf)

    def _command(self, tool: str, *args: str) -> list[str]:
        command = [str(self.bin / tool), *args]
        return ["runuser", "-u", SERVER_USER, "--", *command] if os.geteuid() == 0 else command

    def _run(self, tool: str, *args: str) -> None:
        result = subprocess.run(self._command(tool, *args), capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} failed: {result.stderr.strip() or result.stdout}")

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self, timeout: float = 60.0) -> None:
        """Start the server; after a kill the old backends may still hold its shared memory a moment."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30", "start")
                return
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def stop_fast(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def postmaster_pid(self) -> int | None:
        pid_file = self.data / "postmaster.pid"
        try:
            return int(pid_file.read_text().splitlines()[0])
        except (OSError, IndexError, ValueError):
            return None

    def kill(self) -> None:
        """SIGKILL to the postmaster: no shutdown at all; its backends exit when they notice."""
        pid = self.postmaster_pid()
        assert pid is not None, "the server is not running"
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    def create_database(self, name: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def close(self) -> None:
        if self.postmaster_pid() is not None:
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except RuntimeError:
                pid = self.postmaster_pid()
                if pid is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
