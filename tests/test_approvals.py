"""Four-eyes approval of large or sensitive status changes (issue 15), as requesters,
approvers and attackers see it, on SQLite and PostgreSQL."""

import json
import logging
import re
import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from admin_app.admin import approvals as approval_admin
from admin_app.extensions import db
from admin_app.models import (
    ApprovalRequest,
    AuditOperation,
    Customer,
    Reason,
    ScheduledChange,
    StaffUser,
)
from admin_app.services import approvals, scheduling, status_change
from admin_app.services.audit import Actor
from admin_app.services.errors import Conflict, NotAllowed
from tests.conftest import PASSWORD, confirm_action, start_action, statuses
from tests.conftest import make_customers as _make_customers

pytestmark = pytest.mark.config(APPROVAL_THRESHOLD=100, APPROVAL_MAX_AGE_HOURS=72)


def make_customers(count: int, **fields) -> list[int]:
    db.session.rollback()  # no read snapshot older than the app's last write (SQLite)
    ids = _make_customers(count, **fields)
    db.session.rollback()
    return ids


def text(response) -> str:
    return response.get_data(as_text=True)


def client_for(app, username: str):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture
def users(app, staff, reasons, password_hash):
    """The four roles plus a second admin (a second approver)."""
    second = StaffUser(username="admin2", role="admin", is_active=True, password_hash=password_hash)
    db.session.add(second)
    db.session.commit()
    return {**staff, "admin2": second}


@pytest.fixture
def manager(app, users):
    return client_for(app, "manager")


@pytest.fixture
def admin(app, users):
    return client_for(app, "admin")


def request_change(client, ids, action="deactivate", reason="customer_request", memo="", **kw):
    page, token = start_action(client, action, ids, **kw)
    assert page.status_code == 200, text(page)
    return confirm_action(client, token, reason=reason, memo=memo)


