"""Who is acting and from where, for the code that records it (audit) without threading a
request object through every service call."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestMeta:
    """The client address and channel of the current request or command."""

    client_address: str = ""
    channel: str = "system"  # web, api, cli, worker, system


_current: contextvars.ContextVar[RequestMeta] = contextvars.ContextVar(
    "anwang_request_meta",
    default=RequestMeta(),  # noqa: B039 - RequestMeta is frozen, so sharing it is safe
)


def current_meta() -> RequestMeta:
    """The metadata of the request or command now running."""
    return _current.get()


@contextmanager
def acting_as(meta: RequestMeta) -> Iterator[None]:
    """Run a block with the given request metadata."""
    token = _current.set(meta)
    try:
        yield
    finally:
        _current.reset(token)
