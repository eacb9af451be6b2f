"""A private Mosquitto broker running the shipped configuration (``deploy/mosquitto/``), for
tests and benchmarks that need a real broker.

Only where things live, which port, the accounts and (as mosquitto started by root drops to
the "mosquitto" user, who cannot read a test's files) which user it runs as differ from
production. The machine's own broker (Debian's default configuration, 1,000 queued messages
per client) is never used: it would drop messages the worker is meant to keep.

Besides the worker's account (``anwang-worker``, with the shipped ACL), the broker has a
publisher account (``anwang-test``) that may publish anywhere, standing in for every device.
This module does not import pytest: benchmarks use it too.
"""

from __future__ import annotations

import getpass
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto"
WORKER_USER = "anwang-worker"
PUBLISHER_USER = "anwang-test"


class BrokerUnavailableError(RuntimeError):
    """Mosquitto is not installed, or the shipped configuration did not start it."""


class MosquittoMissingError(BrokerUnavailableError):
    """Mosquitto is not installed."""


@dataclass(frozen=True)
class Broker:
    """A running private broker and the accounts it has."""

    host: str
    port: int
    username: str
    """The worker's account."""
    password: str
    publisher_username: str
    publisher_password: str
    pid: int
    directory: Path

    @property
    def worker_url(self) -> str:
        """``ANWANG_MQTT_URL`` for the worker."""
        return f"mqtt://{self.username}:{self.password}@{self.host}:{self.port}"


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_binary(name: str) -> str | None:
    """The path of a Mosquitto program (also in /usr/sbin, which a user's PATH may lack)."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")


def shipped_config(
    *, port: int, directory: Path, passwords: Path, acl: Path, tls: TlsFiles | None = None
) -> str:
    """The shipped ``anwang.conf`` with port, paths, log and user made local; with ``tls``, its
    listener takes TLS only."""
    config = (DEPLOY / "anwang.conf").read_text(encoding="utf-8")
    listener = f"listener {port} 127.0.0.1"
    if tls is not None:
        listener += f"\ncafile {tls.ca_file}\ncertfile {tls.cert_file}\nkeyfile {tls.key_file}"
    return f"user {getpass.getuser()}\n" + (
        config.replace("listener 1883", listener)
        .replace("/etc/mosquitto/anwang.passwd", str(passwords))
        .replace("/etc/mosquitto/anwang.acl", str(acl))
        .replace("/var/lib/mosquitto/", f"{directory}/")
        .replace("log_dest syslog", "log_dest stderr")
    )


@dataclass(frozen=True)
class TlsFiles:
    """A certificate authority and the broker's certificate and key it signed (PEM files)."""

    ca_file: Path
    cert_file: Path
    key_file: Path


@contextmanager
def private_broker(
    directory: Path, *, start_timeout: float = 5.0, tls: TlsFiles | None = None
) -> Iterator[Broker]:
    """Start Mosquitto with the shipped configuration on a free loopback port, with a worker
    and a publisher account; stop it (by its process id) afterwards.

    Raises :class:`BrokerUnavailableError` if Mosquitto is missing or does not start.
    """
    mosquitto, mosquitto_passwd = find_binary("mosquitto"), find_binary("mosquitto_passwd")
    if mosquitto is None or mosquitto_passwd is None:
        raise MosquittoMissingError("mosquitto is not installed")
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    password, publisher_password = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    passwords = directory / "anwang.passwd"
    for index, (user, secret) in enumerate(
        [(WORKER_USER, password), (PUBLISHER_USER, publisher_password)]
    ):
        create = ["-c"] if index == 0 else []
        subprocess.run(  # noqa: S603 - fixed arguments
            [mosquitto_passwd, "-b", *create, str(passwords), user, secret],
            check=True,
            capture_output=True,
        )
    passwords.chmod(0o600)
    # The shipped ACL unchanged, plus the test publisher standing in for every device.
    acl = directory / "anwang.acl"
    acl.write_text(
        (DEPLOY / "anwang.acl").read_text(encoding="utf-8")
        + f"\n# Tests only: one account publishes for every device.\nuser {PUBLISHER_USER}\n"
        "topic readwrite #\n",
        encoding="utf-8",
    )
    config_file = directory / "mosquitto.conf"
    config_file.write_text(
        shipped_config(port=port, directory=directory, passwords=passwords, acl=acl, tls=tls),
        encoding="utf-8",
    )
    log_file = directory / "mosquitto.log"
    with log_file.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(  # noqa: S603 - fixed arguments
            [mosquitto, "-c", str(config_file)], stdout=log, stderr=subprocess.STDOUT
        )
    try:
        if not _listening(process, port, start_timeout):
            raise BrokerUnavailableError(
                "the shipped configuration did not start a broker:\n"
                + log_file.read_text(encoding="utf-8", errors="replace")
            )
        yield Broker(
            host="127.0.0.1",
            port=port,
            username=WORKER_USER,
            password=password,
            publisher_username=PUBLISHER_USER,
            publisher_password=publisher_password,
            pid=process.pid,
            directory=directory,
        )
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


@contextmanager
def broker_for_test(directory: Path) -> Iterator[Broker]:
    """:func:`private_broker` for a test: a missing Mosquitto skips it locally and fails it in
    CI; a broker that does not start fails it."""
    import pytest

    from tests.services.conftest import under_ci

    try:
        with private_broker(directory) as broker:
            yield broker
    except MosquittoMissingError as error:
        if under_ci():
            pytest.fail(f"{error}; CI needs it", pytrace=False)
        pytest.skip(str(error))
    except BrokerUnavailableError as error:
        pytest.fail(str(error), pytrace=False)


def _listening(process: subprocess.Popen[bytes], port: int, timeout: float) -> bool:
    """Whether the broker accepts connections within ``timeout`` and is still running a moment
    later (a bad option makes mosquitto exit right after binding)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.05)
    else:
        return False
    time.sleep(0.3)
    return process.poll() is None
