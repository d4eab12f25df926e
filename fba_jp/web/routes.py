"""The dashboard's pages. Each returns a :class:`Page` whose ``data`` is also its JSON twin
(``Accept: application/json`` or ``.json``); writes go through the store methods the CLI uses
(``fba-jp release``, ``acp``, ``rates``) and are audited with the user's name in the same transaction.
"""

from __future__ import annotations

import json
import re
from collections import Counter
import tempfile
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlencode

from pydantic import ValidationError
from starlette.responses import Response

from .. import licences as registry
from ..errors import InputError, StoreError, validation_lines
from ..models import COULD_NOT_SCREEN, Acp, Declaration, Licence, ResultDocument, Summary
from ..rates import import_rates_csv
from ..store import to_json, utcnow
from . import queries
from .app import Ctx, Page, Problem, Redirect

ACP_STATUSES = ("registered", "pending", "revoked")


# --------------------------------------------------------------------------- helpers


def _day(ctx: Ctx, name: str, source=None) -> date | None:
    value = (source if source is not None else ctx.query).get(name)
    value = value.strip() if isinstance(value, str) else value
    if not value:
        return None
    try:  # the format `fba-jp release --expires` takes: date.fromisoformat would also read 20261231 or 2026-W01-1
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise Problem(400, f"{name}: must be a date YYYY-MM-DD (got {value[:40]!r})") from None


def _audit(ctx: Ctx, action: str, account: str | None, target: str, detail: dict) -> None:
    ctx.store.conn.execute(
        "insert into audit_log (at, user, action, account, target, detail) values (?, ?, ?, ?, ?, ?)",
        [utcnow(), ctx.user.name, action, account, target, to_json(detail)],
    )


def _invalid(exc: ValidationError, what: str) -> Problem:
    return Problem(400, "; ".join(validation_lines(exc, what)))


def _unscoped_operator(ctx: Ctx, what: str) -> None:
    if not ctx.user.unscoped:
        raise Problem(403, f"{what} is shared by every seller; only an operator without an account scope may change it.")


def _account_names(ctx: Ctx) -> list[str]:
    """Accounts the user may pick: from the config and the database, within their scope."""
    names = {a.name for a in ctx.server.config.accounts} | set(queries.distinct_values(ctx.store, "shipments", "account"))
    return sorted(n for n in names if ctx.user.sees(n))


def shipment_links(shipment_id: str) -> dict:
    base = f"/shipments/{_quote(shipment_id)}"
    return {"html": base, "json": base + ".json", "result": base + "/result.json"}


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


# --------------------------------------------------------------------------- shipments


def home(ctx: Ctx):
    return Redirect("/shipments")


def shipments(ctx: Ctx) -> Page:
    verdict = ctx.query.get("verdict") or None
    if verdict and verdict not in queries.VERDICTS:
        raise Problem(400, f"verdict: must be one of {', '.join(queries.VERDICTS)} (got {verdict[:20]!r})")
    after = ctx.query.get("after") or None
    if after:
        if "~" not in after:
            raise Problem(400, "after: not a page cursor; follow the Next link")
        after = tuple(after.split("~", 1))
    code = (ctx.query.get("code") or "").strip().upper() or None
    if code and not re.fullmatch(r"[A-Z][A-Z0-9_]*", code):
        raise Problem(400, f"code: not a finding code such as ACP_MISSING (got {code[:40]!r})")
    filters = queries.Filters(
        account=ctx.query.get("account") or None, verdict=verdict, code=code,
        date_from=_day(ctx, "from"), date_to=_day(ctx, "to"), q=(ctx.query.get("q") or "").strip()[:100] or None,
        after=after,
    )
    page = queries.list_shipments(ctx.store, ctx.user, filters)
    for row in page.rows:
        row["links"] = shipment_links(row["shipment_id"])
    next_url = "/shipments?" + urlencode(filters.query(after=page.next_after)) if page.next_after else None
    data = {"shipments": page.rows, "next": next_url, "filters": filters.query(after=None)}
    context = {
        "accounts": _account_names(ctx),
        "codes": queries.finding_codes(ctx.store, ctx.user),
        "verdicts": queries.VERDICTS,
        "first_page": "/shipments?" + urlencode(filters.query(after=None)) if filters.after else None,
    }
    return Page("shipments.html", data, context)


