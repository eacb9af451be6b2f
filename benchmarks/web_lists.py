"""Response times and SQL queries of the busiest list pages and API lists on the demo community.

Run: ``.venv/bin/python benchmarks/web_lists.py [--requests 30] [--home DIR]
[--database-url postgres://postgres@127.0.0.1:5432/test]``

Each URL is requested through Django's test client (the whole middleware stack, templates and
serialisation; no network or web server), logged in as the demo community admin (the audit log
as the demo auditor). Two warm-up requests per URL are not timed. Between requests the
database connection is handled as a real request would (on SQLite each request opens its own,
as ``CONN_MAX_AGE`` is 0).

The audit log gets ``--audit-entries`` ordinary entries first (resident changes by the admin),
so its page lists a full page out of a realistic log rather than the one seeding entry.
``--gc-freeze`` calls :func:`gc.freeze` once everything is loaded, as a server could after
start-up: it takes the long-lived objects out of Python's full garbage collections.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from typing import TYPE_CHECKING

from _common import argument_parser, elapsed_ms, environment, print_header, print_table, stats

if TYPE_CHECKING:
    from anwang.places.models import Community

QUERY_TARGET = 20  # SQL queries per request, whatever the size of the community


@dataclass(frozen=True)
class Target:
    """One URL to measure and the p95 it should stay under."""

    label: str
    path: str
    user: str
    p95_ms: float


TARGETS = (
    Target("dashboard", "/dashboard/", "admin", 200),
    Target("resident list page", "/people/residents/", "admin", 200),
    Target("resident search 王", "/people/residents/?q=王", "admin", 200),
    Target("household list page", "/places/households/", "admin", 200),
    Target("map GeoJSON", "/places/map.geojson?community={community}", "admin", 150),
    Target("API residents", "/api/v1/residents", "admin", 150),
    Target("API households", "/api/v1/households", "admin", 150),
    Target("audit log page", "/audit/", "auditor", 200),
)


def main() -> None:
    """Measure every URL and print one row each."""
    parser = argument_parser(__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per URL")
    parser.add_argument(
        "--audit-entries",
        type=int,
        default=2000,
        help="audit entries written before measuring (default 2000)",
    )
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="freeze the start-up heap out of garbage collection before measuring",
    )
    args = parser.parse_args()
    with environment(args) as env:
        from django.db import close_old_connections, connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from anwang.demo.seed import DEMO_COMMUNITY_SLUG, DEMO_PASSWORD
        from anwang.places.models import Community

        print_header(f"web_lists: {args.requests} requests per URL, demo community", env)
        community = Community.objects.get(slug=DEMO_COMMUNITY_SLUG)
        _fill_audit_log(community, args.audit_entries)
        clients: dict[str, Client] = {}
        for username in {target.user for target in TARGETS}:
            client = Client()
            if not client.login(username=username, password=DEMO_PASSWORD):
                raise SystemExit(f"the demo user {username!r} could not log in")
            clients[username] = client
        if args.gc_freeze:
            gc.collect()
            gc.freeze()

        rows: list[list[object]] = []
        for target in TARGETS:
            client = clients[target.user]
            path = target.path.format(community=community.pk)
            for _warm_up in range(2):
                response = client.get(path)
                if response.status_code != 200:
                    raise SystemExit(f"{path} answered {response.status_code}, not 200")
                close_old_connections()
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path)
            # Read the count now: the next request clears Django's query log.
            queries = len(captured.captured_queries)
            close_old_connections()
            samples: list[float] = []
            for _request in range(args.requests):
                samples.append(elapsed_ms(client.get, path))
                close_old_connections()
            summary = stats(samples)
            within = summary.p95 < target.p95_ms and queries <= QUERY_TARGET
            rows.append(
                [
                    target.label,
                    target.user,
                    f"{summary.median:.1f}",
                    f"{summary.p95:.1f}",
                    f"{summary.maximum:.1f}",
                    queries,
                    f"{len(response.content) / 1024:.0f}",
                    f"< {target.p95_ms:.0f}",
                    "yes" if within else "NO",
                ]
            )
        print_table(
            [
                "URL",
                "as",
                "median ms",
                "p95 ms",
                "max ms",
                "queries",
                "KiB",
                "target p95 ms",
                "within target",
            ],
            rows,
        )
        print(
            f"\nTargets: p95 as shown (demo community, 2 CPUs) and at most {QUERY_TARGET} SQL "
            "queries per request. Query counts come from one extra request after the warm-up."
            f"\nAudit log: {args.audit_entries} entries written first. "
            f"gc.freeze(): {'yes' if args.gc_freeze else 'no'}."
        )


def _fill_audit_log(community: Community, count: int) -> None:
    """Write ``count`` ordinary audit entries (resident name changes by the demo admin)."""
    from django.db import transaction

    from anwang.accounts.models import User
    from anwang.audit.services import audit_record
    from anwang.people.models import Resident

    admin = User.objects.get(username="admin")
    residents = list(Resident.objects.filter(community=community).order_by("id")[:count])
    if not residents:
        return
    with transaction.atomic():
        for index in range(count):
            resident = residents[index % len(residents)]
            audit_record(
                actor=admin,
                action="resident.update",
                obj=resident,
                changes={"note": ["", f"visit {index}"]},
            )


if __name__ == "__main__":
    main()
