"""Screening: run every check on a declaration, isolated, and turn the findings into a verdict.

The runner, not pluggy, executes checks: pluggy stops a hook call at the first exception, and a gate
must not let one broken check hide the others. A check that raises or returns garbage gives a
``PLUGIN_ERROR`` block finding for that shipment only (fail closed).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TypeVar

from .config import AccountConfig, Config
from .errors import StopRequested
from .models import (
    COULD_NOT_SCREEN,
    Acp,
    Declaration,
    Filing,
    Finding,
    Licence,
    ScreeningError,
    ShipmentResult,
    Valuation,
    today_jst,
)
from .names import normalise_name, same_legal_form
from .plugin_manager import Check, Plugins
from .redact import redact
from .store import Store

log = logging.getLogger("fba_jp.runner")
# screenings a bulk path (fba-jp screen, run, the daemon) records in one transaction: the commit, not the
# rows, was most of what storing a screening cost; a crash loses at most this many, each whole, screened again
SCREEN_BATCH = 50
M = TypeVar("M")  # a plugin's settings or item model

@dataclass
class ScreeningContext:
    """What a check may consult besides the declaration. Passed as ``context`` to checks and hooks."""

    config: Config = field(default_factory=Config)
    store: Store | None = None
    account: AccountConfig | None = None
    hook: object | None = None  # the plugin manager's hook relay, for hooks like reduced_tax_rate
    today: date = field(default_factory=today_jst)
    # scratch space for this one screening: a plugin that needs the same result in a check and a hook
    # computes it once (key it by your plugin's name)
    cache: dict = field(default_factory=dict)
    # set when the daemon is asked to stop; wait with sleep() so a stop wakes you
    stop: threading.Event = field(default_factory=threading.Event)
    # the shipment's valuation, computed once by valuate_shipment before any check runs (None when no
    # item could be valued, or the valuation plugin failed)
    valuation: Valuation | None = None
    # plugins' validated [plugins.NAME] settings and items[].extensions.NAME data (register_models)
    settings: dict = field(default_factory=dict)
    extensions: dict = field(default_factory=dict)

    def plugin_config(self, model: type[M]) -> M:
        """Your plugin's ``[plugins.NAME]`` settings, as the instance of the config model it registered."""
        try:
            return self.settings[model]
        except KeyError:
            raise LookupError(f"{model.__name__} is not a registered config model: "
                              f"register it in register_models(register) with register(config={model.__name__})") from None

    def item_extension(self, item, model: type[M]) -> M | None:
        """``item.extensions.NAME`` as the instance of the item model your plugin registered (``None`` if absent)."""
        return self.extensions.get((item.msku, model))

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``, or raise :class:`~fba_jp.errors.StopRequested` as soon as the daemon is asked to stop."""
        if self.stop.wait(seconds):
            raise StopRequested

    def lookup_acp(self, acp_id: str) -> Acp | None:
        """The ACP registry record ``acp_id`` (``None`` if unknown or there is no database)."""
        return self.store.get_acp(acp_id) if self.store is not None else None

    def exchange_rate(self, currency: str, week_start: date) -> Decimal | None:
        """The stored customs rate for ``currency`` in the week starting on Sunday ``week_start``."""
        return self.store.exchange_rate(currency, week_start) if self.store is not None else None

    def licences(self, shipment: Declaration) -> list[Licence]:
        """Licences of the declaration, the account's profile and the account's registry (``fba-jp serve``)."""
        return list(shipment.licences) + self._account_records("licence")

    def filings(self, shipment: Declaration) -> list[Filing]:
        return list(shipment.filings) + self._account_records("filing")

    def _account_records(self, type_: str) -> list:
        if self.account is None:
            return []
        key = ("fba_jp.registry", type_)
        if key not in self.cache:
            from .licences import records_for

            recorded = records_for(self.store, self.account.name, type_) if self.store is not None else []
            self.cache[key] = list(getattr(self.account, f"{type_}s")) + recorded
        return self.cache[key]


def input_sha256(declaration: Declaration | str) -> str:
    """Hash of the canonical JSON of the validated declaration (or of that JSON): what a waiver is tied to,
    and the key the declaration is stored under."""
    canonical = declaration if isinstance(declaration, str) else declaration.canonical_json()
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def account_for(config: Config, declaration: Declaration, name: str | None = None) -> AccountConfig | None:
    """The account named ``name``, else the one whose seller name matches the declaration's seller (legal
    form included where both give one: a sister company must not get this seller's ACP and licences)."""
    if name:
        return config.account(name)
    if not config.accounts:  # a declaration file screened without a config: nothing to match
        return None
    seller = declaration.seller.name
    wanted = normalise_name(seller)
    for account in config.accounts:
        if normalise_name(account.seller.name) == wanted and same_legal_form(account.seller.name, seller):
            return account
    return None


