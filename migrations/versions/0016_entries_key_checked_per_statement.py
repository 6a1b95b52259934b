"""t19perf: on PostgreSQL, a log entry's operation is checked once per statement, not per row

audit_entries.operation_id loses its foreign key on PostgreSQL; an AFTER INSERT trigger FOR EACH
STATEMENT refuses the whole INSERT, with the same error class (foreign_key_violation), when any
new entry names an operation that does not exist. The foreign key checked every row on its own:
900,000 entries of one "select all" ran 900,000 lookups of the same operation (15.8 s with the
key, 8.8 s without; benchmarks/RESULTS.md). The trigger checks the distinct operation ids of
the statement: one lookup for a bulk change. Deleting an operation was already refused (the
log is append-only), so the key's other half had nothing left to guard.

SQLite keeps its foreign key (its bulk path is not set-based and the key costs little there).
Autogenerate leaves this key alone (migrations/hooks.py). No row changes: every hash stays.

Revision ID: 0016
Revises: 0015
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

KEY = "fk_audit_entries_operation_id_audit_operations"
TRIGGER = "audit_entries_operation_exists"
FUNCTION = "audit_entries_check_operations()"


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE audit_entries DROP CONSTRAINT {KEY}")
    op.execute(f"""
        CREATE FUNCTION {FUNCTION} RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (
                SELECT 1 FROM (SELECT DISTINCT operation_id FROM new_entries) AS named
                WHERE NOT EXISTS (
                    SELECT 1 FROM audit_operations WHERE audit_operations.id = named.operation_id
                )
            ) THEN
                RAISE EXCEPTION 'audit_entries: an entry names an operation that does not exist'
                    USING ERRCODE = 'foreign_key_violation';
            END IF;
            RETURN NULL;
        END $$
    """)
    op.execute(f"""
        CREATE TRIGGER {TRIGGER} AFTER INSERT ON audit_entries
        REFERENCING NEW TABLE AS new_entries
        FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}
    """)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP TRIGGER {TRIGGER} ON audit_entries")
    op.execute(f"DROP FUNCTION {FUNCTION}")
    op.execute(
        f"ALTER TABLE audit_entries ADD CONSTRAINT {KEY} "
        "FOREIGN KEY (operation_id) REFERENCES audit_operations (id)"
    )
