"""Screenshots of the dashboard for docs/: the shipment list, a blocked shipment and the daemon status.

    python scripts/screenshot_dashboard.py [OUT_DIR]      # default: docs/

Runs ``fba-jp demo`` into a temporary directory, then one daemon run per demo account against the
built-in sandbox (so the status page has runs, verdict changes and deliveries to show), starts
``fba-jp serve`` over that database and photographs it with Debian's headless Chromium.
Needs: apt-get install chromium chromium-driver fonts-noto-cjk (the findings quote Japanese law).
"""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

from fba_jp.app import App
from fba_jp.daemon import run_account
from fba_jp.demo import _environment, demo_credentials, loopback_without_proxy, write_demo_config
from fba_jp.sandbox import Sandbox
from fba_jp.web.harness import Dashboard, browser_missing, chromium, demo_site

PAGES = [  # (file, path, least window height; a longer page gets a window as tall as itself)
    ("dashboard-list.png", "/shipments", 700),
    ("dashboard-shipment.png", "/shipments/FBA15MP0002A", 700),
    ("dashboard-status.png", "/status", 700),
]


def daemon_runs(db: Path, directory: Path) -> None:
    """One scheduled run per account, exactly as `fba-jp daemon` makes them."""
    directory.mkdir(parents=True, exist_ok=True)
    with Sandbox(seed=7) as sandbox:
        config = write_demo_config(directory, sandbox)
        with _environment({**demo_credentials(sandbox), **loopback_without_proxy()}):
            for account in ("northwind", "maple", "hinode"):
                run_account(lambda: App(str(config), str(db)), account, threading.Event())


def main(out: Path) -> None:
    missing = browser_missing()
    if missing:
        sys.exit(f"screenshot_dashboard: {missing}")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fba-jp-shots-") as tmp:
        tmp = Path(tmp)
        db, config = demo_site(tmp / "site")
        daemon_runs(db, tmp / "daemon")
        server = Dashboard(db, config, tmp / "serve.log")
        driver = chromium()
        try:
            for name, path, height in PAGES:
                driver.set_window_size(1280, height)
                driver.get(server.url + path)
                driver.find_element("css selector", "nav.top")  # the page has rendered
                full = driver.execute_script("return document.documentElement.scrollHeight")
                if full > height:
                    driver.set_window_size(1280, full + 120)  # the window, not the page, is the size set
                driver.save_screenshot(str(out / name))
                print(f"wrote {out / name}")
        finally:
            driver.quit()
            server.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "docs")
