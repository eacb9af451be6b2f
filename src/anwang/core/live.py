"""Live updates for consoles and phones: publish in the writer's transaction, stream by
Server-Sent Events.

A change that people watching should see at once (an alarm raised, acknowledged, dispatched;
a device going offline; the pipeline's health) is published with :func:`live_publish` inside
the transaction that makes the change. It becomes a numbered :class:`LiveMessage` row; on
PostgreSQL a ``NOTIFY`` on :data:`CHANNEL` in the same transaction wakes every listening web
process the moment the transaction commits (and never if it rolls back). On SQLite (one
machine, the writer another process) each web process reads the newest id every 50 ms. The
row numbers are the SSE event ids: a browser that reconnects with ``Last-Event-ID`` gets every
message after it, so it misses nothing.

Message kinds and their ``data`` (JSON):

- ``alarm``: ``{"id", "community", "priority", "state", "title", "device", "zone",
  "raised_at", "acknowledge_due_at", "on_scene_due_at", "count", "assignee", "change"}``
  where ``change`` is what happened (``raised``, ``repeated``, ``acknowledged``,
  ``dispatched``, ``accepted``, ``on_scene``, ``resolved``, ``false_alarm``, ``escalated``,
  ``note``, ``photo``).
- ``device``: ``{"id", "community", "status", "alarming"}`` when a device's health changes.
- ``health``: ``{"ok", "problems"}`` (no community) when the pipeline's health changes.

Numbers in commit order. On PostgreSQL two transactions may take ids 10 and 11 and commit 11
first; a reader that delivered 11 and moved its mark past 10 would never send 10. So every
publisher holds a *shared* advisory lock from taking its ids until it commits (publishers never
wait for each other), and a reader that finds a gap checks with a momentary *exclusive* try of
the same lock whether a publisher is still in flight: if none is, the gap is a rolled-back
message and is skipped; if one is, the reader waits for it. Only messages up to the *settled*
id (everything before it final) are streamed. SQLite has one writer at a time, so its ids are
in commit order by construction.

One :class:`LiveHub` per web process (per event loop) waits for new messages for all of that
process's open streams: one ``LISTEN`` connection on PostgreSQL, one read of the newest id (an
index lookup) every 50 ms on SQLite, whatever the number of streams; only when it moves do the
streams read their messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import sqlite3
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone, translation

from anwang.accounts.choices import Permission
from anwang.accounts.selectors import Scope, acts_platform_wide
from anwang.core.models import LiveMessage

log = logging.getLogger("anwang.live")
T = TypeVar("T")

CHANNEL = "anwang_live"
"""The PostgreSQL NOTIFY channel; the payload is the new message's id."""
LOCK_KEY = 0x616E_6C76
"""The advisory lock publishers share and readers try exclusively (see the module text)."""
KIND_PERMISSIONS: dict[str, Permission] = {
    "alarm": Permission.VIEW_ALARMS,
    "device": Permission.VIEW_DEVICES,
}
"""Who may see a community's messages of each kind; ``health`` goes to anyone who may see
either."""
KEEP = dt.timedelta(days=1)
"""How long messages are kept: a browser offline longer reloads the page instead."""
POLL_SECONDS = 0.05
"""How often a process checks for new messages on SQLite: one indexed read of the newest id for
all the process's streams (20 a second, a fraction of a millisecond each), so a message waits
25 ms on average for it."""
SAFETY_SECONDS = 5.0
"""How often a process checks anyway on PostgreSQL (a notification lost while reconnecting)."""
GAP_RETRY_SECONDS = 0.05
"""How soon a gap (a publisher still in flight) is checked again."""
GAP_GIVE_UP_SECONDS = 30.0
"""A gap that lasts this long is skipped (a publisher that never finishes must not stop every
stream)."""
HEARTBEAT_SECONDS = 15.0
"""How often an idle stream sends a comment, so proxies keep the connection open."""
HEALTH_SECONDS = 5.0
"""How often a stream re-evaluates the pipeline's health (a silent worker writes nothing)."""
RETRY_MS = 2000
"""How long a browser waits before reconnecting a broken stream."""
BATCH = 500
"""How many messages one read returns at most."""
LOCKED_RETRY_SECONDS = 0.005
"""How soon a read refused by a shared-cache SQLite database's table lock is tried again."""
LOCKED_WAIT_SECONDS = 20.0
"""How long such a read waits for the writer at most (as the database's busy timeout)."""
DB_THREADS = 4
"""Threads (each with its own database connection) a web process uses for live reads, shared
by all its streams, instead of a thread and a connection per open stream."""


