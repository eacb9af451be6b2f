"""ASGI entry point for ``anwang serve``."""

from __future__ import annotations

import os
from typing import Any

import django
from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.http import FileResponse, HttpRequest
from django.http.response import HttpResponseBase


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

    async def run_get_response(self, request: HttpRequest) -> HttpResponseBase:
        response: HttpResponseBase = await sync_to_async(self.get_response)(request)
        response._handler_class = self.__class__  # type: ignore[attr-defined]
        if isinstance(response, FileResponse):
            # ASGI servers chunk the body themselves: read the file in large pieces.
            response.block_size = self.chunk_size
        return response


def _application() -> Any:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anwang.project.settings")
    django.setup(set_prefix=False)
    return OneThreadHandler()


application = _application()
