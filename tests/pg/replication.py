"""A PostgreSQL primary with a streaming standby of its own, in a temporary directory, for the
replica tests: ``initdb``, ``pg_basebackup -R`` and two servers on free ports. As root, the servers
run as the ``postgres`` user (PostgreSQL refuses root)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.notify.fake_server import unused_port

TOOLS = ("initdb", "pg_ctl", "pg_basebackup", "postgres")


def server_binaries() -> Path | None:
    """The newest PostgreSQL ``bin`` folder that has every tool, if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    for folder in reversed(found):
        if all((Path(folder) / tool).exists() for tool in TOOLS):
            return Path(folder)
    which = shutil.which("initdb")
    return Path(which).parent if which and all(shutil.which(t) for t in TOOLS) else None


def skip_reason() -> str | None:
    if server_binaries() is None:
        return "replica tests skipped: PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) not found"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "replica tests skipped: running as root and there is no 'postgres' user to run PostgreSQL"
    return None


@dataclass
class Cluster:
    root: Path
    binaries: Path
    primary_port: int
    standby_port: int

    def url(self, port: int) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{port}/coordinator"

    @property
    def primary_url(self) -> str:
        return self.url(self.primary_port)

    @property
    def standby_url(self) -> str:
        return self.url(self.standby_port)

    def run(self, tool: str, *args: str, check: bool = True) -> None:
        command = [str(self.binaries / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if check and done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stdout}{done.stderr}")

    def start(self, name: str) -> None:
        self.run("pg_ctl", "-D", str(self.root / name), "-l", str(self.root / f"{name}.log"), "-w", "start")

    def kill(self, name: str) -> None:
        """Stop a server at once, as a crash would: no checkpoint, connections cut."""
        self.run("pg_ctl", "-D", str(self.root / name), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        """Stop whichever servers still run (a test may have killed one)."""
        for name in ("standby", "primary"):
            if (self.root / name / "postmaster.pid").exists():
                self.run("pg_ctl", "-D", str(self.root / name), "-m", "fast", "-w", "stop", check=False)


def _configure(folder: Path, root: Path, port: int) -> None:
    with (folder / "postgresql.conf").open("a") as conf:
        conf.write(
            f"\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{root}'\n"
            "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\nfsync = off\n"
            "shared_buffers = 16MB\nmax_connections = 60\n"
        )


def create_primary() -> Cluster:
    """An empty primary, started, whose standby is made by ``start_standby`` once it holds the schema."""
    binaries = server_binaries()
    assert binaries is not None
    root = Path(tempfile.mkdtemp(prefix="coordinator-replica-"))
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(root, account.pw_uid, account.pw_gid)
    cluster = Cluster(root, binaries, unused_port(), unused_port())
    primary = root / "primary"
    cluster.run("initdb", "-D", str(primary), "-A", "trust", "-U", "postgres", "--no-sync")
    _configure(primary, root, cluster.primary_port)
    with (primary / "pg_hba.conf").open("a") as hba:
        hba.write("\nhost replication all 127.0.0.1/32 trust\n")
    cluster.start("primary")
    return cluster


def start_standby(cluster: Cluster) -> None:
    standby = cluster.root / "standby"
    cluster.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(cluster.primary_port), "-U", "postgres",
                "-D", str(standby), "-R", "-X", "stream", "--no-sync")  # fmt: skip
    _configure(standby, cluster.root, cluster.standby_port)
    cluster.start("standby")


def remove(cluster: Cluster) -> None:
    cluster.stop()
    shutil.rmtree(cluster.root, ignore_errors=True)
