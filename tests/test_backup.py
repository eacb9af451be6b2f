"""Backup and restore: one archive, raw rows (personal data stays encrypted), restore only into
an empty database, the key checked first, the audit chain verified last."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import tarfile
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from anwang.backup import BackupError, backup_create, backup_restore
from anwang.cli import main
from anwang.core.crypto import key_fingerprint
from tests.cli_support import cli_env, run_cli

TEST_KEY = "u8zO0pQKcKfQw1yWq9mF3lYt2kVf6N1bJm4h7R2sT5E="  # set by anwang.core.testing_env
TEST_INDEX_KEY = "test-index-key-not-for-production"  # set by anwang.core.testing_env
OTHER_KEY = "mS3c1y8qkO6vGZfYb0n2X4rW7tJpL5aQdE9hUuK1zVw="


@pytest.fixture
def populated(settings: Any, world: Any, tmp_path: Path) -> Any:
    """The two-community world with audited changes and a media file."""
    from anwang.audit.services import audit_record

    settings.MEDIA_ROOT = str(tmp_path / "media")
    photo = tmp_path / "media" / "hazards" / "2026" / "crack.jpg"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(b"\xff\xd8\xff photo of a crack")
    for index in range(5):
        audit_record(
            actor=world.user("community_admin"),
            action="zone.update",
            obj=world.a.zone,
            changes={"name": [f"北门{index}", f"北门{index + 1}"]},
        )
    return world


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """Argon2 makes the two-community world take seconds; these tests never check hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def table_counts() -> dict[str, int]:
    """Rows per table of the test database."""
    counts = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if table == "django_migrations":
                continue
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


def archive_members(path: Path) -> dict[str, bytes]:
    """Every file of an archive."""
    with tarfile.open(path) as archive:
        return {
            member.name: archive.extractfile(member).read()  # type: ignore[union-attr]
            for member in archive
            if member.isfile()
        }


