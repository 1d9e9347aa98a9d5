"""Backups of a station office's SQLite database: written while the service runs (``snapshot``,
from ``coordinator backup`` and the daily tick), kept N deep, and put back after checks
(``restore``). PostgreSQL is backed up with its own tools (README, "Backups")."""
