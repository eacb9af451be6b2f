"""Backup and restore: one archive with the database rows, the media files and a manifest.

The archive (``.tar.gz``) holds

- ``manifest.json``: format version, Anwang version, time, database vendor, the applied
  migrations, every table with its columns, row count and checksum, the media files, the
  audit chain head, and the *fingerprints* of the encryption keys. The keys themselves are
  never in the archive: whoever holds a backup must not be able to read ID and phone numbers.
- ``db/<table>.jsonl``: the rows of each table as stored, one JSON object a line. Rows are read
  raw (no model ``from_db_value``), so encrypted columns stay encrypted. Values are written in
  a vendor-neutral form (ISO dates, decimal strings, base64 bytes), so a SQLite backup restores
  into PostgreSQL and back.
- ``media/...``: the uploaded files.

Restore works into an empty database only. It first builds the schema exactly as it was when
the backup was made (the migrations recorded in the manifest), loads the rows, then migrates
forward, so a backup made by an older Anwang restores into a newer one. Finally it verifies the
audit chain.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from django.apps import apps as global_apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.graph import MigrationGraph
from django.db.migrations.loader import MigrationLoader
from django.db.models import Field, Model
from django.utils import timezone

from anwang import __version__
from anwang.core.crypto import key_fingerprint

FORMAT = "anwang-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BATCH = 500

# Tables that a fresh, migrated database already fills (content types, permissions, the audit
# chain's head row) or that hold nothing worth keeping (sessions, failed logins). Rows in them
# do not make a database "in use"; they are replaced by the archive's rows.
SEEDED_MODELS = (
    "contenttypes.ContentType",
    "auth.Permission",
    "audit.AuditChainHead",
    "sessions.Session",
    "accounts.LoginFailure",
)

Progress = Callable[[str], None]
Migration = tuple[str, str]


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    """A written archive and its manifest."""

    path: Path
    manifest: dict[str, Any]


@dataclass(frozen=True)
class RestoreResult:
    """What a restore loaded, and whether the restored audit chain verifies."""

    manifest: dict[str, Any]
    rows: dict[str, int]
    media_files: int
    chain_ok: bool
    chain_checked: int
    chain_reason: str = ""
    warnings: list[str] = field(default_factory=list)


def _quiet(message: str) -> None:
    """Progress sink that says nothing."""


# --- the schema as the migrations describe it -------------------------------------------------


def _app_leaves(graph: MigrationGraph, nodes: Iterable[Migration]) -> dict[str, str]:
    """The last migration of each app within a set of applied migrations."""
    applied = set(nodes)
    leaves: dict[str, str] = {}
    for app_label, name in applied:
        children = graph.node_map[(app_label, name)].children
        if not any(child[0] == app_label and child in applied for child in children):
            leaves[app_label] = name
    return leaves


def _state_models(loader: MigrationLoader, leaves: dict[str, str]) -> list[type[Model]]:
    """The models (historical versions) of the schema at the given migrations, each table
    once, ordered so that a table comes after the tables it references."""
    if not leaves:
        return []
    state = loader.project_state(nodes=sorted(leaves.items()), at_end=True)
    found: dict[str, type[Model]] = {}
    for model in state.apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.swapped:
            continue
        found.setdefault(meta.db_table, model)
    return _dependency_order(list(found.values()))


def _dependency_order(models: list[type[Model]]) -> list[type[Model]]:
    """Models sorted so referenced tables come first (cycles keep their given order)."""
    by_table = {model._meta.db_table: model for model in models}
    depends: dict[str, set[str]] = {}
    for table, model in by_table.items():
        targets = set()
        for model_field in model._meta.local_concrete_fields:
            remote = getattr(model_field, "remote_field", None)
            if remote is not None and getattr(remote, "model", None) is not None:
                target_table = remote.model._meta.db_table
                if target_table != table and target_table in by_table:
                    targets.add(target_table)
        depends[table] = targets
    ordered: list[str] = []
    placed: set[str] = set()
    pending = sorted(by_table)
    while pending:
        ready = [table for table in pending if depends[table] <= placed]
        if not ready:  # a reference cycle: constraints are checked at commit, so any order
            ready = [pending[0]]
        for table in ready:
            ordered.append(table)
            placed.add(table)
        pending = [table for table in pending if table not in placed]
    return [by_table[table] for table in ordered]


def _applied_migrations(connection: BaseDatabaseWrapper) -> tuple[MigrationLoader, set[Migration]]:
    """The loader and the migrations applied to this database that this code knows."""
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    applied = {node for node in loader.applied_migrations if node in loader.graph.nodes}
    return loader, applied


# --- values -----------------------------------------------------------------------------------


def _to_json(value: Any) -> Any:
    """A database value in the archive's vendor-neutral form."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dt.timedelta):
        return (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


def _from_json(model_field: Field[Any, Any], value: Any, connection: BaseDatabaseWrapper) -> Any:
    """An archived value as the target database driver takes it for this column."""
    if value is None:
        return None
    ops, features = connection.ops, connection.features
    kind = model_field.get_internal_type()
    if kind == "DateTimeField":
        moment = dt.datetime.fromisoformat(value)
        if settings.USE_TZ and timezone.is_naive(moment):
            moment = timezone.make_aware(moment, dt.UTC)
        return ops.adapt_datetimefield_value(moment)
    if kind == "DateField":
        return ops.adapt_datefield_value(dt.date.fromisoformat(value))
    if kind == "TimeField":
        return ops.adapt_timefield_value(dt.time.fromisoformat(value))
    if kind == "DecimalField":
        return ops.adapt_decimalfield_value(
            decimal.Decimal(str(value)),
            getattr(model_field, "max_digits", None),
            getattr(model_field, "decimal_places", None),
        )
    if kind == "UUIDField":
        parsed = uuid.UUID(str(value))
        return parsed if features.has_native_uuid_field else parsed.hex
    if kind == "BinaryField":
        return base64.b64decode(value)
    if kind == "DurationField":
        return dt.timedelta(microseconds=value) if features.has_native_duration_field else value
    if kind == "JSONField":
        # Stored and archived as JSON text; PostgreSQL's jsonb wants it adapted.
        if connection.vendor == "postgresql":
            return ops.adapt_json_value(json.loads(value), getattr(model_field, "encoder", None))
        return value
    if kind in {"GenericIPAddressField", "IPAddressField"}:
        return ops.adapt_ipaddressfield_value(value)
    if kind == "BooleanField":
        return bool(value)
    return value


# --- backup -----------------------------------------------------------------------------------


def _dump_table(
    connection: BaseDatabaseWrapper, model: type[Model], target: Path
) -> tuple[list[str], int, str]:
    """Write one table's rows, raw, to a JSON Lines file; returns columns, rows, checksum."""
    meta = model._meta
    fields = list(meta.local_concrete_fields)
    columns = [model_field.column for model_field in fields]
    cols = [model_field.get_col(meta.db_table) for model_field in fields]
    converters = [connection.ops.get_db_converters(col) for col in cols]
    quote = connection.ops.quote_name
    sql = "SELECT {} FROM {} ORDER BY {}".format(  # noqa: S608 - identifiers from model metadata
        ", ".join(quote(column) for column in columns),
        quote(meta.db_table),
        quote(meta.pk.column) if meta.pk is not None else "1",
    )
    digest = hashlib.sha256()
    rows = 0
    with target.open("wb") as handle, connection.cursor() as cursor:
        cursor.execute(sql)
        while batch := cursor.fetchmany(2000):
            for raw in batch:
                record = {}
                for column, col, value, field_converters in zip(
                    columns, cols, raw, converters, strict=True
                ):
                    # Only the backend's converters run (text to datetime, 0/1 to bool), never
                    # the field's own from_db_value, which would decrypt personal data.
                    for converter in field_converters:
                        value = converter(value, col, connection)
                    record[column] = _to_json(value)
                line = (
                    json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
                ).encode()
                digest.update(line)
                handle.write(line)
                rows += 1
    return columns, rows, digest.hexdigest()


def _file_digest(path: Path) -> str:
    """The SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _media_files(root: Path) -> list[Path]:
    """Every regular file under the media folder."""
    if not root.is_dir():
        return []
    return sorted(path for path in root.rglob("*") if path.is_file() and not path.is_symlink())


def _audit_head(connection: BaseDatabaseWrapper) -> dict[str, Any]:
    """The audit chain's head and entry count as stored."""
    from anwang.audit.models import AuditChainHead, AuditEvent

    head = AuditChainHead.objects.using(connection.alias).filter(pk=1).first()
    return {
        "entries": AuditEvent.objects.using(connection.alias).count(),
        "head_seq": head.seq if head else 0,
        "head_hash": head.hash if head else "",
    }


def backup_create(
    path: Path, *, using: str = DEFAULT_DB_ALIAS, progress: Progress = _quiet
) -> BackupResult:
    """Write the database, the media files and a manifest to one ``.tar.gz`` archive."""
    connection = connections[using]
    path = Path(path).resolve()
    if path.exists() and path.is_dir():
        raise BackupError(f"{path} is a folder; give the name of the archive to write")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="anwang-backup-") as workdir:
        work = Path(workdir)
        (work / "db").mkdir()
        tables: list[dict[str, Any]] = []
        with transaction.atomic(using=using):
            if connection.vendor == "postgresql" and not connection.savepoint_ids:
                # Every table read from one snapshot, while the application keeps writing.
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            loader, applied = _applied_migrations(connection)
            if not applied:
                raise BackupError("the database has no tables yet; run `anwang migrate` first")
            models = _state_models(loader, _app_leaves(loader.graph, applied))
            existing = set(connection.introspection.table_names())
            for model in models:
                table = model._meta.db_table
                if table not in existing:
                    continue
                file_name = f"db/{table}.jsonl"
                columns, rows, digest = _dump_table(connection, model, work / file_name)
                tables.append(
                    {
                        "table": table,
                        "model": model._meta.label_lower,
                        "file": file_name,
                        "columns": columns,
                        "rows": rows,
                        "sha256": digest,
                    }
                )
                progress(f"{table}: {rows} rows")
            audit = _audit_head(connection)
        media_root = Path(settings.MEDIA_ROOT)
        media: list[dict[str, Any]] = [
            {
                "path": file.relative_to(media_root).as_posix(),
                "size": file.stat().st_size,
                "sha256": _file_digest(file),
            }
            for file in _media_files(media_root)
        ]
        fingerprints = [key_fingerprint(key) for key in settings.ANWANG_ENCRYPTION_KEYS]
        index_fingerprint = key_fingerprint(settings.ANWANG_INDEX_KEY)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "anwang_version": __version__,
            "created_at": timezone.now().astimezone(dt.UTC).isoformat(),
            "database": {"vendor": connection.vendor},
            "migrations": sorted([app, name] for app, name in applied),
            "tables": tables,
            "media": {
                "files": len(media),
                "bytes": sum(item["size"] for item in media),
                "items": media,
            },
            "encryption": {
                "key_fingerprints": fingerprints,
                "index_key_fingerprint": index_fingerprint,
                "note": "The keys are not in this archive. Restoring needs the encryption key "
                f"with fingerprint {fingerprints[0]} (ANWANG_ENCRYPTION_KEYS or "
                "<home>/encryption.key) and the blind-index key with fingerprint "
                f"{index_fingerprint} (ANWANG_INDEX_KEY or <home>/index.key).",
            },
            "audit": audit,
        }
        partial = path.with_name(path.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
            data = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mtime = int(timezone.now().timestamp())
            info.mode = 0o600
            archive.addfile(info, io.BytesIO(data))
            for entry in tables:
                archive.add(work / entry["file"], arcname=entry["file"], recursive=False)
            for item in media:
                archive.add(media_root / item["path"], arcname=f"media/{item['path']}")
        partial.replace(path)
    progress(f"wrote {path}")
    return BackupResult(path=path, manifest=manifest)


# --- restore ----------------------------------------------------------------------------------


def _safe_member_path(root: Path, name: str) -> Path:
    """Where an archive member goes, refusing names that would leave the folder."""
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise BackupError(f"the archive contains an unsafe path: {name!r}")
    target = (root / Path(*relative.parts)).resolve()
    if not target.is_relative_to(root.resolve()):
        raise BackupError(f"the archive contains an unsafe path: {name!r}")
    return target


def _extract(path: Path, work: Path) -> dict[str, Any]:
    """Unpack an archive safely (regular files only) and return its checked manifest."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist")
    try:
        with tarfile.open(path, mode="r:*") as archive:
            for member in archive:
                if member.isdir():
                    continue
                if not member.isfile():
                    raise BackupError(f"the archive contains a link or device: {member.name!r}")
                target = _safe_member_path(work, member.name)
                target.parent.mkdir(parents=True, exist_ok=True)
                source = archive.extractfile(member)
                assert source is not None
                with source, target.open("wb") as handle:
                    shutil.copyfileobj(source, handle)
    except (tarfile.TarError, EOFError, OSError) as error:
        raise BackupError(f"{path} is not a readable Anwang backup: {error}") from error
    manifest_path = work / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"{path} has no {MANIFEST}: not an Anwang backup")
    manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not an Anwang backup")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{path} has backup format {manifest.get('format_version')}; this Anwang "
            f"({__version__}) reads format {FORMAT_VERSION}"
        )
    for table in manifest["tables"]:
        file = _safe_member_path(work, table["file"])
        if not file.is_file() or _file_digest(file) != table["sha256"]:
            raise BackupError(f"{table['file']} in the archive is missing or damaged")
    for item in manifest["media"]["items"]:
        file = _safe_member_path(work / "media", item["path"])
        if not file.is_file() or _file_digest(file) != item["sha256"]:
            raise BackupError(f"media file {item['path']} in the archive is missing or damaged")
    return manifest


def backup_read_manifest(path: Path) -> dict[str, Any]:
    """The checked manifest of an archive (every file's checksum is verified)."""
    with tempfile.TemporaryDirectory(prefix="anwang-restore-") as workdir:
        return _extract(Path(path), Path(workdir))


def _check_keys(manifest: dict[str, Any]) -> None:
    """Refuse unless the configured keys can read the archive's personal data and find it by
    its blind indexes."""
    needed: list[str] = manifest["encryption"]["key_fingerprints"]
    index_needed = manifest["encryption"].get("index_key_fingerprint")
    index_configured = key_fingerprint(settings.ANWANG_INDEX_KEY)
    if index_needed and index_needed != index_configured:
        raise BackupError(
            "the blind-index key does not match the backup: it needs the index key whose "
            f"fingerprint is {index_needed}; the configured one's is {index_configured}. Install "
            "the index key the backup was made with (ANWANG_INDEX_KEY, <home>/index.key or "
            "`anwang restore --index-key-file`) and restore again."
        )
    configured = [key_fingerprint(key) for key in settings.ANWANG_ENCRYPTION_KEYS]
    missing = [fingerprint for fingerprint in needed if fingerprint not in configured]
    if missing or configured[0] != needed[0]:
        raise BackupError(
            "the encryption key does not match the backup. The backup's personal data is "
            f"encrypted with the key whose fingerprint is {needed[0]}"
            + (f" (older keys: {', '.join(needed[1:])})" if needed[1:] else "")
            + f"; the configured key's fingerprint is {configured[0]}. Install the key the "
            "backup was made with (ANWANG_ENCRYPTION_KEYS, <home>/encryption.key or "
            "`anwang restore --key-file`) and restore again."
        )


def _seeded_tables() -> set[str]:
    """Tables a migrated but unused database may already fill."""
    tables = set()
    for label in SEEDED_MODELS:
        try:
            tables.add(global_apps.get_model(label)._meta.db_table)
        except LookupError:
            continue
    return tables


def database_in_use(using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Tables that hold data (so the database is not a fresh one); empty if it is fresh."""
    connection = connections[using]
    skip = _seeded_tables() | {"django_migrations"}
    quote = connection.ops.quote_name
    used = []
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            if table in skip:
                continue
            cursor.execute(f"SELECT 1 FROM {quote(table)} LIMIT 1")  # noqa: S608 - introspected
            if cursor.fetchone() is not None:
                used.append(table)
    return used


def _migration_targets(
    loader: MigrationLoader, recorded: list[list[str]]
) -> list[tuple[str, str | None]]:
    """Per app, the migration the backup's database had reached (``None``: not migrated)."""
    nodes = {(app, name) for app, name in recorded}
    unknown = sorted(node for node in nodes if node not in loader.graph.nodes)
    if unknown:
        names = ", ".join(f"{app}.{name}" for app, name in unknown[:5])
        raise BackupError(
            f"the backup was made by a newer or different Anwang (unknown migrations: {names}); "
            "install that version or a newer one, then restore"
        )
    leaves = _app_leaves(loader.graph, nodes)
    return [(app, leaves.get(app)) for app in sorted(loader.migrated_apps)]


def _load_table(
    connection: BaseDatabaseWrapper, model: type[Model], file: Path, columns: list[str]
) -> int:
    """Insert an archived table's rows, in batches; returns the number of rows."""
    by_column = {
        model_field.column: model_field for model_field in model._meta.local_concrete_fields
    }
    unknown = [column for column in columns if column not in by_column]
    if unknown:
        raise BackupError(
            f"{model._meta.db_table}: the archive has columns the schema lacks: {unknown}"
        )
    fields = [by_column[column] for column in columns]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - identifiers from metadata
        quote(model._meta.db_table),
        ", ".join(quote(column) for column in columns),
        ", ".join(["%s"] * len(columns)),
    )
    rows = 0
    with connection.cursor() as cursor:
        for batch in _batches(_read_rows(file), BATCH):
            params = [
                [
                    _from_json(model_field, record.get(model_field.column), connection)
                    for model_field in fields
                ]
                for record in batch
            ]
            cursor.executemany(sql, params)
            rows += len(batch)
    return rows


def _read_rows(file: Path) -> Iterator[dict[str, Any]]:
    """The records of a JSON Lines file."""
    with file.open("r", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _batches(items: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    """Items in lists of at most ``size``."""
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _copy_media(work: Path, manifest: dict[str, Any]) -> int:
    """Put the archived media files into the media folder."""
    root = Path(settings.MEDIA_ROOT)
    for item in manifest["media"]["items"]:
        source = _safe_member_path(work / "media", item["path"])
        target = _safe_member_path(root, item["path"])
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    return len(manifest["media"]["items"])


def backup_restore(
    path: Path, *, using: str = DEFAULT_DB_ALIAS, progress: Progress = _quiet
) -> RestoreResult:
    """Restore an archive into an empty database and media folder, then verify the audit
    chain. Nothing is written unless the archive is intact and the encryption key matches."""
    from anwang.audit.selectors import audit_chain_verify

    connection = connections[using]
    with tempfile.TemporaryDirectory(prefix="anwang-restore-") as workdir:
        work = Path(workdir)
        manifest = _extract(Path(path), work)
        _check_keys(manifest)
        used = database_in_use(using)
        if used:
            raise BackupError(
                "the database is not empty (data in "
                + ", ".join(used[:5])
                + (", ..." if len(used) > 5 else "")
                + "). Restore into an empty data folder (`anwang restore FILE --home NEW_DIR`) "
                "or an empty database"
            )
        if _media_files(Path(settings.MEDIA_ROOT)):
            raise BackupError(
                f"the media folder {settings.MEDIA_ROOT} is not empty; restore into an empty "
                "data folder"
            )
        executor = MigrationExecutor(connection)
        targets = _migration_targets(executor.loader, manifest["migrations"])
        progress("building the schema the backup was made with")
        executor.migrate(targets)
        loader = MigrationLoader(connection, ignore_no_migrations=True)
        leaves = {app: name for app, name in targets if name is not None}
        models = {model._meta.db_table: model for model in _state_models(loader, leaves)}
        missing = [table["table"] for table in manifest["tables"] if table["table"] not in models]
        if missing:
            raise BackupError(f"the schema has no tables for: {', '.join(missing)}")
        rows: dict[str, int] = {}
        with transaction.atomic(using=using):
            quote = connection.ops.quote_name
            with connection.cursor() as cursor:
                # Only rows a fresh migration wrote are here (checked above); the archive's
                # own rows replace them, with their original ids.
                existing = set(connection.introspection.table_names(cursor))
                for table in reversed(list(models)):
                    if table in existing:
                        cursor.execute(f"DELETE FROM {quote(table)}")  # noqa: S608
            for table in manifest["tables"]:
                model = models[table["table"]]
                loaded = _load_table(connection, model, work / table["file"], table["columns"])
                if loaded != table["rows"]:
                    raise BackupError(
                        f"{table['table']}: loaded {loaded} rows, the manifest says {table['rows']}"
                    )
                rows[table["table"]] = loaded
                progress(f"{table['table']}: {loaded} rows")
            with connection.cursor() as cursor:
                for statement in connection.ops.sequence_reset_sql(
                    no_style(), list(models.values())
                ):
                    cursor.execute(statement)
            connection.check_constraints(table_names=list(rows))
        media_files = _copy_media(work, manifest)
        progress(f"media: {media_files} files")
    progress("applying newer migrations")
    call_command("migrate", interactive=False, verbosity=0, database=using)
    report = audit_chain_verify()
    warnings = []
    recorded = manifest.get("audit", {})
    if report.ok and recorded.get("head_hash") and recorded["head_hash"] != report.head_hash:
        warnings.append("the restored audit head differs from the one the manifest records")
    return RestoreResult(
        manifest=manifest,
        rows=rows,
        media_files=media_files,
        chain_ok=report.ok and not warnings,
        chain_checked=report.checked,
        chain_reason=report.reason or "; ".join(warnings),
        warnings=warnings,
    )
