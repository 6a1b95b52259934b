"""Autogenerate hooks (used by env.py, and by tests/test_migrations.py for the drift check).

Expression indexes for prefix search (dialect-specific) and the log's case-insensitive customer
code are made by hand in their migrations; autogenerate cannot compare them, so it leaves them
alone. UTCDateTime is rendered as the plain type it stores, so revisions do not import
application code.
"""

from admin_app.models.types import render_alembic_type

HAND_MADE_INDEX_PREFIX = ("ix_customers_search_", "ix_audit_entries_customer_code_lower")


def include_object(object_, name, type_, reflected, compare_to):
    return not (type_ == "index" and (name or "").startswith(HAND_MADE_INDEX_PREFIX))


def render_item(type_, object_, autogen_context):
    if type_ == "type":
        return render_alembic_type(object_, None, autogen_context)
    return False
