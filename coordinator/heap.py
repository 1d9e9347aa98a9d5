"""The long-lived part of a server process's heap, kept out of the garbage collector's way.

Everything built before serving (imported modules, SQLAlchemy's mappers, FastAPI's routes and
pydantic's schemas) lives as long as the process, yet every full collection walks all of it while
every request in flight waits. Frozen, those objects are out of every collection; what requests
allocate is collected as before. What it saved: bench/README.md (signup_contention.py)."""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Call once the process has built what it serves with, just before serving."""
    gc.collect()  # what start-up left as garbage goes now, not frozen for good
    gc.freeze()
