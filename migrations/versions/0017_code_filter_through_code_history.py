"""t19perf: the log's customer-code filter finds customers through their code history

Drops ix_audit_entries_customer_code_lower (entity, lower(entity_label)), an index on every
log entry that only the log's customer-code filter read: a "select all" of 900,000 customers
spent 2.3 s of its 7.3 s INSERT of entries maintaining it (1,000,000 customers, PostgreSQL;
benchmarks/RESULTS.md). The filter now finds the customers that ever had the code (today's
code, through ix_customers_search_code, or a former one, through the two partial indexes below
on the few entries that change a code) and then their entries with that label through
ix_audit_entries_entity: the same operations, still by index. Made by hand; autogenerate
skips them (migrations/hooks.py). No row changes: every hash stays.

Revision ID: 0017
Revises: 0016
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

LABEL_INDEX = "ix_audit_entries_customer_code_lower"
CODE_CHANGES = "entity = 'customer' AND field = 'code'"


def upgrade():
    op.execute(f"DROP INDEX {LABEL_INDEX}")
    for side in ("old", "new"):
        op.execute(
            f"CREATE INDEX ix_audit_entries_code_change_{side} "
            f"ON audit_entries (lower({side}_value)) WHERE {CODE_CHANGES}"
        )


def downgrade():
    for side in ("old", "new"):
        op.execute(f"DROP INDEX ix_audit_entries_code_change_{side}")
    op.execute(f"CREATE INDEX {LABEL_INDEX} ON audit_entries (entity, lower(entity_label))")
