"""Every module that subscribes bus handlers. Importing this module registers them all with
``coordinator.bus.registry.registry``; the relay imports it before it fans out any event.

Add one import line per handler module (``# noqa: F401``: imported for its subscriptions)."""

from __future__ import annotations

import coordinator.attendance.handlers
import coordinator.notify.handlers
import coordinator.stats.rollups  # noqa: F401
