"""District targets split to units and signed responsibility letters

Tables for 党建目标责任制 (models/targets.py): the cycle's targets (target), the share
each unit carries with its 主要负责人 (target_allocation), the record of each unit's
signed 目标责任书 (letter_signing; the letter itself is a task, duty "target_letter"),
and the append-only progress reports (target_progress).

Revision ID: 0008
Revises: 0007
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'target',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cycle_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('measure', sa.String(length=10), nullable=False),
        sa.Column('total', sa.Float(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('metric', sa.String(length=80), nullable=True),
        sa.Column('note', sa.String(length=300), nullable=True),
        sa.Column('set_by', sa.String(length=80), nullable=False),
        sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], name=op.f('fk_target_cycle_id_cycle')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_target')),
        sa.UniqueConstraint('cycle_id', 'code', name='uq_target_code'),
    )
    op.create_table(
        'target_allocation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('target_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.String(length=40), nullable=False),
        sa.Column('from_unit_id', sa.String(length=40), nullable=False),
        sa.Column('amount', sa.Float(), nullable=False),
        sa.Column('responsible_name', sa.String(length=60), nullable=False),
        sa.Column('responsible_post', sa.String(length=60), nullable=True),
        sa.Column('allocated_by', sa.String(length=80), nullable=False),
        sa.Column('allocated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['target_id'], ['target.id'],
                                name=op.f('fk_target_allocation_target_id_target')),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_target_allocation_unit_id_unit')),
        sa.ForeignKeyConstraint(['from_unit_id'], ['unit.id'],
                                name=op.f('fk_target_allocation_from_unit_id_unit')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_target_allocation')),
        sa.UniqueConstraint('target_id', 'unit_id', name='uq_target_allocation'),
    )
    with op.batch_alter_table('target_allocation', schema=None) as batch_op:
        batch_op.create_index('ix_target_allocation_from', ['target_id', 'from_unit_id'], unique=False)

    op.create_table(
        'letter_signing',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cycle_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.String(length=40), nullable=False),
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('signed_on', sa.Date(), nullable=False),
        sa.Column('signed_by', sa.String(length=60), nullable=False),
        sa.Column('note', sa.String(length=300), nullable=True),
        sa.Column('evidence_name', sa.String(length=255), nullable=True),
        sa.Column('evidence_stored', sa.String(length=120), nullable=True),
        sa.Column('evidence_sha256', sa.String(length=64), nullable=True),
        sa.Column('evidence_size', sa.Integer(), nullable=True),
        sa.Column('recorded_by', sa.String(length=80), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], name=op.f('fk_letter_signing_cycle_id_cycle')),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_letter_signing_unit_id_unit')),
        sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_letter_signing_task_id_task')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_letter_signing')),
        sa.UniqueConstraint('cycle_id', 'unit_id', name='uq_letter_signing_unit'),
        sa.UniqueConstraint('task_id', name=op.f('uq_letter_signing_task_id')),
    )
    op.create_table(
        'target_progress',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('allocation_id', sa.Integer(), nullable=False),
        sa.Column('reported_on', sa.Date(), nullable=False),
        sa.Column('value', sa.Float(), nullable=False),
        sa.Column('reported_by', sa.String(length=60), nullable=False),
        sa.Column('note', sa.String(length=300), nullable=True),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['allocation_id'], ['target_allocation.id'],
                                name=op.f('fk_target_progress_allocation_id_target_allocation')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_target_progress')),
    )
    with op.batch_alter_table('target_progress', schema=None) as batch_op:
        batch_op.create_index('ix_target_progress_allocation', ['allocation_id', 'reported_on'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('target_progress', schema=None) as batch_op:
        batch_op.drop_index('ix_target_progress_allocation')
    op.drop_table('target_progress')
    op.drop_table('letter_signing')
    with op.batch_alter_table('target_allocation', schema=None) as batch_op:
        batch_op.drop_index('ix_target_allocation_from')
    op.drop_table('target_allocation')
    op.drop_table('target')
