"""The ``anwang`` command: run the demo or the server, and look after an installation.

Every subcommand that touches the database sets up Django itself (``DJANGO_SETTINGS_MODULE``,
and ``ANWANG_HOME`` from ``--home`` *before* the settings are read) and runs inside
``acting_as(RequestMeta(channel="cli"))``, so audit entries say they came from the command line.

Long-running commands (``demo``, ``serve``) run a list of :class:`Service` objects in one
asyncio loop under :func:`run_services`, which owns Ctrl-C and SIGTERM: the web server, the event
worker and the device simulator, all stopped together and cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import getpass
import multiprocessing
import os
import signal
import socket
import sys
import time
import warnings
from collections.abc import Callable, Generator, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import uvicorn

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from pydantic import ValidationError
    from pydantic.fields import FieldInfo

    from anwang.config import AnwangSettings
    from anwang.events.worker import EventWorker

SETTINGS_MODULE = "anwang.project.settings"
SECRET_SETTINGS = frozenset({"secret_key", "encryption_keys", "index_key", "pass_signing_key"})
URL_SETTINGS = frozenset({"database_url", "email_url", "mqtt_url"})


class CommandError(Exception):
    """A command that cannot do what was asked; the message is printed, the code returned."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


# --- configuration ----------------------------------------------------------------------------


def env_var_name(name: str, info: FieldInfo) -> str:
    """The environment variable a setting is read from."""
    from anwang.config import AnwangSettings

    alias = info.validation_alias
    if isinstance(alias, str):
        return alias
    prefix = str(AnwangSettings.model_config.get("env_prefix", ""))
    return (prefix + name).upper()


def _env_lookup(name: str) -> str | None:
    """An environment variable, matched without regard to case as pydantic-settings does."""
    if name in os.environ:
        return os.environ[name]
    wanted = name.lower()
    return next((value for key, value in os.environ.items() if key.lower() == wanted), None)


def config_errors(error: ValidationError) -> list[str]:
    """One line per invalid setting, naming its environment variable."""
    from anwang.config import AnwangSettings

    fields = AnwangSettings.model_fields
    by_alias = {env_var_name(name, info): name for name, info in fields.items()}
    lines = []
    for problem in error.errors():
        location = str(problem["loc"][0]) if problem["loc"] else ""
        name = location if location in fields else by_alias.get(location, location)
        variable = env_var_name(name, fields[name]) if name in fields else location
        value = problem.get("input")
        shown = "" if name in SECRET_SETTINGS or value is None else f" (got {value!r})"
        if problem["type"] == "extra_forbidden":
            lines.append(f"{variable}: not a known setting")
        else:
            lines.append(f"{variable}: {problem['msg']}{shown}")
    return lines


def load_config() -> AnwangSettings:
    """Read and validate the configuration from the environment, or explain what is wrong."""
    from pydantic import ValidationError

    from anwang.config import AnwangSettings

    try:
        return AnwangSettings()
    except ValidationError as error:
        details = "\n  ".join(config_errors(error))
        raise CommandError(f"the configuration is not valid:\n  {details}") from error


def _mask_url(url: str) -> str:
    """A URL with its password replaced by asterisks."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if not parts.password:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username or ''}:****@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def describe_setting(config: AnwangSettings, name: str, info: FieldInfo) -> tuple[str, str]:
    """A setting's value for display (secrets masked) and where it came from."""
    from anwang.core.crypto import key_fingerprint

    variable = env_var_name(name, info)
    value = getattr(config, name)
    source = "environment" if _env_lookup(variable) is not None else "default"
    if name == "encryption_keys":
        keys = config.resolved_encryption_keys()
        shown = ", ".join(key_fingerprint(key) for key in keys)
        if value:
            return f"{len(keys)} key(s), fingerprints {shown}", source
        return f"1 key, fingerprint {shown}", f"file {config.home / 'encryption.key'}"
    if name in SECRET_SETTINGS:
        # Other secrets are shown by fingerprint only, and where they came from.
        generated = {"secret_key": "secret.key", "index_key": "index.key"}.get(name, "")
        if value:
            return f"**** (fingerprint {key_fingerprint(str(value))})", source
        resolver = getattr(config, f"resolved_{name}", None)
        fingerprint = f", fingerprint {key_fingerprint(resolver())}" if resolver else ""
        return f"**** (generated{fingerprint})", f"file {config.home / generated}"
    if name in URL_SETTINGS:
        return (_mask_url(str(value)) or "(empty)"), source
    return (str(value) if value != "" else "(empty)"), source


