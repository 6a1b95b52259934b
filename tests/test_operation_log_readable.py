"""The operation log as an auditor reads it: one registry of actions, labels instead of codes,
the scope in words, sign-ins apart, no unknown username kept, log content only for roles that
may read the log, a case-insensitive customer-code filter on an index, reverts in the chart."""

import ast
import csv
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from admin_app.extensions import db
from admin_app.models import AuditOperation, StatusAction
from admin_app.services import audit_verify, dashboard, history, revert, status_change
from admin_app.services.actions import ACTIONS, REVERTIBLE_ACTIONS, ActionGroup, OperationAction
from admin_app.services.audit import Actor, NewOperation
from tests.audit_support import append
from tests.conftest import make_customers
from tests.test_i18n import translations

ROOT = Path(__file__).resolve().parent.parent


class _VisibleText(HTMLParser):
    """Text a reader sees: no scripts, styles, option lists or hidden (d-none) elements, and of
    a folded <details> only its <summary>."""

    def __init__(self):
        super().__init__()
        self.texts, self._open, self._details, self._summary = [], [], 0, 0

    def handle_starttag(self, tag, attrs):
        hidden = (
            tag in ("script", "style", "select")
            or "d-none" in (dict(attrs).get("class") or "").split()
        )
        if tag not in ("br", "input", "img", "meta", "link", "hr"):
            self._open.append((tag, hidden))
        self._details += tag == "details"
        self._summary += tag == "summary"

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()[0] == tag:
                break
        self._details -= tag == "details" and self._details > 0
        self._summary -= tag == "summary" and self._summary > 0

    def handle_data(self, data):
        hidden = any(flag for _tag, flag in self._open)
        if hidden or (self._details and not self._summary):
            return
        if data.strip():
            self.texts.append(" ".join(data.split()))


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return "\n".join(parser.texts)


def _actor(user) -> Actor:
    return Actor(id=user.id, username=user.username, role=user.role)


def _deactivate(user, ids, reason="customer_request", memo="", scope=None) -> int:
    actor = _actor(user)
    request_id = status_change.create_request(
        action=StatusAction.DEACTIVATE,
        actor=actor,
        ids=ids,
        scope=scope or {"mode": "ids", "count": len(ids), "ids": ids},
    )
    return status_change.execute(
        request_id, actor=actor, reason_code=reason, memo=memo
    ).operation_id


# -- 1. one registry -----------------------------------------------------------------------------


