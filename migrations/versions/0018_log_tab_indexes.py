"""t19perf: the log's two tabs read through partial indexes of their own

The operation log opens on its Operations tab (sign-ins apart) and pages through it newest
first. Without an index of its own, a page far down the log walked the table from the newest
row, reading each operation to skip the sign-ins: page 1,000 of a log of 100,000 customers
took 18.6 ms of SQLite time, page 1 0.15 ms (benchmarks/RESULTS.md). Each tab now has a
partial index on the id of its operations, so a page is a walk along that index, whatever
its depth: 1.5 ms for page 1,000. Queries write the action codes out as constants, the same
text as these WHERE clauses (services/actions.is_sign_in), or neither SQLite nor a generic
PostgreSQL plan would use them. Made by hand; autogenerate skips them (migrations/hooks.py).
No row changes.

Revision ID: 0018
Revises: 0017
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# The sign-in actions of services/actions.py (ActionGroup.SIGN_IN) as they were at 0018.
SIGN_INS = "('login', 'login_failed', 'logout')"
TABS = {
    "ix_audit_operations_tab_operations": f"action NOT IN {SIGN_INS}",
    "ix_audit_operations_tab_sign_ins": f"action IN {SIGN_INS}",
}


def upgrade():
    for name, where in TABS.items():
        op.execute(f"CREATE INDEX {name} ON audit_operations (id) WHERE {where}")


def downgrade():
    for name in TABS:
        op.execute(f"DROP INDEX {name}")
