"""Audit log throughput: appending entries to the hash chain, and verifying the chain.

Run: ``.venv/bin/python benchmarks/audit_write.py [--entries 2000] [--home DIR]
[--database-url postgres://postgres@127.0.0.1:5432/test]``

1. ``audit_record`` from one thread, each entry in its own transaction, as a real write
   commits it (this includes the commit: on PostgreSQL that waits for the WAL flush).
2. The same number of entries in one transaction, as a bulk operation (an import) writes them.
3. ``audit_chain_verify`` over the whole log: rehashing every entry in order.
"""

from __future__ import annotations

import time

from _common import (
    argument_parser,
    elapsed_ms,
    environment,
    print_header,
    print_table,
    rate,
    stats,
)

WRITE_TARGET = 200  # entries/s, own transaction each: auditing adds at most 5 ms to a write
VERIFY_TARGET = 10_000  # entries/s: a million-entry log verifies in under two minutes


def main() -> None:
    """Write, then verify, and print the rates."""
    parser = argument_parser(__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--entries", type=int, default=2000, help="entries per write test")
    args = parser.parse_args()
    with environment(args) as env:
        from django.db import transaction

        from anwang.accounts.models import User
        from anwang.audit.models import AuditEvent
        from anwang.audit.selectors import audit_chain_verify
        from anwang.audit.services import audit_record
        from anwang.core.context import RequestMeta, acting_as
        from anwang.demo.seed import DEMO_COMMUNITY_SLUG
        from anwang.people.models import Resident

        print_header(f"audit_write: {args.entries} entries per write test", env)
        admin = User.objects.get(username="admin")
        residents = list(
            Resident.objects.filter(community__slug=DEMO_COMMUNITY_SLUG).order_by("id")[:500]
        )

        def record(index: int) -> None:
            # A typical entry: a resident's fields changed by a staff member over the web.
            audit_record(
                actor=admin,
                action="resident.update",
                obj=residents[index % len(residents)],
                changes={
                    "note": ["", f"welfare visit {index}"],
                    "phone": ["(encrypted)", "(encrypted)"],
                },
            )

        def own_transaction(index: int) -> None:
            with transaction.atomic():
                record(index)

        rows: list[list[object]] = []
        meta = RequestMeta(client_address="192.0.2.10", channel="web")
        with acting_as(meta):
            started = time.perf_counter()
            samples = [elapsed_ms(own_transaction, index) for index in range(args.entries)]
            rows.append(
                _write_row(
                    "audit_record, own transaction each",
                    samples,
                    time.perf_counter() - started,
                    WRITE_TARGET,
                )
            )
            started = time.perf_counter()
            with transaction.atomic():
                samples = [elapsed_ms(record, index) for index in range(args.entries)]
            rows.append(
                _write_row(
                    "audit_record, all in one transaction", samples, time.perf_counter() - started
                )
            )

        total = AuditEvent.objects.count()
        started = time.perf_counter()
        report = audit_chain_verify()
        seconds = time.perf_counter() - started
        if not report.ok:
            raise SystemExit(f"the audit chain does not verify: {report.reason}")
        rows.append(
            [
                "audit_chain_verify, whole log",
                total,
                f"{seconds:.2f}",
                rate(report.checked, seconds),
                f"{seconds * 1000 / total:.3f}",
                "",
                "",
                "",
                f">= {VERIFY_TARGET:,}",
                "yes" if report.checked / seconds >= VERIFY_TARGET else "NO",
            ]
        )
        print_table(
            [
                "operation",
                "entries",
                "seconds",
                "entries/s",
                "median ms/entry",
                "p95 ms/entry",
                "first 10% ms",
                "last 10% ms",
                "target entries/s",
                "within target",
            ],
            rows,
        )
        print(
            f"\nTargets: >= {WRITE_TARGET} entries/s written one transaction each (auditing "
            f"adds at most 5 ms to a write); >= {VERIFY_TARGET:,} entries/s verified.\n"
            "first/last 10%: median time of one entry at the start and at the end of the run; "
            "a growing figure means each entry costs more the more came before it."
        )


def _write_row(
    label: str, samples: list[float], seconds: float, target: int | None = None
) -> list[object]:
    """A table row for a write test from the per-entry times in milliseconds."""
    summary = stats(samples)
    tenth = max(1, len(samples) // 10)
    count = len(samples)
    return [
        label,
        count,
        f"{seconds:.2f}",
        rate(count, seconds),
        f"{summary.median:.2f}",
        f"{summary.p95:.2f}",
        f"{stats(samples[:tenth]).median:.2f}",
        f"{stats(samples[-tenth:]).median:.2f}",
        f">= {target:,}" if target else "",
        ("yes" if count / seconds >= target else "NO") if target else "",
    ]


if __name__ == "__main__":
    main()
