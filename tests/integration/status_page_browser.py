#!/usr/bin/env python3
"""Loads the agent's status page in headless Chromium (Selenium + chromedriver, Debian
packages) as an on-call engineer would, on a phone and on a desktop, and checks what it shows:

  - the banner says "N failing" and is marked failing;
  - the first row is the failing target, with a non-empty down-since cell;
  - on a phone (390x844, mobile emulation) the page needs no sideways scrolling and the rows
    are stacked cards (the table head hidden);
  - the filter form (a plain GET) with state=down shows only the failing row;
  - the page loaded nothing but itself, from 127.0.0.1, and logged no error.

Screenshots go to OUT_DIR/status-page-phone.png and -desktop.png (their paths are printed).
Chromium can only reach 127.0.0.1: every other name fails to resolve and every other address
goes to a proxy on a closed loopback port.

Usage: status_page_browser.py URL OUT_DIR PROFILE_DIR FAILING_HOSTNAME TOTAL_TARGETS
Exit 0 when every check held, 1 when one failed (each printed as FAIL: ...), 2 when the browser
cannot be started.
"""
import json
import os
import sys
import time
import urllib.parse

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
MISSING = ("needs the Debian packages chromium chromium-driver python3-selenium "
           "(./run.sh test installs them)")

try:
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError as e:
    print(f"FAIL: cannot import selenium ({e}); {MISSING}", file=sys.stderr)
    sys.exit(2)

failures = 0


def check(what, ok, seen=""):
    global failures
    if ok:
        print(f"ok: {what}")
    else:
        failures += 1
        print(f"FAIL: {what}" + (f"; saw: {seen}" if seen != "" else ""), file=sys.stderr)


def start_browser(profile):
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            print(f"FAIL: {path} not found; {MISSING}", file=sys.stderr)
            sys.exit(2)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--user-data-dir={profile}", "--window-size=1280,900",
                # 127.0.0.1 only: no name resolves, anything not loopback goes to a dead proxy.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-default-apps", "--disable-extensions",
                "--no-first-run", "--no-default-browser-check", "--disable-domain-reliability",
                "--disable-client-side-phishing-detection", "--dns-prefetch-disable"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    service = Service(executable_path=CHROMEDRIVER,
                      log_path=os.path.join(profile, "chromedriver.log"))
    try:
        return webdriver.Chrome(service=service, options=options)
    except WebDriverException as e:
        print(f"FAIL: cannot start headless Chromium via {CHROMEDRIVER}: {e.msg}", file=sys.stderr)
        sys.exit(2)


def requested_urls(driver):
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def load(driver, url):
    driver.get(url)
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, "banner"))


def rows(driver):
    return driver.find_elements(By.CSS_SELECTOR, "tr.row")


def check_page(driver, failing_host, total, where):
    banner = driver.find_element(By.ID, "banner")
    classes = banner.get_attribute("class").split()
    check(f"{where}: the banner is marked failing", "failing" in classes, classes)
    text = " ".join(banner.text.split())
    check(f"{where}: the banner says 1 failing of {total} targets",
          text.startswith("1 failing") and f"of {total} targets" in text, text)
    shown = rows(driver)
    check(f"{where}: {total} rows", len(shown) == total, len(shown))
    if not shown:
        return
    first = shown[0]
    check(f"{where}: the first row is the failing target {failing_host}",
          first.get_attribute("data-hostname") == failing_host
          and "down" in first.get_attribute("class").split(),
          f"{first.get_attribute('data-hostname')} ({first.get_attribute('class')})")
    since = first.find_element(By.CSS_SELECTOR, "td.down-since").text.strip()
    check(f"{where}: the failing row's down-since cell is filled", since.startswith("for "), since)
    print(f"   {where}: first row: {' | '.join(first.text.split(chr(10)))}")


def main():
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    url, out_dir, profile, failing_host, total = sys.argv[1:6]
    total = int(total)
    host = urllib.parse.urlsplit(url).hostname
    if host != "127.0.0.1":
        print(f"FAIL: the page must be on 127.0.0.1, not {host}", file=sys.stderr)
        sys.exit(2)
    os.makedirs(out_dir, exist_ok=True)
    driver = start_browser(profile)
    try:
        # --- phone: a 390x844 viewport as a phone reports it (the viewport meta applies).
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
        started = time.monotonic()
        load(driver, url)
        print(f"   phone: loaded in {time.monotonic() - started:.2f}s")
        check_page(driver, failing_host, total, "phone")
        widths = driver.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]")
        check("phone: no sideways scrolling (page width <= viewport)", widths[0] <= widths[1],
              f"page {widths[0]}px, viewport {widths[1]}px")
        head = driver.execute_script(
            "var h = document.querySelector('#targets thead');"
            "return h ? getComputedStyle(h).display : 'none'")
        check("phone: rows are stacked (table head hidden)", head == "none", head)
        phone_png = os.path.join(out_dir, "status-page-phone.png")
        driver.save_screenshot(phone_png)

        # --- the filter form: state=down, submitted as a plain GET.
        Select(driver.find_element(By.NAME, "state")).select_by_value("down")
        driver.find_element(By.CSS_SELECTOR, "#filter button[type=submit]").click()
        WebDriverWait(driver, 10).until(lambda d: "state=down" in d.current_url)
        shown = rows(driver)
        check("filter state=down: only the failing row",
              [r.get_attribute("data-hostname") for r in shown] == [failing_host],
              [r.get_attribute("data-hostname") for r in shown])
        count = driver.find_element(By.ID, "count").text
        check(f"filter state=down: the count says 1 of {total}",
              count.startswith("Showing 1 of") and f"of {total} targets" in count, count)
        check("filter state=down: the form keeps the chosen state",
              Select(driver.find_element(By.NAME, "state")).first_selected_option
              .get_attribute("value") == "down")
        load(driver, url.rstrip("/") + "/?state=up")
        up = [r.get_attribute("data-hostname") for r in rows(driver)]
        check(f"filter state=up: the {total - 1} other rows", len(up) == total - 1
              and failing_host not in up, up)

        # --- desktop.
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        driver.set_window_size(1280, 900)
        load(driver, url)
        check_page(driver, failing_host, total, "desktop")
        head = driver.execute_script(
            "return getComputedStyle(document.querySelector('#targets thead')).display")
        check("desktop: a table with its head", head != "none", head)
        desktop_png = os.path.join(out_dir, "status-page-desktop.png")
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1280, max(900, min(int(height) + 40, 4000)))
        driver.save_screenshot(desktop_png)

        # --- nothing but the page itself, from 127.0.0.1; no errors in the console.
        # Requests over the network (Chromium's own chrome:// pages and data: URLs are not).
        urls = [u for u in requested_urls(driver)
                if urllib.parse.urlsplit(u).scheme not in ("chrome", "data", "about")]
        elsewhere = [u for u in urls if urllib.parse.urlsplit(u).hostname != "127.0.0.1"]
        check("the browser requested only 127.0.0.1", not elsewhere, elsewhere)
        check("the page loaded nothing besides itself (no scripts, styles, images)",
              urls and all(urllib.parse.urlsplit(u).path in ("/", "/favicon.ico") for u in urls),
              sorted(set(urls)))
        errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"
                  and "favicon.ico" not in e["message"]]
        check("no errors in the browser console", not errors, errors)
        for png in (phone_png, desktop_png):
            ok = os.path.getsize(png) > 1000 if os.path.exists(png) else False
            check(f"screenshot written: {png}", ok)
            print(f"screenshot: {png}")
    finally:
        driver.quit()
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