class LiveUpdate(NamedTuple):
    """One message to publish with :func:`live_publish_many`."""

    kind: str
    data: dict[str, Any]
    community_id: int | None


# --------------------------------------------------------------------------- writes


def live_publish(*, kind: str, data: dict[str, Any], community_id: int | None) -> LiveMessage:
    """Record a live message in the caller's transaction (and wake listeners on commit)."""
    return live_publish_many(updates=[LiveUpdate(kind, data, community_id)])[0]


def live_publish_many(*, updates: Iterable[LiveUpdate]) -> list[LiveMessage]:
    """Record several live messages with one insert in the caller's transaction (the worker's
    batches publish this way)."""
    now = timezone.now()
    rows = [
        LiveMessage(
            community_id=update.community_id,
            kind=update.kind,
            data=json.loads(json.dumps(update.data, cls=DjangoJSONEncoder)),
            created_at=now,
        )
        for update in updates
    ]
    if not rows:
        return []
    # Without a transaction of the caller's, the lock must still cover insert and commit.
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            _insert_postgresql(rows)
        else:
            LiveMessage.objects.bulk_create(rows)
        # This process's next page is made as of it (another process's within a moment).
        live_forget_recent_id()
    return rows


_INSERT_ROW = "(%s::bigint, %s, %s::jsonb, %s::timestamptz)"


def _insert_postgresql(rows: list[LiveMessage]) -> None:
    """Take the shared lock, insert the rows and send the ``NOTIFY`` in one statement (one
    round trip, where it was three: the worker publishes with most batches that fire).

    The lock is the filter of the rows inserted: it is taken for the first row before that
    row's id is drawn (``nextval`` is in the insert's projection, after the filter)."""
    table = LiveMessage._meta.db_table
    sql = (
        f"WITH added AS (INSERT INTO {table} (community_id, kind, data, created_at) "  # noqa: S608
        f"SELECT * FROM (VALUES {', '.join([_INSERT_ROW] * len(rows))}) AS given "
        "WHERE pg_advisory_xact_lock_shared(%s) IS NOT NULL RETURNING id) "
        "SELECT id, pg_notify(%s, (SELECT max(id) FROM added)::text) FROM added ORDER BY id"
    )
    values: list[Any] = []
    for row in rows:
        values += [row.community_id, row.kind, json.dumps(row.data), row.created_at]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, LOCK_KEY, CHANNEL])
        for row, (pk, _notified) in zip(rows, cursor.fetchall(), strict=True):
            row.pk = pk


def live_prune(*, older_than: dt.timedelta = KEEP, now: dt.datetime | None = None) -> int:
    """Delete messages older than ``older_than``; how many were deleted (the worker's
    housekeeping calls this)."""
    cutoff = (now or timezone.now()) - older_than
    deleted, _by_model = LiveMessage.objects.filter(created_at__lt=cutoff).delete()
    return deleted


# --------------------------------------------------------------------------- reads


def live_may_see(scope: Scope) -> bool:
    """Whether the person may see any live message (alarms or devices somewhere)."""
    return (
        acts_platform_wide(scope)
        or scope.has_anywhere(Permission.VIEW_ALARMS)
        or scope.has_anywhere(Permission.VIEW_DEVICES)
    )


def live_messages_after(
    scope: Scope, after_id: int, *, limit: int = BATCH, up_to: int | None = None
) -> list[LiveMessage]:
    """The messages after ``after_id`` (and up to ``up_to``) the person may see, oldest
    first: alarms of communities where they may see alarms, devices where they may see
    devices, the pipeline's health to anyone who may see either."""
    if not live_may_see(scope):
        return []
    messages = LiveMessage.objects.filter(id__gt=after_id)
    if up_to is not None:
        messages = messages.filter(id__lte=up_to)
    if not acts_platform_wide(scope):
        visible = Q(community__isnull=True, kind="health")
        for kind, permission in KIND_PERMISSIONS.items():
            visible |= Q(kind=kind, community_id__in=scope.community_ids(permission))
        messages = messages.filter(visible)
    return list(messages.order_by("id")[:limit])


