"""The SQLite work of backups, through the standard library's ``sqlite3`` (blocking: callers run
it in a thread): copies with the online backup API, never a file copy, and the checks of a copy."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

# How long a connection waits for another's write lock (as the service's own connections do).
BUSY_TIMEOUT_SECONDS = 30.0


def connect(
    path: Path, *, read_only: bool = False, timeout: float = BUSY_TIMEOUT_SECONDS
) -> sqlite3.Connection:
    """``isolation_level=None``: this code says when transactions begin, not the driver."""
    if read_only:  # the file given is never changed, not even its journal mode
        return sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout, isolation_level=None
        )
    return sqlite3.connect(path, timeout=timeout, isolation_level=None)


def copy_to_file(source: sqlite3.Connection, target: Path) -> None:
    """A consistent copy of ``source`` as one self-contained file at ``target``, which appears
    only once complete (written as ``….partial``, then renamed)."""
    partial = target.with_name(f"{target.name}.partial")
    partial.unlink(missing_ok=True)  # left by a copy that was interrupted
    try:
        with contextlib.closing(connect(partial)) as destination:
            copy_into(source, destination)
            # The copied pages carry the source's WAL flag; a backup is one file, without a -wal.
            destination.execute("PRAGMA journal_mode=DELETE")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def copy_into(source: sqlite3.Connection, destination: sqlite3.Connection) -> None:
    """Replace ``destination``'s content with ``source``'s, in one step: the copy reads one
    snapshot, so the service's writers go on meanwhile (WAL) and none of their transactions is
    half in it; a copy in several steps would start over each time one of them commits."""
    source.backup(destination)


def problems(connection: sqlite3.Connection) -> list[str]:
    """What ``PRAGMA integrity_check`` and ``foreign_key_check`` find; empty when it is sound."""
    try:
        found = [row[0] for row in connection.execute("PRAGMA integrity_check") if row[0] != "ok"]
    except sqlite3.DatabaseError as exc:  # damaged beyond what the check can list
        return [str(exc)]
    if found:  # reading the keys of damaged pages would only fail
        return found
    return [
        f"{table} row {rowid}: no {parent} row for foreign key {key}"
        for table, rowid, parent, key in connection.execute("PRAGMA foreign_key_check")
    ]
