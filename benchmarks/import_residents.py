"""Resident import and export speed on the demo community, and where import time goes.

Run: ``.venv/bin/python benchmarks/import_residents.py [--rows 2000] [--profile] [--home DIR]
[--database-url postgres://postgres@127.0.0.1:5432/test]``

An .xlsx register of ``--rows`` new residents is generated: families living in rooms that do
not exist yet (105, 106, ... on every floor of every entrance of the demo buildings), with valid
ID numbers (GB 11643 check character), mobile numbers, relations, tags and emergency contacts
for the elderly. It is then

1. read and checked without writing (``check_file``, the first half of an import),
2. imported as the demo community admin (``resident_import``: check, then create every resident,
   household, membership and contact through the audited services, all in one transaction),
3. exported again as .xlsx and .csv (``resident_export``) with the demo residents.

With ``--profile`` the SQL statements of the timed import are also timed by kind (this costs
about 1% more), and a second register of the same size is imported under :mod:`cProfile` to
break the time down by package and by Anwang's own functions (cProfile slows the run down, so
its figures are proportions, not speeds).

SQL statements are counted with a database execute wrapper, which has no limit (Django's own
query log keeps only the last 9,000).
"""

from __future__ import annotations

import cProfile
import datetime as dt
import pstats
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from _common import argument_parser, environment, print_header, print_table, rate

from anwang.demo import names  # plain generators: importing them needs no Django set-up

if TYPE_CHECKING:
    from anwang.accounts.models import User
    from anwang.places.models import Community

IMPORT_TARGET = 200  # rows/s checked and imported: 2,000 rows in 10 s, within a web request
CHECK_TARGET = 2_000  # rows/s checked: problems in a 2,000-row file are listed within a second
EXPORT_TARGET = 2_000  # rows/s exported: the demo community's 1,500 residents in under a second
# Region code of the generated ID numbers: 拱墅区, so they never match the demo's (西湖区).
ID_REGION = "330105"
REFERENCE_DATE = dt.date(2026, 1, 1)


@dataclass(frozen=True)
class Entrance:
    """An existing entrance of a demo building and how many floors it has."""

    building: str
    unit: str
    floors: int


class Register:
    """Writes import rows family by family into rooms that do not exist yet."""

    def __init__(self, entrances: list[Entrance], seed: int, region: str = ID_REGION) -> None:
        self.rng = random.Random(seed)
        self.region = region
        self.entrances = entrances
        self.room = 5  # demo floors have rooms 01-04
        self.id_numbers: set[str] = set()
        self.phones: set[str] = set()
        self.free_rooms = self.addresses()

    def addresses(self) -> Iterator[tuple[Entrance, int, str]]:
        """Free rooms: every floor of every entrance, then the next room number; a second
        register continues where the first stopped."""
        while True:
            for entrance in self.entrances:
                for floor in range(1, entrance.floors + 1):
                    yield entrance, floor, f"{floor}{self.room:02d}"
            self.room += 1

    def rows(self, count: int) -> list[list[str]]:
        """``count`` residents, whole families (the last one may be cut short)."""
        rows: list[list[str]] = []
        while len(rows) < count:
            entrance, floor, room = next(self.free_rooms)
            for person in self.family():
                address = [entrance.building, entrance.unit, str(floor), room]
                rows.append(address + person)
                if len(rows) == count:
                    break
        return rows

    def family(self) -> list[list[str]]:
        """The rows of one household (without its address), its make-up drawn by kind."""
        rng = self.rng
        kind = rng.choices(
            ("elderly_alone", "elderly_couple", "single", "couple", "family", "three_gen", "rent"),
            weights=(9, 12, 8, 10, 35, 16, 10),
        )[0]
        head_male = rng.random() < 0.7
        people: list[tuple[int, bool, str, list[str]]] = []
        if kind == "elderly_alone":
            people.append((rng.randint(68, 92), rng.random() < 0.35, "户主", ["独居老人"]))
        elif kind == "elderly_couple":
            age = rng.randint(62, 88)
            people += [
                (age, True, "户主", []),
                (max(58, age - rng.randint(0, 5)), False, "配偶", []),
            ]
        elif kind == "single":
            people.append((rng.randint(22, 45), rng.random() < 0.55, "户主", []))
        elif kind == "rent":
            age = rng.randint(22, 38)
            people += [
                (age, head_male, "户主", ["租户"]),
                (max(21, age + rng.randint(-3, 3)), not head_male, "配偶", ["租户"]),
            ]
        else:
            age = rng.randint(28, 50)
            people += [
                (age, head_male, "户主", []),
                (max(22, age + rng.randint(-4, 3)), not head_male, "配偶", []),
            ]
            if kind in {"family", "three_gen"}:
                for _child in range(1 if rng.random() < 0.65 else 2):
                    child_age = rng.randint(0, min(20, age - 22))
                    tags = ["儿童"] if child_age < 18 else []
                    people.append((child_age, rng.random() < 0.52, "子女", tags))
            if kind == "three_gen":
                people.append((age + rng.randint(24, 32), False, "父母", []))
        surname = names.pick_surname(rng)
        return [
            self.person(age, male, relation, tags, surname if relation in {"户主", "子女"} else "")
            for age, male, relation, tags in people
        ]

    def person(
        self, age: int, male: bool, relation: str, tags: list[str], surname: str
    ) -> list[str]:
        """One row after the address: name to emergency phone."""
        rng = self.rng
        latest = REFERENCE_DATE.replace(year=REFERENCE_DATE.year - age) - dt.timedelta(days=1)
        birth = latest - dt.timedelta(days=rng.randrange(0, 365))
        name = (surname or names.pick_surname(rng)) + names.given_name(
            rng, male=male, birth_year=birth.year
        )
        id_number = names.id_number(rng, region=self.region, birth_date=birth, male=male)
        while id_number in self.id_numbers:
            id_number = names.id_number(rng, region=self.region, birth_date=birth, male=male)
        self.id_numbers.add(id_number)
        phone = self.phone() if age >= 14 and rng.random() < 0.95 else ""
        contact_name = contact_phone = ""
        if age >= 60:
            contact_name = names.pick_surname(rng) + names.given_name(
                rng, male=rng.random() < 0.5, birth_year=1978
            )
            contact_phone = self.phone()
        return [
            name,
            "男" if male else "女",
            birth.isoformat(),
            id_number,
            phone,
            relation,
            "、".join(tags),
            contact_name,
            contact_phone,
        ]

    def phone(self) -> str:
        """A mobile number not used before in this register."""
        number = names.mobile_number(self.rng)
        while number in self.phones:
            number = names.mobile_number(self.rng)
        self.phones.add(number)
        return number


