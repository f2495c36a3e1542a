from django.db.models import Count, Q, QuerySet

from apps.calls.models import Call
from apps.core.roles import Role, user_can
from apps.ivr.models import IvrFlow, IvrNode, IvrStep
from apps.ivr.validation import SETTINGS
from apps.numbers.models import PhoneNumber
from apps.queues.models import Offer, Queue


def ivr_flow_list() -> QuerySet[IvrFlow]:
    return IvrFlow.objects.annotate(node_count=Count("nodes", distinct=True)).prefetch_related("numbers")


def ivr_flow_document(flow: IvrFlow) -> dict:
    """The flow as the builder and the API exchange it (what ``ivr_flow_update`` takes back)."""
    return {
        "id": flow.pk,
        "name": flow.name,
        "description": flow.description,
        "entry": flow.entry_key,
        "fallback": flow.fallback_key,
        "max_steps": flow.max_steps,
        "voice": flow.voice,
        "language": flow.language,
        "version": flow.version,
        "updated_at": flow.updated_at,
        "nodes": [ivr_node_document(node) for node in flow.nodes.prefetch_related("options")],
        "numbers": [{"id": n.pk, "e164": n.e164, "label": n.label} for n in flow.numbers.all()],
    }


def ivr_node_document(node: IvrNode, options=None) -> dict:
    """The node as the API exchanges it; ``options`` (IvrOption-like rows) in place of the stored ones."""
    settings = node.settings if isinstance(node.settings, dict) else {}  # JSON edited in the Django admin
    document = {"key": node.key, "kind": node.kind, "name": node.name, "prompt": node.prompt}
    for field, default in SETTINGS.get(node.kind, {}).items():
        document[field] = settings.get(field, default)
    if node.kind in (IvrNode.Kind.QUEUE, IvrNode.Kind.VOICEMAIL):
        document["queue"] = node.queue_id
    if node.kind == IvrNode.Kind.MENU:
        document["options"] = [
            {"digits": o.digits, "speech": o.speech, "next": o.target_key}
            for o in (node.options.all() if options is None else options)
        ]
    return document


def ivr_path(call: Call) -> QuerySet[IvrStep]:
    """The steps a call took through IVRs, in order (for the agent's screen and reports)."""
    return IvrStep.objects.filter(call=call).order_by("step")


def ivr_path_visible_to(user, call: Call) -> bool:
    """Whether ``user`` may read the call's path (it holds what the caller said).

    Supervisors and admins read every call's; an agent only those of calls
    offered to them (ringing, taken, missed or declined) or handed to them in
    a transfer.
    """
    if user_can(user, Role.SUPERVISOR):
        return True
    if not user_can(user, Role.AGENT):
        return False
    return Offer.objects.filter(agent__user=user).filter(Q(entry__call=call) | Q(customer_call=call)).exists()


def ivr_choices() -> dict:
    """What the builder offers in its pickers."""
    return {
        "queues": [{"id": q.pk, "name": q.name} for q in Queue.objects.all()],
        "numbers": [
            {"id": n.pk, "e164": n.e164, "label": n.label, "route": n.route, "ivr": n.ivr_id}
            for n in PhoneNumber.objects.routable()
        ],
        "kinds": [{"value": value, "label": label} for value, label in IvrNode.Kind.choices],
    }
