"""The worker over TLS (``mqtts://`` with ``ANWANG_MQTT_CA_FILE``) through a real Mosquitto.

The broker runs the shipped configuration with its listener switched to TLS, with a
certificate from a throw-away certificate authority made here. Enough messages are published
that the worker's read-ahead socket (which wraps paho's TLS socket) serves many messages per
read and splits packets across reads.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from paho.mqtt.enums import CallbackAPIVersion

from anwang.devices.choices import DeviceKind, DeviceStatus, Protocol
from anwang.devices.models import Device
from anwang.devices.services import device_create
from anwang.events.models import DeviceEvent
from tests.services.conftest import under_ci
from tests.services.mosquitto import (
    Broker,
    BrokerUnavailableError,
    MosquittoMissingError,
    TlsFiles,
    private_broker,
)
from tests.services.worker_support import WorkerThread, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

MESSAGES = 1500


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def make_tls_files(directory: Path) -> TlsFiles:
    """A certificate authority and a broker certificate for 127.0.0.1 signed by it."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Anwang test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(
        ca_file=directory / "ca.pem",
        cert_file=directory / "broker.pem",
        key_file=directory / "broker.key",
    )
    files.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    _write_key(key, files.key_file)
    return files


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[tuple[Broker, TlsFiles]]:
    """A private broker with the shipped configuration, TLS only."""
    files = make_tls_files(tmp_path / "tls")
    try:
        with private_broker(tmp_path / "broker", tls=files) as broker:
            yield broker, files
    except MosquittoMissingError as error:
        if under_ci():
            pytest.fail(f"{error}; CI needs it", pytrace=False)
        pytest.skip(str(error))
    except BrokerUnavailableError as error:
        pytest.fail(str(error), pytrace=False)


def test_the_worker_stores_everything_over_tls(
    world: Any, tls_broker: tuple[Broker, TlsFiles]
) -> None:
    broker, files = tls_broker
    community = world.a.community
    door = device_create(
        actor=world.user("community_admin"),
        community=community,
        name="北门门禁",
        kind=DeviceKind.ACCESS_READER,
        protocol=Protocol.ANWANG,
        source_id="gate-north",
    )
    worker = WorkerThread(
        None,
        mqtt_url=(f"mqtts://{broker.username}:{broker.password}@{broker.host}:{broker.port}"),
        ca_file=str(files.ca_file),
    )
    worker.start()
    publisher = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id="test-tls-publisher",
        protocol=mqtt.MQTTv311,
    )
    publisher.tls_set(ca_certs=str(files.ca_file), cert_reqs=ssl.CERT_REQUIRED)
    publisher.username_pw_set(broker.publisher_username, broker.publisher_password)
    publisher.max_inflight_messages_set(1000)
    publisher.connect(broker.host, broker.port)
    publisher.loop_start()
    try:
        infos = []
        for number in range(MESSAGES):
            event = {
                "schema_version": 1,
                "device": "gate-north",
                "kind": "access",
                "event_id": str(number),
                # Messages of varied length, so packets straddle the worker's reads.
                "data": {"result": "granted", "card_no": "9" * (number % 97)},
            }
            infos.append(
                publisher.publish(
                    f"anwang/{community.slug}/gate-north/event", json.dumps(event), qos=1
                )
            )
        for info in infos:
            info.wait_for_publish(timeout=20)
        wait_until(
            lambda: DeviceEvent.objects.filter(device=door).count() >= MESSAGES,
            "every message stored",
        )
        numbers = sorted(
            int(key)
            for key in DeviceEvent.objects.filter(device=door).values_list("edge_key", flat=True)
        )
        assert numbers == list(range(MESSAGES))
        link = worker.worker.link
        assert link is not None
        assert link.connected
        assert Device.objects.get(pk=door.pk).status == DeviceStatus.ONLINE
    finally:
        publisher.disconnect()
        publisher.loop_stop()
        worker.stop()