def _logged_actions() -> list[tuple[str, int, ast.expr]]:
    """(file, line, action expression) of every NewOperation(...) in the app's code."""
    found = []
    for path in (ROOT / "admin_app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "NewOperation":
                for keyword in node.keywords:
                    if keyword.arg == "action":
                        found.append((path.name, node.lineno, keyword.value))
    return found


def test_every_logged_action_is_a_registry_member_with_a_label(app):
    calls = _logged_actions()
    assert len(calls) >= 15  # every service that logs
    for name, line, value in calls:
        # a literal would bypass the registry: only OperationAction members (or a variable
        # holding one, checked when the NewOperation is built) are logged
        assert not isinstance(value, ast.Constant), f"{name}:{line} logs a string literal"
        if isinstance(value, ast.Attribute) and getattr(value.value, "id", "") == "OperationAction":
            assert value.attr in OperationAction.__members__, f"{name}:{line}"
    chinese = translations()
    assert set(ACTIONS) == set(OperationAction)
    for action, info in ACTIONS.items():
        assert isinstance(info.group, ActionGroup)
        assert str(info.label) and str(info.label) != action.value, action
        assert str(info.label) in chinese, f"no Chinese label for {action}"
    assert set(REVERTIBLE_ACTIONS) == {action.value for action in StatusAction}


def test_an_unregistered_action_cannot_be_logged(app):
    with pytest.raises(ValueError):
        NewOperation(actor=Actor.cli(), action="made_up")


def test_every_action_is_offered_by_the_filter_with_its_label(client, login):
    login("auditor")
    page = client.get("/admin/audit/").get_data(as_text=True)
    for action, info in ACTIONS.items():
        assert f'"{action.value}"' in page or f"'{action.value}'" in page, action
        assert str(info.label) in page, action
    assert "Staff user changed" in page


def test_staff_update_is_listed_by_its_label(client, login, staff):
    from admin_app.services import staff as staff_service

    staff_service.update_user(staff["clerk"].id, role="manager", actor=_actor(staff["admin"]))
    login("auditor")
    text = visible_text(client.get("/admin/audit/").get_data(as_text=True))
    assert "Staff user changed" in text and "staff_update" not in text


# -- 2. labels, not codes ------------------------------------------------------------------------

RAW = re.compile(r'customer_request|\bdeactivated\b|\bactive\b|[{}]|"mode"|"ids"')


@pytest.mark.parametrize("language", ["en", "zh_Hans_CN"])
def test_auditor_sees_a_deactivation_in_words(client, login, staff, reasons, language):
    ids = make_customers(3, name="Pearl Textiles")
    operation_id = _deactivate(staff["admin"], ids, memo="asked by phone")
    login("auditor")
    if language != "en":
        client.post("/locale", data={"locale": language, "next": "/admin/"})
    pages = {
        "details": client.get(f"/admin/audit/details/?id={operation_id}"),
        "list": client.get("/admin/audit/"),
        "customer": client.get(f"/admin/customers/details/?id={ids[0]}"),
        "dashboard": client.get("/admin/"),
    }
    texts = {}
    for name, response in pages.items():
        assert response.status_code == 200, name
        texts[name] = visible_text(response.get_data(as_text=True))
        assert not RAW.search(texts[name]), (name, RAW.search(texts[name]))
    label, deactivated = (
        ("Customer request", "Deactivated") if language == "en" else ("客户要求", "停用")
    )
    for name in ("details", "list", "customer"):
        assert label in texts[name], name
    details = texts["details"]
    assert deactivated in details
    assert "T00001" in details and "Pearl Textiles" in details  # code and name
    scope = (
        "3 selected customers: T00001 Pearl Textiles, T00002 Pearl Textiles, T00003 Pearl Textiles"
        if language == "en"
        else "选中的 3 个客户：T00001"
    )
    assert scope in details
    # the code stays on hover, the hashes and the stored scope in the folded section
    html = pages["details"].get_data(as_text=True)
    assert 'title="customer_request"' in html
    technical = html[html.index("<details") : html.index("</details>")]
    stored = db.session.get(AuditOperation, operation_id)
    assert stored.hash in technical and stored.prev_hash in technical
    assert "&#34;mode&#34;: &#34;ids&#34;" in technical
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" title="[^"]+ UTC">', html)


def test_a_filter_scope_reads_as_a_sentence(app, staff, reasons):
    ids = make_customers(4, status="frozen")
    operation_id = _deactivate(
        staff["admin"], ids, scope={"mode": "filter", "filter": "status=frozen&search=lotus&page=2"}
    )
    operation = db.session.get(AuditOperation, operation_id)
    from admin_app.services.operation_text import describe_scope

    assert describe_scope(operation) == "All 4 customers matching: status Frozen, search “lotus”"


@pytest.mark.parametrize(
    ("locale", "sentence"),
    [
        (
            "en",
            "All 4 customers matching: Segment equals “Retail”, Over credit limit is “Yes”, "
            "Contract end between “2026-01-01 – 2026-01-31”",
        ),
        (
            "zh_Hans_CN",
            "符合条件的全部 4 个客户：客户类别 等于“零售”、超出信用额度 是“是”、"
            "合同到期 介于“2026-01-01 – 2026-01-31”",
        ),
    ],
)
def test_a_grid_filter_in_the_scope_reads_in_words(app, staff, reasons, locale, sentence):
    """A select-all's filters read "status equals“active”" (the link's names and stored codes)."""
    ids = make_customers(4, status="frozen")
    query = (
        "flt0_segment_equals=retail&flt1_over_credit_limit_is=1"
        "&flt2_contract_end_between=2026-01-01+to+2026-01-31"
    )
    operation_id = _deactivate(staff["admin"], ids, scope={"mode": "filter", "filter": query})
    operation = db.session.get(AuditOperation, operation_id)
    from admin_app.services.operation_text import describe_scope

    with app.test_request_context("/"), force_locale(locale):
        assert describe_scope(operation) == sentence


def test_a_revert_reads_as_a_revert_of_its_operation(client, login, staff, reasons):
    ids = make_customers(2)
    original = _deactivate(staff["admin"], ids)
    result = revert.execute(
        original,
        actor=_actor(staff["admin"]),
        confirmed_by=staff["admin"].id,
        reason_code="customer_request",
    )
    login("auditor")
    text = visible_text(
        client.get(f"/admin/audit/details/?id={result.operation_id}").get_data(as_text=True)
    )
    assert f"Revert of operation #{original}" in text
    assert "Deactivated → Active" not in text and "Deactivated" in text and "Active" in text


def test_markup_in_a_name_in_the_scope_sentence_is_escaped(client, login, staff, reasons):
    ids = make_customers(1, name='<b onmouseover="x()">Bold</b> & Co')
    operation_id = _deactivate(staff["admin"], ids)
    login("auditor")
    html = client.get(f"/admin/audit/details/?id={operation_id}").get_data(as_text=True)
    scope = re.search(r'(?s)<span id="operation-scope">(.*?)</span>', html).group(1)
    assert "&lt;b onmouseover=&#34;x()&#34;&gt;Bold&lt;/b&gt; &amp; Co" in scope
    assert "<b " not in html


def test_entries_export_keeps_codes_and_adds_labels(client, login, staff, reasons):
    ids = make_customers(1, name="Lotus Foods")
    operation_id = _deactivate(staff["admin"], ids)
    login("auditor")
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get(f"/admin/audit/entries/export/csv/?id={operation_id}").get_data(
                    as_text=True
                )
            )
        )
    )
    assert [
        (row["action"], row["reason_code"], row["old_value"], row["new_value"]) for row in rows
    ] == [("deactivate", "customer_request", "active", "deactivated")]
    assert [
        (
            row["action_label"],
            row["reason_label"],
            row["customer_name"],
            row["field_label"],
            row["old_value_label"],
            row["new_value_label"],
        )
        for row in rows
    ] == [("Deactivate", "Customer request", "Lotus Foods", "Status", "Active", "Deactivated")]


