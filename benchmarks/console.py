"""The operator console: MQTT publish to the SSE ``alarm`` message, and the console page under
50 operators.

Run: ``.venv/bin/python benchmarks/console.py [--rates 1000,2500] [--seconds 30]
[--smoke-every 0.5] [--operators 50] [--load-seconds 15] [--database-url postgres://...]
[--only sqlite|postgresql] [--home DIR] [--keep]``

A private Mosquitto with the shipped configuration (``deploy/mosquitto/anwang.conf``) is started
on a free port. Then, on SQLite and on PostgreSQL (skipped with a message when the server does
not answer), each in a fresh data folder and database with the built-in rule pack, background
access readers, Zigbee2MQTT smoke detectors and ``--operators`` operator accounts:

1. **live latency**: the shipped ``anwang worker`` and ``anwang serve`` run as child processes.
   One operator, logged in through the login page, reads ``/live/stream``. For ``--seconds`` at
   each of ``--rates`` (events/s), granted Anwang access events (no rule fires on them) are
   published at that rate, and every ``--smoke-every`` seconds a detector not used before
   reports smoke (the built-in pack's P1 rule raises a new alarm: alarms are grouped by device)
   and, a quarter of a second later, no smoke. The time from the publish call of the smoke
   message to the arrival of the stream's ``alarm`` message with ``change: raised`` for that
   detector gives p50 and p99 (both clocks are this process's).
2. **page load**: the other operators, each logged in through the login page, first all open
   ``/alarms/console/`` at the same moment (a shift change: one request each, every page made
   afresh; reported on its own line). Then one operator alone for 5 s, for what one page costs
   without queueing; then all of them request it again and again with their own session
   cookie over ``--operators`` concurrent connections for ``--load-seconds`` with ``wrk`` when
   it is installed (a Lua script gives every request the next operator's cookie), else from a
   pool of Python threads using ``http.client``; p50/p99 of the response time, which the
   target is for. The console then lists the alarms step 1 raised. No device traffic runs
   during this step.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from _common import _maintenance_url, _postgres, print_table
from _mqtt_load import LeanPublisher

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.services.mosquitto import Broker, free_port, private_broker  # noqa: E402

P1_P99_TARGET_MS = 250.0  # publish to SSE alarm message, at 1,000 events/s of traffic
P1_P99_SLOWER_MS = 100.0  # at 2,500 events/s, at most this much worse than at 1,000
PAGE_P99_TARGET_MS = 200.0  # /alarms/console/ with 50 concurrent operators
COMMUNITY = "bench"
PASSWORD = "Bench-console-2026!"  # noqa: S105 - a throw-away benchmark account
READERS = 20
"""Background access readers; the traffic goes round them."""
SMOKE_OFF_AFTER = 0.25
"""Seconds between a detector's smoke and its all-clear."""
STATE = {"battery": "100.00", "voltage": 3055, "linkquality": 60}
"""A Zigbee2MQTT smoke detector's state besides ``smoke`` (as recorded from a real one)."""
SETUP = """
from anwang.accounts.choices import Role
from anwang.accounts.services import membership_grant, user_create
from anwang.devices.services import device_create
from anwang.places.models import Community, Region
from anwang.rules.services import rules_install_builtin

region = Region.objects.create(name="东湖街道", code="bench")
community = Community.objects.create(region=region, name="翠苑社区", slug="{community}")
rules_install_builtin(community=community)
for index in range({readers}):
    device_create(
        actor=None, community=community, name=f"门禁{{index + 1}}", kind="access_reader",
        protocol="anwang", source_id=f"door-{{index}}",
    )
for index in range({detectors}):
    device_create(
        actor=None, community=community, name=f"烟感{{index + 1}}", kind="smoke",
        protocol="zigbee2mqtt", source_id=f"smoke_{{index}}",
    )
for index in range({operators}):
    user = user_create(actor=None, username=f"operator{{index}}", password={password!r})
    membership_grant(actor=None, user=user, role=Role.OPERATOR, community_id=community.pk)
"""


# --------------------------------------------------------------------------- set-up


