from __future__ import annotations

import datetime as dt
import io
import json

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from icv_core.audit.models import AuditEntry, SystemAlert

pytestmark = pytest.mark.django_db


def stats(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("icv_core_audit_stats", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def entry(event_type, action, *, days_ago=0.0, user=None, username=""):
    return AuditEntry.objects.create(
        event_type=event_type,
        action=action,
        user=user,
        username=username,
        created_at=timezone.now() - dt.timedelta(days=days_ago),
    )


def alert(severity, *, resolved=False, title=None):
    a = SystemAlert.objects.create(
        alert_type="system", severity=severity, title=title or severity, message="m"
    )
    if resolved:
        a.resolve(notes="done")
    return a


@pytest.fixture
def data():
    user_model = get_user_model()
    alice = user_model.objects.create_user("alice")
    bob = user_model.objects.create_user("bob")
    entry("DATA", "CREATE", user=alice, days_ago=0.1)
    entry("DATA", "UPDATE", user=alice, days_ago=1.5)
    entry("DATA", "UPDATE", user=bob, days_ago=2.5)
    entry("SECURITY", "LOGIN_FAILED", username="mallory", days_ago=0.2)
    entry("SECURITY", "LOGIN_FAILED", username="mallory", days_ago=3.5)
    entry("AUTHENTICATION", "LOGIN", user=alice, days_ago=4.5)
    entry("SYSTEM", "CUSTOM", days_ago=6.5)  # no actor
    entry("DATA", "DELETE", user=bob, days_ago=20)  # outside a week
    alert("critical", title="c1")
    alert("critical", title="c2")
    alert("warning")
    alert("info", resolved=True)
    return alice, bob


def test_json_matches_rows_written(data, settings):
    settings.ICV_CORE_AUDIT_ENABLED = True
    alice, bob = data
    out, err = stats("--format", "json")
    assert err == ""
    result = json.loads(out)
    assert list(result) == [
        "since",
        "until",
        "days",
        "total",
        "by_event_type",
        "by_action",
        "per_day",
        "top_actors",
        "failed_logins",
        "open_alerts_by_severity",
    ]
    assert result["days"] == 7
    assert result["total"] == 7
    assert result["by_event_type"] == {
        "SECURITY": 2,
        "DATA": 3,
        "SYSTEM": 1,
        "AUTHENTICATION": 1,
    }
    assert result["by_action"] == {
        "CREATE": 1,
        "UPDATE": 2,
        "DELETE": 0,
        "SOFT_DELETE": 0,
        "RESTORE": 0,
        "LOGIN": 1,
        "LOGOUT": 0,
        "LOGIN_FAILED": 2,
        "PASSWORD_CHANGED": 0,
        "PERMISSION_DENIED": 0,
        "CUSTOM": 1,
    }
    assert result["failed_logins"] == 2
    assert result["top_actors"] == [
        {"user_id": str(alice.pk), "username": "alice", "count": 3},
        {"user_id": None, "username": "mallory", "count": 2},
        {"user_id": str(bob.pk), "username": "bob", "count": 1},
    ]
    # Every local day the 7 x 24 h window touches: the oldest is partial.
    assert len(result["per_day"]) == 8
    assert sum(result["per_day"].values()) == 7
    today = timezone.localdate()
    assert list(result["per_day"])[-1] == today.isoformat()
    assert list(result["per_day"])[0] == (today - dt.timedelta(days=7)).isoformat()
    assert result["open_alerts_by_severity"] == {
        "info": 0,
        "warning": 1,
        "error": 0,
        "critical": 2,
    }


@pytest.mark.parametrize(
    "clock", ["2026-03-10 00:30", "2026-03-10 11:59", "2026-03-10 23:30"]
)
def test_per_day_adds_up_to_the_total_at_any_time_of_day(clock, settings):
    settings.TIME_ZONE = "Europe/London"
    tz = timezone.get_default_timezone()
    now = timezone.make_aware(dt.datetime.fromisoformat(clock), tz)
    with time_machine.travel(now, tick=False):
        for hours in (0, 1, 13, 77, 150, 167, 169):
            entry("DATA", "CREATE", days_ago=hours / 24)
        result = json.loads(stats("--format", "json")[0])
    # Six entries are inside the 7 x 24 h window, the last one is not.
    assert result["total"] == 6
    assert sum(result["per_day"].values()) == 6
    assert list(result["per_day"]) == [
        (now.date() - dt.timedelta(days=7 - i)).isoformat() for i in range(8)
    ]
    expected = dict.fromkeys(result["per_day"], 0)
    for hours in (0, 1, 13, 77, 150, 167):
        expected[(now - dt.timedelta(hours=hours)).date().isoformat()] += 1
    assert result["per_day"] == expected


def test_days_and_period(data):
    result = json.loads(stats("--days", "30", "--format", "json")[0])
    assert result["total"] == 8
    assert result["by_action"]["DELETE"] == 1
    result = json.loads(stats("--period", "day", "--format", "json")[0])
    assert result["days"] == 1
    assert result["total"] == 2
    result = json.loads(stats("--period", "month", "--format", "json")[0])
    assert result["days"] == 30


def test_table_is_aligned(data):
    out, _ = stats("--top", "2")
    lines = out.splitlines()
    assert lines[0].startswith("Audit entries in the last 7 day(s) (")
    assert lines[0].endswith("): 7")
    assert lines[1] == "Failed logins: 2"
    block = lines[lines.index("By event type") + 1 : lines.index("By event type") + 5]
    assert block == [
        "  SECURITY        2",
        "  DATA            3",
        "  SYSTEM          1",
        "  AUTHENTICATION  1",
    ]
    actors = lines[lines.index("Top actors") + 1 : lines.index("Top actors") + 3]
    assert actors == ["  alice    3", "  mallory  2"]
    alerts = lines[lines.index("Open alerts by severity") + 1 :]
    assert alerts == [
        "  info      0",
        "  warning   1",
        "  error     0",
        "  critical  2",
    ]


def test_empty_table():
    result = json.loads(stats("--format", "json")[0])
    assert result["total"] == 0
    assert result["top_actors"] == []
    assert set(result["by_event_type"].values()) == {0}
    out, _ = stats()
    assert "Top actors\n  (none)" in out


def test_aggregate_queries_only(data, django_assert_num_queries):
    # total+failed, by type, by action, per day, top actors, alerts: 6 queries
    # whatever the number of rows.
    with django_assert_num_queries(6):
        stats("--format", "json")


def test_bad_arguments():
    with pytest.raises(CommandError, match="--days must be between 1 and 36500"):
        stats("--days", "0")
    with pytest.raises(CommandError, match="--days must be between 1 and 36500"):
        stats("--days", "99999999")
    with pytest.raises(CommandError):
        stats("--days", "3", "--period", "day")
    with pytest.raises(CommandError, match="--top must not be negative"):
        stats("--top", "-1")


def test_warns_when_capture_is_off(settings):
    settings.ICV_CORE_AUDIT_ENABLED = False
    _, err = stats()
    assert "ICV_CORE_AUDIT_ENABLED is False" in err
