"""The ``anwang`` command: configuration, accounts, tokens, audit verification, serving."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import signal
import ssl
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from anwang.cli import BALANCED_SOCKETS, config_markdown, main
from anwang.config import AnwangSettings
from tests.cli_support import cli_env, run_cli, start_cli

REPO = Path(__file__).resolve().parent.parent
TEST_KEY = "u8zO0pQKcKfQw1yWq9mF3lYt2kVf6N1bJm4h7R2sT5E="  # set by anwang.core.testing_env


@pytest.fixture
def fast_passwords(settings: Any) -> None:
    """Argon2 makes the two-community world take seconds; these tests never check hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def env_names() -> list[str]:
    """Every setting's environment variable."""
    from anwang.cli import env_var_name

    return [env_var_name(name, info) for name, info in AnwangSettings.model_fields.items()]


# --- check-config ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_check_config_shows_every_setting_with_secrets_masked(capsys):
    assert main(["check-config"]) == 0
    out = capsys.readouterr().out
    for name in env_names():
        assert name in out
    assert "Configuration OK" in out
    assert "reachable" in out
    assert TEST_KEY not in out
    assert "test-secret-key" not in out
    assert "test-index-key" not in out
    assert "[environment]" in out
    assert "[default]" in out


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ANWANG_SESSION_IDLE_MINUTES", "soon"),
        ("ANWANG_SESSION_IDLE_MINUTES", "0"),
        ("ANWANG_LANGUAGE", "fr"),
        ("DATABASE_URL", "mysql://db/anwang"),
        ("ANWANG_ENCRYPTION_KEYS", "not-a-fernet-key"),
        ("ANWANG_TIME_ZONE", "Mars/Olympus_Mons"),
    ],
)
def test_check_config_rejects_bad_values(monkeypatch, capsys, variable, value):
    monkeypatch.setenv(variable, value)
    assert main(["check-config"]) == 1
    err = capsys.readouterr().err
    assert variable in err
    assert "Traceback" not in err


def test_bad_configuration_is_explained_not_a_traceback(tmp_path):
    result = run_cli("migrate", env=cli_env(tmp_path, ANWANG_LOCKOUT_FAILURES="many"))
    assert result.returncode == 1
    assert "ANWANG_LOCKOUT_FAILURES" in result.stderr
    assert "Traceback" not in result.stderr


def test_database_that_cannot_be_reached_fails_the_check(tmp_path):
    env = cli_env(tmp_path, DATABASE_URL="postgres://nobody@127.0.0.1:1/none")
    result = run_cli("check-config", env=env, timeout=60)
    assert result.returncode == 1
    assert "database: cannot connect" in result.stderr
    assert "postgres://nobody@127.0.0.1:1/none" in result.stdout


def test_passwords_in_urls_are_masked(tmp_path):
    env = cli_env(tmp_path, ANWANG_EMAIL_URL="smtp://mailer:Hunter2-Secret@mail.example:587")
    result = run_cli("check-config", env=env, timeout=60)
    assert "Hunter2-Secret" not in result.stdout + result.stderr
    assert "smtp://mailer:****@mail.example:587" in result.stdout


# --- config-docs -----------------------------------------------------------------------------


