"""English, Simplified Chinese (zh_Hans_CN) and Traditional Chinese (zh_Hant_TW): the catalogs are
complete and follow the glossary, the browser's language picks the right one, and pages and
service refusals use it."""

import ast
import re
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from admin_app.extensions import db
from admin_app.models import StaffUser
from admin_app.services import errors as service_errors
from tests.conftest import make_customers, start_action

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "admin_app" / "translations"
CHINESE = ("zh_Hans_CN", "zh_Hant_TW")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
# Common characters that exist only in Simplified Chinese (Traditional: 錄 戶 凍 啟 審 設 資 賬/帳
# 頁 …): none may appear in a Traditional page or catalog.
SIMPLIFIED_ONLY = "录户冻启审设资账页"
MORE_SIMPLIFIED_ONLY = (
    "们这个为说时发门关开问间务单号码据选择项条类删认过还该从会对应处见规则编辑"
    "错误请输无显称复归启状态订额审户码录跃细览权级删导数储帐汇"
)


def catalog_path(locale: str, domain: str = "messages") -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / f"{domain}.po"


def app_strings() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT / "admin_app",
        method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2")],
        keywords={**KEYWORDS},
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return {m for m in found if m}


def entries(locale: str, domain: str = "messages") -> list[tuple[tuple[str, ...], str]]:
    """(msgids: singular [, plural], translation) for the non-fuzzy translated entries."""
    with catalog_path(locale, domain).open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    result = []
    for message in catalog:
        if message.id and not message.fuzzy:
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            value = message.string[0] if isinstance(message.string, tuple) else message.string
            if value:
                result.append((ids, value))
    return result


def translations(locale: str = "zh_Hans_CN", domain: str = "messages") -> dict[str, str]:
    """msgid (the plural form's too) -> translation."""
    return {key: value for ids, value in entries(locale, domain) for key in ids}


@pytest.mark.parametrize("locale", CHINESE)
def test_every_app_string_has_a_chinese_translation(locale):
    missing = sorted(app_strings() - set(translations(locale)))
    assert missing == [], f"add these to {catalog_path(locale).relative_to(ROOT)}: {missing}"


@pytest.mark.parametrize("domain", ["messages", "admin"])
@pytest.mark.parametrize("locale", CHINESE)
def test_translations_keep_their_placeholders(locale, domain):
    for ids, chinese in entries(locale, domain):  # Chinese has one form: the plural's
        assert sorted(re.findall(r"%\(\w+\)\w", ids[-1])) == sorted(
            re.findall(r"%\(\w+\)\w", chinese)
        ), ids


def test_the_traditional_catalogs_have_no_simplified_only_characters():
    for domain in ("messages", "admin", "wtforms"):
        for english, chinese in translations("zh_Hant_TW", domain).items():
            found = set(chinese) & set(SIMPLIFIED_ONLY + MORE_SIMPLIFIED_ONLY)
            assert not found, f"{domain}: {english!r} -> {chinese!r} has {sorted(found)}"


def glossary_rows() -> list[tuple[str, str, str]]:
    rows = []
    for line in (ROOT / "docs" / "glossary-zh.md").read_text(encoding="utf-8").splitlines():
        cells = tuple(cell.strip() for cell in line.strip().strip("|").split("|"))
        if (
            line.startswith("|")
            and len(cells) == 3
            and cells[0] != "English"
            and not set(cells[0]) <= {"-"}
        ):
            rows.append(cells)
    return rows


def _term_key(text: str) -> str:
    return re.sub(r"\s*\([^)]*\)", "", text).strip().rstrip(".").lower()


@pytest.mark.parametrize("column, locale", [(1, "zh_Hans_CN"), (2, "zh_Hant_TW")])
def test_the_catalogs_use_the_glossary(column, locale):
    catalog = {**translations(locale, "admin"), **translations(locale)}
    by_key: dict[str, list[tuple[str, str]]] = {}
    for english, chinese in catalog.items():
        by_key.setdefault(_term_key(english), []).append((english, chinese))
    rows, checked, wrong = glossary_rows(), 0, []
    assert len(rows) > 40
    for row in rows:
        english_terms = [_term_key(term) for term in row[0].split(" / ")]
        chinese_terms = row[column].split(" / ")
        if len(chinese_terms) == 1:
            chinese_terms *= len(english_terms)
        assert len(chinese_terms) == len(english_terms), row
        for english, term in zip(english_terms, chinese_terms, strict=True):
            for msgid, chinese in by_key.get(english, ()):
                checked += 1
                if term not in chinese:
                    wrong.append((msgid, chinese, term))
    assert wrong == []
    assert checked > 50  # the table really matches catalog entries


