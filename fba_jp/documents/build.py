"""What the shipping documents say, drawn from one validated declaration and its stored screening.

:func:`build` returns a :class:`Documents` — plain data the PDF, HTML and CSV renderers all print, so
the three formats cannot disagree with each other or with the screening. It never lets Amazon, a
carrier or a forwarder stand as importer or consignee, whatever the findings and waivers say: the
consignee printed is always the importer of record, and Amazon's fulfilment centre appears only as
the labelled delivery address.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ..models import Acp, Declaration, Item, Licence, ShipmentResult, today_jst
from ..names import load_name_list, same_party
from .labels import METHODS

# Which regulated regime each licence or filing kind answers (CONTRACT §2 kinds; others are shown
# only next to the SKUs they list).
KIND_REGIMES = {
    "cosmetics_mah": ("cosmetics",),
    "cosmetics_manufacturing": ("cosmetics",),
    "pse_importer_notification": ("pse",),
    "domestic_administrator": ("pse", "psc"),
    "giteki": ("radio",),
    "psc": ("psc",),
    "food_import_notification": ("food", "tableware"),
}
KIND_NAMES = {
    "cosmetics_mah": "Cosmetics MAH licence 化粧品製造販売業許可",
    "cosmetics_manufacturing": "Cosmetics manufacturing licence 化粧品製造業許可",
    "pse_importer_notification": "PSE notification 電気用品輸入事業届出",
    "domestic_administrator": "Domestic administrator 国内管理人",
    "giteki": "Giteki 技適",
    "psc": "PSC 特定製品",
    "food_import_notification": "Food import notification 食品等輸入届出",
}
IOR_CODES = {"IOR_MISSING", "IOR_AMAZON", "IOR_CARRIER", "IOR_NOMINAL", "CONSIGNEE_AMAZON"}
RETENTION_RULE = "Customs Act Art. 94"


class DocumentRefused(Exception):
    """Final documents cannot be issued: ``problems`` are ``field: what is missing and the fix`` lines
    (``missing`` is false when the only problem is the screening's verdict)."""

    def __init__(self, problems: list[str], missing: bool):
        self.problems = problems
        self.missing = missing
        super().__init__("; ".join(problems))


@dataclass
class Block:
    """A party or address: a labelled box of lines."""

    name: str
    lines: list[str] = field(default_factory=list)


@dataclass
class Line:
    no: int
    sku: str
    description: str
    hs_code: str
    origin: str
    quantity: int
    unit_value: Decimal | None
    line_value: Decimal | None
    licences: list[str]
    asin: str | None = None


@dataclass
class Box:
    label: str
    contents: list[tuple[str, int]]
    weight: str
    dimensions: str


@dataclass
class Documents:
    """Everything the invoice, packing list and checklist print."""

    declaration: Declaration
    result: ShipmentResult
    draft: bool
    blocking: list[str]
    invoice_no: str
    issued_on: date
    seller: Block
    importer: Block
    acp: Block
    consignee: Block
    delivery: Block
    incoterms: str
    duty_paid_by: str
    rate: str
    lines: list[Line]
    totals: list[tuple[str, str]]
    no_transaction: bool
    methods: list[tuple[str, str, str]]  # (sku, method label, reason)
    evidence: list[str]
    boxes: list[Box]
    boxes_note: str
    travel: list[str]
    keep: list[tuple[str, str]]  # (document, retention)

    @property
    def shipment_id(self) -> str:
        return self.declaration.shipment_id

    @property
    def currency(self) -> str:
        return self.declaration.currency


def amount(value: Decimal | int | None, currency: str) -> str:
    """``1,224.00`` in a currency with cents, ``48,000`` in yen; exact (no rounding), ``—`` when unknown."""
    if value is None:
        return "—"
    value = Decimal(value)
    places = 0 if currency == "JPY" else 2
    exponent = -value.as_tuple().exponent if value.as_tuple().exponent < 0 else 0
    return f"{value:,.{max(places, exponent)}f}"


def yen(value: int | None) -> str:
    return "unknown 不明" if value is None else f"¥{value:,}"


def problems_for_final(declaration: Declaration, acp: Acp | None) -> list[str]:
    """What a broker would send back: every missing party field, as ``field: fix`` lines."""
    problems = []
    ior = declaration.importer_of_record
    if ior is None:
        problems.append("importer_of_record: missing; name the seller (which keeps the right of disposal) as importer")
    else:
        for what, name in (("importer_of_record.name", ior.name),
                           ("consignee.name", declaration.consignee.name if declaration.consignee else None)):
            if name and (entity := _amazon_or_carrier(name)):
                problems.append(f"{what}: {name!r} is {entity}, which is never importer or consignee; name the seller "
                                "and put the fulfilment centre in delivery_address")
        if not (ior.address or "").strip():
            problems.append("importer_of_record.address: missing; the invoice must give the importer's full address")
        if declaration.consignee is not None and not same_party(declaration.consignee.name, ior.name):
            problems.append(f"consignee.name: {declaration.consignee.name!r} is not the importer of record "
                            f"{ior.name!r}; the invoice consignee must be the importer (the FC goes in delivery_address)")
    if not declaration.seller.japan_resident:
        if acp is None:
            problems.append("acp: missing; a seller not resident in Japan imports through an Attorney for Customs "
                            "Procedures (Customs Act Art. 95): add acp = {name, address, ...} or acp_id")
        elif not (acp.address or "").strip():
            problems.append("acp.address: missing; the invoice prints the ACP's address in Japan")
    for index, item in enumerate(declaration.items):
        if not (item.title or "").strip():
            problems.append(f"items[{index}].title: missing for {item.msku}; the invoice needs a plain description")
        if not item.origin_country:
            problems.append(f"items[{index}].origin_country: missing for {item.msku}; the invoice states each origin")
    return problems


def _amazon_or_carrier(name: str) -> str | None:
    for file, what in (("amazon_entities.toml", "Amazon"), ("carriers.toml", "a carrier or forwarder")):
        entity = load_name_list(file).match(name)
        if entity is not None:
            return f"{what} ({entity.name})"
    return None


def build(
    declaration: Declaration,
    result: ShipmentResult,
    *,
    acp: Acp | None,
    licences: list[Licence],
    draft: bool,
    issued_on: date | None = None,
) -> Documents:
    """The documents for a screened declaration. Raises :class:`DocumentRefused` for final documents
    of a blocked shipment or one with missing party data; with ``draft`` those become blocking lines."""
    problems = problems_for_final(declaration, acp)
    codes = [f.code for f in result.findings if f.severity == "block" and not f.waived] + [
        "PLUGIN_ERROR" for _ in result.errors]
    blocking = [
        f"{f.code}: {f.message}"
        for f in result.findings if f.severity == "block" and not f.waived
    ] + [f"PLUGIN_ERROR {e.plugin}: {e.message}" for e in result.errors]
    if not draft and (problems or result.verdict == "blocked"):
        verdict = [f"{result.shipment_id}: blocked by the screening ({', '.join(dict.fromkeys(codes))}); fix the "
                   "findings and screen again"] if result.verdict == "blocked" else []
        raise DocumentRefused(problems + verdict, missing=bool(problems))
    blocking += problems
    ior = declaration.importer_of_record
    valuation = result.valuation
    extra = (valuation.model_extra or {}) if valuation is not None else {}
    overrides = regime_overrides(result)
    lines = [_line(n, item, declaration, licences, overrides) for n, item in enumerate(declaration.items, 1)]
    return Documents(
        declaration=declaration,
        result=result,
        draft=draft,
        blocking=blocking,
        invoice_no=f"{declaration.shipment_id}-{result.screening_id or 0}",
        issued_on=issued_on or today_jst(),
        seller=Block(declaration.seller.name, [_country(declaration.seller.country)]),
        importer=_importer(declaration, result),
        acp=_acp_block(declaration, acp),
        consignee=_consignee(declaration, result),
        delivery=_delivery(declaration),
        incoterms=_incoterms(declaration),
        duty_paid_by=(ior.name if ior and not _bad_party(result) else "the importer of record 輸入者"),
        rate=_rate(declaration, valuation, extra),
        lines=lines,
        totals=_totals(declaration, lines, valuation),
        no_transaction=not declaration.import_transaction,
        methods=[(i.get("sku", ""), METHODS.get(i.get("method"), (i.get("method") or "—",))[0], i.get("reason", ""))
                 for i in extra.get("items", [])],
        evidence=list(extra.get("documents_to_keep", [])),
        boxes=[_box(box) for box in declaration.boxes],
        boxes_note=_boxes_note(declaration),
        travel=_travel(declaration, result, licences, acp, overrides),
        keep=_keep(extra),
    )


def _box(box) -> Box:
    each = " each 1箱あたり" if box.count > 1 else ""
    weight = f"{box.weight.value} {box.weight.unit}{each}" if box.weight else "—"
    dimensions = "—"
    if box.dimensions:
        d = box.dimensions
        dimensions = f"{d.length} × {d.width} × {d.height} {d.unit}"
    label = box.box_id + (f" × {box.count} boxes 箱" if box.count > 1 else "")
    contents = [(c.msku, c.quantity) for c in box.contents] or [("contents not listed 内容未記載", 0)]
    return Box(label, contents, weight, dimensions)


def _boxes_note(declaration: Declaration) -> str:
    boxes = declaration.boxes
    if not boxes:
        return ("Box contents, weights and dimensions are not in this declaration; the lines below are the goods "
                "per SKU. Add Amazon's box data (listShipmentBoxes) before the goods leave.")
    packages = sum(box.count for box in boxes)
    note = f"{packages:,} package(s) 個"
    if all(box.weight for box in boxes):
        kg = sum((box.weight.kg * box.count for box in boxes), Decimal(0))
        note += f" · total gross weight 総重量 {kg.quantize(Decimal('0.01')):,} KG"
    return note


def _bad_party(result: ShipmentResult) -> bool:
    # a waived finding no longer blocks: a final document prints the importer the waiver accepted (Amazon and
    # carriers are refused by name whatever was waived, in problems_for_final and _importer)
    return any(f.code in IOR_CODES and f.severity == "block" and not f.waived for f in result.findings)


def _country(code: str | None) -> str:
    return f"Country 国: {code}" if code else ""


def _party_lines(party) -> list[str]:
    return [line for line in ((party.address or "").strip(), _country(party.country)) if line]


def _importer(declaration: Declaration, result: ShipmentResult) -> Block:
    ior = declaration.importer_of_record
    if ior is None or _bad_party(result) or _amazon_or_carrier(ior.name):
        # a draft must not print the unacceptable party as if it were the importer either
        return Block(f"NOT ACCEPTABLE — must be the seller {declaration.seller.name}",
                     ["(see the blocking findings 出荷停止の理由)"])
    return Block(ior.name, _party_lines(ior) or ["address missing 住所未記入"])


def _consignee(declaration: Declaration, result: ShipmentResult) -> Block:
    importer = _importer(declaration, result)
    return Block(importer.name, importer.lines + ["(the importer of record 輸入者と同一)"])


def _acp_block(declaration: Declaration, acp: Acp | None) -> Block:
    if declaration.seller.japan_resident:
        return Block("Not required: the importer is resident in Japan 不要（本邦居住者）")
    if acp is None:
        return Block("MISSING 未選任", ["A non-resident importer needs an ACP (Customs Act Art. 95)"])
    lines = [(acp.address or "address missing 住所未記入").strip()]
    if acp.customs_office:
        lines.append(f"Notified to 届出先: {acp.customs_office} Customs")
    if acp.accepted_on:
        lines.append(f"Accepted 受理日: {acp.accepted_on.isoformat()}")
    if acp.status != "registered":
        lines.append(f"Status 状態: {acp.status}")
    return Block(acp.name, lines)


def _delivery(declaration: Declaration) -> Block:
    where = declaration.delivery_address
    if where is None:
        return Block("Amazon fulfilment centre (as booked for this FBA shipment) アマゾン物流拠点",
                     [f"FBA shipment {declaration.shipment_id}"])
    lines = [line for line in ((where.address or "").strip(), _country(where.country)) if line]
    if where.fc_code:
        lines.insert(0, f"FC {where.fc_code}")
    return Block(where.name, lines)


def _incoterms(declaration: Declaration) -> str:
    place = "Japan"
    if declaration.delivery_address and declaration.delivery_address.fc_code:
        place = f"Amazon FC {declaration.delivery_address.fc_code}, Japan"
    # the seller importing its own goods pays duty and tax itself; a Japanese buyer as importer pays them
    return f"DAP {place} (buyer pays duty and tax)" if declaration.import_transaction else f"DDP {place}"


def _rate(declaration: Declaration, valuation, extra: dict) -> str:
    if declaration.currency == "JPY":
        return "not needed: invoiced in JPY 円建て"
    if valuation is None or valuation.exchange_rate is None:
        return "no customs rate for the week 換算レートなし"
    week = f"week {valuation.rate_week_start.isoformat()}" if valuation.rate_week_start else ""
    if extra.get("rate_week_end"):
        week += f" – {extra['rate_week_end']}"
    return f"{valuation.exchange_rate} JPY per {declaration.currency} ({week}; Customs Tariff Act Art. 4-7)"


def item_regimes(item: Item, overrides: dict[tuple[str, str], str] | None = None) -> set[str]:
    """Regimes the item belongs to, as its screening decided: declared categories, a ``[rules.regimes]``
    override that applied to it (``overrides``: (regime, msku) → action, see :func:`regime_overrides`),
    else an HS code / keyword match."""
    from ..regimes import REGIMES, load_regime

    found = set(item.categories)
    for name in REGIMES:
        regime = load_regime(name)
        action = (overrides or {}).get((name, item.msku))
        if action is None:
            match = regime.classify(item)
            applies = match is not None and match.applies
        else:  # as regimes.overridden_match: ignore takes it out, block puts it in, warn only with a keyword
            applies = action == "block" or (action == "warn" and bool(regime.hint(item)))
        if applies:
            found.add(name)
    return found


def regime_overrides(result: ShipmentResult) -> dict[tuple[str, str], str]:
    """The ``[rules.regimes]`` overrides the screening applied, by (regime, msku): the document shows what the
    screening decided, whatever the config says now (``result.rule_overrides``, stored with the screening)."""
    return {(entry["table"].removeprefix("regimes/"), sku): entry["action"]
            for entry in result.rule_overrides if str(entry.get("table", "")).startswith("regimes/")
            for sku in entry.get("skus", [])}


def _line(no: int, item: Item, declaration: Declaration, licences: list[Licence],
          overrides: dict[tuple[str, str], str]) -> Line:
    return Line(
        no=no,
        sku=item.msku,
        asin=item.asin,
        description=item.title or item.msku,
        hs_code=item.hs_code or "—",
        origin=item.origin_country or "—",
        quantity=item.quantity,
        unit_value=item.unit_value,
        line_value=None if item.unit_value is None else item.unit_value * item.quantity,
        licences=licences_for(item, declaration, licences, overrides),
    )


def licences_for(item: Item, declaration: Declaration, licences: list[Licence],
                 overrides: dict[tuple[str, str], str] | None = None) -> list[str]:
    """Licence and filing numbers (from ``licences``: all the records the screening consulted) that cover
    this item on the declaration date, for its line; ``overrides`` as :func:`item_regimes` takes them."""
    on = declaration.declaration_date
    regimes = item_regimes(item, overrides) if licences else set()
    shown = []
    for record in licences:  # licences and filings: the declaration's, the profile's and the registry's
        if not record.covers(item.msku, on):
            continue
        listed = record.skus is not None and item.msku in record.skus
        if listed or regimes & set(KIND_REGIMES.get(record.kind, ())):
            holder = f", {record.holder}" if record.holder else ""
            until = f", until {record.valid_until.isoformat()}" if record.valid_until else ""
            shown.append(f"{KIND_NAMES.get(record.kind, record.kind)} {record.number}{holder}{until}")
    if item.cosmetics_notification:
        shown.append(f"Cosmetics notification 化粧品製造販売届 {item.cosmetics_notification}")
    if item.pse and item.pse.certificate:
        shown.append(f"PSE conformity certificate 適合性証明書 {item.pse.certificate}")
    if item.giteki:
        shown.append(f"Giteki 技適 {item.giteki}")
    if item.psc:
        shown.append(f"PSC {item.psc}")
    return list(dict.fromkeys(shown))


def _totals(declaration: Declaration, lines: list[Line], valuation) -> list[tuple[str, str]]:
    currency = declaration.currency
    goods = sum((line.line_value for line in lines if line.line_value is not None), Decimal(0))
    unvalued = [line.sku for line in lines if line.line_value is None]
    rows = [("goods_total", f"{currency} {amount(goods, currency)}"
             + (f" (no invoice value: {', '.join(unvalued)})" if unvalued else ""))]
    cif, cif_known = goods, True
    for key, value in (("freight", declaration.freight), ("insurance", declaration.insurance),
                       ("other_additions", declaration.other_additions)):
        if value or (key != "other_additions" and not declaration.costs):
            rows.append((key, f"{currency} {amount(value, currency)}"))
            cif += value
    extra = (valuation.model_extra or {}) if valuation is not None else {}
    # costs with their basis (rate card, quote, policy) as the valuation used them
    for cost in extra.get("costs") or [_cost_row(c) for c in declaration.costs]:
        key = {"freight": "freight", "insurance": "insurance"}.get(cost.get("kind"), "other_additions")
        figure = ""
        if cost.get("amount") is not None and cost.get("currency"):
            figure = f"{cost['currency']} {amount(Decimal(cost['amount']), cost['currency'])}"
            if cost["currency"] == currency:
                cif += Decimal(cost["amount"])
            else:
                cif_known = False
                if cost.get("yen") is not None:
                    figure += f" = ¥{amount(Decimal(cost['yen']), 'JPY')}"
        elif cost.get("yen") is not None and Decimal(cost["yen"]):
            figure, cif_known = f"¥{amount(Decimal(cost['yen']), 'JPY')}", False
        elif cost.get("missing"):
            figure, cif_known = "unknown 不明", False
        elif cost.get("rate_percent") is not None:  # a premium rate no valuation has turned into yen yet
            figure, cif_known = f"{cost['rate_percent']} % (amount not worked out 未算出)", False
        else:
            figure = "0 (加算なし)"
        rows.append((key, f"{figure} — {cost.get('basis', '')}".strip(" —")))
    rows.append(("cif_total", f"{currency} {amount(cif, currency)}" if cif_known
                 else "see the customs value (costs in another currency or unknown)"))
    if valuation is not None:
        tax = None
        if valuation.national_consumption_tax_jpy is not None and valuation.local_consumption_tax_jpy is not None:
            tax = valuation.national_consumption_tax_jpy + valuation.local_consumption_tax_jpy
        rows += [
            ("customs_value", yen(valuation.customs_value_jpy)),
            ("duty", yen(valuation.duty_jpy)),
            ("consumption_tax", yen(tax)),
            ("total_tax", yen(valuation.total_tax_jpy)),
        ]
    return rows


def _cost_row(cost) -> dict:
    return cost.model_dump(mode="json", exclude_none=True)


def _travel(declaration: Declaration, result: ShipmentResult, licences: list[Licence], acp: Acp | None,
            overrides: dict[tuple[str, str], str]) -> list[str]:
    from ..report import REGULATED_DOCUMENTS

    docs = [
        "This commercial invoice, signed 本インボイス（署名済み）",
        "This packing list 本包装明細書",
        "Bill of lading or air waybill naming the importer as consignee (from the carrier) 船荷証券・航空運送状",
    ]
    if not declaration.seller.japan_resident:
        docs.append("ACP notification accepted by Customs (Form C-7500), copy 税関事務管理人届出書の写し")
    for line in (licences_for(item, declaration, licences, overrides) for item in declaration.items):
        docs.extend(f"Copy 写し: {entry}" for entry in line)
    for f in result.findings:
        if f.code in REGULATED_DOCUMENTS and f.severity == "block" and not f.waived:
            docs.append(f"MISSING 未取得 — {f.sku or 'all items'}: {REGULATED_DOCUMENTS[f.code]} ({f.code})")
    return list(dict.fromkeys(docs))


def _keep(extra: dict) -> list[tuple[str, str]]:
    keeping = extra.get("record_keeping") or {}
    documents = keeping.get("documents_years", 5)
    books = keeping.get("books_years", 7)
    counted = keeping.get("counted_from", "the day after import permission")
    retention = f"{documents} years from {counted} ({RETENTION_RULE}) 輸入許可の翌日から{documents}年"
    listed = list(extra.get("documents_to_keep", []))
    kept = [(doc, retention) for doc in listed]
    if not any(doc.lower().startswith("import permit") for doc in listed):
        kept.append(("Import permit and the import declaration 輸入許可書・輸入申告書", retention))
    kept += [
        ("Books of imports: item, quantity, price, origin, consignor (帳簿)",
         f"{books} years from {counted} ({RETENTION_RULE}) 輸入許可の翌日から{books}年"),
        ("Electronic transaction records (e-mail invoices, online orders) 電子取引の記録", retention),
        ("This document set and its fba-jp audit record (fba-jp documents --verify)", retention),
    ]
    return list(dict.fromkeys(kept))
