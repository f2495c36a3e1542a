"""Saving IVR flows (admins only, checked by the APIs) and pointing numbers at them.

Not durable: the demo seeds a flow inside its own transaction.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import ProtectedError

from apps.core.exceptions import ApplicationError
from apps.ivr.models import IvrFlow, IvrNode, IvrOption
from apps.ivr.prompts import prompt_clean
from apps.ivr.validation import SETTINGS, Problem, flow_problems
from apps.numbers.models import PhoneNumber
from apps.queues.models import Queue
from apps.recordings.voicemail.services import voicemail_box_for


@transaction.atomic
def ivr_flow_create(
    *, name: str, description: str = "", entry: str, fallback: str = "", max_steps: int = 50,
    voice: str = "", language: str = "", nodes: list[dict], user=None,
) -> IvrFlow:
    """Create a flow from a whole document; refused, naming the node, if it could not run."""
    if IvrFlow.objects.filter(name=name).exists():
        raise _refused([Problem("", "name", f"a flow called {name!r} already exists")])
    flow = IvrFlow(name=name)
    return _flow_save(flow, description=description, entry=entry, fallback=fallback, max_steps=max_steps,
                      voice=voice, language=language, nodes=nodes, user=user)


@transaction.atomic
def ivr_flow_update(
    *, flow: IvrFlow, name: str, description: str = "", entry: str, fallback: str = "", max_steps: int = 50,
    voice: str = "", language: str = "", nodes: list[dict], version: int | None = None, user=None,
) -> IvrFlow:
    """Replace a flow's settings and nodes. Calls in the flow continue on the new nodes.

    ``version`` is the version the editor loaded: saving over someone else's
    newer save is refused rather than silently undoing it.
    """
    flow = IvrFlow.objects.select_for_update().get(pk=flow.pk)
    if version is not None and version != flow.version:
        raise ApplicationError(
            f"This flow was changed by someone else (now version {flow.version}); reload it before saving.",
            {"errors": [], "version": flow.version},
        )
    if IvrFlow.objects.filter(name=name).exclude(pk=flow.pk).exists():
        raise _refused([Problem("", "name", f"a flow called {name!r} already exists")])
    flow.name = name
    flow.version += 1
    return _flow_save(flow, description=description, entry=entry, fallback=fallback, max_steps=max_steps,
                      voice=voice, language=language, nodes=nodes, user=user)


def _flow_save(flow: IvrFlow, *, description, entry, fallback, max_steps, voice, language, nodes, user) -> IvrFlow:
    problems = flow_problems(
        entry=entry, fallback=fallback, max_steps=max_steps, voice=voice, language=language, nodes=nodes,
        queue_ids=set(Queue.objects.values_list("pk", flat=True)),
    )
    if problems:
        raise _refused(problems)
    flow.description, flow.entry_key, flow.fallback_key = description, entry, fallback
    flow.max_steps, flow.voice, flow.language, flow.updated_by = max_steps, voice, language, user
    flow.save()
    flow.nodes.all().delete()
    for position, node in enumerate(nodes):
        _node_create(flow, node, position)
    return flow


def _node_create(flow: IvrFlow, node: dict, position: int) -> IvrNode:
    kind = node["kind"]
    settings = {}
    for field, default in SETTINGS[kind].items():
        value = node.get(field, default)
        settings[field] = prompt_clean(value) if field.endswith("_prompt") else value
    if kind == IvrNode.Kind.FORWARD:
        settings["to"] = settings["to"].strip()
    row = IvrNode.objects.create(
        flow=flow, key=node["key"], kind=kind, name=node.get("name") or "", position=position,
        prompt=prompt_clean(node.get("prompt")), settings=settings, queue_id=node.get("queue") or None,
    )
    if kind == IvrNode.Kind.MENU:
        IvrOption.objects.bulk_create(
            IvrOption(node=row, digits=o["digits"], speech=o.get("speech") or "", target_key=o["next"], position=i)
            for i, o in enumerate(node.get("options") or [])
        )
    if kind == IvrNode.Kind.VOICEMAIL:
        # Create the box now, so it is listed (empty) before the first message.
        voicemail_box_for(ivr=flow if not row.queue_id else None, queue=row.queue)
    return row


def _refused(problems: list[Problem]) -> ApplicationError:
    first = problems[0].text()
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return ApplicationError(f"The flow was not saved. {first}{more}", {"errors": [p.as_dict() for p in problems]})


@transaction.atomic
def ivr_flow_delete(*, flow: IvrFlow) -> None:
    """Delete a flow no number routes to (its voicemail box and messages stay)."""
    numbers = list(flow.numbers.values_list("e164", flat=True))
    if numbers:
        raise ApplicationError(
            f"{', '.join(numbers)} still route to this flow: point them elsewhere first.", {"numbers": numbers}
        )
    try:
        flow.delete()
    except ProtectedError as exc:  # a number was pointed at it meanwhile
        raise ApplicationError("Numbers still route to this flow.") from exc


@transaction.atomic
def ivr_flow_number_assign(*, flow: IvrFlow, number: PhoneNumber) -> PhoneNumber:
    """Route calls to ``number`` into this flow (from now on; calls up now are not moved)."""
    number.route = PhoneNumber.Route.IVR
    number.ivr = flow
    number.save(update_fields=["route", "ivr"])
    return number


@transaction.atomic
def ivr_flow_number_release(*, flow: IvrFlow, number: PhoneNumber) -> PhoneNumber:
    """Stop routing ``number`` to this flow; it goes back to the greeting route."""
    if number.ivr_id != flow.pk:
        raise ApplicationError(f"{number.e164} does not route to {flow.name}.")
    number.route = PhoneNumber.Route.GREETING
    number.ivr = None
    number.save(update_fields=["route", "ivr"])
    return number
