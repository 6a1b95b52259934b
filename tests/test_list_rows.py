"""The grid's and the log's rows are built in Python (admin/list_rows.py) for speed (issue 19):
what a user sees must not change. The fast time and money formatting must give exactly what the
Flask-Babel helpers give; the rows keep their cells, links, checkboxes and labels."""

import random
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import flask_babel
import pytest
import sqlalchemy as sa
from flask import url_for
from flask_babel import force_locale, format_decimal
from markupsafe import escape

from admin_app import timefmt
from admin_app.extensions import db
from admin_app.models import Customer
from admin_app.timefmt import PageTimes, date_formatter, local_date, local_time
from admin_app.web import format_money, format_number, money_formatter, view_url
from tests.audit_support import append, customer_entries
from tests.conftest import PASSWORD, make_customers

LOCALES = ("en", "zh_Hans_CN", "zh_Hant_TW")


def _moments(count: int) -> list:
    rng = random.Random(19)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    values: list = []
    for index in range(count):
        moment = start + timedelta(seconds=rng.randrange(400_000_000))
        values.append(moment.replace(tzinfo=None) if index % 3 == 0 else moment)
        values.append(moment.date())
    # Around the daylight-saving changes of New York and London in 2026.
    values += [datetime(2026, 3, 8, 6, 59, 59, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)]
    return values


