"""Users, roles per case, and bearer secrets (API tokens, browser sessions, calendar feeds).

Passwords are stored as scrypt hashes (stdlib ``hashlib.scrypt``: memory-hard, no extra
dependency); secrets are random 32-byte tokens shown once and stored as their SHA-256, so a
copy of the database lets nobody in.

Roles: ``admin`` is a user flag (every case, user management); per case a user is
``counsel`` (reads everything about the case, records any event), ``coordinator`` (reads the
case, records custody events only) or ``auditor`` (reads the case and its audit chain).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlmodel import Session, col, select

from tipstaff.engine.datafile import suggest
from tipstaff.engine.errors import InputError
from tipstaff.store import repo
from tipstaff.store.models import MembershipRow, SecretRow, UserRow, naive_utc

UTC = dt.UTC
ROLES = ("counsel", "coordinator", "auditor")
# Event types a coordinator may record: custody of the produced pages and items.
CUSTODY_EVENTS = frozenset({"document_viewed", "documents_returned", "documents_destroyed",
                            "item_delivered", "material_retrieved"})
_SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}



def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$digest`` for ``password``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    """Constant-time comparison of ``password`` with a stored hash."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    found = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), dklen=32, n=int(n),
                           r=int(r), p=int(p))
    return hmac.compare_digest(found.hex(), digest)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking, and what they may see."""

    user_id: int
    username: str
    name: str
    is_admin: bool
    roles: dict[str, str]  # case id -> role

    def role(self, case_id: str) -> str | None:
        """This user's role on the case (``admin`` for administrators), or None."""
        return "admin" if self.is_admin else self.roles.get(case_id)

    def may_record(self, case_id: str, event_type: str) -> bool:
        role = self.role(case_id)
        if role in ("admin", "counsel"):
            return True
        return role == "coordinator" and event_type in CUSTODY_EVENTS


def add_user(session: Session, *, username: str, name: str, password: str, admin: bool,
             at: dt.datetime) -> UserRow:
    if not username or not username.replace("-", "").replace("_", "").replace(".",
                                                                              "").isalnum():
        raise InputError(f"username {username!r}: use letters, digits, '.', '-' and '_'")
    if len(password) < 10:
        raise InputError("password: at least 10 characters")
    if session.exec(select(UserRow).where(UserRow.username == username)).first():
        raise InputError(f"user {username!r} already exists")
    row = UserRow(username=username, name=name, password_hash=hash_password(password),
                  is_admin=admin, created_utc=naive_utc(at))
    session.add(row)
    session.flush()
    return row


def get_user(session: Session, *, username: str) -> UserRow:
    row = session.exec(select(UserRow).where(UserRow.username == username)).first()
    if row is None:
        known = list(session.exec(select(UserRow.username)).all())
        raise InputError(f"no user {username!r}{suggest(username, known)}")
    return row


def grant(session: Session, *, user: UserRow, case_id: str, role: str,
          party_id: str | None) -> MembershipRow:
    """Give ``user`` ``role`` on the case (replacing an earlier role there)."""
    if role not in ROLES:
        raise InputError(f"role {role!r}: expected one of {', '.join(ROLES)}"
                         f"{suggest(role, ROLES)}")
    repo.get_case(session, case_id=case_id)
    row = session.exec(select(MembershipRow).where(MembershipRow.user_id == user.id,
                                                   MembershipRow.case_id == case_id)).first()
    if row is None:
        assert user.id is not None
        row = MembershipRow(user_id=user.id, case_id=case_id, role=role, party_id=party_id)
    row.role = role
    row.party_id = party_id
    session.add(row)
    session.flush()
    return row


def revoke(session: Session, *, user: UserRow, case_id: str) -> bool:
    row = session.exec(select(MembershipRow).where(MembershipRow.user_id == user.id,
                                                   MembershipRow.case_id == case_id)).first()
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def principal(session: Session, user: UserRow) -> Principal:
    assert user.id is not None
    roles = {m.case_id: m.role for m in session.exec(
        select(MembershipRow).where(MembershipRow.user_id == user.id)).all()}
    return Principal(user_id=user.id, username=user.username, name=user.name,
                     is_admin=user.is_admin, roles=roles)


def create_secret(session: Session, *, user: UserRow, kind: str, at: dt.datetime,
                  label: str = "", case_id: str | None = None,
                  lifetime: dt.timedelta | None = None) -> tuple[str, SecretRow]:
    """A new secret (returned once, in clear) and its stored row."""
    prefix = {"api_token": "tst_", "session": "", "feed": "feed_"}[kind]
    value = prefix + secrets.token_urlsafe(32)
    assert user.id is not None
    row = SecretRow(digest=digest(value), kind=kind, user_id=user.id, case_id=case_id,
                    label=label, created_utc=naive_utc(at),
                    csrf=secrets.token_urlsafe(24) if kind == "session" else None,
                    expires_utc=naive_utc(at + lifetime) if lifetime else None)
    session.add(row)
    session.flush()
    return value, row


def resolve_secret(session: Session, *, value: str, kind: str, at: dt.datetime
                   ) -> tuple[SecretRow, UserRow] | None:
    """The live secret and its (active) user, or None."""
    row = session.exec(select(SecretRow).where(SecretRow.digest == digest(value),
                                               SecretRow.kind == kind)).first()
    if row is None or row.revoked:
        return None
    if row.expires_utc is not None and row.expires_utc <= naive_utc(at):
        return None
    user = session.get(UserRow, row.user_id)
    if user is None or not user.active:
        return None
    return row, user


def list_users(session: Session) -> list[tuple[UserRow, list[MembershipRow]]]:
    users = list(session.exec(select(UserRow).order_by(col(UserRow.username))).all())
    members = list(session.exec(select(MembershipRow)).all())
    return [(u, [m for m in members if m.user_id == u.id]) for u in users]
