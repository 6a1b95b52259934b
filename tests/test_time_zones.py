"""Times are stored in UTC and shown in the staff user's time zone (else APP_TIMEZONE), in
their locale, with the UTC time on hover; exports stay ISO UTC (issue 13, deliverable 9)."""

import csv
import io
import re
from datetime import UTC, datetime

import pytest

from admin_app import create_app
from admin_app.extensions import db
from admin_app.models import StaffUser
from admin_app.timefmt import local_text, time_zone_label
from tests.audit_support import append, customer_entries
from tests.conftest import make_customers

# 17:06 UTC on 2 December is 01:06 on 3 December in Taipei (UTC+8).
EVENING_UTC = datetime(2026, 12, 2, 17, 6, tzinfo=UTC)
HOVER = 'datetime="2026-12-02T17:06:00Z" title="2026-12-02 17:06 UTC"'


def visible_text(html: str) -> str:
    return re.sub(r"<[^>]*>", " ", html)


def _choose(user: StaffUser, zone: str | None) -> None:
    user.time_zone = zone
    db.session.commit()


def _operation_at_evening(app_clock) -> int:
    app_clock.now = EVENING_UTC
    return append(entries=customer_entries(1))


def test_taipei_user_sees_the_next_day_with_utc_on_hover(client, login, staff, app_clock):
    operation_id = _operation_at_evening(app_clock)
    _choose(staff["auditor"], "Asia/Taipei")
    login("auditor")

    listing = client.get("/admin/audit/").get_data(as_text=True)
    assert "Times in Taiwan Time" in listing
    assert f"<time {HOVER}>Dec 3, 2026, 1:06:00\u202fAM</time>" in listing

    details = client.get(f"/admin/audit/details/?id={operation_id}").get_data(as_text=True)
    assert HOVER in details
    assert "Dec 3, 2026, 1:06:00\u202fAM" in details
    assert "Dec 2, 2026" not in details

    dashboard = client.get("/admin/").get_data(as_text=True)
    assert HOVER in dashboard and "Dec 3, 2026, 1:06:00\u202fAM" in dashboard


HOVER_HINT = {"en": "hover a time", "zh_Hans_CN": "鼠标悬停", "zh_Hant_TW": "滑鼠"}
TAP_HINT = {"en": "tap a time", "zh_Hans_CN": "轻触时间", "zh_Hant_TW": "輕觸時間"}


@pytest.mark.parametrize("locale", ["en", "zh_Hans_CN", "zh_Hant_TW"])
def test_a_page_in_utc_does_not_offer_utc_on_hover(client, login, staff, locale):
    """The log, the scheduled changes and the preferences say "in UTC" plainly when the reader's
    zone is UTC (hovering a time would show the same time); in any other zone they offer UTC."""
    _choose(staff["admin"], "UTC")
    login("admin")
    client.post("/locale", data={"locale": locale, "next": "/admin/"})
    in_utc = {
        "en": ("Times in UTC.", "Times are shown in UTC, as they are stored."),
        "zh_Hans_CN": ("时间以 UTC 显示。", "时间以 UTC 显示，与存储的时间相同。"),
        "zh_Hant_TW": ("時間以 UTC 顯示。", "時間以 UTC 顯示，與儲存的時間相同。"),
    }[locale]
    pages = ["/admin/audit/", "/admin/scheduled/", "/preferences"]
    for url, caption in zip(pages, (in_utc[0], in_utc[0], in_utc[1]), strict=True):
        html = client.get(url).get_data(as_text=True)
        assert caption in html, url
        assert HOVER_HINT[locale] not in html and TAP_HINT[locale] not in html, url

    _choose(staff["admin"], "Asia/Taipei")
    taipei = {"en": "Taiwan Time", "zh_Hans_CN": "台北时间", "zh_Hant_TW": "台北時間"}[locale]
    for url in pages:
        html = client.get(url).get_data(as_text=True)
        assert taipei in html and HOVER_HINT[locale] in html and TAP_HINT[locale] in html, url
        assert "Asia/Taipei" not in visible_text(html), url
        assert in_utc[0] not in html, url


