"""A synced shipment's declaration when the catalog cache row of its ASIN is missing or holds a blank title: the
seller's own title from products.csv is screened, so a keyword warning is not lost with it."""

import json
import sqlite3

import pytest

from fba_jp.declarations import catalog_summary
from fba_jp.spapi import MARKETPLACES
from fba_jp.store import Store

from test_faults_bulk import CONFIG, add_synced

JP = MARKETPLACES["JP"].marketplace_id
TITLE = "Camping tent with Bluetooth speaker"  # radio by its title alone: REG_POSSIBLY_REGULATED (warn)


@pytest.fixture
def synced(tmp_path):
    (tmp_path / "config.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "products.csv").write_text("msku,title,hs_code,unit_value,currency,origin_country,duty_rate\n"
                                           f"TENT,{TITLE},6306.22,5800,JPY,CN,4.5\n", encoding="utf-8")
    db = tmp_path / "fba_jp.db"
    Store(db).close()
    add_synced(db, 1)
    with sqlite3.connect(db) as conn:
        conn.execute("update spapi_shipments set items = ?", [json.dumps([{"msku": "TENT", "asin": "B0TENT0001",
                                                                           "quantity": 10}])])
    conn.close()
    return tmp_path / "config.toml", db


def screened(run_cli, config, db):
    [result] = json.loads(run_cli("screen", "--all", "--config", config, "--db", db, "-o", "json").stdout)["results"]
    with sqlite3.connect(db) as conn:
        [(title,)] = conn.execute("select title from items").fetchall()
    conn.close()
    return [f["code"] for f in result["findings"] if f["severity"] == "warn"], title


@pytest.mark.parametrize("cached", [None, "", "   "], ids=["no catalog row", "empty title", "blank title"])
def test_a_catalog_row_without_a_title_leaves_the_sellers_title_screened(synced, run_cli, cached):
    config, db = synced
    if cached is not None:  # Amazon answered with an item whose itemName is blank
        with sqlite3.connect(db) as conn:
            conn.execute("insert into catalog_items (marketplace_id, asin, found, title, item, fetched_at) values"
                         " (?, 'B0TENT0001', 1, ?, '{}', '2026-12-01T00:00:00+00:00')", [JP, cached])
        conn.close()
    warnings, title = screened(run_cli, config, db)
    assert title == TITLE and "REG_POSSIBLY_REGULATED" in warnings


def test_a_blank_item_name_from_amazon_is_no_title():
    item = {"summaries": [{"marketplaceId": JP, "itemName": " \t", "browseClassification": {"displayName": " "}}],
            "productTypes": [{"marketplaceId": JP, "productType": ""}]}
    assert catalog_summary(item, JP) == {"title": None, "product_type": None, "classification": None}
