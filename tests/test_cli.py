import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import AuditOperation, Customer, Order, Reason, ReviewRule, StaffUser


def test_users_create_makes_an_active_user_and_logs_it(runner):
    result = runner.invoke(args=["users", "create", "zoe", "--role", "manager",
                                 "--password", "long-enough-password"])
    assert result.exit_code == 0, result.output
    assert "Created manager 'zoe'" in result.output
    user = db.session.execute(sa.select(StaffUser).filter_by(username="zoe")).scalar_one()
    assert (user.role, user.is_active) == ("manager", True)
    assert user.check_password("long-enough-password")
    operation = db.session.execute(sa.select(AuditOperation)).scalar_one()
    assert (operation.action, operation.source) == ("staff_create", "cli")


def test_users_create_prompts_for_the_password(runner):
    result = runner.invoke(args=["users", "create", "pat", "--role", "clerk"],
                           input="prompted-password-1\nprompted-password-1\n")
    assert result.exit_code == 0, result.output
    user = db.session.execute(sa.select(StaffUser).filter_by(username="pat")).scalar_one()
    assert user.check_password("prompted-password-1")


def test_users_create_refuses_bad_input_with_exit_1(runner):
    unknown_role = runner.invoke(args=["users", "create", "x", "--role", "boss",
                                       "--password", "long-enough-password"])
    assert unknown_role.exit_code != 0
    assert "boss" in unknown_role.output
    short = runner.invoke(args=["users", "create", "x", "--role", "clerk", "--password", "short"])
    assert short.exit_code == 1
    assert "at least 12 characters" in short.output
    runner.invoke(args=["users", "create", "dup", "--role", "clerk",
                        "--password", "long-enough-password"])
    duplicate = runner.invoke(args=["users", "create", "DUP", "--role", "clerk",
                                    "--password", "long-enough-password"])
    assert duplicate.exit_code == 1
    assert "already exists" in duplicate.output
    assert db.session.execute(sa.select(sa.func.count()).select_from(StaffUser)).scalar() == 1


def _count(model):
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar()


def test_seed_demo_is_deterministic_realistic_and_runs_once(runner):
    result = runner.invoke(args=["seed-demo", "--customers", "400", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "Added 400 customers" in result.output
    for role in ("admin", "manager", "clerk", "auditor"):
        assert f"{role}-demo-pass-2026" in result.output
    assert _count(Customer) == 400
    assert _count(Order) > 400
    assert _count(Reason) >= 5
    assert _count(ReviewRule) >= 3
    by_status = dict(db.session.execute(
        sa.select(Customer.status, sa.func.count()).group_by(Customer.status)).all())
    assert 0.7 < by_status["active"] / 400 < 0.9
    assert by_status["frozen"] > 10 and by_status["deactivated"] > 10
    assert len(set(db.session.execute(sa.select(Customer.segment)).scalars())) == 3
    over_credit = _count(sa.select(Customer.id).where(
        Customer.balance > Customer.credit_limit).subquery())
    assert over_credit > 0
    first_codes = list(db.session.execute(
        sa.select(Customer.name).order_by(Customer.code).limit(5)).scalars())

    again = runner.invoke(args=["seed-demo", "--customers", "400", "--seed", "7"])
    assert again.exit_code == 0
    assert "nothing was added" in again.output
    assert _count(Customer) == 400
    assert first_codes == list(db.session.execute(
        sa.select(Customer.name).order_by(Customer.code).limit(5)).scalars())


def test_seed_demo_refuses_a_nonsense_count(runner):
    result = runner.invoke(args=["seed-demo", "--customers", "0"])
    assert result.exit_code == 1
    assert "between 1 and" in result.output