def test_operations_export_keeps_codes_and_adds_labels(client, login, staff, reasons):
    _deactivate(staff["admin"], make_customers(2, name="Lotus Foods"))
    login("auditor")
    rows = list(
        csv.DictReader(io.StringIO(client.get("/admin/audit/export/csv/").get_data(as_text=True)))
    )
    assert [
        (row["Action"], row["Reason"], row["action_label"], row["reason_label"], row["scope_text"])
        for row in rows
    ] == [
        (
            "deactivate",
            "customer_request",
            "Deactivate",
            "Customer request",
            "2 selected customers: T00001 Lotus Foods, T00002 Lotus Foods",
        )
    ]


# -- 3. sign-ins apart; no unknown username kept ------------------------------------------------


def _listed_actions(client, query=""):
    html = client.get(f"/admin/audit/{query}").get_data(as_text=True)
    ids = [int(n) for n in re.findall(r">#(\d+)</a>", html)]
    return {db.session.get(AuditOperation, i).action for i in ids}


def test_sign_ins_have_their_own_tab(client, login, staff, reasons):
    _deactivate(staff["admin"], make_customers(1))
    login("auditor")
    db.session.rollback()
    assert _listed_actions(client) == {"deactivate"}
    assert _listed_actions(client, "?tab=sign_ins") == {"login"}
    assert _listed_actions(client, "?tab=all") == {"deactivate", "login"}
    # an Action filter shows what it names, whatever the tab
    assert _listed_actions(client, "?flt0_action_equals=login") == {"login"}
    export = client.get("/admin/audit/export/csv/?tab=all").get_data(as_text=True)
    assert ",login," in export and ",deactivate," in export
    assert "Sign-ins" in client.get("/admin/audit/").get_data(as_text=True)


def _column_classes(html: str) -> list[str]:
    header = html.split("<thead>", 1)[1].split("</thead>", 1)[0]
    return re.findall(r'class="column-header col-([\w-]+)"', header)


