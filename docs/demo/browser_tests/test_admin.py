"""The demo's admin in a real browser, one step per test, in order.

Each step saves a numbered screenshot and checks that the browser logged no
console error and the server answered no 5xx (see ``conftest.Browser``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

if TYPE_CHECKING:
    from conftest import Browser
    from selenium.webdriver.remote.webelement import WebElement

ORDER = "ORD-1001"
AUDIT = "/admin/icv_core_audit/auditentry/"
ALERTS = "/admin/icv_core_audit/systemalert/"
ORDERS = "/admin/shop/order/"
LINES = "/admin/shop/orderline/"


def _text(browser: Browser) -> str:
    return browser.driver.find_element(By.TAG_NAME, "body").text


def _rows(browser: Browser, text: str) -> list[WebElement]:
    """The changelist rows whose text contains ``text``."""
    return [
        row
        for row in browser.driver.find_elements(
            By.CSS_SELECTOR, "#result_list tbody tr"
        )
        if text in row.text
    ]


def _is_live(row: WebElement) -> bool:
    """The boolean icon of the ``is_active`` column (Django's alt text)."""
    icons = row.find_elements(By.CSS_SELECTOR, "img[alt=True], img[alt=False]")
    assert len(icons) == 1, row.text
    return icons[0].get_attribute("alt") == "True"


def _list_filter(browser: Browser, label: str) -> None:
    """Click a choice of the changelist's filter sidebar."""
    links = browser.driver.find_elements(By.CSS_SELECTOR, "#changelist-filter a")
    matches = [link for link in links if link.text.strip() == label]
    assert matches, [link.text for link in links]
    browser.follow(matches[0])


def _run_action(browser: Browser, row_text: str, action: re.Pattern[str]) -> None:
    """Tick the changelist row containing ``row_text`` and run the matching action."""
    driver = browser.driver
    rows = _rows(browser, row_text)
    assert len(rows) == 1, f"expected one row with {row_text!r}, got {len(rows)}"
    rows[0].find_element(By.CSS_SELECTOR, "input.action-select").click()
    select = Select(driver.find_element(By.NAME, "action"))
    labels = [option.text for option in select.options if action.search(option.text)]
    assert len(labels) == 1, [option.text for option in select.options]
    select.select_by_visible_text(labels[0])
    browser.follow(driver.find_element(By.CSS_SELECTOR, "button[name=index]"))


def _order_id(browser: Browser) -> str:
    """The order's primary key, read from its link in the changelist."""
    browser.get(ORDERS + "?q=" + ORDER)
    link = browser.driver.find_element(By.LINK_TEXT, ORDER).get_attribute("href")
    match = re.search(r"/order/([0-9a-f-]{36})/change/", link or "")
    assert match, link
    return match.group(1)


def test_home_page(browser: Browser) -> None:
    browser.get("/")
    browser.assert_healthy()
    page = _text(browser)
    assert "Example shop" in page and ORDER in page
    assert "1 soft-deleted" in page, page  # the demo data's cascade
    browser.save("shop-home")


def test_log_in(browser: Browser) -> None:
    browser.get("/admin/login/?next=/admin/")
    browser.assert_healthy()
    browser.save("login-page")
    browser.driver.find_element(By.NAME, "username").send_keys("demo")
    browser.driver.find_element(By.NAME, "password").send_keys("demo")
    browser.follow(browser.driver.find_element(By.CSS_SELECTOR, "input[type=submit]"))
    assert "Site administration" in browser.driver.title
    browser.assert_healthy()
    browser.save("admin-index")


def test_soft_delete_an_order(browser: Browser) -> None:
    browser.get(ORDERS)
    (row,) = _rows(browser, ORDER)
    assert _is_live(row)
    _run_action(browser, ORDER, re.compile(r"soft.?delete", re.I))
    browser.assert_healthy()
    assert "1 row was soft-deleted" in _text(browser), _text(browser)
    (row,) = _rows(browser, ORDER)
    assert not _is_live(row)
    browser.save("order-soft-deleted")
    # Hidden from the "Active" view, like from Order.objects.
    _list_filter(browser, "Active")
    browser.assert_healthy()
    assert not _rows(browser, ORDER)
    browser.save("active-orders")
    # The cascade soft-deleted the order's lines too.
    browser.get(LINES + "?q=" + ORDER)
    lines = _rows(browser, ORDER)
    assert lines and not any(_is_live(line) for line in lines)
    browser.save("order-lines-cascaded")


def test_restore_the_order(browser: Browser) -> None:
    browser.get(ORDERS)
    _list_filter(browser, "Deleted")
    browser.assert_healthy()
    assert _rows(browser, ORDER)
    browser.save("deleted-orders")
    _run_action(browser, ORDER, re.compile(r"restore", re.I))
    browser.assert_healthy()
    assert re.search(r"restored", _text(browser), re.I), _text(browser)
    browser.save("order-restored")
    browser.get(ORDERS)
    (row,) = _rows(browser, ORDER)
    assert _is_live(row)
    browser.get(LINES + "?q=" + ORDER)
    lines = _rows(browser, ORDER)
    assert lines and all(_is_live(line) for line in lines)


def test_audit_entries_show_the_soft_delete_and_restore(browser: Browser) -> None:
    order_id = _order_id(browser)
    browser.get(AUDIT + "?q=" + order_id)
    browser.assert_healthy()
    actions = [
        row.find_element(By.CSS_SELECTOR, "td.field-action").text
        for row in browser.driver.find_elements(
            By.CSS_SELECTOR, "#result_list tbody tr"
        )
    ]
    # Newest first: restore, soft delete (both by the admin), then the demo data's.
    assert actions[:2] == ["Restore", "Soft delete"], actions
    assert all("demo" in row.text for row in _rows(browser, "Soft delete"))
    browser.save("audit-entries-for-order")


def test_audit_entry_shows_a_readable_diff(browser: Browser) -> None:
    # The demo data changed a customer's e-mail: open that UPDATE entry.
    browser.get(AUDIT + "?action__exact=UPDATE&q=Customer")
    browser.assert_healthy()
    links = browser.driver.find_elements(By.CSS_SELECTOR, "#result_list tbody tr th a")
    assert len(links) == 1, [link.text for link in links]
    browser.follow(links[0])
    browser.assert_healthy()
    diff = browser.driver.find_element(By.CSS_SELECTOR, "table.icv-core-audit-diff")
    assert "ada@example.com" in diff.text, diff.text
    assert "ada.lovelace@example.com" in diff.text, diff.text
    browser.save("audit-entry-diff")
    # The order's soft delete done through the admin by the earlier step: its
    # entry shows the flag and deleted_at changing.
    order_id = _order_id(browser)
    browser.get(AUDIT + "?action__exact=SOFT_DELETE&q=" + order_id)
    browser.assert_healthy()
    rows = [
        row
        for row in _rows(browser, order_id)
        if row.find_element(By.CSS_SELECTOR, "td.field-target").text
        == f"shop.order #{order_id}"
    ]
    assert len(rows) == 1, [row.text for row in _rows(browser, "")]
    browser.follow(rows[0].find_element(By.CSS_SELECTOR, "th a"))
    browser.assert_healthy()
    diff = browser.driver.find_element(By.CSS_SELECTOR, "table.icv-core-audit-diff")
    changes = {
        cells[0].text: (cells[1].text, cells[2].text)
        for cells in (
            row.find_elements(By.TAG_NAME, "td")
            for row in diff.find_elements(By.CSS_SELECTOR, "tbody tr")
        )
    }
    assert sorted(changes) == ["deleted_at", "is_active"], changes
    assert changes["is_active"] == ("true", "false"), changes
    old, new = changes["deleted_at"]
    assert old == "null", changes
    assert re.fullmatch(r'"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[^"]*"', new), changes
    browser.save("audit-entry-soft-delete-diff")


def test_audit_entries_cannot_be_changed_or_deleted(browser: Browser) -> None:
    driver = browser.driver
    browser.get(AUDIT)
    browser.follow(driver.find_element(By.CSS_SELECTOR, "#result_list tbody tr th a"))
    change_url = driver.current_url
    # The entry page has no save or delete buttons, and no editable field.
    content = driver.find_element(By.ID, "content-main")
    assert not content.find_elements(By.CSS_SELECTOR, "[type=submit], a.deletelink")
    assert not content.find_elements(
        By.CSS_SELECTOR, "input[type=text], textarea, select"
    )
    browser.save("audit-entry-read-only")
    # The list has no add button and no delete action.
    browser.get(AUDIT)
    content = driver.find_element(By.ID, "content-main")
    assert not content.find_elements(By.CSS_SELECTOR, "a.addlink")
    options = content.find_elements(By.CSS_SELECTOR, "select[name=action] option")
    assert not any("delete" in option.text.lower() for option in options)
    browser.save("audit-list-read-only")
    browser.assert_healthy()
    # Typing the URLs does not help either: 403 for add and delete. The
    # browser logs each 403 answer as a console error: that one, and nothing
    # else, is expected.
    for url in (
        browser.base_url + AUDIT + "add/",
        change_url.replace("/change/", "/delete/"),
    ):
        driver.get(url)
        assert "403" in driver.title or "Forbidden" in _text(browser), driver.title
        browser.assert_healthy(
            expected_error=re.compile(
                re.escape(url) + r" - Failed to load resource: the server responded"
                r" with a status of 403 \(Forbidden\)"
            )
        )
        browser.save("audit-" + url.rstrip("/").rsplit("/", 1)[-1] + "-forbidden")


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
    browser.follow(
        browser.driver.find_element(By.CSS_SELECTOR, "#content form [type=submit]")
    )
    browser.assert_healthy()
    assert re.search(r"1 alert resolved", _text(browser)), _text(browser)
    browser.save("alert-resolved")
    browser.get(ALERTS + "?is_resolved__exact=1")
    (row,) = _rows(browser, title)
    assert "demo" in row.text, row.text  # resolved_by
    browser.save("resolved-alerts")


def test_activity_chart_page(browser: Browser) -> None:
    driver = browser.driver
    browser.get(AUDIT + "overview/")
    browser.assert_healthy()
    (chart,) = driver.find_elements(By.CSS_SELECTOR, "svg.icv-core-audit-chart")
    # Each bar is a <rect> with a tooltip (<title>); the legend's swatches have
    # none. The demo data and this run's admin actions logged entries today.
    bars = chart.find_elements(By.CSS_SELECTOR, "rect")
    tooltips = [
        bar.find_element(By.TAG_NAME, "title").get_attribute("textContent")
        for bar in bars
        if bar.find_elements(By.TAG_NAME, "title")
    ]
    assert tooltips, f"no bars in the chart ({len(bars)} rects)"
    counts = [re.fullmatch(r"\d{4}-\d\d-\d\d .+: ([1-9]\d*)", t) for t in tooltips]
    assert all(counts), tooltips
    # The bars add up to the table's total below the chart.
    total = driver.find_element(By.CSS_SELECTOR, "#content-main .module tfoot th + th")
    assert sum(int(m.group(1)) for m in counts if m) == int(total.text), tooltips
    # Open alerts by severity: every configured level, in order. The demo
    # raised one error, one warning and one critical alert; test_resolve_an_alert
    # resolved the error one.
    (module,) = [
        module
        for module in driver.find_elements(By.CSS_SELECTOR, "#content-main .module")
        if module.find_element(By.TAG_NAME, "h2").text == "Open alerts by severity"
    ]
    rows = [
        [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
        for row in module.find_elements(By.CSS_SELECTOR, "tbody tr")
    ]
    assert rows == [
        ["info", "0"],
        ["warning", "1"],
        ["error", "0"],
        ["critical", "1"],
    ], rows
    link = module.find_element(By.LINK_TEXT, "critical").get_attribute("href")
    assert link and link.endswith(ALERTS + "?is_resolved__exact=0&severity=critical")
    browser.save("activity-overview")


def test_filters_page(browser: Browser) -> None:
    browser.get("/filters/")
    browser.assert_healthy()
    assert "£35.00" in _text(browser)
    browser.save("template-filters")
