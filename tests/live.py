"""The live websocket as a browser opens it, in tests (Channels' own communicator)."""

from channels.testing import WebsocketCommunicator
from django.conf import settings

from contactcenter.asgi import application


def live_socket(client=None) -> WebsocketCommunicator:
    """A socket to ``/ws/live/`` carrying ``client``'s session cookie (none: anonymous)."""
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if client is not None:
        cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        headers.append((b"cookie", cookie.encode()))
    return WebsocketCommunicator(application, "/ws/live/", headers=headers)
