"""Pages say things in words and in the reader's formats, never as stored codes or raw values,
and Chinese pages punctuate as Chinese does (what a screenshot review of every page in three
languages found, 2026-12-06), on SQLite and PostgreSQL."""

import json
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from admin_app.extensions import db
from admin_app.models import AuditOperation, Customer, Reason, ReviewRule, StatusAction
from admin_app.services import api_tokens, labels, orders, status_change
from admin_app.services import reasons as reasons_service
from admin_app.services import review_rules as review_rules_service
from admin_app.services.audit import Actor
from tests.conftest import PASSWORD, confirm_action, make_customers, start_action

LOCALES = {"en": "en", "zh_Hans": "zh_Hans_CN", "zh_Hant": "zh_Hant_TW"}


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def visible(html: str) -> str:
    """The page's text without tags and attributes (roughly what a reader sees)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def admin(client, login, reasons):
    login("admin")
    return client


def speak(client, language: str):
    client.post("/locale", data={"locale": LOCALES[language], "next": "/admin/"})
    return client


def test_customer_details_show_times_and_money_as_the_grid_does(admin):
    (customer_id,) = make_customers(1, credit_limit=Decimal("10000.00"))
    customer = db.session.get(Customer, customer_id)
    customer.last_order_at = datetime(2026, 11, 4, 8, 30, tzinfo=UTC)
    db.session.commit()
    details = page(admin, f"/admin/customers/details/?id={customer_id}")
    shown = visible(details)
    assert "10,000.00" in shown and "10000.00" not in shown
    assert "Nov 4, 2026" in shown
    assert "+00:00" not in shown and "08:30:00" not in shown


def test_the_review_queue_dates_its_last_orders_as_its_other_dates(admin, review_rules):
    (customer_id,) = make_customers(1)
    customer = db.session.get(Customer, customer_id)
    customer.last_order_at = datetime(2025, 7, 3, 9, 0, tzinfo=UTC)  # over 180 days ago
    db.session.commit()
    queue = visible(page(admin, "/admin/review/"))
    assert "Jul 3, 2025" in queue
    assert "2025-07-03" not in queue


def test_rules_name_their_preselected_reason(admin, review_rules):
    rule = (
        db.session.execute(sa.select(ReviewRule).where(ReviewRule.reason_id.is_not(None)))
        .scalars()
        .first()
    )
    code, label = rule.reason.code, rule.reason.label
    rules = visible(page(admin, "/admin/rules/"))
    assert label in rules
    assert f" {code} " not in rules


@pytest.mark.parametrize(
    ("language", "system", "administrator"),
    [
        ("en", "System", "Administrator"),
        ("zh_Hans", "系统", "管理员"),
        ("zh_Hant", "系統", "管理員"),
    ],
)
def test_roles_read_as_words_everywhere(admin, language, system, administrator):
    ids = make_customers(1)
    request_id = status_change.create_request(
        action=StatusAction.FREEZE, actor=Actor.cli(), ids=ids, scope={"mode": "ids"}
    )
    status_change.execute(request_id, actor=Actor.cli(), reason_code="customer_request")
    speak(admin, language)
    roles = re.findall(r'<td class="col-actor_role">([^<]*)</td>', page(admin, "/admin/audit/"))
    assert system in roles and "system" not in roles  # the command line's operation
    staff = [
        cell.strip()
        for cell in re.findall(r"<td class=\"col-role\">([^<]*)</td>", page(admin, "/admin/staff/"))
    ]
    assert administrator in staff and "Admin" not in staff  # one word per role


@pytest.mark.parametrize(
    ("language", "done"),
    [
        ("en", r"Froze 2 customers\. <a [^>]+>Operation #\d+</a>"),
        ("zh_Hans", r"已冻结 2 个客户。<a [^>]+>操作 #\d+</a>"),
        ("zh_Hant", r"已凍結 2 位客戶。<a [^>]+>操作 #\d+</a>"),
    ],
)
def test_the_result_message_ends_its_sentence_as_the_language_does(admin, language, done):
    ids = make_customers(2)
    speak(admin, language)
    _preview, token = start_action(admin, "freeze", ids)
    result = confirm_action(admin, token)
    assert result.status_code == 303
    assert re.search(done, page(admin, "/admin/customers/"))


@pytest.mark.parametrize(
    ("language", "skipped"),
    [("en", "already frozen: 1"), ("zh_Hans", "已冻结：1"), ("zh_Hant", "已凍結：1")],
)
def test_skipped_customers_are_counted_after_their_reason(admin, language, skipped):
    ids = make_customers(2) + make_customers(1, start=3, status="frozen")
    speak(admin, language)
    preview, _token = start_action(admin, "freeze", ids)
    assert skipped in visible(preview.get_data(as_text=True))


@pytest.mark.config(APPROVAL_THRESHOLD=2)
@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("en", "If approved now: 3 customers will change to Deactivated."),
        ("zh_Hans", "如果现在批准：3 个客户将变为停用。"),
        ("zh_Hant", "如果現在核准：3 位客戶將變為停用。"),
    ],
)
def test_an_approval_request_says_what_approving_now_does_in_one_sentence(
    admin, language, sentence
):
    ids = make_customers(3)
    _preview, token = start_action(admin, "deactivate", ids)
    requested = confirm_action(admin, token)
    assert requested.status_code == 303
    speak(admin, language)
    summary = page(admin, requested.headers["Location"])
    strong = re.search(r'id="confirm-summary">\s*<strong>(.*?)</strong>', summary, re.S).group(1)
    assert strong.strip() == sentence


@pytest.mark.parametrize(
    ("language", "usage"),
    [
        ("en", "0 operations, 0 customers, and 1 review rule"),
        ("zh_Hans", "0 个操作、0 个客户和 1 条审查规则"),  # a number beside 和 is spaced
        ("zh_Hant", "0 個操作、0 位客戶和 1 條審查規則"),
    ],
)
def test_a_reasons_use_is_listed_in_words(admin, review_rules, language, usage):
    """The reasons list and a reason's edit page say what uses it in the same words."""
    speak(admin, language)
    reasons = page(admin, "/admin/reasons/")
    uses = re.findall(
        r'<span class="reason-usage" data-code="([^"]+)">(.*?)</span>\s*</td>', reasons, re.S
    )
    code = next(code for code, html in uses if re.sub(r"<[^>]+>", "", html) == usage)
    # each count keeps its measure word on its line; the list wraps between them
    assert '<span class="text-nowrap">1 review rule</span>' in reasons or language != "en"
    reason_id = db.session.execute(sa.select(Reason.id).where(Reason.code == code)).scalar_one()
    assert usage in visible(page(admin, f"/admin/reasons/edit/?id={reason_id}"))


