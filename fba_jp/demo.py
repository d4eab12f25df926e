"""``fba-jp demo``: the daemon path end to end on the built-in sandbox, with no credentials or network.

It starts :class:`~fba_jp.sandbox.Sandbox` on a free loopback port, writes a config whose three
accounts point at it (``endpoint``/``token_url``), puts fake credentials in this process's
environment under the ``env:`` names the config uses, then runs exactly what ``fba-jp run`` runs:
the real python-amazon-sp-api client with the production rate limits and retries (the sample data
needs 50 calls: plans, shipments, items, boxes, catalog items, and hinode's prices and fees; only
getCatalogItem's 2-a-second limit makes it wait, a few seconds in all), storage, screening with every
installed plugin, and the HTML report. The three sellers show the three ways customs value is settled:
hinode deductive from its own Amazon.co.jp prices and fees, maple computed as agreed with its ACP, both
with freight from Amazon's box data; northwind with no agreement (its invoice values fall back).

The database is kept: run the demo twice and the second sync is incremental (no plan changed, a
handful of list calls).
"""

from __future__ import annotations

import os
import secrets
import tempfile
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import click

from .app import App
from .models import Summary
from .output.table import columns
from .rates import import_rates_csv
from .sandbox import Faults, Sandbox
from .spapi import RetryPolicy
from .sync import screen_synced, sync_accounts

DATA = "fba_jp.sandbox"
VERDICT = {"blocked": "BLOCKED", "annotated": "ANNOTATED", "cleared": "CLEARED"}
# --faults: Amazon on a bad day, ten times faster. Each 429 empties the client's bucket, so at the
# documented 2 requests/s every throttle costs half a second plus backoff sized for Amazon (1 s,
# doubling): the demo would take ~20 s to show the same thing. Both limits (sandbox and client) and
# the backoff are scaled by 10, only here; without --faults the demo runs at production rates.
STORM_SCALE = 10
STORM = Faults(rate_limit=True, rate_scale=STORM_SCALE, throttle_probability=0.15, empty_429_ratio=0.5,
               error_probability=0.05, fail_next=2)
STORM_API = {"retry": RetryPolicy(tries=10, base_delay=0.1, max_delay=3.0), "rate_scale": STORM_SCALE}


