"""perf: customer counts per status kept by triggers; status changes become HOT updates

- `customer_status_counts` holds how many customers have each status. Triggers on
  `customers` keep it in the same transaction as every INSERT, UPDATE and DELETE (PostgreSQL:
  one statement-level trigger per statement, from its transition tables; SQLite: row
  triggers). The grid's status tabs and the dashboard read it instead of scanning customers.
- The (status, id) index goes: it was only there for those counts, and with it every status
  change had to write a new entry into all eleven indexes of the row. Now no index contains a
  column that a status change writes, so on PostgreSQL the change is a HOT update (the row's
  new version stays on its page, no index is touched), given room on the page:
- PostgreSQL fills new customer pages only half (fillfactor 50). Rows written before this
  revision move to such pages the first time they change, or at once with
  `VACUUM FULL customers` in a quiet moment.

Revision ID: 0004_perf
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_perf"
down_revision = "0003"
branch_labels = None
depends_on = None

FILLFACTOR = 50


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "customer_status_counts",
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("status", name=op.f("pk_customer_status_counts")),
    )
    if postgres:
        # Writers of customers wait while the counts are taken and the triggers created.
        op.execute("LOCK TABLE customers IN SHARE ROW EXCLUSIVE MODE")
    op.execute(
        "INSERT INTO customer_status_counts (status, count) "
        "SELECT status, count(*) FROM customers GROUP BY status"
    )
    if postgres:
        _create_postgres_triggers()
        op.execute(f"ALTER TABLE customers SET (fillfactor = {FILLFACTOR})")
    else:
        _create_sqlite_triggers()
    op.drop_index("ix_customers_status_id", table_name="customers")


def downgrade():
    op.create_index("ix_customers_status_id", "customers", ["status", "id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE customers RESET (fillfactor)")
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS customers_status_counts_{name} ON customers")
        op.execute("DROP FUNCTION IF EXISTS customer_status_counts_apply()")
    else:
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS customers_status_counts_{name}")
    op.drop_table("customer_status_counts")


def _create_postgres_triggers():
    op.execute("""
        CREATE FUNCTION customer_status_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO customer_status_counts AS c (status, count)
                SELECT status, count(*) FROM new_rows GROUP BY status
                ON CONFLICT (status) DO UPDATE SET count = c.count + EXCLUDED.count;
            ELSIF TG_OP = 'DELETE' THEN
                INSERT INTO customer_status_counts AS c (status, count)
                SELECT status, -count(*) FROM old_rows GROUP BY status
                ON CONFLICT (status) DO UPDATE SET count = c.count + EXCLUDED.count;
            ELSE
                INSERT INTO customer_status_counts AS c (status, count)
                SELECT status, sum(delta) FROM (
                    SELECT status, 1 AS delta FROM new_rows
                    UNION ALL
                    SELECT status, -1 FROM old_rows
                ) AS changes
                GROUP BY status HAVING sum(delta) <> 0
                ON CONFLICT (status) DO UPDATE SET count = c.count + EXCLUDED.count;
            END IF;
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER customers_status_counts_insert AFTER INSERT ON customers
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION customer_status_counts_apply()
    """)
    op.execute("""
        CREATE TRIGGER customers_status_counts_update AFTER UPDATE ON customers
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION customer_status_counts_apply()
    """)
    op.execute("""
        CREATE TRIGGER customers_status_counts_delete AFTER DELETE ON customers
        REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION customer_status_counts_apply()
    """)


def _create_sqlite_triggers():
    add_new = (
        "INSERT INTO customer_status_counts (status, count) VALUES (NEW.status, 1) "
        "ON CONFLICT (status) DO UPDATE SET count = count + 1;"
    )
    remove_old = "UPDATE customer_status_counts SET count = count - 1 WHERE status = OLD.status;"
    op.execute(f"""
        CREATE TRIGGER customers_status_counts_insert AFTER INSERT ON customers
        BEGIN {add_new} END
    """)
    op.execute(f"""
        CREATE TRIGGER customers_status_counts_update AFTER UPDATE OF status ON customers
        WHEN OLD.status <> NEW.status
        BEGIN {remove_old} {add_new} END
    """)
    op.execute(f"""
        CREATE TRIGGER customers_status_counts_delete AFTER DELETE ON customers
        BEGIN {remove_old} END
    """)
