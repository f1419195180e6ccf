"""SQLModel tables: the schema, its constraints and indexes. Imports nothing of ours."""
from sqlmodel import SQLModel

# Named constraints, so later migrations can alter them on SQLite too (batch mode needs names).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

from models.audit import AuditEvent
from models.completion import Attendance, Completion, CompletionTask, Evidence, Presence
from models.cycle import Cycle, CycleState, SubjectKind, Task, TaskState
from models.org import Area, Gender, Member, MemberCategory, MemberStatus, Unit, UnitKind
from models.rules import RuleSetVersion
from models.scoring import ScoreLine, ScoreRun, Scorecard
from models.types import UtcDateTime, utcnow

__all__ = [
    "Area", "Attendance", "AuditEvent", "Completion", "CompletionTask", "Cycle", "CycleState",
    "Evidence", "Gender", "Member", "MemberCategory", "MemberStatus", "Presence", "RuleSetVersion",
    "ScoreLine", "ScoreRun", "Scorecard", "SubjectKind", "Task", "TaskState", "Unit", "UnitKind",
    "UtcDateTime", "utcnow",
]
