"""drop place_signup: sign-ups take one path on every database, in the request's transaction

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 05:00:00.000000
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP PROCEDURE IF EXISTS place_signup")
    op.execute("DROP FUNCTION IF EXISTS signup_rules_seen")


def downgrade() -> None:
    # Revision 0002 made them: run its upgrade again.
    spec = importlib.util.spec_from_file_location("place_signup_0002", Path(__file__).with_name("20261130_0002_place_signup.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.upgrade()