def test_config_docs_lists_every_setting(capsys, tmp_path):
    assert main(["config-docs"]) == 0
    out = capsys.readouterr().out
    for name, info in AnwangSettings.model_fields.items():
        from anwang.cli import env_var_name

        assert f"`{env_var_name(name, info)}`" in out
        assert (info.description or "").split("`")[0][:30] in out
    target = tmp_path / "configuration.md"
    assert main(["config-docs", "--output", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == out


def test_committed_configuration_page_is_current():
    committed = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == config_markdown(), (
        "docs/configuration.md is stale: run `anwang config-docs --output docs/configuration.md`"
    )


# --- createadmin -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_createadmin_makes_an_audited_superuser(fast_passwords, capsys):
    from anwang.accounts.models import User
    from anwang.audit.models import AuditEvent

    code = main(["createadmin", "--username", "boss", "--password", "Sturdy-Password-77"])
    assert code == 0, capsys.readouterr().err
    user = User.objects.get(username="boss")
    assert user.is_superuser
    assert user.check_password("Sturdy-Password-77")
    entry = AuditEvent.objects.get(action="user.create")
    assert entry.channel == "cli"
    assert entry.object_id == str(user.pk)


@pytest.mark.django_db
def test_createadmin_refuses_a_weak_password(fast_passwords, capsys):
    from anwang.accounts.models import User

    assert main(["createadmin", "--username", "boss", "--password", "12345"]) == 1
    assert capsys.readouterr().err.startswith("anwang: ")
    assert not User.objects.filter(username="boss").exists()


@pytest.mark.django_db
def test_createadmin_asks_for_what_is_missing(fast_passwords, monkeypatch):
    from anwang.accounts.models import User

    monkeypatch.setattr("builtins.input", lambda prompt: "asked_boss")
    monkeypatch.setattr("getpass.getpass", lambda prompt: "Sturdy-Password-77")
    assert main(["createadmin"]) == 0
    assert User.objects.get(username="asked_boss").is_superuser


@pytest.mark.django_db
def test_createadmin_rejects_mismatched_passwords(fast_passwords, monkeypatch):
    answers = iter(["Sturdy-Password-77", "Other-Password-88"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    assert main(["createadmin", "--username", "boss"]) == 1


# --- tokens ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_token_create_prints_a_working_token_last(fast_passwords, world, capsys):
    from anwang.audit.models import AuditEvent

    args = ["token", "create", "--username", "a_auditor", "--community", "a", "--name", "ci"]
    assert main(args) == 0
    raw = capsys.readouterr().out.strip().splitlines()[-1]
    assert raw.startswith("aw_")
    response = Client().get("/api/v1/audit/events", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    assert AuditEvent.objects.get(action="api_token.create").channel == "cli"

    assert main(["token", "list", "--username", "a_auditor"]) == 0
    listing = capsys.readouterr().out
    assert raw[:10] in listing
    assert raw not in listing

    assert main(["token", "revoke", "--prefix", raw[:10]]) == 0
    capsys.readouterr()
    response = Client().get("/api/v1/audit/events", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 401
    assert main(["token", "revoke", "--prefix", raw[:10]]) == 1


@pytest.mark.django_db
def test_token_create_refuses_unknown_users_and_foreign_communities(fast_passwords, world, capsys):
    assert main(["token", "create", "--username", "nobody"]) == 1
    assert main(["token", "create", "--username", "a_auditor", "--community", "b"]) == 1
    assert main(["token", "create", "--username", "a_auditor", "--community", "zz"]) == 1
    err = capsys.readouterr().err
    assert "nobody" in err
    assert "zz" in err


# --- audit verify ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_audit_verify_exit_codes(capsys):
    from django.db import connection

    from anwang.audit.services import audit_record

    for index in range(3):
        audit_record(actor=None, action="probe.write", object_id=index)
    assert main(["audit", "verify"]) == 0
    assert capsys.readouterr().out.startswith("OK, 3 entries")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET object_id = 'x' WHERE seq = 2")
    assert main(["audit", "verify"]) == 1
    assert "#2" in capsys.readouterr().err


# --- the rest --------------------------------------------------------------------------------


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "demo" in capsys.readouterr().out


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert "anwang" in capsys.readouterr().out


@pytest.mark.django_db
def test_manage_passes_through_to_django(capsys):
    assert main(["manage", "check"]) == 0
    assert "no issues" in capsys.readouterr().out


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = folder / "cert.pem", folder / "key.pem"
    certfile.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certfile, keyfile


def test_serve_speaks_tls_with_a_certificate(tmp_path):
    certfile, keyfile = _self_signed(tmp_path)
    env = cli_env(tmp_path / "home")
    server = start_cli(
        "serve", "--port", "0", "--certfile", str(certfile), "--keyfile", str(keyfile), env=env
    )
    try:
        url = server.wait_for(r"serving on (https://127\.0\.0\.1:\d+/)").group(1)
        context = ssl.create_default_context(cafile=str(certfile))
        with urllib.request.urlopen(url + "healthz", context=context, timeout=30) as response:  # noqa: S310
            assert response.status == 200
            assert json.loads(response.read())["status"] == "ok"
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=30) == 0
    finally:
        server.stop()
    assert "not applied" in server.output()  # a fresh data folder: the operator is told


def test_serve_refuses_half_a_certificate(tmp_path):
    certfile, _keyfile = _self_signed(tmp_path)
    result = run_cli("serve", "--certfile", str(certfile), env=cli_env(tmp_path))
    assert result.returncode == 1
    assert "--keyfile" in result.stderr


def test_serve_reports_a_port_in_use(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--port", str(port), env=cli_env(tmp_path), timeout=60)
    assert result.returncode == 1
    assert "could not start" in result.stderr


def _children(pid: int) -> set[int]:
    """The processes a process started (Linux ``/proc``)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _web_processes(pid: int) -> set[int]:
    """The extra web processes of ``serve --workers`` (not multiprocessing's helper)."""
    found = set()
    for child in _children(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in command:
            found.add(child)
    return found


def _wait_until(condition: Any, timeout: float = 60) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_serve_runs_several_web_processes_and_stops_them_all(tmp_path):
    env = cli_env(tmp_path / "home")
    assert run_cli("migrate", env=env).returncode == 0
    server = start_cli("serve", "--port", "0", "--workers", "3", env=env)
    try:
        url = server.wait_for(r"serving on (http://127\.0\.0\.1:\d+/)").group(1)
        pid = server.process.pid
        _wait_until(lambda: len(_web_processes(pid)) == 2)
        first = _web_processes(pid)
        for _request in range(6):
            with urllib.request.urlopen(url + "healthz", timeout=30) as response:  # noqa: S310
                assert response.status == 200
        # A web process that dies is replaced.
        victim = min(first)
        import os

        os.kill(victim, signal.SIGKILL)
        server.wait_for(rf"web process {victim} ended .*starting another")
        _wait_until(lambda: len(_web_processes(pid) - {victim}) == 2)
        others = _web_processes(pid)
        for child in others:
            server.wait_for(rf"Started server process \[{child}\]")
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=60) == 0
        # Each stopped cleanly, the others before this one.
        server.wait_for(rf"Finished server process \[{pid}\]")
    finally:
        server.stop()
    assert not any(Path(f"/proc/{child}").exists() for child in others)
    for child in others:
        assert f"Finished server process [{child}]" in server.output()


def test_serve_needs_at_least_one_web_process(tmp_path):
    result = run_cli("serve", "--workers", "0", env=cli_env(tmp_path))
    assert result.returncode == 1
    assert "--workers" in result.stderr


def test_demo_worker_without_a_broker_says_so(monkeypatch, capsys):
    from anwang import cli
    from anwang.events import worker

    monkeypatch.setattr(worker, "broker_reachable", lambda address, timeout=1.0: False)
    local = cli._demo_worker()
    assert local.mode == "local"
    assert "No MQTT broker reachable at mqtt://127.0.0.1:1883" in capsys.readouterr().out
    monkeypatch.setattr(worker, "broker_reachable", lambda address, timeout=1.0: True)
    on_broker = cli._demo_worker()
    assert (on_broker.mode, on_broker.client_id) == ("mqtt", "anwang-demo")
    assert "Event worker: MQTT mqtt://127.0.0.1:1883" in capsys.readouterr().out


def test_worker_command_refuses_an_unmigrated_database(tmp_path):
    result = run_cli("worker", env=cli_env(tmp_path))
    assert result.returncode == 1
    assert "anwang migrate" in result.stderr


def test_worker_command_runs_without_a_broker_and_stops_cleanly(tmp_path):
    env = cli_env(tmp_path)
    assert run_cli("migrate", "-v", "0", env=env).returncode == 0
    worker = start_cli("worker", env=env)
    try:
        worker.wait_for(r"ANWANG_MQTT_URL is not set")
        # Logged once the worker runs (and Ctrl-C / SIGTERM are handled).
        worker.wait_for(r"Worker anwang-worker: no MQTT broker")
        worker.process.send_signal(signal.SIGTERM)
        assert worker.process.wait(timeout=30) == 0
    finally:
        worker.stop()
    assert "Traceback" not in worker.output()


def test_socket_of_several_web_processes_sends_without_nagle_delay():
    """The sockets ``serve --workers`` binds say they are TCP, so asyncio switches Nagle's
    algorithm off on its connections: with it on, every keep-alive response waited for the
    client's delayed ACK (about 40 ms a request)."""
    import asyncio
    import socket

    from anwang.cli import WebServer

    server = WebServer(host="127.0.0.1", port=0, workers=2)
    sock = server._bind(0)
    nodelay: list[int] = []

    async def accept_one() -> None:
        def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            raw = writer.get_extra_info("socket")
            nodelay.append(raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        listening = await asyncio.start_server(connected, sock=sock)
        port = sock.getsockname()[1]
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(100):
            if nodelay:
                break
            await asyncio.sleep(0.01)
        writer.close()
        listening.close()
        await listening.wait_closed()

    try:
        assert sock.proto == socket.IPPROTO_TCP
        asyncio.run(accept_one())
    finally:
        sock.close()
    assert nodelay
    assert nodelay[0] != 0


@pytest.mark.skipif(not BALANCED_SOCKETS, reason="the kernel shares connections out on Linux")
def test_each_web_process_has_a_socket_of_its_own_and_connections_are_shared_out():
    """On one shared socket, a burst of keep-alive connections could all go to one process
    while the other stood idle; with a socket each on the same port the kernel shares them
    out."""
    import socket

    from anwang.cli import WebServer

    server = WebServer(host="127.0.0.1", port=0, workers=2)
    first = server._bind(0)
    port = first.getsockname()[1]
    second = server._bind(port)
    clients: list[socket.socket] = []
    try:
        for listening in (first, second):
            listening.listen(64)
            listening.setblocking(False)
        for _ in range(40):
            clients.append(socket.create_connection(("127.0.0.1", port)))
        accepted = []
        for listening in (first, second):
            count = 0
            with contextlib.suppress(BlockingIOError):
                while True:
                    connection, _address = listening.accept()
                    connection.close()
                    count += 1
            accepted.append(count)
    finally:
        for sock in (*clients, first, second):
            sock.close()
    assert sum(accepted) == 40
    assert min(accepted) >= 5, accepted


def test_a_web_process_loads_the_urls_and_compiles_every_template_before_it_listens():
    from django.template.loader import get_template

    from anwang.cli import _warm_up

    _warm_up()  # a template that does not compile would stop the server here, not a person
    compiled = get_template("alarms/console.html").template  # type: ignore[attr-defined]
    assert get_template("alarms/console.html").template is compiled  # type: ignore[attr-defined]
