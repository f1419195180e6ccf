"""Web accounts: creating users, signing in (throttled), API tokens.

Passwords are hashed with scrypt from the standard library (RFC 7914), with the
OWASP-recommended cost N=2**17, r=8, p=1 (128 MiB, ~0.3 s here), a 16-byte random
salt and a 32-byte key, stored as "scrypt$N$r$p$salt$key" (base64): the parameters
travel with each hash, so raising them later rehashes a password at its next sign-in.

Throttling is kept in the database (login_attempt) so it survives restarts: an
account is locked after LOCK_ACCOUNT_AFTER failed attempts since its last success
within WINDOW, an address after LOCK_IP_AFTER failed attempts within WINDOW.
While locked, attempts are refused without checking the password.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from dangjian.clock import now_utc
from dangjian.errors import Conflict, DomainError, NotFound, ValidationFailed
from dangjian.labels import UNIT_KIND
from dangjian.services import audit
from models import ApiToken, LoginAttempt, Role, Unit, UnitKind, User

SCRYPT_N, SCRYPT_R, SCRYPT_P, SALT_BYTES, KEY_BYTES = 2**17, 8, 1, 16, 32
SCRYPT_MAXMEM = 256 * 1024 * 1024
WINDOW = timedelta(minutes=15)
LOCK_ACCOUNT_AFTER = 5
LOCK_IP_AFTER = 20
MIN_PASSWORD = 8
TOKEN_PREFIX = "dj_"
USERNAME = re.compile(r"^[\w.@-]{2,60}$")

ROLE_LABEL = {Role.admin: "区县管理员", Role.reviewer: "街道审核员",
              Role.secretary: "支部书记", Role.leader: "领导"}
# Which kind of unit each role's account is scoped to.
ROLE_UNIT_KINDS: dict[Role, tuple[UnitKind, ...]] = {
    Role.admin: (UnitKind.district,),
    Role.reviewer: (UnitKind.street,),
    Role.secretary: (UnitKind.branch,),
    Role.leader: (UnitKind.district, UnitKind.street, UnitKind.community, UnitKind.branch),
}


class AuthFailed(DomainError):
    status = 401
    exit_code = 4


class TooManyAttempts(DomainError):
    status = 429
    exit_code = 4


BAD_LOGIN = "用户名或密码不正确"


# -- passwords ---------------------------------------------------------------------------

def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str, *, n: int | None = None) -> str:
    n = n or SCRYPT_N
    salt = secrets.token_bytes(SALT_BYTES)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=SCRYPT_R, p=SCRYPT_P,
                         maxmem=SCRYPT_MAXMEM, dklen=KEY_BYTES)
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n),
                             r=int(r), p=int(p), maxmem=SCRYPT_MAXMEM, dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def _needs_rehash(stored: str) -> bool:
    parts = stored.split("$")
    return len(parts) != 6 or parts[0] != "scrypt" or int(parts[1]) < SCRYPT_N


_DUMMY_HASH: str | None = None


def _burn_time(password: str) -> None:
    """Spend as long on an unknown account as on a known one (no username probing)."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password("not-a-real-password")
    verify_password(password, _DUMMY_HASH)


def check_password_rules(password: str, username: str) -> list[str]:
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append(f"密码至少 {MIN_PASSWORD} 位")
    if password.lower() == username.lower():
        problems.append("密码不能与用户名相同")
    if password and len(set(password)) < 4:
        problems.append("密码过于简单：至少包含 4 个不同的字符")
    return problems


# -- accounts ----------------------------------------------------------------------------

def add_user(*, session: Session, username: str, password: str, role: str, unit_id: str,
             display_name: str | None = None, actor: str) -> User:
    """Create an account scoped to one unit; everything is checked before anything is written."""
    username = username.strip()
    problems: list[str] = []
    if not USERNAME.match(username):
        problems.append("用户名须为 2–60 个字母、数字、汉字或 . _ @ -")
    if role not in Role.__members__:
        labels = "、".join(f"{r.value}（{ROLE_LABEL[r]}）" for r in Role)
        problems.append(f"未知的角色：{role}（可选：{labels}）")
    problems += check_password_rules(password, username)
    unit = session.get(Unit, unit_id)
    if unit is None:
        problems.append(f"未知的组织：{unit_id}")
    elif role in Role.__members__:
        kinds = ROLE_UNIT_KINDS[Role(role)]
        if unit.kind not in kinds:
            allowed = "、".join(UNIT_KIND[k] for k in kinds)
            problems.append(f"{ROLE_LABEL[Role(role)]}只能设在{allowed}：{unit.name}（{unit_id}）是"
                            f"{UNIT_KIND.get(str(unit.kind), str(unit.kind))}")
    if problems:
        raise ValidationFailed("账号未创建：", details=problems)
    if session.execute(select(User.id).where(User.username == username)).first():
        raise Conflict(f"用户名 {username} 已存在", field="username")
    user = User(username=username, display_name=(display_name or username).strip()[:60],
                password_hash=hash_password(password), role=Role(role), unit_id=unit_id)
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="user.add", entity="web_user", entity_id=user.id or 0,
                 after={"username": username, "role": role, "unit_id": unit_id})
    session.commit()
    return user


def set_password(*, session: Session, user_id: int, password: str, actor: str) -> User:
    user = get_user(session, user_id)
    problems = check_password_rules(password, user.username)
    if problems:
        raise ValidationFailed("密码未修改：", details=problems)
    user.password_hash = hash_password(password)
    user.session_version += 1
    session.add(user)
    audit.record(session, actor=actor, action="user.set_password", entity="web_user",
                 entity_id=user.id or 0, after={"session_version": user.session_version})
    session.commit()
    return user


