"""Benchmark data: N customers and an operation log of M entries with a valid hash chain.

    DATABASE_URL=postgresql://postgres@127.0.0.1/ca_perf_bench \\
        .venv/bin/python benchmarks/generate.py --fresh [--customers 100000] [--entries 1000000]

Without DATABASE_URL a new SQLite file in a temporary directory is used (its path is printed).
`--fresh` drops and recreates the database first (PostgreSQL names must contain "bench" or
"ca_perf"); without it the database must hold no customers yet.

What it makes (deterministic for a given --seed):
- staff: admin, manager, clerk, auditor (password --password) and a dozen more of each role;
  the default reasons and review rules;
- an operation log, written first, as the app would have written it over two years: logins,
  logouts and failed logins (no entries), detail edits (1-3 entries), small status changes
  (1-20 customers) and bulk ones (21-2,000, log-uniform), until exactly M entries exist.
  Statuses drift around 80 % active, 10 % frozen, 10 % deactivated. Every operation's hash is
  computed with services.audit.operation_hash over HASHED_OPERATION_FIELDS and its entries
  (ENTRY_FIELDS, in id order), chained from the current chain head; audit_chain_head is
  updated with every batch, so the chain verifies after any batch;
- N customers whose status, version and edited fields are exactly where the log leaves them
  (replaying a customer's entries gives its current row), and their orders
  (--orders-per-customer, about 1.5 each by default).

Everything is inserted set-based (multi-row INSERT / executemany, batches of a few thousand),
never row by row through the ORM. A progress bar shows on a terminal; piped output is quiet.
"""

import argparse
import math
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from admin_app.extensions import db  # noqa: E402
from admin_app.models import (  # noqa: E402
    SEGMENTS,
    AuditChainHead,
    AuditEntry,
    AuditOperation,
    Customer,
    Order,
    StaffUser,
    StatusAction,
)
from admin_app.progress import progress_bar  # noqa: E402
from admin_app.services.audit import (  # noqa: E402
    ENTRY_FIELDS,
    canonical_json,
    operation_hash,
)
from admin_app.services.demo import (  # noqa: E402
    _NAME_HEADS,
    _NAME_MIDS,
    _NAME_TAILS,
    _seed_reasons,
    _seed_rules,
)
from admin_app.services.transaction import write_transaction  # noqa: E402
from benchmarks.common import (  # noqa: E402
    database_url,
    fresh_app,
    is_postgres,
    migrated_app,
)

DEFAULT_PASSWORD = "benchmark-password-2026"
ROLES_AND_COUNTS = (("admin", 3), ("manager", 6), ("clerk", 10), ("auditor", 2))
BATCH_ENTRIES = 5000  # log entries per write transaction
CUSTOMER_BATCH = 5000
HISTORY_DAYS = 730

# What a back office does, per operation (weights): most operations write no or few entries.
OPERATION_MIX = (
    ("login", 28),
    ("logout", 10),
    ("login_failed", 3),
    ("customer_edit", 40),
    ("status_small", 16),
    ("status_bulk", 3),
)
SMALL_SIZES = (1, 1, 1, 1, 2, 2, 3, 4, 5, 8, 12, 20)
BULK_SIZE_RANGE = (21, 2000)
TARGET_ACTIVE_SHARE = 0.80
STATUS_REASONS = {
    "deactivate": (
        "non_payment",
        "over_credit",
        "inactive",
        "contract_ended",
        "customer_request",
        "duplicate",
        "fraud_suspected",
        "other",
    ),
    "freeze": (
        "non_payment",
        "over_credit",
        "contract_ended",
        "customer_request",
        "fraud_suspected",
    ),
    "reactivate": ("issue_resolved", "customer_request", "other"),
}
MEMO_REQUIRED = {"duplicate", "fraud_suspected", "other"}
MEMOS = (
    "Checked with finance",
    "Customer called the hotline",
    "Quarterly clean-up",
    "Agreed with the regional manager",
    "See ticket in the CRM",
    "Payment plan agreed",
    "Merged into the main account",
    "Card skimming suspected; bank informed",
)
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
)
_SEGMENT_WEIGHTS = (60, 30, 10)  # retail, wholesale, distributor
_CREDIT_LIMITS = (5_000, 10_000, 20_000, 50_000, 100_000, 250_000)


@dataclass(frozen=True)
class GenerateResult:
    customers: int
    operations: int
    entries: int
    orders: int
    seconds: float
    password: str


