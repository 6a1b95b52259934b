"""t19perf: snapshot items without a foreign key to their snapshot

status_change_request_items.request_id no longer references status_change_requests. The items
are written only by status_change.create_request, in the same transaction as their request,
and deleted with it by the same purge; the per-row key check was most of the time a large
preview took (select all of 900,000 customers: 10.4-12.7 s with it, 3.8 s without, PostgreSQL).
The operation log is not touched.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TABLE = "status_change_request_items"
KEY = "fk_status_change_request_items_request_id_status_change_requests"


def upgrade():
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(KEY), type_="foreignkey")


def downgrade():
    op.execute(
        sa.text(
            f"DELETE FROM {TABLE} WHERE request_id NOT IN (SELECT id FROM status_change_requests)"
        )
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_foreign_key(
            op.f(KEY), "status_change_requests", ["request_id"], ["id"], ondelete="CASCADE"
        )
