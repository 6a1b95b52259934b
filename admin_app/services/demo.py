"""Demo data: deterministic customers, orders, staff, reasons and review rules.

Used by `flask seed-demo` and `make run`. Seeding is one logged operation; it does nothing
when customers already exist.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, insert, select

from admin_app.models import Customer, Order, Reason, ReviewRule, StaffUser
from admin_app.models.types import utcnow
from admin_app.roles import ROLES
from admin_app.services.actions import OperationAction
from admin_app.services.audit import Actor, NewOperation, append_operation
from admin_app.services.errors import InvalidInput
from admin_app.services.staff import password_problem
from admin_app.services.transaction import write_transaction

INSERT_BATCH = 2000

DEFAULT_REASONS = (
    # code, label (English), 简体中文, 繁體中文, deactivate, freeze, reactivate, memo required
    ("non_payment", "Overdue payment", "逾期未付款", "逾期未付款", True, True, False, False),
    (
        "over_credit",
        "Balance over credit limit",
        "余额超过信用额度",
        "餘額超過信用額度",
        True,
        True,
        False,
        False,
    ),
    (
        "inactive",
        "No orders for a long time",
        "长期无订单",
        "長期無訂單",
        True,
        False,
        False,
        False,
    ),
    ("contract_ended", "Contract ended", "合同已到期", "合約已到期", True, True, False, False),
    ("customer_request", "Customer request", "客户要求", "客戶要求", True, True, True, False),
    ("duplicate", "Duplicate account", "重复账户", "重複帳戶", True, False, False, True),
    ("fraud_suspected", "Suspected fraud", "疑似欺诈", "疑似詐欺", True, True, False, True),
    (
        "issue_resolved",
        "Issue resolved / payment received",
        "问题已解决或已收款",
        "問題已解決或已收款",
        False,
        False,
        True,
        False,
    ),
    (
        "other",
        "Other (explain in the memo)",
        "其他（请在备注中说明）",
        "其他（請在備註中說明）",
        True,
        True,
        True,
        True,
    ),
)
DEFAULT_RULES = (
    # name (English), 简体中文, 繁體中文, segment, inactivity days, over credit,
    # contract ended days, reason code
    (
        "Retail: no order for 365 days",
        "零售：365 天无订单",
        "零售：365 天無訂單",
        "retail",
        365,
        False,
        None,
        "inactive",
    ),
    (
        "Wholesale: no order for 180 days",
        "批发：180 天无订单",
        "批發：180 天無訂單",
        "wholesale",
        180,
        False,
        None,
        "inactive",
    ),
    (
        "Distributor: no order for 120 days",
        "经销商：120 天无订单",
        "經銷商：120 天無訂單",
        "distributor",
        120,
        False,
        None,
        "inactive",
    ),
    (
        "Balance over credit limit",
        "余额超出信用额度",
        "餘額超過信用額度",
        None,
        None,
        True,
        None,
        "over_credit",
    ),
    (
        "Contract ended more than 30 days ago",
        "合同到期超过 30 天",
        "合約到期超過 30 天",
        None,
        None,
        False,
        30,
        "contract_ended",
    ),
)

_NAME_HEADS = (
    "Golden",
    "Harbor",
    "Summit",
    "Lotus",
    "Jade",
    "Pacific",
    "Northwind",
    "Evergreen",
    "Oriental",
    "Silverline",
    "Bluewater",
    "Red Maple",
    "Sunrise",
    "Crystal",
    "Phoenix",
    "Great Wall",
    "Pearl",
    "Dragon Gate",
    "Bamboo",
    "Meridian",
    "Horizon",
    "Kunlun",
    "Yangtze",
    "Cedar",
    "Orchid",
)
_NAME_MIDS = (
    "Trading",
    "Foods",
    "Electronics",
    "Textiles",
    "Hardware",
    "Logistics",
    "Pharma",
    "Furniture",
    "Auto Parts",
    "Tea House",
    "Paper",
    "Machinery",
    "Cosmetics",
    "Seafood",
    "Printing",
    "Garden",
)
_NAME_TAILS = ("Co., Ltd.", "Ltd.", "Group", "Store", "Supply", "Corp.", "Wholesale", "& Sons")
_SEGMENT_WEIGHTS = (("retail", 60), ("wholesale", 30), ("distributor", 10))
_STATUS_WEIGHTS = (("active", 80), ("frozen", 10), ("deactivated", 10))


@dataclass(frozen=True)
class SeedResult:
    customers: int
    orders: int
    logins: tuple[tuple[str, str, str], ...]  # (username, role, password)
    skipped: bool = False


def demo_password(role: str, shared_password: str | None) -> str:
    return shared_password or f"{role}-demo-pass-2026"


def seed_demo(
    *,
    customers: int = 500,
    seed: int = 42,
    shared_password: str | None = None,
    today: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> SeedResult:
    """Insert demo data unless customers exist. Commits once. Returns what it made.
    `progress(n)` is called as each batch of n customers (with their orders) is inserted."""
    if customers < 1 or customers > 1_000_000:
        raise InvalidInput(_("--customers must be between 1 and 1,000,000."))
    if shared_password and (problem := password_problem(shared_password)):
        raise InvalidInput(_("DEMO_PASSWORD: %(problem)s", problem=problem))
    rng = random.Random(seed)
    today = today or utcnow().date()
    with write_transaction() as session:
        if session.execute(select(func.count()).select_from(Customer)).scalar_one():
            return SeedResult(0, 0, (), skipped=True)
        logins = _seed_staff(session, shared_password)
        reason_ids = _seed_reasons(session)
        _seed_rules(session, reason_ids)
        order_count = _seed_customers_and_orders(session, rng, customers, today, progress)
        append_operation(
            NewOperation(
                actor=Actor.cli(),
                action=OperationAction.SEED_DEMO,
                scope={"customers": customers, "orders": order_count, "seed": seed},
                changed_count=customers,
            )
        )
    return SeedResult(customers, order_count, logins)


def _seed_staff(session, shared_password):
    logins = []
    for role in ROLES:
        exists = session.execute(select(StaffUser.id).where(StaffUser.username == role)).first()
        if exists:
            continue
        password = demo_password(role, shared_password)
        user = StaffUser(username=role, role=role, is_active=True)
        user.set_password(password)
        session.add(user)
        logins.append((role, role, password))
    session.flush()
    return tuple(logins)


def _seed_reasons(session) -> dict[str, int]:
    """The default reasons (those whose code is free), in English, 简体 and 繁體."""
    for position, (code, label, label_zh, label_zh_hant, deact, freeze, react, memo) in enumerate(
        DEFAULT_REASONS
    ):
        if session.execute(select(Reason.id).where(Reason.code == code)).first():
            continue
        session.add(
            Reason(
                code=code,
                label=label,
                label_zh=label_zh,
                label_zh_hant=label_zh_hant,
                for_deactivate=deact,
                for_freeze=freeze,
                for_reactivate=react,
                memo_required=memo,
                enabled=True,
                position=position,
            )
        )
    session.flush()
    return dict(session.execute(select(Reason.code, Reason.id)).all())


def _seed_rules(session, reason_ids: dict[str, int]) -> None:
    """The default review rules (unless there are rules), in English, 简体 and 繁體."""
    if session.execute(select(ReviewRule.id).limit(1)).first():
        return
    for (
        name,
        name_zh,
        name_zh_hant,
        segment,
        inactivity,
        over_credit,
        contract_days,
        reason_code,
    ) in DEFAULT_RULES:
        session.add(
            ReviewRule(
                name=name,
                name_zh=name_zh,
                name_zh_hant=name_zh_hant,
                segment=segment,
                inactivity_days=inactivity,
                flag_over_credit=over_credit,
                contract_ended_days=contract_days,
                reason_id=reason_ids.get(reason_code),
                enabled=True,
            )
        )
    session.flush()


def _weighted(rng: random.Random, pairs) -> str:
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights)[0]


def _seed_customers_and_orders(session, rng, count: int, today: date, progress=None) -> int:
    now = datetime.combine(today, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
    order_total = 0
    next_order_number = 1
    for start in range(0, count, INSERT_BATCH):
        customer_rows, order_plans = [], []
        for number in range(start + 1, min(count, start + INSERT_BATCH) + 1):
            row, orders = _demo_customer(rng, number, now, today)
            customer_rows.append(row)
            order_plans.append(orders)
        session.execute(insert(Customer), customer_rows)
        ids = dict(
            session.execute(
                select(Customer.code, Customer.id).where(
                    Customer.code.in_([row["code"] for row in customer_rows])
                )
            ).all()
        )
        order_rows = []
        for row, orders in zip(customer_rows, order_plans, strict=True):
            for ordered_at, amount in orders:
                order_rows.append(
                    {
                        "number": f"SO{next_order_number:08d}",
                        "customer_id": ids[row["code"]],
                        "amount": amount,
                        "ordered_at": ordered_at,
                        "created_at": ordered_at,
                    }
                )
                next_order_number += 1
        for batch_start in range(0, len(order_rows), INSERT_BATCH):
            session.execute(insert(Order), order_rows[batch_start : batch_start + INSERT_BATCH])
        order_total += len(order_rows)
        if progress is not None:
            progress(len(customer_rows))
    return order_total


def _demo_customer(rng: random.Random, number: int, now: datetime, today: date):
    segment = _weighted(rng, _SEGMENT_WEIGHTS)
    status = _weighted(rng, _STATUS_WEIGHTS)
    name = f"{rng.choice(_NAME_HEADS)} {rng.choice(_NAME_MIDS)} {rng.choice(_NAME_TAILS)}"
    credit_limit = Decimal(rng.choice((5_000, 10_000, 20_000, 50_000, 100_000, 250_000)))
    over_credit = rng.random() < 0.07
    balance = (
        credit_limit * Decimal(rng.uniform(1.01, 1.6) if over_credit else rng.uniform(0, 0.9))
    ).quantize(Decimal("0.01"))
    contract_end = today + timedelta(days=rng.randint(-400, 900)) if rng.random() < 0.7 else None
    # Order history over the last two years; some customers went quiet long ago.
    quiet_days = rng.choice((0, 0, 0, 30, 90, 200, 400, 700))
    orders = []
    for _order in range(rng.choice((0, 1, 2, 3, 4, 5, 6, 8))):
        days_ago = rng.randint(quiet_days, 730)
        ordered_at = now - timedelta(days=days_ago, minutes=rng.randint(0, 600))
        amount = Decimal(rng.randint(50, 20_000)).quantize(Decimal("0.01"))
        orders.append((ordered_at, amount))
    created_at = now - timedelta(days=rng.randint(731, 2000))
    changed_at = None if status == "active" else now - timedelta(days=rng.randint(1, 300))
    row = {
        "code": f"C{number:06d}",
        "name": name,
        "email": f"contact{number}@{name.split()[0].lower()}-example.com",
        "phone": f"+86 21 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
        "segment": segment,
        "credit_limit": credit_limit,
        "balance": balance,
        "contract_end": contract_end,
        "last_order_at": max((at for at, _amount in orders), default=None),
        "status": status,
        "status_reason": None
        if status == "active"
        else ("non_payment" if status == "frozen" else "inactive"),
        "status_changed_at": changed_at,
        "version": 1,
        "created_at": created_at,
        "updated_at": changed_at or created_at,
    }
    return row, orders
