"""Event ingestion through a real broker: Mosquitto -> ``anwang worker`` -> database.

Run: ``.venv/bin/python benchmarks/ingest.py [--messages 50000] [--naive-messages 10000]
[--paced-rate 1000] [--paced-seconds 10] [--database-url postgres://postgres@127.0.0.1:5432/test]
[--only sqlite|postgresql] [--home DIR] [--keep]``

A private Mosquitto with the shipped configuration (``deploy/mosquitto/anwang.conf``) is
started on a free port. Then, on SQLite and on PostgreSQL (skipped with a message when the
server does not answer), each in a fresh data folder and database:

1. **worker**: the shipped ``anwang worker`` in a child process (QoS 1, persistent session,
   batches, acknowledged after commit). ``--messages`` numbered Anwang access events are
   published at full speed by a lean QoS 1 publisher in this process (``_mqtt_load.py``;
   paho as publisher used more CPU than the worker it measured); the stored count is polled every
   50 ms and the rate is taken from the first to the last poll that saw new rows (first to last
   commit). Lost and duplicated events are counted by number afterwards.
2. **worker, paced**: the same worker, fed ``--paced-rate`` events/s for ``--paced-seconds``.
   New rows are polled every 5 ms; publish-to-visible time (publish call to the poll that saw
   the row, so up to about 5 ms above publish-to-commit) gives p50 and p99.
3. **naive**: one paho client acknowledging on receipt (``manual_ack=False``) that saves each
   message with one ``DeviceEvent.objects.create`` (autocommit, so one commit each), in a
   child process (this script with ``--naive-consumer``). ``--naive-messages`` published at
   full speed, measured like 1.

For 1 and 3 the consumer's CPU time per event (from ``/proc/<pid>/stat``) is printed too: unlike
the rate, it hardly changes when other work shares the machine. Publisher, broker, worker and
database share the machine's cores, as on a small server.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from _common import _maintenance_url, _postgres, print_table
from _mqtt_load import LeanPublisher

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.services.mosquitto import Broker, private_broker  # noqa: E402

WORKER_TARGET = 5_000  # events/s per worker, QoS 1, acknowledged after commit, both databases
RATIO_TARGET = 8  # worker / naive on PostgreSQL
COMMUNITY = "bench"
DEVICES = {"worker": "bench-door", "paced": "paced-door", "naive": "naive-door"}
NAIVE_CLIENT_ID = "anwang-bench-naive"
REGISTER = f"""
from anwang.devices.services import device_create
from anwang.places.models import Community, Region

region = Region.objects.create(name="东湖街道", code="bench")
community = Community.objects.create(region=region, name="翠苑社区", slug="{COMMUNITY}")
for source_id in {sorted(DEVICES.values())!r}:
    device_create(
        actor=None, community=community, name=source_id, kind="access_reader",
        protocol="anwang", source_id=source_id,
    )
"""
STALL_SECONDS = 15.0
"""A run ends when nothing new was stored for this long (something was lost)."""
RULES_RATIO_TARGET = 0.8  # events/s with the pack and 50 more rules / without rules
ALARM_P99_TARGET_MS = 50.0  # message arrival to alarm committed, at 1,000 events/s
REFUSED_EVERY = 50
"""In ``--rules`` mode, every 50th event of a stream is a refused access, which one of the extra
rules turns into an alarm (the other 49 are granted accesses no rule fires on)."""
REFUSED_RULE = "门禁拒绝开门"
ZONES = ("北门", "南门", "1号楼大堂", "地下车库", "周界东", "周界西", "配电房", "消控室")
RULES = """
import json

from anwang.places.models import Community
from anwang.rules.services import rule_create, rules_install_builtin

community = Community.objects.get(slug="{community}")
rules_install_builtin(community=community)
for values in json.loads({rules!r}):
    rule_create(actor=None, community=community, **values)
