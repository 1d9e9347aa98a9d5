"""revocable sessions (users.session_version) and counted password logins (login_attempts)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 06:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coordinator.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("session_version", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "login_attempts",
        sa.Column("username_key", sa.String(length=64), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=False),
        sa.Column("attempted_at", coordinator.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index("ix_login_attempts_username_at", "login_attempts", ["username_key", "attempted_at"])
    op.create_index("ix_login_attempts_address_at", "login_attempts", ["client_address", "attempted_at"])


def downgrade() -> None:
    op.drop_index("ix_login_attempts_address_at", table_name="login_attempts")
    op.drop_index("ix_login_attempts_username_at", table_name="login_attempts")
    op.drop_table("login_attempts")
    # Not in batch mode: on SQLite that copies the table, and dropping the old one would cascade
    # to everything that refers to users. SQLite drops a plain column in place since 3.35.
    op.execute("ALTER TABLE users DROP COLUMN session_version")