@contextmanager
def _environment(values: dict[str, str]):
    """Set variables for the duration of the block, then restore what was there."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _data(name: str) -> str:
    return resources.files(DATA).joinpath(f"data/{name}").read_text(encoding="utf-8")


def write_demo_config(directory: Path, sandbox: Sandbox) -> Path:
    """The demo config (accounts pointing at ``sandbox``) and its products.csv, in ``directory``."""
    text = _data("demo_accounts.toml").replace("@ENDPOINT@", sandbox.url).replace("@TOKEN_URL@", sandbox.token_url)
    (directory / "products.csv").write_text(_data("products.csv"), encoding="utf-8")
    (directory / "demo_rates.csv").write_text(_data("demo_rates.csv"), encoding="utf-8")
    (directory / "freight-quotes.csv").write_text(_data("freight-quotes.csv"), encoding="utf-8")
    path = directory / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def demo_credentials(sandbox: Sandbox) -> dict[str, str]:
    """Fake, per-run credentials under the env names the demo config references."""
    env = {
        "FBA_JP_DEMO_LWA_APP_ID": "amzn1.application-oa2-client.fbajpdemo",
        "FBA_JP_DEMO_LWA_CLIENT_SECRET": "demo-secret-" + secrets.token_urlsafe(16),
    }
    for seller in sandbox.sellers():
        env[f"FBA_JP_DEMO_{seller.upper()}_REFRESH_TOKEN"] = sandbox.issue_refresh_token(seller)
    return env


def loopback_without_proxy() -> dict[str, str]:
    """``NO_PROXY`` with 127.0.0.1 added: httpx would send even loopback requests to an HTTP(S)_PROXY."""
    env = {}
    for name in ("NO_PROXY", "no_proxy"):
        current = os.environ.get(name, "")
        if "127.0.0.1" not in current.split(","):
            env[name] = ",".join(filter(None, [current, "127.0.0.1"]))
    return env


def run_demo(db_path: str, report_path: str, *, faults: bool = False, progress=None, echo=click.echo) -> dict:
    """Run the demo; print a summary table; write the report. Returns figures for tests."""
    from .report import write_html_report

    with tempfile.TemporaryDirectory(prefix="fba-jp-demo-") as tmp, Sandbox(faults=STORM if faults else None, seed=7) as sandbox:
        config_path = write_demo_config(Path(tmp), sandbox)
        with _environment({**demo_credentials(sandbox), **loopback_without_proxy()}):
            app = App(str(config_path), db_path)
            import_rates_csv(app.store, Path(tmp) / "demo_rates.csv")
            try:
                # the sample plans are dated; on a later day the first-sync lookback must not hide them
                reports = sync_accounts(app, lookback_days=None, progress=progress,
                                        api_options=STORM_API if faults else None)
            finally:
                if progress:
                    progress.done()
        screened = screen_synced(app)
        results = sorted(app.store.latest_results(), key=lambda r: (r.account or "", r.shipment_id))
        documents_dir = Path(report_path).with_name(Path(report_path).stem + "-documents")
        downloads = demo_documents(app, results, documents_dir, Path(report_path).parent)
        write_html_report(results, Path(report_path), title="fba-jp demo — SP-API sandbox", downloads=downloads)
        app.store.close()
        calls, url = dict(sandbox.calls), sandbox.url
    failed = [r for r in reports if r.failed]
    echo(f"SP-API sandbox on {url}: " + ", ".join(
        f"{r.account} {r.plans} changed plan(s)" for r in reports))
    echo(f"  {sum(calls.values())} SP-API calls, {sum(r.throttled for r in reports)} throttled, "
         f"{sum(r.retries for r in reports)} retried, {sum(r.seconds for r in reports):.1f} s")
    for r in failed:
        echo(f"  sync of {r.account} failed: {r.message}", err=True)
    echo(f"screened {screened.screened} shipment(s), {screened.unchanged} unchanged since the last run\n")
    echo(summary_table(results))
    summary = Summary.of(results)
    echo(f"\n{summary.shipments} shipments: {summary.blocked} blocked, {summary.annotated} annotated, "
         f"{summary.cleared} cleared")
    echo(f"database: {db_path}   report: {report_path}   documents: {documents_dir}/")
    echo(f"next: fba-jp report --db {db_path}   ·   fba-jp report --db {db_path} --output json")
    echo(f"dashboard: fba-jp serve --db {db_path}   (then open http://127.0.0.1:8080/)")
    if failed:
        from .errors import SpApiError

        raise SpApiError("demo: " + "; ".join(r.message or r.account for r in failed))
    return {"reports": reports, "results": results, "calls": calls}


def demo_documents(app: App, results, out_dir: Path, relative_to: Path) -> dict[str, list[tuple[str, str]]]:
    """Final documents for every cleared shipment and drafts for the first blocked one, as the report's links."""
    from .documents import DocumentRefused, documents_for, issue, links

    cleared = [r for r in results if r.verdict == "cleared"]
    blocked = [r for r in results if r.verdict == "blocked" and r.valuation is not None][:1]
    for result in cleared + blocked:
        found = app.store.screened_declaration(result.shipment_id)
        if found is None:
            continue
        try:
            issue(app.store, documents_for(app.config, app.store, *found, draft=result in blocked), out_dir, "pdf")
        except DocumentRefused:
            continue  # the summary table already says why; a demo profile edited by hand may lack an address
    return {r.shipment_id: links(app.store, r, relative_to) for r in results}


def summary_table(results) -> str:
    rows = []
    for r in results:
        codes = [f.code for f in r.findings if f.severity in ("block", "warn") and not f.waived]
        codes += [f"ERROR:{e.plugin}" for e in r.errors]
        rows.append((r.account or "-", r.shipment_id, VERDICT[r.verdict], ", ".join(dict.fromkeys(codes)) or "-"))
    return columns(("account", "shipment", "verdict", "findings (block/warn)"), rows)