@pytest.mark.parametrize(
    ("locale", "measure_word", "other"),
    [("zh_Hans_CN", "个客户", "位客户"), ("zh_Hant_TW", "位客戶", "個客戶")],
)
def test_customers_are_counted_with_one_measure_word(locale, measure_word, other):
    """The glossary counts customers with 个 in Simplified and 位 in Traditional: one page
    must not say "2 个客户有未结余额" beside "显示这 2 位客户"."""
    texts = " ".join(translations(locale).values())
    assert measure_word in texts
    assert other not in texts


def test_flask_admin_page_size_menu_is_translated_for_every_option():
    from admin_app.admin.secure import SecureModelView

    for locale in CHINESE:
        overrides = translations(locale, "admin")
        for size in SecureModelView.page_size_options:
            assert f"{size} items" in overrides, (locale, size)


# -- every user-visible service message goes through gettext --------------------------------

SERVICE_ERRORS = {
    name
    for name, value in vars(service_errors).items()
    if isinstance(value, type) and issubclass(value, service_errors.ServiceError)
}


def _error_like(name: str) -> bool:
    return name in SERVICE_ERRORS or name.endswith(
        ("Error", "Exception", "Conflict", "NotAllowed", "Invalid", "InvalidInput", "NotFound")
    )


def formatted_messages(tree: ast.AST) -> list[tuple[int, str]]:
    """Calls to an error class or gettext whose message is built in Python (an f-string, `%` or
    `+` or .format() on a literal) - gettext cannot extract those - and literal English passed
    straight to a service error (shown untranslated)."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if not (_error_like(name) or name in KEYWORDS):
            continue
        message_args = [*node.args, *(k.value for k in node.keywords if k.arg == "message")]
        for arg in [*node.args, *(keyword.value for keyword in node.keywords)]:
            built = (
                isinstance(arg, ast.JoinedStr)
                or (
                    isinstance(arg, ast.BinOp)
                    and isinstance(arg.op, (ast.Mod, ast.Add))
                    and any(
                        isinstance(side, (ast.Constant, ast.JoinedStr))
                        for side in (arg.left, arg.right)
                    )
                )
                or (
                    isinstance(arg, ast.Call)
                    and getattr(arg.func, "attr", "") == "format"
                    and isinstance(arg.func.value, ast.Constant)
                )
            )
            untranslated = (
                name in SERVICE_ERRORS
                and arg in message_args
                and isinstance(arg, ast.Constant)
                and isinstance(arg.value, str)
            )
            if built or untranslated:
                found.append((node.lineno, ast.unparse(node)[:100]))
    return found


def test_no_service_error_or_gettext_call_gets_a_python_formatted_message():
    offenders = []
    for path in sorted((ROOT / "admin_app").rglob("*.py")):
        for line, source in formatted_messages(ast.parse(path.read_text(encoding="utf-8"))):
            offenders.append(f"{path.relative_to(ROOT)}:{line}: {source}")
    assert offenders == [], "use _('... %(name)s ...', name=value):\n" + "\n".join(offenders)


@pytest.mark.parametrize(
    "source",
    [
        'raise InvalidInput(f"{name} is required.")',
        'raise Conflict(f"A reason with the code {code!r} already exists.")',
        'raise errors.NotFound("This reason does not exist.")',
        'raise ValueError("bad %s" % value)',
        'message = _(f"Deactivated {n}")',
        'flash(_("Deactivated {}".format(n)))',
    ],
)
def test_the_scan_catches_formatted_and_untranslated_messages(source):
    assert formatted_messages(ast.parse(source))


@pytest.mark.parametrize(
    "source",
    [
        'raise InvalidInput(_("%(field)s is required.", field=name))',
        "raise InvalidInput(problem)",
        'raise ValueError("pass exactly one of ids / matching")',
    ],
)
def test_the_scan_lets_gettext_with_placeholders_through(source):
    assert formatted_messages(ast.parse(source)) == []


def test_service_messages_work_without_a_request(app):
    """The CLI has an app context and no request: messages come out in English."""
    from admin_app.services.staff import password_problem

    assert password_problem("short") == "Password must be at least 12 characters."


def test_the_faster_babel_lookup_finds_what_flask_babel_finds(app):
    """admin_app.i18n gives Flask-Babel a one-step way to its per-request state: the same
    object as Flask-Babel's own lookup outside any context, in an app context (the CLI) and in
    a request, so force_locale and the page's language behave as before."""
    import flask_babel
    from flask_babel import force_locale, gettext

    from admin_app.i18n import flask_babel_context

    assert flask_babel._get_current_context is not flask_babel_context  # in use
    with app.app_context():
        assert flask_babel._get_current_context() is flask_babel_context()
    with app.test_request_context("/", headers={"Accept-Language": "zh-TW"}):
        state = flask_babel._get_current_context()
        assert state is not None and state is flask_babel_context()
        assert gettext("Log out") == "登出"
        with force_locale("zh_Hans_CN"):
            assert gettext("Customers") == "客户"
        assert gettext("Customers") == "客戶"
    outside = []  # a new thread starts outside every context
    thread = threading.Thread(
        target=lambda: outside.append((flask_babel._get_current_context(), flask_babel_context()))
    )
    thread.start()
    thread.join()
    assert outside == [(None, None)]