def verdict_of(findings: list[Finding], errors: list[ScreeningError]) -> str:
    if errors or any(f.severity == "block" and not f.waived for f in findings):
        return "blocked"
    if any(f.severity == "warn" and not f.waived for f in findings):
        return "annotated"
    return "cleared"


CHANGED_ITS_INPUT = ("changed the declaration or valuation it was handed (a plugin must not modify its input: the "
                     "checks after it would screen something other than what was declared)")
NOT_AGAIN = (f"{CHANGED_ITS_INPUT}; screened again with each plugin handed a copy of its own, none did it again")


def _changed(declaration: Declaration, canonical: str, valuation: Valuation | None, valued) -> bool:
    """Whether a plugin changed what it was handed: the declaration (``canonical`` is its JSON as given), or the
    valuation the checks read (``valued``: the object they were handed and its JSON then, or ``None``)."""
    if declaration.canonical_json() != canonical:
        return True
    if valued is None:
        return False
    handed, json_then = valued
    return valuation is not handed or (handed is not None and handed.model_dump_json() != json_then)


def _plugin_error(plugin: str, check: str | None, exc: BaseException | str) -> tuple[Finding, ScreeningError]:
    # a plugin's message may quote its token, a URL or repr(context.config): it reaches the report and database
    message = redact(exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}")
    where = f"check {check!r} of plugin {plugin!r}" if check else f"plugin {plugin!r}" if plugin else "a plugin"
    if isinstance(exc, BaseException):  # the remedy promises it with --debug
        log.debug("%s raised", where, exc_info=exc)
    finding = Finding(
        code="PLUGIN_ERROR",
        severity="block",
        plugin=plugin,
        message=f"{where} failed, so this shipment could not be fully screened: {message}",
        remedy="Fix or update the plugin (run with --debug for the traceback), then screen again; "
        "the shipment stays blocked until every check has run.",
        reference="fba-jp: fail closed",
    )
    return finding, ScreeningError(plugin=plugin, check=check, message=message)


def run_check(check: Check, shipment: Declaration, context: ScreeningContext) -> list[Finding]:
    """Run one check; raise whatever it raises, or ``TypeError`` if it returns something other than findings
    with the codes it declared (an undeclared code would have no docs, no SARIF rule, and could be a typo)."""
    out = check.function(shipment, context) if check.takes_context else check.function(shipment)
    findings = [] if out is None else list(out)
    for finding in findings:
        if not isinstance(finding, Finding):
            raise TypeError(f"returned {type(finding).__name__} {finding!r:.80}, expected fba_jp.Finding")
        _not_waived(finding)
        if finding.code not in check.codes:
            declared = ", ".join(check.codes) or "none"
            raise TypeError(f"returned code {finding.code!r}, which it did not declare in register(codes=...) (declared: {declared})")
    return _from_plugin(findings, check.plugin)


def _not_waived(finding: Finding) -> None:
    # only a recorded waiver (fba-jp release, audited) waives: a block a plugin hands back already
    # "waived" would clear its shipment with nothing in the audit trail
    if finding.waived or finding.waiver is not None:
        raise TypeError(f"returned {finding.code} marked as waived; only a waiver (fba-jp release) waives a finding")


def _is_stop(exc: BaseException, context: ScreeningContext) -> bool:
    """Whether ``exc`` ends the screening rather than being the plugin's fault: Ctrl-C, or the daemon's
    stop reaching a check through ``context.sleep``. Anything else a check raises (any BaseException: a
    generator's GeneratorExit, a library's own BaseException subclass) is a ``PLUGIN_ERROR``: it must not
    end a gate with no verdict, or a bulk screening with the shipments after it left at their old verdicts."""
    return isinstance(exc, KeyboardInterrupt) or (isinstance(exc, StopRequested) and context.stop.is_set())


def _from_plugin(findings: list[Finding], plugin: str) -> list[Finding]:
    """Fill in ``plugin`` where the plugin left it empty.

    In place rather than through ``model_copy``, which costs as much as making the finding: a finding
    is a value its plugin made for this screening, and the only change is naming that same plugin.
    """
    for finding in findings:
        if not finding.plugin:
            finding.plugin = plugin
    return findings