@pytest.mark.parametrize(
    ("language", "intro"),
    [
        ("en", "not kept out of the review. No review has been completed yet."),
        ("zh_Hans", "。尚未完成任何审查。"),
        ("zh_Hant", "。尚未完成任何審查。"),
    ],
)
def test_sentences_follow_each_other_as_the_language_writes_them(admin, language, intro):
    speak(admin, language)
    queue = page(admin, "/admin/review/")
    paragraph = re.search(r'id="review-intro">(.*?)</p>', queue, re.S).group(1)
    assert intro in paragraph.strip()


def test_an_error_page_does_not_name_another_page(client, login):
    login("clerk")
    refused = client.get("/admin/audit/")
    assert refused.status_code == 403
    body = refused.get_data(as_text=True)
    assert "Not allowed" in body
    assert not re.search(r"<h4[^>]*>\s*(<[^>]+>\s*)*Dashboard", body)


def test_the_api_page_is_readable_on_a_phone_and_shows_code_as_code(client):
    docs = page(client, "/api/v1/docs")
    assert 'name="viewport"' in docs
    assert "<code>can_trade</code>" in docs and "`" not in visible(docs)
    assert re.search(r"<code>400</code>\s*Bad Request", docs)  # shared responses described
    assert re.search(r"<code>status_reason</code> <em>Reason</em>", docs)


