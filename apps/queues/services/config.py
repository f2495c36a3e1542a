"""Admins configure queues (settings, members, required skills) and dispositions."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.agents.models import Agent, Skill
from apps.core.db import rows_replace
from apps.core.exceptions import ApplicationError
from apps.numbers.validation import e164_normalize
from apps.queues.models import Disposition, Queue, QueueMember, QueueSkill
from apps.queues.realtime import queue_publish_on_commit

SETTINGS = (
    "name", "strategy", "ring_timeout_secs", "wrap_up_secs", "hold_audio_url", "hold_text", "announce_every_secs",
    "max_wait_secs", "overflow_action", "overflow_queue", "callback_number", "service_level_secs",
)


def _check(queue: Queue) -> None:
    if not (queue.name or "").strip():
        raise ApplicationError("A queue needs a name.", {"field": "name"})
    if Queue.objects.filter(name=queue.name).exclude(pk=queue.pk).exists():
        raise ApplicationError(f"There is already a queue called {queue.name!r}.", {"field": "name"})
    if queue.overflow_action != Queue.Overflow.NONE and not queue.max_wait_secs:
        raise ApplicationError("An overflow action runs after the maximum wait: set it.", {"field": "max_wait_secs"})
    if queue.overflow_action == Queue.Overflow.QUEUE:
        if queue.overflow_queue_id is None:
            raise ApplicationError("Choose the queue callers overflow to.", {"field": "overflow_queue"})
        if queue.pk and queue.overflow_queue_id == queue.pk:
            raise ApplicationError("A queue cannot overflow to itself.", {"field": "overflow_queue"})
    if queue.callback_number:
        try:
            queue.callback_number = e164_normalize(queue.callback_number)
        except ValidationError as exc:
            raise ApplicationError(exc.messages[0], {"field": "callback_number"}) from None
    try:
        queue.full_clean(exclude=["members"], validate_unique=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise ApplicationError(messages[0], {"field": field}) from None


@transaction.atomic
def queue_create(
    *, members: list[tuple[Agent, int]] | None = None, skills: list[tuple[Skill, int]] | None = None, **settings
) -> Queue:
    queue = Queue(**{k: v for k, v in settings.items() if k in SETTINGS})
    _check(queue)
    queue.save()
    queue_members_set(queue=queue, members=members or [])
    queue_skills_set(queue=queue, skills=skills or [])
    return queue


@transaction.atomic
def queue_update(
    *, queue: Queue, members: list[tuple[Agent, int]] | None = None, skills: list[tuple[Skill, int]] | None = None,
    **settings,
) -> Queue:
    """Change the settings given (and, when given, the members and required skills)."""
    queue = Queue.objects.select_for_update().get(pk=queue.pk)
    for field, value in settings.items():
        if field in SETTINGS:
            setattr(queue, field, value)
    _check(queue)
    queue.save()
    if members is not None:
        queue_members_set(queue=queue, members=members)
    if skills is not None:
        queue_skills_set(queue=queue, skills=skills)
    queue_publish_on_commit(queue.pk)
    return queue


@transaction.atomic(savepoint=False)
def queue_members_set(*, queue: Queue, members: list[tuple[Agent, int]]) -> None:
    """Replace the members with ``[(agent, priority), ...]`` (priority 1 is offered first)."""
    priorities = {agent.pk: int(priority) for agent, priority in members}
    if any(not 1 <= p <= 99 for p in priorities.values()):
        raise ApplicationError("Member priorities go from 1 (first) to 99.", {"field": "members"})
    rows_replace(QueueMember, {"queue": queue}, "agent_id", priorities, "priority")


@transaction.atomic(savepoint=False)
def queue_skills_set(*, queue: Queue, skills: list[tuple[Skill, int]]) -> None:
    levels = {skill.pk: int(level) for skill, level in skills}
    if any(not 1 <= level <= 10 for level in levels.values()):
        raise ApplicationError("Skill levels go from 1 to 10.", {"field": "skills"})
    rows_replace(QueueSkill, {"queue": queue}, "skill_id", levels, "min_level")


@transaction.atomic
def queue_delete(*, queue: Queue) -> None:
    """Delete a queue nobody ever called (one with calls keeps its history: rename it instead)."""
    if queue.entries.exists():
        raise ApplicationError("This queue has calls in its history and cannot be deleted.")
    if queue.numbers.exists():
        raise ApplicationError("Numbers route to this queue: route them elsewhere first.")
    queue.delete()


# --- Dispositions ------------------------------------------------------------------------
@transaction.atomic
def disposition_create(*, name: str, active: bool = True, position: int = 0) -> Disposition:
    name = (name or "").strip()
    if not name:
        raise ApplicationError("A disposition needs a name.", {"field": "name"})
    try:
        with transaction.atomic():
            return Disposition.objects.create(name=name, active=active, position=position)
    except IntegrityError:
        raise ApplicationError(f"There is already a disposition called {name!r}.", {"field": "name"}) from None


@transaction.atomic
def disposition_update(*, disposition: Disposition, **changes) -> Disposition:
    if "name" in changes:
        name = (changes["name"] or "").strip()
        if not name:
            raise ApplicationError("A disposition needs a name.", {"field": "name"})
        if Disposition.objects.filter(name=name).exclude(pk=disposition.pk).exists():
            raise ApplicationError(f"There is already a disposition called {name!r}.", {"field": "name"})
        changes["name"] = name
    for field in ("name", "active", "position"):
        if field in changes:
            setattr(disposition, field, changes[field])
    disposition.save()
    return disposition


@transaction.atomic
def disposition_delete(*, disposition: Disposition) -> bool:
    """Delete an unused disposition; one already given to calls is only retired. Returns whether deleted."""
    from apps.queues.models import Offer

    if Offer.objects.filter(disposition=disposition).exists():
        disposition.active = False
        disposition.save(update_fields=["active"])
        return False
    disposition.delete()
    return True
