"""Celery tasks: process stored webhook events, send commands, sweep leftovers."""

import logging

from celery import shared_task

from apps.telnyx import services
from apps.telnyx.client import COMMANDS, TelnyxError, get_client

logger = logging.getLogger(__name__)

# Retries after the client's own fast attempts: 1, 2, 4, 8, 16 s. Each run and
# each retry is kept inside services.RESEND_WINDOW of the first attempt, so a
# repeat always falls in Telnyx's 60 s command_id window and is recognised as
# a duplicate if an earlier attempt did get through; what is left then fails.
COMMAND_RETRY_COUNTDOWNS = (1, 2, 4, 8, 16)


@shared_task(name="apps.telnyx.tasks.telnyx_events_process", acks_late=True, ignore_result=True)
def telnyx_events_process_task(event_pks: list[int]) -> None:
    """Run the handlers of stored webhook events, oldest first (idempotent per event)."""
    for event_pk in sorted(event_pks):
        services.event_process(event_pk=event_pk)


@shared_task(
    bind=True,
    name="apps.telnyx.tasks.telnyx_command_send",
    acks_late=True,
    ignore_result=True,
    max_retries=len(COMMAND_RETRY_COUNTDOWNS),
)
def telnyx_command_send_task(self, command_pk: int) -> None:
    """Send one recorded command to Telnyx, with the command_id it was given.

    Transient failures are retried with backoff; permanent ones (a 4xx such as
    422 "call has already ended") and exhausted retries go to
    ``command_fail``, which records the error and lets the call's domain
    react, so no failure is dropped silently.
    """
    command = services.command_claim(command_pk=command_pk)
    if command is None:
        return
    endpoint = COMMANDS[command.action]
    try:
        status, body = get_client().command(
            command.method,
            command.path,
            command.body,
            command_id=str(command.command_id) if endpoint.accepts_command_id else None,
            budget=services.command_resend_budget(command),
        )
    except TelnyxError as exc:
        countdown = COMMAND_RETRY_COUNTDOWNS[min(self.request.retries, len(COMMAND_RETRY_COUNTDOWNS) - 1)]
        if exc.permanent or self.request.retries >= self.max_retries:
            services.command_fail(command_pk=command_pk, error=exc)
        elif countdown >= services.command_resend_budget(command):
            services.command_fail(command_pk=command_pk, error=f"{exc.message}; {services.NOT_RESENT}")
        else:
            services.command_retry_later(command_pk=command_pk, error=exc, countdown=countdown)
            raise self.retry(countdown=countdown, exc=exc)
        return
    services.command_succeed(command_pk=command_pk, status=status, response=body)


@shared_task(name="apps.telnyx.tasks.telnyx_events_sweep", ignore_result=True)
def telnyx_events_sweep() -> int:
    """Periodic: queue events stored while Redis or the workers were away."""
    return services.events_sweep()


@shared_task(name="apps.telnyx.tasks.telnyx_commands_sweep", ignore_result=True)
def telnyx_commands_sweep() -> int:
    """Periodic: re-queue commands whose task was lost, fail expired ones."""
    return services.commands_sweep()