def test_taipei_user_reading_chinese_gets_the_local_format(client, login, staff, app_clock):
    _operation_at_evening(app_clock)
    _choose(staff["auditor"], "Asia/Taipei")
    staff["auditor"].locale = "zh_Hant_TW"
    db.session.commit()
    login("auditor")
    listing = client.get("/admin/audit/").get_data(as_text=True)
    assert f"<time {HOVER}>2026年12月3日 凌晨1:06:00</time>" in listing


@pytest.mark.config(APP_TIMEZONE="Asia/Taipei")
def test_app_timezone_applies_to_a_user_without_a_zone(client, login, staff, app_clock):
    _operation_at_evening(app_clock)
    assert staff["auditor"].time_zone is None
    login("auditor")
    listing = client.get("/admin/audit/").get_data(as_text=True)
    assert "Times in Taiwan Time" in listing
    assert f"<time {HOVER}>Dec 3, 2026, 1:06:00\u202fAM</time>" in listing


@pytest.mark.config(APP_TIMEZONE="Asia/Taipei")
def test_the_users_own_zone_beats_the_app_default(client, login, staff, app_clock):
    _operation_at_evening(app_clock)
    _choose(staff["auditor"], "UTC")
    login("auditor")
    listing = client.get("/admin/audit/").get_data(as_text=True)
    assert "Times in UTC" in listing
    assert f"<time {HOVER}>Dec 2, 2026, 5:06:00\u202fPM</time>" in listing


@pytest.mark.parametrize(
    ("utc", "local"),
    [
        (datetime(2026, 7, 1, 16, 0, tzinfo=UTC), "2026-07-01 12:00 (-04:00)"),  # EDT
        (datetime(2026, 1, 15, 17, 0, tzinfo=UTC), "2026-01-15 12:00 (-05:00)"),  # EST
    ],
)
def test_a_dst_zone_follows_summer_and_winter(utc, local):
    app = create_app("testing", APP_TIMEZONE="America/New_York")
    with app.test_request_context("/"):
        assert local_text(utc, "yyyy-MM-dd HH:mm (xxx)") == local


def test_a_date_is_not_shifted_by_the_zone():
    from datetime import date

    app = create_app("testing", APP_TIMEZONE="Pacific/Kiritimati")
    with app.test_request_context("/"):
        assert local_text(date(2026, 12, 2), "yyyy-MM-dd") == "2026-12-02"


def test_an_unknown_app_timezone_refuses_to_start():
    with pytest.raises(SystemExit, match="APP_TIMEZONE='Mars/Olympus' is not a known"):
        create_app("testing", APP_TIMEZONE="Mars/Olympus")


def test_a_user_chooses_a_zone_on_the_preferences_page(client, login, staff):
    login("clerk")
    page = client.get("/preferences")
    assert page.status_code == 200
    assert '<option value="Asia/Taipei">Taiwan Time</option>' in page.get_data(as_text=True)

    saved = client.post("/preferences", data={"time_zone": "Asia/Taipei"}, follow_redirects=True)
    assert "Times are shown in Taiwan Time." in saved.get_data(as_text=True)
    assert db.session.get(StaffUser, staff["clerk"].id).time_zone == "Asia/Taipei"

    typed = client.post(
        "/preferences", data={"time_zone": "UTC", "time_zone_other": "Europe/Berlin"}
    )
    assert typed.status_code == 302
    db.session.rollback()
    assert db.session.get(StaffUser, staff["clerk"].id).time_zone == "Europe/Berlin"

    client.post("/preferences", data={"time_zone": "default"})
    db.session.rollback()
    assert db.session.get(StaffUser, staff["clerk"].id).time_zone is None