@dataclass(frozen=True)
class _Staff:
    id: int
    username: str
    role: str


class _Customers:
    """Every customer's current row, column by column (index = id - 1)."""

    def __init__(self, rng: random.Random, count: int, start: datetime):
        self.count = count
        self.code = [f"C{n:07d}" for n in range(1, count + 1)]
        self.name, self.email, self.phone = [], [], []
        self.segment = rng.choices(SEGMENTS, _SEGMENT_WEIGHTS, k=count)
        self.credit_limit = [Decimal(rng.choice(_CREDIT_LIMITS)) for _ in range(count)]
        for number in range(1, count + 1):
            name = _company_name(rng)
            self.name.append(name)
            self.email.append(f"contact{number}@{name.split()[0].lower()}-example.com")
            self.phone.append(_phone(rng))
        self.status = ["active"] * count
        self.status_reason: list[str | None] = [None] * count
        self.status_changed_at: list[datetime | None] = [None] * count
        self.status_changed_by: list[int | None] = [None] * count
        self.version = [1] * count
        self.updated_at = [start] * count
        self.share = {"active": count, "frozen": 0, "deactivated": 0}

    def sample(self, rng: random.Random, size: int, allowed: tuple[str, ...]) -> list[int]:
        """Up to `size` distinct customer ids whose status is in `allowed`."""
        chosen: set[int] = set()
        tries = 0
        while len(chosen) < size and tries < size * 30:
            index = rng.randrange(self.count)
            if self.status[index] in allowed:
                chosen.add(index + 1)
            tries += 1
        return sorted(chosen)


def _company_name(rng: random.Random) -> str:
    return f"{rng.choice(_NAME_HEADS)} {rng.choice(_NAME_MIDS)} {rng.choice(_NAME_TAILS)}"


def _phone(rng: random.Random) -> str:
    return (
        f"+86 {rng.choice((10, 20, 21, 22, 23, 24, 25, 27, 28, 29))} "
        f"{rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"
    )


def _hex(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


class _Log:
    """Builds operations in chain order and writes them in batches, keeping the head in step."""

    def __init__(self, prev_hash: str, next_id: int, next_entry_id: int, operation_count: int):
        self.prev_hash = prev_hash
        self.next_id = next_id
        self.next_entry_id = next_entry_id
        self.operation_count = operation_count
        self.operations: list[dict] = []
        self.entries: list[dict] = []
        self.written_operations = 0
        self.written_entries = 0

    def append(self, row: dict, entries: list[tuple]) -> None:
        row = {**row, "id": self.next_id}
        row["hash"] = operation_hash(row, entries, self.prev_hash)
        row["prev_hash"] = self.prev_hash
        self.operations.append(row)
        for entry in entries:
            self.entries.append(
                {
                    "id": self.next_entry_id,
                    "operation_id": row["id"],
                    **dict(zip(ENTRY_FIELDS, entry, strict=False)),
                }
            )
            self.next_entry_id += 1
        self.prev_hash = row["hash"]
        self.next_id += 1

    def flush(self) -> None:
        if not self.operations:
            return
        with write_transaction() as session:
            session.execute(sa.insert(AuditOperation.__table__), self.operations)
            for start in range(0, len(self.entries), BATCH_ENTRIES):
                session.execute(
                    sa.insert(AuditEntry.__table__), self.entries[start : start + BATCH_ENTRIES]
                )
            self.operation_count += len(self.operations)
            session.execute(
                sa.update(AuditChainHead)
                .where(AuditChainHead.id == 1)
                .values(
                    last_operation_id=self.operations[-1]["id"],
                    last_hash=self.prev_hash,
                    operation_count=self.operation_count,
                )
            )
        self.written_operations += len(self.operations)
        self.written_entries += len(self.entries)
        self.operations, self.entries = [], []


def generate(
    *,
    customers: int = 100_000,
    entries: int = 1_000_000,
    seed: int = 1,
    password: str = DEFAULT_PASSWORD,
    orders_per_customer: float = 2.0,
    now: datetime | None = None,
) -> GenerateResult:
    """Fill the app's (empty) database; see the module docstring. Needs an app context."""
    started = time.perf_counter()
    if db.session.execute(sa.select(sa.func.count()).select_from(Customer)).scalar_one():
        raise SystemExit("The database already holds customers: use --fresh (or a new database).")
    rng = random.Random(seed)
    now = now or datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=HISTORY_DAYS)
    staff = _add_staff_and_settings(password)
    state = _Customers(rng, customers, start)
    log = _open_log()

    _write_log(rng, log, state, staff, entries, start, now, customers, seed)
    _insert_customers(rng, state, start, now)
    order_count = _insert_orders(rng, state, now, orders_per_customer)
    _finish(log)
    return GenerateResult(
        customers,
        log.written_operations,
        log.written_entries,
        order_count,
        time.perf_counter() - started,
        password,
    )


