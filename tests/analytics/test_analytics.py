"""Analytics on a seeded set of calls, checked against figures worked out by hand.

The center is in Chicago (UTC-6 in January). Four tracking numbers, three
days, and calls placed on both sides of local and UTC midnight: call 2 is
local 5 January but UTC 6 January, call 5 is local 6 January but UTC
7 January, and the two calls just outside the range are inside it in UTC.

"Answered" means a person answered: calls 9 and 10 reach an after-hours IVR
line, which answers them and talks for a while, but no person ever does.
They are self-service, not answered, and their IVR time is no talk time.
"""

import csv
import io
from datetime import datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from apps.analytics.services import caller_is_new
from apps.calls.models import Call
from tests.factories import CallFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
RANGE = {"date_from": "2026-01-05", "date_to": "2026-01-07"}
X, Y, Z, W, V, U, T = (f"+1312555020{n}" for n in range(7))


@pytest.fixture(autouse=True)
def chicago(settings):
    settings.TIME_ZONE = "America/Chicago"


@pytest.fixture
def numbers(db):
    return {
        "A": PhoneNumberFactory(e164="+13125550110", label="Ads line", tracking_source="Google Ads"),
        "B": PhoneNumberFactory(e164="+13125550111", tracking_source="Billboard 12"),
        "C": PhoneNumberFactory(e164="+13125550112"),
        "D": PhoneNumberFactory(e164="+13125550113", label="After hours", tracking_source="Radio", route="ivr"),
    }


def _call(number, local: str, caller: str, outcome: str, talk: int = 0, **extra) -> Call:
    """An ended inbound call as the forward flow records it: answered by us a second
    after it rang; connected ten seconds later and talking ``talk`` seconds, or not.
    "self_service": answered by us, then ``talk`` seconds with the IVR and nobody else."""
    start = datetime.fromisoformat(local).replace(tzinfo=CHICAGO)
    call = CallFactory.build(
        direction=Call.Direction.INBOUND, from_number=caller, to_number=number.e164, phone_number=number,
        tracking_source=number.tracking_source, initiated_at=start, answered_at=start + timedelta(seconds=1),
        status=Call.Status.ENDED, outcome=Call.Outcome.ANSWERED, **extra,
    )
    if outcome == Call.Outcome.ANSWERED:
        call.connected_at = start + timedelta(seconds=10)
        call.ended_at = call.connected_at + timedelta(seconds=talk)
    elif outcome == "self_service":  # the facts only: the outcome is what the call log makes of them
        call.ended_at = call.answered_at + timedelta(seconds=talk)
    else:
        call.connect_failure = outcome
        call.ended_at = start + timedelta(seconds=20)
    call.save()
    call.first_time_caller = caller_is_new(call)
    call.save(update_fields=["first_time_caller"])
    return call


@pytest.fixture
def seeded(numbers):
    A, B, C, D = numbers["A"], numbers["B"], numbers["C"], numbers["D"]
    _call(A, "2026-01-04 23:59:00", U, "answered", 30)  # outside (UTC: 5 January)
    calls = [
        _call(A, "2026-01-05 09:00:00", X, "answered", 120),  # 1
        _call(A, "2026-01-05 23:30:00", Y, "answered", 60),  # 2: UTC 6 January
        _call(B, "2026-01-05 12:00:00", X, "no_answer"),  # 3: X again
        _call(A, "2026-01-06 00:15:00", Z, "busy"),  # 4
        _call(B, "2026-01-06 18:00:00", Y, "answered", 300),  # 5: UTC 7 January; Y again
        _call(C, "2026-01-06 10:00:00", W, "abandoned"),  # 6: no source
        _call(A, "2026-01-07 08:00:00", X, "answered", 40),  # 7: X again
        _call(B, "2026-01-07 19:00:00", V, "failed"),  # 8: UTC 8 January
        _call(D, "2026-01-06 21:00:00", Z, "self_service", 95),  # 9: the IVR only; Z again
        _call(D, "2026-01-07 22:00:00", T, "self_service", 40),  # 10: the IVR only; UTC 8 January
    ]
    _call(A, "2026-01-08 00:30:00", X, "answered", 500)  # outside (UTC: 8 January)
    # Not counted: an outbound call, the leg dialled for call 1, a live call, a call to no number of ours.
    jan6 = datetime(2026, 1, 6, 12, tzinfo=CHICAGO)
    CallFactory(direction=Call.Direction.OUTBOUND, initiated_at=jan6, status=Call.Status.ENDED, phone_number=A)
    CallFactory(direction=Call.Direction.OUTBOUND, parent=calls[0], phone_number=A, initiated_at=jan6,
                status=Call.Status.ENDED)
    CallFactory(phone_number=A, initiated_at=jan6, status=Call.Status.ANSWERED, answered_at=jan6)
    CallFactory(phone_number=None, to_number="+13125559999", initiated_at=jan6, status=Call.Status.ENDED,
                outcome=Call.Outcome.REJECTED)
    return calls


