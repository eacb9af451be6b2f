"""Django settings, derived entirely from :class:`anwang.config.AnwangSettings`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
from django.utils.translation import gettext_lazy as _

from anwang.config import get_settings

CONFIG = get_settings()
PACKAGE_DIR = Path(__file__).resolve().parent.parent
HOME = CONFIG.home

SECRET_KEY = CONFIG.resolved_secret_key()
DEBUG = CONFIG.debug
ALLOWED_HOSTS = [host.strip() for host in CONFIG.allowed_hosts.split(",") if host.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in CONFIG.csrf_trusted_origins.split(",") if o.strip()]
ANWANG_ENCRYPTION_KEYS = CONFIG.resolved_encryption_keys()
ANWANG_INDEX_KEY = CONFIG.resolved_index_key()

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Listed so the API docs page uses ninja's bundled Swagger UI instead of a CDN.
    "ninja",
    "anwang.core",
    "anwang.accounts",
    "anwang.audit",
    "anwang.places",
    "anwang.people",
    "anwang.devices",
    "anwang.events",
    "anwang.rules",
    "anwang.alarms",
    "anwang.patrols",
    "anwang.participation",
    "anwang.volunteers",
    "anwang.training",
    "anwang.hazards",
    "anwang.facilities",
    "anwang.inspections",
    "anwang.rosters",
    "anwang.responsibilities",
    "anwang.plans",
    "anwang.incidents",
    "anwang.notifications",
    "anwang.alerts",
    "anwang.access",
    "anwang.welfare",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "anwang.accounts.middleware.IdleTimeoutMiddleware",
    "anwang.core.middleware.RequestContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "anwang.project.urls"
ASGI_APPLICATION = "anwang.project.asgi.application"
WSGI_APPLICATION = "anwang.project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "anwang.core.context_processors.anwang",
            ],
        },
    },
]


SQLITE_ENGINE = "anwang.core.backends.sqlite3"
"""Django's SQLite backend keeping closed connections for the next request (see there)."""
POSTGRESQL_POOL = {"min_size": 1, "max_size": 16, "timeout": 20}
"""Connections each process keeps to PostgreSQL (psycopg-pool through Django). A web process's
live streams hold four for good (``anwang.core.live.DB_THREADS``); requests borrow the rest
and wait up to ``timeout`` seconds when all are busy."""


def _database() -> dict[str, Any]:
    if CONFIG.database_url:
        # No persistent connections (CONN_MAX_AGE 0): Django's ASGI handler runs each request
        # on a thread of its own, where a connection kept per thread is never used again.
        # Closed connections go back to a pool instead, which any thread can take them from.
        database: dict[str, Any] = dict(dj_database_url.parse(CONFIG.database_url, conn_max_age=0))
        if database["ENGINE"].endswith("sqlite3"):
            database["ENGINE"] = SQLITE_ENGINE
            database["OPTIONS"] = _sqlite_options()
        elif database["ENGINE"].endswith("postgresql"):
            database.setdefault("OPTIONS", {})["pool"] = dict(POSTGRESQL_POOL)
        return database
    HOME.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": SQLITE_ENGINE,
        "NAME": HOME / "anwang.sqlite3",
        "OPTIONS": _sqlite_options(),
        "TEST": {"NAME": ":memory:"},
    }


def _sqlite_options() -> dict[str, Any]:
    # IMMEDIATE transactions take the write lock up front, so two writers never both read the
    # audit chain head and then fail to upgrade (SQLITE_BUSY_SNAPSHOT under WAL).
    return {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA foreign_keys=ON;",
    }


DATABASES = {"default": _database()}

# In the data folder, not in each process's memory: the web processes of ``serve --workers``
# and the worker are one site. A console page kept by one web process is served by the others
# (a browser's connections, and its reloads, land on any of them), a WeChat access token fetched
# by one is used by all (fetching another ends the first), and the access anomaly state is one.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": HOME / "cache",
        "OPTIONS": {"MAX_ENTRIES": 2000},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 12 * 3600
ANWANG_SESSION_IDLE_SECONDS = CONFIG.session_idle_minutes * 60
ANWANG_LOCKOUT_FAILURES = CONFIG.lockout_failures
ANWANG_LOCKOUT_WINDOW_SECONDS = CONFIG.lockout_window_minutes * 60
ANWANG_MAP_TILE_URL = CONFIG.map_tile_url
ANWANG_SIGNUPS_PER_HOUR = CONFIG.signups_per_hour
ANWANG_MAP_TILE_CRS = CONFIG.map_tile_crs
ANWANG_PUBLIC_URL = CONFIG.public_url.rstrip("/")
ANWANG_CAP_SENDER = CONFIG.cap_sender.strip()
ANWANG_PASS_SIGNING_KEY = CONFIG.pass_signing_key
ANWANG_ACCESS_RETENTION_DAYS = CONFIG.access_retention_days
ANWANG_INGEST_MAX_BYTES = CONFIG.ingest_max_bytes

LANGUAGE_CODE = CONFIG.language
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "anwang_language"
TIME_ZONE = CONFIG.time_zone
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = HOME / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = HOME / "media"
# Static files are served from the installed package, so the demo needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

DEFAULT_FROM_EMAIL = CONFIG.email_from


def _email() -> dict[str, Any]:
    url = CONFIG.email_url
    if url.startswith("console:"):
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    from urllib.parse import unquote, urlparse

    parsed = urlparse(url)
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parsed.hostname or "localhost",
        "EMAIL_PORT": parsed.port or (465 if parsed.scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parsed.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parsed.password or ""),
        "EMAIL_USE_SSL": parsed.scheme == "smtps",
        "EMAIL_USE_TLS": parsed.scheme == "smtp" and parsed.port == 587,
    }


globals().update(_email())

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
