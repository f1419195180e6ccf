"""SQLModel tables: the schema, its constraints and indexes. Imports nothing of ours."""
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
