"""Event ingestion through a real broker: Mosquitto -> ``anwang worker`` -> database.

Run: ``.venv/bin/python benchmarks/ingest.py [--messages 50000] [--naive-messages 10000]
[--paced-rate 1000] [--paced-seconds 10] [--database-url postgres://postgres@127.0.0.1:5432/test]
[--only sqlite|postgresql] [--home DIR] [--keep]``

A private Mosquitto with the shipped configuration (``deploy/mosquitto/anwang.conf``) is
started on a free port. Then, on SQLite and on PostgreSQL (skipped with a message when the
server does not answer), each in a fresh data folder and database:

1. **worker**: the shipped ``anwang worker`` in a child process (QoS 1, persistent session,
   batches, acknowledged after commit). ``--messages`` numbered Anwang access events are
   published at full speed by a paho client in this process; the stored count is polled every
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from _common import _maintenance_url, _postgres, print_table

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


# --------------------------------------------------------------------------- the database


@dataclass
class Database:
    """The database a run stores into, read directly (not through Django) from here."""

    label: str
    home: Path
    url: str  # empty: the SQLite file in ``home``
    _connection: Any = None

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
        """Events stored for a device."""
        sql = "SELECT COUNT(*) FROM events_deviceevent WHERE device_id = ?"
        return int(self.query(sql, (device_id,))[0][0])

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
def database(label: str, args: argparse.Namespace, database_url: str) -> Iterator[Database]:
    """A fresh data folder (and PostgreSQL database), migrated, with the benchmark's devices."""
    parent: Path | None = args.home
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix=f"anwang-ingest-{label}-", dir=parent))
    url = maintenance = name = ""
    if database_url:
        url, maintenance = _maintenance_url(database_url)
        name = urlsplit(url).path.strip("/")
        _postgres(maintenance, "CREATE DATABASE {}", name)
    store = Database(label=label, home=home, url=url)
    try:
        env = child_env(store)
        for step in (["migrate", "-v", "0"], ["manage", "shell", "-v", "0", "-c", REGISTER]):
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

    def __init__(self, broker: Broker, source_id: str) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"anwang-bench-publisher-{source_id}",
            protocol=mqtt.MQTTv311,
        )
        self.client.username_pw_set(broker.publisher_username, broker.publisher_password)
        self.client.max_inflight_messages_set(1000)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.source_id = source_id
        self.topic = f"anwang/{COMMUNITY}/{source_id}/event"
        self.sent_at: dict[int, float] = {}
        self.infos: list[Any] = []

    def publish(self, number: int) -> None:
        """Queue one event for publishing (paho sends it from its network thread)."""
        payload = json.dumps(
            {
                "schema_version": 1,
                "device": self.source_id,
                "kind": "access",
                "event_id": str(number),
            }
        )
        self.sent_at[number] = time.monotonic()
        self.infos.append(self.client.publish(self.topic, payload, qos=1))

    def finish(self) -> int:
        """Wait for the broker's acknowledgements, disconnect; how many it acknowledged."""
        acknowledged = 0
        for info in self.infos:
            info.wait_for_publish(timeout=120)
            acknowledged += int(info.is_published())
        self.client.disconnect()
        self.client.loop_stop()
        return acknowledged


def publish_all(publisher: Publisher, count: int, rate: float = 0.0) -> threading.Thread:
    """Publish ``count`` events in a thread, at full speed or at ``rate`` per second."""

    def run() -> None:
        started = time.monotonic()
        for number in range(count):
            publisher.publish(number)
            if rate and number % 10 == 9:
                time.sleep(max(0.0, started + (number + 1) / rate - time.monotonic()))

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
        "--batch-ms", type=int, default=20, help="ANWANG_WORKER_BATCH_MS of the worker"
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
    parser.add_argument("--naive-consumer", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    """Start a broker, measure on each database, print the table."""
    args = parse_args()
    if args.naive_consumer:
        naive_consumer()
        return
    print("ingest: Mosquitto -> anwang worker -> database, QoS 1")
    print(f"{time.strftime('%Y-%m-%d')}  {platform.node()}  {machine()}")
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
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


if __name__ == "__main__":
    main()