def _add_staff_and_settings(password: str) -> dict[str, list[_Staff]]:
    from werkzeug.security import generate_password_hash

    password_hash = generate_password_hash(password)
    with write_transaction() as session:
        rows = []
        for role, extra in ROLES_AND_COUNTS:
            names = [role] + [f"{role}{number:02d}" for number in range(1, extra + 1)]
            existing = set(session.execute(sa.select(StaffUser.username)).scalars())
            rows += [
                {
                    "username": name,
                    "role": role,
                    "is_active": True,
                    "password_hash": password_hash,
                    "session_token": _hex(random.Random(name)),
                    "failed_login_count": 0,
                }
                for name in names
                if name not in existing
            ]
        if rows:
            session.execute(sa.insert(StaffUser), rows)
        reason_ids = _seed_reasons(session)
        _seed_rules(session, reason_ids)
    staff: dict[str, list[_Staff]] = {}
    for user_id, username, role in db.session.execute(
        sa.select(StaffUser.id, StaffUser.username, StaffUser.role).order_by(StaffUser.id)
    ):
        staff.setdefault(role, []).append(_Staff(user_id, username, role))
    db.session.commit()
    return staff


def _open_log() -> _Log:
    head = db.session.execute(sa.select(AuditChainHead).where(AuditChainHead.id == 1)).scalar_one()
    max_entry = db.session.execute(sa.select(sa.func.max(AuditEntry.id))).scalar() or 0
    log = _Log(
        head.last_hash, (head.last_operation_id or 0) + 1, max_entry + 1, head.operation_count
    )
    db.session.commit()
    return log


def _expected_entries_per_operation() -> float:
    low, high = BULK_SIZE_RANGE
    means = {
        "customer_edit": 2.0,
        "status_small": sum(SMALL_SIZES) / len(SMALL_SIZES),
        "status_bulk": (high - low) / math.log(high / low),
    }
    total = sum(weight for _, weight in OPERATION_MIX)
    return sum(means.get(kind, 0) * weight / total for kind, weight in OPERATION_MIX)


def _write_log(rng, log, state, staff, entries_wanted, start, now, customers, seed) -> None:
    kinds, weights = zip(*OPERATION_MIX, strict=False)
    expected_operations = max(1, int(entries_wanted / _expected_entries_per_operation()))
    gap = (now - start).total_seconds() / (expected_operations + 1)
    clock = start
    everyone = [user for users in staff.values() for user in users]
    writers = staff["admin"] + staff["manager"] + staff["clerk"]
    changers = staff["admin"] + staff["manager"]
    log.append(
        _operation(
            rng,
            clock,
            staff["admin"][0],
            "import",
            source="cli",
            scope={"customers": customers, "seed": seed, "tool": "bench"},
            changed_count=customers,
        ),
        [],
    )
    written = 0
    with progress_bar(entries_wanted, "Operation log entries") as progress:
        while written < entries_wanted:
            clock = min(now, clock + timedelta(seconds=rng.expovariate(1 / gap)))
            kind = rng.choices(kinds, weights)[0]
            remaining = entries_wanted - written
            if kind in ("login", "logout", "login_failed"):
                user = rng.choice(everyone)
                outcome = "bad_password" if kind == "login_failed" else "ok"
                log.append(
                    _operation(rng, clock, user, kind, scope={"outcome": outcome}, changed_count=0),
                    [],
                )
                made = []
            elif kind == "customer_edit":
                made = _edit(rng, log, state, rng.choice(writers), clock, remaining)
            else:
                size = (
                    rng.choice(SMALL_SIZES)
                    if kind == "status_small"
                    else int(math.exp(rng.uniform(*map(math.log, BULK_SIZE_RANGE))))
                )
                made = _status_change(
                    rng, log, state, rng.choice(changers), clock, min(size, remaining)
                )
            written += len(made)
            progress(len(made))
            if len(log.entries) >= BATCH_ENTRIES or len(log.operations) >= BATCH_ENTRIES:
                log.flush()
    log.flush()