def _fig(calls, answered, rate, avg, talk, first, no_answer=0, busy=0, failed=0, abandoned=0, self_service=0):
    return {"calls": calls, "answered": answered, "answer_rate": rate, "avg_talk_seconds": avg,
            "talk_seconds": talk, "first_time_callers": first, "no_answer": no_answer, "busy": busy,
            "failed": failed, "abandoned": abandoned, "self_service": self_service}


# Worked out by hand from the ten calls above (4 of 10 answered by a person: 40 %).
TOTALS = _fig(10, 4, 40.0, 130.0, 520, 6, no_answer=1, busy=1, failed=1, abandoned=1, self_service=2)
BY_SOURCE = {
    "Google Ads": _fig(4, 3, 75.0, 73.3, 220, 3, busy=1),  # calls 1, 2, 4, 7: 220 s / 3
    "Billboard 12": _fig(3, 1, 33.3, 300.0, 300, 1, no_answer=1, failed=1),  # calls 3, 5, 8
    "Radio": _fig(2, 0, 0.0, None, 0, 1, self_service=2),  # calls 9, 10: the IVR's 135 s are no talk
    "": _fig(1, 0, 0.0, None, 0, 1, abandoned=1),  # call 6
}
BY_DAY = {
    "2026-01-05": _fig(3, 2, 66.7, 90.0, 180, 2, no_answer=1),  # calls 1, 2, 3
    "2026-01-06": _fig(4, 1, 25.0, 300.0, 300, 2, busy=1, abandoned=1, self_service=1),  # calls 4, 5, 6, 9
    "2026-01-07": _fig(3, 1, 33.3, 40.0, 40, 2, failed=1, self_service=1),  # calls 7, 8, 10
}


@pytest.fixture
def supervisor_client(supervisor_user):
    client = Client()
    client.force_login(supervisor_user)
    return client


def _rows(data, name):
    return {row["key"]: {k: v for k, v in row.items() if k not in ("key", "label")} for row in data[name]}


def test_the_figures_match_the_hand_computed_ones(supervisor_client, seeded):
    data = supervisor_client.get("/api/analytics/", RANGE).json()

    assert data["time_zone"] == "America/Chicago"
    assert data["totals"] == TOTALS
    assert _rows(data, "by_source") == BY_SOURCE
    assert _rows(data, "by_number") == {
        "+13125550110": BY_SOURCE["Google Ads"], "+13125550111": BY_SOURCE["Billboard 12"],
        "+13125550112": BY_SOURCE[""], "+13125550113": BY_SOURCE["Radio"],
    }
    assert _rows(data, "by_day") == BY_DAY
    assert [r["key"] for r in data["by_source"]] == ["Google Ads", "Billboard 12", "Radio", ""]  # most calls first
    assert data["by_number"][0]["label"] == "+13125550110 (Ads line)"


def test_a_source_filter_narrows_every_figure(supervisor_client, seeded):
    ads = supervisor_client.get("/api/analytics/", {**RANGE, "source": "Google Ads"}).json()
    assert ads["totals"] == BY_SOURCE["Google Ads"]
    assert _rows(ads, "by_day") == {
        "2026-01-05": _fig(2, 2, 100.0, 90.0, 180, 2),
        "2026-01-06": _fig(1, 0, 0.0, None, 0, 1, busy=1),
        "2026-01-07": _fig(1, 1, 100.0, 40.0, 40, 0),
    }
    untracked = supervisor_client.get("/api/analytics/", {**RANGE, "source": "(none)"}).json()
    assert untracked["totals"] == BY_SOURCE[""]


def test_a_days_in_the_range_without_calls_show_zero(supervisor_client, seeded):
    data = supervisor_client.get("/api/analytics/", {"date_from": "2026-01-07", "date_to": "2026-01-09"}).json()
    assert [(r["key"], r["calls"]) for r in data["by_day"]] == [
        ("2026-01-07", 3), ("2026-01-08", 1), ("2026-01-09", 0)]
    assert data["by_day"][2]["answer_rate"] is None


def test_changing_a_numbers_source_later_does_not_rewrite_history(supervisor_client, seeded, numbers):
    numbers["A"].tracking_source = "Bing"
    numbers["A"].save()
    data = supervisor_client.get("/api/analytics/", RANGE).json()
    assert _rows(data, "by_source")["Google Ads"] == BY_SOURCE["Google Ads"]
    assert "Bing" not in _rows(data, "by_source")