def live_last_id() -> int:
    """The number of the newest message (0 when there is none). Plain SQL: the console asks
    on every load, and building the ORM's query cost more than the read."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(id) FROM {LiveMessage._meta.db_table}")  # noqa: S608
        row = cursor.fetchone()
    return int(row[0] or 0) if row else 0


RECENT_SECONDS = 0.1
"""How old :func:`live_recent_id` may be."""
_recent: tuple[float, int] | None = None


def live_recent_id() -> int:
    """:func:`live_last_id` as this process read it at most :data:`RECENT_SECONDS` ago (or
    since it last published). For a page that shows everything up to a message and whose
    stream replays what comes after it (the console): an id a moment old only means a message
    replayed that the page already showed, and the console asks on every load (50 operators:
    hundreds a second), each a round trip to PostgreSQL. Not for the streams themselves."""
    global _recent
    now = time.monotonic()
    if _recent is None or now - _recent[0] > RECENT_SECONDS:
        _recent = (now, live_last_id())
    return _recent[1]


def live_forget_recent_id() -> None:
    """Make the next :func:`live_recent_id` read the database (a message was published here,
    or the database was replaced, as between tests)."""
    global _recent
    _recent = None


def _no_publisher_in_flight() -> bool:
    """Take the publishers' lock exclusively for the rest of the caller's transaction if no
    publisher holds it (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
        row = cursor.fetchone()
    return bool(row and row[0])


def live_start_id() -> int:
    """The id a new reader starts after: the newest one, read when no publisher is in flight
    (else a lower id still in flight would be skipped)."""
    if connection.vendor != "postgresql":
        return live_last_id()
    for _attempt in range(int(1 / GAP_RETRY_SECONDS)):
        with transaction.atomic():
            if _no_publisher_in_flight():
                return live_last_id()
        time.sleep(GAP_RETRY_SECONDS)
    return live_last_id()


def live_settled_id(after_id: int, *, skip_gaps: bool = False) -> tuple[int, bool]:
    """The highest id up to which every message is final (committed or rolled back), starting
    from a settled ``after_id``, and whether a gap is still waiting for a publisher in flight.
    With ``skip_gaps``, gaps are taken as rolled back."""
    if connection.vendor != "postgresql":
        # One writer at a time commits ids in order: the newest settles everything before it.
        return max(after_id, live_last_id()), False
    newer = LiveMessage.objects.filter(id__gt=after_id).order_by("id").values_list("id", flat=True)
    ids = list(newer[: BATCH * 10])
    settled = after_id
    for number in ids:
        if number != settled + 1:
            break
        settled = number
    newest = ids[-1] if ids else after_id
    if settled == newest or skip_gaps:
        return newest, False
    with transaction.atomic():
        if _no_publisher_in_flight():
            # None in flight, none can start: what is visible now is all there is.
            ids = list(newer[: BATCH * 10])
            return (ids[-1] if ids else after_id), False
    return settled, True


def live_health(*, language: str | None = None) -> dict[str, Any]:
    """The pipeline's health as live messages carry it (``{"ok", "problems"}``), in
    ``language`` (the default language if not given)."""
    from anwang.events.selectors import pipeline_health

    with translation.override(language or settings.LANGUAGE_CODE):
        health = pipeline_health(_PIPELINE_SCOPE)
        return {"ok": health.ok, "problems": [str(problem) for problem in health.problems]}


# Whoever may see the live stream sees the pipeline's health: it is no community's data.
_PIPELINE_SCOPE = Scope(user=None, is_platform_admin=True)


# --------------------------------------------------------------------------- streaming


def _table_locked(error: OperationalError) -> bool:
    """Whether SQLite refused the read because another connection to the same shared cache
    is writing the table. Only a shared-cache database does that (the tests' in-memory one),
    at once and without the busy timeout; a database file in WAL mode lets readers read."""
    cause = error.__cause__
    return (
        isinstance(cause, sqlite3.OperationalError)
        and getattr(cause, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_LOCKED
    )


def _in_db(function: Callable[..., T]) -> Callable[..., T]:
    """A database read that waits for a writer holding a table of a shared-cache SQLite
    database, and drops this thread's connection when it broke, so the next read opens a
    fresh one (after a database restart)."""

    def run(*args: Any, **kwargs: Any) -> T:
        give_up = time.monotonic() + LOCKED_WAIT_SECONDS
        while True:
            try:
                return function(*args, **kwargs)
            except OperationalError as error:
                if _table_locked(error) and time.monotonic() < give_up:
                    time.sleep(LOCKED_RETRY_SECONDS)
                    continue
                with contextlib.suppress(Exception):
                    connection.close()
                raise
            except InterfaceError:
                with contextlib.suppress(Exception):
                    connection.close()
                raise

    return run


def _close_connection(barrier: threading.Barrier) -> None:
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait()
    with contextlib.suppress(Exception):
        connection.close()


class LiveHub:
    """Waits for new messages on behalf of every open stream of one web process: wakes them
    when the settled id moves. Runs only while a stream is open."""

    def __init__(self) -> None:
        self.settled = -1
        """Every message up to this id is final; -1 until the first read."""
        self.closed = False
        self.streams = 0
        self._changed = asyncio.Event()
        self._wake = asyncio.Event()
        self._active = asyncio.Event()
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._health: dict[str, tuple[float, dict[str, Any]]] = {}
        self._executor = ThreadPoolExecutor(DB_THREADS, thread_name_prefix="anwang-live-db")

    async def run_db(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a database read on the hub's threads."""
        call = sync_to_async(_in_db(function), thread_sensitive=False, executor=self._executor)
        return await call(*args, **kwargs)

    def stream_opened(self) -> None:
        """Count an open stream (and start waiting for messages)."""
        self.streams += 1
        self._active.set()
        self._wake.set()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="anwang-live")

    def stream_closed(self) -> None:
        """Count a stream gone."""
        self.streams -= 1
        if self.streams <= 0:
            self._active.clear()

    async def ready(self) -> None:
        """Until the hub has read the newest id (or closed)."""
        await self._ready.wait()

    async def wait(self, after_id: int, timeout: float) -> None:
        """Until messages after ``after_id`` are settled, the hub closes, or ``timeout``."""
        if self.settled > after_id or self.closed:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    async def health(self, language: str, *, fresh: bool = False) -> dict[str, Any]:
        """The pipeline's health in a language, evaluated at most every few seconds for all
        streams of the process."""
        cached = self._health.get(language)
        if not fresh and cached is not None and time.monotonic() - cached[0] < HEALTH_SECONDS / 2:
            return cached[1]
        value = await self.run_db(live_health, language=language)
        self._health[language] = (time.monotonic(), value)
        return value

    def close(self) -> None:
        """End every stream and stop waiting (the server is shutting down)."""
        if self.closed:
            return
        self.closed = True
        self._ready.set()
        self._notify()
        if self._task is not None:
            self._task.cancel()
        # Each thread closes its own connection (Django's are per thread): one job per thread,
        # held at a barrier so no thread takes two.
        barrier = threading.Barrier(DB_THREADS, timeout=2.0)
        for _thread in range(DB_THREADS):
            self._executor.submit(_close_connection, barrier)
        self._executor.shutdown(wait=False)

    def wait_closed(self) -> None:
        """Block until the database threads have closed their connections and ended."""
        self._executor.shutdown(wait=True)

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def _run(self) -> None:
        listener: asyncio.Task[None] | None = None
        gap_since: float | None = None
        try:
            if connection.vendor == "postgresql":
                listener = asyncio.get_running_loop().create_task(self._listen())
            while not self.closed:
                if not self._active.is_set():
                    # Nobody listens: forget the mark, so the next stream starts from now.
                    self.settled = -1
                    self._ready.clear()
                    await self._active.wait()
                try:
                    if self.settled < 0:
                        self.settled = await self.run_db(live_start_id)
                        self._ready.set()
                    give_up = gap_since is not None and (
                        time.monotonic() - gap_since > GAP_GIVE_UP_SECONDS
                    )
                    settled, gap = await self.run_db(
                        live_settled_id, self.settled, skip_gaps=give_up
                    )
                except Exception as error:  # the streams wait; the next read tries again
                    log.warning("Live updates cannot read the database: %s", error)
                    await asyncio.sleep(1.0)
                    continue
                gap_since = (gap_since or time.monotonic()) if gap else None
                if settled > self.settled:
                    self.settled = settled
                    self._notify()
                if gap:
                    interval = GAP_RETRY_SECONDS
                elif connection.vendor == "postgresql":
                    interval = SAFETY_SECONDS
                else:
                    interval = POLL_SECONDS
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), interval)
                self._wake.clear()
        finally:
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener

    async def _listen(self) -> None:
        """One ``LISTEN`` connection for the process; reconnects with backoff."""
        import psycopg

        params = connection.get_connection_params()
        for name in ("cursor_factory", "context"):
            params.pop(name, None)
        backoff = 0.5
        while not self.closed:
            try:
                listening = await psycopg.AsyncConnection.connect(**params, autocommit=True)
                async with listening:
                    await listening.execute(f"LISTEN {CHANNEL}")
                    backoff = 0.5
                    self._wake.set()  # whatever came while not listening
                    async for _notification in listening.notifies():
                        self._wake.set()
            except psycopg.Error as error:
                log.warning("Live updates: LISTEN failed (%s); polling until it is back", error)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LiveHub] = weakref.WeakKeyDictionary()


