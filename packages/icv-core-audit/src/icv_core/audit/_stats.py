"""Aggregate statistics over the audit trail (private; used by the stats command
and the admin overview). Every number comes from an aggregate query; no rows
are loaded into Python."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from icv_core.audit._text import escape_controls

PERIODS = {"day": 1, "week": 7, "month": 30}


def _window(days: int, now: dt.datetime | None) -> tuple[dt.datetime, dt.datetime]:
    until = now or timezone.now()
    return until - dt.timedelta(days=days), until


def _ordered_counts(
    rows: Any, key: str, choices: list[str] | None = None
) -> dict[str, int]:
    """``{value: count}`` with every known choice present (0 when absent),
    then unknown values sorted, so the keys are stable for scripts."""
    counts = {str(row[key]): row["n"] for row in rows}
    result = {choice: counts.pop(choice, 0) for choice in choices or []}
    for value in sorted(counts):
        result[value] = counts[value]
    return result


def _per_day_series(
    entries: Any, first: dt.date, last: dt.date
) -> tuple[list[dt.date], dict[str, list[int]]]:
    """Count ``entries`` per local day from ``first`` to ``last`` by event type."""
    tz = timezone.get_current_timezone()
    day_list = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    index = {day: i for i, day in enumerate(day_list)}
    rows = (
        entries.annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day", "event_type")
        .annotate(n=Count("pk"))
        .order_by()
    )
    series: dict[str, list[int]] = {}
    for row in rows:
        # Every row's day is in the list: the callers filter on the same
        # window that ``first`` and ``last`` are the local days of.
        series.setdefault(row["event_type"], [0] * len(day_list))[
            index[row["day"]]
        ] += row["n"]
    return day_list, dict(sorted(series.items()))


def per_day_by_event_type(
    days: int = 30, *, now: dt.datetime | None = None, using: str = "default"
) -> tuple[list[dt.date], dict[str, list[int]]]:
    """Entries per local day for the last ``days`` calendar days, by event type.

    The window is whole local days: from midnight ``days - 1`` days ago up to
    ``now``, so today is the last day and every day shown is complete but
    today. Returns the list of days (oldest first) and ``{event_type: [count
    per day]}`` for the event types that occur.
    """
    from icv_core.audit.models import AuditEntry

    until = now or timezone.now()
    tz = timezone.get_current_timezone()
    today = timezone.localtime(until, tz).date()
    first = today - dt.timedelta(days=days - 1)
    since = timezone.make_aware(dt.datetime.combine(first, dt.time.min), tz)
    entries = AuditEntry.objects.using(using).filter(
        created_at__gte=since, created_at__lte=until
    )
    return _per_day_series(entries, first, today)


def open_alerts_by_severity(using: str = "default") -> dict[str, int]:
    """Open (unresolved) alerts per severity, configured levels first."""
    from icv_core.audit.conf import settings
    from icv_core.audit.models import SystemAlert

    rows = (
        SystemAlert.objects.using(using)
        .filter(is_resolved=False)
        .values("severity")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return _ordered_counts(rows, "severity", list(settings.AUDIT_ALERT_SEVERITY_LEVELS))


def compute(
    days: int, *, top: int = 10, now: dt.datetime | None = None, using: str = "default"
) -> dict[str, Any]:
    """All statistics for the last ``days`` days, as JSON-ready data."""
    from icv_core.audit.models import AuditEntry

    since, until = _window(days, now)
    entries = AuditEntry.objects.using(using).filter(
        created_at__gt=since, created_at__lte=until
    )
    totals = entries.aggregate(
        total=Count("pk"),
        failed_logins=Count("pk", filter=Q(action=AuditEntry.Action.LOGIN_FAILED)),
    )
    by_event_type = _ordered_counts(
        entries.values("event_type").annotate(n=Count("pk")).order_by(),
        "event_type",
        list(AuditEntry.EventType.values),
    )
    by_action = _ordered_counts(
        entries.values("action").annotate(n=Count("pk")).order_by(),
        "action",
        list(AuditEntry.Action.values),
    )
    # Every local day the rolling window touches, so the first one is partial
    # and the counts add up to ``total``.
    tz = timezone.get_current_timezone()
    day_list, series = _per_day_series(
        entries,
        timezone.localtime(since, tz).date(),
        timezone.localtime(until, tz).date(),
    )
    per_day = {
        day.isoformat(): sum(counts[i] for counts in series.values())
        for i, day in enumerate(day_list)
    }
    actors = (
        entries.exclude(user__isnull=True, username="")
        .values("user_id", "username")
        .annotate(n=Count("pk"))
        .order_by("-n", "username", "user_id")[:top]
    )
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "days": days,
        "total": totals["total"],
        "by_event_type": by_event_type,
        "by_action": by_action,
        "per_day": per_day,
        "top_actors": [
            {
                "user_id": None if row["user_id"] is None else str(row["user_id"]),
                "username": row["username"],
                "count": row["n"],
            }
            for row in actors
        ],
        "failed_logins": totals["failed_logins"],
        "open_alerts_by_severity": open_alerts_by_severity(using),
    }


def _section(title: str, pairs: list[tuple[str, Any]]) -> list[str]:
    lines = [title]
    if not pairs:
        return [*lines, "  (none)"]
    # Labels come from the database (usernames, event types of rows that
    # skipped validation): escape control characters so a value can neither
    # forge a line nor send terminal escape sequences.
    pairs = [(escape_controls(str(k)), v) for k, v in pairs]
    width = max(len(str(k)) for k, _ in pairs)
    num_width = max(len(str(v)) for _, v in pairs)
    lines.extend(f"  {str(k):<{width}}  {v!s:>{num_width}}" for k, v in pairs)
    return lines


def format_table(data: dict[str, Any]) -> str:
    """Aligned, human-readable text for :func:`compute` output."""
    lines = [
        f"Audit entries in the last {data['days']} day(s) "
        f"({data['since']} .. {data['until']}): {data['total']}",
        f"Failed logins: {data['failed_logins']}",
        "",
    ]
    lines += _section("By event type", list(data["by_event_type"].items()))
    lines.append("")
    lines += _section("By action", [(k, v) for k, v in data["by_action"].items() if v])
    lines.append("")
    lines += _section("Entries per day", list(data["per_day"].items()))
    lines.append("")
    lines += _section(
        "Top actors",
        [
            (row["username"] or f"user #{row['user_id']}", row["count"])
            for row in data["top_actors"]
        ],
    )
    lines.append("")
    lines += _section(
        "Open alerts by severity", list(data["open_alerts_by_severity"].items())
    )
    return "\n".join(lines) + "\n"
