"""WeChat: why it last refused a person (people.wechat_refusal), their openid looked up by index,
and subscribe-message acceptances left per openid and template (wechat_subscriptions)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coordinator.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("people", sa.Column("wechat_refusal", sa.String(length=20), nullable=True))
    op.create_index("ix_people_wechat_openid", "people", ["wechat_openid"])
    op.create_table(
        "wechat_subscriptions",
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("template_id", sa.String(length=128), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("updated_at", coordinator.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("openid", "template_id", name=op.f("pk_wechat_subscriptions")),
    )


def downgrade() -> None:
    op.drop_table("wechat_subscriptions")
    op.drop_index("ix_people_wechat_openid", table_name="people")
    # Not in batch mode: on SQLite that copies the table, and dropping the old one would cascade
    # to everything that refers to people. SQLite drops a plain column in place since 3.35.
    op.execute("ALTER TABLE people DROP COLUMN wechat_refusal")
