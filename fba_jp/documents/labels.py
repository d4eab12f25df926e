"""The bilingual labels of the shipping documents: (English, 日本語), in one place.

The PDF and the HTML both print ``English / 日本語`` from this table, and ``scripts/make_fonts.py``
reads it so the bold font keeps every glyph a label needs.
"""

from __future__ import annotations

LABELS: dict[str, tuple[str, str]] = {
    "invoice": ("Commercial invoice (for customs purposes)", "仕入書（税関申告用インボイス）"),
    "packing_list": ("Packing list", "包装明細書（パッキングリスト）"),
    "checklist": ("Document checklist", "書類チェックリスト"),
    "invoice_no": ("Invoice no.", "インボイス番号"),
    "invoice_date": ("Invoice date", "発行日"),
    "shipment": ("FBA shipment ID", "FBA納品ID"),
    "plan": ("Inbound plan ID", "納品プランID"),
    "seller": ("Seller / exporter", "売主・輸出者"),
    "importer": ("Importer of record", "輸入者"),
    "acp": ("Attorney for customs procedures (ACP)", "税関事務管理人"),
    "consignee": ("Consignee", "荷受人"),
    "delivery": ("Delivery address only — not importer, not consignee", "配送先のみ（輸入者・荷受人ではない）"),
    "incoterms": ("Incoterms 2020", "インコタームズ"),
    "duty_paid_by": ("Duty and tax paid by", "関税・消費税の納付者"),
    "currency": ("Currency", "通貨"),
    "rate": ("Customs exchange rate", "課税価格の換算レート"),
    "export_date": ("Export date", "輸出日"),
    "declaration_date": ("Declaration date", "申告予定日"),
    "line_no": ("No.", "番号"),
    "sku": ("SKU", "SKU"),
    "description": ("Description", "品名"),
    "hs_code": ("HS code", "統計品目番号"),
    "origin": ("Origin", "原産国"),
    "quantity": ("Qty", "数量"),
    "unit_value": ("Unit value", "単価"),
    "line_value": ("Value", "金額"),
    "licences": ("Licences and filings", "許可・届出番号"),
    "valuation_note": ("Valuation note", "課税価格の決定に関する説明"),
    "method": ("Method", "決定方法"),
    "evidence": ("Evidence kept", "保存する根拠資料"),
    "reason": ("Why this method", "適用理由"),
    "totals": ("Totals", "合計"),
    "lines": ("Goods", "明細"),
    "goods_total": ("Goods value", "商品価格"),
    "freight": ("Freight to the Japanese port", "運賃（輸入港まで）"),
    "insurance": ("Insurance to the Japanese port", "保険料（輸入港まで）"),
    "other_additions": ("Other costs to the port", "その他の加算費用"),
    "cif_total": ("Total CIF", "CIF価格合計"),
    "customs_value": ("Customs value", "課税価格"),
    "duty": ("Duty (estimate)", "関税（概算）"),
    "consumption_tax": ("Consumption tax (estimate)", "消費税・地方消費税（概算）"),
    "total_tax": ("Duty and tax (estimate)", "納付税額合計（概算）"),
    "declaration": ("Declaration", "申告"),
    "signature": ("Signature, name and date", "署名・氏名・日付"),
    "box": ("Box", "箱番号"),
    "contents": ("Contents", "内容品"),
    "weight": ("Gross weight", "総重量"),
    "dimensions": ("Dimensions", "寸法"),
    "packages": ("Packages", "個数"),
    "travel": ("Travels with the goods", "貨物とともに提出する書類"),
    "keep": ("Kept by the importer", "輸入者が保存する書類"),
    "retention": ("Retention", "保存期間"),
    "blocking": ("Blocking findings", "出荷停止の理由"),
    "page": ("Page", "頁"),
    "screening": ("Screening", "審査記録"),
    "yes": ("yes", "はい"),
    "no": ("no", "いいえ"),
}

# Customs Tariff Act articles per valuation method (the runner's method names).
METHODS: dict[str, tuple[str, str]] = {
    "transaction_value": ("Transaction value (Customs Tariff Act Art. 4)", "取引価格（関税定率法第4条）"),
    "identical_or_similar_goods": (
        "Identical or similar goods (Art. 4-2)", "同種又は類似の貨物の取引価格（第4条の2）"),
    "deductive": ("Deductive value, from the Japan selling price (Art. 4-3(1))", "国内販売価格に基づく方法（第4条の3第1項）"),
    "computed": ("Computed value, from the cost of production (Art. 4-3(2))", "製造原価に基づく方法（第4条の3第2項）"),
    "fallback": ("Other reasonable means (Art. 4-4)", "その他の方法（第4条の4）"),
}

WATERMARK = "DRAFT — NOT FOR CUSTOMS"
WATERMARK_JA = "下書き — 税関提出不可"
NO_TRANSACTION = (
    "No sale to a buyer in Japan: the seller ships its own goods to its own stock at Amazon's fulfilment "
    "centre, so the values below are not a transaction value (Customs Tariff Act Art. 4(1)); the customs "
    "value is determined per item by the method stated.",
    "本邦の買手への販売（輸入取引）はありません。売主が自己の在庫として発送する貨物であり、記載価格は"
    "取引価格ではありません（関税定率法第4条第1項）。課税価格は品目ごとに下記の方法で決定します。",
)
DECLARATION_TEXT = (
    "We declare that this invoice shows the actual goods shipped, their true values and origin, and that "
    "the importer of record above holds the right of disposal over them.",
    "本インボイスの記載内容（貨物・価格・原産地）が真正であり、上記輸入者が貨物の処分権を有することを申告します。",
)


def label(key: str, sep: str = " / ") -> str:
    """``English / 日本語`` for a label key."""
    en, ja = LABELS[key]
    return en if en == ja else f"{en}{sep}{ja}"


def all_label_text() -> str:
    """Every character a label, method, watermark or fixed sentence prints (for the bold font subset)."""
    parts = [t for pair in (*LABELS.values(), *METHODS.values(), NO_TRANSACTION, DECLARATION_TEXT) for t in pair]
    return "".join(parts) + WATERMARK + WATERMARK_JA