def _config_problems(config: AnwangSettings) -> tuple[list[str], list[str]]:
    """Problems the model cannot see by itself (bad keys, unknown time zone), and warnings."""
    import zoneinfo

    from cryptography.fernet import Fernet

    problems: list[str] = []
    warnings: list[str] = []
    try:
        zoneinfo.ZoneInfo(config.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems.append(f"ANWANG_TIME_ZONE: unknown time zone {config.time_zone!r}")
    try:
        config.home.mkdir(parents=True, exist_ok=True)
        probe = config.home / ".write-test"
        probe.write_text("ok", encoding="utf-8")
        probe.unlink()
    except OSError as error:
        problems.append(f"ANWANG_HOME: the data folder {config.home} is not writable ({error})")
        return problems, warnings
    try:
        for key in config.resolved_encryption_keys():
            Fernet(key.encode())
    except (ValueError, TypeError):
        problems.append(
            "ANWANG_ENCRYPTION_KEYS: not a valid Fernet key (32 url-safe base64-encoded bytes)"
        )
    if config.debug:
        warnings.append("ANWANG_DEBUG is on: never run a production server like this")
    if config.public_url.startswith("http://") and not any(
        host in config.public_url for host in ("127.0.0.1", "localhost", "[::1]")
    ):
        warnings.append(
            "ANWANG_PUBLIC_URL is plain http: phones need HTTPS for camera, offline use and push"
        )
    return problems, warnings


# --- Django -----------------------------------------------------------------------------------


def setup_django(home: str | None = None) -> None:
    """Point Django at Anwang's settings (and the data folder) and set it up."""
    if home:
        resolved = str(Path(home).expanduser().resolve())
        from django.conf import settings

        if settings.configured and str(settings.HOME) != resolved:
            raise CommandError("--home cannot change the data folder of a running process")
        os.environ["ANWANG_HOME"] = resolved
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    from django.conf import settings

    if not settings.configured:
        load_config()  # a clear message instead of a traceback from the settings module
    import django

    django.setup()


@contextlib.contextmanager
def cli_context() -> Iterator[None]:
    """Run a block as the command line: audit entries record the ``cli`` channel."""
    from anwang.core.context import RequestMeta, acting_as

    with acting_as(RequestMeta(channel="cli")):
        yield


def _migrate(verbosity: int = 1, args: Sequence[str] = ()) -> None:
    """Apply database migrations."""
    from django.core.management import call_command

    call_command("migrate", *args, interactive=False, verbosity=verbosity)


def _pending_migrations() -> int:
    """How many migrations the database still lacks."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


# --- long-running services --------------------------------------------------------------------


class Service(Protocol):
    """Something ``demo`` and ``serve`` run until stopped: the web server, the worker and the
    device simulator. A service with a true ``finite`` attribute may also end on its own when
    its work is done, which stops the others cleanly."""

    name: str

    async def run(self) -> None:
        """Run until stopped; return normally when asked to stop."""

    def stop(self, *, force: bool = False) -> None:
        """Ask the service to stop (``force``: the second Ctrl-C, stop now)."""


class ServiceFailedError(Exception):
    """A service could not start or ended on its own."""


def default_web_workers() -> int:
    """How many web processes ``serve`` runs unless told: one per CPU core it may use, at
    most four."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


BALANCED_SOCKETS = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")
"""Whether each web process of ``serve --workers`` listens on a socket of its own on the same
port, the kernel handing each new connection to one of them by a hash of its addresses. On
one shared socket, whichever process is idle at that moment accepts: a burst of keep-alive
connections (50 operators' consoles) could all land on one process, which then answered every
request while the other stood idle (measured: 50 of 50 connections on one of two processes in
two runs of four, at half the pages per second). Linux only: elsewhere ``SO_REUSEPORT`` does
not share connections out."""


class WebServer:
    """Uvicorn serving Anwang's ASGI application (static files come through WhiteNoise).

    With ``workers`` above one it binds the sockets itself and starts ``workers - 1`` more web
    processes that accept on the same port (see :data:`BALANCED_SOCKETS`): Python runs one
    thread at a time, so one process renders one page at a time however many requests wait.
    Each process is a whole server (its own database connections and one live hub); this one
    supervises the others, stops them with itself and starts a new one if one dies."""

    name = "web"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        certfile: str | None = None,
        keyfile: str | None = None,
        forwarded_allow_ips: str | None = None,
        access_log: bool = True,
        on_started: Callable[[list[str]], None] | None = None,
        workers: int = 1,
        sockets: list[socket.socket] | None = None,
    ) -> None:
        from anwang.project.asgi import application

        self.options: dict[str, Any] = {
            "host": host,
            "port": port,
            "certfile": certfile,
            "keyfile": keyfile,
            "forwarded_allow_ips": forwarded_allow_ips,
            "access_log": access_log,
        }
        self.workers = workers
        self.sockets = sockets
        self.processes: list[BaseProcess] = []
        self.stopping = False

        # WhiteNoise hands Django's ASGI handler a synchronous file iterator; Django serves it
        # correctly from a thread but warns on every static file, which would drown the log.
        warnings.filterwarnings(
            "ignore", message="StreamingHttpResponse must consume synchronous iterators"
        )

        self.config = uvicorn.Config(
            application,
            host=host,
            port=port,
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
            forwarded_allow_ips=forwarded_allow_ips,
            proxy_headers=True,
            lifespan="off",  # Django does not speak the ASGI lifespan protocol
            access_log=access_log,
            log_level="info",
        )
        self.scheme = "https" if certfile else "http"
        self.server = _UvicornServer(self.config, self._started)
        self.on_started = on_started

    def _started(self, sockets: list[socket.socket]) -> None:
        """Report the addresses actually bound (port 0 picks a free port)."""
        urls = []
        for sock in sockets:
            address = sock.getsockname()
            host = str(address[0])
            shown = f"[{host}]" if ":" in host else host
            urls.append(f"{self.scheme}://{shown}:{address[1]}/")
        if self.on_started is not None:
            self.on_started(urls)

    async def run(self) -> None:
        """Serve until stopped."""
        sockets = self.sockets
        keeper: asyncio.Task[None] | None = None
        if sockets is None and self.workers > 1:
            sockets = [self._bind(self.config.port)]
            port = sockets[0].getsockname()[1]  # the one port 0 picked
            others = [
                self._bind(port) if BALANCED_SOCKETS else sockets[0]
                for _number in range(self.workers - 1)
            ]
            self.processes = [self._start_process(sock) for sock in others]
            keeper = asyncio.create_task(self._keep_processes(others))
        try:
            await self.server.serve(sockets=sockets)
        except SystemExit as error:  # uvicorn exits when it cannot bind the address
            raise ServiceFailedError(
                f"the web server could not start on {self.config.host}:{self.config.port}"
            ) from error
        finally:
            if keeper is not None:
                keeper.cancel()
            await self._stop_processes()
        if not self.server.started:
            raise ServiceFailedError("the web server did not start")

    def stop(self, *, force: bool = False) -> None:
        """Finish the requests in flight, then stop (at once when forced). Open live streams
        (consoles) never finish by themselves: they are ended first."""
        from anwang.core.live import live_shutdown

        self.stopping = True
        live_shutdown()
        self.server.should_exit = True
        if force:
            self.server.force_exit = True
        for process in self.processes:
            if process.pid is not None and process.is_alive():
                # A second SIGTERM makes a web process stop at once, as a second Ctrl-C here.
                os.kill(process.pid, signal.SIGTERM)

    def _bind(self, port: int) -> socket.socket:
        """A listening socket for a web process: its own (see :data:`BALANCED_SOCKETS`), or
        the one every process accepts on."""
        host = self.config.host
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # IPPROTO_TCP, not the default 0: asyncio switches Nagle's algorithm off
        # (TCP_NODELAY) only on connections of sockets that say they are TCP, and with it on, a
        # keep-alive response waits for the client's delayed ACK (about 40 ms on Linux).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if BALANCED_SOCKETS:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            sock.close()
            raise ServiceFailedError(
                f"the web server could not start on {host}:{port}: {error.strerror}"
            ) from error
        sock.set_inheritable(True)
        return sock

    def _start_process(self, sock: socket.socket) -> BaseProcess:
        """Start one more web process on the socket (a fresh interpreter: a forked copy of
        this one would share its event loop's and database's state)."""
        process = multiprocessing.get_context("spawn").Process(
            target=_web_process,
            args=(self.options, sock, os.getpid()),
            name="anwang-web",
        )
        process.start()
        return process

    async def _keep_processes(self, sockets: list[socket.socket]) -> None:
        """Start a new web process for one that died (until stopping), on its socket: the
        connections the kernel queued there meanwhile are accepted by the new process."""
        while not self.stopping:
            await asyncio.sleep(1.0)
            for index, process in enumerate(self.processes):
                if self.stopping or process.is_alive():
                    continue
                print(
                    f"anwang: web process {process.pid} ended (exit code {process.exitcode}); "
                    "starting another",
                    file=sys.stderr,
                    flush=True,
                )
                self.processes[index] = self._start_process(sockets[index])

    async def _stop_processes(self) -> None:
        """Stop the other web processes and wait until they have ended."""
        self.stopping = True
        for process in self.processes:
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, signal.SIGTERM)
        for process in self.processes:
            await asyncio.to_thread(process.join)


