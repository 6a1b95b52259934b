"""t13tz: a time zone per staff user (NULL: the app's APP_TIMEZONE)

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
