"""The dashboard in a real browser: Debian's headless Chromium (Selenium + chromium-driver) against
``fba-jp serve`` started as a subprocess on loopback over a database made by ``fba-jp demo``.

One server and one browser for the module; the tests run in order, as an ACP's operator, a viewer and a
seller would use it.
"""

import json
import os
import sqlite3

import pytest

from fba_jp.web.harness import Dashboard, browser_missing, chromium, demo_site, serve_users


if browser_missing() is not None and os.environ.get("FBA_JP_REQUIRE_BROWSER"):
    raise RuntimeError(f"FBA_JP_REQUIRE_BROWSER is set but {browser_missing()}")
pytestmark = pytest.mark.skipif(browser_missing() is not None, reason=f"no browser: {browser_missing()}")

USERS = serve_users("pw-browser", {"ops": ("operator", None), "vera": ("viewer", None),
                                   "maple-seller": ("operator", ["maple"])})
XSS_TITLE = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\"> linen tea towel"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from fba_jp.app import App
    from fba_jp.models import Declaration

    directory = tmp_path_factory.mktemp("dashboard")
    db, config = demo_site(directory, USERS)
    app = App(str(config), str(db))
    declaration = Declaration.model_validate({
        "shipment_id": "FBA15XSS0001", "seller": {"name": "Maple & Pine Home Goods Ltd", "country": "CA"},
        "importer_of_record": {"name": "Maple & Pine Home Goods Ltd"}, "currency": "USD",
        "acp": {"name": "Sakura Customs Advisory K.K.", "status": "registered", "accepted_on": "2026-09-15"},
        "fx_rates": {"USD": "150"},
        "items": [{"msku": "TOWEL-1", "title": XSS_TITLE, "quantity": 10, "unit_value": "3.00", "hs_code": "6302.60",
                   "origin_country": "CN", "duty_rate": "0"}],
    })
    app.screener().screen(declaration, "catalog-xss.json")
    app.store.close()
    server = Dashboard(db, config, directory / "serve.log")
    yield server.url, db
    server.stop()


@pytest.fixture(scope="module")
def browser():
    driver = chromium()
    yield driver
    driver.quit()


def wait(driver, condition, timeout=15):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def css(driver, selector):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def log_in(driver, url, name):
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(url + "/shipments")
    wait(driver, lambda d: "/login" in d.current_url)
    driver.find_element(By.NAME, "name").send_keys(name)
    driver.find_element(By.NAME, "password").send_keys("pw-browser")
    driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
    wait(driver, lambda d: d.current_url.endswith("/shipments") and css(d, "nav .who"))
    assert name in css(driver, "nav .who")[0].text


