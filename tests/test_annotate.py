"""Annotate on Amazon: a blocked shipment's name gets a [JP HOLD: CODE] prefix through SP-API, removed when it clears."""

import pytest
import sp_api.auth.access_token_client as token_client

from fba_jp.actions import action_names, deliver_pending, queue_changes
from fba_jp.app import App
from fba_jp.demo import demo_credentials, write_demo_config
from fba_jp.plugins.annotate import hold_name
from fba_jp.rates import import_rates_csv
from fba_jp.sandbox import Sandbox
from fba_jp.store import Store
from fba_jp.sync import screen_synced, sync_accounts


def names_on_amazon(sandbox, seller):
    return {s["shipment"].get("shipmentConfirmationId"): s["shipment"].get("name")
            for plan in sandbox.data["sellers"][seller]["plans"] for s in plan["shipments"]}


def tick(config, db):
    app = App(str(config), str(db))
    sync_accounts(app, ["northwind"])
    report = screen_synced(app, ["northwind"])
    queue_changes(app.store, report.results, action_names(app.plugins))
    accounts = {a.name: a for a in app.config.accounts}
    counts = deliver_pending(app.store, app.plugins, app.config, account_for=accounts.get)
    app.store.close()
    return counts


def annotating(tmp_path, sandbox, monkeypatch):
    """The demo config with ``annotate = true`` for northwind, its credentials set, rates imported."""
    config = write_demo_config(tmp_path, sandbox)
    config.write_text("[actions]\nlog = false\n" + config.read_text().replace(
        'name = "northwind"', 'name = "northwind"\nannotate = true', 1))
    for name, value in demo_credentials(sandbox).items():
        monkeypatch.setenv(name, value)
    db = tmp_path / "a.db"
    with Store(db) as store:
        import_rates_csv(store, tmp_path / "demo_rates.csv")
    return config, db


def register_acp(config):
    """Northwind's ACP gets registered: its ACP_MISSING block clears."""
    config.write_text(config.read_text().replace(
        'consignee = { name = "Northwind Outdoor LLC" }',
        'consignee = { name = "Northwind Outdoor LLC" }\n'
        'acp = { name = "Sakura Customs Advisory K.K.", status = "registered", accepted_on = 2026-09-15 }', 1))


@pytest.fixture
def northwind(tmp_path, monkeypatch):
    """``(sandbox, config, db, original)``: the sandbox running, northwind annotating, and the name its
    blocked shipment FBA15NW0001A has on Amazon before anything is written."""
    token_client.cache.clear()
    with Sandbox(seed=3) as sandbox:
        config, db = annotating(tmp_path, sandbox, monkeypatch)
        yield sandbox, config, db, names_on_amazon(sandbox, "northwind")["FBA15NW0001A"]


def test_blocked_shipment_is_prefixed_then_restored(northwind):
    sandbox, config, db, original = northwind
    tick(config, db)
    held = names_on_amazon(sandbox, "northwind")["FBA15NW0001A"]
    assert held == hold_name(original, ["ACP_MISSING"]) and held.startswith("[JP HOLD: ACP_MISSING] ")
    assert len(held) <= 100
    # northwind's other shipment (an unknown msku: INPUT_INVALID) has no name: Amazon takes no empty
    # name, so a hold could never be taken off again; it is left as it is
    assert None in names_on_amazon(sandbox, "northwind").values()
    renames = sandbox.calls["updateShipmentName"]
    assert renames == 1

    # the rename touched the plan on Amazon; the next tick re-syncs it but renames nothing again
    tick(config, db)
    assert sandbox.calls["updateShipmentName"] == renames

    # the seller's ACP gets registered: the shipment is no longer blocked and its own name comes back
    register_acp(config)
    tick(config, db)
    assert names_on_amazon(sandbox, "northwind")["FBA15NW0001A"] == original


def test_a_hold_is_lifted_after_annotate_was_turned_off_but_no_new_one_is_put_on(northwind):
    sandbox, config, db, original = northwind
    tick(config, db)
    assert names_on_amazon(sandbox, "northwind")["FBA15NW0001A"].startswith("[JP HOLD: ACP_MISSING] ")

    config.write_text(config.read_text().replace("annotate = true", "annotate = false", 1))
    tick(config, db)  # still blocked: annotate is off, nothing is written
    assert sandbox.calls["updateShipmentName"] == 1
    register_acp(config)
    tick(config, db)
    assert names_on_amazon(sandbox, "northwind")["FBA15NW0001A"] == original
    assert sandbox.calls["updateShipmentName"] == 2


def test_hold_name_fits_amazons_limit():
    long = "Northwind winter restock " * 8
    name = hold_name(long, ["COS_NO_MAH", "ACP_MISSING", "FOOD_NO_IMPORT_NOTIFICATION"])
    assert name.startswith("[JP HOLD: COS_NO_MAH+2] ") and len(name) <= 100


def test_a_late_retry_of_an_old_block_does_not_hold_a_shipment_that_has_cleared(northwind):
    # Amazon refuses the rename while the shipment is blocked; the seller then registers the ACP, and only
    # afterwards does Amazon accept renames again: the retried "blocked" event must not put the hold back
    sandbox, config, db, original = northwind
    # the handler, shadowed on the instance: Amazon answers 400 until it is deleted
    sandbox._updateShipmentName = lambda *args: (
        400, {}, b'{"errors": [{"code": "InvalidInput", "message": "not now"}]}')

    assert tick(config, db)["failed"] == 1
    register_acp(config)
    tick(config, db)
    del sandbox._updateShipmentName
    tick(config, db)

    assert names_on_amazon(sandbox, "northwind")["FBA15NW0001A"] == original
