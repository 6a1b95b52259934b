"""Chinese (Simplified) and English: the catalog is complete and pages use it."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from admin_app.extensions import db
from admin_app.models import StaffUser
from tests.conftest import make_customers, start_action

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "admin_app" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def app_strings() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / "admin_app", method_map=[("**.py", "python"),
                                            ("**/templates/**.html", "jinja2")],
            keywords={**KEYWORDS}):
        found.add(message[0] if isinstance(message, tuple) else message)
    return {m for m in found if m}


def translations() -> dict[str, str]:
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle, locale="zh_Hans_CN")
    result = {}
    for message in catalog:
        if message.id and not message.fuzzy:
            key = message.id[0] if isinstance(message.id, tuple) else message.id
            value = message.string[0] if isinstance(message.string, tuple) else message.string
            if value:
                result[key] = value
    return result


def test_every_app_string_has_a_chinese_translation():
    missing = sorted(app_strings() - set(translations()))
    assert missing == [], f"add these to {CATALOG.relative_to(ROOT)}: {missing}"


def test_translations_keep_their_placeholders():
    for english, chinese in translations().items():
        assert sorted(re.findall(r"%\(\w+\)\w", english)) == sorted(
            re.findall(r"%\(\w+\)\w", chinese)), english


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


def untranslated(html: str) -> set[str]:
    english = {m for m in translations() if "%(" not in m}
    parser = _TextNodes()
    parser.feed(html)
    return {text for text in parser.texts if text in english}


@pytest.fixture
def chinese_client(client, login, reasons):
    login("admin")
    client.post("/locale", data={"locale": "zh_Hans_CN", "next": "/admin/"})
    return client


def test_grid_confirmation_and_log_in_chinese_have_no_english_app_strings(chinese_client):
    ids = make_customers(3)
    grid = chinese_client.get("/admin/customers/").get_data(as_text=True)
    assert "停用" in grid and "全部" in grid and "选中的" in grid  # ours and Flask-Admin's
    assert untranslated(grid) == set()
    page, _ = start_action(chinese_client, "deactivate", ids)
    confirm = page.get_data(as_text=True)
    assert "确认：停用客户" in confirm and "3 个客户将变为停用。" in confirm
    assert untranslated(confirm) == set()
    log = chinese_client.get("/admin/audit/").get_data(as_text=True)
    assert "操作日志" in log
    assert untranslated(log) == set()


def test_the_choice_is_kept_on_the_user(chinese_client, staff):
    db.session.rollback()
    assert db.session.get(StaffUser, staff["admin"].id).locale == "zh_Hans_CN"


def test_browser_language_is_used_before_a_choice(client, login):
    login("clerk")
    page = client.get("/admin/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "仪表板" in page.get_data(as_text=True)
    english = client.get("/admin/", headers={"Accept-Language": "en-US"})
    assert "Dashboard" in english.get_data(as_text=True)


def test_unknown_language_is_a_clear_400(client, login):
    login("clerk")
    response = client.post("/locale", data={"locale": "xx"})
    assert response.status_code == 400


def test_login_page_switches_language_before_login(client):
    client.post("/locale", data={"locale": "zh_Hans_CN", "next": "/login"})
    page = client.get("/login").get_data(as_text=True)
    assert "用户名" in page and "密码" in page
