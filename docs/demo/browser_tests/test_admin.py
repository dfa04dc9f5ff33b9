"""The demo's admin in a real browser, one step per test, in order.

Each step saves a numbered screenshot and checks that the browser logged no
console error and the server answered no 5xx (see ``conftest.Browser``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

if TYPE_CHECKING:
    from conftest import Browser

ORDER = "ORD-1001"
AUDIT = "/admin/icv_core_audit/auditentry/"
ALERTS = "/admin/icv_core_audit/systemalert/"
ORDERS = "/admin/shop/order/"


def _text(browser: Browser) -> str:
    return browser.driver.find_element(By.TAG_NAME, "body").text


def _run_action(browser: Browser, row_text: str, action: re.Pattern[str]) -> None:
    """Tick the changelist row containing ``row_text`` and run the matching action."""
    driver = browser.driver
    rows = [
        row
        for row in driver.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
        if row_text in row.text
    ]
    assert len(rows) == 1, f"expected one row with {row_text!r}, got {len(rows)}"
    rows[0].find_element(By.CSS_SELECTOR, "input.action-select").click()
    select = Select(driver.find_element(By.NAME, "action"))
    labels = [option.text for option in select.options if action.search(option.text)]
    assert len(labels) == 1, [option.text for option in select.options]
    select.select_by_visible_text(labels[0])
    driver.find_element(By.CSS_SELECTOR, "button[name=index]").click()


def test_log_in(browser: Browser) -> None:
    browser.get("/admin/login/?next=/admin/")
    browser.assert_healthy()
    browser.save("login-page")
    browser.driver.find_element(By.NAME, "username").send_keys("demo")
    browser.driver.find_element(By.NAME, "password").send_keys("demo")
    browser.driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    assert "Site administration" in browser.driver.title
    browser.assert_healthy()
    browser.save("admin-index")


def test_soft_delete_an_order(browser: Browser) -> None:
    browser.get(ORDERS)
    assert ORDER in _text(browser)
    _run_action(browser, ORDER, re.compile(r"soft.?delete", re.I))
    browser.assert_healthy()
    # Some admins confirm first; the demo's does it at once.
    page = _text(browser)
    assert re.search(r"soft.?deleted", page, re.I), page
    browser.save("order-soft-deleted")
    rows = browser.driver.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert not any(ORDER in row.text for row in rows), (
        "the order is still listed as live"
    )


def test_restore_the_order(browser: Browser) -> None:
    browser.get(ORDERS)
    # The soft-delete list filter: show the deleted rows.
    browser.driver.find_element(By.PARTIAL_LINK_TEXT, "eleted").click()
    browser.assert_healthy()
    assert ORDER in _text(browser)
    browser.save("deleted-orders")
    _run_action(browser, ORDER, re.compile(r"restore", re.I))
    browser.assert_healthy()
    assert re.search(r"restored", _text(browser), re.I)
    browser.save("order-restored")
    browser.get(ORDERS)
    assert ORDER in _text(browser)


def test_audit_entries_show_the_soft_delete_and_restore(browser: Browser) -> None:
    browser.get(AUDIT + "?q=" + ORDER)
    browser.assert_healthy()
    page = _text(browser)
    browser.save("audit-entries-for-order")
    assert re.search(r"soft.?delete", page, re.I), page
    assert re.search(r"restore", page, re.I), page


def test_audit_entry_shows_a_readable_diff(browser: Browser) -> None:
    # The demo data changed a customer's e-mail: open that UPDATE entry.
    browser.get(AUDIT + "?action__exact=UPDATE")
    browser.assert_healthy()
    links = browser.driver.find_elements(By.CSS_SELECTOR, "#result_list tbody tr th a")
    assert links, "no UPDATE entries listed"
    for index in range(len(links)):
        browser.get(AUDIT + "?action__exact=UPDATE")
        browser.driver.find_elements(By.CSS_SELECTOR, "#result_list tbody tr th a")[
            index
        ].click()
        if "ada.lovelace@example.com" in _text(browser):
            break
    else:
        pytest.fail("no UPDATE entry shows the customer's new e-mail")
    browser.assert_healthy()
    diff = browser.driver.find_element(By.CSS_SELECTOR, "table.icv-core-audit-diff")
    assert "ada@example.com" in diff.text and "ada.lovelace@example.com" in diff.text
    browser.save("audit-entry-diff")


def test_audit_entries_cannot_be_changed_or_deleted(browser: Browser) -> None:
    driver = browser.driver
    # The entry page has no save or delete buttons, and no editable field.
    assert not driver.find_elements(By.CSS_SELECTOR, "input[type=submit][name=_save]")
    assert not driver.find_elements(By.CSS_SELECTOR, "a.deletelink")
    assert not driver.find_elements(
        By.CSS_SELECTOR,
        "#content-main form input[type=text], #content-main form textarea",
    )
    change_url = driver.current_url
    # The list has no add button and no delete action.
    browser.get(AUDIT)
    assert not driver.find_elements(By.CSS_SELECTOR, "a.addlink")
    actions = driver.find_elements(By.CSS_SELECTOR, "select[name=action] option")
    assert not any("delete" in option.text.lower() for option in actions)
    browser.save("audit-list-read-only")
    # Typing the URLs does not help either: 403 for add and delete.
    for url in (AUDIT + "add/", change_url.rstrip("/").rsplit("/", 1)[0] + "/delete/"):
        driver.get(url if url.startswith("http") else browser.base_url + url)
        assert "403" in driver.title or "Forbidden" in _text(browser), driver.title
    browser.save("audit-delete-forbidden")
    # Django logs a 403 to the console as a failed resource: expected here.
    driver.get_log("browser")


def test_resolve_an_alert(browser: Browser) -> None:
    browser.get(ALERTS + "?is_resolved__exact=0")
    browser.assert_healthy()
    title = "Payment processor unreachable"
    assert title in _text(browser)
    browser.save("open-alerts")
    _run_action(browser, title, re.compile(r"resolve", re.I))
    browser.assert_healthy()
    # The intermediate form asks for notes.
    browser.driver.find_element(By.NAME, "notes").send_keys(
        "Processor back up; card payments retried."
    )
    browser.save("resolve-alert-form")
    browser.driver.find_element(By.CSS_SELECTOR, "#content form [type=submit]").click()
    browser.assert_healthy()
    assert re.search(r"1 alert resolved", _text(browser)), _text(browser)
    browser.save("alert-resolved")
    browser.get(ALERTS + "?is_resolved__exact=1")
    assert title in _text(browser)


def test_activity_chart_page(browser: Browser) -> None:
    browser.get(AUDIT + "overview/")
    browser.assert_healthy()
    assert browser.driver.find_elements(By.CSS_SELECTOR, "svg"), "no chart on the page"
    browser.save("activity-overview")


def test_filters_page(browser: Browser) -> None:
    browser.get("/filters/")
    browser.assert_healthy()
    assert "£35.00" in _text(browser)
    browser.save("template-filters")
