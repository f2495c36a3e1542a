"""ASGI entry point: Django for HTTP, Channels for the live websocket.

HTTP requests go through Django's WSGI handler, run in a pool of worker
threads by a2wsgi. Django's ASGI handler would instead hop between the event
loop and threads around every synchronous middleware hook (about fifteen
hand-offs per request with the stock middleware), which capped the webhook
endpoint at ~250 requests/s per process. None of our views is async, so
nothing is lost. The Telnyx webhook, the one endpoint that takes hundreds of
requests a second, goes to the same Django handler through
:class:`contactcenter.onehop.OneHopWSGI` (one hand-off instead of a2wsgi's
four; see there).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactcenter.settings")
# Django must be set up before anything imports models.
django_wsgi_app = get_wsgi_application()

from a2wsgi import WSGIMiddleware  # noqa: E402
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from django.conf import settings  # noqa: E402
from django.urls import reverse  # noqa: E402

from apps.core.routing import websocket_urlpatterns  # noqa: E402
from contactcenter.onehop import OneHopWSGI  # noqa: E402

django_http = WSGIMiddleware(django_wsgi_app, workers=int(os.environ.get("WEB_THREADS", "4")))
webhook_http = OneHopWSGI(django_wsgi_app, django_http.executor, max_body=settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440)
WEBHOOK_PATH = reverse("telnyx-webhook")


async def http(scope, receive, send):
    app = webhook_http if scope["path"] == WEBHOOK_PATH else django_http
    await app(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": http,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
