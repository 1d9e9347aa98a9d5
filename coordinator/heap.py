"""The long-lived part of a server process's heap, kept out of the garbage collector's way.

Everything built before serving (imported modules, SQLAlchemy's mappers, FastAPI's routes and
pydantic's schemas: about 330,000 objects) lives as long as the process, yet every full
collection walks all of it. Such a collection comes every few thousand requests and stalled the
process for 150 ms (every request in flight, and a role's lock held by one of them, waited): in
``bench/signup_contention.py`` it cost the round it fell in a third of its throughput. Frozen,
those objects are out of every collection; what requests allocate is collected as before.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Call once the process has built what it serves with, just before serving."""
    gc.collect()  # what start-up left as garbage goes now, not frozen for good
    gc.freeze()
