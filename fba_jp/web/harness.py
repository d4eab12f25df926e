"""The dashboard as a user meets it: a real ``fba-jp serve`` process over a database made by the demo,
driven by Debian's Chromium through Selenium and chromium-driver. Used by the browser tests, the
screenshot script and nothing at run time (selenium is a test dependency, imported here only).

Waiting is on state, never on time: the server is ready when ``/health`` answers, and pages are ready
when the element a step needs is there.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from importlib import resources
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# headless, and nothing that reaches the network (no updates, sync, field trials or first-run pages)
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                  "--hide-scrollbars")
UNUSED_ENDPOINT = "http://127.0.0.1:9"  # the demo accounts' SP-API endpoint when nothing syncs: discard port


def browser_missing() -> str | None:
    """Why the browser tests cannot run here (``None`` when they can)."""
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (os.path.exists(path) or shutil.which(os.path.basename(path))):
            return f"{path} not installed (apt-get install {package}; .ci/run installs it)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium not installed (pip install -e '.[test]')"
    return None


def demo_site(directory: Path, serve_toml: str = "") -> tuple[Path, Path]:
    """Run ``fba-jp demo`` into ``directory``; return (database, config) where the config has the demo's
    accounts (their profiles, so a release can rescreen) and ``serve_toml`` appended."""
    from ..demo import run_demo

    directory.mkdir(parents=True, exist_ok=True)
    db = directory / "demo.db"
    run_demo(str(db), str(directory / "demo.html"), echo=lambda *args, **kwargs: None)
    data = resources.files("fba_jp.sandbox").joinpath("data")
    accounts = data.joinpath("demo_accounts.toml").read_text(encoding="utf-8")
    accounts = accounts.replace("@ENDPOINT@", UNUSED_ENDPOINT).replace("@TOKEN_URL@", UNUSED_ENDPOINT + "/token")
    for name in ("products.csv", "freight-quotes.csv"):  # what the accounts read (a rescreen rebuilds from them)
        (directory / name).write_text(data.joinpath(name).read_text(encoding="utf-8"), encoding="utf-8")
    config = directory / "config.toml"
    config.write_text(accounts + "\n" + serve_toml, encoding="utf-8")
    return db, config


def serve_users(password: str, users: dict[str, tuple[str, list[str] | None]]) -> str:
    """``[serve]`` TOML with ``users`` (name → (role, accounts or None)), all with ``password``, hashed with
    cheap argon2 parameters: quick to verify in a test, and a hash like any other to the server."""
    from argon2 import PasswordHasher

    digest = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(password)
    lines = ["[serve]"]
    for name, (role, accounts) in users.items():
        lines += ["[[serve.users]]", f'name = "{name}"', f'role = "{role}"', f'password_hash = "{digest}"']
        if accounts is not None:
            lines.append("accounts = [" + ", ".join(f'"{a}"' for a in accounts) + "]")
    return "\n".join(lines) + "\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dashboard:
    """``fba-jp serve`` in a subprocess on loopback; ``url`` once ``/health`` answers."""

    def __init__(self, db: Path, config: Path | None, log: Path, timeout: float = 30):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [sys.executable, "-m", "fba_jp", "serve", "--db", str(db), "--port", str(self.port)]
        if config is not None:
            args += ["--config", str(config)]
        self._log = open(log, "wb")
        env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
        self.process = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        self._wait_ready(timeout, log)

    def _wait_ready(self, timeout: float, log: Path) -> None:
        deadline = time.monotonic() + timeout
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"fba-jp serve exited with {self.process.returncode}: {log.read_text()[-2000:]}")
            try:
                with opener.open(self.url + "/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"fba-jp serve did not answer on {self.url} within {timeout} s") from None
                time.sleep(0.05)  # between two polls of the port, not instead of one

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def chromium(width: int = 1280, height: int = 1000):
    """A headless Chromium driven through Debian's chromium-driver (never a downloaded browser)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    options.add_argument("--proxy-server=direct://")
    options.add_argument("--proxy-bypass-list=*")
    from selenium.common.exceptions import WebDriverException

    # Chromium's start-up (profile, DevTools port) is the one step that can fail on a machine that is
    # busy with other browsers and test suites; it says nothing about the dashboard, so try it again.
    for attempt in range(3):
        service = Service(executable_path=shutil.which("chromedriver") or CHROMEDRIVER)
        try:
            return webdriver.Chrome(options=options, service=service)
        except WebDriverException:
            if attempt == 2:
                raise