def test_the_sign_ins_tab_leaves_out_what_a_sign_in_never_has(client, login, staff):
    """Reason, Changed, Skipped and Memo were empty or 0 on every sign-in row."""
    login("auditor")
    operations = client.get("/admin/audit/").get_data(as_text=True)
    sign_ins = client.get("/admin/audit/?tab=sign_ins").get_data(as_text=True)
    assert {"reason_code", "changed_count", "memo"} <= set(_column_classes(operations))
    assert _column_classes(sign_ins) == [
        "id",
        "created_at",
        "actor_username",
        "actor_role",
        "action",
        "source",
    ]
    row = re.search(r"<tbody>\s*<tr>(.*?)</tr>", sign_ins, re.S).group(1)
    assert len(re.findall(r"<td", row)) == 1 + 6  # the details icon, then the six columns
    newest_first = client.get("/admin/audit/?tab=sign_ins&sort=0").get_data(as_text=True)
    assert 'title="Sort by #"' in newest_first
    login_id = re.search(r">#(\d+)</a>", sign_ins).group(1)
    details = client.get(f"/admin/audit/details/?id={login_id}").get_data(as_text=True)
    headers = [h.strip() for h in re.findall(r"<td>\s*<b>(.*?)</b>", details, re.S)]
    assert "Scope" not in headers and "Memo" not in headers and "Reason" not in headers
    assert "Result" not in headers  # a sign-in that worked has nothing to say there
    client.post("/logout")
    client.post("/login", data={"username": "auditor", "password": "not-the-password"})
    login("auditor")
    failed = client.get("/admin/audit/?tab=sign_ins&flt0_action_equals=login_failed")
    failed_id = re.search(r">#(\d+)</a>", failed.get_data(as_text=True)).group(1)
    details = client.get(f"/admin/audit/details/?id={failed_id}").get_data(as_text=True)
    result = re.search(r"<b>Result</b>\s*</td>\s*<td>(.*?)</td>", details, re.S)
    assert result and "Wrong password" in result.group(1)


SECRET_TYPED = "Hunter2-Password-In-The-Wrong-Box"


def _whole_database() -> str:
    db.session.rollback()
    dump = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(sa.select(table)):
            dump.append(repr(tuple(row)))
    return "\n".join(dump)


def test_an_unknown_username_is_never_kept(client, login, staff, caplog):
    for typed in (SECRET_TYPED, SECRET_TYPED.lower() + " "):
        response = client.post("/login", data={"username": typed, "password": "x"})
        assert response.status_code == 401
    client.post("/login", data={"username": "clerk", "password": "wrong password"})
    db.session.rollback()
    failed = (
        db.session.execute(
            sa.select(AuditOperation)
            .where(AuditOperation.action == "login_failed")
            .order_by(AuditOperation.id)
        )
        .scalars()
        .all()
    )
    assert [op.actor_username for op in failed] == ["(unknown)", "(unknown)", "clerk"]
    digests = [re.search(r'"username_hmac":"(\w+)"', op.scope).group(1) for op in failed[:2]]
    assert digests[0] == digests[1] and len(digests[0]) == 32  # correlated, case-folded
    assert "username_hmac" not in failed[2].scope  # a known username stays as it is
    login("admin")
    seen = [
        client.get(url).get_data(as_text=True)
        for url in (
            "/admin/",
            "/admin/audit/?tab=sign_ins",
            "/admin/audit/?tab=all",
            f"/admin/audit/details/?id={failed[0].id}",
            "/admin/audit/export/csv/?tab=all",
            f"/admin/audit/entries/export/csv/?id={failed[0].id}",
            "/admin/audit/?flt0_actor_contains=Hunter2",
        )
    ]
    seen.append(_whole_database())
    seen.append(
        "\n".join(
            record.getMessage()
            for record in caplog.records
            if "login_failed" in record.getMessage()
        )
    )
    assert '"username": "(unknown)"' in seen[-1]
    for text in seen:
        assert SECRET_TYPED.lower() not in text.lower()
    assert "Unknown username" in seen[3]
    assert audit_verify.verify_chain().intact


def test_an_old_row_with_a_typed_username_shows_the_marker(client, login, staff):
    """Rows written before this change keep their content (it is hashed); the pages show the
    marker instead of what was typed."""
    old = append(
        "login_failed",
        actor=Actor(id=None, username=SECRET_TYPED, role="?"),
        scope={"outcome": "unknown_user"},
        changed_count=0,
    )
    login("auditor")
    for url in ("/admin/audit/?tab=sign_ins", f"/admin/audit/details/?id={old}"):
        html = client.get(url).get_data(as_text=True)
        assert SECRET_TYPED not in html and "(unknown user)" in html, url
    assert audit_verify.verify_chain().intact


# -- 4. the dashboard shows log content only to those who may read the log ------------------


def test_clerks_dashboard_has_no_log_content(client, login, staff, reasons):
    _deactivate(staff["admin"], make_customers(1), memo="memo for the log")
    login("clerk")
    html = client.get("/admin/").get_data(as_text=True)
    assert "Recent operations" not in html and "recent-operations" not in html
    assert "log-verification" not in html and "never verified" not in html
    assert "/admin/audit/" not in html
    text = visible_text(html)
    assert not re.search(r"\bDeactivate\b", text)  # no operation rows (the chart: "Deactivated")


