"""The valuation basis agreed with the ACP: applied to every item it fits, VAL_METHOD instead of VAL_FALLBACK,
and a warning that says why wherever the agreed method cannot be applied."""

from fba_jp.testing import declaration_data, screen

COMPUTED = {"method": "computed", "reference": "SCA-2026-0917", "agreed_on": "2026-09-15",
            "acp": "Sakura Customs Advisory K.K.", "profit_and_expenses_percent": "20",
            "evidence": ["Manufacturer's cost statement 2026 (Shenzhen Lotus Textiles)"]}


def item(msku, quantity=300, hs_code="6302.60", **valuation):
    data = {"msku": msku, "quantity": quantity, "hs_code": hs_code, "origin_country": "PK", "duty_rate": "0",
            "unit_value": "6.80"}
    return data | ({"valuation": valuation} if valuation else {})


def test_computed_value_from_the_production_cost_and_the_agreed_profit_and_expenses():
    data = declaration_data(items=[item("TOWEL", production_unit_cost="4.10")], valuation_agreement=COMPUTED)
    result = screen(data)
    v = result.valuation
    # 4.10 + 20 % = 4.92 USD × 300 = 1,476 USD × 150.25 = ¥221,769 (not the $6.80 invoice value)
    assert v.methods == {"TOWEL": "computed"} and v.customs_value_jpy == 221_769
    [sheet] = v.model_extra["items"]
    assert sheet["reason"].startswith("production cost 4.10 USD + profit and general expenses 0.82 USD = 4.92 USD × "
                                      "300 = 1,476.00 USD, plus its share of freight")
    assert "prefer_computed" not in sheet["reason"] and "(tried before the deductive method, as agreed)" in sheet["reason"]
    assert "20% of the production cost, as agreed (SCA-2026-0917)" in sheet["reason"]
    method = result.finding("VAL_METHOD")
    assert "computed method agreed with Sakura Customs Advisory K.K. (SCA-2026-0917, 2026-09-15)" in method.message
    assert "VAL_FALLBACK" not in result.codes and result.verdict == "cleared"
    assert v.model_extra["agreement"]["applied_to"] == ["TOWEL"]
    documents = v.model_extra["documents_to_keep"]
    assert "The valuation agreement SCA-2026-0917 of 2026-09-15 with Sakura Customs Advisory K.K." in documents
    assert "Manufacturer's cost statement 2026 (Shenzhen Lotus Textiles)" in documents


def test_an_item_the_agreement_cannot_value_falls_back_with_a_warning_that_says_why():
    data = declaration_data(items=[item("TOWEL", production_unit_cost="4.10"), item("NEW-MAT", hs_code="9506.91")],
                            valuation_agreement=COMPUTED)
    result = screen(data)
    assert result.valuation.methods == {"TOWEL": "computed", "NEW-MAT": "fallback"}
    [warning] = [f for f in result.findings if f.code == "VAL_FALLBACK"]
    assert warning.message.startswith("The computed method agreed with Sakura Customs Advisory K.K. (SCA-2026-0917, "
                                      "2026-09-15) cannot be applied to 1 item")
    assert "NEW-MAT: no production cost (valuation.production_unit_cost)" in warning.message
    assert "TOWEL" not in warning.message and result.verdict == "annotated"


def test_an_item_valued_by_another_method_than_the_agreed_one_is_named():
    deductive = {"domestic_unit_price_jpy": 2980, "domestic_unit_deductions_jpy": 1400}
    data = declaration_data(items=[item("TOWEL", production_unit_cost="4.10"), item("SOAP", 10, "3401.11", **deductive)],
                            valuation_agreement=COMPUTED)
    result = screen(data)
    assert result.valuation.methods == {"TOWEL": "computed", "SOAP": "deductive"}
    warning = result.finding("VAL_AGREEMENT_NOT_APPLIED")
    assert warning.severity == "warn" and "SOAP (valued by the deductive method): no production cost" in warning.message
    assert "VAL_FALLBACK" not in result.codes


def test_a_deductive_agreement_is_not_overridden_by_the_prefer_computed_default_in_config():
    deductive = {"method": "deductive", "reference": "TKC-2026-0311", "agreed_on": "2026-08-20",
                 "profit_and_expenses_percent": "12"}
    soap = item("SOAP", 10, "3401.11", domestic_unit_price_jpy=2980, domestic_unit_deductions_jpy=1400,
                production_unit_cost="1", production_unit_profit_and_expenses="0.2")
    result = screen(declaration_data(items=[soap], valuation_agreement=deductive),
                    config={"valuation": {"prefer_computed": True}})
    assert result.valuation.methods == {"SOAP": "deductive"}
    assert "deductive method agreed (TKC-2026-0311, 2026-08-20)" in result.finding("VAL_METHOD").message


def test_an_agreed_fallback_is_the_method_not_a_warning():
    agreement = {"method": "fallback", "reference": "SCA-2026-1002", "agreed_on": "2026-10-02",
                 "basis": "purchase price from the manufacturer plus freight to Narita"}
    result = screen(declaration_data(valuation_agreement=agreement))
    assert result.valuation.methods == {"TENT-2P": "fallback"} and "VAL_FALLBACK" not in result.codes
    method = result.finding("VAL_METHOD")
    assert method.message.endswith("The fallback method agreed (SCA-2026-1002, 2026-10-02) on the agreed basis: "
                                   "purchase price from the manufacturer plus freight to Narita.")
    # without the agreement the same shipment is a warning
    assert "VAL_FALLBACK" in screen(declaration_data()).codes
