"""One typed settings model for Anwang, read from the environment (12-factor).

Every setting has a default and a description; ``anwang check-config`` validates them and
``docs/configuration.md`` is generated from this model (``anwang config-docs``).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_home() -> Path:
    """The data folder: ``$ANWANG_HOME`` or ``./anwang-data``."""
    return Path(os.environ.get("ANWANG_HOME") or "anwang-data").resolve()


class AnwangSettings(BaseSettings):
    """Anwang's configuration. Environment variables are the field names in capitals, prefixed
    with ``ANWANG_`` (``DATABASE_URL`` is also read without the prefix)."""

    model_config = SettingsConfigDict(env_prefix="ANWANG_", extra="forbid", frozen=True)

    home: Path = Field(
        default_factory=default_home,
        description="Data folder: SQLite database, media files and generated keys.",
    )
    database_url: str = Field(
        default="",
        validation_alias="DATABASE_URL",
        description="Database URL. Empty means the embedded SQLite file `<home>/anwang.sqlite3`; "
        "`postgres://user@host:5432/name` uses PostgreSQL.",
    )
    debug: bool = Field(default=False, description="Django debug mode. Never in production.")
    secret_key: str = Field(
        default="",
        description="Django secret key. Empty: one is generated once into `<home>/secret.key`.",
    )
    encryption_keys: str = Field(
        default="",
        description="Comma-separated Fernet keys for personal data at rest, newest first "
        "(older keys only decrypt, which allows key rotation). Empty means one is generated "
        "once into `<home>/encryption.key`; keep a copy of it apart from backups.",
    )
    index_key: str = Field(
        default="",
        description="Secret for the blind indexes that find encrypted ID and phone numbers by "
        "exact "
        "value. It stays the same when encryption keys rotate. Empty means one is generated once "
        "into `<home>/index.key`; keep a copy of it with the encryption keys.",
    )
    allowed_hosts: str = Field(
        default="127.0.0.1,localhost,[::1]",
        description="Comma-separated host names the web server answers to.",
    )
    csrf_trusted_origins: str = Field(
        default="",
        description="Comma-separated origins (scheme://host:port) trusted for HTTPS form posts "
        "behind a reverse proxy.",
    )
    time_zone: str = Field(default="Asia/Shanghai", description="Time zone for display.")
    language: str = Field(
        default="zh-hans", description="Default interface language: `zh-hans` or `en`."
    )
    session_idle_minutes: int = Field(
        default=30, ge=1, le=24 * 60, description="Log a person out after this many idle minutes."
    )
    lockout_failures: int = Field(
        default=5, ge=1, description="Failed logins that lock an account or client address."
    )
    lockout_window_minutes: int = Field(
        default=15, ge=1, description="Window in which failed logins are counted, and lock time."
    )
    signups_per_hour: int = Field(
        default=5,
        ge=0,
        description="Resident sign-ups allowed per client address per hour (0 turns sign-up off).",
    )
    map_tile_url: str = Field(
        default="",
        description="Optional base-map tile URL template (`https://.../{z}/{x}/{y}.png`). Empty "
        "draws buildings and zones without a base map, which works offline.",
    )
    map_tile_crs: str = Field(
        default="wgs84",
        description="Coordinate system of the tile server: `wgs84`, `gcj02` (AMap, Tencent) or "
        "`bd09` (Baidu). Shapes are converted from WGS84 only for drawing.",
    )
    email_url: str = Field(
        default="console:",
        description="Outgoing mail: `console:` prints mail to the log; "
        "`smtp://user:password@host:port` or `smtps://...` sends it.",
    )
    email_from: str = Field(
        default="anwang@localhost", description="Sender address of outgoing mail."
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Address people use to reach this server; used in emailed links.",
    )
    pass_signing_key: str = Field(
        default="",
        description="Ed25519 private key (PEM) that signs visitor passes; gate devices verify "
        "passes offline with its public key (`/api/v1/access/passes/public-key`). Empty: one is "
        "generated once into `<home>/pass-signing.key`.",
    )
    access_retention_days: int = Field(
        default=180,
        ge=1,
        description="Days access records (door and gate passages), gate-log entries and ended "
        "visitor passes are kept; older ones are deleted once a day by the worker, and each "
        "purge is audited.",
    )
    cap_sender: str = Field(
        default="",
        description="The `<sender>` of the CAP documents of our safety alerts, unique to this "
        "installation (an address such as `alerts@community.example.cn`). Empty: "
        "`anwang@<host of public_url>`.",
    )

    mqtt_url: str = Field(
        default="",
        description="MQTT broker the worker subscribes to: `mqtt://user:password@host:1883`, or "
        "`mqtts://...:8883` for TLS. Empty: the worker takes HTTP and in-process input only.",
    )
    mqtt_ca_file: str = Field(
        default="",
        description="CA certificate file for `mqtts://` brokers; empty uses the system's "
        "trusted certificates.",
    )
    mqtt_client_id: str = Field(
        default="anwang-worker",
        description="MQTT client id of the worker. The broker keeps this id's persistent "
        "session (its unacknowledged messages) while the worker is down; give each worker of a "
        "deployment its own.",
    )
    mqtt_topics: str = Field(
        default="zigbee2mqtt/#,frigate/#,anwang/+/+/event",
        description="Comma-separated topic filters the worker subscribes to with QoS 1.",
    )
    worker_batch_size: int = Field(
        default=500,
        ge=1,
        le=5000,
        description="Most messages the worker stores in one transaction.",
    )
    worker_batch_ms: int = Field(
        default=5,
        ge=0,
        le=5000,
        description=(
            "How long the worker lets a batch fill, counted from its oldest message, in ms."
        ),
    )
    ingest_max_bytes: int = Field(
        default=2 * 1024 * 1024,
        ge=1024,
        description="Largest body accepted by HTTP ingestion (`/api/v1/ingest/...`), in bytes; "
        "camera posts with JPEG parts need room.",
    )

    @field_validator("mqtt_url")
    @classmethod
    def _known_broker(cls, value: str) -> str:
        if value and not value.startswith(("mqtt://", "mqtts://")):
            raise ValueError("mqtt_url must start with mqtt:// or mqtts://")
        return value

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in {"zh-hans", "en"}:
            raise ValueError("language must be 'zh-hans' or 'en'")
        return value

    @field_validator("map_tile_crs")
    @classmethod
    def _known_crs(cls, value: str) -> str:
        if value not in {"wgs84", "gcj02", "bd09"}:
            raise ValueError("map_tile_crs must be 'wgs84', 'gcj02' or 'bd09'")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("postgres://", "postgresql://", "sqlite://")):
            raise ValueError("DATABASE_URL must start with postgres://, postgresql:// or sqlite://")
        return value

    def resolved_secret_key(self) -> str:
        """The configured secret key, or the one generated once into the data folder."""
        if self.secret_key:
            return self.secret_key
        return _key_file(self.home / "secret.key", lambda: secrets.token_urlsafe(50))

    def resolved_encryption_keys(self) -> list[str]:
        """Configured Fernet keys, or the one generated once into the data folder."""
        if self.encryption_keys:
            return [key.strip() for key in self.encryption_keys.split(",") if key.strip()]
        generated = _key_file(self.home / "encryption.key", lambda: Fernet.generate_key().decode())
        return [generated]

    def resolved_index_key(self) -> str:
        """The configured blind-index key, or the one generated once into the data folder."""
        if self.index_key:
            return self.index_key
        return _key_file(self.home / "index.key", lambda: secrets.token_urlsafe(32))


def _key_file(path: Path, make: Callable[[], str]) -> str:
    """Read a key file, creating it (owner-readable only) the first time."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value


@lru_cache(maxsize=1)
def get_settings() -> AnwangSettings:
    """The process-wide settings, read once."""
    return AnwangSettings()
