"""The shape of every live message about queues and offers, built in one place."""

from apps.queues.models import Offer, Transfer


def transfer_summary(transfer: Transfer | None) -> dict | None:
    if transfer is None:
        return None
    return {
        "id": transfer.pk,
        "mode": transfer.mode,
        "target": transfer.target,
        "to": (transfer.to_agent.name if transfer.to_agent else transfer.to_queue.name if transfer.to_queue
               else transfer.to_number),
        "status": transfer.status,
    }


def offer_summary(offer: Offer, *, card: bool = True) -> dict:
    from apps.queues.selectors import offer_card

    transfer = offer.transfers.filter(status__in=Transfer.LIVE).select_related("to_agent__user", "to_queue").first()
    return {
        "id": offer.pk,
        "kind": offer.kind,
        "status": offer.status,
        "end_reason": offer.end_reason,
        "queue": offer.entry.queue.name,
        "created_at": offer.created_at,
        "answered_at": offer.answered_at,
        "ended_at": offer.ended_at,
        "held": offer.held,
        "muted": offer.muted,
        "conference": offer.conference_name,
        "disposition": offer.disposition_id,
        "notes": offer.notes,
        "wrapped_at": offer.wrapped_at,
        "awaits_wrap_up": offer.awaits_wrap_up,
        "transfer": transfer_summary(transfer),
        "card": offer_card(offer) if card else None,
        "version": offer.version,
    }


class OfferMessages:
    @staticmethod
    def offer_updated(offer: Offer, *, card: bool = False) -> dict:
        return {"type": "offer.updated", "version": offer.version, "agent": offer.agent_id,
                "offer": offer_summary(offer, card=card)}


class QueueMessages:
    @staticmethod
    def queue_updated(stats: dict) -> dict:
        return {"type": "queue.updated", "version": stats["version"], "queue": stats}