class _FigureTables(HTMLParser):
    """Rows of the page's tables: (breakdown, key) -> {field: text}."""

    def __init__(self):
        super().__init__()
        self.rows, self._row, self._field = {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-breakdown" in attrs:
            self._row = self.rows.setdefault((attrs["data-breakdown"], attrs["data-key"]), {})
        elif self._row is not None and "data-field" in attrs:
            self._field = attrs["data-field"]
            self._row[self._field] = ""

    def handle_data(self, data):
        if self._row is not None and self._field:
            self._row[self._field] += data.strip()

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._field = None
        elif tag == "tr":
            self._row = None


def test_the_csv_export_matches_the_page(supervisor_client, seeded):
    page = supervisor_client.get("/analytics/", RANGE)
    assert page.status_code == 200
    tables = _FigureTables()
    tables.feed(page.content.decode())

    export = supervisor_client.get("/analytics/export.csv", RANGE)
    assert export["Content-Type"].startswith("text/csv")
    assert 'filename="call-analytics-2026-01-05-2026-01-07.csv"' in export["Content-Disposition"]
    csv_rows = {(r["breakdown"], r["key"]): r for r in csv.DictReader(io.StringIO(export.content.decode()))}

    assert set(csv_rows) == set(tables.rows)
    assert len(csv_rows) == 1 + 4 + 4 + 3  # total, sources, numbers, days
    for key, shown in tables.rows.items():
        for field, text in shown.items():
            assert csv_rows[key][field] == text, (key, field)
    assert csv_rows[("total", "")]["answer_rate_percent"] == "40.0"
    assert csv_rows[("source", "Radio")]["self_service"] == tables.rows[("source", "Radio")]["self_service"] == "2"
    assert csv_rows[("day", "2026-01-05")]["avg_talk_seconds"] == "90.0"
    assert csv_rows[("source", "Billboard 12")]["answer_rate_percent"] == "33.3"
    assert b'data-kpi="answer_rate">40.0%' in page.content


def test_spreadsheet_formulas_in_a_source_are_quoted_in_the_csv_even_behind_a_tab_or_return(
    supervisor_client, numbers
):
    sources = ["=HYPERLINK(\"http://x\")", "@SUM(A1)", "\t=1+2", "\r=cmd|' /C calc'!A0", "-2+3", "Google Ads"]
    for n, source in enumerate(sources):
        number = PhoneNumberFactory(e164=f"+1312555030{n}", tracking_source=source)
        _call(number, "2026-01-05 10:00:00", X, "answered", 10)

    export = supervisor_client.get("/analytics/export.csv", RANGE)

    rows = list(csv.DictReader(io.StringIO(export.content.decode(), newline="")))
    assert {r["label"] for r in rows if r["breakdown"] == "source"} == {"'" + s for s in sources[:-1]} | {"Google Ads"}
    keys = {r["key"] for r in rows if r["breakdown"] == "number"}
    assert "+13125550300" in keys  # a number is not a formula


def test_the_page_says_calls_count_by_the_day_they_started(supervisor_client, seeded):
    text = supervisor_client.get("/analytics/", RANGE).content.decode()
    assert "started between" in text and "ended between" not in text


def test_the_page_says_answered_means_a_person_answered(supervisor_client, seeded):
    text = supervisor_client.get("/analytics/", RANGE).content.decode()
    assert "Answered means a person answered" in text and "<th title=" in text and "Self-service</th>" in text
    ivr_only = Call.objects.get(from_number=T)
    assert (ivr_only.caller_outcome, ivr_only.talk_seconds, ivr_only.caller_answered_at) == ("self_service", 0, None)


def test_a_reversed_date_range_is_refused_with_a_message(supervisor_client, seeded):
    response = supervisor_client.get("/api/analytics/", {"date_from": "2026-01-07", "date_to": "2026-01-05"})
    assert response.status_code == 400
    assert "start date is after the end date" in str(response.json())
    page = supervisor_client.get("/analytics/", {"date_from": "2026-01-07", "date_to": "2026-01-05"})
    assert b"The start date is after the end date." in page.content


@pytest.mark.parametrize("persona", ["agent_user", "outsider"])
def test_only_supervisors_and_admins_see_analytics(request, persona, seeded):
    client = Client()
    client.force_login(request.getfixturevalue(persona))
    for url in ("/analytics/", "/analytics/export.csv", "/api/analytics/", "/call-log/", "/api/call-log/"):
        assert client.get(url).status_code == 403, url


def test_admins_see_analytics_too(admin_user, seeded):
    client = Client()
    client.force_login(admin_user)
    assert client.get("/api/analytics/", RANGE).json()["totals"]["calls"] == 10
