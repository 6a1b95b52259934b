"""The bulk flow works in Chromium under the Content-Security-Policy, and the browser reports
no violation on the way (the policy has no 'unsafe-inline' for scripts)."""

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

REPORT_VIOLATIONS = """
document.addEventListener('securitypolicyviolation', function (event) {
  console.error('CSP-VIOLATION ' + event.violatedDirective + ' ' + event.blockedURI + ' '
                + (event.sample || '') + ' target=' + ((event.target && event.target.id) || ''));
});
"""
INJECTED = "target=injected-by-test"


def test_bulk_deactivate_under_the_csp_without_violations(seeded, live_server, page):
    violations = []
    steps = ["start"]
    page.on(
        "console",
        lambda message: (
            violations.append(steps[-1] + ": " + message.text[:120])
            if "CSP-VIOLATION" in message.text or "Content Security Policy" in message.text
            else None
        ),
    )
    page.add_init_script(REPORT_VIOLATIONS)

    response = page.goto(f"{live_server}/login")
    assert (
        "'unsafe-inline'" not in response.headers["content-security-policy"].split("style-src")[0]
    )
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-button")
    page.wait_for_url(f"{live_server}/admin/")
    page.goto(f"{live_server}/admin/customers/?status=active")
    steps.append("filter menu")
    page.click("text=Add Filter")  # a javascript:void(0) link (cancelled by csp.js)
    page.click("a.filter >> nth=0")  # onclick="return false;", allowed by its hash
    page.wait_for_selector("table.filters tr")  # Flask-Admin's filter script ran
    steps.append("selection")
    page.goto(f"{live_server}/admin/customers/?status=active")
    for index in range(2):
        page.locator("input.action-checkbox").nth(index).check()
    page.click("text=With selected")
    steps.append("action")
    page.click("a.dropdown-item:has-text('Deactivate')")  # inline onclick, allowed by hash
    page.wait_for_selector("#confirm-title")
    steps.append("confirm")
    assert "2 customers will change to Deactivated." in page.inner_text("#confirm-summary")
    page.select_option("select[name=reason]", "customer_request")
    page.click("#confirm-button")
    page.wait_for_selector(".alert-success")
    assert "Deactivated 2 customers" in page.inner_text(".alert-success")

    # The check can fail: a script the policy does not allow is blocked and reported. Console
    # messages arrive in order, so once its report is in (waited for, not a time) no report
    # of the steps above is still on its way.
    steps.append("injected")
    with page.expect_console_message(lambda message: INJECTED in message.text) as injected:
        page.evaluate("""() => { const s = document.createElement('script');
                                s.id = 'injected-by-test';
                                s.textContent = 'window.injected = 1';
                                document.body.appendChild(s); }""")
    assert injected.value.text.startswith("CSP-VIOLATION script-src")
    assert page.evaluate("() => window.injected") is None
    others = [violation for violation in violations if not violation.startswith("injected: ")]
    assert others == [], "\n".join(others)