@pytest.mark.config(APPROVAL_THRESHOLD=2)
def test_an_approval_request_marks_the_customers_changed_since_it_was_made(admin):
    ids = make_customers(3)
    _preview, token = start_action(admin, "deactivate", ids)
    requested = confirm_action(admin, token)
    assert requested.status_code == 303
    request_id = status_change.create_request(
        action=StatusAction.FREEZE, actor=Actor.cli(), ids=ids[:1], scope={"mode": "ids"}
    )
    status_change.execute(request_id, actor=Actor.cli(), reason_code="customer_request")
    details = page(admin, requested.headers["Location"])
    assert "If approved now: 2 customers will change to Deactivated." in details
    assert "Customers in the request" in details
    changed = re.search(rf'<tr data-customer-id="{ids[0]}"[^>]*>(.*?)</tr>', details, re.S)
    assert 'data-skip="changed"' in changed.group(0)
    assert "Frozen · skipped: changed since the preview" in visible(changed.group(1))
    unchanged = re.search(rf'<tr data-customer-id="{ids[1]}"[^>]*>(.*?)</tr>', details, re.S)
    assert "Active → Deactivated" in visible(unchanged.group(1)).replace("  ", " ")


def test_the_preferences_page_is_headed_by_its_own_name(admin):
    preferences = page(admin, "/preferences")
    assert not re.search(r"<h4[^>]*>\s*(<[^>]+>\s*)*Dashboard", preferences)
    assert "<h2>Preferences</h2>" in preferences


@pytest.mark.parametrize(
    ("language", "listed"),
    [
        ("en", "frozen: 3 and Wholesale"),
        ("zh_Hans", "已冻结：3 和 Wholesale"),
        ("zh_Hant", "零售、批發和大盤商"),
    ],
)
def test_lists_space_a_number_or_latin_word_beside_the_chinese_and(app, language, listed):
    items = {
        "en": ["frozen: 3", "Wholesale"],
        "zh_Hans": ["已冻结：3", "Wholesale"],
        "zh_Hant": ["零售", "批發", "大盤商"],
    }[language]
    locale = {"en": "en", "zh_Hans": "zh_Hans_CN", "zh_Hant": "zh_Hant_TW"}[language]
    with app.test_request_context("/"), force_locale(locale):
        assert labels.label_list(items) == listed


@pytest.mark.parametrize(
    ("language", "heading"), [("en", "Staff: clerk"), ("zh_Hans", "员工：clerk")]
)
def test_an_edit_page_names_the_record_it_edits(admin, staff, language, heading):
    """The staff edit page was headed "Staff" only: nothing said whose role or password it
    changes."""
    speak(admin, language)
    html = page(admin, f"/admin/staff/edit/?id={staff['clerk'].id}")
    title = re.search(r'<h4[^>]*id="edit-title"[^>]*>(.*?)</h4>', html, re.S)
    assert title and visible(title.group(1)).strip() == heading


@pytest.mark.parametrize(
    ("language", "flags", "enabled"),
    [
        ("en", ["For deactivation", "For freezing", "For reactivation"], "Enabled"),
        ("zh_Hant", ["用於停用", "用於凍結", "用於重新啟用"], "啟用"),
    ],
)
def test_switches_say_what_they_switch(admin, staff, language, flags, enabled):
    """A reason's "Deactivate" box sat beside "Enabled" and read as "disable this reason"; a
    staff user's "Active" was translated as the customer status (正常)."""
    speak(admin, language)
    reason_id = db.session.execute(sa.select(Reason.id).limit(1)).scalar_one()
    form = page(admin, f"/admin/reasons/edit/?id={reason_id}")
    for field, flag in zip(("for_deactivate", "for_freeze", "for_reactivate"), flags, strict=True):
        assert re.search(rf'<label for="{field}"[^>]*>\s*{flag}\s', form), field
    staff_list = page(admin, "/admin/staff/")
    assert f"{enabled}" in visible(staff_list.split("col-is_active", 1)[1].split("</th>", 1)[0])