class _ParentWatch:
    """Ends a web process of ``serve --workers`` when the process that started it is gone
    (killed without the chance to stop it)."""

    name = "parent"
    finite = True

    def __init__(self, parent: int) -> None:
        self.parent = parent
        self.stopped = asyncio.Event()

    async def run(self) -> None:
        """Return when the parent is gone or when stopped."""
        while os.getppid() == self.parent and not self.stopped.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopped.wait(), 1.0)

    def stop(self, *, force: bool = False) -> None:
        """Stop watching."""
        self.stopped.set()


def _web_process(options: dict[str, Any], sock: socket.socket, parent: int) -> None:
    """One more web process of ``serve --workers``, serving the parent's socket until the
    parent stops it (SIGTERM) or is gone."""
    # Out of the terminal's process group: a Ctrl-C reaches the parent only, which stops its
    # web processes in order (else each would see it and then the parent's SIGTERM as a second,
    # forceful, stop).
    os.setpgid(0, 0)
    setup_django()
    started = time.monotonic()
    code = run_services([WebServer(**options, sockets=[sock]), _ParentWatch(parent)])
    if code and time.monotonic() - started < 1.0:
        time.sleep(1.0)  # a process that cannot start is not restarted in a tight loop
    sys.exit(code)


def _warm_up() -> None:
    """Load now what a web process's first requests would otherwise load while people wait:
    the URL configuration, which imports every app's views and API (1.3 s), and our templates,
    each compiled once by the cached loader (0.7 s). A web process's first console page took
    1.5 s, and the operators whose connections the process had were kept waiting behind it."""
    from django.apps import apps
    from django.template.loader import get_template
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - its import is the point
    for app in apps.get_app_configs():
        if not app.name.startswith("anwang."):
            continue
        folder = Path(app.path) / "templates"
        for template in sorted(folder.rglob("*.html")):
            get_template(template.relative_to(folder).as_posix())


