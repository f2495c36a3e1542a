"""``POST /webhooks/telnyx/``: verify, store, acknowledge. Nothing else.

The view does no call work: Telnyx expects a fast 2xx and retries slow or
failed deliveries, so the follow-up commands are queued after the event is
committed and run in Celery. ``webhook_url_method=GET`` deliveries are not
supported: configure POST (the default) on the Call Control application.
"""

import json
import logging

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.telnyx.services import event_store
from apps.telnyx.signatures import WebhookSignatureError, verify_signature

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def telnyx_webhook(request):
    raw = request.body
    try:
        verify_signature(
            payload=raw,
            signature=request.headers.get("telnyx-signature-ed25519"),
            timestamp=request.headers.get("telnyx-timestamp"),
            public_key_b64=settings.TELNYX_PUBLIC_KEY,
            tolerance_seconds=settings.TELNYX_WEBHOOK_TOLERANCE_SECONDS,
        )
    except WebhookSignatureError as exc:
        # 403, not 5xx: Telnyx must not retry a delivery we will never accept.
        logger.warning("rejected telnyx webhook: %s", exc)
        return JsonResponse({"error": str(exc)}, status=403)

    body, problem = _parse(raw)
    if problem:
        return JsonResponse({"error": problem}, status=400)
    _, created = event_store(body=body, headers=dict(request.headers))
    # A duplicate is acknowledged like a first delivery, so Telnyx stops retrying.
    return JsonResponse({"status": "accepted" if created else "duplicate"})


def _parse(raw: bytes) -> tuple[dict, str]:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {}, "body is not JSON"
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        return {}, "missing data object"
    for field in ("id", "event_type"):
        if not isinstance(data.get(field), str) or not data[field]:
            return {}, f"missing data.{field}"
    if len(data["id"]) > 64 or len(data["event_type"]) > 100:
        return {}, "data.id or data.event_type too long"
    return body, ""
