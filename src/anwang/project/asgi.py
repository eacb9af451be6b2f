"""ASGI entry point for ``anwang serve``."""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import Any

import django
from asgiref.sync import sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse
from django.http.response import HttpResponseBase
from django.urls import set_script_prefix


class OneThreadHandler(ASGIHandler):
    """Django's ASGI handler, running every request's synchronous code on one thread of the
    process, in one hand-over from the event loop.

    Django's own handler starts a thread for each request and runs the middleware chain in its
    asynchronous mode, where each middleware written only for synchronous code (ours, and each
    step of Django's) is another hand-over between the event loop and that thread. On two
    cores, 50 concurrent requests made 50 threads contend for the interpreter lock: a page that
    takes 4 ms alone was served 67 times a second (490 with this handler), and a health check
    cost twice its work in hand-overs. Here requests take turns on one thread, as in a
    synchronous WSGI worker: ``anwang serve --workers`` runs several processes for
    parallelism, the event loop keeps reading requests and writing responses meanwhile, and
    the live streams (an ``async`` view, with their own database threads) never wait for the
    thread while they stream. A request's connection is taken from, and returned to, the
    database backends' pools (see the settings) on that thread.
    """

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        # No ThreadSensitiveContext (Django opens one per request): without it, synchronous
        # code marked thread-sensitive runs on asgiref's one thread for the process.
        await self.handle(scope, receive, send)

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Django's request cycle with one hand-over to the thread, not three: Django's own
        sends the request-started signal, makes the response and closes it (the finished
        signal, which returns the database connection) in three, each a wait for the thread and
        then for the event loop, and watches for a disconnect in a task of its own meanwhile;
        a page kept in the cache spent as long in these as in its own work."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        try:
            response = await sync_to_async(self._respond)(scope, body_file)
            if response.streaming:
                await self._stream(response, receive, send)
            else:
                await self.send_response(response, send)
        finally:
            body_file.close()

    def _respond(self, scope: dict[str, Any], body_file: Any) -> HttpResponseBase:
        """The response, on the thread; closed already unless it streams."""
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        response: HttpResponseBase
        if request is None:
            assert error_response is not None  # one or the other
            response = error_response
        else:
            response = self.get_response(request)
            response._handler_class = self.__class__  # type: ignore[attr-defined]
            if isinstance(response, FileResponse):
                # ASGI servers chunk the body themselves: read the file in large pieces.
                response.block_size = self.chunk_size
        if not response.streaming:
            # Its body is made: the request is finished before it is sent.
            response.close()
        return response

    async def _stream(self, response: HttpResponseBase, receive: Any, send: Any) -> None:
        """Send a streaming response (a file, a live stream) until it ends or the client goes
        away, as Django does: a live stream never ends by itself."""
        tasks = [
            asyncio.create_task(self.listen_for_disconnect(receive)),
            asyncio.create_task(self.send_response(response, send)),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                with contextlib.suppress(RequestAborted, asyncio.CancelledError):
                    task.result()
            else:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await sync_to_async(response.close)()


def _application() -> Any:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anwang.project.settings")
    django.setup(set_prefix=False)
    return OneThreadHandler()


application = _application()
