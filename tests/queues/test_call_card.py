"""The incoming-call card tells the agent who calls, what they dialled, where they came
from, what they did in the IVR and how their earlier calls went, before they answer."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.calls.models import Call
from apps.numbers.models import PhoneNumber
from apps.queues.models import Disposition, Offer, QueueEntry, QueueMember
from tests.factories import CallFactory
from tests.ivr.flows import install, two_level
from tests.ivr.test_e2e import CALLER, IVR_LINE
from tests.queues.conftest import available, make_agent, offer_of, sip

pytestmark = pytest.mark.e2e


def _an_earlier_call_taken_by(agent, *, disposition: str, notes: str) -> Call:
    at = timezone.now() - timedelta(days=3)
    earlier = CallFactory(from_number=CALLER, to_number=IVR_LINE, initiated_at=at, answered_at=at,
                          ended_at=at + timedelta(minutes=4), status=Call.Status.ENDED,
                          outcome=Call.Outcome.ANSWERED)
    entry = QueueEntry.objects.create(call=earlier, queue=agent.queues.first(), status=QueueEntry.Status.LEFT)
    Offer.objects.create(entry=entry, agent=agent, status=Offer.Status.ENDED, dial_to=sip("ines"),
                         answered_at=at, ended_at=at + timedelta(minutes=4),
                         disposition=Disposition.objects.create(name=disposition), notes=notes)
    return earlier


def test_the_card_shows_caller_dialled_number_source_ivr_path_and_earlier_calls(center, client, queues):
    agent = make_agent("ines")
    QueueMember.objects.create(queue=queues["Billing"], agent=agent)
    install(two_level(queues), IVR_LINE)
    PhoneNumber.objects.filter(e164=IVR_LINE).update(
        label="Main line", tracking_source="Billboard 12", tracking_campaign="Fall sale")
    earlier = _an_earlier_call_taken_by(agent, disposition="Refund issued", notes="Card charged twice.")
    center.sandbox.set_caller_names({CALLER: "GRACE HOPPER"})
    center.sandbox.set_destinations({sip("ines"): {"answer": "manual"}})
    available(agent)

    ccid = center.sandbox.place_call(from_=CALLER, to=IVR_LINE, dtmf_script=["2", "1"])["call_control_id"]
    offer = offer_of(center, ccid, status=Offer.Status.RINGING)
    center.wait_for(lambda: Call.objects.filter(call_control_id=ccid, caller_name="GRACE HOPPER").exists(),
                    message="the caller's name to be looked up")
    client.force_login(agent.user)
    card = client.get(f"/api/offers/{offer.pk}/").json()["card"]

    assert card["caller"] == {"number": CALLER, "name": "GRACE HOPPER"}
    assert card["dialled"] == {"number": IVR_LINE, "label": "Main line"}
    assert (card["source"], card["campaign"]) == ("Billboard 12", "Fall sale")
    assert card["queue"]["name"] == "Billing"
    assert card["first_time_caller"] is False
    assert [(step["node"], step["digits"]) for step in card["ivr_path"]][:2] == [("Main", "2"), ("Support", "1")]
    [previous] = card["previous_calls"]
    assert (previous["id"], previous["agent"], previous["disposition"], previous["notes"]) == (
        earlier.pk, agent.name, "Refund issued", "Card charged twice.")