def test_lists_of_markup_are_spaced_like_lists_of_words(app):
    items = ["<b>已冻结：3</b>", "<b>2 个</b>"]
    with app.test_request_context("/"), force_locale("zh_Hans_CN"):
        assert labels.label_list(items) == "<b>已冻结：3</b> 和 <b>2 个</b>"


def _highlighted_menu_items(html: str) -> list[str]:
    menu = html.split('id="admin-navbar-collapse"', 1)[1].split("navbar-right", 1)[0]
    return [
        visible(item).strip()
        for item in re.findall(r'<li class="active[^"]*">(.*?)</a>', menu, re.S)
    ]


def test_pages_outside_the_menu_highlight_no_menu_item(admin):
    assert "Customers" in _highlighted_menu_items(page(admin, "/admin/customers/"))
    assert _highlighted_menu_items(page(admin, "/preferences")) == []
    missing = admin.get("/admin/no-such-page/")
    assert missing.status_code == 404
    assert _highlighted_menu_items(missing.get_data(as_text=True)) == []


def test_the_log_names_the_zone_its_times_are_in(admin):
    admin.post("/preferences", data={"time_zone": "Asia/Taipei"})
    log = page(admin, "/admin/audit/")
    assert "When (Taiwan Time)" in log
    assert ">When (UTC)<" not in visible(log).replace(" ", "")  # the filters still say UTC


@pytest.mark.parametrize(
    ("language", "names"),
    [("en", "T00001 Test Customer 1, T00002"), ("zh_Hans", "T00001 Test Customer 1、T00002")],
)
def test_an_operations_customers_are_listed_as_the_language_lists(admin, language, names):
    ids = make_customers(2)
    speak(admin, language)
    _preview, token = start_action(admin, "freeze", ids)
    confirm_action(admin, token)
    operation = re.search(
        r'href="(/admin/audit/details/\?id=\d+)"', page(admin, "/admin/customers/")
    )
    assert names in visible(page(admin, operation.group(1)))


@pytest.mark.parametrize(
    ("language", "usage"),
    [
        ("en", "customer_request : in use by 1 operation, 1 customer, and 0 review rules,"),
        ("zh_Hans", "customer_request ：正被 1 个操作、1 个客户和 0 条审查规则使用，"),
    ],
)
def test_a_reason_in_use_says_so_in_one_sentence(admin, language, usage):
    ids = make_customers(1)
    _preview, token = start_action(admin, "freeze", ids)
    confirm_action(admin, token)  # reason customer_request
    speak(admin, language)
    reason_id = db.session.execute(
        sa.select(Reason.id).where(Reason.code == "customer_request")
    ).scalar_one()
    assert usage in visible(page(admin, f"/admin/reasons/edit/?id={reason_id}"))


def test_forms_and_tables_label_what_they_hold(admin, review_rules):
    (customer_id,) = make_customers(1)
    edit = page(admin, f"/admin/customers/edit/?id={customer_id}")
    assert re.search(r'<label for="balance"[^>]*>Balance\s', edit)  # not the list's pair
    queue = page(admin, "/admin/review/")
    assert 'placeholder="Code or name contains…"' in queue
    speak(admin, "zh_Hant")
    _preview, token = start_action(admin, "freeze", [customer_id])
    confirm_action(admin, token)
    details = page(admin, f"/admin/customers/details/?id={customer_id}")
    assert "<th>操作編號</th>" in details  # not a second "操作" beside the action's


def test_the_approval_policy_reads_as_one_paragraph_in_chinese(admin):
    speak(admin, "zh_Hant")
    policy = re.search(r'id="approval-policy">(.*?)</div>', page(admin, "/admin/approvals/"), re.S)
    assert not re.search(r"。\s+\S", policy.group(1)) and "。" in policy.group(1)