@dataclass
class Site:
    """A fresh data folder and database with the benchmark's community, and its children."""

    label: str
    home: Path
    url: str  # empty: the SQLite file in ``home``
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    detector_ids: dict[str, int] = field(default_factory=dict)

    def version(self) -> str:
        """Engine and version."""
        if self.url:
            import psycopg

            with psycopg.connect(self.url) as connection:
                row = connection.execute("SHOW server_version").fetchone()
            return "PostgreSQL " + str(row[0] if row else "?").split()[0]
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of one statement (read directly, not through Django)."""
        if self.url:
            import psycopg

            with psycopg.connect(self.url) as connection:
                return list(connection.execute(sql).fetchall())
        import sqlite3

        with sqlite3.connect(f"file:{self.home / 'anwang.sqlite3'}?mode=ro", uri=True) as conn:
            return list(conn.execute(sql).fetchall())


@contextmanager
def site(label: str, args: argparse.Namespace, database_url: str, broker: Broker) -> Iterator[Site]:
    """Make the data folder and database, migrate, register devices and operators; drop them
    afterwards."""
    parent: Path | None = args.home
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix=f"anwang-console-{label}-", dir=parent))
    url = maintenance = name = ""
    if database_url:
        url, maintenance = _maintenance_url(database_url)
        name = urlsplit(url).path.strip("/")
        _postgres(maintenance, "CREATE DATABASE {}", name)
    current = Site(label=label, home=home, url=url)
    current.env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    current.env.update(
        ANWANG_HOME=str(home),
        PYTHONUNBUFFERED="1",
        ANWANG_MQTT_URL=broker.worker_url,
        ANWANG_MQTT_CLIENT_ID=f"anwang-console-worker-{label}",
    )
    if url:
        current.env["DATABASE_URL"] = url
    try:
        setup = SETUP.format(
            community=COMMUNITY,
            readers=READERS,
            detectors=detectors_needed(args),
            operators=args.operators,
            password=PASSWORD,
        )
        for step in (["migrate", "-v", "0"], ["manage", "shell", "-v", "0", "-c", setup]):
            subprocess.run(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "anwang", *step], env=current.env, check=True
            )
        rows = current.query(
            "SELECT source_id, id FROM devices_device WHERE source_id LIKE 'smoke%'"
        )
        current.detector_ids = {str(source): int(pk) for source, pk in rows}
        yield current
    finally:
        if args.keep:
            kept = f" and the database {name}" if name else ""
            print(f"Kept the data folder {home}{kept}")
        else:
            shutil.rmtree(home, ignore_errors=True)
            if name:
                _postgres(maintenance, "DROP DATABASE IF EXISTS {} WITH (FORCE)", name)


def detectors_needed(args: argparse.Namespace) -> int:
    """One fresh detector per smoke message of every rate, and a few spare."""
    per_rate = int(args.seconds / args.smoke_every * 1.5) + 2
    return per_rate * len(args.rates) + 5


def start_child(command: list[str], env: dict[str, str], log: Path, ready: str) -> Any:
    """Start an ``anwang`` child with its output in ``log``; wait until it prints ``ready``."""
    with log.open("wb") as out:
        child = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if ready in log.read_text(encoding="utf-8", errors="replace"):
            time.sleep(0.3)  # the worker's subscription was sent just before
            return child
        if child.poll() is not None:
            break
        time.sleep(0.05)
    stop_child(child)
    raise SystemExit(f"{command[-1]} did not start:\n{log.read_text(encoding='utf-8')}")


def stop_child(child: Any) -> None:
    """Stop a child (SIGTERM, then SIGKILL)."""
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=10)


# --------------------------------------------------------------------------- HTTP


def login(port: int, username: str) -> str:
    """Log in through the login page; the ``Cookie`` header of the session."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", "/accounts/login/")
        response = connection.getresponse()
        page = response.read().decode()
        cookies = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookies.load(header)
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if match is None or "csrftoken" not in cookies:
            raise SystemExit(f"no CSRF token on the login page ({response.status})")
        token = cookies["csrftoken"].value
        body = urlencode(
            {"csrfmiddlewaretoken": match.group(1), "username": username, "password": PASSWORD}
        )
        connection.request(
            "POST",
            "/accounts/login/",
            body=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={token}",
                "Referer": f"http://127.0.0.1:{port}/accounts/login/",
            },
        )
        response = connection.getresponse()
        response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookies.load(header)
        if response.status != 302 or "sessionid" not in cookies:
            raise SystemExit(f"logging in as {username} failed ({response.status})")
        return f"csrftoken={token}; sessionid={cookies['sessionid'].value}"
    finally:
        connection.close()


