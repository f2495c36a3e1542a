"""Business hours are judged in the schedule's own time zone, holidays closed."""

from datetime import UTC, datetime

import pytest

from apps.ivr.hours import is_open, ivr_now, schedule_problems

CHICAGO = {
    "timezone": "America/Chicago",
    "weekly": {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], "sat": [["10:00", "24:00"]]},
    "holidays": ["2026-11-23"],
}


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("moment, expected", [
    (utc(2026, 11, 30, 15, 0), True),  # Monday 09:00 in Chicago (UTC-6): opening minute
    (utc(2026, 11, 30, 14, 59), False),  # 08:59
    (utc(2026, 11, 30, 18, 30), False),  # 12:30, the lunch break
    (utc(2026, 11, 30, 22, 59), True),  # 16:59
    (utc(2026, 11, 30, 23, 0), False),  # 17:00: the end is exclusive
    (utc(2026, 11, 23, 16, 0), False),  # Monday 10:00, but a holiday
    (utc(2026, 11, 29, 5, 59), True),  # Saturday 23:59 in Chicago, already Sunday in UTC
    (utc(2026, 11, 29, 6, 0), False),  # Sunday 00:00 in Chicago
    (utc(2026, 11, 24, 16, 0), False),  # Tuesday: not in the schedule
])
def test_it_is_open_only_inside_the_local_intervals(moment, expected):
    assert is_open(CHICAGO, moment) is expected


def test_daylight_saving_time_moves_the_utc_hours():
    summer_monday_9am = utc(2026, 7, 6, 14, 0)  # CDT is UTC-5
    assert is_open(CHICAGO, summer_monday_9am)
    assert not is_open(CHICAGO, utc(2026, 12, 7, 14, 0))  # the same UTC hour in winter is 08:00


def test_a_frozen_clock_setting_decides_now(settings):
    settings.IVR_FROZEN_NOW = "2026-11-30T09:30:00-06:00"
    assert ivr_now() == utc(2026, 11, 30, 15, 30)


def test_schedule_problems_say_what_is_wrong():
    problems = schedule_problems({
        "timezone": "Europe/Nowhere",
        "weekly": {"mon": [["9am", "17:00"]], "tue": [["18:00", "08:00"]], "funday": []},
        "holidays": ["25/12/2026"],
    })
    assert problems == [
        ("hours.timezone", "unknown time zone 'Europe/Nowhere'"),
        ("hours.weekly.mon", "'9am' is not a time (HH:MM)"),
        ("hours.weekly.tue", "18:00-08:00 ends before it starts (split a night shift at 24:00)"),
        ("hours.weekly", "unknown weekday 'funday' (use mon, tue, wed, thu, fri, sat, sun)"),
        ("hours.holidays", "'25/12/2026' is not a date (YYYY-MM-DD)"),
    ]
    assert schedule_problems(CHICAGO) == []
