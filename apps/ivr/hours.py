"""Business hours: a weekly schedule in a time zone, with holiday dates.

A schedule is plain data (it lives in a node's settings)::

    {"timezone": "America/Chicago",
     "weekly": {"mon": [["09:00", "17:00"]], "sat": [["10:00", "13:00"]]},
     "holidays": ["2026-12-25"]}

Days missing from ``weekly`` are closed; an interval is open from its start
(inclusive) to its end (exclusive), and "24:00" ends at midnight. Holidays are
dates in the schedule's own time zone and close the whole day. Evaluation
takes the current time as an argument, so tests pick the moment.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")


def is_open(schedule: dict, now: datetime) -> bool:
    """Is the schedule open at ``now`` (an aware datetime)?"""
    local = now.astimezone(ZoneInfo(schedule.get("timezone") or "UTC"))
    if local.date().isoformat() in set(schedule.get("holidays") or []):
        return False
    minute = local.hour * 60 + local.minute
    for start, end in (schedule.get("weekly") or {}).get(DAYS[local.weekday()], []):
        if _minutes(start) <= minute < _minutes(end):
            return True
    return False


def ivr_now() -> datetime:
    """The time business hours are judged by: now, unless ``IVR_FROZEN_NOW`` pins it.

    The setting (ISO 8601 with an offset) exists so end-to-end tests, which
    run the engine in the server's threads, can place a call "at 3 am on a
    Sunday" without depending on when they run.
    """
    frozen = getattr(settings, "IVR_FROZEN_NOW", None)
    if frozen:
        return frozen if isinstance(frozen, datetime) else parse_datetime(frozen)
    return timezone.now()


def schedule_problems(schedule: dict) -> list[tuple[str, str]]:
    """``(field, message)`` for everything wrong with a schedule; empty when it is usable."""
    problems = []
    zone = schedule.get("timezone") or ""
    if not zone:
        problems.append(("hours.timezone", "choose a time zone"))
    elif not _known_zone(zone):
        problems.append(("hours.timezone", f"unknown time zone {zone!r}"))
    weekly = schedule.get("weekly") or {}
    if not isinstance(weekly, dict):
        return problems + [("hours.weekly", "must map weekdays to lists of [start, end]")]
    for day, intervals in weekly.items():
        if day not in DAYS:
            problems.append(("hours.weekly", f"unknown weekday {day!r} (use {', '.join(DAYS)})"))
            continue
        for interval in intervals or []:
            problems += [(f"hours.weekly.{day}", m) for m in _interval_problems(interval)]
    for holiday in schedule.get("holidays") or []:
        try:
            date.fromisoformat(str(holiday))
        except ValueError:
            problems.append(("hours.holidays", f"{holiday!r} is not a date (YYYY-MM-DD)"))
    return problems


def _interval_problems(interval) -> list[str]:
    if not isinstance(interval, (list, tuple)) or len(interval) != 2:
        return [f"{interval!r} is not a [start, end] pair"]
    start, end = (str(v) for v in interval)
    bad = [v for v in (start, end) if not _TIME.match(v)]
    if bad:
        return [f"{bad[0]!r} is not a time (HH:MM)"]
    if _minutes(end) <= _minutes(start):
        return [f"{start}-{end} ends before it starts (split a night shift at 24:00)"]
    return []


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def _known_zone(name: str) -> bool:
    if name in _zones():
        return True
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


_zone_cache: set[str] = set()


def _zones() -> set[str]:
    if not _zone_cache:
        _zone_cache.update(available_timezones())
    return _zone_cache


def time_zones() -> list[str]:
    """Every IANA zone name, for the builder's picker."""
    return sorted(_zones())


def opening_text(schedule: dict) -> str:
    """A one-line summary ("mon 09:00-17:00; sat 10:00-13:00 (America/Chicago)")."""
    weekly = schedule.get("weekly") or {}
    parts = [
        f"{day} " + ", ".join(f"{s}-{e}" for s, e in weekly[day]) for day in DAYS if weekly.get(day)
    ]
    return f"{'; '.join(parts) or 'always closed'} ({schedule.get('timezone') or 'UTC'})"

