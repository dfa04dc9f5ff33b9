"""time_since_short: every boundary in both directions, with a frozen clock."""

from __future__ import annotations

import datetime
import logging
import zoneinfo

import pytest
import time_machine
from django.template import Context, Template
from django.test import override_settings
from django.utils import timezone, translation

from icv_core.templatetags import icv_core as lib
from icv_core.templatetags.icv_core import time_since_short

UTC = datetime.UTC
NOW = datetime.datetime(2026, 12, 3, 12, 0, 0, tzinfo=UTC)
S = datetime.timedelta(seconds=1)
M = datetime.timedelta(minutes=1)
H = datetime.timedelta(hours=1)
D = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def frozen():
    with (
        time_machine.travel(NOW, tick=False),
        translation.override("en-us"),
        timezone.override("UTC"),
    ):
        yield


# (distance, past text, future text)
BOUNDARIES = [
    (datetime.timedelta(0), "just now", "just now"),
    (S, "just now", "just now"),
    (59 * S, "just now", "just now"),
    (59 * S + datetime.timedelta(microseconds=999_999), "just now", "just now"),
    (60 * S, "1m ago", "in 1m"),
    (119 * S, "1m ago", "in 1m"),
    (120 * S, "2m ago", "in 2m"),
    (5 * M, "5m ago", "in 5m"),
    (59 * M, "59m ago", "in 59m"),
    (59 * M + 59 * S, "59m ago", "in 59m"),
    (60 * M, "1h ago", "in 1h"),
    (2 * H, "2h ago", "in 2h"),
    (23 * H, "23h ago", "in 23h"),
    (23 * H + 59 * M + 59 * S, "23h ago", "in 23h"),
    (24 * H, "1d ago", "in 1d"),
    (47 * H + 59 * M, "1d ago", "in 1d"),
    (3 * D, "3d ago", "in 3d"),
    (6 * D, "6d ago", "in 6d"),
    (7 * D - S, "6d ago", "in 6d"),
    (7 * D, "1w ago", "in 1w"),
    (13 * D, "1w ago", "in 1w"),
    (14 * D, "2w ago", "in 2w"),
    (29 * D, "4w ago", "in 4w"),
    (30 * D - S, "4w ago", "in 4w"),
    (30 * D, "1mo ago", "in 1mo"),
    (59 * D, "1mo ago", "in 1mo"),
    (60 * D, "2mo ago", "in 2mo"),
    (90 * D, "3mo ago", "in 3mo"),
    (364 * D, "12mo ago", "in 12mo"),
    (365 * D - S, "12mo ago", "in 12mo"),
    (365 * D, "1y ago", "in 1y"),
    (729 * D, "1y ago", "in 1y"),
    (730 * D, "2y ago", "in 2y"),
    (3650 * D, "10y ago", "in 10y"),
]


@pytest.mark.parametrize(("distance", "past", "future"), BOUNDARIES)
def test_boundaries(distance, past, future):
    assert time_since_short(NOW - distance) == past
    assert time_since_short(NOW + distance) == future


@pytest.mark.parametrize(("distance", "past", "future"), BOUNDARIES)
def test_boundaries_with_explicit_now(distance, past, future):
    other = datetime.datetime(2020, 2, 29, 8, 30, tzinfo=UTC)
    assert time_since_short(other - distance, now=other) == past
    assert time_since_short(other + distance, now=other) == future


def test_spec_examples():
    assert time_since_short(NOW - 2 * H) == "2h ago"
    assert time_since_short(NOW - 3 * D) == "3d ago"
    assert time_since_short(NOW - 10 * S) == "just now"


def test_other_aware_time_zones_compare_instants():
    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")
    assert time_since_short((NOW - 2 * H).astimezone(tokyo)) == "2h ago"


@pytest.mark.parametrize(
    ("current_tz", "naive", "expected"),
    [
        # 12:00 UTC is 12:00 in London and 07:00 in New York (EST).
        ("Europe/London", datetime.datetime(2026, 12, 3, 10, 0), "2h ago"),
        ("America/New_York", datetime.datetime(2026, 12, 3, 5, 0), "2h ago"),
        ("America/New_York", datetime.datetime(2026, 12, 3, 7, 0), "just now"),
        ("America/New_York", datetime.datetime(2026, 12, 3, 12, 0), "in 5h"),
        ("Asia/Kolkata", datetime.datetime(2026, 12, 3, 17, 25), "5m ago"),
    ],
)
def test_naive_datetimes_are_read_in_the_current_time_zone(current_tz, naive, expected):
    with timezone.override(current_tz):
        assert time_since_short(naive) == expected


