"""t20ckpt: audit_checkpoints, the record of signed log checkpoints written out

`flask audit checkpoint` signs the chain's newest operation with a key that is not in the
database and writes the line to a file or syslog; this table only remembers that it did (for
the dashboard). It is not part of the hash chain and not append-only: the trust anchor is the
signed line outside the database.

Revision ID: 0005
Revises: 0004_perf
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004_perf"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=True),
        sa.Column("operation_hash", sa.String(length=64), nullable=True),
        sa.Column("operation_count", sa.Integer(), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )


def downgrade():
    op.drop_table("audit_checkpoints")
