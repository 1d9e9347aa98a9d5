"""home visits (policies, check-lists, itinerary stops, visit records, follow-ups) and case files

Revision ID: 0008
Revises: 0010
Create Date: 2026-12-04 09:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coordinator.db

revision: str = "0008"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "visit_checklists",
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("updated_at", coordinator.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_visit_checklists_station_id_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("station_id", name=op.f("pk_visit_checklists")),
    )
    op.create_table(
        "visit_policies",
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("interval_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", coordinator.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_visit_policies_station_id_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("station_id", "category", name=op.f("pk_visit_policies")),
    )
    op.create_table(
        "visit_records",
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("visited_at", coordinator.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("needs", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", coordinator.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_visit_records_event_id_events"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["users.id"],
            name=op.f("fk_visit_records_recorded_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_visit_records_resident_id_residents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_visit_records_station_id_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_records")),
        sa.UniqueConstraint("event_id", "resident_id", name=op.f("uq_visit_records_event_id_resident_id")),
    )
    op.create_index("ix_visit_records_resident_id_visited_at", "visit_records", ["resident_id", "visited_at"])
    op.create_index("ix_visit_records_station_id_visited_at", "visit_records", ["station_id", "visited_at"])

    op.create_table(
        "visit_stops",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_visit_stops_event_id_events"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_visit_stops_resident_id_residents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "resident_id", name=op.f("pk_visit_stops")),
    )
    op.create_index("ix_visit_stops_resident_id", "visit_stops", ["resident_id"])

    op.create_table(
        "cases",
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("worker_person_id", sa.Integer(), nullable=False),
        sa.Column("opened_from_visit_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("assessment", sa.Text(), nullable=True),
        sa.Column("plan", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("close_reason", sa.String(length=200), nullable=True),
        sa.Column("opened_by", sa.Integer(), nullable=True),
        sa.Column("opened_at", coordinator.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", coordinator.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", coordinator.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["opened_by"], ["users.id"], name=op.f("fk_cases_opened_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["opened_from_visit_id"],
            ["visit_records.id"],
            name=op.f("fk_cases_opened_from_visit_id_visit_records"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_cases_resident_id_residents"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_cases_station_id_stations"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["worker_person_id"],
            ["people.id"],
            name=op.f("fk_cases_worker_person_id_people"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
    )
    op.create_index("ix_cases_resident_id", "cases", ["resident_id"])
    op.create_index("ix_cases_station_id_status", "cases", ["station_id", "status"])

    op.create_table(
        "visit_follow_ups",
        sa.Column("visit_record_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=200), nullable=False),
        sa.Column("owner_person_id", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("done_at", coordinator.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", coordinator.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_person_id"],
            ["people.id"],
            name=op.f("fk_visit_follow_ups_owner_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_visit_follow_ups_resident_id_residents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_visit_follow_ups_station_id_stations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["visit_record_id"],
            ["visit_records.id"],
            name=op.f("fk_visit_follow_ups_visit_record_id_visit_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_follow_ups")),
    )
    op.create_index("ix_visit_follow_ups_station_id_due_on", "visit_follow_ups", ["station_id", "due_on"])

    op.create_table(
        "case_entries",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("at", coordinator.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("visit_record_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", coordinator.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_case_entries_author_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_entries_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["visit_record_id"],
            ["visit_records.id"],
            name=op.f("fk_case_entries_visit_record_id_visit_records"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_entries")),
    )
    op.create_index("ix_case_entries_case_id_at", "case_entries", ["case_id", "at"])

    op.create_table(
        "case_reads",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("read_at", coordinator.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("what", sa.String(length=20), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_reads_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_case_reads_station_id_stations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_case_reads_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_reads")),
    )
    op.create_index("ix_case_reads_station_id_read_at", "case_reads", ["station_id", "read_at"])


def downgrade() -> None:
    op.drop_index("ix_case_reads_station_id_read_at", table_name="case_reads")

    op.drop_table("case_reads")
    op.drop_index("ix_case_entries_case_id_at", table_name="case_entries")

    op.drop_table("case_entries")
    op.drop_index("ix_visit_follow_ups_station_id_due_on", table_name="visit_follow_ups")

    op.drop_table("visit_follow_ups")
    op.drop_index("ix_cases_station_id_status", table_name="cases")
    op.drop_index("ix_cases_resident_id", table_name="cases")

    op.drop_table("cases")
    op.drop_index("ix_visit_stops_resident_id", table_name="visit_stops")

    op.drop_table("visit_stops")
    op.drop_index("ix_visit_records_station_id_visited_at", table_name="visit_records")
    op.drop_index("ix_visit_records_resident_id_visited_at", table_name="visit_records")

    op.drop_table("visit_records")
    op.drop_table("visit_policies")
    op.drop_table("visit_checklists")