def babel_time(value, format: str = "medium", *, day: bool = False) -> str:
    """A time tag as Flask-Babel alone writes it: what PageTimes and local_time must match
    (`day`: the local calendar day only, as local_date shows it)."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        shown = flask_babel.format_date(value, format)
        return f'<time datetime="{value.isoformat()}">{escape(shown)}</time>'
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    shown = (flask_babel.format_date if day else flask_babel.format_datetime)(utc, format)
    return (
        f'<time datetime="{utc:%Y-%m-%dT%H:%M:%SZ}" title="{utc:%Y-%m-%d %H:%M} UTC">'
        f"{escape(shown)}</time>"
    )


@pytest.mark.parametrize("zone", ["UTC", "Asia/Taipei", "America/New_York", "Europe/London"])
def test_page_times_show_what_babel_shows(app, zone):
    app.config["APP_TIMEZONE"] = zone
    with app.test_request_context("/"):
        for locale in (*LOCALES, "de_DE", "fr_FR", "ja_JP"):  # other date patterns too
            with force_locale(locale):
                flask_babel.refresh()
                assert str(flask_babel.get_timezone()) == zone
                for format in ("medium", "short"):
                    times = PageTimes(format)
                    dates = date_formatter(format)  # what a table's template uses
                    for value in _moments(100):
                        expected = babel_time(value, format)
                        assert times.tag(value) == expected, (locale, zone, format, value)
                        assert local_time(value, format) == expected, (locale, zone, value)
                        day = babel_time(value, format, day=True)
                        assert times.day_tag(value) == local_date(value, format) == day
                        assert dates(value) == day, (locale, zone, format, value)
        assert PageTimes().tag(None) == local_time(None) == babel_time(None) == ""
        assert date_formatter()(None) == ""
    with app.app_context():  # no request: Flask-Babel's own formatting
        moment = datetime(2026, 3, 8, 6, 59, 59, tzinfo=UTC)
        assert date_formatter()(moment) == local_date(moment)


def test_money_and_numbers_match_babel_in_every_language(app):
    rng = random.Random(7)
    values = [0, None, 1, -1, 12.345, -1234.5, 10**12, Decimal("0.005"), Decimal("0.015")]
    values += [Decimal("-0.001"), Decimal("1234567.895"), Decimal("-99999999.99")]
    values += [Decimal(rng.randrange(-(10**9), 10**9)) / 1000 for _ in range(300)]
    with app.test_request_context("/"):
        for locale in (*LOCALES, "de_DE", "fr_FR"):  # other separators than "," and "."
            with force_locale(locale):
                money = money_formatter()
                for value in values:
                    expected = format_decimal(value or 0, "#,##0.00")
                    assert format_money(value) == money(value) == expected, (locale, value)
                    assert format_number(value) == format_decimal(value or 0, "#,##0")


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>.*?</tr>", body, flags=re.S)


def test_grid_rows_keep_every_cell_link_and_checkbox(client, login):
    ids = make_customers(3, name="Alpha & Omega <Trading>", balance=Decimal("500.5"))
    over = make_customers(1, start=10, balance=Decimal("900"), credit_limit=Decimal("100"))[0]
    login("manager")
    html = client.get("/admin/customers/?status=active").get_data(as_text=True)
    rows = _rows(html)
    assert len(rows) == 4
    first = rows[0]
    assert f'<input type="checkbox" name="rowid" class="action-checkbox" value="{ids[0]}">' in first
    back = "&amp;url=/admin/customers/?status%3Dactive%26page_size%3D20"
    assert f'href="/admin/customers/details/?id={ids[0]}{back}"' in first
    assert f'href="/admin/customers/edit/?id={ids[0]}{back}"' in first
    assert '<td class="col-name">Alpha &amp; Omega &lt;Trading&gt;</td>' in first
    assert '<td class="col-status"><span class="badge badge-success">Active</span></td>' in first
    assert '<td class="col-balance">500.50 / 1,000.00</td>' in first
    over_row = next(row for row in rows if f'value="{over}"' in row)
    assert 'class="text-danger font-weight-bold" title="Over credit limit">900.00 / 100.00' in (
        over_row
    )
    # The per-row labels are said once, on the table (static/list.js hands them to each row).
    assert 'data-select-label="Select record"' in html and 'data-view-label="View Record"' in html
    assert html.count("Select record") == 1
    assert "/static/list.js" in html


def test_an_auditor_gets_no_edit_icon_and_no_checkboxes(client, login):
    make_customers(2)
    login("auditor")
    html = client.get("/admin/customers/").get_data(as_text=True)
    rows = _rows(html)
    assert len(rows) == 2
    assert all("row-view" in row and "row-edit" not in row for row in rows)
    assert "action-checkbox" not in html


def test_log_rows_in_traditional_chinese(client, login, app_clock):
    app_clock.now = datetime(2026, 12, 2, 17, 6, tzinfo=UTC)
    operation_id = append(entries=customer_entries(1))
    login("auditor")
    client.post("/locale", data={"locale": "zh_Hant_TW", "next": "/admin/audit/"})
    html = client.get("/admin/audit/").get_data(as_text=True)
    row = next(row for row in _rows(html) if f"#{operation_id}<" in row)
    assert f'<td class="col-id"><a href="/admin/audit/details/?id={operation_id}">' in row
    assert 'title="2026-12-02 17:06 UTC">2026年12月2日 下午5:06:00</time>' in row
    assert 'data-view-label="' in html


def test_an_empty_page_says_so(client, login):
    login("manager")
    html = client.get("/admin/customers/?search=nobody").get_data(as_text=True)
    (row,) = _rows(html)
    assert "There are no items in the table." in row


def test_an_empty_list_offers_no_action_and_the_full_list_keeps_its_actions(client, login):
    """Nothing to select on an empty page: no "With selected" menu, no checkboxes. The list's
    script part is kept per view, so a full page served after it still has the actions."""
    make_customers(3)
    login("admin")
    empty = client.get("/admin/customers/?search=nothing-like-it").get_data(as_text=True)
    assert "list-empty" in empty
    assert "With selected" not in empty and "action-rowtoggle" not in empty
    full = client.get("/admin/customers/").get_data(as_text=True)
    assert "With selected" in full and "action-rowtoggle" in full
    assert 'id="actions-confirmation-data"' in full and 'id="action_form"' in full


def test_contract_end_is_a_plain_date(client, login):
    (customer_id,) = make_customers(1)
    db.session.execute(
        sa.update(Customer).where(Customer.id == customer_id).values(contract_end=date(2026, 5, 16))
    )
    db.session.commit()
    login("manager")
    html = client.get("/admin/customers/").get_data(as_text=True)
    assert '<td class="col-contract_end">May 16, 2026</td>' in html


@pytest.mark.parametrize("zone", ["UTC", "Asia/Taipei"])
def test_page_times_around_noon_and_midnight(app, zone):
    """Day periods ("上午", "中午", "清晨", "AM") change on whole hours; noon and midnight exactly."""
    app.config["APP_TIMEZONE"] = zone
    start = datetime(2026, 12, 1, tzinfo=UTC)
    moments = [
        start + timedelta(hours=hour, minutes=minute, seconds=second)
        for hour in range(48)
        for minute, second in ((0, 0), (0, 1), (59, 59), (30, 0))
    ]
    with app.test_request_context("/"):
        for locale in LOCALES:
            with force_locale(locale):
                flask_babel.refresh()
                times = PageTimes()
                for value in moments:
                    assert times.tag(value) == babel_time(value), (locale, zone, value)


@pytest.mark.parametrize(
    ("zone", "changes"),
    [
        ("Europe/London", ["2026-03-29T01:00", "2026-10-25T01:00"]),
        ("America/St_Johns", ["2026-03-08T05:30", "2026-11-01T04:30"]),
        ("Australia/Lord_Howe", ["2026-04-04T15:00", "2026-10-03T15:30"]),
        ("Asia/Taipei", ["1901-12-13T20:45:52", "1937-09-30T16:00"]),  # LMT ends at an odd second
    ],
)
def test_page_times_across_a_zones_changes_of_offset(app, zone, changes):
    """PageTimes keeps a zone's offset per UTC hour: the times around each change of offset
    (summer time, a half-hour change, a change at an odd minute) read as Babel writes them."""
    app.config["APP_TIMEZONE"] = zone
    moments = [
        datetime.fromisoformat(change).replace(tzinfo=UTC) + timedelta(minutes=minutes, seconds=s)
        for change in changes
        for minutes in range(-90, 91, 15)
        for s in (-1, 0, 1)
    ]
    with app.test_request_context("/"):
        flask_babel.refresh()
        for order in (moments, moments[::-1]):  # the hour is learnt from either end
            times = PageTimes()
            for value in order:
                assert times.tag(value) == babel_time(value), (zone, value)


def test_a_workers_kept_page_times_follow_the_language_and_forget_old_days(app, monkeypatch):
    """page_times() is kept per worker for each format, language and zone; the days it keeps
    the text of are bounded, and a day it has forgotten is written again the same way."""
    monkeypatch.setattr(timefmt, "_MAX_KEPT_DAYS", 3)
    days = [datetime(2026, 1, 1, 12, tzinfo=UTC) + timedelta(days=n) for n in range(8)]
    with app.test_request_context("/"):
        kept = {}
        for locale in LOCALES:
            with force_locale(locale):
                flask_babel.refresh()
                kept[locale] = timefmt.page_times()
                assert timefmt.page_times() is kept[locale]
                for value in days + days:
                    assert kept[locale].tag(value) == babel_time(value), (locale, value)
                assert len(kept[locale]._days) <= 3
    assert len({id(times) for times in kept.values()}) == len(LOCALES)


def test_a_worker_keeps_page_times_for_a_bounded_number_of_zones(app, monkeypatch):
    monkeypatch.setattr(timefmt, "_KEPT_TIMES", {})
    monkeypatch.setattr(timefmt, "_MAX_KEPT_TIMES", 2)
    value = datetime(2026, 12, 2, 17, 6, tzinfo=UTC)
    with app.test_request_context("/"):
        for zone in ("Asia/Taipei", "Europe/London", "America/New_York", "Asia/Tokyo"):
            app.config["APP_TIMEZONE"] = zone
            flask_babel.refresh()
            assert timefmt.page_times().tag(value) == babel_time(value), zone
            assert len(timefmt._KEPT_TIMES) <= 2


def _menu(html: str) -> str:
    return html.split('<ul class="nav navbar-nav mr-auto">', 1)[1].split("</ul>", 1)[0]


def test_the_kept_menu_follows_role_page_and_language(app, client, login):
    """The navbar's menu is rendered once per role, view and language (web.page_part_key)."""
    login("clerk")
    first = _menu(client.get("/admin/customers/").get_data(as_text=True))
    again = _menu(client.get("/admin/customers/").get_data(as_text=True))
    orders = _menu(client.get("/admin/orders/").get_data(as_text=True))
    assert first == again and "Operation log" not in first
    assert '<li class="active">\n      <a class="nav-link " href="/admin/customers/">' in first
    assert '<li class="active">\n      <a class="nav-link " href="/admin/orders/">' in orders
    client.post("/logout")
    other = app.test_client()
    other.post("/login", data={"username": "auditor", "password": PASSWORD})
    assert "Operation log" in _menu(other.get("/admin/customers/").get_data(as_text=True))
    other.post("/locale", data={"locale": "zh_Hant_TW", "next": "/admin/"})
    assert "客戶" in _menu(other.get("/admin/customers/").get_data(as_text=True))