def approval_id_of(response) -> int:
    assert response.status_code == 303, text(response)
    match = re.fullmatch(r"/admin/approvals/(\d+)/", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def operations(action: str | None = None) -> list[AuditOperation]:
    db.session.rollback()
    query = sa.select(AuditOperation).order_by(AuditOperation.id)
    if action:
        query = query.where(AuditOperation.action == action)
    return list(db.session.execute(query).scalars())


def approval(approval_id: int) -> ApprovalRequest:
    db.session.rollback()
    return db.session.get(ApprovalRequest, approval_id)


def decide(client, approval_id, decision, comment=""):
    return client.post(
        "/admin/approvals/decide/",
        data={"id": str(approval_id), "decision": decision, "comment": comment},
    )


def actor_of(user: StaffUser) -> Actor:
    return Actor(id=user.id, username=user.username, role=user.role)


# -- the policy -------------------------------------------------------------------------------


def _confirm_button(page) -> str:
    [label] = re.findall(r'id="confirm-button"[^>]*>(.*?)</button>', text(page), re.S)
    return " ".join(label.split())


def test_a_change_at_the_threshold_runs_directly(manager):
    ids = make_customers(100)
    page, _token = start_action(manager, "deactivate", ids)
    assert _confirm_button(page) == "Deactivate 100 customers"
    done = request_change(manager, ids)
    assert done.status_code == 303
    assert done.headers["Location"] == "/admin/customers/"
    assert statuses(ids) == {i: "deactivated" for i in ids}
    assert db.session.execute(sa.select(sa.func.count(ApprovalRequest.id))).scalar() == 0


def test_above_the_threshold_confirm_changes_nothing_and_sends_for_approval(manager, users):
    ids = make_customers(101)
    page, _token = start_action(manager, "deactivate", ids)
    assert "Confirm sends this change for approval" in text(page)
    assert _confirm_button(page) == "Send for approval: Deactivate 101 customers"
    response = request_change(manager, ids, memo="quarter end")
    approval_id = approval_id_of(response)
    assert statuses(ids) == {i: "active" for i in ids}
    page = manager.get(response.headers["Location"])
    assert page.status_code == 200
    body = text(page)
    assert f"Sent for approval (request #{approval_id}); nothing has changed yet" in body
    assert "101 customers will change to Deactivated." in body
    assert 'id="waiting-note"' in body and 'id="approve-button"' not in body
    stored = approval(approval_id)
    assert (stored.status, stored.requested_by, stored.decided_by) == (
        "pending",
        users["manager"].id,
        None,
    )
    assert (stored.customer_count, stored.reason_code, stored.memo) == (
        101,
        "customer_request",
        "quarter end",
    )
    [logged] = operations("approval_requested")
    assert logged.changed_count == 0 and logged.actor_username == "manager"
    assert json.loads(logged.scope)["approval_request"] == approval_id
    assert operations("deactivate") == []


def test_a_reason_marked_requires_approval_needs_it_whatever_the_size(app, manager, admin):
    reason_id = db.session.execute(
        sa.select(Reason.id).where(Reason.code == "customer_request")
    ).scalar_one()
    db.session.rollback()
    page = admin.get(f"/admin/reasons/edit/?id={reason_id}")
    assert 'name="requires_approval"' in text(page)
    form = {
        "label": "Customer request",
        "for_deactivate": "y",
        "for_freeze": "y",
        "requires_approval": "y",
        "enabled": "y",
        "position": "0",
    }
    saved = admin.post(f"/admin/reasons/edit/?id={reason_id}", data=form)
    assert saved.status_code == 302
    listing = text(admin.get("/admin/reasons/"))
    assert "Reasons that always require approval: Customer request." in listing
    ids = make_customers(2)
    approval_id = approval_id_of(request_change(manager, ids))
    assert statuses(ids) == {i: "active" for i in ids}
    assert approval(approval_id).customer_count == 2


@pytest.mark.parametrize(
    "locale, shown",
    [("en", "Suspected fraud or Customer request"), ("zh_Hant_TW", "疑似詐欺或客戶要求")],
)
def test_the_confirmation_names_the_reasons_that_need_approval_by_their_labels(
    app, manager, locale, shown
):
    db.session.execute(
        sa.update(Reason)
        .where(Reason.code.in_(("customer_request", "fraud_suspected")))
        .values(requires_approval=True)
    )
    db.session.execute(
        sa.update(Reason).where(Reason.code == "fraud_suspected").values(position=-1)
    )
    db.session.commit()
    manager.post("/locale", data={"locale": locale})
    page, _token = start_action(manager, "deactivate", make_customers(1))
    [note] = re.findall(r'id="approval-note">([^<]*)<', text(page))
    assert note.endswith(shown + ("。" if locale != "en" else "."))


def test_the_service_refuses_to_execute_what_needs_approval(app, users):
    ids = make_customers(101)
    actor = actor_of(users["manager"])
    request_id = status_change.create_request(
        action=status_change.StatusAction.DEACTIVATE, actor=actor, ids=ids
    )
    with pytest.raises(approvals.ApprovalRequired):
        status_change.execute(request_id, actor=actor, reason_code="customer_request")
    assert statuses(ids) == {i: "active" for i in ids}


def test_the_service_refuses_one_customer_with_a_reason_that_needs_approval(app, users):
    db.session.execute(
        sa.update(Reason).where(Reason.code == "fraud_suspected").values(requires_approval=True)
    )
    db.session.commit()
    ids = make_customers(1)
    actor = actor_of(users["manager"])
    request_id = status_change.create_request(
        action=status_change.StatusAction.FREEZE, actor=actor, ids=ids
    )
    with pytest.raises(approvals.ApprovalRequired):
        status_change.execute(
            request_id, actor=actor, reason_code="fraud_suspected", memo="Chargebacks"
        )
    assert statuses(ids) == {ids[0]: "active"}
    assert status_change.execute(request_id, actor=actor, reason_code="customer_request").changed


# -- deciding ---------------------------------------------------------------------------------


def test_admin_approves_and_the_log_links_request_approval_and_change(app, manager, admin, users):
    ids = make_customers(120)
    approval_id = approval_id_of(request_change(manager, ids))
    page = text(admin.get(f"/admin/approvals/{approval_id}/"))
    assert "120 customers will change to Deactivated." in page
    assert 'id="approve-button"' in page
    done = decide(admin, approval_id, "approve")
    assert done.status_code == 303
    assert statuses(ids) == {i: "deactivated" for i in ids}
    flashed = text(admin.get(done.headers["Location"]))
    assert f"Request #{approval_id} approved. Deactivated 120 customers" in flashed

    stored = approval(approval_id)
    assert (stored.status, stored.decided_by) == ("approved", users["admin"].id)
    [change] = operations("deactivate")
    assert change.actor_username == "admin" and change.changed_count == 120
    link = json.loads(change.scope)["approval"]
    assert link["approval_request"] == approval_id
    assert link["requested_by"] == users["manager"].id
    assert link["request_operation"] == stored.request_operation_id
    [granted] = operations("approval_approved")
    assert json.loads(granted.scope)["operation"] == change.id
    assert stored.result_operation_id == change.id
    assert stored.decision_operation_id == granted.id
    # Both ways: the request page links the operations, each operation links the request.
    assert f'href="/admin/audit/details/?id={change.id}"' in flashed
    details = text(admin.get(f"/admin/audit/details/?id={change.id}"))
    assert f'href="/admin/approvals/{approval_id}/"' in details
    requested = text(admin.get(f"/admin/audit/details/?id={stored.request_operation_id}"))
    assert f'href="/admin/approvals/{approval_id}/"' in requested
    assert f'decision: <a href="/admin/audit/details/?id={granted.id}"' in requested
    admin.post("/locale", data={"locale": "zh_Hans_CN", "next": "/admin/"})
    chinese = text(admin.get(f"/admin/audit/details/?id={stored.request_operation_id}"))
    assert f'决定： <a href="/admin/audit/details/?id={granted.id}"' in chinese  # a Chinese colon
    # The log stays verifiable with the approval in the hashed scope.
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0


def test_the_requester_can_never_approve_their_own_request(app, manager, users, caplog):
    ids = make_customers(101)
    approval_id = approval_id_of(request_change(manager, ids))
    caplog.set_level(logging.WARNING, logger="admin_app.security")
    refused = decide(manager, approval_id, "approve")
    assert refused.status_code == 403
    assert any(
        getattr(r, "security_event", {}).get("type") == "approval_own_request"
        for r in caplog.records
    )
    # Not with a new role or another session either: the check is by user id.
    users["manager"].role = "admin"
    db.session.commit()
    other_session = client_for(app, "manager")
    assert decide(other_session, approval_id, "approve").status_code == 403
    with pytest.raises(NotAllowed):
        approvals.approve(approval_id, actor=actor_of(users["manager"]))
    assert statuses(ids) == {i: "active" for i in ids}
    assert approval(approval_id).status == "pending"


def test_roles_without_the_permission_cannot_approve(app, manager, users):
    ids = make_customers(101)
    approval_id = approval_id_of(request_change(manager, ids))
    for role in ("clerk", "auditor"):
        other = client_for(app, role)
        assert decide(other, approval_id, "approve").status_code == 403
        assert other.get("/admin/approvals/").status_code == 403
    assert statuses(ids) == {i: "active" for i in ids}


def test_reject_needs_a_comment_and_changes_nothing(manager, admin):
    ids = make_customers(101)
    approval_id = approval_id_of(request_change(manager, ids))
    refused = decide(admin, approval_id, "reject", comment="  ")
    assert refused.status_code == 422
    assert "Say why you reject this request." in text(refused)
    assert approval(approval_id).status == "pending"
    assert operations("approval_rejected") == []
    done = decide(admin, approval_id, "reject", comment="wrong segment")
    assert done.status_code == 303
    stored = approval(approval_id)
    assert (stored.status, stored.comment) == ("rejected", "wrong segment")
    [logged] = operations("approval_rejected")
    assert logged.memo == "wrong segment"
    again = decide(admin, approval_id, "approve")
    assert again.status_code == 409
    assert f"Request #{approval_id} was already rejected" in text(again)
    assert statuses(ids) == {i: "active" for i in ids}
    assert operations("deactivate") == []
    mine = text(manager.get("/admin/approvals/"))
    assert 'data-status="rejected"' in mine


def test_only_the_requester_cancels(manager, admin):
    ids = make_customers(101)
    approval_id = approval_id_of(request_change(manager, ids))
    assert admin.post("/admin/approvals/cancel/", data={"id": str(approval_id)}).status_code == 403
    done = manager.post("/admin/approvals/cancel/", data={"id": str(approval_id)})
    assert done.status_code == 303
    assert approval(approval_id).status == "cancelled"
    assert len(operations("approval_cancelled")) == 1
    late = decide(admin, approval_id, "approve")
    assert late.status_code == 409
    assert "was cancelled by its requester" in text(late)
    assert statuses(ids) == {i: "active" for i in ids}


def test_an_expired_request_cannot_be_approved(app_clock, app, manager):
    ids = make_customers(101)
    approval_id = approval_id_of(request_change(manager, ids))
    app_clock.advance(hours=71)
    admin = client_for(app, "admin")  # (sessions end after 12 hours)
    assert 'id="approve-button"' in text(admin.get(f"/admin/approvals/{approval_id}/"))
    app_clock.advance(hours=2)
    admin = client_for(app, "admin")
    page = text(admin.get(f"/admin/approvals/{approval_id}/"))
    assert 'data-status="expired"' in page and 'id="approve-button"' not in page
    late = decide(admin, approval_id, "approve")
    assert late.status_code == 409
    assert "has expired and can no longer be approved" in text(late)
    assert approval(approval_id).status == "expired"
    assert statuses(ids) == {i: "active" for i in ids}


def test_customers_changed_since_the_request_are_skipped_and_reported(manager, admin):
    ids = make_customers(105)
    approval_id = approval_id_of(request_change(manager, ids))
    # Meanwhile a small change (below the threshold) freezes three of them.
    assert request_change(admin, ids[:3], action="freeze").status_code == 303
    page = text(admin.get(f"/admin/approvals/{approval_id}/"))
    assert "102 customers will change to Deactivated." in page  # re-evaluated now
    done = decide(admin, approval_id, "approve")
    flashed = text(admin.get(done.headers["Location"]))
    assert "Deactivated 102 customers, skipped 3" in flashed
    after = statuses(ids)
    assert [after[i] for i in ids[:3]] == ["frozen"] * 3
    assert {after[i] for i in ids[3:]} == {"deactivated"}


def test_a_pending_snapshot_outlives_the_preview_retention(app_clock, app, manager):
    ids = make_customers(101)
    approval_id = approval_id_of(request_change(manager, ids))
    app_clock.advance(hours=50)  # past the 1-day retention of previews
    admin = client_for(app, "admin")
    request_change(admin, make_customers(1, start=500))  # purges old previews
    assert decide(admin, approval_id, "approve").status_code == 303
    assert statuses(ids) == {i: "deactivated" for i in ids}


@pytest.mark.config(APPROVAL_THRESHOLD=100, STATUS_CHANGE_CHUNK_SIZE=300)
def test_select_all_approval_executes_the_stored_snapshot_in_chunks(app, manager, admin):
    ids = make_customers(1000, segment="wholesale")
    response = request_change(manager, ids[:5], select_all="1", query="?status=active")
    approval_id = approval_id_of(response)
    assert approval(approval_id).customer_count == 1000
    late = make_customers(50, start=5000)  # match the filter now, not when requested
    assert decide(admin, approval_id, "approve").status_code == 303
    after = statuses(ids + late)
    assert {after[i] for i in ids} == {"deactivated"}
    assert {after[i] for i in late} == {"active"}
    [change] = operations("deactivate")
    assert change.changed_count == 1000


# -- races ------------------------------------------------------------------------------------


def _race(app, calls):
    """Run `calls` at once (released together by a barrier); returns their outcomes."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        with app.app_context():
            barrier.wait()
            try:
                outcomes[index] = call()
            except Exception as exc:  # noqa: BLE001
                outcomes[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def _requested(users, count=101) -> tuple[int, list[int]]:
    ids = make_customers(count)
    actor = actor_of(users["manager"])
    snapshot = status_change.create_request(
        action=status_change.StatusAction.DEACTIVATE, actor=actor, ids=ids
    )
    requested = approvals.request_approval(snapshot, actor=actor, reason_code="customer_request")
    return requested.approval_id, ids


def test_the_list_shows_a_page_at_a_time(monkeypatch, admin, manager, users):
    monkeypatch.setattr(approval_admin, "LIST_PAGE_SIZE", 3)
    actor = actor_of(users["manager"])
    made = []
    for number in range(7):
        [customer] = make_customers(1, start=100 + number)
        snapshot = status_change.create_request(
            action=status_change.StatusAction.FREEZE, actor=actor, ids=[customer]
        )
        made.append(
            approvals.request_approval(
                snapshot, actor=actor, reason_code="customer_request"
            ).approval_id
        )

    def listed(page):
        body = text(admin.get("/admin/approvals/", query_string={"page": page}))
        return [int(n) for n in re.findall(r'data-approval-id="(\d+)"', body)], body

    first, body = listed("")
    assert first == made[::-1][:3]  # newest first
    assert "1–3 of 7" in body and 'id="approvals-prev"' in body
    assert 'id="approvals-next" href="/admin/approvals/?page=1"' in body
    shown = first + listed(1)[0] + listed(2)[0]
    assert sorted(shown) == sorted(made)
    last, body = listed(2)
    assert len(last) == 1 and "7–7 of 7" in body
    assert listed(99)[0] == last  # past the end: the last page
    assert listed("²")[0] == first
    assert text(manager.get("/admin/approvals/")).count("data-approval-id=") == 3


def test_two_approvers_at_once_execute_exactly_once(app, users):
    approval_id, ids = _requested(users)
    first, second = actor_of(users["admin"]), actor_of(users["admin2"])
    outcomes = _race(
        app,
        [
            lambda: approvals.approve(approval_id, actor=first),
            lambda: approvals.approve(approval_id, actor=second),
        ],
    )
    wins = [o for o in outcomes if isinstance(o, approvals.Decision)]
    losses = [o for o in outcomes if isinstance(o, Conflict)]
    assert (len(wins), len(losses)) == (1, 1), outcomes
    assert "was already approved" in losses[0].message
    assert len(operations("deactivate")) == 1
    assert len(operations("approval_approved")) == 1
    assert statuses(ids) == {i: "deactivated" for i in ids}


def test_approve_and_cancel_at_once_one_wins_consistently(app, users):
    approval_id, ids = _requested(users)
    approver, requester = actor_of(users["admin"]), actor_of(users["manager"])
    outcomes = _race(
        app,
        [
            lambda: approvals.approve(approval_id, actor=approver),
            lambda: approvals.cancel(approval_id, actor=requester),
        ],
    )
    wins = [o for o in outcomes if isinstance(o, approvals.Decision)]
    assert len(wins) == 1 and isinstance([o for o in outcomes if o not in wins][0], Conflict), (
        outcomes
    )
    stored = approval(approval_id)
    assert stored.status == wins[0].status
    changed = set(statuses(ids).values())
    if stored.status == "approved":
        assert changed == {"deactivated"} and operations("approval_cancelled") == []
    else:
        assert changed == {"active"} and operations("deactivate") == []


def test_a_decision_over_http_that_lost_the_race_gets_409(manager, admin, app, users):
    ids = make_customers(101)
    approval_id = approval_id_of(request_change(manager, ids))
    second = client_for(app, "admin2")
    assert decide(admin, approval_id, "approve").status_code == 303
    lost = decide(second, approval_id, "approve")
    assert lost.status_code == 409
    assert "was already approved" in text(lost)
    assert len(operations("deactivate")) == 1


# -- pages, navigation, CLI, languages --------------------------------------------------------


def test_pending_requests_show_first_with_a_count_for_approvers(app, manager, admin, users):
    first, _ = _requested(users, count=101)
    approvals.cancel(first, actor=actor_of(users["manager"]))
    second_ids = make_customers(102, start=1000)
    second = approval_id_of(request_change(manager, second_ids))
    listing = text(admin.get("/admin/approvals/"))
    assert listing.index(f'data-approval-id="{second}"') < listing.index(
        f'data-approval-id="{first}"'
    )
    assert re.search(r'id="approvals-badge".*?badge-warning">1<', listing, re.S)
    dashboard = text(admin.get("/admin/"))
    assert "1 approval request waiting for a decision" in dashboard
    clerk = client_for(app, "clerk")
    assert 'id="approvals-badge"' not in text(clerk.get("/admin/"))
    assert "waiting for a decision" not in text(clerk.get("/admin/"))


def test_cli_refuses_what_needs_approval(app, runner, users, tmp_path):
    make_customers(101)
    codes = tmp_path / "codes.txt"
    codes.write_text("\n".join(f"T{n:05d}" for n in range(1, 102)))
    result = runner.invoke(
        args=[
            "customers",
            "change-status",
            "--action",
            "deactivate",
            "--reason",
            "customer_request",
            "--codes-file",
            str(codes),
            "--yes",
        ]
    )
    assert result.exit_code == 1
    assert "needs a second person's approval" in result.output
    db.session.rollback()
    assert set(db.session.execute(sa.select(Customer.status)).scalars()) == {"active"}


def test_approval_actions_read_as_words_in_both_chinese_catalogs(app, manager, admin):
    ids = make_customers(101)
    approval_id = approval_id_of(request_change(manager, ids))
    decide(admin, approval_id, "reject", comment="no")
    for locale, words in (
        ("zh_Hans_CN", ("申请审批", "审批已驳回")),
        ("zh_Hant_TW", ("申請簽核", "簽核已駁回")),
    ):
        admin.post("/locale", data={"locale": locale})
        log = text(admin.get("/admin/audit/", headers={"Accept-Language": locale}))
        for word in words:
            assert word in log, (locale, word)
        assert ">approval_requested<" not in log  # (the code stays only in filter values)


# -- reverts follow the same policy -----------------------------------------------------------


def _deactivated_without_approval(app, users, count):
    """An operation of `count` customers made while the policy was off."""
    ids = make_customers(count)
    app.config["APPROVAL_THRESHOLD"] = 0
    actor = actor_of(users["admin"])
    request_id = status_change.create_request(
        action=status_change.StatusAction.DEACTIVATE, actor=actor, ids=ids
    )
    result = status_change.execute(request_id, actor=actor, reason_code="customer_request")
    app.config["APPROVAL_THRESHOLD"] = 100
    return result.operation_id, ids


def test_a_large_revert_waits_for_approval_too(app, manager, admin, users):
    from tests.conftest import TOKEN_RE

    operation_id, ids = _deactivated_without_approval(app, users, 101)
    page = manager.post("/admin/audit/revert/", data={"id": operation_id})
    assert "Confirm sends this change for approval" in text(page)
    assert _confirm_button(page) == "Send for approval: revert 101 customers"
    token = TOKEN_RE.search(text(page)).group(1)
    sent = manager.post(
        "/admin/audit/revert/confirm/",
        data={"token": token, "reason": "other", "memo": "wrong list"},
    )
    approval_id = approval_id_of(sent)
    assert statuses(ids) == {i: "deactivated" for i in ids}
    waiting = text(admin.get(f"/admin/approvals/{approval_id}/"))
    assert "101 customers will go back to the status they had before." in waiting
    assert decide(manager, approval_id, "approve").status_code == 403
    done = decide(admin, approval_id, "approve")
    assert done.status_code == 303
    assert "Reverted 101 customers" in text(admin.get(done.headers["Location"]))
    assert statuses(ids) == {i: "active" for i in ids}
    [reverted] = operations("revert")
    assert reverted.reverts_operation_id == operation_id
    assert reverted.actor_username == "admin"
    assert json.loads(reverted.scope)["approval"]["approval_request"] == approval_id
    assert approval(approval_id).result_operation_id == reverted.id


def test_the_revert_service_refuses_what_needs_approval(app, users):
    from admin_app.services import revert

    operation_id, ids = _deactivated_without_approval(app, users, 101)
    manager_actor = actor_of(users["manager"])
    with pytest.raises(approvals.ApprovalRequired):
        revert.execute(
            operation_id,
            actor=manager_actor,
            confirmed_by=manager_actor.id,
            reason_code="other",
            memo="x",
        )
    assert statuses(ids) == {i: "deactivated" for i in ids}


# -- approval and scheduling together ---------------------------------------------------------


def _utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _scheduled() -> list[ScheduledChange]:
    db.session.rollback()
    query = sa.select(ScheduledChange).order_by(ScheduledChange.due_at, ScheduledChange.id)
    return list(db.session.execute(query).scalars())


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _request_with_dates(client, ids, action="deactivate", **dates):
    page, token = start_action(client, action, ids)
    assert page.status_code == 200 and token, text(page)
    return confirm_action(client, token, **dates)


def _schedule_run(runner, now: str) -> str:
    result = runner.invoke(args=["schedule", "run", "--now", now])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_large_change_with_a_future_date_waits_for_approval_then_is_scheduled(
    app_clock, app, manager, admin, users, runner
):
    ids = make_customers(101)
    approval_id = approval_id_of(_request_with_dates(manager, ids, effective_at="2026-12-01 09:30"))
    # Sent for approval with its date: nothing changed, nothing scheduled yet.
    assert statuses(ids) == {i: "active" for i in ids}
    assert _scheduled() == [] and operations("schedule_created") == []
    stored = approval(approval_id)
    assert (_aware(stored.effective_at), stored.until) == (_utc(2026, 12, 1, 9, 30), None)
    [requested] = operations("approval_requested")
    assert json.loads(requested.scope)["effective_at"] == "2026-12-01T09:30:00Z"
    # The approver sees the date in their own time zone.
    db.session.execute(
        sa.update(StaffUser).where(StaffUser.username == "admin").values(time_zone="Asia/Taipei")
    )
    db.session.commit()
    page = text(admin.get(f"/admin/approvals/{approval_id}/"))
    shown = re.search(r'<td id="approval-effective-at">(.*?)</td>', page)
    assert "Takes effect" in page and shown, page
    assert 'id="approval-schedule-note"' in page
    assert "5:30" in shown.group(1) and 'title="2026-12-01 09:30 UTC"' in shown.group(1)

    done = decide(admin, approval_id, "approve")
    assert done.status_code == 303, text(done)
    flashed = text(admin.get(done.headers["Location"]))
    assert f"Request #{approval_id} approved." in flashed
    assert "101 customers scheduled for" in flashed
    # Approved = scheduled exactly as a direct confirmation with that date, by the approver.
    assert statuses(ids) == {i: "active" for i in ids}
    rows = _scheduled()
    assert [(r.customer_id, r.action, r.status) for r in rows] == [
        (i, "deactivate", "pending") for i in ids
    ]
    assert {_aware(r.due_at) for r in rows} == {_utc(2026, 12, 1, 9, 30)}
    assert {r.created_by for r in rows} == {users["admin"].id}
    [created] = operations("schedule_created")
    assert created.actor_username == "admin" and created.changed_count == 101
    assert json.loads(created.scope)["approval"]["approval_request"] == approval_id
    stored = approval(approval_id)
    assert (stored.status, stored.result_operation_id) == ("approved", created.id)
    assert operations("deactivate") == []

    # The runner applies it when due (system actor): the policy never refuses it.
    _schedule_run(runner, "2026-12-01T09:30:00Z")
    assert statuses(ids) == {i: "deactivated" for i in ids}
    [applied] = operations("deactivate")
    assert (applied.actor_username, applied.changed_count) == ("system", 101)
    assert json.loads(applied.scope)["scheduled_by"] == [created.id]
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0


def test_a_large_freeze_with_until_approved_applies_now_and_schedules_the_reactivation(
    app_clock, manager, admin, users, runner
):
    ids = make_customers(101)
    approval_id = approval_id_of(_request_with_dates(manager, ids, "freeze", until="2026-12-31"))
    assert statuses(ids) == {i: "active" for i in ids} and _scheduled() == []
    assert _aware(approval(approval_id).until) == _utc(2026, 12, 31)
    page = text(admin.get(f"/admin/approvals/{approval_id}/"))
    assert "Reactivate automatically on" in page and 'id="approval-until"' in page
    assert 'id="approval-effective-at"' not in page

    done = decide(admin, approval_id, "approve")
    assert done.status_code == 303, text(done)
    flashed = text(admin.get(done.headers["Location"]))
    assert "Froze 101 customers" in flashed
    assert "Reactivation of 101 customers scheduled for" in flashed
    assert statuses(ids) == {i: "frozen" for i in ids}
    [frozen] = operations("freeze")
    assert frozen.actor_username == "admin"
    assert json.loads(frozen.scope)["approval"]["approval_request"] == approval_id
    rows = _scheduled()
    assert {(r.action, _aware(r.due_at), r.expected_status, r.created_by) for r in rows} == {
        ("reactivate", _utc(2026, 12, 31), "frozen", users["admin"].id)
    }
    assert len(rows) == 101
    assert approval(approval_id).result_operation_id == frozen.id

    _schedule_run(runner, "2026-12-31T00:00:00Z")
    assert statuses(ids) == {i: "active" for i in ids}


def test_dates_passed_by_the_approval_apply_now_or_refuse_it(app_clock, app, manager):
    ids = make_customers(101)
    later = approval_id_of(
        _request_with_dates(manager, ids, "freeze", effective_at="2026-11-26", until="2026-11-30")
    )
    others = make_customers(101, start=1001)
    expired = approval_id_of(_request_with_dates(manager, others, "freeze", until="2026-11-27"))
    # 2026-11-27 12:00: the first one's effective date has passed (its end has not); the
    # second one's reactivation date has passed.
    app_clock.advance(days=2)
    admin = client_for(app, "admin")  # a fresh sign-in (a decision needs one)
    assert decide(admin, later, "approve").status_code == 303
    assert statuses(ids) == {i: "frozen" for i in ids}
    rows = _scheduled()
    assert {(r.action, _aware(r.due_at)) for r in rows} == {("reactivate", _utc(2026, 11, 30))}

    refused = decide(admin, expired, "approve")
    assert refused.status_code == 409
    assert "its automatic reactivation date has passed" in text(refused)
    assert statuses(others) == {i: "active" for i in others}
    assert approval(expired).status == "pending" and len(_scheduled()) == 101


def test_a_bad_date_on_a_change_that_needs_approval_rerenders_the_page(app_clock, manager):
    ids = make_customers(101)
    response = _request_with_dates(manager, ids, effective_at="2026-11-01")
    assert response.status_code == 422
    assert "The effective date is in the past." in text(response)
    frozen = make_customers(101, status="frozen", start=1001)
    response = _request_with_dates(manager, frozen, "reactivate", until="2026-12-31")
    assert response.status_code == 422
    assert "Only a freeze or a deactivation can end automatically." in text(response)
    assert db.session.execute(sa.select(sa.func.count(ApprovalRequest.id))).scalar() == 0


def test_the_scheduling_service_refuses_what_needs_approval(app_clock, app, users):
    ids = make_customers(101)
    actor = actor_of(users["manager"])
    for dates in ({"effective_at": _utc(2026, 12, 1)}, {"until": _utc(2026, 12, 31)}):
        request_id = status_change.create_request(
            action=status_change.StatusAction.FREEZE, actor=actor, ids=ids
        )
        with pytest.raises(approvals.ApprovalRequired):
            scheduling.confirm(request_id, actor=actor, reason_code="customer_request", **dates)
    assert statuses(ids) == {i: "active" for i in ids}
    assert _scheduled() == [] and operations() == []
