"""Reminders, escalation and warnings

Revision ID: 0003
Revises: 0002

Tables of models/chasing.py: notification channels per unit, the notification log
(unique key per cycle/day/kind/recipient/channel) and warnings (one open warning per
cycle, unit and kind: a partial unique index over rows with resolved_at IS NULL, which
SQLite and PostgreSQL both support).
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('notification_channel',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('target', sa.String(length=500), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_notification_channel_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_channel')),
    sa.UniqueConstraint('unit_id', 'kind', 'target', name='uq_notification_channel_target')
    )
    with op.batch_alter_table('notification_channel', schema=None) as batch_op:
        batch_op.create_index('ix_notification_channel_unit', ['unit_id', 'active'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('recipient_unit_id', sa.String(length=40), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['channel_id'], ['notification_channel.id'], name=op.f('fk_notification_channel_id_notification_channel')),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], name=op.f('fk_notification_cycle_id_cycle')),
    sa.ForeignKeyConstraint(['recipient_unit_id'], ['unit.id'], name=op.f('fk_notification_recipient_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    sa.UniqueConstraint('key', name=op.f('uq_notification_key'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_recipient_day', ['recipient_unit_id', 'as_of'], unique=False)

    op.create_table('warning',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('since', sa.Date(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('raised_on', sa.Date(), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('notified_level', sa.String(length=10), nullable=True),
    sa.Column('resolved_on', sa.Date(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], name=op.f('fk_warning_cycle_id_cycle')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_warning_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warning'))
    )
    with op.batch_alter_table('warning', schema=None) as batch_op:
        batch_op.create_index('ix_warning_unit', ['unit_id', 'kind'], unique=False)
        batch_op.create_index('uq_warning_open', ['cycle_id', 'unit_id', 'kind'], unique=True,
                              sqlite_where=sa.text('resolved_at IS NULL'),
                              postgresql_where=sa.text('resolved_at IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('warning', schema=None) as batch_op:
        batch_op.drop_index('uq_warning_open', sqlite_where=sa.text('resolved_at IS NULL'),
                            postgresql_where=sa.text('resolved_at IS NULL'))
        batch_op.drop_index('ix_warning_unit')

    op.drop_table('warning')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_recipient_day')

    op.drop_table('notification')
    with op.batch_alter_table('notification_channel', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_channel_unit')

    op.drop_table('notification_channel')