def _nonces(response) -> tuple[set[str], str]:
    """The nonces on the page's tags, and the one its Content-Security-Policy allows."""
    allowed = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])
    return set(re.findall(r'nonce="([^"]+)"', response.get_data(as_text=True))), allowed.group(1)


def _data(html: str, element_id: str) -> str | None:
    found = re.search(rf'<div id="{element_id}" class="d-none">(.*?)</div>', html)
    return found.group(1) if found else None


@pytest.mark.parametrize("path", ["/admin/customers/", "/admin/audit/", "/admin/"])
def test_kept_page_parts_carry_each_pages_own_nonce(client, login, path):
    """Script and stylesheet tags are rendered once and kept (web.keep_page_part): every
    later page must still carry its own request's nonce, and only that one."""
    login("admin")
    pages = [client.get(path) for _ in range(3)]
    seen = set()
    for page in pages:
        nonces, allowed = _nonces(page)
        assert nonces == {allowed}
        seen |= nonces
    assert len(seen) == 3


def test_kept_list_scripts_follow_role_and_language(app, client, login):
    login("admin")
    admin_page = client.get("/admin/customers/").get_data(as_text=True)
    clerk = app.test_client()
    clerk.post("/login", data={"username": "clerk", "password": PASSWORD})
    clerk_page = clerk.get("/admin/customers/").get_data(as_text=True)
    assert _data(admin_page, "actions-confirmation-data") == "{}"  # admins have actions
    assert _data(clerk_page, "actions-confirmation-data") is None  # a clerk has no actions
    client.post("/locale", data={"locale": "zh_Hant_TW", "next": "/admin/"})
    chinese = client.get("/admin/customers/?search=x").get_data(as_text=True)
    assert _data(chinese, "message-data") != _data(admin_page, "message-data")
    assert "Status" not in _data(chinese, "filter-groups-data")
    assert _data(chinese, "active-filters-data") == "[]"
    filtered = client.get("/admin/customers/?flt0_status_equals=frozen").get_data(as_text=True)
    assert "frozen" in _data(filtered, "active-filters-data")  # this request's, never kept


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"page": 2, "sort": 1, "desc": None, "page_size": 50},
        {"search": "李 & Co/?x=1+2 #3", "flt0_status_equals": ["active", "frozen"]},
        {"url": "/admin/customers/?page_size=50&status=frozen", "id": 7},
        {"_external": True, "page": 1},
    ],
)
def test_view_links_are_what_url_for_builds(app, values):
    """web.view_url builds a page's many links to its own lists without a url_for each."""
    with app.test_request_context("/admin/customers/"):
        app.preprocess_request()
        for endpoint in (
            ".index_view",  # relative to the request's blueprint, as Flask-Admin asks
            ".details_view",
            "customers.index_view",
            "customers.details_view",
            "audit.index_view",
            "approvals.details_view",  # a path variable: url_for builds it
            "static",
        ):
            if endpoint in ("approvals.details_view", "static"):
                values = {**values, ("approval_id" if endpoint != "static" else "filename"): 3}
            assert view_url(endpoint, **values) == url_for(endpoint, **values), endpoint
