"""Flask-Admin's date pickers and search boxes speak the page's language (static/widgets.js):
their libraries' own words are English ("Apply", "Su Mo Tu", "No matches found")."""

import pytest

from tests.browser.conftest import log_in
from tests.browser.test_narrow import SWITCH_LANGUAGE

OPEN_A_RANGE_PICKER = """() => {
  const input = document.createElement('input');
  document.body.appendChild(input);
  $(input).daterangepicker({separator: ' to ', format: 'YYYY-MM-DD'});  // as a filter makes it
  $(input).click();
  const picker = [...document.querySelectorAll('.daterangepicker')].pop();
  return {
    apply: picker.querySelector('.applyBtn').textContent,
    days: [...picker.querySelectorAll('thead tr:last-child th')].slice(0, 7)
      .map(cell => cell.textContent).join(' '),
    noMatches: $.fn.select2.defaults.formatNoMatches(),
    menu: document.querySelector('.navbar-toggler').getAttribute('aria-label'),
  };
}"""


@pytest.mark.parametrize(
    ("code", "apply", "days", "no_matches", "menu"),
    [
        ("zh_Hans_CN", "应用", "一 二 三 四 五 六 日", "没有匹配项", "切换导航菜单"),  # from Monday
        ("zh_Hant_TW", "套用", "日 一 二 三 四 五 六", "沒有符合的項目", "切換導覽選單"),  # Sunday
        ("en", "Apply", "Su Mo Tu We Th Fr Sa", "No matches found", "Toggle navigation"),
    ],
)
def test_date_pickers_and_search_boxes_speak_the_pages_language(
    seeded, live_server, page, code, apply, days, no_matches, menu
):
    log_in(page, live_server)
    page.goto(f"{live_server}/admin/customers/")
    with page.expect_navigation():
        page.evaluate(SWITCH_LANGUAGE, code)
    page.goto(f"{live_server}/admin/customers/")
    shown = page.evaluate(OPEN_A_RANGE_PICKER)
    assert shown == {"apply": apply, "days": days, "noMatches": no_matches, "menu": menu}