def _operation(
    rng,
    when,
    user: _Staff,
    action,
    *,
    scope,
    changed_count,
    source="web",
    reason_code=None,
    memo="",
    skipped_count=0,
    confirmation_id=None,
) -> dict:
    return {
        "created_at": when.replace(microsecond=rng.randrange(1_000_000)),
        "actor_id": user.id,
        "actor_username": user.username,
        "actor_role": user.role,
        "action": action,
        "reason_code": reason_code,
        "memo": memo,
        "scope": canonical_json(scope),
        "changed_count": changed_count,
        "skipped_count": skipped_count,
        "source": source,
        "client_ip": None if source == "cli" else _client_ip(rng),
        "user_agent": None if source == "cli" else rng.choice(USER_AGENTS),
        "request_id": None if source == "cli" else _hex(rng),
        "confirmation_id": confirmation_id,
        "reverts_operation_id": None,
    }


def _client_ip(rng: random.Random) -> str:
    return f"10.20.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def _edit(rng, log, state: _Customers, user, when, remaining) -> list[tuple]:
    index = rng.randrange(state.count)
    fields = rng.sample(
        ("phone", "phone", "email", "credit_limit", "name", "segment"),
        k=min(remaining, rng.choice((1, 1, 1, 2, 2, 3))),
    )
    entries = []
    for field in dict.fromkeys(fields):
        old = getattr(state, field)[index]
        if field == "phone":
            new = _phone(rng)
        elif field == "email":
            new = f"{rng.choice(('sales', 'info', 'ap', 'buyer'))}{index + 1}@" + old.split("@")[1]
        elif field == "credit_limit":
            new = Decimal(rng.choice([c for c in _CREDIT_LIMITS if c != old]))
        elif field == "name":
            new = _company_name(rng)
        else:
            new = rng.choice([s for s in SEGMENTS if s != old])
        if new == old:
            continue
        getattr(state, field)[index] = new
        entries.append(("customer", index + 1, state.code[index], field, _text(old), _text(new)))
    if not entries:
        return []
    state.version[index] += 1
    state.updated_at[index] = when
    log.append(_operation(rng, when, user, "customer_edit", scope={}, changed_count=1), entries)
    return entries


def _text(value) -> str:
    return f"{value:.2f}" if isinstance(value, Decimal) else str(value)


def _status_change(rng, log, state: _Customers, user, when, size) -> list[tuple]:
    active_share = state.share["active"] / state.count
    if active_share > TARGET_ACTIVE_SHARE:  # keep frozen and deactivated about level
        action = (
            StatusAction.DEACTIVATE
            if state.share["frozen"] > state.share["deactivated"]
            else StatusAction.FREEZE
        )
    else:
        action = StatusAction.REACTIVATE
    allowed = tuple(s.value for s in action.allowed_from)
    ids = state.sample(rng, size, allowed)
    if not ids:
        return []
    target = action.target.value
    reason = rng.choice(STATUS_REASONS[action.value])
    memo = rng.choice(MEMOS) if reason in MEMO_REQUIRED or rng.random() < 0.3 else ""
    entries = []
    for customer_id in ids:
        index = customer_id - 1
        old = state.status[index]
        entries.append(("customer", customer_id, state.code[index], "status", old, target))
        state.share[old] -= 1
        state.share[target] += 1
        state.status[index] = target
        state.status_reason[index] = reason
        state.status_changed_at[index] = when
        state.status_changed_by[index] = user.id
        state.version[index] += 1
        state.updated_at[index] = when
    skipped = rng.choice((0, 0, 0, 1, 2)) if len(ids) > 1 else 0
    selected = len(ids) + skipped
    if len(ids) > 20 and rng.random() < 0.5:
        scope = {
            "mode": "filter",
            "selected": selected,
            "filter": rng.choice(
                (
                    "status=active",
                    "",
                    "search=golden",
                    "flt0_segment_equals=retail",
                    "status=frozen",
                )
            ),
        }
    else:
        scope = {"mode": "ids", "count": selected, "selected": selected}
        if selected <= 1000:
            scope["ids"] = ids
    log.append(
        _operation(
            rng,
            when,
            user,
            action.value,
            scope=scope,
            changed_count=len(ids),
            reason_code=reason,
            memo=memo,
            skipped_count=skipped,
            confirmation_id=_hex(rng),
        ),
        entries,
    )
    return entries


