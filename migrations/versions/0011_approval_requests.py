"""t15: four-eyes approval requests, and reasons that always require approval

`approval_requests` holds status changes waiting for a second person, bound to their previewed
snapshot (`status_change_requests`, SET NULL when the snapshot is purged after the decision).
`reasons.requires_approval` (default false) marks reasons whose changes always need approval.
`effective_at` / `until` keep the dates of a scheduled change sent for approval.
Nothing hashed in the operation log changes.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "approval_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("snapshot_id", sa.String(length=32), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("reverts_operation_id", sa.Integer(), nullable=True),
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("customer_count", sa.Integer(), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("requested_by_name", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_by_name", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("request_operation_id", sa.Integer(), nullable=True),
        sa.Column("decision_operation_id", sa.Integer(), nullable=True),
        sa.Column("result_operation_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["staff_users.id"],
            name=op.f("fk_approval_requests_decided_by_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["decision_operation_id"],
            ["audit_operations.id"],
            name=op.f("fk_approval_requests_decision_operation_id_audit_operations"),
        ),
        sa.ForeignKeyConstraint(
            ["request_operation_id"],
            ["audit_operations.id"],
            name=op.f("fk_approval_requests_request_operation_id_audit_operations"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["staff_users.id"],
            name=op.f("fk_approval_requests_requested_by_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["result_operation_id"],
            ["audit_operations.id"],
            name=op.f("fk_approval_requests_result_operation_id_audit_operations"),
        ),
        sa.ForeignKeyConstraint(
            ["reverts_operation_id"],
            ["audit_operations.id"],
            name=op.f("fk_approval_requests_reverts_operation_id_audit_operations"),
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["status_change_requests.id"],
            name=op.f("fk_approval_requests_snapshot_id_status_change_requests"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_requests")),
        sa.UniqueConstraint("snapshot_id", name=op.f("uq_approval_requests_snapshot_id")),
    )
    with op.batch_alter_table("approval_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_approval_requests_requested_by"), ["requested_by"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_approval_requests_status"), ["status"], unique=False)

    with op.batch_alter_table("reasons", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("requires_approval", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("reasons", schema=None) as batch_op:
        batch_op.drop_column("requires_approval")

    with op.batch_alter_table("approval_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approval_requests_status"))
        batch_op.drop_index(batch_op.f("ix_approval_requests_requested_by"))

    op.drop_table("approval_requests")