"""


def extra_rules() -> list[dict[str, Any]]:
    """Fifty plausible rules besides the built-in pack, of every kind: immediate ones on device
    kinds, zones and event data, counts in windows, sequences, durations and absences.

    One of them (:data:`REFUSED_RULE`, an immediate rule on a refused access) fires on every
    50th event of the benchmark's streams; two counts and one sequence read those refused
    accesses too; the rest look at every event and fire on none of the streams', as most of a
    community's rules do most of the time.
    """
    night = {"windows": [{"start": "22:00", "end": "06:00"}], "days": "all"}
    weekend = {"windows": [{"start": "00:00", "end": "23:59"}], "days": [5, 6]}

    def eq(name: str, value: Any) -> dict[str, Any]:
        return {"field": name, "op": "eq", "value": value}

    def flag(kind: str) -> dict[str, Any]:
        return {"all": [eq("kind", kind), eq("value", True)]}

    refused = {"all": [eq("kind", "access"), eq("data.result", "denied")]}
    rules: list[dict[str, Any]] = [
        {
            "name": REFUSED_RULE,
            "kind": "immediate",
            "condition": refused,
            "priority": 3,
            "title_template": "Access refused at {device}",
        },
        {
            "name": "同一门禁2分钟内5次拒绝",
            "kind": "count",
            "condition": refused,
            "params": {"count": 5, "window_seconds": 120},
            "priority": 3,
            "title_template": "{count} refused accesses at {device}",
        },
        {
            "name": "同一区域10分钟内20次拒绝",
            "kind": "count",
            "condition": refused,
            "params": {"count": 20, "window_seconds": 600},
            "priority": 2,
            "title_template": "{count} refused accesses in {zone}",
            "group_by": "zone",
        },
        {
            "name": "拒绝后30秒内门被打开",
            "kind": "sequence",
            "condition": refused,
            "params": {"then": eq("data.result", "forced"), "within_seconds": 30},
            "priority": 1,
            "title_template": "Door opened after a refused access at {device}",
        },
        {
            "name": "黑名单卡刷卡",
            "kind": "immediate",
            "condition": {
                "all": [
                    eq("kind", "access"),
                    {
                        "field": "data.card_no",
                        "op": "in",
                        "value": [f"BL{index:06d}" for index in range(200)],
                    },
                ]
            },
            "priority": 2,
            "title_template": "Blacklisted card at {device}",
        },
        {
            "name": "夜间密码开门",
            "kind": "immediate",
            "condition": {"all": [eq("kind", "access"), eq("data.method", "pin")]},
            "schedule": night,
            "priority": 4,
            "title_template": "PIN used at night at {device}",
        },
    ]
    for zone in ZONES:
        rules.append(
            {
                "name": f"{zone}夜间移动",
                "kind": "immediate",
                "condition": {"all": [flag("motion"), eq("zone_name", zone)]},
                "schedule": night,
                "priority": 2,
                "title_template": "Motion in {zone} at night",
                "group_by": "zone",
            }
        )
        rules.append(
            {
                "name": f"{zone}防拆",
                "kind": "immediate",
                "condition": {"all": [flag("tamper"), eq("zone_name", zone)]},
                "priority": 3,
                "title_template": "Tamper at {device}",
            }
        )
        rules.append(
            {
                "name": f"{zone}10分钟内3次移动",
                "kind": "count",
                "condition": {"all": [flag("motion"), eq("zone_name", zone)]},
                "params": {"count": 3, "window_seconds": 600},
                "schedule": weekend,
                "priority": 3,
                "title_template": "{count} motions in {zone}",
                "group_by": "zone",
            }
        )
        rules.append(
            {
                "name": f"{zone}门开后有人",
                "kind": "sequence",
                "condition": {
                    "all": [eq("kind", "contact"), eq("value", "open"), eq("zone_name", zone)]
                },
                "params": {
                    "then": {
                        "any": [
                            flag("motion"),
                            {"all": [eq("kind", "object_detected"), eq("data.label", "person")]},
                        ]
                    },
                    "within_seconds": 120,
                },
                "schedule": night,
                "priority": 2,
                "title_template": "Door opened, then someone in {zone}",
                "group_by": "zone",
            }
        )
    for kind, device_kind, limit in (
        ("temperature", "temperature", 60),
        ("temperature", "gateway", 75),
    ):
        rules.append(
            {
                "name": f"{device_kind}温度过高",
                "kind": "immediate",
                "condition": {
                    "all": [
                        eq("kind", kind),
                        eq("device_kind", device_kind),
                        {"field": "value", "op": "gt", "value": limit},
                    ]
                },
                "priority": 2,
                "title_template": "High temperature at {device}",
            }
        )
    for label in ("car", "bicycle", "motorcycle"):
        rules.append(
            {
                "name": f"消防通道停放{label}",
                "kind": "immediate",
                "condition": {
                    "all": [
                        eq("kind", "object_detected"),
                        eq("data.label", label),
                        {"field": "zone_name", "op": "in", "value": ["消防通道", "地下车库"]},
                    ]
                },
                "priority": 3,
                "title_template": "Vehicle in the fire lane at {device}",
                "group_by": "zone",
            }
        )
    rules.append(
        {
            "name": "钥匙区域有人徘徊",
            "kind": "count",
            "condition": {
                "all": [
                    eq("kind", "object_detected"),
                    eq("data.label", "person"),
                    eq("key_area", True),
                ]
            },
            "params": {"count": 10, "window_seconds": 300},
            "priority": 3,
            "title_template": "Someone lingering in {zone}",
            "group_by": "zone",
        }
    )
    for device_kind, minutes in (("gateway", 10), ("camera", 30)):
        rules.append(
            {
                "name": f"{device_kind}{minutes}分钟无消息",
                "kind": "absence",
                "condition": eq("device_kind", device_kind),
                "params": {"seconds": minutes * 60},
                "priority": 3,
                "title_template": "Nothing from {device}",
            }
        )
    rules.append(
        {
            "name": "窗户开启超过30分钟",
            "kind": "duration",
            "condition": eq("zone_name", "配电房"),
            "params": {"attribute": "contact", "value": "open", "seconds": 1800},
            "priority": 3,
            "title_template": "Window open at {device}",
        }
    )
    for index in range(50 - len(rules)):
        rules.append(
            {
                "name": f"门禁异常码{index + 1}",
                "kind": "immediate",
                "condition": {"all": [eq("kind", "access"), eq("data.error", f"E{index + 1:02d}")]},
                "priority": 4,
                "title_template": "Access controller error at {device}",
            }
        )
    assert len(rules) == 50
    return rules


# --------------------------------------------------------------------------- the database


@dataclass
class Database:
    """The database a run stores into, read directly (not through Django) from here."""

    label: str
    home: Path
    url: str  # empty: the SQLite file in ``home``
    _connection: Any = None
    _counted: dict[int, tuple[int, int]] = field(default_factory=dict)
    """Per device: the highest event id counted so far, and the count."""

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of one statement; ``?`` placeholders on both engines."""
        if self._connection is None:
            if self.url:
                import psycopg

                self._connection = psycopg.connect(self.url, autocommit=True)
            else:
                self._connection = sqlite3.connect(
                    f"file:{self.home / 'anwang.sqlite3'}?mode=ro", uri=True, timeout=30
                )
        if self.url:
            sql = sql.replace("?", "%s")
        return list(self._connection.execute(sql, params).fetchall())

    def device_id(self, source_id: str) -> int:
        """The id of a registered device."""
        return int(
            self.query("SELECT id FROM devices_device WHERE source_id = ?", (source_id,))[0][0]
        )

    def count(self, device_id: int) -> int:
        """Events stored for a device. Counted from where the last call left off: counting the
        whole table every 50 ms cost PostgreSQL a good part of a core by the end of a run."""
        last_id, counted = self._counted.get(device_id, (0, 0))
        sql = "SELECT COUNT(*), MAX(id) FROM events_deviceevent WHERE id > ? AND device_id = ?"
        new, highest = self.query(sql, (last_id, device_id))[0]
        if new:
            last_id, counted = int(highest), counted + int(new)
            self._counted[device_id] = (last_id, counted)
        return counted

    def numbers(self, device_id: int) -> list[int]:
        """The event numbers stored for a device, one per row."""
        sql = "SELECT edge_key FROM events_deviceevent WHERE device_id = ? AND edge_key IS NOT NULL"
        return [int(row[0]) for row in self.query(sql, (device_id,))]

    def version(self) -> str:
        """Engine and version."""
        if self.url:
            return "PostgreSQL " + str(self.query("SHOW server_version")[0][0]).split()[0]
        return f"SQLite {sqlite3.sqlite_version}"

    def close(self) -> None:
        """Close the reading connection."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@contextmanager
def database(
    label: str, args: argparse.Namespace, database_url: str, *, rules: bool = False
) -> Iterator[Database]:
    """A fresh data folder (and PostgreSQL database), migrated, with the benchmark's devices;
    with ``rules``, also the built-in rule pack and :func:`extra_rules`."""
    parent: Path | None = args.home
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix=f"anwang-ingest-{label}-", dir=parent))
    url = maintenance = name = ""
    if database_url:
        url, maintenance = _maintenance_url(database_url, label)
        name = urlsplit(url).path.strip("/")
        _postgres(maintenance, "CREATE DATABASE {}", name)
    store = Database(label=label, home=home, url=url)
    try:
        env = child_env(store)
        steps = [["migrate", "-v", "0"], ["manage", "shell", "-v", "0", "-c", REGISTER]]
        if rules:
            code = RULES.format(community=COMMUNITY, rules=json.dumps(extra_rules()))
            steps.append(["manage", "shell", "-v", "0", "-c", code])
        for step in steps:
            subprocess.run(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "anwang", *step], env=env, check=True
            )
        yield store
    finally:
        store.close()
        if args.keep:
            kept = f" and the database {name}" if name else ""
            print(f"Kept the data folder {home}{kept}")
        else:
            shutil.rmtree(home, ignore_errors=True)
            if name:
                _postgres(maintenance, "DROP DATABASE IF EXISTS {} WITH (FORCE)", name)


def child_env(store: Database, **extra: str) -> dict[str, str]:
    """The environment of an ``anwang`` child working on ``store``."""
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(ANWANG_HOME=str(store.home), PYTHONUNBUFFERED="1", **extra)
    if store.url:
        env["DATABASE_URL"] = store.url
    return env


def postgres_answers(url: str) -> str | None:
    """Why PostgreSQL cannot be used, or ``None`` if it answers."""
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3):
            return None
    except Exception as error:
        return str(error).strip().splitlines()[0]


# --------------------------------------------------------------------------- publishing


class Publisher:
    """A device publishing numbered Anwang access events with QoS 1."""

    def __init__(self, broker: Broker, source_id: str, *, refused_every: int = 0) -> None:
        self.client = LeanPublisher(
            broker.host,
            broker.port,
            client_id=f"anwang-bench-publisher-{source_id}",
            username=broker.publisher_username,
            password=broker.publisher_password,
        )
        self.source_id = source_id
        self.topic = f"anwang/{COMMUNITY}/{source_id}/event"
        self.refused_every = refused_every
        self.sent_at: dict[int, float] = {}
        self.sent_wall: dict[int, float] = {}
        """Publish times on the wall clock (seconds since the epoch), to compare with times the
        worker stored."""

    def refused(self, number: int) -> bool:
        """Whether event ``number`` is a refused access (the kind of event a rule fires on)."""
        return bool(self.refused_every) and number % self.refused_every == self.refused_every - 1

    def publish(self, number: int) -> None:
        """Queue one event for publishing."""
        event: dict[str, Any] = {
            "schema_version": 1,
            "device": self.source_id,
            "kind": "access",
            "event_id": str(number),
        }
        if self.refused_every:
            event["data"] = {
                "result": "denied" if self.refused(number) else "granted",
                "method": "card",
                "card_no": f"{number:08X}",
            }
        payload = json.dumps(event).encode()
        self.sent_wall[number] = time.time()
        self.sent_at[number] = time.monotonic()
        self.client.publish(self.topic, payload)

    def flush(self) -> None:
        """Send what is queued (before a paced run sleeps)."""
        self.client.flush()

    def finish(self) -> int:
        """Wait for the broker's acknowledgements, disconnect; how many it acknowledged."""
        return self.client.finish()


