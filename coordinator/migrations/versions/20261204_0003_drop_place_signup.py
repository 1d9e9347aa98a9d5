"""one sign-up path: drop place_signup; event_roles.invited_count

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 05:00:00.000000

Sign-ups take one path on every database, in the request's transaction: the procedure and its
rules' string go. A role counts its unanswered invitations on its row, as it counts confirmed and
waiting sign-ups, so places held are read from the locked row.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("event_roles", sa.Column("invited_count", sa.Integer(), server_default="0", nullable=False))
    op.execute(
        "UPDATE event_roles SET invited_count = (SELECT count(*) FROM signups"
        " WHERE signups.role_id = event_roles.id AND signups.status = 'invited')"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP PROCEDURE IF EXISTS place_signup")
        op.execute("DROP FUNCTION IF EXISTS signup_rules_seen")


def downgrade() -> None:
    # Not in batch mode: on SQLite that copies the table, and dropping the old one would cascade
    # to its sign-ups. SQLite drops a plain column in place since 3.35.
    op.execute("ALTER TABLE event_roles DROP COLUMN invited_count")
    # Revision 0002 made the procedure: run its upgrade again.
    path = Path(__file__).with_name("20261130_0002_place_signup.py")
    spec = importlib.util.spec_from_file_location("place_signup_0002", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.upgrade()
