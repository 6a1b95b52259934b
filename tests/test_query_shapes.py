"""The query shapes that keep the app fast at 100,000 customers and 1,000,000 log entries:
status counts kept by triggers, no COUNT(*) per page, status changes that touch no index
(HOT updates on PostgreSQL), and bulk statements whose size does not grow with the selection.
On SQLite and PostgreSQL."""

import re
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from admin_app.extensions import db
from admin_app.models import AuditEntry, AuditOperation, Customer, StatusAction
from admin_app.services import customer_counts, status_change
from admin_app.services.audit import Actor
from tests.conftest import make_customers

# The columns a status change writes: no index may contain one of them.
STATUS_CHANGE_COLUMNS = (
    "status",
    "status_reason",
    "status_changed_at",
    "status_changed_by",
    "version",
    "updated_at",
)


@contextmanager
def statements():
    seen: list[tuple[str, object, bool]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((" ".join(statement.split()), parameters, executemany))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def true_counts() -> dict[str, int]:
    db.session.rollback()
    counts = {"active": 0, "frozen": 0, "deactivated": 0}
    counts.update(
        dict(
            db.session.execute(
                sa.select(Customer.status, sa.func.count()).group_by(Customer.status)
            ).all()
        )
    )
    return counts


@pytest.fixture
def actor(staff):
    admin = staff["admin"]
    return Actor(id=admin.id, username=admin.username, role=admin.role)


@pytest.fixture
def admin_client(client, login, reasons):
    login("admin")
    return client


def test_status_counts_follow_inserts_changes_and_deletes(app, reasons, actor):
    assert customer_counts.status_counts() == {"active": 0, "frozen": 0, "deactivated": 0}
    ids = make_customers(6)
    make_customers(2, status="frozen", start=20)
    assert (
        customer_counts.status_counts()
        == true_counts()
        == {"active": 6, "frozen": 2, "deactivated": 0}
    )
    request_id = status_change.create_request(
        action=StatusAction.DEACTIVATE, actor=actor, ids=ids[:4]
    )
    status_change.execute(request_id, actor=actor, reason_code="customer_request")
    assert (
        customer_counts.status_counts()
        == true_counts()
        == {"active": 2, "frozen": 2, "deactivated": 4}
    )
    # Whatever writes the table (here plain SQL), the counts follow in the same transaction.
    db.session.execute(sa.update(Customer).where(Customer.id == ids[4]).values(status="frozen"))
    db.session.execute(sa.update(Customer).where(Customer.id == ids[5]).values(name="renamed"))
    db.session.execute(sa.delete(Customer).where(Customer.id == ids[0]))
    assert customer_counts.status_counts() == {"active": 1, "frozen": 3, "deactivated": 3}
    db.session.rollback()
    assert (
        customer_counts.status_counts()
        == true_counts()
        == {"active": 2, "frozen": 2, "deactivated": 4}
    )


def test_unfiltered_grid_counts_without_scanning_customers(admin_client):
    make_customers(5)
    make_customers(3, status="deactivated", start=10)
    with statements() as seen:
        response = admin_client.get("/admin/customers/")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    on_customers = [s for s, _, _ in seen if re.search(r"\bFROM customers\b", s)]
    assert len(on_customers) == 1, on_customers  # the page itself, nothing else
    assert "count(" not in on_customers[0].lower()
    tabs = dict(re.findall(r'data-status="(\w+)">\s*[^<]*<span class="badge[^"]*">([\d,]+)', body))
    assert tabs == {"active": "5", "frozen": "0", "deactivated": "3"}
    assert 'data-total="8"' in body


@pytest.mark.parametrize(
    "query, total",
    [("?status=deactivated", 3), ("?search=test", 8), ("?search=test&status=active", 5)],
)
def test_grid_total_comes_from_one_group_by(admin_client, query, total):
    make_customers(5)
    make_customers(3, status="deactivated", start=10)
    with statements() as seen:
        response = admin_client.get(f"/admin/customers/{query}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    counting = [s for s, _, _ in seen if "count(" in s.lower()]
    assert len(counting) <= 1 and all("GROUP BY" in s for s in counting), counting
    assert f'data-total="{total}"' in body
    assert body.count('name="rowid"') == total


@pytest.mark.parametrize("page", ["", "?page=999"])
def test_operation_log_pages_run_no_count(app, client, login, page):
    login("auditor")
    with statements() as seen:
        response = client.get(f"/admin/audit/{page}")
    assert response.status_code == 200
    assert [s for s, _, _ in seen if "count(" in s.lower()] == []


def _plan(sql: str, parameters) -> str:
    """The plan of a statement the app ran, with the parameters it ran with (and statistics,
    as a database in use has them)."""
    if db.engine.dialect.name == "postgresql":  # VACUUM too: it marks pages all-visible
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE audit_operations")
    with db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        if conn.dialect.name == "sqlite":
            return " ".join(
                str(row[-1])
                for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters)
            )
        conn.exec_driver_sql("SET enable_seqscan = off")
        return " ".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {sql}", parameters))


@pytest.mark.parametrize(
    ("tab", "index", "shown"),
    [
        ("", "ix_audit_operations_tab_operations", "customer_edit"),
        ("&tab=sign_ins", "ix_audit_operations_tab_sign_ins", "login"),
    ],
)
def test_a_log_page_far_down_a_tab_walks_that_tabs_index(
    app, client, login, monkeypatch, tab, index, shown
):
    """A page of the Operations or Sign-ins tab reads its rows along the tab's partial index,
    whatever its depth, instead of walking the whole log from the newest row (migration 0018);
    on PostgreSQL it skips the earlier rows in the index alone (an index-only scan for the
    page's ids). The statement the page ran is explained with the parameters it ran with."""
    from admin_app.admin import audit
    from tests.audit_support import append

    monkeypatch.setattr(audit, "ID_FIRST_FROM", 20)  # page 2 counts as far down here
    for _ in range(25):
        append("customer_edit")
        append("login")
    login("auditor")
    with statements() as seen:
        response = client.get(f"/admin/audit/?page=1{tab}")  # 20 a page
    assert response.status_code == 200
    ids = [
        int(found)
        for found in re.findall(r'<td class="col-id">\s*<a href="[^"]*">#(\d+)</a>', response.text)
    ]
    sign_in = AuditOperation.action.in_(("login", "login_failed", "logout"))
    newest_first = db.session.execute(
        sa.select(AuditOperation.id)
        .where(sign_in if shown == "login" else ~sign_in)
        .order_by(AuditOperation.id.desc())
    ).scalars()
    assert ids == list(newest_first)[20:40]
    assert {db.session.get(AuditOperation, found).action for found in ids} == {shown}
    ((sql, parameters),) = [
        (s, p) for s, p, _ in seen if s.startswith("SELECT audit_operations.id") and "LIMIT" in s
    ]
    plan = _plan(sql, parameters)
    if db.engine.dialect.name == "postgresql":
        assert f"Index Only Scan Backward using {index}" in plan, plan
    else:
        assert index in plan, plan


def _customer_index_definitions() -> list[str]:
    if db.engine.dialect.name == "postgresql":
        return list(
            db.session.execute(
                sa.text("SELECT indexdef FROM pg_indexes WHERE tablename = 'customers'")
            ).scalars()
        )
    definitions = []
    for name, sql in db.session.execute(
        sa.text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'customers'"
        )
    ).all():
        columns = [
            row[2] for row in db.session.execute(sa.text(f"PRAGMA index_info('{name}')")).all()
        ]
        definitions.append(f"{name}: {sql or ''} {' '.join(str(c) for c in columns)}")
    return definitions


def test_no_customer_index_holds_a_column_a_status_change_writes(app):
    definitions = _customer_index_definitions()
    assert len(definitions) >= 5  # the lookups, sorts and prefix searches are still indexed
    for definition in definitions:
        words = set(re.findall(r"\w+", definition.lower().split(" on ", 1)[-1]))
        assert not words & set(STATUS_CHANGE_COLUMNS), definition


def _updates_customers(statement: str) -> bool:
    """An UPDATE of customers: alone (SQLite) or as the data-modifying CTE whose RETURNING rows
    an INSERT keeps in a temporary table (PostgreSQL: `WITH changed AS (UPDATE customers …)`)."""
    return re.match(r"\s*(WITH\s+\w+\s+AS\s*\(\s*)?UPDATE customers\b", statement) is not None


def _set_columns(statement: str) -> set[str]:
    """The columns an `UPDATE customers SET ...` statement writes."""
    assignments = re.search(r"\bSET (.*?) (?:FROM|WHERE)\b", statement).group(1)
    return {part.split("=")[0].strip() for part in re.split(r",\s*(?=\w+=)", assignments)}


def test_the_status_change_service_writes_only_unindexed_columns(app, reasons, actor):
    """The service's own UPDATE sets exactly the status-change columns, which no index holds
    (test_no_customer_index_holds_a_column_a_status_change_writes): so it can be HOT."""
    ids = make_customers(30)
    request_id = status_change.create_request(action=StatusAction.FREEZE, actor=actor, ids=ids)
    with statements() as seen:
        result = status_change.execute(
            request_id, actor=actor, reason_code="customer_request", chunk_size=10
        )
    assert result.changed == 30
    updates = [s for s, _, _ in seen if _updates_customers(s)]
    assert len(updates) == 3
    for statement in updates:
        assert _set_columns(statement) == set(STATUS_CHANGE_COLUMNS), statement


def test_the_status_change_service_makes_hot_updates_on_postgresql(app, reasons, actor, backend):
    """Run the service itself and read, on its own connection right before and after each of
    its UPDATEs, how many row updates PostgreSQL made and how many were heap-only (HOT)."""
    if backend != "postgresql":
        pytest.skip("HOT updates are a PostgreSQL feature")
    assert "fillfactor=50" in str(
        db.session.execute(
            sa.text("SELECT reloptions FROM pg_class WHERE relname = 'customers'")
        ).scalar()
    )
    # Customers changed before (reason, time and actor set), so their rows do not grow.
    db.session.execute(
        sa.insert(Customer),
        [
            {
                "code": f"H{number:05d}",
                "name": f"Customer {number}",
                "segment": "retail",
                "credit_limit": 1000,
                "balance": 0,
                "status": "active",
                "status_reason": "issue_resolved",
                "status_changed_at": datetime(2026, 1, 1, tzinfo=UTC),
                "status_changed_by": actor.id,
            }
            for number in range(200)
        ],
    )
    db.session.commit()
    ids = list(db.session.execute(sa.select(Customer.id)).scalars())
    request_id = status_change.create_request(action=StatusAction.FREEZE, actor=actor, ids=ids)
    readings = []

    def read_counters(conn, cursor, statement, *args):
        if _updates_customers(statement):
            with cursor.connection.cursor() as stats:  # same connection, same transaction
                stats.execute(
                    "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables "
                    "WHERE relname = 'customers'"
                )
                readings.append(stats.fetchone())

    sa.event.listen(db.engine, "before_cursor_execute", read_counters)
    sa.event.listen(db.engine, "after_cursor_execute", read_counters)
    try:
        result = status_change.execute(request_id, actor=actor, reason_code="customer_request")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", read_counters)
        sa.event.remove(db.engine, "after_cursor_execute", read_counters)
    assert result.changed == 200
    pairs = list(zip(readings[::2], readings[1::2], strict=False))  # (before, after) each UPDATE
    updated = sum(after[0] - before[0] for before, after in pairs)
    hot = sum(after[1] - before[1] for before, after in pairs)
    # With an index on any column it writes, no update could be HOT.
    assert (updated, hot) == (200, 200)


def test_bulk_statements_do_not_grow_with_the_selection(app, reasons, actor):
    ids = make_customers(300)
    request_id = status_change.create_request(action=StatusAction.FREEZE, actor=actor, ids=ids)
    with statements() as seen:
        result = status_change.execute(
            request_id, actor=actor, reason_code="customer_request", chunk_size=100
        )
    assert result.changed == 300
    single = [(s, p) for s, p, many in seen if not many]
    assert single and max(len(p or ()) for _, p in single) <= 20, max(
        single, key=lambda sp: len(sp[1] or ())
    )[0]
    updates = [s for s, _ in single if _updates_customers(s)]
    assert len(updates) == 3  # one per chunk of the snapshot
    entries = db.session.execute(
        sa.select(AuditEntry.entity_id, AuditEntry.old_value, AuditEntry.new_value).order_by(
            AuditEntry.id
        )
    ).all()
    assert entries == [(i, "active", "frozen") for i in sorted(ids)]


@pytest.mark.parametrize(("chunk_size", "streamed"), [(10, True), (30, False)])
def test_postgresql_streams_a_snapshot_of_more_than_one_chunk(
    app, reasons, actor, backend, chunk_size, streamed
):
    """More than one chunk: the changed rows go through a temporary table, never all into
    Python (memory flat at 1,000,000 customers). One chunk: the UPDATE returns them, with no
    temporary table to create and drop. Either way the same entries are logged."""
    if backend != "postgresql":
        pytest.skip("streaming the changed rows is PostgreSQL's")
    ids = make_customers(30)
    request_id = status_change.create_request(action=StatusAction.FREEZE, actor=actor, ids=ids)
    with statements() as seen:
        result = status_change.execute(
            request_id, actor=actor, reason_code="customer_request", chunk_size=chunk_size
        )
    assert result.changed == 30
    through_table = any("status_change_changed" in s for s, _, _ in seen)
    assert through_table is streamed
    entries = db.session.execute(
        sa.select(AuditEntry.entity_id, AuditEntry.old_value, AuditEntry.new_value).order_by(
            AuditEntry.id
        )
    ).all()
    assert entries == [(i, "active", "frozen") for i in sorted(ids)]