def publish_all(publisher: Publisher, count: int, rate: float = 0.0) -> threading.Thread:
    """Publish ``count`` events in a thread, at full speed or at ``rate`` per second."""

    def run() -> None:
        started = time.monotonic()
        for number in range(count):
            publisher.publish(number)
            if rate:
                # Paced: each message leaves when it is published, so its time is its own.
                publisher.flush()
                if number % 10 == 9:
                    time.sleep(max(0.0, started + (number + 1) / rate - time.monotonic()))
        publisher.flush()

    thread = threading.Thread(target=run, name="publisher", daemon=True)
    thread.start()
    return thread


# --------------------------------------------------------------------------- measuring


@dataclass
class Result:
    """One measured run."""

    path: str
    database: str
    messages: int
    events_per_second: float | None = None
    lost: int = 0
    duplicates: int = 0
    p50_ms: float | None = None
    p99_ms: float | None = None
    cpu_us: float | None = None
    """CPU time of the consuming process per event, in microseconds."""


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user and system) a process has used so far; ``None`` off Linux."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    # The command name (field 2) may hold spaces: count fields after its closing bracket.
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_throughput(
    store: Database,
    device_id: int,
    count: int,
    publisher: Publisher,
    child: subprocess.Popen[bytes],
) -> tuple[float | None, float | None]:
    """Publish ``count`` events at full speed and poll the stored count: events/s from the first
    to the last poll that saw new rows, and the consumer's CPU time per event in µs."""
    cpu_before = cpu_seconds(child.pid)
    thread = publish_all(publisher, count)
    first: tuple[float, int] | None = None
    last: tuple[float, int] | None = None
    seen = 0
    changed_at = time.monotonic()
    while seen < count and time.monotonic() - changed_at < STALL_SECONDS:
        if child.poll() is not None:
            raise SystemExit(f"the consumer exited with {child.returncode}")
        time.sleep(0.05)
        now, stored = time.monotonic(), store.count(device_id)
        if stored > seen:
            seen, changed_at = stored, now
            if first is None:
                first = (now, stored)
            last = (now, stored)
    cpu_after = cpu_seconds(child.pid)
    thread.join()
    publisher.finish()
    cpu_us = None
    if cpu_before is not None and cpu_after is not None and seen:
        cpu_us = (cpu_after - cpu_before) / seen * 1e6
    if first is None or last is None or last[0] <= first[0]:
        return None, cpu_us
    return (last[1] - first[1]) / (last[0] - first[0]), cpu_us


