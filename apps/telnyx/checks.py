"""`manage.py check` (run by migrate and at every start) says what a deployment
is missing before Telnyx's traffic finds out: webhooks refused for want of a
key, commands refused for want of an API key, events nobody processes."""

from django.conf import settings
from django.core.checks import Error, Warning, register

from apps.telnyx.signatures import WebhookSignatureError, _public_key


@register("telnyx")
def telnyx_settings_check(app_configs, **kwargs):
    problems = []
    public_key = settings.TELNYX_PUBLIC_KEY
    if not public_key:
        problems.append(Warning(
            "TELNYX_PUBLIC_KEY is not set: every webhook will be refused (403).",
            hint="Copy the public key from the Telnyx portal (Account Settings > Keys & Credentials > Public Key).",
            id="telnyx.W001",
        ))
    else:
        try:
            _public_key(public_key)
        except WebhookSignatureError as exc:
            problems.append(Error(str(exc), hint="It is 44 base64 characters.", id="telnyx.E001"))
    if "api.telnyx.com" in settings.TELNYX_API_BASE_URL:
        if not settings.TELNYX_API_KEY:
            problems.append(Warning(
                "TELNYX_API_KEY is not set: Telnyx will refuse every command (401).", id="telnyx.W002",
            ))
        if not settings.TELNYX_CONNECTION_ID:
            problems.append(Warning(
                "TELNYX_CONNECTION_ID is not set: calls to agents and forwards cannot be dialled, "
                "and ordered numbers are not assigned to the Call Control application.",
                id="telnyx.W003",
            ))
    if not settings.EMBEDDED and not settings.REDIS_URL and not settings.CELERY_TASK_ALWAYS_EAGER:
        problems.append(Warning(
            "DATABASE_URL is set but REDIS_URL is not: webhooks are stored, but no separate Celery "
            "worker can take them (only `manage.py runcenter`, which runs its own, will process them).",
            id="telnyx.W004",
        ))
    return problems
