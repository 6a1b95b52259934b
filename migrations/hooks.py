"""Autogenerate hooks (used by env.py, and by tests/test_migrations.py for the drift check).

Expression indexes for prefix search (dialect-specific), the log's code changes (the
customer-code filter) and the log's tabs (partial indexes) are made by hand in their
migrations; autogenerate cannot compare them, so it leaves them alone. The log entries' key
to their operation is checked by a statement trigger instead on PostgreSQL (migration 0016),
so it is left alone too. UTCDateTime is rendered as the plain type it stores, so revisions
do not import application code.
"""

from admin_app.models.types import render_alembic_type

HAND_MADE_INDEX_PREFIX = (
    "ix_customers_search_",
    "ix_audit_entries_code_change_",
    "ix_audit_operations_tab_",
)
KEY_CHECKED_BY_TRIGGER = "fk_audit_entries_operation_id_audit_operations"


def include_object(object_, name, type_, reflected, compare_to):
    if type_ == "foreign_key_constraint":
        return name != KEY_CHECKED_BY_TRIGGER
    return not (type_ == "index" and (name or "").startswith(HAND_MADE_INDEX_PREFIX))


def render_item(type_, object_, autogen_context):
    if type_ == "type":
        return render_alembic_type(object_, None, autogen_context)
    return False