def test_a_typed_zone_shows_as_chosen_and_the_list_can_replace_it(client, login, staff):
    """After typing a zone in, the page lists it as the one chosen and leaves the box empty:
    picking another zone from the list (the box sent empty, as a browser does) takes effect."""
    login("clerk")
    client.post("/preferences", data={"time_zone": "default", "time_zone_other": "Europe/Berlin"})
    page = client.get("/preferences").get_data(as_text=True)
    assert re.search(r'<option value="Europe/Berlin" selected>[^<]+</option>', page)
    assert 'name="time_zone_other" maxlength="64" placeholder="Europe/Berlin" value=""' in page
    client.post("/preferences", data={"time_zone": "Asia/Taipei", "time_zone_other": ""})
    db.session.rollback()
    assert db.session.get(StaffUser, staff["clerk"].id).time_zone == "Asia/Taipei"
    page = client.get("/preferences").get_data(as_text=True)
    assert "Europe/Berlin" not in page.replace('placeholder="Europe/Berlin"', "")


@pytest.mark.parametrize("bad", ["Mars/Olympus", "../etc/passwd", "Asia/Nowhere", "x" * 65, ""])
def test_an_unknown_zone_is_refused_on_the_same_page(client, login, staff, bad):
    _choose(staff["clerk"], "Asia/Tokyo")
    login("clerk")
    response = client.post("/preferences", data={"time_zone_other": bad})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="time-zone-error"' in html and "Unknown time zone" in html
    assert 'id="time-zone-form"' in html
    db.session.rollback()
    assert db.session.get(StaffUser, staff["clerk"].id).time_zone == "Asia/Tokyo"


@pytest.mark.csrf
def test_choosing_a_zone_needs_the_csrf_token(client, login, staff):
    login("clerk")
    client.post("/preferences", data={"time_zone": "Asia/Taipei"})
    db.session.rollback()
    assert db.session.get(StaffUser, staff["clerk"].id).time_zone is None


def test_preferences_need_a_signed_in_user(client, staff):
    assert client.post("/preferences", data={"time_zone": "Asia/Taipei"}).status_code in (
        302,
        401,
    )


def test_exports_stay_iso_utc(client, login, staff, app_clock):
    _operation_at_evening(app_clock)
    _choose(staff["auditor"], "Asia/Taipei")
    login("auditor")
    body = client.get("/admin/audit/export/csv/").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [row for row in rows if "17:06" in "".join(row.values())]
    assert "2026-12-02T17:06:00+00:00" in body
    assert "2026-12-03" not in body
    assert "When (UTC)" in rows[0] and "When (Taiwan Time)" not in body  # the header says so


def test_customer_history_shows_local_time(client, login, staff, app_clock):
    (customer_id,) = make_customers(1)
    _operation_at_evening(app_clock)
    _choose(staff["auditor"], "Asia/Taipei")
    login("auditor")
    html = client.get(f"/admin/customers/details/?id={customer_id}").get_data(as_text=True)
    history = html[html.index('id="customer-history"') :]
    assert f"<time {HOVER}>Dec 3, 2026, 1:06:00\u202fAM</time>" in history


@pytest.mark.parametrize(
    ("locale", "zone", "label"),
    [
        ("zh_Hant_TW", "Asia/Taipei", "台北時間"),
        ("zh_Hans_CN", "Asia/Taipei", "台北时间"),
        ("zh_Hant_TW", "America/New_York", "東部時間"),
        ("zh_Hant_TW", "Asia/Hong_Kong", "香港時間"),
        ("zh_Hans_CN", "America/New_York", "北美东部时间"),
        ("en", "Asia/Shanghai", "China Time"),
        ("zh_Hant_TW", "Etc/UTC", "UTC"),
        ("zh_Hant_TW", "Etc/GMT+5", "Etc/GMT+5"),  # in no country: its IANA name
    ],
)
def test_zones_are_named_as_their_readers_say_them(app, locale, zone, label):
    with app.test_request_context("/", headers={"Accept-Language": locale.replace("_", "-")}):
        from flask_babel import force_locale

        with force_locale(locale):
            assert time_zone_label(zone) == label


def test_the_zone_menu_and_navbar_say_the_zone_in_the_readers_words(client, login, staff):
    _choose(staff["clerk"], "Asia/Taipei")
    login("clerk")
    client.post("/locale", data={"locale": "zh_Hant_TW", "next": "/admin/"})
    page = client.get("/preferences").get_data(as_text=True)
    assert '<option value="Asia/Taipei" selected>台北時間</option>' in page
    assert "時區：台北時間" in page
    assert "時間以「台北時間」顯示。" in page
