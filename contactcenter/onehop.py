"""An ASGI front for a WSGI app with one thread hand-off per request, for the webhook endpoint.

a2wsgi (which serves every other HTTP request) streams: the WSGI thread asks
the event loop for the body and hands it the status line, each body chunk
and the end, waiting for the loop each time. That is four cross-thread round
trips per request, about 0.6 ms of CPU on this kind of machine (a trivial WSGI
app behind a2wsgi: 0.73 ms per request; the same app as plain ASGI: 0.15 ms),
a third of what a webhook costs the web process. Telnyx's webhooks are small
and so are our answers, so for them the loop reads the whole body first, one
executor call runs Django's WSGI handler and returns the finished response,
and the loop sends it. Bodies over ``max_body`` bytes get 413 unread.
a2wsgi's own environ builder and thread pool are reused.
"""

from __future__ import annotations

import asyncio
import io

from a2wsgi.wsgi import build_environ


class OneHopWSGI:
    def __init__(self, wsgi_app, executor, *, max_body: int):
        self.app = wsgi_app
        self.executor = executor
        self.max_body = max_body

    async def __call__(self, scope, receive, send) -> None:
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.max_body:
                return await _send(send, 413, [(b"content-type", b"text/plain")], b"request body too large")
            if not message.get("more_body"):
                break
        loop = asyncio.get_running_loop()
        status, headers, content = await loop.run_in_executor(self.executor, self._run, scope, bytes(body))
        await _send(send, status, headers, content)

    def _run(self, scope, body: bytes) -> tuple[int, list, bytes]:
        environ = build_environ(scope, io.BytesIO(body))
        # The whole body is here, so its length is known even when it came
        # chunked (Django reads nothing of a body without a Content-Length).
        environ["CONTENT_LENGTH"] = str(len(body))
        started = {}

        def start_response(status, headers, exc_info=None):
            if exc_info and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started["status"] = int(status.split(" ", 1)[0])
            started["headers"] = [(k.lower().encode("latin1"), v.encode("latin1")) for k, v in headers]

        result = self.app(environ, start_response)
        try:
            content = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return started["status"], started["headers"], content


async def _send(send, status: int, headers: list, content: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})
