"""Minors mode (Interim Measures art. 10): each user's daily time, and the limit on it."""

from __future__ import annotations

import pytest

from hallmark.assistant.usage import (
    UsageToday,
    check_minor_allowance,
    prune_usage,
    record_usage,
    remaining_seconds,
    used_today,
)
from hallmark.errors import UsageLimit, UserError
from hallmark.policy import resolve_policy
from hallmark.policy.model import MinorsRule
from hallmark.services import Services

DAY = "2026-12-10"


def noon(day: str = DAY) -> str:
    return f"{day}T12:00:00.000000Z"


def test_usage_adds_up_per_user_and_utc_day(services: Services, tenants: dict[str, str]) -> None:
    acme, other = tenants["acme"], tenants["other"]
    with services.db.session() as session:
        assert record_usage(session, acme, "kid", 20.5, day=DAY) == UsageToday(20.5, 1)
        assert record_usage(session, acme, "kid", 30, clock=lambda: noon()) == UsageToday(50.5, 2)
        record_usage(session, acme, "kid", 5, day="2026-12-11")
        record_usage(session, acme, "parent", 7, day=DAY)
        record_usage(session, other, "kid", 9, day=DAY)
    with services.db.session() as session:
        assert used_today(session, acme, "kid", day=DAY) == UsageToday(50.5, 2)
        assert used_today(session, acme, "kid", clock=lambda: noon("2026-12-11")).turns == 1
        assert used_today(session, acme, "parent", day=DAY) == UsageToday(7.0, 1)
        assert used_today(session, other, "kid", day=DAY) == UsageToday(9.0, 1)
        assert used_today(session, acme, "nobody", day=DAY) == UsageToday(0.0, 0)


def test_minors_limit_is_a_429_once_the_days_minutes_are_used(
    services: Services, tenants: dict[str, str]
) -> None:
    acme = tenants["acme"]
    rule = MinorsRule(required=True, daily_minutes=1)
    with services.db.session() as session:
        record_usage(session, acme, "kid", 59, day=DAY)
        assert check_minor_allowance(session, acme, "kid", rule, day=DAY) == UsageToday(59.0, 1)
        record_usage(session, acme, "kid", 2, day=DAY)
    with services.db.session() as session, pytest.raises(UsageLimit) as caught:
        check_minor_allowance(session, acme, "kid", rule, clock=lambda: noon())
    error = caught.value
    assert error.status == 429 and error.code == "usage_limit"
    assert error.message.startswith("minors mode allows 1 minute a day; used 1 min 1 s today")
    assert error.details == {"limit_minutes": 1, "used_seconds": 61.0, "day": DAY}
    with services.db.session() as session:
        # The next day starts afresh, and another user has their own time.
        check_minor_allowance(session, acme, "kid", rule, day="2026-12-11")
        check_minor_allowance(session, acme, "sibling", rule, day=DAY)


def test_a_rule_without_daily_minutes_sets_no_limit(
    services: Services, tenants: dict[str, str]
) -> None:
    rule = MinorsRule(required=True)
    with services.db.session() as session:
        record_usage(session, tenants["acme"], "kid", 86_400, day=DAY)
        check_minor_allowance(session, tenants["acme"], "kid", rule, day=DAY)
    assert remaining_seconds(rule, UsageToday(86_400, 9)) is None


def test_chinas_policy_limits_minors_to_its_daily_minutes() -> None:
    rule = resolve_policy("cn").minors
    assert rule.daily_minutes is not None
    limit = rule.daily_minutes * 60
    assert remaining_seconds(rule, UsageToday(limit - 30, 3)) == 30
    assert remaining_seconds(rule, UsageToday(limit + 30, 4)) == 0


def test_old_usage_days_are_pruned(services: Services, tenants: dict[str, str]) -> None:
    acme = tenants["acme"]
    with services.db.session() as session:
        for day in ("2026-11-09", "2026-11-10", DAY):
            record_usage(session, acme, "kid", 10, day=day)
        assert prune_usage(session, older_than_days=30, clock=lambda: noon()) == 1
        assert used_today(session, acme, "kid", day="2026-11-09").turns == 0
        assert used_today(session, acme, "kid", day="2026-11-10").turns == 1


@pytest.mark.parametrize(
    ("seconds", "day", "problem"),
    [(-1.0, DAY, "finite number >= 0"), (float("nan"), DAY, "finite"), (1.0, "10/12/2026", "YYYY")],
)
def test_bad_usage_is_refused(
    services: Services, tenants: dict[str, str], seconds: float, day: str, problem: str
) -> None:
    with pytest.raises(UserError, match=problem), services.db.session() as session:
        record_usage(session, tenants["acme"], "kid", seconds, day=day)
