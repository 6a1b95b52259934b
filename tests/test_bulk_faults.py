"""SECURITY.md T44 for the chunked bulk execution: a database failure at the k-th chunk's
UPDATE, at the entries INSERT or at COMMIT leaves nothing changed, no log rows and the
confirmation unused. On SQLite and PostgreSQL."""

import re

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import AuditEntry, AuditOperation, StatusAction
from admin_app.services import status_change
from admin_app.services.audit import Actor
from tests.conftest import make_customers, statuses


@pytest.fixture
def actor(staff):
    admin = staff["admin"]
    return Actor(id=admin.id, username=admin.username, role=admin.role)


class Injected(Exception):
    pass


def log_rows() -> tuple[int, int]:
    db.session.rollback()
    return tuple(
        db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar()
        for model in (AuditOperation, AuditEntry)
    )


@pytest.mark.parametrize("where", ["third UPDATE", "entries INSERT", "COMMIT"])
def test_failure_anywhere_in_the_execution_changes_nothing(reasons, actor, where):
    ids = make_customers(25)
    request_id = status_change.create_request(action=StatusAction.DEACTIVATE, actor=actor, ids=ids)
    before = log_rows()
    seen = []

    def on_statement(conn, cursor, statement, parameters, context, executemany):
        text = statement.lstrip().upper()
        # Alone, or (PostgreSQL) as the CTE whose rows an INSERT keeps: WITH changed AS (UPDATE …
        if re.match(r"(WITH\s+\w+\s+AS\s*\(\s*)?UPDATE CUSTOMERS\b", text):
            seen.append(statement)
            if where == "third UPDATE" and len(seen) == 3:
                raise Injected(where)
        if where == "entries INSERT" and text.startswith("INSERT INTO AUDIT_ENTRIES"):
            raise Injected(where)

    def on_commit(conn):
        if where == "COMMIT" and seen:
            raise Injected(where)

    sa.event.listen(db.engine, "before_cursor_execute", on_statement)
    sa.event.listen(db.engine, "commit", on_commit)
    try:
        with pytest.raises(Injected):
            status_change.execute(
                request_id, actor=actor, reason_code="customer_request", chunk_size=5
            )
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", on_statement)
        sa.event.remove(db.engine, "commit", on_commit)
    assert len(seen) >= 3 if where != "third UPDATE" else len(seen) == 3
    assert statuses(ids) == {i: "active" for i in ids}
    assert log_rows() == before
    # The confirmation was not used up: it still works, once.
    result = status_change.execute(request_id, actor=actor, reason_code="customer_request")
    assert result.changed == 25
    assert statuses(ids) == {i: "deactivated" for i in ids}
