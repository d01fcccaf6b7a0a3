"""The case store's tables (SQLModel). The database is the system of record.

Instants are stored as naive UTC plus the IANA zone (and the original offset) they were
given in, because SQLite drops offsets from ``DateTime(timezone=True)``; the same plain
``DateTime`` columns work on PostgreSQL (SQLModel's own type insists on aware values and
leaves what a database does with the offset to chance). Event, finding, deadline and audit
rows are append-only.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def naive_utc(moment: dt.datetime) -> dt.datetime:
    """An aware instant as the stores keep it: naive UTC (see the module docstring)."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


class OrderRow(SQLModel, table=True):
    """An order file as loaded: its exact text and content hash (what a finding relied on)."""

    __tablename__ = "orders"

    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(index=True)
    version: int
    sha256: str = Field(unique=True, max_length=64)
    source: str
    content: str = Field(sa_column=Column(Text, nullable=False))
    loaded_utc: dt.datetime = Field(sa_column=Column(DateTime, nullable=False))


class CaseRow(SQLModel, table=True):
    __tablename__ = "cases"

    id: str = Field(primary_key=True, max_length=200)
    order_sha256: str = Field(foreign_key="orders.sha256", max_length=64)
    court: str
    zone: str
    caption: str
    opened_utc: dt.datetime = Field(sa_column=Column(DateTime, nullable=False))


