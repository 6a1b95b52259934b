"""customer search indexes: case-insensitive prefix search on code, name and email

Expression indexes, different per database (PostgreSQL compares them in the "C" collation so
a range scan is a prefix match). Autogenerate skips them (see migrations/hooks.py).

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = ("code", "name", "email")


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    for column in COLUMNS:
        expression = f'(lower({column}) COLLATE "C")' if postgres else f"lower({column})"
        op.execute(f"CREATE INDEX ix_customers_search_{column} ON customers ({expression})")


def downgrade():
    for column in COLUMNS:
        op.execute(f"DROP INDEX ix_customers_search_{column}")