def test_a_refused_value_is_shown_next_to_its_field_and_changes_nothing(admin):
    (customer_id,) = make_customers(1)
    refused = admin.post(
        f"/admin/customers/edit/?id={customer_id}",
        data={
            "code": "T00001",
            "name": "Renamed",
            "segment": "retail",
            "credit_limit": "12.345",
            "balance": "0",
            "version": "1",
        },
    )
    assert refused.status_code == 400
    body = refused.get_data(as_text=True)
    field = re.search(r'id="credit_limit"[^>]*>(.*?)</div>\s*</div>', body, re.S)
    assert 'class="form-control is-invalid"' in re.search(
        r"<input[^>]*id=\"credit_limit\"[^>]*>", body
    ).group(0)
    assert "must be a number with at most two decimals" in field.group(1)
    assert 'class="alert alert-danger' not in body.split('id="credit_limit"')[0][-3000:]
    db.session.rollback()
    assert db.session.get(Customer, customer_id).name == "Test Customer 1"


def test_a_new_staff_user_is_a_clerk_unless_chosen(admin):
    form = page(admin, "/admin/staff/new/")
    selected = re.search(
        r'<select[^>]*name="role"[^>]*>.*?<option selected value="(\w+)"', form, re.S
    )
    assert selected.group(1) == "clerk"


def test_a_list_without_row_icons_has_no_empty_column_for_them(admin):
    ids = make_customers(1)
    _preview, token = start_action(admin, "freeze", ids)
    scheduled = confirm_action(admin, token, effective_at="2099-01-01")
    assert scheduled.status_code == 303
    pending = page(admin, "/admin/scheduled/")
    assert "T00001" in pending
    assert "list-buttons-column" not in pending and "<th>&nbsp;</th>" not in pending
    grid = page(admin, "/admin/customers/")  # its rows have view and edit icons
    assert "list-buttons-column" in grid and "<th>&nbsp;</th>" in grid


def test_details_pages_have_no_unlabelled_filter_box(admin, staff):
    """Flask-Admin's details pages open with a box labelled only "Filter" that hid table rows
    (and broke on a typed "("): the customer, order and operation pages have none."""
    (customer_id,) = make_customers(1)
    clerk = staff["clerk"]
    order = orders.place_order(
        customer_id, "10", actor=Actor(id=clerk.id, username=clerk.username, role=clerk.role)
    )
    operation_id = db.session.execute(sa.select(sa.func.max(AuditOperation.id))).scalar_one()
    for url in (
        f"/admin/customers/details/?id={customer_id}",
        f"/admin/orders/details/?id={order.id}",
        f"/admin/audit/details/?id={operation_id}",
    ):
        html = page(admin, url)
        assert 'id="fa_filter"' not in html and "fa_filter_container" not in html, url


def test_order_details_name_every_field_in_the_readers_language(admin, staff):
    (customer_id,) = make_customers(1)
    clerk = staff["clerk"]
    order = orders.place_order(
        customer_id, "10", actor=Actor(id=clerk.id, username=clerk.username, role=clerk.role)
    )
    shown = visible(page(speak(admin, "zh_Hans"), f"/admin/orders/details/?id={order.id}"))
    assert "记录时间" in shown and "下单时间" in shown
    assert "Created At" not in shown


@pytest.mark.parametrize("language", ["en", "zh_Hans", "zh_Hant"])
@pytest.mark.parametrize(
    "url",
    [
        "/admin/customers/?flt0_segment_equals=wholesale",
        "/admin/audit/?flt0_action_equals=deactivate",
        "/admin/orders/?flt0_customer_code_equals=C0000001",
    ],
)
def test_sort_page_and_page_size_links_keep_the_filter_in_every_language(admin, language, url):
    """Flask-Admin named a filter in its links after its label as translated for the page, so
    on a Chinese page every sort, page and page-size link dropped the list's filter."""
    make_customers(60)
    speak(admin, language)
    html = page(admin, url)
    wanted = url.split("?", 1)[1].replace("&", "&amp;")
    links = re.findall(r'href="([^"]*(?:sort=|page_size=)[^"]*)"', html)
    reset = [link for link in links if re.fullmatch(r"[^?]*\?page_size=\d+", link)]
    assert len(reset) == 1  # "Clear filters" alone leaves them
    assert len(links) > 5, url
    for link in set(links) - set(reset):
        assert wanted in link, link