class _UvicornServer(uvicorn.Server):
    """Uvicorn without its own signal handlers (several services share one loop), reporting
    the sockets it bound once it has started."""

    def __init__(
        self, config: uvicorn.Config, started: Callable[[list[socket.socket]], None]
    ) -> None:
        super().__init__(config)
        self._report_started = started

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """Leave SIGINT and SIGTERM to :func:`run_services`."""
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Load what requests use, start listening, then say where."""
        _warm_up()
        await super().startup(sockets=sockets)
        # Everything loaded at start-up lives as long as the process: moving it out of the
        # collector's reach turns 60-95 ms full-collection pauses into well under 1 ms.
        gc.collect()
        gc.freeze()
        if self.started:
            self._report_started([sock for server in self.servers for sock in server.sockets])


async def _supervise(services: Sequence[Service]) -> int:
    """Run services together until a signal or a failure; the exit code."""
    loop = asyncio.get_running_loop()
    stopping = False
    failed = False

    def stop_all(force: bool = False) -> None:
        for service in services:
            service.stop(force=force)

    def on_signal() -> None:
        nonlocal stopping
        force = stopping  # a second Ctrl-C stops at once
        stopping = True
        stop_all(force=force)

    handled = [signal.SIGINT, signal.SIGTERM]
    for signum in handled:
        loop.add_signal_handler(signum, on_signal)
    try:
        owners = {
            asyncio.create_task(service.run(), name=service.name): service for service in services
        }
        tasks = set(owners)
        while tasks:
            done, tasks = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                error = task.exception()
                if error is not None:
                    print(f"anwang: {task.get_name()}: {error}", file=sys.stderr)
                    failed = True
                elif getattr(owners[task], "finite", False):
                    pass  # done with its work (a simulation of set length): a clean end
                elif not stopping:
                    print(f"anwang: {task.get_name()} stopped unexpectedly", file=sys.stderr)
                    failed = True
                if not stopping:
                    stopping = True
                    stop_all()
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)
    return 1 if failed else 0


def run_services(services: Sequence[Service]) -> int:
    """Run long-lived services in one event loop; Ctrl-C or SIGTERM stops them all (exit 0)."""
    from django.db import connections

    # The web server runs views in its own threads; the command's connection is finished.
    connections.close_all()
    return asyncio.run(_supervise(services))


def event_worker(*, mqtt_url: str, client_id: str | None = None) -> EventWorker:
    """The event worker as configured, on ``mqtt_url`` (empty: no broker)."""
    from anwang.config import get_settings
    from anwang.events.worker import EventWorker

    config = get_settings()
    return EventWorker(
        mqtt_url=mqtt_url,
        client_id=client_id or config.mqtt_client_id,
        topics=[topic.strip() for topic in config.mqtt_topics.split(",") if topic.strip()],
        ca_file=config.mqtt_ca_file,
        batch_size=config.worker_batch_size,
        batch_ms=config.worker_batch_ms,
    )


DEMO_BROKER = "mqtt://127.0.0.1:1883"
DEMO_CLIENT_ID = "anwang-demo"


def _demo_broker() -> str:
    """The broker the demo uses: the configured one, else a local one if it answers, else
    none (``""``: HTTP and in-process input only), saying which."""
    from anwang.config import get_settings
    from anwang.events.worker import BrokerAddress, broker_reachable

    configured = get_settings().mqtt_url
    url = configured or DEMO_BROKER
    address = BrokerAddress.from_url(url)
    if configured or broker_reachable(address):
        print(f"事件处理 / Event worker: MQTT {address.shown()}", flush=True)
        return url
    print(
        f"没有可用的 MQTT 代理（{address.shown()}），事件处理只接收 HTTP 和进程内输入 / "
        f"No MQTT broker reachable at {address.shown()}: the event worker takes HTTP and "
        "in-process input only.",
        flush=True,
    )
    return ""


def _demo_worker(url: str | None = None) -> EventWorker:
    """The demo's worker on ``url`` (default: the broker :func:`_demo_broker` chooses)."""
    from anwang.config import get_settings

    if url is None:
        url = _demo_broker()
    configured = bool(url) and url == get_settings().mqtt_url
    return event_worker(mqtt_url=url, client_id=None if configured else DEMO_CLIENT_ID)


def _demo_simulator(worker: EventWorker, url: str) -> Service | None:
    """The demo's device simulator, publishing where the worker listens (the broker, else
    straight into the worker); ``None`` without the demo community."""
    from anwang.config import get_settings
    from anwang.demo.seed import DEMO_COMMUNITY_SLUG, demo_present
    from anwang.demo.simulator import (
        DEMO_ALARMS_EVERY,
        DEMO_RATE,
        Delivery,
        InProcessDelivery,
        MqttDelivery,
        Simulator,
    )

    if not demo_present():
        print(
            "设备模拟器未启动（没有演示社区）/ Device simulator off: no demo community.",
            flush=True,
        )
        return None
    delivery: Delivery = (
        MqttDelivery(url=url, worker=worker, ca_file=get_settings().mqtt_ca_file)
        if url
        else InProcessDelivery(worker)
    )
    print(
        f"设备模拟器 / Device simulator: {delivery.describe()}, {DEMO_RATE:g} messages/s, "
        f"an alarm every ~{DEMO_ALARMS_EVERY:g} s",
        flush=True,
    )
    return Simulator(community=DEMO_COMMUNITY_SLUG, delivery=delivery)


