"""Member duties: dues, pledges, floating-member reports

Tables for the duties each member carries (models/member_duties.py): the dues base
(dues_income), payments and the months they settle (dues_payment, dues_payment_month),
approved reductions and exemptions (dues_exemption), approved leave from
organisation life (life_leave), and the "六个一" pledges (pledge).

Revision ID: 0005
Revises: 0004
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(precision=12, scale=2)


def upgrade() -> None:
    op.create_table(
        'dues_income',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.String(length=40), nullable=False),
        sa.Column('effective_month', sa.Date(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('base', MONEY, nullable=False),
        sa.Column('note', sa.String(length=300), nullable=True),
        sa.Column('recorded_by', sa.String(length=80), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_dues_income_member_id_member')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dues_income')),
        sa.UniqueConstraint('member_id', 'effective_month', name='uq_dues_income_month'),
    )
    op.create_table(
        'dues_payment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.String(length=40), nullable=False),
        sa.Column('paid_on', sa.Date(), nullable=False),
        sa.Column('amount', MONEY, nullable=False),
        sa.Column('extra', MONEY, nullable=False),
        sa.Column('to_central', sa.Boolean(), nullable=False),
        sa.Column('mode', sa.String(length=20), nullable=False),
        sa.Column('branch_consent', sa.Boolean(), nullable=False),
        sa.Column('paid_by', sa.String(length=60), nullable=True),
        sa.Column('note', sa.String(length=300), nullable=True),
        sa.Column('recorded_by', sa.String(length=80), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_dues_payment_member_id_member')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dues_payment')),
    )
    with op.batch_alter_table('dues_payment', schema=None) as batch_op:
        batch_op.create_index('ix_dues_payment_member', ['member_id', 'paid_on'], unique=False)

    op.create_table(
        'dues_payment_month',
        sa.Column('payment_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('member_id', sa.String(length=40), nullable=False),
        sa.Column('amount', MONEY, nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['member.id'],
                                name=op.f('fk_dues_payment_month_member_id_member')),
        sa.ForeignKeyConstraint(['payment_id'], ['dues_payment.id'],
                                name=op.f('fk_dues_payment_month_payment_id_dues_payment')),
        sa.PrimaryKeyConstraint('payment_id', 'month', name=op.f('pk_dues_payment_month')),
    )
    with op.batch_alter_table('dues_payment_month', schema=None) as batch_op:
        batch_op.create_index('ix_dues_payment_month_member', ['member_id', 'month'], unique=False)

    op.create_table(
        'dues_exemption',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('first_month', sa.Date(), nullable=False),
        sa.Column('last_month', sa.Date(), nullable=False),
        sa.Column('reduced_to', MONEY, nullable=True),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('approver_unit_id', sa.String(length=40), nullable=False),
        sa.Column('approved_on', sa.Date(), nullable=False),
        sa.Column('approved_by', sa.String(length=60), nullable=False),
        sa.Column('recorded_by', sa.String(length=80), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['approver_unit_id'], ['unit.id'],
                                name=op.f('fk_dues_exemption_approver_unit_id_unit')),
        sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_dues_exemption_member_id_member')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dues_exemption')),
    )
    with op.batch_alter_table('dues_exemption', schema=None) as batch_op:
        batch_op.create_index('ix_dues_exemption_member', ['member_id', 'first_month'], unique=False)

    op.create_table(
        'life_leave',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.String(length=40), nullable=False),
        sa.Column('first_month', sa.Date(), nullable=False),
        sa.Column('last_month', sa.Date(), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('approved_by', sa.String(length=60), nullable=False),
        sa.Column('recorded_by', sa.String(length=80), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_life_leave_member_id_member')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_life_leave')),
    )
    with op.batch_alter_table('life_leave', schema=None) as batch_op:
        batch_op.create_index('ix_life_leave_member', ['member_id', 'first_month'], unique=False)

    op.create_table(
        'pledge',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('target', sa.String(length=300), nullable=False),
        sa.Column('started_on', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('ended_on', sa.Date(), nullable=True),
        sa.Column('evidence', sa.Text(), nullable=True),
        sa.Column('recorded_by', sa.String(length=80), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_pledge_member_id_member')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pledge')),
    )
    with op.batch_alter_table('pledge', schema=None) as batch_op:
        batch_op.create_index('ix_pledge_member_kind', ['member_id', 'kind'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pledge', schema=None) as batch_op:
        batch_op.drop_index('ix_pledge_member_kind')
    op.drop_table('pledge')
    with op.batch_alter_table('life_leave', schema=None) as batch_op:
        batch_op.drop_index('ix_life_leave_member')
    op.drop_table('life_leave')
    with op.batch_alter_table('dues_exemption', schema=None) as batch_op:
        batch_op.drop_index('ix_dues_exemption_member')
    op.drop_table('dues_exemption')
    with op.batch_alter_table('dues_payment_month', schema=None) as batch_op:
        batch_op.drop_index('ix_dues_payment_month_member')
    op.drop_table('dues_payment_month')
    with op.batch_alter_table('dues_payment', schema=None) as batch_op:
        batch_op.drop_index('ix_dues_payment_member')
    op.drop_table('dues_payment')
    op.drop_table('dues_income')
