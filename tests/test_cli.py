import shutil
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import AuditOperation, Customer, Order, Reason, ReviewRule, StaffUser
from admin_app.services import demo
from tests.conftest import _empty_postgres


def test_users_create_makes_an_active_user_and_logs_it(runner):
    result = runner.invoke(
        args=["users", "create", "zoe", "--role", "manager", "--password", "long-enough-password"]
    )
    assert result.exit_code == 0, result.output
    assert "Created manager 'zoe'" in result.output
    user = db.session.execute(sa.select(StaffUser).filter_by(username="zoe")).scalar_one()
    assert (user.role, user.is_active) == ("manager", True)
    assert user.check_password("long-enough-password")
    operation = db.session.execute(sa.select(AuditOperation)).scalar_one()
    assert (operation.action, operation.source) == ("staff_create", "cli")


def test_users_create_prompts_for_the_password(runner):
    result = runner.invoke(
        args=["users", "create", "pat", "--role", "clerk"],
        input="prompted-password-1\nprompted-password-1\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.execute(sa.select(StaffUser).filter_by(username="pat")).scalar_one()
    assert user.check_password("prompted-password-1")


def test_users_create_refuses_bad_input_with_exit_1(runner):
    unknown_role = runner.invoke(
        args=["users", "create", "x", "--role", "boss", "--password", "long-enough-password"]
    )
    assert unknown_role.exit_code != 0
    assert "boss" in unknown_role.output
    short = runner.invoke(args=["users", "create", "x", "--role", "clerk", "--password", "short"])
    assert short.exit_code == 1
    assert "at least 12 characters" in short.output
    runner.invoke(
        args=["users", "create", "dup", "--role", "clerk", "--password", "long-enough-password"]
    )
    duplicate = runner.invoke(
        args=["users", "create", "DUP", "--role", "clerk", "--password", "long-enough-password"]
    )
    assert duplicate.exit_code == 1
    assert "already exists" in duplicate.output
    assert db.session.execute(sa.select(sa.func.count()).select_from(StaffUser)).scalar() == 1


def _count(model):
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar()


def _demo_contents() -> dict:
    """Everything seed-demo writes that its seed decides, row by row."""
    db.session.rollback()

    def rows(model, order_by, exclude=()):
        columns = [c for c in model.__table__.c if c.name not in exclude]
        return [tuple(row) for row in db.session.execute(sa.select(*columns).order_by(order_by))]

    return {
        "customers": rows(Customer, Customer.code),
        "orders": rows(Order, Order.number),
        "reasons": rows(Reason, Reason.code, exclude=("created_at", "updated_at")),
        "rules": rows(ReviewRule, ReviewRule.name, exclude=("created_at", "updated_at")),
        "staff": rows(
            StaffUser,
            StaffUser.username,
            exclude=(
                "password_hash",
                "session_token",
                "created_at",
                "updated_at",
                "password_changed_at",
            ),
        ),
    }


@pytest.fixture
def fresh_database(request, app, database_url):
    """fresh_database() empties the test database (a new copy of the migrated SQLite file,
    or emptied PostgreSQL tables), as if it had just been created."""

    def empty() -> None:
        db.session.remove()
        db.engine.dispose()
        if database_url.startswith("sqlite"):
            shutil.copy(
                request.getfixturevalue("sqlite_template"),
                sa.engine.make_url(database_url).database,
            )
        else:
            _empty_postgres(database_url)

    return empty


def test_seed_demo_is_deterministic(runner, fresh_database, monkeypatch):
    """Two fresh databases seeded with the same seed hold the same rows; another seed gives
    other rows. (The clock is pinned: the demo dates count back from today.)"""
    monkeypatch.setattr(demo, "utcnow", lambda: datetime(2026, 3, 2, 10, 0, tzinfo=UTC))

    def seeded(seed: int) -> dict:
        fresh_database()
        result = runner.invoke(args=["seed-demo", "--customers", "150", "--seed", str(seed)])
        assert result.exit_code == 0, result.output
        return _demo_contents()

    first, again, other = seeded(7), seeded(7), seeded(8)
    assert len(first["customers"]) == 150 and len(first["orders"]) > 150
    assert first == again
    assert other["customers"] != first["customers"]
    assert other["orders"] != first["orders"]
    assert (other["reasons"], other["rules"], other["staff"]) == (
        first["reasons"],
        first["rules"],
        first["staff"],
    )


def test_seed_demo_is_realistic_and_runs_once(runner):
    result = runner.invoke(args=["seed-demo", "--customers", "400", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "Added 400 customers" in result.output
    for role in ("admin", "manager", "clerk", "auditor"):
        assert f"{role}-demo-pass-2026" in result.output
    assert _count(Customer) == 400
    assert _count(Order) > 400
    assert _count(Reason) >= 5
    assert _count(ReviewRule) >= 3
    by_status = dict(
        db.session.execute(
            sa.select(Customer.status, sa.func.count()).group_by(Customer.status)
        ).all()
    )
    assert 0.7 < by_status["active"] / 400 < 0.9
    assert by_status["frozen"] > 10 and by_status["deactivated"] > 10
    assert len(set(db.session.execute(sa.select(Customer.segment)).scalars())) == 3
    over_credit = _count(
        sa.select(Customer.id).where(Customer.balance > Customer.credit_limit).subquery()
    )
    assert over_credit > 0
    first_codes = list(
        db.session.execute(sa.select(Customer.name).order_by(Customer.code).limit(5)).scalars()
    )

    again = runner.invoke(args=["seed-demo", "--customers", "400", "--seed", "7"])
    assert again.exit_code == 0
    assert "nothing was added" in again.output
    assert _count(Customer) == 400
    assert first_codes == list(
        db.session.execute(sa.select(Customer.name).order_by(Customer.code).limit(5)).scalars()
    )


def test_seed_demo_refuses_a_nonsense_count(runner):
    result = runner.invoke(args=["seed-demo", "--customers", "0"])
    assert result.exit_code == 1
    assert "between 1 and" in result.output