def _insert_customers(rng, state: _Customers, start: datetime, now: datetime) -> None:
    today = now.date()
    with progress_bar(state.count, "Customers") as progress:
        for batch_start in range(0, state.count, CUSTOMER_BATCH):
            rows = []
            for index in range(batch_start, min(state.count, batch_start + CUSTOMER_BATCH)):
                limit = state.credit_limit[index]
                over = rng.random() < 0.07
                balance = (
                    limit * Decimal(rng.uniform(1.01, 1.6) if over else rng.uniform(0, 0.9))
                ).quantize(Decimal("0.01"))
                quiet_days = rng.choice((0, 0, 0, 30, 90, 200, 400, 700, None))
                last_order = (
                    None
                    if quiet_days is None
                    else now
                    - timedelta(
                        days=rng.randint(quiet_days, HISTORY_DAYS), minutes=rng.randint(0, 600)
                    )
                )
                rows.append(
                    {
                        "id": index + 1,
                        "code": state.code[index],
                        "name": state.name[index],
                        "email": state.email[index],
                        "phone": state.phone[index],
                        "segment": state.segment[index],
                        "credit_limit": limit,
                        "balance": balance,
                        "contract_end": (
                            today + timedelta(days=rng.randint(-400, 900))
                            if rng.random() < 0.7
                            else None
                        ),
                        "last_order_at": last_order,
                        "status": state.status[index],
                        "status_reason": state.status_reason[index],
                        "status_changed_at": state.status_changed_at[index],
                        "status_changed_by": state.status_changed_by[index],
                        "version": state.version[index],
                        "created_at": start - timedelta(days=rng.randint(1, 1500)),
                        "updated_at": state.updated_at[index],
                    }
                )
            with write_transaction() as session:
                session.execute(sa.insert(Customer.__table__), rows)
            progress(len(rows))


def _insert_orders(rng, state: _Customers, now: datetime, per_customer: float) -> int:
    if per_customer <= 0:
        return 0
    number = db.session.execute(sa.select(sa.func.count()).select_from(Order)).scalar_one()
    db.session.commit()
    total = 0
    rows: list[dict] = []

    def write():
        with write_transaction() as session:
            session.execute(sa.insert(Order.__table__), rows)

    with progress_bar(state.count, "Orders") as progress:
        for index in range(state.count):
            for _ in range(min(12, int(rng.expovariate(1 / per_customer)))):
                number += 1
                ordered_at = now - timedelta(
                    days=rng.randint(0, HISTORY_DAYS), minutes=rng.randint(0, 600)
                )
                rows.append(
                    {
                        "number": f"SO{number:09d}",
                        "customer_id": index + 1,
                        "amount": Decimal(rng.randint(5_000, 2_000_000)) / 100,
                        "ordered_at": ordered_at,
                        "created_at": ordered_at,
                    }
                )
            if len(rows) >= CUSTOMER_BATCH:
                write()
                total += len(rows)
                rows = []
            if index % 1000 == 999:
                progress(1000)
        if rows:
            write()
            total += len(rows)
        progress(state.count % 1000)
    return total


def _finish(log: _Log) -> None:
    """Move the id sequences past the explicit ids and refresh the planner statistics."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in ("customers", "audit_operations", "audit_entries", "orders"):
                conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"GREATEST((SELECT max(id) FROM {table}), 1))"
                    )
                )
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
        with engine.connect() as conn:  # start measurements from an empty write-ahead log
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--orders-per-customer", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--password", default=DEFAULT_PASSWORD, help="password of every generated staff user"
    )
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the database first")
    parser.add_argument(
        "--force", action="store_true", help="with --fresh: allow any PostgreSQL database name"
    )
    args = parser.parse_args()
    if args.customers < 1 or args.entries < 0:
        parser.error("--customers must be at least 1 and --entries at least 0")
    url = database_url()
    app = fresh_app(url, force=args.force) if args.fresh else migrated_app(url)
    with app.app_context():
        where = db.engine.url.database if is_postgres(url) else url
        print(f"database: {db.engine.dialect.name} ({where})")
        result = generate(
            customers=args.customers,
            entries=args.entries,
            seed=args.seed,
            password=args.password,
            orders_per_customer=args.orders_per_customer,
        )
    print(
        f"Generated {result.customers:,} customers, {result.operations:,} operations with "
        f"{result.entries:,} entries, {result.orders:,} orders in {result.seconds:.0f} s. "
        f"Staff logins: admin / manager / clerk / auditor, password {result.password!r}."
    )


if __name__ == "__main__":
    main()