def deactivate(*, session: Session, user_id: int, actor: str) -> User:
    user = get_user(session, user_id)
    if user.active:
        user.active = False
        user.session_version += 1
        session.add(user)
        audit.record(session, actor=actor, action="user.deactivate", entity="web_user",
                     entity_id=user.id or 0, before={"active": True}, after={"active": False})
    session.commit()
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"账号 #{user_id} 不存在", field="user")
    return user


def list_users(*, session: Session, under_path: str | None = None) -> list[tuple[User, Unit]]:
    query = select(User, Unit).join(Unit, Unit.id == User.unit_id)
    if under_path:
        query = query.where(Unit.path.startswith(under_path))
    return [tuple(r) for r in session.execute(query.order_by(Unit.path, User.username)).all()]  # type: ignore[misc]


def session_user(*, session: Session, user_id: int, session_version: int) -> User | None:
    """The user a session cookie names, if the account is active and the cookie is current."""
    user = session.get(User, user_id)
    if user is None or not user.active or user.session_version != session_version:
        return None
    return user


# -- signing in --------------------------------------------------------------------------

@dataclass(frozen=True)
class Lock:
    until: datetime

    def message(self, now: datetime) -> str:
        minutes = max(1, int((self.until - now).total_seconds() // 60) + 1)
        return f"登录失败次数过多，请 {minutes} 分钟后再试"


def _lock(session: Session, username: str, ip: str, now: datetime) -> Lock | None:
    since = now - WINDOW
    last_ok = session.execute(
        select(func.max(LoginAttempt.at)).where(LoginAttempt.username == username,
                                                LoginAttempt.succeeded.is_(True))
    ).scalar()
    account_since = max(since, last_ok) if last_ok else since
    for column, value, start, limit in ((LoginAttempt.username, username, account_since, LOCK_ACCOUNT_AFTER),
                                        (LoginAttempt.ip, ip, since, LOCK_IP_AFTER)):
        times = session.execute(
            select(LoginAttempt.at).where(column == value, LoginAttempt.succeeded.is_(False),
                                          LoginAttempt.at > start)
            .order_by(LoginAttempt.at.desc()).limit(limit)
        ).scalars().all()
        if len(times) >= limit:
            return Lock(until=min(times) + WINDOW)
    return None


def authenticate(*, session: Session, username: str, password: str, ip: str,
                 now: datetime | None = None) -> User:
    """Check a password, throttled per account and per address; every attempt is recorded."""
    now = now or now_utc()
    username = username.strip()[:60]
    ip = (ip or "unknown")[:64]
    lock = _lock(session, username, ip, now)
    if lock is not None:
        raise TooManyAttempts(lock.message(now), field="username")
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        _burn_time(password)
        ok = False
    else:
        ok = verify_password(password, user.password_hash) and user.active
    session.add(LoginAttempt(username=username, ip=ip, at=now, succeeded=ok))
    if not ok or user is None:
        session.commit()
        raise AuthFailed(BAD_LOGIN, field="password")
    if _needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    session.add(user)
    session.commit()
    return user


def prune_attempts(*, session: Session, older_than: timedelta = timedelta(days=30),
                   now: datetime | None = None) -> int:
    """Forget attempts older than a month (throttling only looks back WINDOW)."""
    from sqlalchemy import delete

    cutoff = (now or now_utc()) - older_than
    result = session.execute(delete(LoginAttempt).where(LoginAttempt.at < cutoff))
    session.commit()
    return result.rowcount or 0


# -- API tokens --------------------------------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(*, session: Session, user_id: int, name: str, actor: str,
                 expires_at: datetime | None = None) -> tuple[str, ApiToken]:
    """A new token for scripted use; the plain text is returned once and never stored."""
    user = get_user(session, user_id)
    if not name.strip():
        raise ValidationFailed("令牌名称不能为空", field="name")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(user_id=user.id or 0, name=name.strip()[:60], prefix=plain[:10],
                      token_hash=_token_hash(plain), expires_at=expires_at)
    session.add(record)
    session.flush()
    audit.record(session, actor=actor, action="api_token.create", entity="api_token",
                 entity_id=record.id or 0, after={"user_id": user.id, "name": record.name,
                                                  "prefix": record.prefix})
    session.commit()
    return plain, record


def token_user(*, session: Session, token: str, now: datetime | None = None) -> User:
    now = now or now_utc()
    record = session.execute(
        select(ApiToken).where(ApiToken.token_hash == _token_hash(token))
    ).scalar_one_or_none()
    if record is None or record.revoked_at is not None or (
            record.expires_at is not None and record.expires_at <= now):
        raise AuthFailed("API 令牌无效、已过期或已吊销")
    user = session.get(User, record.user_id)
    if user is None or not user.active:
        raise AuthFailed("API 令牌所属账号已停用")
    if record.last_used_at is None or now - record.last_used_at > timedelta(minutes=5):
        record.last_used_at = now
        session.add(record)
        session.commit()
    return user


def revoke_token(*, session: Session, token_id: int, user_id: int, actor: str,
                 now: datetime | None = None) -> ApiToken:
    record = session.get(ApiToken, token_id)
    if record is None or record.user_id != user_id:
        raise NotFound(f"令牌 #{token_id} 不存在", field="token")
    if record.revoked_at is None:
        record.revoked_at = now or now_utc()
        session.add(record)
        audit.record(session, actor=actor, action="api_token.revoke", entity="api_token",
                     entity_id=token_id, after={"revoked_at": record.revoked_at})
    session.commit()
    return record


def list_tokens(*, session: Session, user_id: int) -> list[ApiToken]:
    return list(session.execute(
        select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)
    ).scalars())
