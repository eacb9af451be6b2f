"""The ASGI handler of ``anwang serve``: each request's synchronous code in one hand-over, on
the process's one thread for it, and the live stream still streams."""

from __future__ import annotations

import asyncio
import threading
from typing import Any
from unittest import mock

import pytest
from asgiref.sync import sync_to_async

from anwang.project.asgi import OneThreadHandler, application

pytestmark = pytest.mark.django_db


async def get(path: str, sent: list[dict[str, Any]] | None = None) -> int:
    """One GET through the ASGI application; its status. ``sent`` collects what is sent."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    sent = [] if sent is None else sent
    body_read = False
    never = asyncio.get_running_loop().create_future()

    async def receive() -> dict[str, Any]:
        nonlocal body_read
        if not body_read:
            body_read = True
            return {"type": "http.request", "body": b"", "more_body": False}
        message: dict[str, Any] = await never  # the client stays connected
        return message

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await application(scope, receive, send)
    return int(sent[0]["status"])


def test_every_request_runs_on_the_same_thread_with_a_synchronous_chain() -> None:
    assert isinstance(application, OneThreadHandler)
    assert not asyncio.iscoroutinefunction(application._middleware_chain)  # type: ignore[attr-defined]
    threads: list[int] = []

    def note_thread(request: Any) -> str:
        threads.append(threading.get_ident())
        return "127.0.0.1"

    async def three() -> list[int]:
        return list(await asyncio.gather(*(get("/api/v1/health") for _ in range(3))))

    with mock.patch("anwang.core.middleware.client_address", side_effect=note_thread):
        assert asyncio.run(three()) == [200, 200, 200]
    assert len(threads) == 3
    assert len(set(threads)) == 1
    assert threads[0] != threading.get_ident()


def test_other_connections_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="HTTP"):
        asyncio.run(application({"type": "websocket"}, None, None))


def test_a_request_is_started_answered_and_finished_in_one_hand_over_before_it_is_sent() -> None:
    """Django's own handler hands over three times a request (started, the response,
    finished); here once, and the database connection is back (finished) before the response
    goes out."""
    from django.core import signals

    happened: list[tuple[str, int]] = []
    sent: list[dict[str, Any]] = []

    def started(**kwargs: Any) -> None:
        happened.append(("started", threading.get_ident()))

    def finished(**kwargs: Any) -> None:
        happened.append(("finished", threading.get_ident()))
        assert not sent, "finished before the response is sent"

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:
        with mock.patch("anwang.project.asgi.sync_to_async", wraps=sync_to_async) as hand_over:
            assert asyncio.run(get("/api/v1/health", sent)) == 200
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)
    assert hand_over.call_count == 1
    assert [what for what, _thread in happened] == ["started", "finished"]
    assert len({thread for _what, thread in happened}) == 1
    assert happened[0][1] != threading.get_ident()
    assert sent[0]["type"] == "http.response.start"