def test_auditor_sees_recent_operations_but_only_admins_are_told_how_to_verify(
    client, login, staff, reasons
):
    _deactivate(staff["admin"], make_customers(1))
    login("auditor")
    auditor = client.get("/admin/").get_data(as_text=True)
    assert 'id="recent-operations"' in auditor and "Operation log never verified." in auditor
    assert "audit verify" not in auditor and "An administrator can check it" in auditor
    assert ">Login<" not in auditor  # sign-ins are not "recent operations"
    client.post("/logout")
    login("admin")
    admin = client.get("/admin/").get_data(as_text=True)
    assert 'id="verify-instructions"' in admin and "flask --app wsgi audit verify" in admin


# -- 5. the customer-code filter ignores letter case, on an index --------------------------


def test_customer_code_filter_ignores_case(client, login):
    first_id, second_id = make_customers(2)
    first = append(entries=[("customer", first_id, "T00001", "name", "a", "b")])
    append(entries=[("customer", second_id, "T00002", "name", "a", "b")])
    login("auditor")
    for code in ("T00001", "t00001", " t00001 "):
        html = client.get(f"/admin/audit/?flt0_customer_code_equals={code}").get_data(as_text=True)
        assert [int(n) for n in re.findall(r">#(\d+)</a>", html)] == [first], code


def _operations_of(code: str) -> list[int]:
    return sorted(db.session.execute(history.operations_of_customer_code(code)).scalars())


def test_customer_code_filter_finds_each_code_a_customer_had_when_it_had_it(app):
    """Entries keep the code of their time (a rename's own entry, the code it replaced): after
    a rename, the old code finds the operations up to the rename and the new code those after;
    a code given to another customer later finds that customer's operations under it too."""
    from admin_app.services import customers

    def rename(customer_id: int, code: str) -> int:
        customers.update_details(customer_id, {"code": code}, expected_version=1, actor=Actor.cli())
        return db.session.execute(sa.select(sa.func.max(AuditOperation.id))).scalar_one()

    renamed, other = make_customers(2)
    before = append(entries=[("customer", renamed, "T00001", "status", "active", "frozen")])
    renaming = rename(renamed, "N00001")
    after = append(entries=[("customer", renamed, "N00001", "status", "frozen", "active")])
    reusing = rename(other, "T00001")
    other_later = append(entries=[("customer", other, "T00001", "status", "active", "frozen")])
    assert _operations_of("t00001") == [before, renaming, other_later]
    assert _operations_of("N00001") == [after]
    assert _operations_of("T00002") == [reusing]
    assert _operations_of("nothing") == []


def test_customer_code_filter_is_an_index_lookup(app, backend):
    ids = make_customers(30)
    for number, customer_id in enumerate(ids, start=1):
        append(entries=[("customer", customer_id, f"T{number:05d}", "name", "a", "b")])
    query = sa.select(AuditOperation.id).where(
        AuditOperation.id.in_(history.operations_of_customer_code("t00006"))
    )
    compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN QUERY PLAN " if backend == "sqlite" else "EXPLAIN "
    if backend == "postgresql":
        db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    plan = " ".join(str(row) for row in db.session.execute(sa.text(prefix + str(compiled))))
    for index in (
        "ix_customers_search_code",
        "ix_audit_entries_code_change_old",
        "ix_audit_entries_code_change_new",
        "ix_audit_entries_entity",
    ):
        assert index in plan, (index, plan)
    assert db.session.execute(query).scalars().all() == [6]  # the sixth operation appended


# -- 6. the chart counts reverts -------------------------------------------------------------


def test_chart_counts_a_revert_in_its_own_series(app, staff, reasons):
    ids = make_customers(5)
    original = _deactivate(staff["admin"], ids)
    revert.execute(
        original,
        actor=_actor(staff["admin"]),
        confirmed_by=staff["admin"].id,
        reason_code="customer_request",
    )
    changes = dashboard.weekly_status_changes(
        now=db.session.get(AuditOperation, original).created_at
    )
    assert changes.counts["deactivate"][-1] == 5
    assert changes.counts["revert"][-1] == 5
    assert changes.totals[-1] == 10  # the week's bars add up to the log's changes