def live_hub() -> LiveHub:
    """The running event loop's hub (one per web process)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None or hub.closed:
        hub = _hubs[loop] = LiveHub()
    return hub


def live_shutdown() -> None:
    """End every open stream of this process: the web server is stopping (call it from the
    event loop's thread, before waiting for connections to close)."""
    for hub in list(_hubs.values()):
        hub.close()


def live_wait_closed() -> None:
    """Wait until closed hubs' database threads have closed their connections (from any
    thread, after :func:`live_shutdown`): a test's database can then be emptied and dropped."""
    for hub in list(_hubs.values()):
        if hub.closed:
            hub.wait_closed()


def sse(kind: str | None, data: Any, *, message_id: int | None = None) -> bytes:
    """One Server-Sent Events message."""
    lines = []
    if message_id is not None:
        lines.append(f"id: {message_id}")
    if kind is not None:
        lines.append(f"event: {kind}")
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))
    lines.append(f"data: {text}")
    return ("\n".join(lines) + "\n\n").encode()


async def live_stream(scope: Scope, *, after_id: int | None, language: str) -> AsyncIterator[bytes]:
    """The SSE stream of one person: ``retry``, a ``hello`` (last id and health), then every
    visible message after ``after_id`` (from now on when ``None``), ``health`` when it
    changes, and a keepalive comment when idle; ends when the hub closes."""
    hub = live_hub()
    hub.stream_opened()
    try:
        await hub.ready()
        if after_id is None:
            after_id = hub.settled
        sent_health = await hub.health(language)
        yield f"retry: {RETRY_MS}\n\n".encode()
        # With an id, so a browser that reconnects before any message resumes from here.
        yield sse("hello", {"last_id": after_id, "health": sent_health}, message_id=after_id)
        clock = time.monotonic
        next_beat = clock() + HEARTBEAT_SECONDS
        next_health = clock() + HEALTH_SECONDS
        while not hub.closed:
            if hub.settled > after_id:
                up_to = hub.settled
                messages = await hub.run_db(live_messages_after, scope, after_id, up_to=up_to)
                for message in messages:
                    data = message.data
                    if message.kind == "health":
                        # Said again in the reader's language, as the pipeline is now.
                        data = sent_health = await hub.health(language, fresh=True)
                    yield sse(message.kind, data, message_id=message.pk)
                after_id = messages[-1].pk if len(messages) == BATCH else up_to
                next_beat = clock() + HEARTBEAT_SECONDS
                continue
            await hub.wait(after_id, max(0.0, min(next_beat, next_health) - clock()))
            if clock() >= next_health:
                next_health = clock() + HEALTH_SECONDS
                health = await hub.health(language)
                if health != sent_health:
                    sent_health = health
                    yield sse("health", health)
                    next_beat = clock() + HEARTBEAT_SECONDS
            if clock() >= next_beat:
                next_beat = clock() + HEARTBEAT_SECONDS
                yield b": keepalive\n\n"
    finally:
        hub.stream_closed()