def post_without_form(driver, path, fields):
    """POST from the page's own origin with the user's cookie, as a script (or another site) could."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {method: 'POST', body: new URLSearchParams(arguments[1]), credentials: 'same-origin'})"
        ".then(r => done(r.status)).catch(e => done(String(e)));", path, fields)


def test_operator_filters_opens_and_releases(site, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    url, db = site
    log_in(browser, url, "ops")
    Select(browser.find_element(By.NAME, "verdict")).select_by_value("blocked")
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    wait(browser, lambda d: "verdict=blocked" in d.current_url)
    badges = [b.text for b in css(browser, "tr.shipment-row .badge")]
    assert badges and set(badges) == {"BLOCKED"}
    browser.find_element(By.LINK_TEXT, "FBA15NW0001A").click()
    wait(browser, lambda d: css(d, 'tr.finding[data-code="ACP_MISSING"]'))
    row = css(browser, 'tr.finding[data-code="ACP_MISSING"]')[0]
    row.find_element(By.CSS_SELECTOR, "details.release summary").click()
    row.find_element(By.NAME, "reason").send_keys("ACP notified by phone; C-7500 accepted 2026-12-01")
    by = row.find_element(By.NAME, "by")
    by.clear()
    by.send_keys("kenji@acp.example")
    row.find_element(By.NAME, "expires").send_keys("12312099")  # the date input's mm/dd/yyyy keystrokes
    row.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(browser, lambda d: css(d, ".flash"))
    assert "Waived ACP_MISSING" in css(browser, ".flash")[0].text
    waived = css(browser, 'tr.finding.is-waived[data-code="ACP_MISSING"]')[0]
    code = waived.find_element(By.CSS_SELECTOR, "td.code")
    assert code.value_of_css_property("text-decoration-line") == "line-through"
    assert "WAIVED" in waived.text and "Waived by kenji@acp.example" in waived.text
    with sqlite3.connect(db) as conn:
        assert conn.execute("select code, by, expires_on from waivers where shipment_id = 'FBA15NW0001A'").fetchall() \
            == [("ACP_MISSING", "kenji@acp.example", "2099-12-31")]
        assert conn.execute("select user, action from audit_log").fetchall() == [("ops", "release")]


def test_post_without_csrf_token_is_refused(site, browser):
    url, db = site
    status = post_without_form(browser, "/shipments/FBA15MP0002A/release", {"code": "COS_NO_MAH", "reason": "no token"})
    assert status == 403
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from waivers where shipment_id = 'FBA15MP0002A'").fetchone() == (0,)


def test_viewer_cannot_release(site, browser):
    url, db = site
    log_in(browser, url, "vera")
    browser.get(url + "/shipments/FBA15MP0002A")
    wait(browser, lambda d: css(d, 'tr.finding[data-code="COS_NO_MAH"]'))
    assert css(browser, "details.release") == []  # no form offered
    token = css(browser, "nav form input[name=csrf]")[0].get_attribute("value")
    status = post_without_form(browser, "/shipments/FBA15MP0002A/release",
                               {"csrf": token, "code": "COS_NO_MAH", "reason": "viewer tries"})
    assert status == 403
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from waivers where shipment_id = 'FBA15MP0002A'").fetchone() == (0,)


def test_catalog_title_with_script_renders_as_text(site, browser):
    url, _ = site
    browser.get(url + "/shipments/FBA15XSS0001")
    wait(browser, lambda d: css(d, "table.items td.title"))
    assert css(browser, "table.items td.title")[0].text == XSS_TITLE
    assert browser.title != "pwned" and "FBA15XSS0001" in browser.title
    assert browser.execute_script("return document.querySelectorAll('table.items img, table.items script').length") == 0


def test_seller_cannot_open_another_sellers_shipment_by_url(site, browser):
    url, _ = site
    log_in(browser, url, "maple-seller")
    listed = {r.text for r in css(browser, "tr.shipment-row td:nth-child(2)")}
    assert listed == {"maple"}
    browser.get(url + "/shipments/FBA15NW0001A")  # northwind's, guessed
    wait(browser, lambda d: css(d, "h1"))
    assert css(browser, "h1")[0].text == "Not found" and "ACP_MISSING" not in browser.page_source
    browser.get(url + "/shipments/FBA15NW0001A.json")
    assert "No shipment" in browser.page_source and "northwind" not in browser.page_source
    browser.get(url + "/shipments/FBA15MP0002A.json")
    assert json.loads(css(browser, "pre")[0].text)["shipment"]["account"] == "maple"


def test_status_page_updates_itself(site, browser):
    url, db = site
    log_in(browser, url, "ops")
    browser.get(url + "/status?every=1")
    wait(browser, lambda d: css(d, "#status-body"))
    assert "maple" not in css(browser, "#status-body")[0].text
    with sqlite3.connect(db) as conn:
        conn.execute("insert into daemon_accounts (account, outcome, last_finished_at, consecutive_failures, next_run_at)"
                     " values ('maple', 'ok', '2026-12-01T09:00:00+00:00', 0, '2026-12-01T09:30:00+00:00')")
    # the page fetches its status fragment again by itself; nothing reloads it here (no daemon runs on
    # this database, so the page shows maple's last run but promises no next one)
    wait(browser, lambda d: "2026-12-01T09:00:00+00:00" in css(d, "#status-body")[0].text)
    assert css(browser, "#status-body")[0].get_attribute("data-refreshed")