def rewrite_archive(path: Path, target: Path, change: Any) -> None:
    """Copy an archive, letting ``change(members)`` edit the files on the way."""
    members = archive_members(path)
    change(members)
    with tarfile.open(target, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


# --- backup ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_manifest_describes_the_database(populated, tmp_path):
    result = backup_create(tmp_path / "site.tar.gz")
    manifest = result.manifest
    assert manifest["format"] == "anwang-backup"
    assert manifest["database"]["vendor"] == connection.vendor
    counts = table_counts()
    tables = {table["table"]: table for table in manifest["tables"]}
    for table, count in counts.items():
        assert tables[table]["rows"] == count, table
    assert tables["people_resident"]["rows"] == 2
    assert manifest["audit"]["entries"] == 5
    assert manifest["audit"]["head_seq"] == 5
    assert manifest["encryption"]["key_fingerprints"] == [key_fingerprint(TEST_KEY)]
    assert manifest["encryption"]["index_key_fingerprint"] == key_fingerprint(TEST_INDEX_KEY)
    assert [item["path"] for item in manifest["media"]["items"]] == ["hazards/2026/crack.jpg"]
    assert ["accounts", "0001_initial"] in manifest["migrations"]
    assert (tmp_path / "site.tar.gz").stat().st_mode & 0o077 == 0  # only the owner reads it


@pytest.mark.django_db
def test_archive_keeps_personal_data_encrypted_and_holds_no_key(populated, tmp_path):
    path = backup_create(tmp_path / "site.tar.gz").path
    members = archive_members(path)
    everything = b"".join(members.values())
    assert b"110101199001011234" not in everything  # ID numbers
    assert b"13812345678" not in everything  # phone numbers
    assert b"13900001111" not in everything  # emergency contact phone
    assert TEST_KEY.encode() not in everything
    assert TEST_INDEX_KEY.encode() not in everything
    residents = [json.loads(line) for line in members["db/people_resident.jsonl"].splitlines()]
    assert {r["name"] for r in residents} == {"a张三", "b张三"}
    assert all(r["id_number"].startswith("gAAAA") for r in residents)  # Fernet tokens
    assert members["media/hazards/2026/crack.jpg"] == b"\xff\xd8\xff photo of a crack"


@pytest.mark.django_db
def test_cli_backup_does_not_overwrite_without_force(populated, tmp_path, capsys):
    target = tmp_path / "site.tar.gz"
    assert main(["backup", str(target)]) == 0
    out = capsys.readouterr().out
    assert key_fingerprint(TEST_KEY) in out
    assert main(["backup", str(target)]) == 1
    assert main(["backup", str(target), "--force"]) == 0


# --- restore ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_restore_refuses_a_database_in_use(populated, tmp_path):
    path = backup_create(tmp_path / "site.tar.gz").path
    before = table_counts()
    with pytest.raises(BackupError, match="not empty"):
        backup_restore(path)
    assert table_counts() == before


def _sqlite_counts(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as db:
        tables = [
            row[0]
            for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not row[0].startswith("sqlite_") and row[0] != "django_migrations"
        ]
        return {t: db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}  # noqa: S608


@pytest.mark.django_db
def test_restore_into_an_empty_data_folder_reproduces_everything(populated, tmp_path):
    manifest = backup_create(tmp_path / "site.tar.gz").manifest
    home = tmp_path / "restored"
    result = run_cli("restore", str(tmp_path / "site.tar.gz"), "--home", str(home), env=cli_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Audit chain OK, 5 entries" in result.stdout
    counts = _sqlite_counts(home / "anwang.sqlite3")
    for table in manifest["tables"]:
        assert counts[table["table"]] == table["rows"], table["table"]
    assert (home / "media" / "hazards" / "2026" / "crack.jpg").read_bytes().startswith(b"\xff")

    verify = run_cli("audit", "verify", "--home", str(home), env=cli_env())
    assert verify.returncode == 0
    assert verify.stdout.startswith("OK, 5 entries")
    # The restored copy decrypts with the same key, and a second restore is refused.
    shell = run_cli(
        "--home",
        str(home),
        "manage",
        "shell",
        "-c",
        "from anwang.people.models import Resident; "
        "print(sorted(r.id_number for r in Resident.objects.all()))",
        env=cli_env(),
    )
    assert "110101199001011234" in shell.stdout, shell.stderr
    again = run_cli("restore", str(tmp_path / "site.tar.gz"), "--home", str(home), env=cli_env())
    assert again.returncode == 1
    assert "not empty" in again.stderr


@pytest.mark.django_db
def test_restore_refuses_the_wrong_key_before_writing(populated, tmp_path):
    backup_create(tmp_path / "site.tar.gz")
    home = tmp_path / "restored"
    env = cli_env(ANWANG_ENCRYPTION_KEYS=OTHER_KEY)
    result = run_cli("restore", str(tmp_path / "site.tar.gz"), "--home", str(home), env=env)
    assert result.returncode == 1
    assert key_fingerprint(TEST_KEY) in result.stderr
    assert key_fingerprint(OTHER_KEY) in result.stderr
    database = home / "anwang.sqlite3"
    assert not database.exists() or _sqlite_counts(database) == {}


@pytest.mark.django_db
def test_restore_refuses_another_index_key(populated, tmp_path):
    backup_create(tmp_path / "site.tar.gz")
    env = cli_env(ANWANG_INDEX_KEY="another-index-key")
    home = tmp_path / "restored"
    result = run_cli("restore", str(tmp_path / "site.tar.gz"), "--home", str(home), env=env)
    assert result.returncode == 1
    assert "index key" in result.stderr
    assert key_fingerprint(TEST_INDEX_KEY) in result.stderr


@pytest.mark.django_db
def test_restore_with_a_key_file(populated, tmp_path):
    backup_create(tmp_path / "site.tar.gz")
    key_file = tmp_path / "backup.key"
    key_file.write_text(TEST_KEY + "\n", encoding="utf-8")
    index_file = tmp_path / "backup-index.key"
    index_file.write_text(TEST_INDEX_KEY + "\n", encoding="utf-8")
    home = tmp_path / "restored"
    env = cli_env(ANWANG_ENCRYPTION_KEYS=None, ANWANG_INDEX_KEY=None)
    result = run_cli(
        "restore",
        str(tmp_path / "site.tar.gz"),
        "--home",
        str(home),
        "--key-file",
        str(key_file),
        "--index-key-file",
        str(index_file),
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert (home / "encryption.key").read_text(encoding="utf-8").strip() == TEST_KEY
    assert (home / "encryption.key").stat().st_mode & 0o077 == 0
    assert (home / "index.key").read_text(encoding="utf-8").strip() == TEST_INDEX_KEY


@pytest.mark.django_db
def test_restore_refuses_a_damaged_archive(populated, tmp_path):
    path = backup_create(tmp_path / "site.tar.gz").path

    def damage(members: dict[str, bytes]) -> None:
        members["db/people_resident.jsonl"] = members["db/people_resident.jsonl"].replace(
            "a张三".encode(), "a李四".encode()
        )

    rewrite_archive(path, tmp_path / "damaged.tar.gz", damage)
    result = run_cli(
        "restore", str(tmp_path / "damaged.tar.gz"), "--home", str(tmp_path / "r"), env=cli_env()
    )
    assert result.returncode == 1
    assert "damaged" in result.stderr


@pytest.mark.django_db
def test_restore_reports_a_tampered_audit_log(populated, tmp_path):
    path = backup_create(tmp_path / "site.tar.gz").path

    def tamper(members: dict[str, bytes]) -> None:
        # Someone edits an audit entry and fixes the archive's checksum to hide it.
        name = "db/audit_auditevent.jsonl"
        members[name] = members[name].replace(b'"zone.update"', b'"zone.viewed"', 1)
        manifest = json.loads(members["manifest.json"])
        for table in manifest["tables"]:
            if table["file"] == name:
                table["sha256"] = hashlib.sha256(members[name]).hexdigest()
        members["manifest.json"] = json.dumps(manifest).encode()

    rewrite_archive(path, tmp_path / "tampered.tar.gz", tamper)
    result = run_cli(
        "restore", str(tmp_path / "tampered.tar.gz"), "--home", str(tmp_path / "r"), env=cli_env()
    )
    assert result.returncode == 1
    assert "AUDIT CHAIN BROKEN" in result.stderr
    assert "#1" in result.stderr


@pytest.mark.django_db
def test_restore_refuses_unsafe_paths(populated, tmp_path):
    path = backup_create(tmp_path / "site.tar.gz").path

    def escape(members: dict[str, bytes]) -> None:
        members["media/../../escaped.txt"] = b"outside"

    rewrite_archive(path, tmp_path / "evil.tar.gz", escape)
    with pytest.raises(BackupError, match="unsafe path"):
        backup_restore(tmp_path / "evil.tar.gz")
    assert not (tmp_path / "escaped.txt").exists()


# --- PostgreSQL ------------------------------------------------------------------------------


def _postgres_admin_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return url.rsplit("/", 1)[0] + "/postgres"
    return os.environ.get("ANWANG_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def empty_postgres_database(under_ci: bool) -> Any:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    psycopg = pytest.importorskip("psycopg")
    admin_url = _postgres_admin_url()
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        if under_ci:
            raise
        pytest.skip(f"PostgreSQL is not reachable: {error}")
    name = f"anwang_restore_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.mark.postgres
@pytest.mark.django_db
def test_restore_into_an_empty_postgresql_database(populated, tmp_path, empty_postgres_database):
    import psycopg

    manifest = backup_create(tmp_path / "site.tar.gz").manifest
    env = cli_env(DATABASE_URL=empty_postgres_database)
    result = run_cli(
        "restore", str(tmp_path / "site.tar.gz"), "--home", str(tmp_path / "r"), env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with psycopg.connect(empty_postgres_database) as db:
        for table in manifest["tables"]:
            count = db.execute(f'SELECT COUNT(*) FROM "{table["table"]}"').fetchone()  # noqa: S608
            assert count is not None
            assert count[0] == table["rows"], table["table"]
    # Sequences continue after the restored ids: new rows can be written.
    created = run_cli(
        "createadmin",
        "--username",
        "after_restore",
        "--password",
        "Sturdy-Password-77",
        "--home",
        str(tmp_path / "r"),
        env=env,
    )
    assert created.returncode == 0, created.stderr
    verify = run_cli("audit", "verify", "--home", str(tmp_path / "r"), env=env)
    assert verify.stdout.startswith("OK, 6 entries"), verify.stderr