def workbook(register: Register, count: int) -> bytes:
    """The register as an .xlsx file with the Chinese headers people use."""
    from anwang.people.importing import COLUMNS, write_xlsx

    header = [column.chinese for column in COLUMNS]
    return write_xlsx(header, register.rows(count), sheet_title="居民")


def main() -> None:
    """Generate, check, import, export, and optionally profile."""
    parser = argument_parser(__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rows", type=int, default=2000, help="residents in the register")
    parser.add_argument(
        "--profile", action="store_true", help="profile a second import of the same size"
    )
    parser.add_argument("--seed", type=int, default=2026, help="seed of the generated register")
    parser.add_argument(
        "--existing",
        type=int,
        default=0,
        help="residents (without an address) added to the demo community before the import, "
        "to measure against a larger community",
    )
    args = parser.parse_args()
    with environment(args) as env:
        from anwang.accounts.models import User
        from anwang.demo.seed import DEMO_COMMUNITY_SLUG
        from anwang.people.importing import check_file
        from anwang.people.services import resident_import
        from anwang.places.models import Building, Community

        print_header(f"import_residents: {args.rows} rows, demo community", env)
        community = Community.objects.get(slug=DEMO_COMMUNITY_SLUG)
        admin = User.objects.get(username="admin")
        entrances = [
            Entrance(building.number, unit.number, building.floors)
            for building in Building.objects.filter(community=community).order_by("id")
            for unit in building.units.order_by("id")
        ]
        if args.existing:
            _grow(community, Register(entrances, args.seed + 1, region="330104"), args.existing)
        register = Register(entrances, args.seed)
        started = time.perf_counter()
        content = workbook(register, args.rows)
        print(
            f"Generated {args.rows} rows ({len(content) / 1024:.0f} KiB .xlsx) in "
            f"{time.perf_counter() - started:.2f} s.\n"
        )

        rows: list[list[object]] = []
        with SqlLog() as sql:
            started = time.perf_counter()
            parsed = check_file(community=community, file_name="register.xlsx", content=content)
            seconds = time.perf_counter() - started
        if parsed.errors:
            first = parsed.errors[0]
            raise SystemExit(f"the generated file has problems, e.g. row {first.row}: {first}")
        rows.append(_row("read and check (check_file)", args.rows, seconds, sql, CHECK_TARGET))

        with SqlLog(timed=args.profile) as import_sql:
            started = time.perf_counter()
            result = resident_import(
                actor=admin, community=community, file_name="register.xlsx", content=content
            )
            seconds = time.perf_counter() - started
        if result.created != args.rows:
            raise SystemExit(f"expected {args.rows} new residents, the import made {result}")
        import_seconds = seconds
        label = "check and import (resident_import)"
        rows.append(_row(label, args.rows, seconds, import_sql, IMPORT_TARGET))

        for file_format in ("xlsx", "csv"):
            count, seconds, sql = _export(admin, community, file_format)
            label = f"export .{file_format} (resident_export)"
            rows.append(_row(label, count, seconds, sql, EXPORT_TARGET))

        print_table(
            [
                "operation",
                "rows",
                "seconds",
                "rows/s",
                "SQL queries",
                "per row",
                "target rows/s",
                "within target",
            ],
            rows,
        )
        print(
            f"\nImported: {result.created} residents, {result.households_created} households, "
            f"{result.units_created} entrances.\nTargets: check >= {CHECK_TARGET:,} rows/s, "
            f"check and import >= {IMPORT_TARGET:,} rows/s, export >= {EXPORT_TARGET:,} rows/s."
        )
        if args.profile:
            _print_sql(import_sql, import_seconds)
            _profile(register, args.rows, admin, community)


class SqlLog:
    """Counts the SQL statements run inside a ``with`` block and, when asked, the time each
    kind of statement takes (``SELECT people_resident``, ``UPDATE audit_auditchainhead``)."""

    def __init__(self, *, timed: bool = False) -> None:
        self.timed = timed
        self.count = 0
        self.kinds: dict[str, list[float]] = {}  # kind -> [count, seconds]
        self._stack: Any = None

    def __enter__(self) -> SqlLog:
        from contextlib import ExitStack

        from django.db import connection

        self._stack = ExitStack()
        self._stack.enter_context(connection.execute_wrapper(self))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        """The database wrapper: count, and time if asked."""
        self.count += 1
        if not self.timed:
            return execute(sql, params, many, context)
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            entry = self.kinds.setdefault(_statement_kind(sql), [0, 0.0])
            entry[0] += 1
            entry[1] += time.perf_counter() - started


_TABLE = re.compile(r'^(SELECT|INSERT INTO|UPDATE|DELETE FROM)\b.*?(?:FROM )?"(\w+)"', re.S)


def _statement_kind(sql: str) -> str:
    """``SELECT people_resident``, ``SELECT ... FOR UPDATE audit_auditchainhead``,
    ``SAVEPOINT``, ..."""
    text = sql.lstrip()
    for keyword in ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT"):
        if text.startswith(keyword):
            return keyword
    found = _TABLE.match(text)
    if found is None:
        return text.split(" ", 1)[0]
    verb, table = found.groups()
    verb = verb.split()[0]
    if verb == "SELECT":
        table = text.split(" FROM ", 1)[1].split('"')[1] if " FROM " in text else table
        if text.rstrip().endswith("FOR UPDATE"):
            verb = "SELECT FOR UPDATE"
    return f"{verb} {table}"


def _row(label: str, count: int, seconds: float, sql: SqlLog, target: int) -> list[object]:
    return [
        label,
        count,
        f"{seconds:.2f}",
        rate(count, seconds),
        sql.count,
        f"{sql.count / count:.1f}",
        f">= {target:,}",
        "yes" if count / seconds >= target else "NO",
    ]


def _export(admin: User, community: Community, file_format: str) -> tuple[int, float, SqlLog]:
    """Export every current resident of the community: row count, seconds, SQL run."""
    from anwang.accounts.selectors import scope_for
    from anwang.people.selectors import residents_list
    from anwang.people.services import resident_export

    scope = scope_for(admin)
    residents = residents_list(scope, community_id=community.pk)
    count = residents.count()
    with SqlLog() as sql:
        started = time.perf_counter()
        resident_export(
            actor=admin,
            scope=scope,
            community=community,
            residents=residents,
            file_format=file_format,
        )
        seconds = time.perf_counter() - started
    return count, seconds, sql


def _grow(community: Community, register: Register, count: int) -> None:
    """Add ``count`` residents with encrypted ID and phone numbers, in bulk."""
    from anwang.core.crypto import blind_index
    from anwang.people.models import Resident

    started = time.perf_counter()
    Resident.objects.bulk_create(
        (
            Resident(
                community=community,
                name=row[4],
                gender="male" if row[5] == "男" else "female",
                birth_date=dt.date.fromisoformat(row[6]),
                id_number=row[7],
                id_number_index=blind_index(row[7]),
                phone=row[8],
                phone_index=blind_index(row[8]),
            )
            for row in register.rows(count)
        ),
        batch_size=500,
    )
    total = Resident.objects.filter(community=community).count()
    print(
        f"Added {count} residents in {time.perf_counter() - started:.1f} s: the community "
        f"now has {total}."
    )


def _print_sql(sql: SqlLog, seconds: float) -> None:
    """Time spent inside the database calls of the import, by kind of statement."""
    in_sql = sum(entry[1] for entry in sql.kinds.values())
    print(
        f"\nSQL of the import above: {sql.count} statements, {in_sql:.2f} s of "
        f"{seconds:.2f} s ({in_sql / seconds:.0%}) inside database calls"
    )
    ranked = sorted(sql.kinds.items(), key=lambda item: -item[1][1])[:12]
    print_table(
        ["statement", "count", "seconds", "ms each", "share of import"],
        [
            [
                kind,
                int(count),
                f"{total:.2f}",
                f"{total * 1000 / count:.3f}",
                f"{total / seconds:.0%}",
            ]
            for kind, (count, total) in ranked
        ],
    )


def _profile(register: Register, count: int, admin: User, community: Community) -> None:
    """Import a second register under cProfile and print where the time goes."""
    from anwang.people.importing import ImportRejectedError
    from anwang.people.services import resident_import

    content = workbook(register, count)
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        resident_import(actor=admin, community=community, file_name="second.xlsx", content=content)
    except ImportRejectedError as rejected:
        problems = "; ".join(f"row {e.row} {e.column}: {e.message}" for e in rejected.errors[:5])
        raise SystemExit(f"the second register was refused: {problems}") from rejected
    finally:
        profiler.disable()
    table: dict[tuple[str, int, str], tuple[int, int, float, float, Any]]
    table = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(own for _calls, _primitive, own, _cumulative, _callers in table.values())

    by_package: dict[str, float] = {}
    for (file_name, _line, function), (_cc, _nc, own, _ct, _callers) in table.items():
        package = _package(file_name, function)
        by_package[package] = by_package.get(package, 0.0) + own
    print(f"\nProfile of a second {count}-row import ({total:.2f} s under cProfile)")
    print("\nOwn time by package")
    print_table(
        ["package", "own s", "share"],
        [
            [package, f"{own:.2f}", f"{own / total:.0%}"]
            for package, own in sorted(by_package.items(), key=lambda item: -item[1])[:12]
        ],
    )

    own_functions = [
        (key, value)
        for key, value in table.items()
        if _package(key[0], key[2]).startswith("anwang")
    ]
    own_functions.sort(key=lambda item: -item[1][3])
    print("\nAnwang's own functions, top 15 by cumulative time")
    print_table(
        ["function", "calls", "cumulative s", "share", "own s"],
        [
            [
                f"{_module(file_name)}.{function}",
                calls,
                f"{cumulative:.2f}",
                f"{cumulative / total:.0%}",
                f"{own:.2f}",
            ]
            for (file_name, _line, function), (_cc, calls, own, cumulative, _callers) in (
                own_functions[:15]
            )
        ],
    )


def _module(file_name: str) -> str:
    """``.../src/anwang/people/services.py`` → ``anwang.people.services``."""
    marker = "/anwang/"
    if marker not in file_name:
        return file_name
    tail = file_name.rsplit(marker, 1)[1].removesuffix(".py").replace("/", ".")
    return "anwang." + tail


def _package(file_name: str, function: str) -> str:
    """The package a profiled function belongs to: ``anwang.people``, ``django``, ``openpyxl``,
    or the C extension of a built-in."""
    if file_name == "~":
        if "sqlite" in function.lower():
            return "sqlite3 (driver, C)"
        for extension in ("psycopg", "hashlib", "hmac", "_json", "zlib", "pyexpat"):
            if extension in function:
                return f"{extension} (C)"
        return "other built-ins (C)"
    if "/src/anwang/" in file_name:
        parts = _module(file_name).split(".")
        return ".".join(parts[:2])
    if "site-packages/" in file_name:
        return file_name.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    return "python stdlib"


if __name__ == "__main__":
    main()
