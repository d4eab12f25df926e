"""Customs valuation and the duty and consumption-tax estimate (DOMAIN §2–4), as a built-in plugin.

The arithmetic lives in :mod:`fba_jp.valuation`; this plugin supplies what it needs from the screening:
the customs exchange rate (the declaration's ``fx_rates``, else the stored rate for the week of the
declaration date), each item's consumption-tax rate (asked of the ``reduced_tax_rate`` hook, so the food
plugin decides), and ``[valuation]`` config.

Its findings come from a check, which runs after ``valuate_shipment`` (the runner values each shipment
first and gives the result to checks as ``context.valuation``): all of them when the valuation is this
plugin's; when another plugin replaced ``valuate_shipment``, or no item could be valued at all (the hook
then returns ``None``: ``valuation: null`` in the result), only ``VAL_NO_BASIS`` and
``VAL_NO_EXCHANGE_RATE`` (block) and ``VAL_FREIGHT_UNKNOWN`` (warn: a shipment that cannot be valued yet
still says which costs are unknown). The check and the hook share one computation through
``context.cache``.
"""

from fba_jp import hookimpl
from fba_jp.codes import CODES as CATALOGUE
from fba_jp.rates import week_start
from fba_jp.regimes import OUT, load_regime, overridden_match, record_override
from fba_jp.valuation import excluded_goods, food_by_hs, is_liquor, valuate

BASIS_CODES = frozenset({"VAL_NO_BASIS", "VAL_NO_EXCHANGE_RATE", "VAL_FREIGHT_UNKNOWN"})
# every code fba_jp.valuation and fba_jp.costs emit: the VAL_ codes of the catalogue, so a new one is added in
# one place, fba_jp/codes.py (a code the check did not declare would be a PLUGIN_ERROR)
CODES = [code for code in CATALOGUE if code.startswith("VAL_")]


@hookimpl(trylast=True)  # its findings come after the other checks', like the worksheet after the verdict
def register_checks(register):
    register(check_valuation, name="valuation", codes=CODES)


def check_valuation(shipment, context):
    """The valuation's findings, blocks first: items that cannot be valued, amounts without a customs rate."""
    outcome = valuation_outcome(shipment, context)
    ours = outcome.valuation is not None and context.valuation is outcome.valuation
    findings = [f for f in outcome.findings if ours or f.code in BASIS_CODES]
    return sorted(findings, key=lambda f: f.severity != "block")


@hookimpl
def valuate_shipment(shipment, context):
    valuation = valuation_outcome(shipment, context).valuation
    if valuation is not None:
        valuation.findings = []  # check_valuation reports them, with their declared codes
    return valuation


@hookimpl(trylast=True)
def reduced_tax_rate(item, shipment):
    """Default until a regime plugin knows better: food and drink by HS chapter, not alcohol."""
    return food_by_hs(item)


def valuation_outcome(shipment, context):
    """Run :func:`fba_jp.valuation.valuate` with this screening's rate, tax rates and config.

    Computed once per screening: the check and the hook both need it.
    """
    if "valuation" not in context.cache:
        outcome = context.cache["valuation"] = _valuate(shipment, context)
        for entry in (outcome.valuation.model_extra.get("rule_overrides", []) if outcome.valuation else []):
            for sku in entry["skus"]:
                record_override(context, "duty_rates", entry["heading"], "rate", sku, rate=entry["rate"])
    return context.cache["valuation"]


def _valuate(shipment, context):
    config = context.config.valuation
    rate, source = customs_rate(shipment, context)
    return valuate(
        shipment,
        exchange_rate=rate,
        rate_source=source,
        reduced=reduced_rates(shipment, context),
        window_days=config.identical_goods_window_days,
        prefer_computed=config.prefer_computed,
        excluded=excluded_goods(config.small_value_excluded_hs),
        cost_rates=cost_rates(shipment, context),
        duty_overrides=context.config.rules.duty_rates,
    )


def customs_rate(shipment, context):
    """The customs rate for the declaration's week and where it came from; ``(None, ...)`` if there is none."""
    currency = shipment.currency
    if currency == "JPY":
        return None, "not needed: the shipment is in yen"
    if currency in shipment.fx_rates:
        return shipment.fx_rates[currency], "declaration fx_rates (overrides the stored customs rate)"
    week = week_start(shipment.declaration_date)
    rate = context.exchange_rate(currency, week)
    if rate is None:
        return None, f"no customs rate for {currency} in the week from {week}"
    return rate, f"stored customs rate for the week from {week} (fba-jp rates import)"


def cost_rates(shipment, context):
    """Customs rates of the other currencies the declaration's costs are in (freight invoiced in USD for
    goods priced in EUR): the declaration's ``fx_rates``, else the stored rate for the week."""
    currencies = {c.currency for c in shipment.costs} - {None, "JPY", shipment.currency}
    if not currencies:  # the usual case: no costs, or all in yen or the shipment's currency
        return {}
    week = week_start(shipment.declaration_date)
    return {c: shipment.fx_rates.get(c) or context.exchange_rate(c, week) for c in sorted(currencies)}


def reduced_rates(shipment, context):
    """Each item's (reduced rate?, who said so): the declaration, else a ``[rules.regimes.food]`` override,
    else the ``reduced_tax_rate`` hook, asked about each item in turn."""
    food = load_regime("food")
    ask = context.hook.reduced_tax_rate if context.hook is not None else None
    rates = {}
    for item in shipment.items:
        if item.reduced_tax_rate is not None:
            rates[item.msku] = item.reduced_tax_rate, "declaration (items[].reduced_tax_rate)"
            continue
        match = overridden_match(food, item, context)
        if match is OUT:
            rates[item.msku] = False, "standard rate: config [rules.regimes.food] takes the item out of the food table"
            continue
        if match is not None:
            rates[item.msku] = match.applies and not is_liquor(item), f"food by {match.evidence}"
            continue
        if ask is None:
            answer, source = food_by_hs(item), "fba-jp default by HS chapter"
        else:
            answer, source = ask(item=item, shipment=shipment), "reduced_tax_rate hook"
        rates[item.msku] = (False, "standard rate: no plugin classed the item as food") if answer is None \
            else (bool(answer), source)
    return rates
