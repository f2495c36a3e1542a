"""ASGI entry point: Django for HTTP, Channels for the live websocket.

HTTP requests go through Django's WSGI handler, run in a pool of worker
threads by a2wsgi: one thread hand-off per request. Django's ASGI
handler would instead hop between the event loop and threads around every
synchronous middleware hook (about fifteen hand-offs per request with the
stock middleware), which capped the webhook endpoint at ~250 requests/s per
process. None of our views is async, so nothing is lost.
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

from apps.core.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": WSGIMiddleware(django_wsgi_app, workers=int(os.environ.get("WEB_THREADS", "4"))),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