# -- pages ------------------------------------------------------------------------------------


class _TextNodes(HTMLParser):
    def __init__(self):
        super().__init__()
        self.texts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.texts.append(" ".join(data.split()))


ADMIN_ENGLISH = {
    "List",
    "Create",
    "Export",
    "Add Filter",
    "Apply",
    "Reset Filters",
    "Search",
    "With selected",
    "Save",
    "Cancel",
    "Details",
    "Edit",
    "Delete",
    "items",
    "Home",
}


def untranslated(html: str, locale: str = "zh_Hans_CN") -> set[str]:
    english = {m for m in translations(locale) if "%(" not in m} | ADMIN_ENGLISH
    parser = _TextNodes()
    parser.feed(html)
    return {text for text in parser.texts if text in english}


def simplified_only(html: str) -> set[str]:
    parser = _TextNodes()
    parser.feed(html)
    return set("".join(parser.texts)) & set(SIMPLIFIED_ONLY)


@pytest.fixture
def chinese_client(client, login, reasons):
    login("admin")
    client.post("/locale", data={"locale": "zh_Hans_CN", "next": "/admin/"})
    return client


@pytest.fixture
def traditional_client(client, login, reasons):
    login("admin")
    client.post("/locale", data={"locale": "zh_Hant_TW", "next": "/admin/"})
    return client


def test_grid_confirmation_and_log_in_chinese_have_no_english_app_strings(chinese_client):
    ids = make_customers(3)
    grid = chinese_client.get("/admin/customers/").get_data(as_text=True)
    assert '<html lang="zh-Hans-CN">' in grid
    assert "停用" in grid and "全部" in grid and "对选中项" in grid  # ours and Flask-Admin's
    assert "每页 20 条" in grid and "选中的" not in grid and "项目" not in grid
    assert untranslated(grid) == set()
    page, _ = start_action(chinese_client, "deactivate", ids)
    confirm = page.get_data(as_text=True)
    assert "确认：停用客户" in confirm and "3 个客户将变为停用。" in confirm
    assert untranslated(confirm) == set()
    log = chinese_client.get("/admin/audit/").get_data(as_text=True)
    assert "操作日志" in log
    assert untranslated(log) == set()


