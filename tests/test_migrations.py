"""The migrations match the models, and go down and up again, on both databases."""

import importlib.util
import os

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from admin_app.extensions import db
from tests.conftest import make_customers

MIGRATIONS = os.path.join(os.path.dirname(__file__), "..", "migrations")
_spec = importlib.util.spec_from_file_location("migrations_hooks", f"{MIGRATIONS}/hooks.py")
hooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hooks)
include_object = hooks.include_object


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_models_and_migrations_do_not_drift(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_object}
        )
        assert compare_metadata(context, db.metadata) == []


def test_downgrade_to_base_and_upgrade_again(app, backend):
    downgrade(directory=MIGRATIONS, revision="base")
    inspector = sa.inspect(db.engine)
    assert "customers" not in inspector.get_table_names()
    upgrade(directory=MIGRATIONS)
    inspector = sa.inspect(db.engine)
    for table in (
        "staff_users",
        "customers",
        "orders",
        "audit_operations",
        "audit_entries",
        "reasons",
        "review_rules",
    ):
        assert table in inspector.get_table_names()


def test_status_is_stored_as_its_text_value(app):
    from tests.conftest import make_customers

    [customer_id] = make_customers(1, status="frozen")
    stored = db.session.execute(
        sa.text("SELECT status FROM customers WHERE id = :id"), {"id": customer_id}
    ).scalar()
    assert stored == "frozen"
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(
            sa.text("UPDATE customers SET status = 'gone' WHERE id = :id"), {"id": customer_id}
        )
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_operations SET memo = 'edited'",
        "DELETE FROM audit_operations",
        "UPDATE audit_entries SET new_value = 'x'",
        "DELETE FROM audit_entries",
    ],
)
def test_database_refuses_to_change_the_log(app, statement):
    from admin_app.services import staff
    from admin_app.services.audit import Actor

    staff.create_user("someone", role="clerk", password="long-enough-password", actor=Actor.cli())
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(sa.text(statement))
        db.session.commit()
    db.session.rollback()


ENTRY = (
    "INSERT INTO audit_entries (operation_id, entity, entity_id, entity_label, field, "
    "old_value, new_value) VALUES "
)


def test_the_log_refuses_entries_of_an_operation_that_does_not_exist(app):
    """The key from an entry to its operation holds on both databases (PostgreSQL checks it
    once per statement, migration 0016): one entry naming a missing operation refuses the
    whole INSERT, the good rows with it."""
    from admin_app.services import staff
    from admin_app.services.audit import Actor

    staff.create_user("someone", role="clerk", password="long-enough-password", actor=Actor.cli())
    operation_id = db.session.execute(sa.text("SELECT max(id) FROM audit_operations")).scalar()
    entries_before = db.session.execute(sa.text("SELECT count(*) FROM audit_entries")).scalar()
    good = f"({operation_id}, 'customer', 1, 'C1', 'status', 'active', 'frozen')"
    missing = f"({operation_id + 1}, 'customer', 2, 'C2', 'status', 'active', 'frozen')"
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(sa.text(ENTRY + f"{good}, {missing}, {good}"))
        db.session.commit()
    db.session.rollback()
    count = db.session.execute(sa.text("SELECT count(*) FROM audit_entries")).scalar()
    assert count == entries_before
    db.session.execute(sa.text(ENTRY + f"{good}, {good}"))
    db.session.commit()
    count = db.session.execute(sa.text("SELECT count(*) FROM audit_entries")).scalar()
    assert count == entries_before + 2


def test_postgres_refuses_truncate_of_the_log(app, backend):
    if backend != "postgresql":
        pytest.skip("TRUNCATE exists on PostgreSQL only")
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(sa.text("TRUNCATE audit_operations CASCADE"))
        db.session.commit()
    db.session.rollback()


def test_a_log_written_before_0005_still_verifies_after_upgrading(app, backend):
    """Operations appended at revision 0004 (as the app wrote them then, a failed login with
    the typed username included) keep their hashes: `audit verify` passes after the upgrade,
    and the new case-insensitive customer-code lookup finds them."""
    from admin_app.services import audit_verify, history
    from admin_app.services.audit import Actor, NewOperation, append_operation
    from admin_app.services.transaction import write_transaction

    def log_indexes() -> set[str]:
        listing = (
            "SELECT name FROM sqlite_master WHERE tbl_name = 'audit_entries'"
            if backend == "sqlite"
            else "SELECT indexname FROM pg_indexes WHERE tablename = 'audit_entries'"
        )
        with db.engine.connect() as conn:
            return set(conn.execute(sa.text(listing)).scalars())

    downgrade(directory=MIGRATIONS, revision="0004_perf")
    assert not {name for name in log_indexes() if "code" in name}
    old = [
        NewOperation(
            actor=Actor(id=None, username="Typed In Wrong Box", role="?"),
            action="login_failed",
            scope={"outcome": "unknown_user"},
            changed_count=0,
        ),
        NewOperation(
            actor=Actor.cli(),
            action="deactivate",
            reason_code="other",
            memo="old",
            entries=[("customer", 6, "C000006", "status", "active", "deactivated")],
            scope={"mode": "ids", "count": 1, "ids": [6]},
        ),
        NewOperation(
            actor=Actor.cli(),
            action="staff_update",
            entries=[("staff_user", 1, "clerk", "role", "clerk", "manager")],
        ),
    ]
    with write_transaction():
        for operation in old:
            append_operation(operation)
    db.session.remove()
    upgrade(directory=MIGRATIONS)
    indexes = log_indexes()
    assert {"ix_audit_entries_code_change_old", "ix_audit_entries_code_change_new"} <= indexes
    assert "ix_audit_entries_customer_code_lower" not in indexes  # 0006 made it, 0017 dropped it
    result = audit_verify.verify_chain()
    assert result.intact and result.operations_checked == 3
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0
    make_customers(1)  # a customer row for the log's customer 6, whose code it is today
    db.session.execute(sa.text("UPDATE customers SET id = 6, code = 'C000006'"))
    db.session.commit()
    found = db.session.execute(history.operations_of_customer_code("c000006")).scalars().all()
    assert found == [2]
