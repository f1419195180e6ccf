"""Audit chain head, anchors and append-only triggers; one report per task and version

- audit_event.seq: the position in the chain (existing events numbered in id order);
- audit_head: one row with the chain's length and last hash; appenders lock it, so the
  chain cannot fork, and a truncated tail no longer matches it;
- audit_anchor: copies of the head taken at score runs and verifications;
- triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) on audit_event, and any
  change to audit_head other than moving it forward;
- completion_task.version with a unique (task_id, version): two first reports (or two
  corrections to the same version) of one task cannot both be stored.

Existing databases: a task reported twice at the same version by the old race stops the
upgrade with the list of such tasks, to be resolved by hand (keep one report).
Note for later SQLite migrations: batch mode recreates a table and drops its triggers;
re-create them with `create_audit_triggers()` after altering audit_event or audit_head.

Revision ID: 0009
Revises: 0008
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSED = "审计记录只能追加，不能修改或删除（audit_event is append-only）"
HEAD_REFUSED = "审计链头只能向前推进（audit_head only moves forward）"

PG_TRIGGERS = [
    f"""CREATE OR REPLACE FUNCTION audit_event_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '{REFUSED}'; END $$""",
    """CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
        FOR EACH ROW EXECUTE FUNCTION audit_event_refuse()""",
    """CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
        FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse()""",
    f"""CREATE OR REPLACE FUNCTION audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' OR NEW.id <> OLD.id OR NEW.count < OLD.count
             OR (NEW.count = OLD.count AND NEW.hash <> OLD.hash) THEN
            RAISE EXCEPTION '{HEAD_REFUSED}';
          END IF;
          RETURN NEW;
        END $$""",
    """CREATE TRIGGER audit_head_forward_only BEFORE UPDATE OR DELETE ON audit_head
        FOR EACH ROW EXECUTE FUNCTION audit_head_forward()""",
    """CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
        FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse()""",
]
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
        BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END""",
    f"""CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
        BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END""",
    f"""CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head
        WHEN NEW.id <> OLD.id OR NEW.count < OLD.count OR (NEW.count = OLD.count AND NEW.hash <> OLD.hash)
        BEGIN SELECT RAISE(ABORT, '{HEAD_REFUSED}'); END""",
    f"""CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
        BEGIN SELECT RAISE(ABORT, '{HEAD_REFUSED}'); END""",
]


def create_audit_triggers() -> None:
    for statement in (PG_TRIGGERS if op.get_bind().dialect.name == "postgresql" else SQLITE_TRIGGERS):
        op.execute(statement)


def drop_audit_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for trigger, table in [("audit_event_append_only", "audit_event"), ("audit_event_no_truncate", "audit_event"),
                               ("audit_head_forward_only", "audit_head"), ("audit_head_no_truncate", "audit_head")]:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS audit_event_refuse()")
        op.execute("DROP FUNCTION IF EXISTS audit_head_forward()")
    else:
        for trigger in ("audit_event_no_update", "audit_event_no_delete", "audit_head_forward_only",
                        "audit_head_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")


def _refuse_double_reports(bind: sa.engine.Connection) -> None:
    doubles = bind.execute(sa.text(
        "SELECT ct.task_id, c.version, COUNT(*) FROM completion_task ct "
        "JOIN completion c ON c.id = ct.completion_id GROUP BY ct.task_id, c.version HAVING COUNT(*) > 1 "
        "ORDER BY ct.task_id")).all()
    if doubles:
        listed = "、".join(f"#{task}（第{version}版 {n} 份）" for task, version, n in doubles[:50])
        raise RuntimeError(f"升级中止：以下任务有重复的报送，须先人工保留一份再升级：{listed}")


def upgrade() -> None:
    bind = op.get_bind()
    _refuse_double_reports(bind)
    op.create_table(
        'audit_anchor',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.Column('reason', sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_anchor')),
    )
    op.create_table(
        'audit_head',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head')),
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
    # Existing events keep their order: seq is the rank of the id (through an indexed
    # temporary table, so the backfill stays n·log n on a large trail).
    op.execute("CREATE TEMPORARY TABLE audit_seq_fill AS "
               "SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS seq FROM audit_event")
    op.execute("CREATE UNIQUE INDEX audit_seq_fill_id ON audit_seq_fill (id)")
    op.execute("UPDATE audit_event SET seq = (SELECT f.seq FROM audit_seq_fill f WHERE f.id = audit_event.id)")
    op.execute("DROP TABLE audit_seq_fill")
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_event_seq'), ['seq'])
    op.execute(
        "INSERT INTO audit_head (id, count, hash) SELECT 1, COUNT(*), "
        "COALESCE((SELECT hash FROM audit_event ORDER BY seq DESC LIMIT 1), '" + "0" * 64 + "') FROM audit_event")

    with op.batch_alter_table('completion_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=True))
    op.execute("UPDATE completion_task SET version = "
               "(SELECT c.version FROM completion c WHERE c.id = completion_task.completion_id)")
    with op.batch_alter_table('completion_task', schema=None) as batch_op:
        batch_op.alter_column('version', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index('uq_completion_task_version', ['task_id', 'version'], unique=True)
    create_audit_triggers()


def downgrade() -> None:
    drop_audit_triggers()
    with op.batch_alter_table('completion_task', schema=None) as batch_op:
        batch_op.drop_index('uq_completion_task_version')
        batch_op.drop_column('version')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_event_seq'), type_='unique')
        batch_op.drop_column('seq')
    op.drop_table('audit_head')
    op.drop_table('audit_anchor')
