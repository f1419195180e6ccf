"""SQLModel tables: the schema, its constraints and indexes. Of ours it imports only the clock
(default timestamps come from dangjian.clock, so a fixed clock fixes them too)."""
from sqlmodel import SQLModel

# Named constraints, so later migrations can alter them on SQLite too (batch mode needs names).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

from models.audit import AuditAnchor, AuditEvent, AuditHead
from models.chasing import (
    ChannelKind,
    Notification,
    NotificationChannel,
    NotificationKind,
    NotificationStatus,
    UnitWarning,
    WarningKind,
    WarningLevel,
)
from models.completion import Attendance, Completion, CompletionTask, Evidence, Presence
from models.cycle import Cycle, CycleState, SubjectKind, Task, TaskState
from models.development import CaseOutcome, DevelopmentCase, Milestone
from models.member_duties import (
    DuesExemption,
    DuesIncome,
    DuesPayment,
    DuesPaymentMonth,
    ExemptionKind,
    IncomeKind,
    LifeLeave,
    PaymentMode,
    Pledge,
    PledgeKind,
    PledgeStatus,
)
from models.org import Area, Gender, Member, MemberCategory, MemberStatus, Unit, UnitKind
from models.review import Review, ReviewDecision, Waiver, WaiverEnd, WaiverKind
from models.rules import RuleSetVersion
from models.scoring import Scorecard, ScoreLine, ScoreRun
from models.scoring_inputs import ManualScore, MetricValue
from models.targets import (
    LETTER_DUTY,
    LetterSigning,
    ProgressReport,
    Target,
    TargetAllocation,
    TargetKind,
)
from models.types import UtcDateTime, utcnow
from models.web import ApiToken, LoginAttempt, Role, User

__all__ = [
    "LETTER_DUTY", "ApiToken", "Area", "Attendance", "AuditAnchor", "AuditEvent", "AuditHead", "CaseOutcome", "ChannelKind",
    "Completion", "CompletionTask", "Cycle", "CycleState", "DevelopmentCase", "DuesExemption",
    "DuesIncome", "DuesPayment", "DuesPaymentMonth", "Evidence", "ExemptionKind", "Gender",
    "IncomeKind", "LetterSigning", "LifeLeave", "LoginAttempt", "ManualScore", "Member",
    "MemberCategory", "MemberStatus", "MetricValue", "Milestone", "Notification",
    "NotificationChannel", "NotificationKind", "NotificationStatus", "PaymentMode", "Pledge",
    "PledgeKind", "PledgeStatus", "Presence", "ProgressReport", "Review", "ReviewDecision", "Role",
    "RuleSetVersion", "ScoreLine", "ScoreRun", "Scorecard", "SubjectKind", "Target",
    "TargetAllocation", "TargetKind", "Task", "TaskState", "Unit", "UnitKind", "UnitWarning",
    "User", "UtcDateTime", "Waiver", "WaiverEnd", "WaiverKind", "WarningKind", "WarningLevel",
    "utcnow",
]


def _store_enums_as_strings() -> None:
    """Enum columns are VARCHAR everywhere (as the migrations create them), never native
    PostgreSQL enum types: adding a state then needs no ALTER TYPE, and bulk inserts on
    PostgreSQL do not cast to enum types that do not exist."""
    from sqlalchemy import Enum

    for table in SQLModel.metadata.tables.values():
        for column in table.columns:
            if (isinstance(column.type, Enum) and column.type.native_enum
                    and column.type.enum_class is not None):    # every column of ours has one
                column.type = Enum(column.type.enum_class, native_enum=False,
                                   length=column.type.length, create_constraint=False,
                                   values_callable=lambda cls: [m.value for m in cls])


_store_enums_as_strings()