class PartyRow(SQLModel, table=True):
    __tablename__ = "parties"
    __table_args__ = (UniqueConstraint("case_id", "party_id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=200)
    party_id: str
    name: str
    roles: str  # comma-separated
    contact: str | None = None
    active: bool = True
    email: str | None = None  # where reminders go (set with `tipstaff party set`)
    webhook: str | None = None


class EventRow(SQLModel, table=True):
    """One case event; ``hash`` chains it to the case's previous event."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("case_id", "event_id"),)

    seq: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=200)
    event_id: str = Field(max_length=200)
    type: str
    occurred_utc: dt.datetime | None = Field(  # instants
        default=None, sa_column=Column(DateTime, nullable=True))
    occurred_offset_min: int | None = None  # the offset the instant was given with
    occurred_date: dt.date | None = None  # date-only events
    zone: str
    data: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON
    recorded_utc: dt.datetime = Field(sa_column=Column(DateTime, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class FindingRow(SQLModel, table=True):
    """One evaluation of a case, as stored (append-only)."""

    __tablename__ = "findings"

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=200)
    order_sha256: str = Field(max_length=64)
    through_seq: int
    as_of_utc: dt.datetime = Field(sa_column=Column(DateTime, nullable=False))
    compliant: bool
    payload: str = Field(sa_column=Column(Text, nullable=False))
    recorded_utc: dt.datetime = Field(sa_column=Column(DateTime, nullable=False))


class DeadlineRow(SQLModel, table=True):
    """A term's deadline; a changed deadline is a new version that supersedes the old."""

    __tablename__ = "deadlines"
    __table_args__ = (UniqueConstraint("case_id", "term_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=200)
    term_id: str
    version: int
    due_date: dt.date | None = None
    due_utc: dt.datetime | None = Field(default=None,
                                        sa_column=Column(DateTime, nullable=True))
    zone: str
    status: str
    explanation: str = Field(sa_column=Column(Text, nullable=False))
    supersedes: int | None = None
    recorded_utc: dt.datetime = Field(sa_column=Column(DateTime, nullable=False))


class AuditRow(SQLModel, table=True):
    """Every write and access decision, hash-chained."""

    __tablename__ = "audit"

    seq: int | None = Field(default=None, primary_key=True)
    at_utc: dt.datetime = Field(sa_column=Column(DateTime, nullable=False))
    actor: str
    action: str
    subject: str
    detail: str = Field(sa_column=Column(Text, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class OutboxRow(SQLModel, table=True):
    """One message to deliver: to one party, of one kind, at one instant.

    ``key`` is unique per (deadline version, recipient, kind, instant) — or per (violation,
    recipient) — so planning twice never queues twice; it is also the stable Message-ID and
    webhook id, so the rare duplicate delivery (a crash between send and record) is
    recognisable. States: pending -> sending -> sent; pending -> cancelled (the deadline
    moved or was satisfied) or suppressed (the recipient left the case); a failed attempt
    goes back to pending with a later ``next_attempt_utc``.
    """

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=64)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=200)
    term_id: str
    deadline_version: int | None = None  # None for violation alerts
    kind: str  # notice | reminder | due_today | overdue | violation
    label: str
    recipient: str  # party id
    fire_utc: dt.datetime = Field(sa_column=Column(DateTime, nullable=False))
    due_date: dt.date | None = None
    due_utc: dt.datetime | None = Field(default=None, sa_column=Column(DateTime, nullable=True))
    zone: str
    detail: str = Field(sa_column=Column(Text, nullable=False))  # JSON: events, violation
    state: str = Field(index=True)
    next_attempt_utc: dt.datetime = Field(sa_column=Column(DateTime, nullable=False,
                                                           index=True))
    attempts: int = 0
    channel: str | None = None  # where it went: email | webhook | log
    escalated: bool = False
    claimed_by: str | None = None
    claimed_until_utc: dt.datetime | None = Field(default=None,
                                                  sa_column=Column(DateTime, nullable=True))
    sent_utc: dt.datetime | None = Field(default=None, sa_column=Column(DateTime, nullable=True))
    late: bool = False
    last_error: str | None = None
    created_utc: dt.datetime = Field(sa_column=Column(DateTime, nullable=False))


class DaemonRow(SQLModel, table=True):
    """A running (or last seen) daemon's heartbeat: what `tipstaff daemon status` reads."""

    __tablename__ = "daemons"

    name: str = Field(primary_key=True, max_length=200)
    host: str
    pid: int
    role: str  # leader | follower | stopped
    clock: str  # "real" or "simulated from ... at N x"
    started_utc: dt.datetime = Field(sa_column=Column(DateTime, nullable=False))
    beat_utc: dt.datetime = Field(sa_column=Column(DateTime, nullable=False))
    clock_utc: dt.datetime = Field(sa_column=Column(DateTime, nullable=False))
    last_tick_utc: dt.datetime | None = Field(default=None,
                                              sa_column=Column(DateTime, nullable=True))
    last_sent_utc: dt.datetime | None = Field(default=None,
                                              sa_column=Column(DateTime, nullable=True))
    sent: int = 0
    failures: int = 0
    last_error: str | None = None


class UserRow(SQLModel, table=True):
    """A person who signs in to the web pages or calls the API."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, max_length=200)
    name: str
    password_hash: str  # scrypt$n$r$p$salt$digest (hex)
    is_admin: bool = False
    active: bool = True
    created_utc: dt.datetime = Field(sa_column=Column(DateTime, nullable=False))


class MembershipRow(SQLModel, table=True):
    """A user's role on one case: counsel, coordinator or auditor."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    case_id: str = Field(foreign_key="cases.id", index=True, max_length=200)
    role: str
    party_id: str | None = None  # the case party this user acts for, if any


class SecretRow(SQLModel, table=True):
    """A bearer secret, stored as its SHA-256: an API token, a browser session, or a
    calendar feed (per user, or per case)."""

    __tablename__ = "secrets"

    id: int | None = Field(default=None, primary_key=True)
    digest: str = Field(unique=True, max_length=64)
    kind: str  # api_token | session | feed
    user_id: int = Field(foreign_key="users.id", index=True)
    case_id: str | None = None  # feeds: one case; None: all the user's cases
    label: str = ""
    csrf: str | None = None  # sessions: the form token
    created_utc: dt.datetime = Field(sa_column=Column(DateTime, nullable=False))
    expires_utc: dt.datetime | None = Field(default=None,
                                            sa_column=Column(DateTime, nullable=True))
    revoked: bool = False


class AckRow(SQLModel, table=True):
    """Someone acknowledged an alert (an outbox row, by key)."""

    __tablename__ = "acks"
    __table_args__ = (UniqueConstraint("alert_key", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    alert_key: str = Field(index=True, max_length=64)
    user_id: int = Field(foreign_key="users.id")
    at_utc: dt.datetime = Field(sa_column=Column(DateTime, nullable=False))