def test_grid_confirmation_log_and_order_refusal_in_traditional_chinese(traditional_client):
    ids = make_customers(3)
    [frozen] = make_customers(1, status="frozen", start=4)
    grid = traditional_client.get("/admin/customers/").get_data(as_text=True)
    assert '<html lang="zh-Hant-TW">' in grid
    assert "客戶" in grid and "對選取項目" in grid and "每頁 20 筆" in grid and "匯出" in grid
    assert (
        'admin<span class="current-role"> · 管理員</span>' in grid
        and 'title="依「編號」排序"' in grid
    )
    assert untranslated(grid, "zh_Hant_TW") == set()
    assert simplified_only(grid) == set()
    page, _ = start_action(traditional_client, "deactivate", ids)
    confirm = page.get_data(as_text=True)
    assert "確認：停用客戶" in confirm and "3 位客戶將變為停用。" in confirm
    assert "客戶要求" in confirm  # the reason's own Traditional label
    assert untranslated(confirm, "zh_Hant_TW") == set()
    assert simplified_only(confirm) == set()
    log = traditional_client.get("/admin/audit/?tab=all").get_data(as_text=True)
    assert "操作日誌" in log
    assert re.search(r'col-actor_role">\s*管理員\s*<', log)  # role and source labels
    assert re.search(r'col-source">\s*網頁\s*<', log)
    assert untranslated(log, "zh_Hant_TW") == set()
    assert simplified_only(log) == set()
    refused = traditional_client.post(
        "/admin/orders/new/", data={"customer": str(frozen), "amount": "5"}
    )
    assert refused.status_code == 409
    text = refused.get_data(as_text=True)
    assert "客戶 T00004 已凍結，無法接受新訂單。" in text
    assert "cannot take new orders" not in text
    assert untranslated(text, "zh_Hant_TW") == set()
    assert simplified_only(text) == set()


def test_a_service_refusal_is_in_the_users_language(client, login):
    [frozen] = make_customers(1, status="frozen")
    login("clerk")
    for locale, expected in [
        ("en", "Customer T00001 is frozen and cannot take new orders."),
        ("zh_Hans_CN", "客户 T00001 已冻结，不能接受新订单。"),
        ("zh_Hant_TW", "客戶 T00001 已凍結，無法接受新訂單。"),
    ]:
        client.post("/locale", data={"locale": locale})
        response = client.post("/admin/orders/new/", data={"customer": str(frozen), "amount": "5"})
        assert expected in response.get_data(as_text=True), locale


@pytest.mark.parametrize("locale", CHINESE)
def test_the_choice_is_kept_on_the_user(client, login, staff, locale):
    login("admin")
    client.post("/locale", data={"locale": locale, "next": "/admin/"})
    db.session.rollback()
    assert db.session.get(StaffUser, staff["admin"].id).locale == locale


