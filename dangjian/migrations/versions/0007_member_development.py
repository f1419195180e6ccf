"""Party member development process (发展党员)

Tables for the per-person development process (models/development.py): one case per
applicant from the 入党申请书 on (development_case), and its append-only milestones
(development_milestone; a correction is a new row superseding the old one). The
milestones' tasks are ordinary task rows with duty codes "dev:<step>".

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'development_case',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('branch_id', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('id_number', sa.String(length=18), nullable=False),
        sa.Column('gender', sa.String(length=10), nullable=False),
        sa.Column('birth_date', sa.Date(), nullable=False),
        sa.Column('category', sa.String(length=20), nullable=False),
        sa.Column('member_id', sa.String(length=40), nullable=False),
        sa.Column('process_code', sa.String(length=40), nullable=False),
        sa.Column('step', sa.String(length=40), nullable=False),
        sa.Column('stage', sa.Integer(), nullable=False),
        sa.Column('opened_on', sa.Date(), nullable=False),
        sa.Column('closed_on', sa.Date(), nullable=True),
        sa.Column('outcome', sa.String(length=20), nullable=True),
        sa.Column('close_reason', sa.String(length=300), nullable=True),
        sa.Column('created_by', sa.String(length=80), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['branch_id'], ['unit.id'], name=op.f('fk_development_case_branch_id_unit')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_development_case')),
        sa.UniqueConstraint('member_id', name=op.f('uq_development_case_member_id')),
    )
    with op.batch_alter_table('development_case', schema=None) as batch_op:
        batch_op.create_index('ix_development_case_branch', ['branch_id', 'closed_on'], unique=False)
        batch_op.create_index('ix_development_case_id_number', ['id_number'], unique=False)

    op.create_table(
        'development_milestone',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('step', sa.String(length=40), nullable=False),
        sa.Column('recorded_on', sa.Date(), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.Column('note', sa.String(length=300), nullable=True),
        sa.Column('late', sa.Boolean(), nullable=False),
        sa.Column('flags', sa.JSON(), nullable=False),
        sa.Column('supersedes_id', sa.Integer(), nullable=True),
        sa.Column('correction_reason', sa.String(length=300), nullable=True),
        sa.Column('recorded_by', sa.String(length=80), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['development_case.id'],
                                name=op.f('fk_development_milestone_case_id_development_case')),
        sa.ForeignKeyConstraint(['supersedes_id'], ['development_milestone.id'],
                                name=op.f('fk_development_milestone_supersedes_id_development_milestone')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_development_milestone')),
        sa.UniqueConstraint('supersedes_id', name=op.f('uq_development_milestone_supersedes_id')),
    )
    with op.batch_alter_table('development_milestone', schema=None) as batch_op:
        batch_op.create_index('ix_development_milestone_case', ['case_id', 'step'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('development_milestone', schema=None) as batch_op:
        batch_op.drop_index('ix_development_milestone_case')
    op.drop_table('development_milestone')
    with op.batch_alter_table('development_case', schema=None) as batch_op:
        batch_op.drop_index('ix_development_case_id_number')
        batch_op.drop_index('ix_development_case_branch')
    op.drop_table('development_case')
