"""The deductive value from Amazon itself: the seller's Amazon.co.jp price and Amazon's fees over SP-API, cached
per day, worked into the customs value step by step; Amazon answers off the model cost only their shipment."""

import json
from decimal import Decimal
from fractions import Fraction

import pytest
from sp_api.auth.access_token_client import cache as token_cache

from fba_jp.agreement import deductive_from_amazon
from fba_jp.app import App
from fba_jp.demo import demo_credentials, write_demo_config
from fba_jp.models import AmazonFigures, ValuationAgreement
from fba_jp.pricing import fees_of, price_of
from fba_jp.rates import import_rates_csv
from fba_jp.sandbox import Faults, Sandbox
from fba_jp.spapi import RetryPolicy
from fba_jp.sync import screen_synced, sync_accounts
from fba_jp.testing import declaration_data, screen

AGREEMENT = {"method": "deductive", "reference": "TKC-2026-0311", "agreed_on": "2026-08-20",
             "profit_and_expenses_percent": "10", "domestic_costs_percent": "5", "domestic_unit_costs_jpy": 10}


def figures(price=1080, fees="300"):
    return AmazonFigures(price_jpy=price, price_as_of="2026-11-20", fees_jpy=Decimal(fees),
                         fees={"ReferralFee": "162", "FBAFees": "138"}, fees_as_of="2026-11-20")


def test_the_deductive_value_of_a_unit_worked_out_as_an_acp_checks_it():
    # food at the reduced rate: ¥1,080 incl. 8 % → ¥1,000 before tax; − fees ¥300 − 10 % ¥100 − (5 % ¥50 + ¥10)
    # = ¥540 before duty; duty 6 %: 540 ÷ 1.06 = ¥509.4339… a unit, exact (¥30.566 of duty deducted)
    unit, steps = deductive_from_amazon(figures(), ValuationAgreement.model_validate(AGREEMENT), Decimal(6), True)
    assert unit == Fraction(540) / Fraction("1.06")
    assert [s["amount"] for s in steps] == ["¥1,080", "−¥80", "¥1,000", "−¥300", "−¥100", "−¥60", "¥540",
                                            "−¥30.566", "¥509.4339"]
    assert steps[1]["label"].startswith("Less the consumption tax in it (8 % reduced rate: × 8/108)")
    assert "ReferralFee ¥162, FBAFees ¥138" in steps[3]["label"]
    # an unknown duty rate deducts no duty: the cautious, higher value
    unit, steps = deductive_from_amazon(figures(), ValuationAgreement.model_validate(AGREEMENT), None, True)
    assert unit == 540 and steps[7]["label"] == "Duty rate unknown: no duty deducted"


def test_a_declaration_with_amazon_figures_is_valued_by_the_agreed_deductive_method():
    item = {"msku": "TEA", "quantity": 100, "hs_code": "0902.10", "origin_country": "CN", "duty_rate": "6",
            "unit_value": "2", "valuation": {"amazon": figures().model_dump(mode="json")}}
    result = screen(declaration_data(items=[item], valuation_agreement=AGREEMENT))
    v = result.valuation
    # ¥509.4339… × 100 = ¥50,943.39, fractions dropped once (not ¥509 × 100 = ¥50,900); no freight
    assert v.methods == {"TEA": "deductive"} and v.customs_value_jpy == 50_943
    assert "VAL_FALLBACK" not in result.codes
    assert "from Amazon: the seller's Amazon.co.jp price ¥1,080 (since 2026-11-20)" in v.model_extra["items"][0]["reason"]
    assert v.model_extra["agreement"]["deductive_from_amazon"]["TEA"]["unit_value_jpy"] == 509


