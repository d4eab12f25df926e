"""ISO 4217 currency codes: what a price, cost or freight invoice may be written in.

The active codes of ISO 4217 list one (SIX, as amended to 2025: XCG replaced ANG, ZWG replaced ZWL,
SLE replaced SLL, VED added), without funds, precious metals, SDRs and test codes, which are never
what goods or freight are invoiced in.
"""

ISO_4217 = frozenset("""
AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF
CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD
HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD
LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK
PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS
TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
""".split())


def currency_problem(code: str) -> str | None:
    """Why ``code`` is not a currency to value goods in (``None`` when it is one)."""
    if code in ISO_4217:
        return None
    if len(code) == 3 and code.isalpha() and code.upper() in ISO_4217:
        return f"must be written in capitals: {code.upper()}"
    return "must be an ISO 4217 currency code such as USD, EUR or JPY"