class StreamReader:
    """Reads ``/live/stream`` in a thread and notes when each raised alarm's message arrives,
    by device id."""

    def __init__(self, port: int, cookie: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.connection.request(
            "GET", "/live/stream", headers={"Cookie": cookie, "Accept": "text/event-stream"}
        )
        self.response = self.connection.getresponse()
        if self.response.status != 200:
            raise SystemExit(f"/live/stream answered {self.response.status}")
        self.raised: dict[int, float] = {}
        self.hello = threading.Event()
        self.thread = threading.Thread(target=self._read, name="sse", daemon=True)
        self.thread.start()
        if not self.hello.wait(30):
            raise SystemExit("/live/stream sent no hello")

    def _read(self) -> None:
        kind = ""
        try:
            while True:
                line = self.response.readline()
                if not line:
                    return
                text = line.decode().rstrip("\n")
                if text.startswith("event: "):
                    kind = text[7:]
                elif text.startswith("data: "):
                    if kind == "hello":
                        self.hello.set()
                    elif kind == "alarm":
                        data = json.loads(text[6:])
                        if data.get("change") == "raised":
                            self.raised.setdefault(int(data["device"]), time.monotonic())
                elif not text:
                    kind = ""
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            return  # closed by :meth:`close` (http.client drops its file on close)

    def close(self) -> None:
        """Drop the connection (the thread ends with it)."""
        self.connection.close()


# --------------------------------------------------------------------------- live latency


class Traffic:
    """One lean QoS 1 publisher (``_mqtt_load.py``) for the background readers and the smoke
    detectors: paho as the publisher took as much CPU as the worker it was loading."""

    def __init__(self, broker: Broker) -> None:
        self.client = LeanPublisher(
            broker.host,
            broker.port,
            client_id="anwang-bench-console-publisher",
            username=broker.publisher_username,
            password=broker.publisher_password,
        )
        self.number = 0

    def access(self) -> None:
        """One granted access at the next reader (no rule fires on it)."""
        self.number += 1
        reader = f"door-{self.number % READERS}"
        event = {
            "schema_version": 1,
            "device": reader,
            "kind": "access",
            "event_id": str(self.number),
            "data": {"result": "granted", "method": "card", "card_no": f"{self.number:08X}"},
        }
        self.client.publish(f"anwang/{COMMUNITY}/{reader}/event", json.dumps(event).encode())

    def flush(self) -> None:
        """Send the background traffic queued so far."""
        self.client.flush()

    def smoke(self, detector: str, value: bool) -> None:
        """A detector's whole state, as Zigbee2MQTT sends it on every change."""
        payload = json.dumps({**STATE, "smoke": value}).encode()
        self.client.publish(f"zigbee2mqtt/{detector}", payload)
        self.client.flush()

    def close(self) -> None:
        """Wait for the broker's acknowledgements and disconnect."""
        self.client.finish()


@dataclass
class Latency:
    """Publish to SSE message of one rate."""

    rate: int
    smokes: int
    received: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    achieved_rate: float


def measure_latency(
    current: Site,
    traffic: Traffic,
    reader: StreamReader,
    detectors: list[str],
    rate: int,
    seconds: float,
    every: float,
) -> Latency:
    """Background traffic at ``rate`` for ``seconds``, a fresh detector's smoke every ``every``
    seconds (its all-clear shortly after); publish-to-message times of the raised alarms."""
    sent: dict[int, float] = {}
    pending_clear: list[tuple[float, str]] = []
    started = time.monotonic()
    next_smoke = started + every / 2
    jitter = random.Random(rate)
    published = 0
    while (now := time.monotonic()) - started < seconds:
        due = int((now - started) * rate)
        while published < due:
            traffic.access()
            published += 1
        traffic.flush()
        if now >= next_smoke and detectors:
            detector = detectors.pop()
            sent[current.detector_ids[detector]] = time.monotonic()
            traffic.smoke(detector, True)
            pending_clear.append((time.monotonic() + SMOKE_OFF_AFTER, detector))
            # Not a fixed interval: SQLite's streams poll every 0.5 s, and smoke at the same
            # period would always land at the same point of the poll.
            next_smoke += every * jitter.uniform(0.5, 1.5)
        while pending_clear and pending_clear[0][0] <= now:
            traffic.smoke(pending_clear.pop(0)[1], False)
        time.sleep(0.002)
    achieved = published / (time.monotonic() - started)
    for _when, detector in pending_clear:
        traffic.smoke(detector, False)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(pk not in reader.raised for pk in sent):
        time.sleep(0.05)
    delays = [(reader.raised[pk] - at) * 1000 for pk, at in sent.items() if pk in reader.raised]
    p50 = p99 = peak = float("nan")
    if len(delays) >= 2:
        p50 = statistics.median(delays)
        p99 = statistics.quantiles(delays, n=100, method="inclusive")[98]
        peak = max(delays)
    return Latency(rate, len(sent), len(delays), p50, p99, peak, achieved)


# --------------------------------------------------------------------------- page load


@dataclass
class PageLoad:
    """Response times of the console page under concurrent operators."""

    tool: str
    requests: int
    errors: int
    per_second: float
    p50_ms: float
    p99_ms: float


WRK_SCRIPT = """
cookies = {%s}
counter = 0
request = function()
  counter = counter %% #cookies + 1
  return wrk.format("GET", "/alarms/console/", {["Cookie"] = cookies[counter]})
end
"""


def _wrk_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        return float("nan")
    factor = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[match.group(2)]
    return float(match.group(1)) * factor


def load_with_wrk(
    wrk: str, port: int, cookies: list[str], seconds: float, folder: Path
) -> PageLoad:
    """``wrk`` with one connection per operator, every request the next operator's cookie."""
    script = folder / "console.lua"
    script.write_text(
        WRK_SCRIPT % ", ".join(json.dumps(cookie) for cookie in cookies), encoding="utf-8"
    )
    threads = min(len(cookies), os.cpu_count() or 1)
    output = subprocess.run(  # noqa: S603 - the installed wrk, fixed arguments
        [
            wrk,
            f"-t{threads}",
            f"-c{len(cookies)}",
            f"-d{int(seconds)}s",
            "--latency",
            "--timeout",
            "30s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/alarms/console/",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (folder / f"wrk-{len(cookies)}.txt").write_text(output, encoding="utf-8")
    centiles = dict(re.findall(r"^\s+(\d+)%\s+(\S+)\s*$", output, re.MULTILINE))
    total = re.search(r"(\d+) requests in", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return PageLoad(
        tool="wrk",
        requests=int(total.group(1)) if total else 0,
        errors=(int(bad.group(1)) if bad else 0)
        + (sum(int(value) for value in errors.groups()) if errors else 0),
        per_second=float(rate.group(1)) if rate else float("nan"),
        p50_ms=_wrk_ms(centiles.get("50", "")),
        p99_ms=_wrk_ms(centiles.get("99", "")),
    )


def load_with_threads(port: int, cookies: list[str], seconds: float) -> PageLoad:
    """One thread per operator, each with its own keep-alive connection and cookie."""
    stop_at = time.monotonic() + seconds

    def operator(cookie: str) -> tuple[list[float], int]:
        times: list[float] = []
        errors = 0
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                connection.request("GET", "/alarms/console/", headers={"Cookie": cookie})
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    errors += 1
            except (OSError, http.client.HTTPException):
                errors += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            times.append((time.perf_counter() - started) * 1000)
        connection.close()
        return times, errors

    began = time.monotonic()
    with ThreadPoolExecutor(len(cookies)) as pool:
        results = list(pool.map(operator, cookies))
    elapsed = time.monotonic() - began
    times = [value for result, _errors in results for value in result]
    return PageLoad(
        tool="Python threads (http.client)",
        requests=len(times),
        errors=sum(errors for _times, errors in results),
        per_second=len(times) / elapsed,
        p50_ms=statistics.median(times) if times else float("nan"),
        p99_ms=statistics.quantiles(times, n=100, method="inclusive")[98]
        if len(times) > 1
        else float("nan"),
    )


def first_open(port: int, cookies: list[str]) -> PageLoad:
    """Every operator opens the console once, all at the same moment (a shift change, a wall
    of screens switched on): one request each, on a connection of its own, every page made
    afresh."""
    ready = threading.Barrier(len(cookies))

    def operator(cookie: str) -> tuple[float, bool]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            connection.connect()
            ready.wait()
            started = time.perf_counter()
            connection.request("GET", "/alarms/console/", headers={"Cookie": cookie})
            response = connection.getresponse()
            response.read()
            return (time.perf_counter() - started) * 1000, response.status == 200
        finally:
            connection.close()

    began = time.monotonic()
    with ThreadPoolExecutor(len(cookies)) as pool:
        results = list(pool.map(operator, cookies))
    elapsed = time.monotonic() - began
    times = [value for value, _good in results]
    return PageLoad(
        tool="Python threads (http.client)",
        requests=len(times),
        errors=sum(not good for _value, good in results),
        per_second=len(times) / elapsed,
        p50_ms=statistics.median(times),
        p99_ms=statistics.quantiles(times, n=100, method="inclusive")[98],
    )


# --------------------------------------------------------------------------- one database


@dataclass
class Outcome:
    """Everything measured on one database."""

    engine: str
    latencies: list[Latency]
    page: PageLoad
    alone: PageLoad
    first: PageLoad


def run_database(
    label: str, args: argparse.Namespace, database_url: str, broker: Broker
) -> Outcome:
    """Latency at each rate, then the page load, on one database."""
    with site(label, args, database_url, broker) as current:
        engine = current.version()
        print(f"\n{engine}: starting the worker and the web server ...", flush=True)
        worker = start_child(
            [sys.executable, "-m", "anwang", "worker"],
            current.env,
            current.home / "worker.log",
            "Connected to",
        )
        current.port = free_port()
        server = start_child(
            [sys.executable, "-m", "anwang", "serve", "--port", str(current.port)],
            current.env,
            current.home / "serve.log",
            "Anwang is serving on",
        )
        traffic = Traffic(broker)
        reader: StreamReader | None = None
        try:
            detectors = sorted(current.detector_ids, reverse=True)
            # Zigbee2MQTT first reports each detector's normal state: a baseline, no event.
            for detector in detectors:
                traffic.smoke(detector, False)
            time.sleep(2.0)
            reader = StreamReader(current.port, login(current.port, "operator0"))
            latencies = []
            for rate in args.rates:
                print(
                    f"{engine}: {rate:,} events/s for {args.seconds:g} s, smoke every "
                    f"{args.smoke_every:g} s ...",
                    flush=True,
                )
                latencies.append(
                    measure_latency(
                        current, traffic, reader, detectors, rate, args.seconds, args.smoke_every
                    )
                )
                wait_for_backlog(current)
            reader.close()
            reader = None
            traffic.close()
            wait_for_backlog(current)
            print(f"{engine}: logging {args.operators} operators in ...", flush=True)
            with ThreadPoolExecutor(4) as pool:
                cookies = list(
                    pool.map(
                        lambda index: login(current.port, f"operator{index}"),
                        range(args.operators),
                    )
                )
            print(f"{engine}: {args.operators} operators open the console at once ...", flush=True)
            first = first_open(current.port, cookies)
            if first.errors:
                raise SystemExit(f"/alarms/console/ failed for {first.errors} operators")
            wrk = shutil.which("wrk")
            print(
                f"{engine}: {args.operators} operators on /alarms/console/ for "
                f"{args.load_seconds:g} s with {'wrk' if wrk else 'Python threads'} ...",
                flush=True,
            )

            def load(operators: list[str], seconds: float) -> PageLoad:
                if wrk:
                    return load_with_wrk(wrk, current.port, operators, seconds, current.home)
                return load_with_threads(current.port, operators, seconds)

            # One operator alone first (what one page costs the server without queueing): after
            # the concurrent run the server would still be working through its queue.
            alone = load(cookies[:1], min(5.0, args.load_seconds))
            page = load(cookies, args.load_seconds)
        finally:
            if reader is not None:
                reader.close()
            stop_child(server)
            stop_child(worker)
        return Outcome(engine, latencies, page, alone, first)


def wait_for_backlog(current: Site) -> None:
    """Until the worker has stored everything published (no new events for a second), so that
    one step's backlog does not weigh on the next."""
    sql = "SELECT COUNT(*) FROM events_deviceevent"
    last, deadline = -1, time.monotonic() + 300
    while time.monotonic() < deadline:
        count = int(current.query(sql)[0][0])
        if count == last:
            return
        last = count
        time.sleep(1.0)


def postgres_answers(url: str) -> str | None:
    """Why PostgreSQL cannot be used, or ``None`` if it answers."""
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3):
            return None
    except Exception as error:
        return str(error).strip().splitlines()[0]


def report(outcomes: list[Outcome]) -> None:
    """The tables, with the targets."""
    rows = []
    for outcome in outcomes:
        for latency in outcome.latencies:
            rows.append(
                [
                    outcome.engine,
                    f"{latency.rate:,}",
                    f"{latency.achieved_rate:,.0f}",
                    f"{latency.received}/{latency.smokes}",
                    f"{latency.p50_ms:.0f}",
                    f"{latency.p99_ms:.0f}",
                    f"{latency.max_ms:.0f}",
                ]
            )
    print("\nMQTT publish -> SSE alarm message (P1 smoke, change raised), ms")
    print_table(["database", "events/s", "published/s", "alarms seen", "p50", "p99", "max"], rows)
    print("\n/alarms/console/ response time, ms")
    print_table(
        ["database", "tool", "operators", "requests", "req/s", "errors", "p50", "p99"],
        [
            [
                outcome.engine,
                page.tool,
                label,
                f"{page.requests:,}",
                f"{page.per_second:,.1f}",
                str(page.errors),
                f"{page.p50_ms:.1f}",
                f"{page.p99_ms:.1f}",
            ]
            for outcome in outcomes
            for label, page in (
                ("first open, all at once", outcome.first),
                ("concurrent", outcome.page),
                ("one alone", outcome.alone),
            )
        ],
    )
    print("\nTargets")
    for outcome in outcomes:
        by_rate = {latency.rate: latency for latency in outcome.latencies}
        low, high = by_rate.get(1000), by_rate.get(2500)
        if low is not None:
            met = low.p99_ms < P1_P99_TARGET_MS
            print(
                f"  {outcome.engine}: P1 p99 at 1,000/s {low.p99_ms:.0f} ms "
                f"(< {P1_P99_TARGET_MS:.0f}): {'met' if met else 'NOT met'}"
            )
            if high is not None:
                worse = high.p99_ms - low.p99_ms
                met = worse <= P1_P99_SLOWER_MS
                print(
                    f"  {outcome.engine}: p99 at 2,500/s {high.p99_ms:.0f} ms, {worse:+.0f} ms "
                    f"(<= +{P1_P99_SLOWER_MS:.0f}): {'met' if met else 'NOT met'}"
                )
        met = outcome.page.p99_ms < PAGE_P99_TARGET_MS
        print(
            f"  {outcome.engine}: console page p99 {outcome.page.p99_ms:.0f} ms "
            f"(< {PAGE_P99_TARGET_MS:.0f}): {'met' if met else 'NOT met'}; "
            f"when all {outcome.first.requests} first open it at once: "
            f"p99 {outcome.first.p99_ms:.0f} ms"
        )


def main() -> None:
    """Measure on SQLite and PostgreSQL and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="1000,2500", help="background events/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=30.0, help="seconds at each rate")
    parser.add_argument("--smoke-every", type=float, default=0.5, help="seconds between smokes")
    parser.add_argument("--operators", type=int, default=50, help="concurrent operators")
    parser.add_argument("--load-seconds", type=float, default=15.0, help="page load duration")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/test",
        help="the PostgreSQL server (a fresh database is made on it and dropped afterwards)",
    )
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--home", type=Path, default=None, help="folder for the data folders")
    parser.add_argument("--keep", action="store_true", help="keep data folders and databases")
    args = parser.parse_args()
    args.rates = [int(value) for value in args.rates.split(",") if value.strip()]
    print(
        f"Console benchmark  {time.strftime('%Y-%m-%d')}  {platform.node()}  "
        f"{os.cpu_count()} CPUs  Python {platform.python_version()}"
    )
    outcomes: list[Outcome] = []
    with (
        tempfile.TemporaryDirectory(prefix="anwang-console-broker-") as folder,
        private_broker(Path(folder)) as broker,
    ):
        if args.only in (None, "sqlite"):
            outcomes.append(run_database("sqlite", args, "", broker))
        if args.only in (None, "postgresql"):
            problem = postgres_answers(args.database_url)
            if problem:
                print(f"\nPostgreSQL skipped: {problem}")
            else:
                outcomes.append(run_database("postgresql", args, args.database_url, broker))
    report(outcomes)


if __name__ == "__main__":
    main()