def test_amazon_answers_off_the_model_are_named_by_field_never_by_value():
    secretish = "Atzr|looks-like-a-token"
    offer = {"SellerSKU": "A", "RegularPrice": {"CurrencyCode": "JPY", "Amount": secretish}, "ItemCondition": "New"}
    price, problem, _ = price_of({"status": "Success", "Product": {"Identifiers": {}, "Offers": [offer]}}, "A")
    assert price is None and problem == "Amazon's price entry is off the SP-API model (RegularPrice.Amount is a string, not a number)"
    assert price_of({"status": "Success", "Product": {"Offers": "nope"}}, "A")[1].endswith("(Product.Offers is not a list)")
    assert price_of("garbage", "A")[1] == "Amazon's price entry is off the SP-API model (not an object: a string)"
    total, _, problem = fees_of({"Status": "Success", "FeesEstimate": {"TotalFeesEstimate": {"Amount": secretish}}})
    assert total is None and secretish not in problem and "TotalFeesEstimate.Amount is a string" in problem



@pytest.mark.parametrize("amount", [float("nan"), float("inf")])
def test_a_price_or_fee_that_is_not_a_finite_number_is_off_the_model_not_a_crash(amount):
    # json.loads (and so httpx) accepts NaN and Infinity
    offer = {"SellerSKU": "A", "RegularPrice": {"CurrencyCode": "JPY", "Amount": amount}, "ItemCondition": "New"}
    price, problem, _ = price_of({"status": "Success", "Product": {"Offers": [offer]}}, "A")
    assert price is None and "RegularPrice.Amount is not a finite number" in problem
    total, _, problem = fees_of({"Status": "Success", "FeesEstimate": {"TotalFeesEstimate": {"Amount": amount,
                                                                                            "CurrencyCode": "JPY"}}})
    assert total is None and "TotalFeesEstimate.Amount is not a finite number" in problem


def test_a_fee_breakdown_off_the_model_keeps_the_total_and_drops_the_breakdown():
    estimate = {"TotalFeesEstimate": {"Amount": 510, "CurrencyCode": "JPY"}, "FeeDetailList": 5}
    assert fees_of({"Status": "Success", "FeesEstimate": estimate}) == (Decimal(510), {}, None)

# --------------------------------------------------------------------------- over SP-API, against the sandbox


@pytest.fixture
def hinode(tmp_path, monkeypatch):
    token_cache.clear()
    started = []

    def start(faults=None):
        sandbox = Sandbox(faults=faults, seed=3).start()
        started.append(sandbox)
        for name, value in demo_credentials(sandbox).items():
            monkeypatch.setenv(name, value)
        app = App(str(write_demo_config(tmp_path, sandbox)), str(tmp_path / "fba_jp.db"))
        import_rates_csv(app.store, tmp_path / "demo_rates.csv")
        return sandbox, app

    yield start
    for sandbox in started:
        sandbox.stop()
    token_cache.clear()


FAST = {"retry": RetryPolicy(tries=4, base_delay=0.001, max_delay=0.01), "rate_scale": 50}