def test_browser_language_is_used_before_a_choice(client, login):
    login("clerk")
    page = client.get("/admin/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "仪表板" in page.get_data(as_text=True)
    page = client.get("/admin/", headers={"Accept-Language": "zh-TW,zh;q=0.9"})
    assert "儀表板" in page.get_data(as_text=True)
    english = client.get("/admin/", headers={"Accept-Language": "en-US"})
    assert "Dashboard" in english.get_data(as_text=True)


@pytest.mark.parametrize(
    "header, lang",
    [
        ("zh-TW", "zh-Hant-TW"),
        ("zh-HK", "zh-Hant-TW"),
        ("zh-MO", "zh-Hant-TW"),
        ("zh-Hant", "zh-Hant-TW"),
        ("zh-Hant-HK", "zh-Hant-TW"),
        ("zh-tw,zh;q=0.8", "zh-Hant-TW"),
        ("zh-CN", "zh-Hans-CN"),
        ("zh-SG", "zh-Hans-CN"),
        ("zh-Hans", "zh-Hans-CN"),
        ("zh", "zh-Hans-CN"),
        ("zh-Hans-TW", "zh-Hans-CN"),
        ("en-US,zh-TW;q=0.5", "en"),
        ("fr,zh-HK;q=0.5", "zh-Hant-TW"),
        ("de,fr", "en"),
        ("zh-TW;q=0,en", "en"),
        ("", "en"),
    ],
)
def test_accept_language_picks_the_catalog_and_the_html_lang(client, login, header, lang):
    headers = {"Accept-Language": header} if header else {}
    page = client.get("/login", headers=headers).get_data(as_text=True)
    assert f'<html lang="{lang}">' in page
    login("clerk")
    admin_page = client.get("/admin/customers/", headers=headers).get_data(as_text=True)
    assert f'<html lang="{lang}">' in admin_page
    expected = {"zh-Hant-TW": "客戶", "zh-Hans-CN": "客户", "en": "Customers"}[lang]
    assert f"<title>{expected}" in admin_page


@pytest.mark.parametrize(
    "header, menu_button",
    [("zh-CN", "切换导航菜单"), ("zh-TW", "切換導覽選單"), ("en", "Toggle navigation")],
)
def test_the_navbar_names_the_app_and_its_menu_button_on_a_phone(
    client, login, header, menu_button
):
    """On a phone only what is outside the collapsed menu shows: the app's name and the menu
    button, whose label a screen reader reads in the page's language (no script needed)."""
    login("clerk")
    page = client.get("/admin/customers/", headers={"Accept-Language": header})
    navbar = page.get_data(as_text=True).split('<nav class="navbar', 1)[1]
    always_shown = navbar.split('id="admin-navbar-collapse"', 1)[0]
    assert 'class="navbar-brand"' in always_shown
    assert re.search(
        rf'<button class="navbar-toggler"[^>]*aria-label="{menu_button}"', always_shown
    )


def test_the_language_menus_offer_the_three_languages(client, login):
    login_page = client.get("/login").get_data(as_text=True)
    login("clerk")
    dashboard = client.get("/admin/").get_data(as_text=True)
    for page in (login_page, dashboard):
        for code, name in [
            ("en", "English"),
            ("zh_Hans_CN", "简体中文"),
            ("zh_Hant_TW", "繁體中文"),
        ]:
            assert f'value="{code}">{name}</button>' in page


def test_unknown_language_is_a_clear_400(client, login):
    login("clerk")
    response = client.post("/locale", data={"locale": "xx"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    "locale, words",
    [("zh_Hans_CN", ("用户名", "密码", "登录")), ("zh_Hant_TW", ("帳號", "密碼", "登入"))],
)
def test_login_page_switches_language_before_login(client, locale, words):
    client.post("/locale", data={"locale": locale, "next": "/login"})
    page = client.get("/login").get_data(as_text=True)
    assert all(word in page for word in words)


# -- data labels per language -----------------------------------------------------------------


def _page(client, url: str, locale: str) -> str:
    client.post("/locale", data={"locale": locale})
    return client.get(url).get_data(as_text=True)


def test_reason_labels_per_language_with_english_fallback(client, login):
    login("admin")
    response = client.post(
        "/admin/reasons/new/",
        data={
            "code": "bankrupt",
            "label": "Bankruptcy",
            "label_zh": "破产",
            "label_zh_hant": "破產",
            "for_deactivate": "y",
            "enabled": "y",
            "position": "0",
        },
    )
    assert response.status_code == 302
    client.post(
        "/admin/reasons/new/",
        data={
            "code": "moved",
            "label": "Moved away",
            "label_zh": "已搬迁",
            "for_deactivate": "y",
            "enabled": "y",
            "position": "1",
        },
    )
    ids = make_customers(1)
    for locale, shown, hidden in [
        ("en", ["Bankruptcy", "Moved away"], ["破产", "破產"]),
        ("zh_Hans_CN", ["破产", "已搬迁"], ["Bankruptcy", "破產"]),
        ("zh_Hant_TW", ["破產", "Moved away"], ["破产", "已搬迁"]),
    ]:
        client.post("/locale", data={"locale": locale})
        page, _ = start_action(client, "deactivate", ids)
        select = page.get_data(as_text=True).split('name="reason"', 1)[1].split("</select>")[0]
        assert all(label in select for label in shown), (locale, select)
        assert not any(label in select for label in hidden), (locale, select)
    form = _page(client, f"/admin/reasons/edit/?id={_reason_id('bankrupt')}", "zh_Hant_TW")
    assert 'name="label_zh_hant"' in form and 'value="破產"' in form
    assert "名稱（繁體中文）" in form


def _reason_id(code: str) -> int:
    import sqlalchemy as sa

    from admin_app.models import Reason

    db.session.rollback()
    return db.session.execute(sa.select(Reason.id).where(Reason.code == code)).scalar_one()


def test_seeded_reasons_and_rules_have_all_three_languages(review_rules):
    import sqlalchemy as sa

    from admin_app.models import Reason, ReviewRule

    for model, fields in (
        (Reason, ("label", "label_zh", "label_zh_hant")),
        (ReviewRule, ("name", "name_zh", "name_zh_hant")),
    ):
        rows = db.session.execute(sa.select(model)).scalars().all()
        assert rows
        for row in rows:
            english, simplified, traditional = (getattr(row, field) for field in fields)
            assert english and simplified and traditional, row
            assert not set(traditional) & set(SIMPLIFIED_ONLY + MORE_SIMPLIFIED_ONLY), row


def test_rule_names_follow_the_page_language(client, login, review_rules):
    login("admin")
    for locale, name in [
        ("en", "Balance over credit limit"),
        ("zh_Hans_CN", "余额超出信用额度"),
        ("zh_Hant_TW", "餘額超過信用額度"),
    ]:
        assert name in _page(client, "/admin/review/", locale), locale
        assert name in _page(client, "/admin/", locale), locale


def test_the_log_shows_entities_fields_and_statuses_in_traditional(traditional_client):
    import sqlalchemy as sa

    from admin_app.models import AuditOperation
    from tests.conftest import confirm_action

    ids = make_customers(2)
    _, token = start_action(traditional_client, "freeze", ids)
    done = confirm_action(traditional_client, token)
    assert done.status_code == 303
    db.session.rollback()
    operation_id = db.session.execute(sa.select(sa.func.max(AuditOperation.id))).scalar_one()
    details = traditional_client.get(f"/admin/audit/details/?id={operation_id}").get_data(
        as_text=True
    )
    assert "<td>客戶</td>" in details and '<td title="status">狀態</td>' in details
    assert '<td class="audit-value" title="active">正常</td>' in details
    assert '<td class="audit-value" title="frozen">凍結</td>' in details
    assert untranslated(details, "zh_Hant_TW") == set()
    assert simplified_only(details) == set()


def test_migration_keeps_rows_and_translates_the_seeded_ones(app):
    import os

    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    migrations = os.path.join(os.path.dirname(__file__), "..", "migrations")
    downgrade(directory=migrations, revision="0004_perf")
    with db.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO reasons (code, label, label_zh, for_deactivate, for_freeze, "
                "for_reactivate, memo_required, enabled, position, created_at, updated_at) VALUES "
                "('customer_request', 'Customer request', '客户要求', true, true, true, false, true, "
                "0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), "
                "('non_payment', 'Unpaid (renamed)', '未付款', true, true, false, false, true, 1, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), "
                "('local', 'Local reason', '本地原因', true, true, false, false, true, 2, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO review_rules (name, flag_over_credit, enabled, created_at, updated_at) "
                "VALUES ('Balance over credit limit', true, true, CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP), ('My rule', true, true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    upgrade(directory=migrations)
    with db.engine.connect() as conn:
        reasons = {
            code: rest
            for code, *rest in conn.execute(
                sa.text("SELECT code, label, label_zh, label_zh_hant FROM reasons")
            ).all()
        }
        rules = {
            name: rest
            for name, *rest in conn.execute(
                sa.text("SELECT name, name_zh, name_zh_hant FROM review_rules")
            ).all()
        }
    assert reasons == {
        "customer_request": ["Customer request", "客户要求", "客戶要求"],
        "non_payment": ["Unpaid (renamed)", "未付款", None],  # edited: kept
        "local": ["Local reason", "本地原因", None],
    }
    assert rules == {
        "Balance over credit limit": ["余额超出信用额度", "餘額超過信用額度"],
        "My rule": [None, None],
    }


@pytest.mark.parametrize(
    "locale, money, count",
    [
        ("en", "1,234,567.50", "12,345"),
        ("zh_Hans_CN", "1,234,567.50", "12,345"),
        ("zh_Hant_TW", "1,234,567.50", "12,345"),
        ("de_DE", "1.234.567,50", "12.345"),  # proves the symbols come from the locale
    ],
)
def test_money_and_counts_are_formatted_for_the_locale(app, locale, money, count):
    from decimal import Decimal

    from flask import render_template_string
    from flask_babel import force_locale

    with app.test_request_context("/"), force_locale(locale):
        assert (
            render_template_string("{{ v|money }} {{ n|number }}", v=Decimal("1234567.5"), n=12345)
            == f"{money} {count}"
        )
        page = render_template_string(
            "{{ ngettext('%(num)s customer will change to %(status)s.', "
            "'%(num)s customers will change to %(status)s.', n, num=n|number, status='x') }}",
            n=12345,
        )
        assert count in page


@pytest.mark.parametrize(
    "locale, required",
    [
        ("en", "This field is required."),
        ("zh_Hans_CN", "该字段是必填字段。"),
        ("zh_Hant_TW", "此欄位為必填。"),
    ],
)
def test_wtforms_messages_follow_the_language(client, login, locale, required):
    """WTForms has no zh_Hant_TW catalog; gettext's fallback from zh_Hant_TW is its
    Simplified "zh"."""
    login("admin")
    client.post("/locale", data={"locale": locale})
    form = client.post("/admin/rules/new/", data={"name": ""}).get_data(as_text=True)
    assert required in form