def _shipment_id(ctx: Ctx) -> tuple[str, bool]:
    shipment_id = ctx.path_params["shipment_id"]
    if shipment_id.endswith(".json"):
        ctx.wants_json = True
        return shipment_id[: -len(".json")], True
    return shipment_id, False


def _shipment_row(ctx: Ctx, shipment_id: str) -> dict:
    row = queries.shipment(ctx.store, ctx.user, shipment_id)
    if row is None:  # also outside the user's scope: the same answer, so ids cannot be probed
        raise Problem(404, f"No shipment {shipment_id!r} here.")
    return row


def shipment(ctx: Ctx) -> Page:
    shipment_id, _ = _shipment_id(ctx)
    row = _shipment_row(ctx, shipment_id)
    result = queries.latest_result(ctx.store, row)
    history = queries.history(ctx.store, shipment_id)
    pending = queries.pending_waivers(ctx.store, result)
    items = [
        {k: item.get(k) for k in ("msku", "asin", "title", "quantity", "unit_value", "hs_code", "origin_country", "categories")}
        for item in (json.loads(row["declaration"])["items"] if row["declaration"] else [])
    ]
    data = {
        "shipment": {k: row[k] for k in ("shipment_id", "account", "source", "inbound_plan_id", "latest_verdict",
                                          "first_seen_at", "updated_at", "input_sha256")},
        "result": result.model_dump(mode="json"),
        "items": items,
        "history": history,
        "pending_waivers": pending,
        "links": shipment_links(shipment_id),
    }
    # a waiver is per code: one release form, on the first blocking finding of each code
    blocking = [f for f in result.findings if f.severity == "block" and not f.waived]
    releasable = {}
    for f in blocking:
        releasable.setdefault(f.code, f)
    context = {"r": result, "pending": pending, "can_release": ctx.user.operator, "releasable": releasable,
               "can_rescreen": ctx.user.operator and bool(row["declaration"]),
               "same_code": Counter(f.code for f in blocking), "unwaivable": COULD_NOT_SCREEN,
               "downloads_for": lambda r: document_links(shipment_id, r.verdict) if row["declaration"] else []}
    return Page("shipment.html", data, context)


def shipment_result(ctx: Ctx) -> Response:
    """The fba-jp/result/v1 document of the shipment's latest screening, as a download."""
    row = _shipment_row(ctx, ctx.path_params["shipment_id"])
    result = queries.latest_result(ctx.store, row)
    document = ResultDocument(results=[result], summary=Summary.of([result]))
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", row["shipment_id"])[:100]
    return Response(
        document.model_dump_json(by_alias=True, indent=2), media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="fba-jp-{filename}.json"'},
    )


