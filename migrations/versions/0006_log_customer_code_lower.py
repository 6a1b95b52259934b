"""log customer-code filter: case-insensitive lookup of a customer's entries

An expression index on audit_entries (entity, lower(entity_label)), so the log's customer-code
filter (services.history.operations_of_customer_code) finds `c000006` as `C000006` by index,
not by scanning every entry. Made by hand; autogenerate skips it (migrations/hooks.py).
The log's rows are not touched: every hash stays as it is.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEX = "ix_audit_entries_customer_code_lower"


def upgrade():
    op.execute(f"CREATE INDEX {INDEX} ON audit_entries (entity, lower(entity_label))")


def downgrade():
    op.execute(f"DROP INDEX {INDEX}")
