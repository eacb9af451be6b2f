"""The shipped production Mosquitto configuration starts a real broker, with its ACL file."""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.services.conftest import under_ci

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _binary(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if found is None:
        message = f"{name} is not installed"
        if under_ci():
            pytest.fail(f"{message}; CI needs it", pytrace=False)
        pytest.skip(message)
    return found


def test_shipped_configuration_runs_a_broker(tmp_path: Path) -> None:
    mosquitto, mosquitto_passwd = _binary("mosquitto"), _binary("mosquitto_passwd")
    port = _free_port()
    passwords = tmp_path / "anwang.passwd"
    subprocess.run(  # noqa: S603 - fixed arguments
        [mosquitto_passwd, "-b", "-c", str(passwords), "anwang-worker", "secret-for-test"],
        check=True,
        capture_output=True,
    )
    passwords.chmod(0o600)
    config = (DEPLOY / "anwang.conf").read_text(encoding="utf-8")
    # Only where things live, which port, and (as mosquitto started by root drops to the
    # "mosquitto" user, who cannot read a test's files) which user differ from production.
    config = f"user {getpass.getuser()}\n" + (
        config.replace("listener 1883", f"listener {port} 127.0.0.1")
        .replace("/etc/mosquitto/anwang.passwd", str(passwords))
        .replace("/etc/mosquitto/anwang.acl", str(DEPLOY / "anwang.acl"))
        .replace("/var/lib/mosquitto/", f"{tmp_path}/")
        .replace("log_dest syslog", "log_dest stderr")
    )
    config_file = tmp_path / "mosquitto.conf"
    config_file.write_text(config, encoding="utf-8")
    broker = subprocess.Popen(  # noqa: S603 - fixed arguments
        [mosquitto, "-c", str(config_file)], stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 5
        listening = False
        while time.monotonic() < deadline and broker.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    listening = True
                    break
            except OSError:
                time.sleep(0.05)
        if not listening:
            broker.terminate()
            _out, errors = broker.communicate(timeout=5)
            pytest.fail(f"the shipped configuration did not start a broker:\n{errors}")
        time.sleep(0.3)  # a bad option makes mosquitto exit right after binding
        assert broker.poll() is None
    finally:
        if broker.poll() is None:
            broker.terminate()
            broker.wait(timeout=5)
