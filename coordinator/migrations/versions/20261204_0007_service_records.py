"""volunteer service records: encrypted real-name identities, training/commendation/evaluation
entries, the certificate register and the audit of full-ID downloads

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-04 09:40:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coordinator.db


revision: str = '0007'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('certificates',
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('person_name', sa.String(length=60), nullable=False),
    sa.Column('id_type', sa.String(length=30), nullable=True),
    sa.Column('id_number_masked', sa.String(length=20), nullable=True),
    sa.Column('volunteer_number', sa.String(length=40), nullable=True),
    sa.Column('period_first', sa.Date(), nullable=False),
    sa.Column('period_last', sa.Date(), nullable=False),
    sa.Column('activities', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('issuer_name', sa.String(length=100), nullable=False),
    sa.Column('person_in_charge', sa.String(length=60), nullable=False),
    sa.Column('handler', sa.String(length=60), nullable=False),
    sa.Column('contact', sa.String(length=40), nullable=False),
    sa.Column('check_code', sa.String(length=32), nullable=False),
    sa.Column('issued_by', sa.Integer(), nullable=True),
    sa.Column('issued_at', coordinator.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', coordinator.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sa.Integer(), nullable=True),
    sa.Column('revoke_reason', sa.String(length=200), nullable=True),
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['issued_by'], ['users.id'], name=op.f('fk_certificates_issued_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_certificates_person_id_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['replaces_id'], ['certificates.id'], name=op.f('fk_certificates_replaces_id_certificates'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['revoked_by'], ['users.id'], name=op.f('fk_certificates_revoked_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_certificates_station_id_stations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates')),
    sa.UniqueConstraint('number', name=op.f('uq_certificates_number'))
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificates_person_id'), ['person_id'], unique=False)
        batch_op.create_index('ix_certificates_station_id_issued_at', ['station_id', 'issued_at'], unique=False)

    op.create_table('person_identities',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('id_type', sa.String(length=30), nullable=False),
    sa.Column('id_number_encrypted', sa.Text(), nullable=False),
    sa.Column('id_number_masked', sa.String(length=20), nullable=False),
    sa.Column('volunteer_number', sa.String(length=40), nullable=True),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', coordinator.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_person_identities_person_id_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_person_identities_updated_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_person_identities'))
    )
    op.create_table('personal_data_downloads',
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('at', coordinator.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('what', sa.String(length=60), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('period_first', sa.Date(), nullable=False),
    sa.Column('period_last', sa.Date(), nullable=False),
    sa.Column('id_numbers', sa.Integer(), nullable=False),
    sa.Column('client_address', sa.String(length=64), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_personal_data_downloads_station_id_stations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_personal_data_downloads_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_data_downloads'))
    )
    with op.batch_alter_table('personal_data_downloads', schema=None) as batch_op:
        batch_op.create_index('ix_personal_data_downloads_station_id_at', ['station_id', 'at'], unique=False)

    op.create_table('volunteer_record_entries',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('issuer', sa.String(length=100), nullable=True),
    sa.Column('content', sa.Text(), nullable=True),
    sa.Column('training_minutes', sa.Integer(), nullable=True),
    sa.Column('rating', sa.String(length=20), nullable=True),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('created_at', coordinator.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_volunteer_record_entries_person_id_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_volunteer_record_entries_recorded_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_volunteer_record_entries_station_id_stations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_volunteer_record_entries'))
    )
    with op.batch_alter_table('volunteer_record_entries', schema=None) as batch_op:
        batch_op.create_index('ix_volunteer_record_entries_person_id_day', ['person_id', 'day'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('volunteer_record_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_volunteer_record_entries_person_id_day')

    op.drop_table('volunteer_record_entries')
    with op.batch_alter_table('personal_data_downloads', schema=None) as batch_op:
        batch_op.drop_index('ix_personal_data_downloads_station_id_at')

    op.drop_table('personal_data_downloads')
    op.drop_table('person_identities')
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index('ix_certificates_station_id_issued_at')
        batch_op.drop_index(batch_op.f('ix_certificates_person_id'))

    op.drop_table('certificates')