# --- subcommands ------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    """Migrate, seed the demo community on first run, and serve it."""
    setup_django(args.home)
    from django.conf import settings

    from anwang.demo.seed import DEMO_ACCOUNTS, DEMO_PASSWORD, DemoConflictError, seed_demo

    print(f"数据目录 / Data folder: {settings.HOME}", flush=True)
    with cli_context():
        _migrate(verbosity=0)
        try:
            result = seed_demo(only_if_empty=True)
        except DemoConflictError as error:
            print(
                "该数据库已有数据，未添加演示社区 / "
                f"This database already holds data; the demo community was not added ({error}).",
                flush=True,
            )
        else:
            if result.created:
                counts = result.counts
                print(
                    f"已生成演示社区 / Demo community created: {counts['households']} 户 "
                    f"households, {counts['residents']} 名居民 residents, "
                    f"{counts['devices']} 台设备 devices.",
                    flush=True,
                )
            else:
                print("演示社区已存在 / Demo community already present.", flush=True)

    def banner(urls: list[str]) -> None:
        url = urls[0] if urls else f"http://{args.host}:{args.port}/"
        if args.host in {"0.0.0.0", "::"}:  # noqa: S104 - showing the wildcard, not binding it
            url = url.replace(args.host, "127.0.0.1", 1).replace("[::]", "[::1]")
        width = max(len(a.label_zh) for a in DEMO_ACCOUNTS)
        lines = [
            "",
            "安网演示已启动 / Anwang demo is running",
            f"  打开 / Open: {url}",
            f"  接口文档 / API docs: {url}api/v1/docs",
            f"  演示账号（密码都是 / password for all: {DEMO_PASSWORD}）:",
        ]
        for account in DEMO_ACCOUNTS:
            label = f"{account.label_zh}{'　' * (width - len(account.label_zh))}"
            lines.append(f"    {label}  {account.label_en:<26} {account.username}")
        lines.append("  按 Ctrl-C 停止 / Press Ctrl-C to stop.")
        print("\n".join(lines), flush=True)

    url = _demo_broker()
    worker = _demo_worker(url)
    simulator = _demo_simulator(worker, url)
    services: list[Service] = [
        WebServer(host=args.host, port=args.port, access_log=False, on_started=banner),
        worker,
    ]
    if simulator is not None:
        services.append(simulator)
    return run_services(services)


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the web pages and the API (production: behind TLS or with a certificate)."""
    if bool(args.certfile) != bool(args.keyfile):
        raise CommandError("--certfile and --keyfile go together")
    workers = default_web_workers() if args.workers is None else args.workers
    if workers < 1:
        raise CommandError("--workers must be at least 1")
    for option in (args.certfile, args.keyfile):
        if option and not Path(option).is_file():
            raise CommandError(f"{option} does not exist")
    setup_django(args.home)
    pending = _pending_migrations()
    if pending:
        print(
            f"anwang: warning: {pending} database migration(s) not applied; run `anwang migrate`",
            file=sys.stderr,
        )

    def started(urls: list[str]) -> None:
        print(f"Anwang is serving on {', '.join(urls)}", flush=True)

    return run_services(
        [
            WebServer(
                host=args.host,
                port=args.port,
                certfile=args.certfile,
                keyfile=args.keyfile,
                forwarded_allow_ips=args.forwarded_allow_ips,
                on_started=started,
                workers=workers,
            )
        ]
    )


def cmd_worker(args: argparse.Namespace) -> int:
    """Run the event pipeline: MQTT in, events stored, acknowledged after commit."""
    setup_django(args.home)
    from anwang.config import get_settings

    pending = _pending_migrations()
    if pending:
        raise CommandError(f"{pending} database migration(s) not applied; run `anwang migrate`")
    config = get_settings()
    if not config.mqtt_url:
        print(
            "anwang worker: ANWANG_MQTT_URL is not set; taking HTTP and in-process input only "
            "(device heartbeats are still checked)",
            file=sys.stderr,
            flush=True,
        )
    return run_services([event_worker(mqtt_url=config.mqtt_url)])


def cmd_simulate(args: argparse.Namespace) -> int:
    """Run the device simulator alone: traffic at ``--rate`` messages per second, to the
    broker (for a separate ``anwang worker``) or into a worker in this process."""
    if args.rate <= 0:
        raise CommandError("--rate must be above zero")
    if args.duration is not None and args.duration <= 0:
        raise CommandError("--duration must be above zero")
    setup_django(args.home)
    from anwang.config import get_settings
    from anwang.demo.seed import DEMO_COMMUNITY_SLUG
    from anwang.demo.simulator import (
        Delivery,
        InProcessDelivery,
        MqttDelivery,
        Simulator,
        SimulatorError,
        community_devices,
    )
    from anwang.events.worker import BrokerAddress, broker_reachable

    pending = _pending_migrations()
    if pending:
        raise CommandError(f"{pending} database migration(s) not applied; run `anwang migrate`")
    community = args.community or DEMO_COMMUNITY_SLUG
    try:
        devices = community_devices(community)
    except SimulatorError as error:
        hint = "" if args.community else " (`anwang seed-demo` adds the demo community)"
        raise CommandError(f"{error}{hint}") from error
    url = ""
    if not args.in_process:
        url = args.mqtt_url or get_settings().mqtt_url
        if not url:
            local = BrokerAddress.from_url(DEMO_BROKER)
            url = DEMO_BROKER if broker_reachable(local) else ""
        if url:
            try:
                BrokerAddress.from_url(url)
            except ValueError as error:
                raise CommandError(str(error)) from error
    services: list[Service] = []
    delivery: Delivery
    if url:
        delivery = MqttDelivery(url=url, ca_file=get_settings().mqtt_ca_file)
        where = f"{delivery.describe()}; run `anwang worker` on that broker to store them"
    else:
        worker = event_worker(mqtt_url="", client_id="anwang-simulate")
        services.append(worker)
        delivery = InProcessDelivery(worker)
        where = "in-process (a worker in this process stores them)"
    simulator = Simulator(
        community=community,
        delivery=delivery,
        rate=args.rate,
        alarms_every=args.alarms_every,
        duration=args.duration,
        seed=args.seed,
    )
    services.append(simulator)
    length = f" for {args.duration:g} s" if args.duration else ""
    print(
        f"Simulating {len(devices)} devices of {community} at {args.rate:g} messages/s{length}: "
        f"{where}.",
        flush=True,
    )
    code = run_services(services)
    print(f"Sent {simulator.counters.messages} messages.", flush=True)
    return code


def cmd_migrate(args: argparse.Namespace) -> int:
    """Bring the database schema up to date."""
    setup_django(args.home)
    with cli_context():
        _migrate(verbosity=args.verbosity, args=args.migrate_args)
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    """Validate the configuration, show every setting with its source, test the database."""
    if args.home:
        os.environ["ANWANG_HOME"] = str(Path(args.home).expanduser().resolve())
    from anwang.config import AnwangSettings

    config = load_config()
    rows = [
        (env_var_name(name, info), *describe_setting(config, name, info))
        for name, info in AnwangSettings.model_fields.items()
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    print("Anwang configuration:")
    for variable, value, source in rows:
        print(f"  {variable:<{widths[0]}}  {value:<{widths[1]}}  [{source}]")
    problems, warnings = _config_problems(config)
    if not problems:
        problems += _check_database(args.home)
    for warning in warnings:
        print(f"warning: {warning}")
    if problems:
        print("Configuration problems:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print("Configuration OK.")
    return 0


def _check_database(home: str | None) -> list[str]:
    """Connect to the database and report its vendor and pending migrations."""
    try:
        setup_django(home)
        from django.db import connection

        connection.ensure_connection()
        pending = _pending_migrations()
    except CommandError:
        raise
    except Exception as error:
        return [f"database: cannot connect ({error.__class__.__name__}: {error})"]
    print(
        f"Database: {connection.display_name} ({connection.settings_dict['NAME']}) is reachable; "
        f"{pending} migration(s) to apply."
    )
    return []


def config_markdown() -> str:
    """The configuration reference in Markdown, generated from the settings model."""
    import annotated_types

    from anwang.config import AnwangSettings, default_home

    lines = [
        "# Configuration",
        "",
        "Anwang reads its whole configuration from environment variables (12-factor). Every "
        "setting has a default, so `anwang demo` needs none of them. Check a configuration with "
        "`anwang check-config`: it validates every value, shows where each came from (secrets "
        "masked) and tests the database connection.",
        "",
        "This page is generated from `anwang.config.AnwangSettings` by `anwang config-docs "
        "--output docs/configuration.md`; edit the model, not this page.",
        "",
        "| Variable | Type | Default | Description |",
        "|---|---|---|---|",
    ]
    for name, info in AnwangSettings.model_fields.items():
        annotation = info.annotation
        kind = getattr(annotation, "__name__", str(annotation))
        kind = {"str": "text", "int": "integer", "bool": "true/false", "Path": "path"}.get(
            kind, kind
        )
        if info.default_factory is default_home:
            default = "`./anwang-data`"
        elif info.default_factory is not None:
            default = "(computed)"
        elif info.default == "":
            default = "(empty)"
        elif isinstance(info.default, bool):
            default = f"`{str(info.default).lower()}`"
        else:
            default = f"`{info.default}`"
        description = (info.description or "").replace("|", "\\|").replace("\n", " ")
        bounds = []
        for constraint in info.metadata:
            if isinstance(constraint, annotated_types.Ge):
                bounds.append(f"at least {constraint.ge}")
            elif isinstance(constraint, annotated_types.Le):
                bounds.append(f"at most {constraint.le}")
        if bounds:
            description += f" Allowed: {', '.join(bounds)}."
        lines.append(f"| `{env_var_name(name, info)}` | {kind} | {default} | {description} |")
    lines += [
        "",
        "Variable names are not case-sensitive. Keep `ANWANG_SECRET_KEY`, "
        "`ANWANG_ENCRYPTION_KEYS` and `ANWANG_INDEX_KEY` out of version control; when they are "
        "empty, Anwang generates them once into the data folder (`secret.key`, `encryption.key`, "
        "`index.key`, readable only by their owner). Backups never contain the keys: see "
        "[install.md](install.md).",
        "",
    ]
    return "\n".join(lines)


def cmd_config_docs(args: argparse.Namespace) -> int:
    """Write the configuration reference (Markdown) to a file or standard output."""
    text = config_markdown()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    """Add the demo community (once) without starting a server."""
    setup_django(args.home)
    from anwang.demo.seed import DEMO_PASSWORD, DemoConflictError, seed_demo

    with cli_context():
        _migrate(verbosity=0)
        try:
            result = seed_demo(seed=args.seed)
        except DemoConflictError as error:
            raise CommandError(str(error)) from error
    if not result.created:
        print("The demo community is already present; nothing added.")
        return 0
    summary = ", ".join(f"{key} {value}" for key, value in result.counts.items())
    print(f"Demo community created: {summary}.")
    print(f"Demo logins use the password {DEMO_PASSWORD}.")
    return 0


def _ask(prompt: str) -> str:
    """A line from the terminal, or a clear error when there is none."""
    try:
        return input(prompt).strip()
    except EOFError as error:
        raise CommandError(f"no input for: {prompt.strip()}") from error


def _ask_password() -> str:
    """A new password typed twice without echo."""
    try:
        first = getpass.getpass("Password: ")
        second = getpass.getpass("Password (again): ")
    except EOFError as error:
        raise CommandError("no password given (use --password)") from error
    if first != second:
        raise CommandError("the passwords do not match")
    return first


def cmd_createadmin(args: argparse.Namespace) -> int:
    """Create a platform admin (superuser), asking for what the flags do not give."""
    setup_django(args.home)
    from anwang.accounts.services import user_create
    from anwang.core.errors import ServiceError

    username = args.username or _ask("Username: ")
    if not username:
        raise CommandError("a user name is needed")
    password = args.password or _ask_password()
    with cli_context():
        try:
            user = user_create(
                actor=None,
                username=username,
                password=password,
                email=args.email or "",
                is_superuser=True,
            )
        except ServiceError as error:
            raise CommandError(str(error.message)) from error
    print(f"Created platform admin {user.username}.")
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    """Make an API token for a user and print it (the last line) once."""
    setup_django(args.home)
    from anwang.accounts.models import User
    from anwang.accounts.services import api_token_create
    from anwang.core.errors import ServiceError
    from anwang.places.models import Community

    user = User.objects.filter(username=args.username).first()
    if user is None or not user.is_active:
        raise CommandError(f"no active user {args.username!r}")
    community_id = None
    if args.community:
        community = Community.objects.filter(slug=args.community).first()
        if community is None:
            raise CommandError(f"no community with the short name {args.community!r}")
        community_id = community.pk
    with cli_context():
        try:
            token, raw = api_token_create(
                actor=None, user=user, name=args.name or "", community_id=community_id
            )
        except ServiceError as error:
            raise CommandError(str(error.message)) from error
    scope = f", limited to {args.community}" if community_id else ""
    print(f"API token {token.prefix}… for {user.username}{scope}. It is shown only this once:")
    print(raw)
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    """Revoke the live token whose prefix is given."""
    setup_django(args.home)
    from anwang.accounts.models import ApiToken
    from anwang.accounts.services import api_token_revoke
    from anwang.core.errors import ServiceError

    if len(args.prefix) < 5:
        raise CommandError("give at least the first 5 characters of the token")
    tokens = list(
        ApiToken.objects.select_related("user").filter(
            prefix__startswith=args.prefix[:10], revoked_at__isnull=True
        )[:2]
    )
    if not tokens:
        raise CommandError(f"no live token starts with {args.prefix!r}")
    if len(tokens) > 1:
        raise CommandError(f"several tokens start with {args.prefix!r}; give more characters")
    token = tokens[0]
    with cli_context():
        try:
            # No person acts: the audit entry says the command line (channel "cli") did it.
            api_token_revoke(actor=None, token=token)
        except ServiceError as error:
            raise CommandError(str(error.message)) from error
    print(f"Revoked token {token.prefix}… of {token.user.username}.")
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    """List API tokens (prefix, owner, scope, last use), never the tokens themselves."""
    setup_django(args.home)
    from anwang.accounts.models import ApiToken

    tokens = ApiToken.objects.select_related("user", "community").order_by("-created_at")
    if args.username:
        tokens = tokens.filter(user__username=args.username)
    for token in tokens:
        state = "revoked" if token.revoked_at else "live"
        scope = token.community.slug if token.community else "all"
        used = token.last_used_at.isoformat(timespec="minutes") if token.last_used_at else "never"
        print(
            f"{token.prefix}…  {token.user.username:<16} {scope:<12} {state:<8} "
            f"last used {used}  {token.name}"
        )
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Recompute the audit chain; exit 1 naming the first broken entry."""
    setup_django(args.home)
    from anwang.audit.selectors import audit_chain_verify

    report = audit_chain_verify()
    if report.ok:
        print(f"OK, {report.checked} entries (head #{report.head_seq} {report.head_hash})")
        return 0
    print(
        f"BROKEN at entry #{report.first_broken_seq}: {report.reason} "
        f"({report.checked} entries verified before it)",
        file=sys.stderr,
    )
    return 1