def test_a_saved_record_is_named_in_words_in_the_readers_language(client, login, reasons):
    """The flash after a save named an order by its Python repr ("<Order SO…>") and a reason
    by its English label on a Chinese page."""
    (customer_id,) = make_customers(1)
    login("clerk")
    speak(client, "zh_Hans")
    saved = client.post(
        "/admin/orders/new/",
        data={"customer": str(customer_id), "amount": "5"},
        follow_redirects=True,
    )
    db.session.rollback()
    number = db.session.execute(sa.select(orders.Order.number)).scalar_one()
    assert f"已创建“{number}”。" in visible(saved.get_data(as_text=True))

    reason = db.session.execute(sa.select(Reason).where(Reason.code == "non_payment")).scalar_one()
    view = next(
        v for v in client.application.extensions["admin"][0]._views if v.endpoint == "reasons"
    )
    with client.application.test_request_context("/", headers={"Accept-Language": "zh-TW"}):
        assert view.saved_message(reason, created=False) == f"已儲存「{reason.label_zh_hant}」。"


@pytest.mark.parametrize(("language", "yes"), [("en", "Yes"), ("zh_Hans", "是"), ("zh_Hant", "是")])
def test_yes_and_no_icons_are_named_in_words(admin, review_rules, language, yes):
    """The check icons of the reasons, rules and staff lists said "enabled: true" on hover."""
    speak(admin, language)
    for url in ("/admin/reasons/", "/admin/rules/", "/admin/staff/"):
        html = page(admin, url)
        assert ": true" not in html and ": false" not in html, url
        assert f'title="{yes}" aria-hidden="true"></span><span class="sr-only">{yes}</span>' in html


def _newest_operation_page(client) -> str:
    """The newest operation's page, without its technical details (raw JSON, on purpose)."""
    operation_id = db.session.execute(sa.select(sa.func.max(AuditOperation.id))).scalar_one()
    html = page(client, f"/admin/audit/details/?id={operation_id}")
    return visible(re.sub(r"<details.*?</details>", "", html, flags=re.S))


def test_an_operations_entries_show_labels_and_local_values_not_codes(admin, staff):
    """The log's entries named API tokens and their times by code ("api_token", "expires_at")
    with ISO times and "never", a reason's switches "true" / "false"."""
    speak(admin, "zh_Hans")
    actor = Actor(id=staff["admin"].id, username="admin", role="admin")
    api_tokens.create_token("erp-sync", expires_days=None, actor=actor)
    shown = _newest_operation_page(admin)
    assert "API 令牌" in shown and "到期时间" in shown and "永不" in shown
    for code in ("api_token", "expires_at", "never"):
        assert code not in shown, code

    api_tokens.revoke_token("erp-sync", actor=actor)
    shown = _newest_operation_page(admin)
    assert "已吊销" in shown and "revoked_at" not in shown
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:", shown)  # an ISO time

    reason = db.session.execute(sa.select(Reason).where(Reason.code == "duplicate")).scalar_one()
    reasons_service.update_reason(reason.id, {"for_freeze": True}, actor=actor)
    shown = _newest_operation_page(admin)
    assert "否" in shown and "是" in shown
    assert "true" not in shown and "false" not in shown


def test_a_failed_login_with_an_unknown_name_reads_as_an_unknown_user(admin, client):
    client.post("/logout")
    client.post("/login", data={"username": "nobody-here", "password": "wrong-password-1"})
    client.post("/login", data={"username": "admin", "password": PASSWORD})
    speak(admin, "zh_Hant")
    sign_ins = visible(page(admin, "/admin/audit/?tab=sign_ins"))
    assert "（未知使用者）" in sign_ins and "(unknown)" not in sign_ins
    assert " ? " not in sign_ins


