"""t21list: status change snapshots made by the CLI have no staff user

`flask customers change-status` previews and executes through the same snapshot as the web
confirmation page, as the system actor (Actor.cli(), no staff user id): created_by becomes
nullable. The web flow always sets it (the token binds the snapshot to that user).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("status_change_requests", schema=None) as batch_op:
        batch_op.alter_column("created_by", existing_type=sa.Integer(), nullable=True)


def downgrade():
    # Snapshots are short-lived previews; the CLI's (no user) cannot be kept.
    op.execute(
        "DELETE FROM status_change_request_items WHERE request_id IN "
        "(SELECT id FROM status_change_requests WHERE created_by IS NULL)"
    )
    op.execute("DELETE FROM status_change_requests WHERE created_by IS NULL")
    with op.batch_alter_table("status_change_requests", schema=None) as batch_op:
        batch_op.alter_column("created_by", existing_type=sa.Integer(), nullable=False)