def cmd_backup(args: argparse.Namespace) -> int:
    """Write the database, media files and manifest to one archive."""
    setup_django(args.home)
    from anwang.backup import BackupError, backup_create

    target = Path(args.file)
    if target.exists() and not args.force:
        raise CommandError(f"{target} exists; choose another name or pass --force")
    try:
        result = backup_create(target, progress=_progress(args.verbose))
    except BackupError as error:
        raise CommandError(str(error)) from error
    manifest = result.manifest
    rows = sum(table["rows"] for table in manifest["tables"])
    print(
        f"Backup written to {result.path}: {len(manifest['tables'])} tables, {rows} rows, "
        f"{manifest['media']['files']} media files, {manifest['audit']['entries']} audit entries."
    )
    keys = manifest["encryption"]
    print(
        "The keys are NOT in the archive. Restoring needs the encryption key with fingerprint "
        f"{keys['key_fingerprints'][0]} and the index key with fingerprint "
        f"{keys['index_key_fingerprint']}: keep copies of them apart from the backups."
    )
    return 0


def _install_key_file(key_file: str, home: str | None, *, variable: str, file_name: str) -> None:
    """Put a key a backup needs into the target data folder before the settings read it."""
    from anwang.config import default_home

    try:
        key = Path(key_file).read_text(encoding="utf-8").strip()
    except OSError as error:
        raise CommandError(f"cannot read {key_file}: {error.strerror}") from error
    if not key:
        raise CommandError(f"{key_file} is empty")
    if _env_lookup(variable):
        raise CommandError(f"{variable} is set; unset it to install {key_file}")
    folder = Path(home).expanduser().resolve() if home else default_home()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / file_name
    if target.exists():
        if target.read_text(encoding="utf-8").strip() != key:
            raise CommandError(
                f"{target} already holds a different key. If nothing has been restored into "
                "this data folder yet, delete that file and restore again"
            )
        return
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")