def test_naive_datetimes_without_use_tz():
    with (
        override_settings(USE_TZ=False, TIME_ZONE="America/New_York"),
        timezone.override(None),  # the default time zone: TIME_ZONE
    ):
        assert time_since_short(datetime.datetime(2026, 12, 3, 6, 0)) == "1h ago"


# Today is 3 December 2026; the comments give the distance in days.
DATES = [
    (datetime.date(2026, 12, 3), "today"),
    (datetime.date(2026, 12, 2), "1d ago"),  # 1
    (datetime.date(2026, 12, 4), "in 1d"),
    (datetime.date(2026, 11, 27), "6d ago"),  # 6
    (datetime.date(2026, 12, 9), "in 6d"),
    (datetime.date(2026, 11, 26), "1w ago"),  # 7
    (datetime.date(2026, 12, 10), "in 1w"),
    (datetime.date(2026, 11, 4), "4w ago"),  # 29
    (datetime.date(2027, 1, 1), "in 4w"),
    (datetime.date(2026, 11, 3), "1mo ago"),  # 30
    (datetime.date(2027, 1, 2), "in 1mo"),
    (datetime.date(2025, 12, 4), "12mo ago"),  # 364
    (datetime.date(2027, 12, 2), "in 12mo"),
    (datetime.date(2025, 12, 3), "1y ago"),  # 365
    (datetime.date(2027, 12, 3), "in 1y"),
]


@pytest.mark.parametrize(("value", "expected"), DATES)
def test_dates_count_calendar_days(value, expected):
    assert time_since_short(value) == expected


def test_dates_use_the_current_time_zone_for_today():
    # 23:30 UTC on 3 December is already 4 December in Tokyo.
    with time_machine.travel(
        datetime.datetime(2026, 12, 3, 23, 30, tzinfo=UTC), tick=False
    ):
        assert time_since_short(datetime.date(2026, 12, 3)) == "today"
        with timezone.override("Asia/Tokyo"):
            assert time_since_short(datetime.date(2026, 12, 3)) == "1d ago"
            assert time_since_short(datetime.date(2026, 12, 4)) == "today"


INVALID_VALUES = [
    None,
    "",
    "2026-12-03",
    "2h ago",
    0,
    1700000000,
    3.5,
    [],
    object(),
    datetime.timedelta(hours=2),
]


@pytest.mark.parametrize("value", INVALID_VALUES)
def test_invalid_values_render_empty(value):
    assert time_since_short(value) == ""


def test_logs_nothing_on_bad_input(caplog):
    with caplog.at_level(logging.DEBUG):
        for value in INVALID_VALUES:
            assert time_since_short(value) == ""
        assert time_since_short(NOW, now=datetime.datetime(2026, 12, 3)) == ""
        assert (
            Template("{% load icv_core %}{{ x|time_since_short }}").render(
                Context({"x": "bad"})
            )
            == ""
        )
    assert caplog.records == []


def test_naive_now_in_python_is_invalid_not_an_error():
    assert time_since_short(NOW, now=datetime.datetime(2026, 12, 3)) == ""


def test_strings_are_translatable(monkeypatch):
    seen = []

    def fake_pgettext(context, message):
        seen.append((context, message))
        return f"<{message}>"

    monkeypatch.setattr(lib, "pgettext", fake_pgettext)
    assert time_since_short(NOW - 5 * M) == "<5m ago>"
    assert time_since_short(NOW + 2 * H) == "<in 2h>"
    assert time_since_short(NOW) == "<just now>"
    assert time_since_short(datetime.date(2026, 12, 3)) == "<today>"
    assert ("time_since_short", "%(count)dm ago") in seen
    assert ("time_since_short", "in %(count)dh") in seen


def test_in_a_template():
    template = Template(
        "{% load icv_core %}[{{ a|time_since_short }}][{{ b|time_since_short }}]"
        "[{{ missing|time_since_short }}]"
    )
    assert (
        template.render(Context({"a": NOW - 2 * H, "b": NOW + 3 * D}))
        == "[2h ago][in 3d][]"
    )
