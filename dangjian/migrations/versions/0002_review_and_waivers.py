"""Review loop and waivers for completions and tasks

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('completion_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('reviewer', sa.String(length=60), nullable=False),
    sa.Column('reviewing_unit_id', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['completion_id'], ['completion.id'], name=op.f('fk_review_completion_id_completion')),
    sa.ForeignKeyConstraint(['reviewing_unit_id'], ['unit.id'], name=op.f('fk_review_reviewing_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review'))
    )
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.create_index('ix_review_completion', ['completion_id', 'id'], unique=False)

    op.create_table('waiver',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('approver', sa.String(length=60), nullable=False),
    sa.Column('approving_unit_id', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['approving_unit_id'], ['unit.id'], name=op.f('fk_waiver_approving_unit_id_unit')),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_waiver_task_id_task')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waiver'))
    )
    with op.batch_alter_table('waiver', schema=None) as batch_op:
        batch_op.create_index('ix_waiver_active_expiry', ['ended_at', 'expires_on'], unique=False)
        batch_op.create_index('ix_waiver_task', ['task_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('waiver', schema=None) as batch_op:
        batch_op.drop_index('ix_waiver_task')
        batch_op.drop_index('ix_waiver_active_expiry')

    op.drop_table('waiver')
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.drop_index('ix_review_completion')

    op.drop_table('review')