def cmd_restore(args: argparse.Namespace) -> int:
    """Restore an archive into an empty data folder or database, then verify the audit chain."""
    if args.key_file:
        _install_key_file(
            args.key_file, args.home, variable="ANWANG_ENCRYPTION_KEYS", file_name="encryption.key"
        )
    if args.index_key_file:
        _install_key_file(
            args.index_key_file, args.home, variable="ANWANG_INDEX_KEY", file_name="index.key"
        )
    setup_django(args.home)
    from anwang.backup import BackupError, backup_restore

    with cli_context():
        try:
            result = backup_restore(Path(args.file), progress=_progress(args.verbose))
        except BackupError as error:
            raise CommandError(f"restore refused: {error}") from error
    rows = sum(result.rows.values())
    print(
        f"Restored {len(result.rows)} tables, {rows} rows and {result.media_files} media files "
        f"from a backup of {result.manifest['created_at']}."
    )
    if not result.chain_ok:
        print(
            f"AUDIT CHAIN BROKEN after restore: {result.chain_reason}. The data is restored; "
            "treat the archive as tampered with until explained.",
            file=sys.stderr,
        )
        return 1
    print(f"Audit chain OK, {result.chain_checked} entries.")
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    """Run one of Django's management commands (``anwang manage help`` lists them)."""
    setup_django(args.home)
    from django.core.management import execute_from_command_line

    with cli_context():
        execute_from_command_line(["anwang manage", *args.manage_args])
    return 0


def _progress(verbose: bool) -> Callable[[str], None]:
    """A progress printer when ``--verbose``, else silence."""

    def say(message: str) -> None:
        if verbose:
            print(f"  {message}", flush=True)

    return say


