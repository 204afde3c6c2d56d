"""Daily usage time of the assistant, and the limit minors mode puts on it.

Interim Measures art. 10: a provider prevents minors' over-reliance on and addiction to the
service. A policy's ``minors.daily_minutes`` caps the time one user spends a UTC day; the chat
flow records each turn's time with ``record_usage`` and asks ``check_minor_allowance`` before
the next one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hallmark.assistant.conversations import Clock, cutoff
from hallmark.errors import ConfigurationError, UsageLimit, UserError
from hallmark.policy.model import MinorsRule
from hallmark.store.models import UsageRecord, utcnow_iso

DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# An upsert that adds to the day's row in one statement, per database.
_INSERTS: dict[str, Callable[..., Any]] = {
    "sqlite": sqlite.insert,
    "postgresql": postgresql.insert,
}


@dataclass(slots=True, frozen=True)
class UsageToday:
    seconds: float
    turns: int

    def to_dict(self) -> dict[str, Any]:
        return {"seconds": self.seconds, "turns": self.turns}


def day_of(timestamp: str) -> str:
    """The UTC day (``YYYY-MM-DD``) of a ``utcnow_iso`` timestamp."""
    return timestamp[:10]


def _day(day: str | None, clock: Clock) -> str:
    if day is None:
        return day_of(clock())
    if not DAY.match(day):
        raise UserError(f"expected a day as YYYY-MM-DD, found {day!r}")
    return day


def remaining_seconds(rule: MinorsRule, used: UsageToday) -> float | None:
    """Seconds left today under the rule; None when it sets no daily limit."""
    if rule.daily_minutes is None:
        return None
    return max(0.0, rule.daily_minutes * 60 - used.seconds)


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def limit_error(rule: MinorsRule, used: UsageToday, day: str) -> UsageLimit | None:
    """The error for a user who reached the rule's daily limit, or None while time is left."""
    left = remaining_seconds(rule, used)
    if left is None or left > 0:
        return None
    limit = rule.daily_minutes
    unit = "minute" if limit == 1 else "minutes"
    return UsageLimit(
        f"minors mode allows {limit} {unit} a day; used {_duration(used.seconds)} today "
        "(UTC); try again tomorrow",
        limit_minutes=limit,
        used_seconds=used.seconds,
        day=day,
    )


def record_usage(
    session: Session,
    tenant_id: str,
    user_id: str,
    seconds: float,
    *,
    day: str | None = None,
    clock: Clock = utcnow_iso,
) -> UsageToday:
    """Add one turn of ``seconds`` to the user's day; the day's totals after it."""
    if not math.isfinite(seconds) or seconds < 0:
        raise UserError(f"usage seconds must be a finite number >= 0, found {seconds!r}")
    dialect = session.get_bind().dialect.name
    insert = _INSERTS.get(dialect)
    if insert is None:
        raise ConfigurationError(f"usage records need SQLite or PostgreSQL, not {dialect}")
    statement = insert(UsageRecord).values(
        tenant_id=tenant_id, user_id=user_id, day=_day(day, clock), seconds=seconds, turns=1
    )
    statement = statement.on_conflict_do_update(
        index_elements=[UsageRecord.tenant_id, UsageRecord.user_id, UsageRecord.day],
        set_={
            "seconds": UsageRecord.seconds + statement.excluded.seconds,
            "turns": UsageRecord.turns + 1,
        },
    ).returning(UsageRecord.seconds, UsageRecord.turns)
    total, turns = session.execute(statement).one()
    return UsageToday(float(total), int(turns))


def used_today(
    session: Session,
    tenant_id: str,
    user_id: str,
    *,
    day: str | None = None,
    clock: Clock = utcnow_iso,
) -> UsageToday:
    row = session.execute(
        select(UsageRecord.seconds, UsageRecord.turns).where(
            UsageRecord.tenant_id == tenant_id,
            UsageRecord.user_id == user_id,
            UsageRecord.day == _day(day, clock),
        )
    ).first()
    return UsageToday(0.0, 0) if row is None else UsageToday(float(row[0]), int(row[1]))


def check_minor_allowance(
    session: Session,
    tenant_id: str,
    user_id: str,
    rule: MinorsRule,
    *,
    day: str | None = None,
    clock: Clock = utcnow_iso,
) -> UsageToday:
    """Today's usage; raises ``UsageLimit`` (HTTP 429) once it reaches the rule's limit."""
    today = _day(day, clock)
    used = used_today(session, tenant_id, user_id, day=today)
    error = limit_error(rule, used, today)
    if error is not None:
        raise error
    return used


def prune_usage(session: Session, *, older_than_days: int, clock: Clock = utcnow_iso) -> int:
    """Delete usage days older than ``older_than_days`` (usage records are kept no longer
    than conversations, art. 11); how many rows went."""
    oldest_kept = day_of(cutoff(older_than_days, clock))
    deleted = session.execute(delete(UsageRecord).where(UsageRecord.day < oldest_kept))
    return int(deleted.rowcount)  # type: ignore[attr-defined]