def shipment_document(ctx: Ctx) -> Response:
    """A shipping document (fba_jp.documents) of the shipment's latest screening, as a download: final when the
    shipment may ship and its parties are complete, else the watermarked draft that lists why. Recorded."""
    from ..documents import KINDS, DocumentRefused, documents_for, file_name, issue_record, render, screened_now

    row = _shipment_row(ctx, ctx.path_params["shipment_id"])
    kind, fmt = ctx.path_params["kind"].replace("-", "_"), ctx.path_params["fmt"]
    try:
        # as `fba-jp documents`: from what the shipment's data says now, not a screening that may be stale
        found = screened_now(_app(ctx), row["shipment_id"]) if kind in KINDS and fmt in ("pdf", "html") else None
    except InputError as exc:  # it forms no declaration now: the shipment's state, not the request
        raise Problem(409, str(exc)) from None
    if found is None:
        raise Problem(404, f"No {ctx.path_params['kind']}.{fmt} for shipment {row['shipment_id']!r}.")
    config = ctx.server.config
    try:
        docs = documents_for(config, ctx.store, *found, draft=found[1].verdict == "blocked")
    except DocumentRefused:  # final documents refused for missing party data: the draft lists what is missing
        docs = documents_for(config, ctx.store, *found, draft=True)
    data = render(docs, kind, fmt)
    name = file_name(docs.shipment_id, kind, fmt, docs.draft)
    ctx.store.record_documents([issue_record(docs, kind, fmt, data, name)])
    return Response(data, media_type="application/pdf" if fmt == "pdf" else "text/html; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def document_links(shipment_id: str, verdict: str) -> list[tuple[str, str]]:
    """The shipment page's download links (the checklist partial's ``downloads``)."""
    draft = " DRAFT" if verdict == "blocked" else ""
    base = f"/shipments/{_quote(shipment_id)}/documents"
    return [(f"{kind.replace('-', ' ')}{draft} (PDF)", f"{base}/{kind}.pdf")
            for kind in ("invoice", "packing-list", "checklist")]


def release(ctx: Ctx):
    """Waive one blocking finding of the shipment's current input, exactly as ``fba-jp release`` does."""
    row = _shipment_row(ctx, ctx.path_params["shipment_id"])
    code = ctx.field("code", required=True)
    reason = ctx.field("reason", required=True, label="reason (why it is safe to ship anyway)")
    by = ctx.field("by") or ctx.user.name
    expires = _day(ctx, "expires", ctx.form)
    store = ctx.store
    with store.write():
        waiver = store.add_waiver(row["shipment_id"], code, reason, by, expires)
        _audit(ctx, "release", row["account"], row["shipment_id"], waiver)
    message = f"Waived {code} on this input" + (f" until {waiver['expires_on']}" if waiver["expires_on"] else "") + "."
    if not ctx.server.config.serve.rescreen_on_release:
        message += " It applies at the next screening (the daemon's next run, or `fba-jp screen`)."
        return Redirect(shipment_links(row["shipment_id"])["html"], flash=message)
    try:
        why = _rescreen(ctx, row)
    except StoreError as exc:  # the waiver is committed: a "try again" would only record a second one
        why = f"{exc}."
    if why is None:  # the verdict it got, which the waiver may not have changed (another block, INPUT_INVALID)
        message += " " + _screened_again(ctx, row)[1]
    else:
        message += f" Not screened again: {why} The waiver applies at the next screening that succeeds."
    return Redirect(shipment_links(row["shipment_id"])["html"], flash=message)


def rescreen(ctx: Ctx):
    """Screen the shipment again now (after an ACP, licence or rate change), from its stored declaration."""
    row = _shipment_row(ctx, ctx.path_params["shipment_id"])
    if (why := _rescreen(ctx, row)) is not None:
        raise Problem(400, f"This shipment could not be screened again: {why}")
    latest, message = _screened_again(ctx, row)
    with ctx.store.write():
        _audit(ctx, "rescreen", row["account"], row["shipment_id"],
               {"verdict": latest["latest_verdict"], "previous_verdict": row["latest_verdict"]})
    return Redirect(shipment_links(row["shipment_id"])["html"], flash=message)


def _screened_again(ctx: Ctx, row: dict) -> tuple[dict, str]:
    """The shipment's row after a rescreen and what to tell the user: "Screened again: blocked → blocked
    (INPUT_INVALID)." (the codes that still block it, so a waiver or fix that did not clear it says why)."""
    latest = queries.shipment(ctx.store, ctx.user, row["shipment_id"])
    result = queries.latest_result(ctx.store, latest)
    blocking = sorted({f.code for f in result.findings if f.severity == "block" and not f.waived})
    codes = f" ({', '.join(blocking)})" if blocking else ""
    return latest, f"Screened again: {row['latest_verdict']} → {latest['latest_verdict']}{codes}."


def _app(ctx: Ctx):
    """An :class:`~fba_jp.app.App` of this dashboard's config, plugins and this request's store connection."""
    from ..app import App

    app = App(None, ctx.server.db_path, plugins=ctx.server.get_plugins())
    app.config, app.store = ctx.server.config, ctx.store
    return app


def _rescreen(ctx: Ctx, row: dict) -> str | None:
    """Screen the shipment again; ``None`` when done, else why it could not be (a sentence to show).

    Its account (whose profile the checks read) must be in this config, unless it has none. A synced
    shipment is screened as ``fba-jp screen`` does, from its stored SP-API data, the current product master
    and profile (which can block it: an unreadable plan, a bad products.csv row, a revoked ACP); a gate
    file's from its declaration."""
    config = ctx.server.config
    if row["account"] and row["account"] not in {a.name for a in config.accounts}:
        return f"its account {row['account']!r} is not in this dashboard's config."
    if row["source"].startswith("spapi:") and row["account"]:
        from ..sync import screen_synced

        report = screen_synced(_app(ctx), [row["account"]], force=True, only={row["shipment_id"]})
        if report.results:
            return None
        # the account's product master or freight quotes could not be read: say what, as `fba-jp screen` does
        return (" ".join(report.errors) or "its SP-API data is no longer stored.") + " Fix it, or run `fba-jp screen`."
    if not row["declaration"]:
        return "it has no valid stored declaration; screen its file again with `fba-jp gate`."
    from ..runner import Screener

    declaration = Declaration.model_validate_json(row["declaration"])
    Screener(ctx.server.get_plugins(), config, ctx.store).screen(declaration, row["source"], row["account"])
    return None


# --------------------------------------------------------------------------- status


def status(ctx: Ctx) -> Page:
    data = queries.status(ctx.store, ctx.user)
    template = "status_body.html" if ctx.query.get("fragment") else "status.html"
    every = ctx.query.get("every") or "10"
    seconds = int(every) if every.isdigit() and 1 <= int(every) <= 3600 else 10
    return Page(template, data, {"every": seconds})


# --------------------------------------------------------------------------- ACP registry


def _scope_parties(ctx: Ctx) -> tuple[set[str], set[str]]:
    sellers, acp_ids = set(), set()
    for account in ctx.server.config.accounts:
        if ctx.user.sees(account.name):
            sellers.add(account.seller.name)
            if account.acp_id:
                acp_ids.add(account.acp_id)
    return sellers, acp_ids


def acps(ctx: Ctx) -> Page:
    sellers, acp_ids = _scope_parties(ctx)
    records = queries.acps(ctx.store, ctx.user, sellers, acp_ids)
    return Page("acps.html", {"acps": records}, {"statuses": ACP_STATUSES,
                                                 "can_edit": ctx.user.operator and ctx.user.unscoped})


def _sellers(ctx: Ctx) -> list[str]:
    return [s.strip() for s in (ctx.field("sellers") or "").splitlines() if s.strip()]


def acp_add(ctx: Ctx):
    _unscoped_operator(ctx, "The ACP registry")
    acp_id = ctx.field("acp_id", required=True, label="id")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", acp_id):
        raise Problem(400, f"id: letters, digits, . _ - only, such as sakura-tokyo (got {acp_id[:40]!r})")
    try:
        record = Acp(name=ctx.field("name", required=True), status=ctx.field("status") or "pending",
                     accepted_on=ctx.field("accepted_on"), notified_on=ctx.field("notified_on"),
                     customs_office=ctx.field("customs_office"), address=ctx.field("address"))
    except ValidationError as exc:
        raise _invalid(exc, "acp") from None
    sellers = _sellers(ctx)
    with ctx.store.write():
        ctx.store.add_acp(acp_id, record, sellers)
        _audit(ctx, "acp.add", None, acp_id, record.model_dump(mode="json") | {"sellers": sellers})
    return Redirect("/acps", flash=f"Added ACP {acp_id} ({record.status}).")


def acp_status(ctx: Ctx):
    _unscoped_operator(ctx, "The ACP registry")
    acp_id = ctx.path_params["acp_id"]
    status = ctx.field("status", required=True)
    if status not in ACP_STATUSES:
        raise Problem(400, f"status: must be one of {', '.join(ACP_STATUSES)}")
    accepted_on = _day(ctx, "accepted_on", ctx.form)
    note, sellers = ctx.field("note"), _sellers(ctx)
    with ctx.store.write():
        record = ctx.store.set_acp_status(acp_id, status, accepted_on, note, sellers)
        _audit(ctx, "acp.status", None, acp_id, {"status": status, "accepted_on": accepted_on, "note": note,
                                                 "add_sellers": sellers})
    return Redirect("/acps", flash=f"ACP {acp_id} is now {record['status']}.")


def acp_remove_seller(ctx: Ctx):
    """The firm no longer acts for a seller, as ``fba-jp acp remove-seller`` does."""
    _unscoped_operator(ctx, "The ACP registry")
    acp_id = ctx.path_params["acp_id"]
    seller, note = ctx.field("seller", required=True), ctx.field("note")
    with ctx.store.write():  # a seller the record does not list, or its last one: a 400 naming it (app.py)
        ctx.store.remove_acp_sellers(acp_id, [seller], note)
        _audit(ctx, "acp.remove_seller", None, acp_id, {"seller": seller, "note": note})
    return Redirect("/acps", flash=f"ACP {acp_id} no longer serves {seller}; it applies at the next screening.")


# --------------------------------------------------------------------------- licences and filings


def licences(ctx: Ctx) -> Page:
    config_accounts = [a for a in ctx.server.config.accounts if ctx.user.sees(a.name)]
    from_config = [
        {"account": a.name, "type": type_, **record.model_dump(mode="json")}
        for a in config_accounts for type_, records in (("licence", a.licences), ("filing", a.filings)) for record in records
    ]
    scope = None if ctx.user.unscoped else list(ctx.user.accounts)
    data = {"registry": registry.list_records(ctx.store, scope), "config": from_config}
    return Page("licences.html", data, {"accounts": [a.name for a in config_accounts], "can_edit": ctx.user.operator})


def licence_add(ctx: Ctx):
    account = ctx.field("account", required=True)
    names = {a.name for a in ctx.server.config.accounts}
    if account not in names or not ctx.user.sees(account):
        raise Problem(400, f"account: {account!r} is not an account of this config you may edit "
                           "(a screening reads the registry only for accounts in config.toml)")
    type_ = ctx.field("type") or "licence"
    skus = [s.strip() for s in (ctx.field("skus") or "").split(",") if s.strip()] or None
    try:
        record = Licence(kind=ctx.field("kind", required=True), number=ctx.field("number", required=True),
                         holder=ctx.field("holder"), valid_from=ctx.field("valid_from"),
                         valid_until=ctx.field("valid_until"), skus=skus)
    except ValidationError as exc:
        raise _invalid(exc, type_) from None
    with ctx.store.write():
        record_id = registry.add_record(ctx.store, account, type_, record, ctx.user.name)
        _audit(ctx, f"{type_}.add", account, str(record_id), record.model_dump(mode="json"))
    return Redirect("/licences", flash=f"Recorded {type_} {record.kind} {record.number} for {account}. "
                                       "It applies at the next screening (the daemon's next run, or `fba-jp screen`).")


def licence_remove(ctx: Ctx):
    record_id = int(ctx.path_params["record_id"])
    row = registry.get_record(ctx.store, record_id)
    if row is None or not ctx.user.sees(row["account"]):
        raise Problem(404, f"No licence or filing #{record_id} here.")
    with ctx.store.write():
        registry.remove_record(ctx.store, record_id, ctx.user.name)
        _audit(ctx, f"{row['type']}.remove", row["account"], str(record_id), {"kind": row["kind"], "number": row["number"]})
    return Redirect("/licences", flash=f"Removed {row['type']} {row['kind']} {row['number']} of {row['account']}.")


# --------------------------------------------------------------------------- exchange rates


def rates(ctx: Ctx) -> Page:
    return Page("rates.html", {"rates": queries.rates(ctx.store)},
                {"can_edit": ctx.user.operator and ctx.user.unscoped})


def _import_csv(ctx: Ctx, filename: str, content: bytes) -> dict:
    name = re.sub(r"[^A-Za-z0-9._-]", "_", Path(filename).name)[:80] or "rates.csv"
    with tempfile.TemporaryDirectory(prefix="fba-jp-rates-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(content)
        with ctx.store.write():
            summary = import_rates_csv(ctx.store, path)
            summary["file"] = name
            _audit(ctx, "rates.import", None, name, summary)
    return summary


def rate_set(ctx: Ctx):
    _unscoped_operator(ctx, "The exchange-rate table")
    row = [ctx.field("week_start", required=True), (ctx.field("currency", required=True) or "").upper(),
           ctx.field("rate", required=True)]
    if any("," in v or "\n" in v for v in row):
        raise Problem(400, "week_start, currency, rate: one value each, without commas")
    summary = _import_csv(ctx, "dashboard.csv", ("week_start,currency,rate\n" + ",".join(row) + "\n").encode())
    return Redirect("/rates", flash=f"Stored {row[1]} {row[2]} for the week of {row[0]}"
                                    + (" (replaced an earlier rate)." if summary["changed"] else "."))


def rate_import(ctx: Ctx):
    _unscoped_operator(ctx, "The exchange-rate table")
    upload = ctx.form.get("file")
    if not isinstance(upload, tuple) or not upload[1]:
        raise Problem(400, "file: choose a CSV file with the columns week_start,currency,rate")
    summary = _import_csv(ctx, *upload)
    return Redirect("/rates", flash=f"Imported {summary['imported']} rate(s) ({', '.join(summary['currencies'])})"
                                    f" from {summary['file']}; {len(summary['changed'])} replaced an earlier rate.")


# --------------------------------------------------------------------------- audit, login, health


def audit(ctx: Ctx) -> Page:
    return Page("audit.html", {"audit": queries.audit(ctx.store, ctx.user)})


def login_form(ctx: Ctx) -> Page:
    if not ctx.server.auth.enabled:
        return Redirect("/shipments")
    return Page("login.html", {"next": _safe_next(ctx.query.get("next"))})


def login(ctx: Ctx):
    name, password = ctx.field("name") or "", ctx.form.get("password") or ""
    target = _safe_next(ctx.field("next"))
    if not ctx.server.auth.authenticate(name, password):
        return Page("login.html", {"next": target, "error": "Wrong name or password."}, status=401)
    import secrets

    ctx.session.user, ctx.session.csrf = name, secrets.token_urlsafe(24)  # a new token for the new session
    ctx.session_changed = True
    return Redirect(target)


def logout(ctx: Ctx):
    ctx.session.user = None
    ctx.session_changed = True
    return Redirect("/login" if ctx.server.auth.enabled else "/shipments")


def _safe_next(target: str | None) -> str:
    # only a path on this site: never "//evil.example" or "https://…"
    return target if target and target.startswith("/") and not target.startswith(("//", "/\\")) else "/shipments"


def health(ctx: Ctx) -> Response:
    import os

    state = "ok" if ctx.server.db_path == ":memory:" or os.path.exists(ctx.server.db_path) else "missing"
    return Response(json.dumps({"status": "ok", "database": state}), media_type="application/json")


# (path, methods, page, options) — the JSON twin of each GET page is PATH.json or Accept: application/json.
# Shipment ids are :path: a seller's own id may hold a '/' (its links quote it, the server decodes it).
ROUTES = [
    ("/", ["GET"], home, {}),
    ("/health", ["GET"], health, {"public": True}),
    ("/login", ["GET"], login_form, {"public": True}),
    ("/login", ["POST"], login, {"public": True}),
    ("/logout", ["POST"], logout, {"public": True}),
    ("/shipments", ["GET"], shipments, {}),
    ("/shipments.json", ["GET"], shipments, {}),
    ("/shipments/{shipment_id:path}/result.json", ["GET"], shipment_result, {}),
    ("/shipments/{shipment_id:path}/documents/{kind}.{fmt}", ["GET"], shipment_document, {}),
    ("/shipments/{shipment_id:path}/release", ["POST"], release, {"write": True}),
    ("/shipments/{shipment_id:path}/rescreen", ["POST"], rescreen, {"write": True}),
    ("/shipments/{shipment_id:path}", ["GET"], shipment, {}),
    ("/status", ["GET"], status, {}),
    ("/status.json", ["GET"], status, {}),
    ("/acps", ["GET"], acps, {}),
    ("/acps.json", ["GET"], acps, {}),
    ("/acps", ["POST"], acp_add, {"write": True}),
    ("/acps/{acp_id}/status", ["POST"], acp_status, {"write": True}),
    ("/acps/{acp_id}/remove-seller", ["POST"], acp_remove_seller, {"write": True}),
    ("/licences", ["GET"], licences, {}),
    ("/licences.json", ["GET"], licences, {}),
    ("/licences", ["POST"], licence_add, {"write": True}),
    ("/licences/{record_id:int}/remove", ["POST"], licence_remove, {"write": True}),
    ("/rates", ["GET"], rates, {}),
    ("/rates.json", ["GET"], rates, {}),
    ("/rates", ["POST"], rate_set, {"write": True}),
    ("/rates/import", ["POST"], rate_import, {"write": True}),
    ("/audit", ["GET"], audit, {}),
    ("/audit.json", ["GET"], audit, {}),
]