# --- the parser -------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The ``anwang`` argument parser with every subcommand."""
    from anwang import __version__

    home = argparse.ArgumentParser(add_help=False)
    home.add_argument(
        "--home",
        default=argparse.SUPPRESS,
        help="data folder (default: $ANWANG_HOME, else ./anwang-data)",
    )
    parser = argparse.ArgumentParser(
        prog="anwang",
        description="Anwang (安网): an open-source community safety platform.",
        parents=[home],
    )
    parser.add_argument("--version", action="version", version=f"anwang {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(name: str, handler: Callable[[argparse.Namespace], int], text: str) -> Any:
        sub = commands.add_parser(name, help=text, description=text, parents=[home])
        sub.set_defaults(handler=handler)
        return sub

    demo = command("demo", cmd_demo, "run the demo: generated community, web server, logins")
    demo.add_argument("--host", default="127.0.0.1", help="address to listen on")
    demo.add_argument("--port", type=int, default=8000, help="port (0 picks a free one)")

    serve = command("serve", cmd_serve, "serve the web pages and the API")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port (0 picks a free one)")
    serve.add_argument("--certfile", help="TLS certificate (PEM) to serve HTTPS directly")
    serve.add_argument("--keyfile", help="TLS private key (PEM) of the certificate")
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="web processes serving requests side by side (default: one per CPU core, at "
        "most 4; each holds its own database connections)",
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        default=None,
        help="reverse proxies trusted for X-Forwarded-Proto (default: 127.0.0.1)",
    )

    command("worker", cmd_worker, "run the event pipeline (MQTT broker -> stored events)")

    simulate = command("simulate", cmd_simulate, "simulate a community's devices (demo, load)")
    simulate.add_argument(
        "--rate", type=float, default=50.0, help="messages per second overall (default: 50)"
    )
    simulate.add_argument(
        "--community", help="short name of the community (default: the demo's, cuiyuan)"
    )
    simulate.add_argument(
        "--alarms-every",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="play an alarm scenario about this often (default: 0, none)",
    )
    simulate.add_argument(
        "--duration", type=float, metavar="SECONDS", help="stop after this long (default: never)"
    )
    simulate.add_argument("--seed", type=int, help="random seed, for reproducible traffic")
    simulate.add_argument(
        "--mqtt-url",
        help="broker to publish to, with an account allowed to publish device topics "
        "(default: $ANWANG_MQTT_URL, else mqtt://127.0.0.1:1883 if it answers)",
    )
    simulate.add_argument(
        "--in-process",
        action="store_true",
        help="no broker: hand the messages to an event worker in this process",
    )

    migrate = command("migrate", cmd_migrate, "apply database migrations")
    migrate.add_argument("migrate_args", nargs="*", help="optional app label and migration")
    migrate.add_argument("-v", "--verbosity", type=int, default=1, choices=[0, 1, 2, 3])

    command("check-config", cmd_check_config, "validate the configuration and the database")

    docs = command("config-docs", cmd_config_docs, "write the configuration reference")
    docs.add_argument("--output", "-o", help="file to write (default: standard output)")

    seed = command("seed-demo", cmd_seed_demo, "add the demo community without serving it")
    seed.add_argument("--seed", type=int, default=2026, help="random seed of the generator")

    admin = command("createadmin", cmd_createadmin, "create a platform admin (superuser)")
    admin.add_argument("--username")
    admin.add_argument("--password", help="asked for without echo when missing")
    admin.add_argument("--email")

    token = command("token", _needs_subcommand, "create, list or revoke API tokens")
    token_commands = token.add_subparsers(title="token commands", metavar="ACTION")
    create = token_commands.add_parser("create", help="make a token", parents=[home])
    create.set_defaults(handler=cmd_token_create)
    create.add_argument("--username", required=True)
    create.add_argument("--community", help="short name of the one community it may see")
    create.add_argument("--name", help="what the token is for")
    revoke = token_commands.add_parser("revoke", help="revoke a token", parents=[home])
    revoke.set_defaults(handler=cmd_token_revoke)
    revoke.add_argument("--prefix", required=True, help="the token's first characters")
    listing = token_commands.add_parser("list", help="list tokens", parents=[home])
    listing.set_defaults(handler=cmd_token_list)
    listing.add_argument("--username")

    audit = command("audit", _needs_subcommand, "audit log tools")
    audit_commands = audit.add_subparsers(title="audit commands", metavar="ACTION")
    verify = audit_commands.add_parser("verify", help="verify the hash chain", parents=[home])
    verify.set_defaults(handler=cmd_audit_verify)

    backup = command("backup", cmd_backup, "write database, media and manifest to an archive")
    backup.add_argument("file", help="archive to write (.tar.gz)")
    backup.add_argument("--force", action="store_true", help="overwrite an existing file")
    backup.add_argument("--verbose", action="store_true")

    restore = command("restore", cmd_restore, "restore an archive into an empty data folder")
    restore.add_argument("file", help="archive written by `anwang backup`")
    restore.add_argument(
        "--key-file", help="encryption key file the backup needs (copied into the data folder)"
    )
    restore.add_argument(
        "--index-key-file", help="blind-index key file the backup needs (copied likewise)"
    )
    restore.add_argument("--verbose", action="store_true")

    manage = command("manage", cmd_manage, "run a Django management command (for admins)")
    manage.add_argument("manage_args", nargs=argparse.REMAINDER)
    return parser


def _needs_subcommand(args: argparse.Namespace) -> int:
    """A command group called without its action."""
    raise CommandError("choose an action; see --help", code=2)


def main(argv: list[str] | None = None) -> int:
    """Run the ``anwang`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "home"):
        args.home = None
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return handler(args)
    except CommandError as error:
        print(f"anwang: {error}", file=sys.stderr)
        return error.code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover - `python -m anwang` goes through __main__
    raise SystemExit(main())
