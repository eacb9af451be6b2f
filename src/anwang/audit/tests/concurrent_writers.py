"""Several threads appending to the audit log at once, as the web server and the worker do.

Run as ``python -m anwang.audit.tests.concurrent_writers THREADS PER_THREAD`` with a fresh
``ANWANG_HOME`` (SQLite file) or ``DATABASE_URL``; prints a JSON report on the last line.
Used by ``test_concurrency.py`` because an in-memory test database cannot show file locking.
"""

from __future__ import annotations

import json
import os
import sys
import threading


def run(threads: int, per_thread: int) -> dict[str, object]:
    """Write ``threads x per_thread`` entries concurrently, then verify the chain."""
    from django.db import connection

    from anwang.audit.models import AuditEvent
    from anwang.audit.selectors import audit_chain_verify
    from anwang.audit.services import audit_record

    errors: list[str] = []
    start = threading.Barrier(threads)

    def writer(number: int) -> None:
        try:
            start.wait()
            for index in range(per_thread):
                audit_record(actor=None, action="probe.concurrent", object_id=f"{number}-{index}")
        except Exception as error:
            errors.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    report = audit_chain_verify()
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    return {
        "errors": errors,
        "ok": report.ok,
        "reason": report.reason,
        "checked": report.checked,
        "contiguous": seqs == list(range(1, len(seqs) + 1)),
        "distinct_objects": AuditEvent.objects.values("object_id").distinct().count(),
    }


def main() -> int:
    """Set up Django on a fresh database, write concurrently, print the report."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anwang.project.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    threads, per_thread = int(sys.argv[1]), int(sys.argv[2])
    sys.stdout.write(json.dumps(run(threads, per_thread)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