class Screener:
    """Screens declarations with a set of plugins, applies policy and waivers, and stores the result."""

    def __init__(self, plugins: Plugins, config: Config | None = None, store: Store | None = None,
                 stop: threading.Event | None = None):
        self.plugins = plugins
        self.stop = stop  # the daemon's stop event: a check's context.sleep wakes on it
        self.config = config or Config()
        self.store = store
        self.plugin_names = plugins.names()
        # whether to look for a plugin changing the declaration it is handed: only code from outside fba-jp can
        # (the built-ins never do; tests/test_fail_closed.py holds them to it), so the check costs them nothing
        self.watch_input = bool(set(self.plugin_names) - plugins.builtins)
        # validated once per screener: a bad [plugins.NAME] table fails before any shipment is screened
        self.settings = plugins.settings(self.config)

    def context(self, declaration: Declaration, account: str | None = None) -> ScreeningContext:
        return ScreeningContext(
            config=self.config,
            store=self.store,
            account=account_for(self.config, declaration, account),
            hook=self.plugins.hook,
            settings=self.settings,
            stop=self.stop or threading.Event(),
        )

    def screen(self, declaration: Declaration, source: str, account: str | None = None) -> ShipmentResult:
        """Screen one declaration and (if there is a store) record it. Never raises for a plugin's fault;
        raises :class:`~fba_jp.errors.InputError` for extension data no plugin declares or accepts."""
        result, canonical = self.evaluate(declaration, source, account)
        if self.store is not None:
            result = self.store.record_screening(result, declaration, self.plugin_names, canonical=canonical)
        return result

    def evaluate(self, declaration: Declaration, source: str, account: str | None = None,
                 canonical: str | None = None) -> tuple[ShipmentResult, str]:
        """The screening of one declaration, not recorded yet, and the canonical JSON its hash is of
        (``canonical``, if the caller has it already: ``declaration.canonical_json()`` of the same declaration)."""
        # the input as given, before any plugin sees it: what is hashed and stored is what was declared, even if a
        # plugin changes the declaration it is handed
        if canonical is None:
            canonical = declaration.canonical_json()
        extensions = self.plugins.item_extensions(declaration, source)
        context, findings, errors, valued = self._run(declaration, account, extensions)
        if self.watch_input and _changed(declaration, canonical, context.valuation, valued):
            # a plugin changed the declaration (or the valuation) in place, so the checks after it screened something
            # other than what was declared: put the declaration back as given, and screen again with each plugin
            # handed a copy of its own, to name it
            declaration.__setstate__(Declaration.model_validate_json(canonical).__getstate__())
            context, findings, errors, _ = self._run(declaration, account, extensions, given=canonical)
        valuation = context.valuation
        sha = input_sha256(canonical)
        findings = self._apply_policy(findings)
        if self.store is not None:
            findings = self._apply_waivers(declaration.shipment_id, sha, findings, context.today)
        result = ShipmentResult(
            shipment_id=declaration.shipment_id,
            inbound_plan_id=declaration.inbound_plan_id,
            source=source,
            account=context.account.name if context.account else account,
            verdict=verdict_of(findings, errors),
            input_sha256=sha,
            findings=findings,
            errors=errors,
            valuation=valuation,
            rule_overrides=list(context.cache.get("rule_overrides", {}).values()),  # config tables that applied
        )
        return result, canonical

    def _run(self, declaration: Declaration, account: str | None, extensions: dict, given: str | None = None):
        """Both phases: the valuation once, then the checks, which read it as ``context.valuation``.

        Returns the context, findings, errors, and (when ``watch_input``) the valuation with its JSON as the
        checks were handed it. With ``given`` (the declaration's canonical JSON) each plugin is handed copies
        of its own, and one that changes them gets a ``PLUGIN_ERROR``: the slow path, taken only after a
        change was seen.
        """
        context = self.context(declaration, account)
        context.extensions = extensions
        findings: list[Finding] = []
        errors: list[ScreeningError] = []
        changed: list[tuple[str, str | None]] = []

        def handed() -> Declaration:
            return declaration if given is None else Declaration.model_validate_json(given)

        def after(own: Declaration, plugin: str, name: str, valued=None) -> None:
            if given is not None and _changed(own, given, context.valuation, valued):
                changed.extend(self._suspects(plugin, name))

        context.valuation = valuation = self._valuate(handed, after, context, findings, errors)
        watching = self.watch_input or given is not None
        valued = (valuation, valuation.model_dump_json() if valuation else None) if watching else None
        for check in self.plugins.checks:
            own = handed()
            if given is not None:  # and a valuation of its own
                context.valuation = copy = Valuation.model_validate_json(valued[1]) if valuation else None
                valued_copy = (copy, copy.model_dump_json() if copy else None)
            try:
                findings.extend(run_check(check, own, context))
            # isolation is the point; SystemExit too, or a check's sys.exit(0) would end the gate with 0
            except BaseException as exc:  # noqa: BLE001
                if _is_stop(exc, context):
                    raise
                finding, error = _plugin_error(check.plugin, check.name, exc)
                findings.append(finding)
                errors.append(error)
            if given is not None:
                after(own, check.plugin, check.name, valued_copy)
        if given is not None:
            context.valuation = valuation
            # a change that did not happen again still misled the first run's checks: that blocks too
            for plugin, name in changed or [("", None)]:
                finding, error = _plugin_error(plugin, name, CHANGED_ITS_INPUT if plugin else NOT_AGAIN)
                findings.append(finding)
                errors.append(error)
        return context, findings, errors, valued

    def _suspects(self, plugin: str, name: str) -> list[tuple[str, str]]:
        """Who changed the copy handed to ``plugin``'s ``name``: a built-in valuation does not, so it is
        the outside plugins whose ``reduced_tax_rate`` it asked, if there are any."""
        if name == "valuate_shipment" and plugin in self.plugins.builtins:
            asked = [impl.plugin_name for impl in self.plugins.hook.reduced_tax_rate.get_hookimpls()
                     if impl.plugin_name not in self.plugins.builtins]
            if asked:
                return [(other, "reduced_tax_rate") for other in asked]
        return [(plugin, name)]

    def _valuate(self, handed, after, context, findings, errors) -> Valuation | None:
        # firstresult semantics, but each implementation isolated like a check
        for impl in reversed(self.plugins.hook.valuate_shipment.get_hookimpls()):
            declaration = handed()
            try:
                valuation = impl.function(
                    **{arg: {"shipment": declaration, "context": context}[arg] for arg in impl.argnames}
                )
                after(declaration, impl.plugin_name, "valuate_shipment")
                if valuation is None:
                    continue
                if not isinstance(valuation, Valuation):
                    raise TypeError(f"returned {type(valuation).__name__}, expected fba_jp.Valuation")
                for finding in valuation.findings:
                    _not_waived(finding)
            except BaseException as exc:  # noqa: BLE001 - as for checks
                if _is_stop(exc, context):
                    raise
                after(declaration, impl.plugin_name, "valuate_shipment")
                finding, error = _plugin_error(impl.plugin_name, "valuate_shipment", exc)
                findings.append(finding)
                errors.append(error)
                return None
            findings.extend(_from_plugin(valuation.findings, impl.plugin_name))
            return valuation
        return None

    def _apply_policy(self, findings: list[Finding]) -> list[Finding]:
        overrides = self.config.policy.severity
        if not overrides:
            return findings
        # config validation refuses overrides of COULD_NOT_SCREEN codes; this keeps a Config built in code honest too
        return [
            f.model_copy(update={"severity": overrides[f.code]})
            if f.code in overrides and f.code not in COULD_NOT_SCREEN
            else f
            for f in findings
        ]

    def _apply_waivers(self, shipment_id: str, sha: str, findings: list[Finding], today: date) -> list[Finding]:
        # a waiver changes only a blocking finding that can be waived: without one, the look-up (two
        # queries) cannot change anything, and most screenings have none
        if not any(map(waivable, findings)):
            return findings
        return apply_waivers(findings, self.store.active_waivers(shipment_id, sha, today))


def same_outcome(stored: ShipmentResult, fresh: ShipmentResult) -> bool:
    """Whether screening the same input now says exactly what the stored screening said."""
    moment = {"screening_id", "screened_at"}
    return stored.model_dump(mode="json", exclude=moment) == fresh.model_dump(mode="json", exclude=moment)


def waivable(finding: Finding) -> bool:
    """Whether a waiver can mark ``finding``: a block, and not a could-not-screen code
    (:data:`~fba_jp.models.COULD_NOT_SCREEN`), which is never waived: there is no screening to vouch for."""
    return finding.severity == "block" and finding.code not in COULD_NOT_SCREEN


def apply_waivers(findings: list[Finding], waivers: dict[str, dict]) -> list[Finding]:
    """Mark the blocking findings whose code has an active waiver as waived.

    A could-not-screen code (:data:`~fba_jp.models.COULD_NOT_SCREEN`) is never waived, even by a waiver
    row that an older fba-jp accepted: there is no screening to vouch for.
    """
    if not waivers:
        return findings
    return [
        f.model_copy(update={"waived": True, "waiver": waivers[f.code]})
        if f.code in waivers and waivable(f)
        else f
        for f in findings
    ]
