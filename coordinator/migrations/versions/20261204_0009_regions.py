"""regions (province → city → county → township), stations and staff under them, qualifications;
statistics cells by region

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-04 09:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coordinator.db

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "regions",
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("created_at", coordinator.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["regions.id"], name=op.f("fk_regions_parent_id_regions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regions")),
        sa.UniqueConstraint("code", name=op.f("uq_regions_code")),
    )
    op.create_index("ix_regions_parent_id_id", "regions", ["parent_id", "id"])
    op.create_table(
        "region_ancestors",
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("ancestor_id", sa.Integer(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["ancestor_id"], ["regions.id"],
                                name=op.f("fk_region_ancestors_ancestor_id_regions"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["region_id"], ["regions.id"],
                                name=op.f("fk_region_ancestors_region_id_regions"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("region_id", "ancestor_id", name=op.f("pk_region_ancestors")),
    )  # fmt: skip
    op.create_index("ix_region_ancestors_ancestor_id", "region_ancestors", ["ancestor_id", "region_id"])
    # Plain ADD COLUMN … REFERENCES (valid on both databases), not batch mode: on SQLite batch
    # mode copies the table, and dropping the old one would cascade to everything referring to it.
    for table in ("stations", "users"):
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN region_id INTEGER"
            f" CONSTRAINT fk_{table}_region_id_regions REFERENCES regions (id)"
        )
    op.create_index(op.f("ix_stations_region_id"), "stations", ["region_id"])
    op.add_column("people", sa.Column("qualification", sa.String(length=30), nullable=True))
    op.add_column("stats_events", sa.Column("region_id", sa.Integer(), nullable=True))
    op.create_index("ix_stats_cells_period_theme", "stats_cells", ["period", "theme"])


def downgrade() -> None:
    op.drop_index("ix_stats_cells_period_theme", table_name="stats_cells")
    op.execute("ALTER TABLE stats_events DROP COLUMN region_id")
    op.execute("ALTER TABLE people DROP COLUMN qualification")
    op.drop_index(op.f("ix_stations_region_id"), table_name="stations")
    for table in ("users", "stations"):
        if op.get_bind().dialect.name == "postgresql":
            op.drop_constraint(f"fk_{table}_region_id_regions", table, type_="foreignkey")
        op.execute(f"ALTER TABLE {table} DROP COLUMN region_id")
    op.drop_index("ix_region_ancestors_ancestor_id", table_name="region_ancestors")
    op.drop_table("region_ancestors")
    op.drop_index("ix_regions_parent_id_id", table_name="regions")
    op.drop_table("regions")
