"""t16: scheduled status changes (effective dates, automatic reactivation) and runner runs

Revision ID: 0012
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "scheduled_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expected_status", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("group_id", sa.String(length=64), nullable=False),
        sa.Column("schedule_operation_id", sa.Integer(), nullable=False),
        sa.Column("result_operation_id", sa.Integer(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("skip_reason", sa.String(length=16), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'done', 'skipped', 'cancelled')",
            name=op.f("ck_scheduled_changes_status_known"),
        ),
        sa.CheckConstraint(
            "action IN ('deactivate', 'freeze', 'reactivate')",
            name=op.f("ck_scheduled_changes_action_known"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_scheduled_changes_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["staff_users.id"],
            name=op.f("fk_scheduled_changes_created_by_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["schedule_operation_id"],
            ["audit_operations.id"],
            name=op.f("fk_scheduled_changes_schedule_operation_id_audit_operations"),
        ),
        sa.ForeignKeyConstraint(
            ["result_operation_id"],
            ["audit_operations.id"],
            name=op.f("fk_scheduled_changes_result_operation_id_audit_operations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_changes")),
    )
    with op.batch_alter_table("scheduled_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scheduled_changes_pending_customer",
            ["customer_id"],
            unique=False,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )
        batch_op.create_index("ix_scheduled_changes_status_due", ["status", "due_at"], unique=False)
        batch_op.create_index(
            "ix_scheduled_changes_status_action_due", ["status", "action", "due_at"], unique=False
        )
        batch_op.create_index(
            "ix_scheduled_changes_customer_id", ["customer_id", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_scheduled_changes_group_id"), ["group_id"], unique=False
        )

    op.create_table(
        "schedule_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_count", sa.Integer(), nullable=False),
        sa.Column("skipped_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_runs")),
    )
    with op.batch_alter_table("schedule_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_schedule_runs_finished_at"), ["finished_at"], unique=False
        )


def downgrade():
    op.drop_table("schedule_runs")
    op.drop_table("scheduled_changes")