def test_prices_and_fees_come_from_amazon_once_a_day_and_value_the_shipments(hinode):
    sandbox, app = hinode()
    [report] = sync_accounts(app, ["hinode"], lookback_days=None, api_options=FAST)
    assert report.outcome == "ok"
    # three SKUs in one getPricing call, the two with a price in one getMyFeesEstimates call
    assert (sandbox.calls["getPricing"], sandbox.calls["getMyFeesEstimates"]) == (1, 1)
    [fee_body] = sandbox.bodies["getMyFeesEstimates"]
    assert [r["IdValue"] for r in fee_body] == ["NOTEBOOK-A5", "PEN-GEL"]
    results = {r.shipment_id: r for r in screen_synced(app, ["hinode"]).results}
    cleared, annotated = results["FBA15HD0001A"], results["FBA15HD0002A"]
    assert cleared.verdict == "cleared" and cleared.valuation.methods == {"NOTEBOOK-A5": "deductive", "PEN-GEL": "deductive"}
    # ¥482.7272… × 500 = ¥241,363 (fractions dropped from the line, not from each unit: ¥241,000) + ¥50 × 1,000
    assert cleared.valuation.customs_value_jpy == 291_363
    [notebook] = [i for i in cleared.valuation.model_extra["items"] if i["sku"] == "NOTEBOOK-A5"]
    assert "= ¥482.7272 × 500 = ¥241,363 (fractions of a yen dropped once)" in notebook["reason"]
    assert annotated.verdict == "annotated"
    # one line (4820.10) of ¥482.7272… × 200 = ¥96,545.45 and MEMO-CUBE's ¥27,000 + ¥5,785.71 freight share:
    # summed exactly, then fractions dropped once: ¥129,331 (dropping them item by item gave ¥129,330)
    assert annotated.valuation.customs_value_jpy == 129_331
    [fallback] = [f for f in annotated.findings if f.code == "VAL_FALLBACK"]
    assert "MEMO-CUBE: no Amazon.co.jp price and fees to deduct from: Amazon.co.jp has no offer of the seller for " \
           "this SKU yet" in fallback.message
    # a resync the same day asks Amazon for no price and no fee, and changes no declaration
    before = dict(sandbox.calls)
    [again] = sync_accounts(app, ["hinode"], lookback_days=None, api_options=FAST)
    assert again.outcome == "ok" and sandbox.calls["getPricing"] == before["getPricing"]
    assert sandbox.calls["getMyFeesEstimates"] == before["getMyFeesEstimates"]
    assert screen_synced(app, ["hinode"]).screened == 0


def test_the_deductive_worksheet_says_a_specific_duty_was_not_deducted():
    """Sugar at ¥41.5 a kg has no ad valorem rate: its step must not say the duty rate is unknown."""
    sugar = {"msku": "SUGAR", "quantity": 100, "hs_code": "1701.99", "origin_country": "TH", "unit_value": "2",
             "specific_duty": {"yen_per_unit": "41.5", "unit": "kg", "units_per_item": "1"},
             "valuation": {"amazon": figures().model_dump(mode="json")}}
    result = screen(declaration_data(items=[sugar], valuation_agreement=AGREEMENT))
    steps = result.valuation.model_extra["agreement"]["deductive_from_amazon"]["SUGAR"]["steps"]
    assert steps[7]["label"] == "No ad valorem duty rate: no duty deducted; its specific duty is not deducted " \
                                "(the higher, cautious value)"
    assert "VAL_DUTY_RATE_UNKNOWN" not in result.codes


def test_a_price_off_the_model_costs_only_the_shipment_that_holds_the_sku(hinode):
    sandbox, app = hinode(Faults(bad_prices={"PEN-GEL"}))
    [report] = sync_accounts(app, ["hinode"], lookback_days=None, api_options=FAST)
    assert report.outcome == "ok"  # the sync carries on
    results = {r.shipment_id: r for r in screen_synced(app, ["hinode"]).results}
    hit = results["FBA15HD0001A"]  # PEN-GEL is only in this shipment
    assert hit.valuation.methods == {"NOTEBOOK-A5": "deductive", "PEN-GEL": "fallback"}
    [fallback] = [f for f in hit.findings if f.code == "VAL_FALLBACK"]
    assert "PEN-GEL: no Amazon.co.jp price and fees to deduct from: Amazon's price entry is off the SP-API model " \
           "(RegularPrice.Amount is a string, not a number)" in fallback.message
    other = results["FBA15HD0002A"]
    assert other.valuation.methods["NOTEBOOK-A5"] == "deductive" and "off the SP-API model" not in json.dumps(
        [f.message for f in other.findings])
    tokens = list(sandbox.refresh_tokens) + list(sandbox.access_tokens)
    stored = json.dumps([r.model_dump(mode="json") for r in results.values()])
    stored += json.dumps(list(app.store.db.query("select * from amazon_prices")))
    assert tokens and not any(token in stored for token in tokens)