def measure_latency(
    store: Database, device_id: int, rate: float, seconds: float, publisher: Publisher
) -> tuple[float, float, int]:
    """Publish at ``rate`` per second and poll new rows every 5 ms: p50 and p99 of
    publish-to-visible in ms, and how many rows were seen."""
    count = int(rate * seconds)
    thread = publish_all(publisher, count, rate)
    sql = "SELECT id, edge_key FROM events_deviceevent WHERE device_id = ? AND id > ?"
    last_id = 0
    delays: list[float] = []
    changed_at = time.monotonic()
    while len(delays) < count and time.monotonic() - changed_at < STALL_SECONDS:
        time.sleep(0.005)
        rows = store.query(sql, (device_id, last_id))
        now = time.monotonic()
        for row_id, number in rows:
            last_id = max(last_id, int(row_id))
            delays.append((now - publisher.sent_at[int(number)]) * 1000)
        if rows:
            changed_at = now
    thread.join()
    publisher.finish()
    if len(delays) < 2:
        return float("nan"), float("nan"), len(delays)
    centiles = statistics.quantiles(delays, n=100, method="inclusive")
    return statistics.median(delays), centiles[98], len(delays)


def _epoch(value: Any) -> float:
    """A stored time as seconds since the epoch (SQLite gives UTC text, psycopg datetimes)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return float(value.timestamp())


def _centiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return float("nan"), float("nan")
    return statistics.median(values), statistics.quantiles(values, n=100, method="inclusive")[98]


@dataclass
class AlarmLatency:
    """Alarm latency of one paced run, in ms (p50, p99 each)."""

    firings: int
    expected: int
    publish_to_visible: tuple[float, float]
    arrival_to_visible: tuple[float, float]
    publish_to_arrival: tuple[float, float]
    events_publish_to_visible: tuple[float, float]


def measure_alarm_latency(
    store: Database, device_id: int, rule_id: int, rate: float, seconds: float, publisher: Publisher
) -> AlarmLatency:
    """Publish at ``rate`` per second, every :data:`REFUSED_EVERY`th event a refused access
    that the rule ``rule_id`` fires on; poll every 5 ms for new links between that rule's
    alarms and events (written in the transaction that stores the event and raises or joins
    its alarm), and for new events.

    For each firing: publish-to-visible (publish call to the poll that saw the alarm's link),
    arrival-to-visible (the worker's receive time, stored as the event's ``received_at``, to
    that poll: the target's "message arrival to alarm committed", at most about 5 ms high) and
    publish-to-arrival (the broker's part). Both clocks are this machine's wall clock.
    """
    count = int(rate * seconds)
    expected = sum(publisher.refused(number) for number in range(count))
    thread = publish_all(publisher, count, rate)
    alarm_sql = (
        "SELECT l.id, e.edge_key, e.received_at FROM alarms_alarmevent l "
        "JOIN alarms_alarm a ON a.id = l.alarm_id "
        "JOIN events_deviceevent e ON e.id = l.device_event_id "
        "WHERE a.rule_id = ? AND e.device_id = ? AND l.id > ?"
    )
    # Through the primary key only, the device compared here: "device_id = ? AND id > ?" let
    # PostgreSQL scan every event of the device on each poll (200 polls/s), and that database
    # backend grew to a quarter of a core by the end of the run, taken from the worker.
    event_sql = "SELECT id, edge_key, device_id FROM events_deviceevent WHERE id > ?"
    last_link = last_event = 0
    seen_events = 0
    publish_visible: list[float] = []
    arrival_visible: list[float] = []
    publish_arrival: list[float] = []
    event_delays: list[float] = []
    changed_at = time.monotonic()
    while (
        len(publish_visible) < expected or seen_events < count
    ) and time.monotonic() - changed_at < STALL_SECONDS:
        time.sleep(0.005)
        links = store.query(alarm_sql, (rule_id, device_id, last_link))
        events = store.query(event_sql, (last_event,))
        now, wall = time.monotonic(), time.time()
        for link_id, number, received_at in links:
            last_link = max(last_link, int(link_id))
            sent = publisher.sent_wall[int(number)]
            arrived = _epoch(received_at)
            publish_visible.append((wall - sent) * 1000)
            arrival_visible.append((wall - arrived) * 1000)
            publish_arrival.append((arrived - sent) * 1000)
        for event_id, number, of_device in events:
            last_event = max(last_event, int(event_id))
            if int(of_device) == device_id:
                event_delays.append((now - publisher.sent_at[int(number)]) * 1000)
                seen_events += 1
        if links or events:
            changed_at = now
    thread.join()
    publisher.finish()
    return AlarmLatency(
        firings=len(publish_visible),
        expected=expected,
        publish_to_visible=_centiles(publish_visible),
        arrival_to_visible=_centiles(arrival_visible),
        publish_to_arrival=_centiles(publish_arrival),
        events_publish_to_visible=_centiles(event_delays),
    )


def check_numbers(store: Database, device_id: int, count: int) -> tuple[int, int]:
    """Events lost and events stored more than once, by number."""
    numbers = store.numbers(device_id)
    distinct = set(numbers)
    return len(set(range(count)) - distinct), len(numbers) - len(distinct)


def start_child(
    command: list[str], env: dict[str, str], log: Path, ready: str
) -> subprocess.Popen[bytes]:
    """Start a consumer with its output in ``log``; wait until it prints ``ready``."""
    with log.open("wb") as out:
        child = subprocess.Popen(  # noqa: S603 - our own interpreter and scripts
            command, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if ready in log.read_text(encoding="utf-8", errors="replace"):
            # The subscription was sent just before; give the broker a moment to take it.
            time.sleep(0.3)
            return child
        if child.poll() is not None:
            break
        time.sleep(0.05)
    stop_child(child)
    raise SystemExit(f"the consumer did not start:\n{log.read_text(encoding='utf-8')}")


def stop_child(child: subprocess.Popen[bytes]) -> None:
    """Stop a consumer (SIGTERM, then SIGKILL)."""
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=10)


def run_database(
    label: str, args: argparse.Namespace, database_url: str, broker: Broker
) -> list[Result]:
    """The three runs on one database."""
    results: list[Result] = []
    with database(label, args, database_url) as store:
        engine = store.version()
        print(f"\n{engine}: worker, {args.messages:,} events at full speed ...", flush=True)
        env = child_env(
            store,
            ANWANG_MQTT_URL=broker.worker_url,
            ANWANG_MQTT_CLIENT_ID=f"anwang-bench-worker-{label}",
            ANWANG_WORKER_BATCH_SIZE=str(args.batch_size),
            ANWANG_WORKER_BATCH_MS=str(args.batch_ms),
        )
        worker = start_child(
            [sys.executable, "-m", "anwang", "worker"],
            env,
            store.home / "worker.log",
            "Connected to",
        )
        try:
            device = store.device_id(DEVICES["worker"])
            rate, cpu_us = measure_throughput(
                store, device, args.messages, Publisher(broker, DEVICES["worker"]), worker
            )
            lost, duplicates = check_numbers(store, device, args.messages)
            results.append(
                Result(
                    "worker (ack after commit)",
                    engine,
                    args.messages,
                    rate,
                    lost,
                    duplicates,
                    cpu_us=cpu_us,
                )
            )
            print(
                f"{engine}: worker, {args.paced_rate:,.0f} events/s "
                f"for {args.paced_seconds:g} s ...",
                flush=True,
            )
            paced = store.device_id(DEVICES["paced"])
            p50, p99, _seen = measure_latency(
                store,
                paced,
                args.paced_rate,
                args.paced_seconds,
                Publisher(broker, DEVICES["paced"]),
            )
            count = int(args.paced_rate * args.paced_seconds)
            lost, duplicates = check_numbers(store, paced, count)
            results.append(
                Result(
                    f"worker, paced {args.paced_rate:,.0f}/s",
                    engine,
                    count,
                    None,
                    lost,
                    duplicates,
                    p50,
                    p99,
                )
            )
        finally:
            stop_child(worker)

        print(f"{engine}: naive, {args.naive_messages:,} events at full speed ...", flush=True)
        naive_env = child_env(
            store,
            ANWANG_MQTT_URL=broker.worker_url,
            DJANGO_SETTINGS_MODULE="anwang.project.settings",
        )
        naive = start_child(
            [sys.executable, str(Path(__file__).resolve()), "--naive-consumer"],
            naive_env,
            store.home / "naive.log",
            "subscribed",
        )
        try:
            device = store.device_id(DEVICES["naive"])
            rate, cpu_us = measure_throughput(
                store, device, args.naive_messages, Publisher(broker, DEVICES["naive"]), naive
            )
            lost, duplicates = check_numbers(store, device, args.naive_messages)
            results.append(
                Result(
                    "naive (save each, ack on receipt)",
                    engine,
                    args.naive_messages,
                    rate,
                    lost,
                    duplicates,
                    cpu_us=cpu_us,
                )
            )
        finally:
            stop_child(naive)
    return results


def start_worker(store: Database, args: argparse.Namespace, broker: Broker, label: str) -> Any:
    """The shipped ``anwang worker`` on ``store``, connected."""
    env = child_env(
        store,
        ANWANG_MQTT_URL=broker.worker_url,
        ANWANG_MQTT_CLIENT_ID=f"anwang-bench-worker-{label}",
        ANWANG_WORKER_BATCH_SIZE=str(args.batch_size),
        ANWANG_WORKER_BATCH_MS=str(args.batch_ms),
    )
    return start_child(
        [sys.executable, "-m", "anwang", "worker"], env, store.home / "worker.log", "Connected to"
    )


@dataclass
class RulesResult:
    """The ``--rules`` runs on one database."""

    database: str
    without: Result
    with_rules: Result
    rules: int
    latency: AlarmLatency | None = None


def run_rules(
    label: str, args: argparse.Namespace, database_url: str, broker: Broker
) -> list[RulesResult]:
    """:func:`run_rule_round` ``--rounds`` times."""
    return [
        run_rule_round(f"{label}{'-' + str(number) if number else ''}", args, database_url, broker)
        for number in range(max(1, args.rounds))
    ]


def run_rule_round(
    label: str, args: argparse.Namespace, database_url: str, broker: Broker
) -> RulesResult:
    """The worker at full speed without rules and with the built-in pack plus 50 rules (each in
    a fresh database), then alarm latency at a paced rate with the rules."""
    measured: dict[bool, Result] = {}
    rules = 0
    latency: AlarmLatency | None = None
    engine = ""
    for with_rules in (False, True):
        name = "pack + 50 rules" if with_rules else "no rules"
        with database(
            f"{label}-{'rules' if with_rules else 'off'}", args, database_url, rules=with_rules
        ) as store:
            engine = store.version()
            rules = (
                int(store.query("SELECT COUNT(*) FROM rules_rule WHERE enabled = ?", (True,))[0][0])
                or rules
            )
            print(
                f"\n{engine}: worker, {name}, {args.messages:,} events at full speed ...",
                flush=True,
            )
            worker = start_worker(store, args, broker, f"{label}-{int(with_rules)}")
            try:
                device = store.device_id(DEVICES["worker"])
                publisher = Publisher(broker, DEVICES["worker"], refused_every=REFUSED_EVERY)
                rate, cpu_us = measure_throughput(store, device, args.messages, publisher, worker)
                lost, duplicates = check_numbers(store, device, args.messages)
                measured[with_rules] = Result(
                    f"worker, {name}", engine, args.messages, rate, lost, duplicates, cpu_us=cpu_us
                )
                if with_rules:
                    print(
                        f"{engine}: alarm latency, {args.paced_rate:,.0f} events/s for "
                        f"{args.paced_seconds:g} s, 1 in {REFUSED_EVERY} firing ...",
                        flush=True,
                    )
                    rule_id = int(
                        store.query("SELECT id FROM rules_rule WHERE name = ?", (REFUSED_RULE,))[0][
                            0
                        ]
                    )
                    latency = measure_alarm_latency(
                        store,
                        store.device_id(DEVICES["paced"]),
                        rule_id,
                        args.paced_rate,
                        args.paced_seconds,
                        Publisher(broker, DEVICES["paced"], refused_every=REFUSED_EVERY),
                    )
            finally:
                stop_child(worker)
    return RulesResult(engine, measured[False], measured[True], rules, latency)


def print_rules(results: list[RulesResult]) -> None:
    """The ``--rules`` table and verdicts."""
    print_table(
        ["path", "database", "events", "events/s", "lost", "duplicates", "consumer CPU µs/event"],
        [
            [
                result.path,
                result.database,
                f"{result.messages:,}",
                f"{result.events_per_second:,.0f}" if result.events_per_second else "",
                result.lost,
                result.duplicates,
                f"{result.cpu_us:.0f}" if result.cpu_us is not None else "",
            ]
            for item in results
            for result in (item.without, item.with_rules)
        ],
    )
    print()
    for item in results:
        off, on = item.without.events_per_second, item.with_rules.events_per_second
        if off and on:
            verdict = "yes" if on / off >= RULES_RATIO_TARGET else "NO"
            print(
                f"{item.database}: {item.rules} enabled rules: {on:,.0f} events/s against "
                f"{off:,.0f} without = {on / off:.2f}; target >= {RULES_RATIO_TARGET:.2f}: "
                f"{verdict}"
            )
        latency = item.latency
        if latency is None:
            continue
        spans = {
            "publish->visible": latency.publish_to_visible,
            "arrival->visible": latency.arrival_to_visible,
            "publish->arrival": latency.publish_to_arrival,
            "events publish->visible": latency.events_publish_to_visible,
        }
        print(
            f"{item.database}: alarms {latency.firings} of {latency.expected} firings seen; "
            "ms p50/p99: "
            + ", ".join(f"{what} {p50:.1f}/{p99:.1f}" for what, (p50, p99) in spans.items())
        )
        verdict = "yes" if latency.arrival_to_visible[1] <= ALARM_P99_TARGET_MS else "NO"
        print(
            f"{item.database}: alarm committed within {ALARM_P99_TARGET_MS:.0f} ms of arrival "
            f"(p99): {verdict}"
        )
    print_medians(results)


def print_medians(results: list[RulesResult]) -> None:
    """With several rounds: each database's median ratio and median alarm p99, judged."""
    by_database: dict[str, list[RulesResult]] = {}
    for item in results:
        by_database.setdefault(item.database, []).append(item)
    for database_name, rounds in by_database.items():
        if len(rounds) < 2:
            continue
        ratios = [
            item.with_rules.events_per_second / item.without.events_per_second
            for item in rounds
            if item.with_rules.events_per_second and item.without.events_per_second
        ]
        p99s = [item.latency.arrival_to_visible[1] for item in rounds if item.latency]
        print(f"\n{database_name}: {len(rounds)} rounds")
        if ratios:
            ratio = statistics.median(ratios)
            verdict = "yes" if ratio >= RULES_RATIO_TARGET else "NO"
            print(
                f"  ratio median {ratio:.2f} (of {', '.join(f'{r:.2f}' for r in ratios)}); "
                f"target >= {RULES_RATIO_TARGET:.2f}: {verdict}"
            )
        if p99s:
            p99 = statistics.median(p99s)
            print(
                f"  alarm arrival->visible p99 median {p99:.1f} ms "
                f"(of {', '.join(f'{value:.1f}' for value in p99s)}); "
                f"target <= {ALARM_P99_TARGET_MS:.0f} ms: "
                f"{'yes' if p99 <= ALARM_P99_TARGET_MS else 'NO'}"
            )


# --------------------------------------------------------------------------- the naive consumer


def naive_consumer() -> None:
    """One ORM save per message, acknowledged on receipt (paho's automatic acknowledgement).

    Runs as a child process with Django set up on the benchmark's database; stops on SIGTERM.
    """
    import django

    django.setup()
    import paho.mqtt.client as mqtt
    from django.utils import timezone
    from paho.mqtt.enums import CallbackAPIVersion

    from anwang.config import get_settings
    from anwang.devices.models import Device
    from anwang.events.adapters.anwang_json import AnwangJsonAdapter
    from anwang.events.adapters.base import InboundMessage
    from anwang.events.models import DeviceEvent
    from anwang.events.worker import BrokerAddress

    device = Device.objects.get(source_id=DEVICES["naive"])
    adapter = AnwangJsonAdapter()
    address = BrokerAddress.from_url(get_settings().mqtt_url)
    topic = f"anwang/{COMMUNITY}/{DEVICES['naive']}/event"

    def on_message(client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        inbound = InboundMessage(
            transport="mqtt",
            topic=message.topic,
            payload=bytes(message.payload),
            received_at=timezone.now(),
            retained=bool(message.retain),
        )
        for observation in adapter.parse(inbound):
            DeviceEvent.objects.create(
                community_id=device.community_id,
                device=device,
                kind=observation.kind,
                edge_key=observation.edge_key,
                dedup_key=f"{device.pk}:{observation.edge_key}",
                received_at=inbound.received_at,
                data=observation.data,
            )

    def on_subscribe(client: mqtt.Client, userdata: Any, mid: int, codes: Any, props: Any) -> None:
        print("subscribed", flush=True)

    def on_connect(client: mqtt.Client, userdata: Any, flags: Any, code: Any, props: Any) -> None:
        client.subscribe(topic, qos=1)

    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=NAIVE_CLIENT_ID,
        clean_session=False,
        protocol=mqtt.MQTTv311,
        manual_ack=False,
    )
    client.username_pw_set(address.username, address.password)
    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    client.connect(address.host, address.port)
    client.loop_start()
    stop.wait()
    client.disconnect()
    client.loop_stop()


# --------------------------------------------------------------------------- main


def machine() -> str:
    """CPU count and model, memory, Python and Mosquitto versions."""
    model = ""
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    with open("/proc/meminfo", encoding="utf-8") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    version = subprocess.run(  # noqa: S603 - the broker's own help text
        [mosquitto, "-h"], capture_output=True, text=True, check=False
    ).stdout.splitlines()
    return (
        f"{os.cpu_count()} CPUs ({model}), {memory}, Python {platform.python_version()}, "
        f"{version[0] if version else 'mosquitto'}"
    )


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--messages", type=int, default=50_000, help="events for the worker run")
    parser.add_argument(
        "--naive-messages", type=int, default=10_000, help="events for the naive run"
    )
    parser.add_argument(
        "--paced-rate", type=float, default=1000, help="events/s of the latency run"
    )
    parser.add_argument("--paced-seconds", type=float, default=10, help="length of the latency run")
    parser.add_argument(
        "--batch-size", type=int, default=500, help="ANWANG_WORKER_BATCH_SIZE of the worker"
    )
    parser.add_argument(
        "--batch-ms", type=int, default=5, help="ANWANG_WORKER_BATCH_MS of the worker"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/test",
        help="PostgreSQL server to measure on (a fresh database anwang_bench_<pid> is created "
        "there and dropped afterwards); default $DATABASE_URL, else the local test server",
    )
    parser.add_argument(
        "--only", choices=["sqlite", "postgresql"], help="measure on one database only"
    )
    parser.add_argument(
        "--home", type=Path, default=None, help="folder for the throw-away data folders"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep data folders and databases afterwards"
    )
    parser.add_argument(
        "--rules",
        action="store_true",
        help="measure rules instead: the worker without rules and with the built-in pack and 50 "
        "more, and alarm latency at --paced-rate",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="with --rules: measure without and with the rules this many times, alternately, "
        "and judge the medians (a machine whose speed drifts misleads a single pair of runs)",
    )
    parser.add_argument("--naive-consumer", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    """Start a broker, measure on each database, print the table."""
    args = parse_args()
    if args.naive_consumer:
        naive_consumer()
        return
    print(
        "ingest: Mosquitto -> anwang worker -> database, QoS 1" + (", rules" if args.rules else "")
    )
    print(f"{time.strftime('%Y-%m-%d')}  {platform.node()}  {machine()}")
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if args.rules:
        main_rules(args)
        return
    results: list[Result] = []
    with (
        tempfile.TemporaryDirectory(prefix="anwang-ingest-broker-") as folder,
        private_broker(Path(folder)) as broker,
    ):
        if args.only != "postgresql":
            results += run_database("sqlite", args, "", broker)
        if args.only != "sqlite":
            problem = postgres_answers(args.database_url)
            if problem:
                print(f"\nPostgreSQL skipped: {args.database_url} does not answer ({problem})")
            else:
                results += run_database("postgresql", args, args.database_url, broker)
    print()
    print_table(
        [
            "path",
            "database",
            "events",
            "events/s",
            "lost",
            "duplicates",
            "p50 ms",
            "p99 ms",
            "consumer CPU µs/event",
        ],
        [
            [
                result.path,
                result.database,
                f"{result.messages:,}",
                f"{result.events_per_second:,.0f}" if result.events_per_second else "",
                result.lost,
                result.duplicates,
                f"{result.p50_ms:.1f}" if result.p50_ms is not None else "",
                f"{result.p99_ms:.1f}" if result.p99_ms is not None else "",
                f"{result.cpu_us:.0f}" if result.cpu_us is not None else "",
            ]
            for result in results
        ],
    )
    print()
    for engine in dict.fromkeys(result.database for result in results):
        worker = next(r for r in results if r.database == engine and r.path.startswith("worker ("))
        naive = next(r for r in results if r.database == engine and r.path.startswith("naive"))
        if worker.events_per_second and naive.events_per_second:
            ratio = worker.events_per_second / naive.events_per_second
            target = f" (target >= {RATIO_TARGET}x on PostgreSQL)" if "Postgre" in engine else ""
            print(f"{engine}: worker / naive = {ratio:.1f}x{target}")
        if worker.events_per_second:
            verdict = "yes" if worker.events_per_second >= WORKER_TARGET else "NO"
            print(
                f"{engine}: worker {worker.events_per_second:,.0f} events/s; target >= "
                f"{WORKER_TARGET:,}/s: {verdict}"
            )


def main_rules(args: argparse.Namespace) -> None:
    """``--rules``: start a broker, measure rules on each database, print the table."""
    results: list[RulesResult] = []
    with (
        tempfile.TemporaryDirectory(prefix="anwang-ingest-broker-") as folder,
        private_broker(Path(folder)) as broker,
    ):
        if args.only != "postgresql":
            results.extend(run_rules("sqlite", args, "", broker))
        if args.only != "sqlite":
            problem = postgres_answers(args.database_url)
            if problem:
                print(f"\nPostgreSQL skipped: {args.database_url} does not answer ({problem})")
            else:
                results.extend(run_rules("postgresql", args, args.database_url, broker))
    print()
    print_rules(results)


if __name__ == "__main__":
    main()
