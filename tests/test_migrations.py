"""The migrations match the models, and go down and up again, on both databases."""

import os

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from admin_app.extensions import db, include_object

MIGRATIONS = os.path.join(os.path.dirname(__file__), "..", "migrations")


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_models_and_migrations_do_not_drift(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_object})
        assert compare_metadata(context, db.metadata) == []


def test_downgrade_to_base_and_upgrade_again(app, backend):
    downgrade(directory=MIGRATIONS, revision="base")
    inspector = sa.inspect(db.engine)
    assert "customers" not in inspector.get_table_names()
    upgrade(directory=MIGRATIONS)
    inspector = sa.inspect(db.engine)
    for table in ("staff_users", "customers", "orders", "audit_operations", "audit_entries",
                  "reasons", "review_rules"):
        assert table in inspector.get_table_names()


def test_status_is_stored_as_its_text_value(app):
    from tests.conftest import make_customers

    [customer_id] = make_customers(1, status="frozen")
    stored = db.session.execute(
        sa.text("SELECT status FROM customers WHERE id = :id"), {"id": customer_id}).scalar()
    assert stored == "frozen"
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(sa.text("UPDATE customers SET status = 'gone' WHERE id = :id"),
                           {"id": customer_id})
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize("statement", [
    "UPDATE audit_operations SET memo = 'edited'",
    "DELETE FROM audit_operations",
    "UPDATE audit_entries SET new_value = 'x'",
    "DELETE FROM audit_entries",
])
def test_database_refuses_to_change_the_log(app, statement):
    from admin_app.services import staff
    from admin_app.services.audit import Actor

    staff.create_user("someone", role="clerk", password="long-enough-password", actor=Actor.cli())
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(sa.text(statement))
        db.session.commit()
    db.session.rollback()


def test_postgres_refuses_truncate_of_the_log(app, backend):
    if backend != "postgresql":
        pytest.skip("TRUNCATE exists on PostgreSQL only")
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(sa.text("TRUNCATE audit_operations CASCADE"))
        db.session.commit()
    db.session.rollback()