@pytest.mark.parametrize(
    ("language", "refusal"), [("zh_Hans", "不是有效的选择。"), ("zh_Hant", "不是有效的選擇。")]
)
def test_an_unknown_customer_on_the_order_form_is_refused_in_the_readers_language(
    client, login, language, refusal
):
    make_customers(1)
    login("clerk")
    speak(client, language)
    response = client.post("/admin/orders/new/", data={"customer": "99999", "amount": "5"})
    shown = visible(response.get_data(as_text=True))
    assert refusal in shown and "Not a valid choice" not in shown


def test_the_staff_role_filter_offers_roles_by_their_names(admin, staff):
    """The role filter took free text matched against stored codes: typing 职员 found no one."""
    speak(admin, "zh_Hans")
    html = page(admin, "/admin/staff/")
    groups = re.search(r'id="filter-groups-data" class="d-none">(.*?)</div>', html, re.S).group(1)
    role_filter = next(f for f in json.loads(groups)["角色"] if f["options"])
    assert ["clerk", "职员"] in role_filter["options"]
    listed = page(admin, f"/admin/staff/?flt0_{role_filter['arg']}=clerk")
    names = re.findall(r'<td class="col-username">([^<]*)</td>', listed)
    assert [name.strip() for name in names] == ["clerk"]


def test_saving_an_unchanged_form_says_only_that_nothing_changed(admin):
    """It said "Nothing changed." and "Customer … saved." together."""
    (customer_id,) = make_customers(1)
    customer = db.session.get(Customer, customer_id)
    fields = {
        "code": customer.code,
        "name": customer.name,
        "segment": customer.segment,
        "credit_limit": str(customer.credit_limit),
        "balance": str(customer.balance),
        "email": customer.email,
        "version": str(customer.version),
    }
    shown = visible(
        admin.post(
            f"/admin/customers/edit/?id={customer_id}", data=fields, follow_redirects=True
        ).get_data(as_text=True)
    )
    assert "Nothing changed." in shown and "saved" not in shown


def test_the_review_rule_and_reason_an_operation_changed_are_named_in_the_readers_language(
    admin, staff, review_rules
):
    """The log's entries named a rule by its English name and a reason by its code."""
    actor = Actor(id=staff["admin"].id, username="admin", role="admin")
    reason = db.session.execute(sa.select(Reason).where(Reason.code == "over_credit")).scalar_one()
    reasons_service.update_reason(reason.id, {"memo_required": True}, actor=actor)
    speak(admin, "zh_Hant")
    assert "餘額超過信用額度" in _newest_operation_page(admin)
    rule_id = review_rules["Retail: no order for 365 days"]
    review_rules_service.update_rule(rule_id, {"inactivity_days": 400}, actor=actor)
    assert "零售：365 天無訂單" in _newest_operation_page(admin)


@pytest.mark.parametrize(
    ("language", "caption_end", "warning_end"),
    [
        ("en", "(tap a time for UTC).</span> <a", "have an open balance. <a"),
        ("zh_Hant", "UTC 時間）。</span><a", "未結餘額。<a"),
        ("zh_Hans", "UTC 时间）。</span><a", "未结余额。<a"),
    ],
)
def test_a_link_after_a_sentence_follows_the_languages_spacing(
    admin, language, caption_end, warning_end
):
    """A link after a sentence: a space after an English full stop, none after "。"."""
    admin.post("/preferences", data={"time_zone": "Asia/Taipei"})
    speak(admin, language)
    assert caption_end in page(admin, "/admin/audit/")
    ids = make_customers(2, balance=Decimal("10.00"))
    confirmation, _token = start_action(admin, "deactivate", ids)
    assert warning_end in confirmation.get_data(as_text=True)
