"""Metric values and manual scores entered for scoring

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'metric_value',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cycle_id', sa.Integer(), nullable=False),
        sa.Column('subject_id', sa.String(length=40), nullable=False),
        sa.Column('metric', sa.String(length=80), nullable=False),
        sa.Column('value', sa.Float(), nullable=False),
        sa.Column('entered_by', sa.String(length=80), nullable=False),
        sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('note', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], name=op.f('fk_metric_value_cycle_id_cycle')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_metric_value')),
        sa.UniqueConstraint('cycle_id', 'subject_id', 'metric', name='uq_metric_value'),
    )
    op.create_table(
        'manual_score',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cycle_id', sa.Integer(), nullable=False),
        sa.Column('subject_id', sa.String(length=40), nullable=False),
        sa.Column('item_code', sa.String(length=80), nullable=False),
        sa.Column('points', sa.Float(), nullable=False),
        sa.Column('entered_by', sa.String(length=80), nullable=False),
        sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('note', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], name=op.f('fk_manual_score_cycle_id_cycle')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_manual_score')),
        sa.UniqueConstraint('cycle_id', 'subject_id', 'item_code', name='uq_manual_score'),
    )


    # Member scorecards (党员积分): a scorecard's subject may be a member, its unit the branch.
    with op.batch_alter_table('scorecard') as batch_op:
        batch_op.add_column(sa.Column('subject_id', sa.String(length=40), nullable=False,
                                      server_default=''))
    op.execute("UPDATE scorecard SET subject_id = unit_id")
    with op.batch_alter_table('scorecard') as batch_op:
        batch_op.drop_constraint('uq_scorecard_unit', type_='unique')
        batch_op.create_unique_constraint('uq_scorecard_subject', ['run_id', 'subject_id'])
        batch_op.alter_column('subject_id', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('scorecard') as batch_op:
        batch_op.drop_constraint('uq_scorecard_subject', type_='unique')
        batch_op.create_unique_constraint('uq_scorecard_unit', ['run_id', 'unit_id'])
        batch_op.drop_column('subject_id')
    op.drop_table('manual_score')
    op.drop_table('metric_value')
